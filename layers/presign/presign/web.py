"""The one place that maps the project's exceptions to HTTP responses, plus the small pieces of
HTTP plumbing every handler shares (body limit, authentication, JSON responses).

Nothing here knows about S3 or DynamoDB; domain code never imports this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import BaseModel

from presign import errors
from presign.auth import Principal
from presign.models import ErrorResponse
from presign.runtime import Runtime

_STATUS: dict[type[errors.PresignError], HTTPStatus] = {
    errors.InvalidRequest: HTTPStatus.BAD_REQUEST,
    errors.AuthenticationError: HTTPStatus.UNAUTHORIZED,
    errors.AuthorizationError: HTTPStatus.FORBIDDEN,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.Conflict: HTTPStatus.CONFLICT,
    errors.Gone: HTTPStatus.GONE,
    errors.PayloadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.UnsupportedContentType: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.Unprocessable: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.RateLimited: HTTPStatus.TOO_MANY_REQUESTS,
    errors.DependencyUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}
# Every response may carry a URL or a decision about a token: never let a cache keep it.
NO_STORE = {"Cache-Control": "no-store"}


def openapi_responses(status: int, model: type[BaseModel], description: str) -> dict[int, Any]:
    """The ``responses`` of a route for the OpenAPI document: its success model and our errors."""
    error = {"application/json": {"model": ErrorResponse}}
    return {
        status: {"description": description, "content": {"application/json": {"model": model}}},
        **{code: {"description": text, "content": error} for code, text in _DOCUMENTED_ERRORS.items()},
    }


_DOCUMENTED_ERRORS = {
    400: "invalid body",
    401: "missing or invalid bearer token",
    403: "outside the caller's namespace or scope",
    413: "too large",
    404: "no such upload (another caller's upload is 404 too)",
    409: "conflicts with the upload's state, or the idempotent request is in progress",
    410: "the upload expired or was deleted",
    415: "content type not allowed",
    422: "not possible for this target",
    429: "rate limited (see Retry-After)",
    503: "a dependency is down (see Retry-After)",
}


def status_for(exc: errors.PresignError) -> HTTPStatus:
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return HTTPStatus.INTERNAL_SERVER_ERROR


def error_body(code: str, message: str, request_id: str) -> str:
    return json.dumps({"error": {"code": code, "message": message, "request_id": request_id}})


def json_response(
    body: BaseModel | Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response[str]:
    payload = body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
        headers={**NO_STORE, **(headers or {})},
    )


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return "the request body is not valid JSON"
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        # pydantic's own messages name the rule, never the input or our internals.
        problems.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "invalid request body: " + "; ".join(problems[:10])


class Api:
    """A Powertools resolver with the project's error mapping, body limit and auth helper."""

    def __init__(self, logger: Logger, metrics: Metrics, runtime: Runtime | None = None) -> None:
        self.logger = logger
        self.metrics = metrics
        self.runtime = runtime or Runtime(on_event=self._count_event)
        self.app = APIGatewayHttpResolver(enable_validation=True)
        self._actions: dict[str, str] = {}
        self._register_error_handlers()

    def _count_event(self, name: str, /, **dimensions: str) -> None:
        # Rate-limit events (refusals, an unavailable table, SDK retries) become metrics. Their
        # dimensions (the cause of a failure, say) go to the log only: metrics stay low-cardinality.
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if name == "RateLimitUnavailable":
            self.logger.warning("rate limit store unavailable", extra={"cause": dimensions.get("cause", "")})

    # -- responses -------------------------------------------------------------------------
    def _request_id(self) -> str:
        try:
            return str(self.app.current_event.request_context.request_id or "")
        except (AttributeError, KeyError, TypeError):
            return ""

    def error(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> Response[str]:
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body=error_body(code, message, self._request_id()),
            headers={**NO_STORE, **(headers or {})},
        )

    def _register_error_handlers(self) -> None:
        # Registered by call rather than by decorator: the decorators are untyped.
        app = self.app
        app.exception_handler(errors.PresignError)(self._domain_error)
        app.exception_handler(RequestValidationError)(self._invalid_body)
        app.exception_handler(RequestUnsupportedContentType)(self._not_json)
        app.exception_handler(Exception)(self._unexpected)
        app.not_found(self._no_route)

    def _describe(self, exc: errors.PresignError) -> tuple[int, str, str, dict[str, str]]:
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
        elif isinstance(exc, errors.IdempotencyInProgress):
            headers["Retry-After"] = str(exc.retry_after)
        elif isinstance(exc, errors.DependencyUnavailable):
            headers["Retry-After"] = str(exc.retry_after)
            self.logger.warning("dependency unavailable", extra={"error_code": exc.code})
        if status == HTTPStatus.INTERNAL_SERVER_ERROR:
            self.logger.error("request failed", extra={"error_code": exc.code})
            return status, "internal_error", "internal error", {}
        return status, exc.code, exc.message, headers

    def _domain_error(self, exc: errors.PresignError) -> Response[str]:
        status, code, message, headers = self._describe(exc)
        return self.error(status, code, message, headers)

    def _invalid_body(self, exc: RequestValidationError) -> Response[str]:
        return self.error(HTTPStatus.BAD_REQUEST, "invalid_request", _validation_message(exc))

    def _not_json(self, exc: RequestUnsupportedContentType) -> Response[str]:
        return self.error(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send application/json"
        )

    def _no_route(self, exc: NotFoundError) -> Response[str]:
        return self.error(HTTPStatus.NOT_FOUND, "not_found", "no such route")

    def _unexpected(self, exc: Exception) -> Response[str]:
        # The traceback goes to the log (we never log events, so no token or URL goes with it);
        # the client learns nothing about our internals.
        self.logger.exception("unhandled error")
        return self.error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error")

    # -- request plumbing ------------------------------------------------------------------
    def protect(self, route_key: str, action: str) -> None:
        """Require a caller allowed to ``action`` before ``route_key`` ("POST /uploads") runs.

        Authentication happens before Powertools validates the body, so a caller without a valid
        token gets 401 and learns nothing about the request schema.
        """
        self._actions[route_key] = action

    def principal(self) -> Principal:
        """The caller of a protected route; fails closed if the route was not protected."""
        principal = self.app.context.get("principal")
        if not isinstance(principal, Principal):
            raise errors.AuthenticationError("the bearer token is missing or invalid")
        return principal

    def _authenticate(self, event: Mapping[str, Any], action: str) -> Principal:
        authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
        gateway_claims = (authorizer.get("jwt") or {}).get("claims")
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            authenticator = self.runtime.authenticator()
            principal = authenticator.authenticate(
                authorization=headers.get("authorization"), gateway_claims=gateway_claims
            )
        except errors.AuthenticationError as exc:
            # One metric per reason, so a spike of expired tokens and a forging attempt look different.
            with single_metric(
                name="AuthFailures", unit=MetricUnit.Count, value=1, namespace=self.metrics.namespace
            ) as metric:
                metric.add_dimension(name="reason", value=str(getattr(exc, "reason", "invalid")))
            raise
        authenticator.require_scopes(principal, action)
        self.logger.append_keys(principal_sub=principal.sub)
        return principal

    def _early_response(self, exc: errors.PresignError, event: Mapping[str, Any]) -> dict[str, Any]:
        """An error found before Powertools saw the event, in the same shape as every other."""
        status, code, message, headers = self._describe(exc)
        request_id = str((event.get("requestContext") or {}).get("requestId", ""))
        return {
            "statusCode": int(status),
            "headers": {"Content-Type": content_types.APPLICATION_JSON, **NO_STORE, **headers},
            "body": error_body(code, message, request_id),
            "isBase64Encoded": False,
        }

    def handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        limit = self.runtime.settings.max_body_bytes

        def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
            try:
                body = event.get("body") or ""
                # Checked before anything is parsed, so a huge body costs no JSON work.
                if len(body) > limit * (4 / 3 if event.get("isBase64Encoded") else 1):
                    raise errors.PayloadTooLarge(f"the body exceeds {limit} bytes")
                action = self._actions.get(str(event.get("routeKey", "")))
                if action is not None:
                    principal = self._authenticate(event, action)
                    self.app.append_context(principal=principal)  # type: ignore[no-untyped-call]
            except errors.PresignError as exc:
                return self._early_response(exc, event)
            return self.app.resolve(event, context)

        return resolve
