"""What can go wrong, as classes a caller can catch.

``ApiError`` and its subclasses are the API's answers (``{"error": {"code", "message",
"request_id"}}``), one class per kind of status so that ``except NotFoundError`` works whatever
the code; ``code`` is one of ``codes.ErrorCode`` (or a newer one: the list may grow). The
storage's own refusals are ``StorageError``; giving up after the retries the contract allows
is ``RateLimitedError`` / ``UnavailableError`` / ``NetworkError``. An interrupted upload is
``Interrupted``: its resume record is kept, and ``Client.upload`` of the same file (or
``Client.resume``) continues it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from presign_client.codes import KNOWN_CODES


class PresignClientError(Exception):
    """Base class of every error this package raises. ``str()`` is safe to show: it never holds
    a URL, a token or a signature."""


class ApiError(PresignClientError):
    """The API answered with an error status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        retry_after: float | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        #: The HTTP status.
        self.status = status
        #: The contract's ``error.code`` (``codes.ErrorCode``), or ``"http_<status>"`` for an
        #: answer without one (API Gateway's own throttling, a proxy in between).
        self.code = code
        #: ``error.message``: says what to change; safe to show.
        self.message = message
        self.request_id = request_id
        #: ``Retry-After`` in seconds, when the answer had one.
        self.retry_after = retry_after
        self.details: Mapping[str, Any] = details or {}

    @property
    def known_code(self) -> bool:
        """Whether ``code`` is one the contract listed when this client was built."""
        return self.code in KNOWN_CODES


class BadRequestError(ApiError):
    """400, 413, 415, 422: the request (or the file) was refused; ``message`` says why."""


class AuthError(ApiError):
    """401 (a missing, expired or invalid token) or 403 (outside the caller's namespace)."""


class NotFoundError(ApiError):
    """404: no such upload, share or key for this caller (another caller's answers 404 too)."""


class ConflictError(ApiError):
    """409: the upload is not in a state for this (not uploaded yet, not pending, ...)."""


class GoneError(ApiError):
    """410: expired, aborted, deleted, revoked or used up."""


class RateLimitedError(ApiError):
    """429 whose ``Retry-After`` is beyond the time the caller allows (``patience``)."""


class UnavailableError(ApiError):
    """503 (or another 5xx) still answered when the time allowed ran out."""


class UploadRejected(PresignClientError):
    """The service compared the stored object with the upload and refused it (the object is
    deleted): ``problems`` says what differed."""

    def __init__(self, upload_id: str, problems: list[str]) -> None:
        super().__init__(f"upload {upload_id} was rejected: {'; '.join(problems) or 'no reason given'}")
        self.upload_id = upload_id
        self.problems = problems


class StorageError(PresignClientError):
    """The storage refused a PUT or GET in a way no retry fixes (its status and S3 error code;
    never the URL)."""

    def __init__(self, what: str, status: int, code: str | None = None) -> None:
        super().__init__(f"{what}: the storage answered {status}{f' {code}' if code else ''}")
        self.status = status
        self.code = code


class NetworkError(PresignClientError):
    """No answer (connection refused or reset, a timeout) for as long as the caller allows."""


class Interrupted(PresignClientError):
    """Stopped on request (``stop`` was set, or Ctrl-C). Nothing was deleted: the resume record
    is kept, and ``upload_id`` (once the service had answered) continues with ``Client.resume``."""

    def __init__(self, upload_id: str | None) -> None:
        super().__init__(
            f"interrupted; resume with: presign resume {upload_id}" if upload_id else "interrupted"
        )
        self.upload_id = upload_id


class ResumeError(PresignClientError):
    """Nothing to resume for this id or file, or the file changed since the upload began."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    413: BadRequestError,
    415: BadRequestError,
    422: BadRequestError,
    429: RateLimitedError,
}


def api_error(status: int, answer: Any, *, retry_after: float | None = None, fallback: str = "") -> ApiError:
    """The error for an API answer: the contract's ``{"error": {...}}``, or API Gateway's own
    ``{"message": ...}``, or whatever text came."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or f"http_{status}")
        message = str(error.get("message") or fallback)
        request_id = error.get("request_id")
        details = error.get("details") if isinstance(error.get("details"), dict) else None
    else:
        code = f"http_{status}"
        message = str(answer.get("message")) if isinstance(answer, dict) and "message" in answer else fallback
        request_id, details = None, None
    kind = _BY_STATUS.get(status, UnavailableError if status >= 500 else ApiError)
    return kind(
        status,
        code,
        message or f"HTTP {status}",
        request_id=str(request_id) if request_id else None,
        retry_after=retry_after,
        details=details,
    )
