"""The one place that maps the project's exceptions to HTTP: status, code, message and headers.

Nothing here knows about S3 or DynamoDB, and nothing but ``presign.errors`` is imported: the
meta function uses it too, so what it needs at run time stays light (no configuration, no
pydantic). New errors are classes in ``presign.errors``, never a status chosen in a handler.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from presign import errors

_STATUS: dict[type[errors.PresignError], HTTPStatus] = {
    errors.InvalidRequest: HTTPStatus.BAD_REQUEST,
    errors.AuthenticationError: HTTPStatus.UNAUTHORIZED,
    errors.PasswordError: HTTPStatus.UNAUTHORIZED,  # a share's password: no Bearer challenge
    errors.AuthorizationError: HTTPStatus.FORBIDDEN,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.Conflict: HTTPStatus.CONFLICT,
    errors.Gone: HTTPStatus.GONE,
    errors.PayloadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.UnsupportedContentType: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.UnsupportedMediaType: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.MethodNotAllowed: HTTPStatus.METHOD_NOT_ALLOWED,
    errors.Unprocessable: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.RateLimited: HTTPStatus.TOO_MANY_REQUESTS,
    errors.DependencyUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}
# Every response may carry a URL or a decision about a token: never let a cache keep it.
NO_STORE = {"Cache-Control": "no-store"}


def status_for(exc: errors.PresignError) -> HTTPStatus:
    return _status_of(type(exc))


def _status_of(kind: type[errors.PresignError]) -> HTTPStatus:
    for cls in kind.__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return HTTPStatus.INTERNAL_SERVER_ERROR


def error_codes() -> list[str]:
    """Every ``error.code`` a response can carry, for the OpenAPI document's enum: the code of
    each ``PresignError`` class (wherever it is defined, once imported) whose status is not 500,
    and ``internal_error`` for those that are. The codes the web layer answers itself (a body
    that fails validation, a route that does not exist, ...) are those classes' codes too."""
    codes = {errors.PresignError.code}
    pending: list[type[errors.PresignError]] = [errors.PresignError]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if _status_of(kind) != HTTPStatus.INTERNAL_SERVER_ERROR:
            codes.add(kind.code)
    return sorted(codes)


def describe(exc: errors.PresignError) -> tuple[HTTPStatus, str, str, dict[str, str]]:
    """The one mapping of a project exception to status, code, message and headers."""
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif isinstance(exc, errors.InsufficientScope):
        # RFC 6750: tell the client which scope would do (scope tokens need no escaping).
        scope = str(exc.details.get("scope", ""))
        headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{scope}"'
    elif isinstance(exc, errors.RateLimited):
        headers.update(exc.headers)
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, errors.IdempotencyInProgress | errors.DependencyUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, errors.MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allowed)
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return status, errors.PresignError.code, "internal error", {}
    return status, exc.code, exc.message, headers


def error_body(code: str, message: str, request_id: str) -> str:
    return json.dumps({"error": {"code": code, "message": message, "request_id": request_id}})


def error_response(exc: errors.PresignError, request_id: str) -> Response[str]:
    """``exc`` as a Powertools response in the contract's error shape."""
    status, code, message, headers = describe(exc)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, request_id),
        headers={**NO_STORE, **headers},
    )


def early_response(exc: errors.PresignError, event: object, context: object = None) -> dict[str, Any]:
    """An error found before Powertools saw the event, as the API Gateway v2 result. An event
    without a request id (a direct invocation) gets the Lambda one, which the logs carry too."""
    status, code, message, headers = describe(exc)
    request_id = request_id_of(event) or str(getattr(context, "aws_request_id", "") or "")
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **NO_STORE, **headers},
        "body": error_body(code, message, request_id),
        "isBase64Encoded": False,
    }


def request_id_of(event: object) -> str:
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    request_id = context.get("requestId") if isinstance(context, Mapping) else None
    return request_id if isinstance(request_id, str) else ""
