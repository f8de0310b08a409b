"""The project's own exceptions.

Domain code raises these; adapters translate library errors (botocore, PyJWT) into them with
``raise ... from exc``; exactly one place (``presign.http.problems``) maps them to HTTP responses. Nothing
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


class MalformedEvent(InvalidRequest):
    """A direct invocation whose event is not what API Gateway (HTTP API, payload 2.0) sends."""


class PayloadTooLarge(PresignError):
    code = "payload_too_large"


class UnsupportedContentType(PresignError):
    """The declared content type of an upload is not one the target accepts."""

    code = "unsupported_content_type"


class UnsupportedMediaType(PresignError):
    """The request body itself is not ``application/json`` (a form, multipart, text, ...)."""

    code = "unsupported_media_type"


class Unprocessable(PresignError):
    code = "unprocessable"


class UnsafeKey(Unprocessable):
    """A key of the published shape that still cannot be signed: invisible, unassigned or
    private-use characters, or more than 1024 bytes of UTF-8.

    422, not 400: the body matches the published schema (no pattern that Python and ECMA-262 read
    alike can say "no Unicode format character"), so it is well formed; what it names cannot be
    served.
    """

    code = "unsafe_key"


class UnsafeFilename(Unprocessable):
    """A download's or share's ``filename`` that would change what the file is: another
    extension than the key's (or the signed type's), or an active or executable one
    (``presign.core.filenames``).

    422, like ``UnsafeKey``: the body is well formed, the name it asks for cannot be served.
    """

    code = "unsafe_filename"


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


class UnknownTarget(NotFound):
    """The request names a target this deployment does not configure.

    404 rather than 400: the body is well formed (the OpenAPI document cannot list a deployment's
    targets), what it names does not exist here.
    """

    code = "unknown_target"


class MethodNotAllowed(PresignError):
    """The path exists, with other methods; ``allowed`` names them (the ``Allow`` header)."""

    code = "method_not_allowed"

    def __init__(self, message: str, *, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


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


# -- the upload lifecycle (presign.uploads) ---------------------------------------------------


class NotUploaded(Conflict):
    """Completion was asked for, but the storage has no object at the upload's key (yet)."""

    code = "not_uploaded"


class UploadNotPending(Conflict):
    """The upload left ``pending`` (rejected or aborted): it cannot be completed or re-signed."""

    code = "upload_not_pending"


class UploadGone(Gone):
    """The upload expired, or was deleted after it completed."""

    code = "upload_gone"


class UploadAborted(Gone):
    """The upload was aborted (``DELETE`` while pending): its record stays listed, as ``aborted``."""

    code = "upload_aborted"


class UploadDeleted(Gone):
    """The upload was deleted after it completed: its record stays listed, as ``deleted``."""

    code = "upload_deleted"


class UploadMismatch(Unprocessable):
    """The stored object is not what the upload declared; the object has been deleted."""

    code = "upload_mismatch"


class ContentMismatch(UploadMismatch):
    """The stored object's first bytes are active content (HTML, SVG, a script, an executable) the
    declared type does not announce (``presign.core.sniffing``); the object has been deleted."""

    code = "content_mismatch"


class PayloadTooSmall(Unprocessable):
    code = "payload_too_small"


class InvalidCursor(Unprocessable):
    """A cursor that is not one we handed this caller for this listing.

    422, not 400: the query matches the document (a cursor is opaque), what it carries does not.
    """

    code = "invalid_cursor"


class UnknownKind(NotFound):
    """The request names an upload kind the target does not define (like an unknown target)."""

    code = "unknown_kind"


class IdempotencyKeyReused(Unprocessable):
    """The Idempotency-Key was used before by this caller for a different request."""

    code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    """The first request with this Idempotency-Key has not finished yet; retry after a moment."""

    code = "idempotency_in_progress"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


# -- multipart uploads (presign.uploads.multipart) --------------------------------------------------------


class MultipartUnsupported(Unprocessable):
    """Multipart was asked for (or needed) where it cannot be: a target without it, a POST form,
    a whole-object checksum, an empty file, per-part checksums on a store that ignores them."""

    code = "multipart_unsupported"


class UnsupportedByProvider(Unprocessable):
    """The request needs something the target's storage provider cannot do (``presign.config.providers``):
    a POST form on R2, a checksum on a store that does not verify it. ``details`` names the
    provider and the capability."""

    code = "unsupported_by_provider"


class NotMultipart(Unprocessable):
    """A multipart-only request (part URLs) for an upload that is a single PUT or POST."""

    code = "not_multipart"


class UnknownPart(Unprocessable):
    """A part number outside the upload's plan, or a part list that does not fit it."""

    code = "unknown_part"


class PartsMissing(Conflict):
    """Completion was asked for, but the storage lacks parts of the plan (the message names them)."""

    code = "parts_missing"


class PartsMismatch(Unprocessable):
    """A part differs from the plan or from the client's list (size, ETag); nothing was completed."""

    code = "parts_mismatch"


# -- share links (presign.shares) -----------------------------------------------------------------


class PasswordError(PresignError):
    """401 for a share link's password: not a bearer token, so no ``WWW-Authenticate: Bearer``."""

    code = "password_required"


class PasswordRequired(PasswordError):
    code = "password_required"


class PasswordInvalid(PasswordError):
    code = "password_invalid"


class PasswordPolicy(Unprocessable):
    """A share's password is shorter or longer than the deployment allows."""

    code = "password_policy"


class ShareLocked(RateLimited):
    """Too many wrong passwords for this share: locked for a while (429 with Retry-After)."""

    code = "share_locked"


class ShareExpired(Gone):
    code = "share_expired"


class ShareRevoked(Gone):
    code = "share_revoked"


class ShareExhausted(Gone):
    """Every download the share allowed has been handed out."""

    code = "share_exhausted"


class ShareObjectGone(Gone):
    """The shared object is no longer in the storage (or its target is no longer configured)."""

    code = "share_object_gone"


class ObjectNotFound(NotFound):
    """A share was asked for a key with no object behind it."""

    code = "object_not_found"


class UploadNotComplete(Conflict):
    """A share was asked for the key of an upload that is not complete (pending, or worse)."""

    code = "upload_not_complete"
