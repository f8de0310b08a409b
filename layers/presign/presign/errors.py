"""The project's own exceptions.

Domain code raises these; adapters translate library errors (botocore, PyJWT) into them with
``raise ... from exc``; exactly one place (``presign.http``) maps them to HTTP responses. Nothing
branches on message text: the class says what went wrong, ``code`` is what clients see.
"""

from __future__ import annotations


class PresignError(Exception):
    """Base class. ``message`` is safe to show a client; it never carries secrets or internals."""

    code = "internal_error"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ConfigurationError(PresignError):
    """The configuration is invalid; raised at cold start so the function never half-works."""

    code = "configuration_error"


class InvalidRequest(PresignError):
    code = "invalid_request"


class PayloadTooLarge(PresignError):
    code = "payload_too_large"


class UnsupportedContentType(PresignError):
    code = "unsupported_content_type"


class Unprocessable(PresignError):
    code = "unprocessable"


class AuthenticationError(PresignError):
    """Missing or invalid credentials. The message never says which check failed.

    ``reason`` does (``"expired"``, ``"bad_signature"``, ...; see ``presign.auth.reasons``), for
    metrics and logs only: it never reaches a response.
    """

    code = "invalid_token"

    def __init__(
        self, message: str, *, reason: str = "invalid", details: dict[str, object] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.reason = reason


class AuthorizationError(PresignError):
    """Authenticated, but not allowed: outside the caller's namespace or scope."""

    code = "forbidden"


class InsufficientScope(AuthorizationError):
    code = "insufficient_scope"


class NotFound(PresignError):
    code = "not_found"


class Conflict(PresignError):
    code = "conflict"


class Gone(PresignError):
    code = "gone"


class RateLimited(PresignError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.headers = headers or {}


class DependencyUnavailable(PresignError):
    """A dependency (DynamoDB, a JWKS endpoint, Secrets Manager) is down or throttling."""

    code = "dependency_unavailable"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


# -- the upload lifecycle (presign.lifecycle) ---------------------------------------------------


class NotUploaded(Conflict):
    """Completion was asked for, but the storage has no object at the upload's key (yet)."""

    code = "not_uploaded"


class UploadNotPending(Conflict):
    """The upload left ``pending`` (rejected or aborted): it cannot be completed or re-signed."""

    code = "upload_not_pending"


class UploadGone(Gone):
    """The upload expired, or was deleted after it completed."""

    code = "upload_gone"


class UploadMismatch(Unprocessable):
    """The stored object is not what the upload declared; the object has been deleted."""

    code = "upload_mismatch"


class PayloadTooSmall(Unprocessable):
    code = "payload_too_small"


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"


class IdempotencyKeyReused(Unprocessable):
    """The Idempotency-Key was used before by this caller for a different request."""

    code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    """The first request with this Idempotency-Key has not finished yet; retry after a moment."""

    code = "idempotency_in_progress"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
