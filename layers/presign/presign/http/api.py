"""``Api``: a Powertools resolver with the project's gate, error map, authentication and limits, on
which a route is declared once: method, path, the token scope it needs, the rate-limit action it
spends, and its OpenAPI responses.

    @api.post("/uploads/{upload_id}/parts", scope="upload", spends="upload_parts",
              ok=(200, RenewPartsResponse, "fresh URLs for the parts asked for"))
    def post_parts(upload_id: str, request: RenewPartsRequest) -> Any: ...

    handler = api.lambda_handler()

The declaration registers the Powertools route and its protection together. ``lambda_handler``
wraps the resolver in the decorator stack every function shares (the logger's context, the
metrics), so no function module repeats it. What the routes need of the running service (the
authenticator, the owner of a principal, a spending) comes from a ``Runtime`` that the
composition root (``presign.bootstrap``) builds and hands over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from presign import errors
from presign.http.gate import checked_event, form_body, is_form_media_type, json_body
from presign.http.openapi import openapi_responses
from presign.http.problems import NO_STORE, describe, early_response, error_body, status_for

if TYPE_CHECKING:
    from pydantic import BaseModel

    from presign.auth import Authenticator, Principal
    from presign.config.target import Target
    from presign.core.owners import Owner
    from presign.ratelimit.spending import Spending

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
Route = TypeVar("Route", bound=Callable[..., Any])


class Runtime(Protocol):
    """What the routes need of the running service (``presign.bootstrap.runtime.Runtime``)."""

    @property
    def max_body_bytes(self) -> int: ...

    def authenticator(self) -> Authenticator: ...

    def owner(self, principal: Principal) -> Owner: ...

    def spending(self, subject: str, action: str) -> Spending: ...

    def target(self, name: str | None) -> tuple[str, Target]: ...


@dataclass(frozen=True, slots=True)
class _Protection:
    scope: str | None  # the token scopes' action (upload, download, share); None: a public route
    spends: str | None  # the rate-limit action the route spends


def lambda_handler(
    logger: Logger,
    handle: Callable[[Any, Any], Any],
    *,
    metrics: Metrics | None = None,
    correlation_id_path: str | None = correlation_paths.API_GATEWAY_HTTP,
) -> Callable[[Any, Any], Any]:
    """``handle`` under the stack every function shares. ``clear_state``: keys appended for one
    caller must not label the next invocation's lines. ``log_event=False``, explicitly: otherwise
    POWERTOOLS_LOGGER_LOG_EVENT=true would log every event, bearer token and share passwords
    included."""
    handler = metrics.log_metrics(handle) if metrics is not None else handle
    decorate = logger.inject_lambda_context(
        correlation_id_path=correlation_id_path, log_event=False, clear_state=True
    )
    return decorate(handler)


def json_response(
    body: BaseModel | Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response[str]:
    payload = body if isinstance(body, Mapping) else body.model_dump(mode="json", exclude_none=True)
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
    """A Powertools resolver with the project's error mapping, body limit, auth and limits."""

    def __init__(
        self, logger: Logger, metrics: Metrics, *, public: bool = False, reads: tuple[str, ...] = ()
    ) -> None:
        """``public``: a function none of whose routes takes a token (the share links'), so it
        never reads the token secrets (its role may not) and no route may declare a scope.
        ``reads``: the event fields this function's routes read beyond every function's (dotted
        paths, ``requestContext.domainName``); the gate refuses an event without them (400).
        The ``runtime`` is the composition root's to set (``presign.bootstrap.runtime.build_api``)."""
        self.logger = logger
        self.metrics = metrics
        self.public = public
        self.reads = reads
        self.runtime: Runtime
        self.app = APIGatewayHttpResolver(enable_validation=True)
        self._routes: dict[str, _Protection] = {}
        self._forms: dict[str, frozenset[str]] = {}
        self._register_error_handlers()

    def count_event(self, name: str, /, **dimensions: str) -> None:
        """The rate limiter's events (refusals, an unavailable table, SDK retries) as metrics. Their
        dimensions (the cause of a failure, say) go to the log only: metrics stay low-cardinality."""
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if name == "RateLimitUnavailable":
            # The limiter names the cause ``reason`` (the adapter's error code or connection failure).
            cause = dimensions.pop("reason", "")
            self.logger.warning("rate limit store unavailable", extra={**dimensions, "cause": cause})

    # -- declaring routes --------------------------------------------------------------------
    def route(
        self,
        method: str,
        path: str,
        *,
        scope: str | None = None,
        spends: str | None = None,
        ok: tuple[int, type[BaseModel] | None, str] | None = None,
        links: Mapping[str, dict[str, Any]] | None = None,
        responses: dict[int, Any] | None = None,
        form: tuple[str, ...] = (),
    ) -> Callable[[Route], Route]:
        """Declare ``method path`` (``/uploads/{upload_id}``, the OpenAPI syntax) once.

        ``scope``: the caller must hold a token allowed to ``scope`` (the route is then protected:
        authenticated before Powertools validates the body, so a caller without a valid token
        gets 401 and learns nothing about the request schema). ``spends``: the rate-limit action
        ``caller()``'s spending charges. ``ok``: the success (status, model or None for no body,
        description), documented with every error of the contract and ``links``; or
        ``responses`` as they are. ``form``: the route also takes an HTML form of these fields
        (a browser without script can send nothing else): the form becomes the JSON object of
        them (each at most once, nothing else) before the route's model validates it; every other
        route keeps refusing forms (415).
        """
        key = f"{method} {path}"
        if scope is not None and self.public:
            raise errors.ConfigurationError(f"{key}: a public function authenticates no route")
        self._routes[key] = _Protection(scope, spends)
        if form:
            self._forms[key] = frozenset(form)
        if ok is not None:
            responses = openapi_responses(*ok, links=links)
        powertools_path = path.replace("{", "<").replace("}", ">")
        register = self.app.route(powertools_path, method, responses=responses)

        def declare(function: Route) -> Route:
            register(function)
            return function

        return declare

    def get(self, path: str, **route: Any) -> Callable[[Route], Route]:
        return self.route("GET", path, **route)

    def post(self, path: str, **route: Any) -> Callable[[Route], Route]:
        return self.route("POST", path, **route)

    def delete(self, path: str, **route: Any) -> Callable[[Route], Route]:
        return self.route("DELETE", path, **route)

    # -- what a route reads ------------------------------------------------------------------
    def principal(self) -> Principal:
        """The caller of a protected route; fails closed if the route was not protected."""
        from presign.auth import Principal

        principal = self.app.context.get("principal")
        if not isinstance(principal, Principal):
            raise errors.AuthenticationError("the bearer token is missing or invalid")
        return principal

    def owner(self) -> Owner:
        """The caller as their records, shares, claims, cursors and rate limits know them;
        ``AuthorizationError`` (403) when the token lacks a namespace claim."""
        return self.runtime.owner(self.principal())

    def caller(self) -> tuple[Owner, Spending]:
        """The caller (``owner``: 403 without a namespace claim) and this request's spending of
        their budget, for the rate-limit action the route declares."""
        owner = self.owner()
        protection = self.app.context.get("protection")
        if not isinstance(protection, _Protection) or protection.spends is None:
            raise errors.ConfigurationError("this route declares no rate-limit action")
        return owner, self.runtime.spending(owner.subject, protection.spends)

    def target(self, name: str | None) -> tuple[str, Target]:
        """The target a request body names (None: the default), or 404 ``unknown_target``."""
        return self.runtime.target(name)

    def header(self, name: str) -> str | None:
        """A request header (lower-case ``name``; the gate lower-cased them)."""
        value: str | None = self.app.current_event.headers.get(name)
        return value

    def request_id(self) -> str:
        try:
            return str(self.app.current_event.request_context.request_id or "")
        except (AttributeError, KeyError, TypeError):
            return ""

    # -- responses -------------------------------------------------------------------------
    def error(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> Response[str]:
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body=error_body(code, message, self.request_id()),
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

    def _log(self, exc: errors.PresignError) -> None:
        if isinstance(exc, errors.DependencyUnavailable):
            self.logger.warning("dependency unavailable", extra={"error_code": exc.code})
        elif status_for(exc) == HTTPStatus.INTERNAL_SERVER_ERROR:
            self.logger.error("request failed", extra={"error_code": exc.code})

    def _domain_error(self, exc: errors.PresignError) -> Response[str]:
        self._log(exc)
        status, code, message, headers = describe(exc)
        return self.error(status, code, message, headers)

    def _invalid_body(self, exc: RequestValidationError) -> Response[str]:
        return self.error(HTTPStatus.BAD_REQUEST, errors.InvalidRequest.code, _validation_message(exc))

    def _not_json(self, exc: RequestUnsupportedContentType) -> Response[str]:
        return self.error(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, errors.UnsupportedMediaType.code, "send application/json"
        )

    def _no_route(self, exc: NotFoundError) -> Response[str]:
        return self.error(HTTPStatus.NOT_FOUND, errors.NotFound.code, "no such route")

    def _unexpected(self, exc: Exception) -> Response[str]:
        # The traceback goes to the log (we never log events, so no token or URL goes with it);
        # the client learns nothing about our internals.
        self.logger.exception("unhandled error")
        return self.error(HTTPStatus.INTERNAL_SERVER_ERROR, errors.PresignError.code, "internal error")

    # -- the request's way in ----------------------------------------------------------------
    def _authenticate(self, event: Mapping[str, Any], scope: str) -> Principal:
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
        authenticator.require_scopes(principal, scope)
        self.logger.append_keys(principal=principal.log_id)
        return principal

    def handler(self) -> Handler:
        """The resolver behind the gate: what ``lambda_handler`` wraps."""
        limit = self.runtime.max_body_bytes

        def resolve(raw_event: dict[str, Any], context: Any) -> dict[str, Any]:
            self.app.clear_context()  # type: ignore[no-untyped-call]  # nothing of a refused request stays
            try:
                event = checked_event(raw_event, self.reads)
                body = event.get("body") or ""
                # Checked before anything is parsed, so a huge body costs no JSON work.
                if len(body) > limit * (4 / 3 if event.get("isBase64Encoded") else 1):
                    raise errors.PayloadTooLarge(f"the body exceeds {limit} bytes")
                protection = self._routes.get(event["routeKey"])
                if protection is not None:
                    self.app.append_context(protection=protection)  # type: ignore[no-untyped-call]
                # Before the body is decoded: an anonymous caller makes us parse nothing.
                if protection is not None and protection.scope is not None:
                    principal = self._authenticate(event, protection.scope)
                    self.app.append_context(principal=principal)  # type: ignore[no-untyped-call]
                # Powertools sees the body as checked text: it never decodes base64 or bytes itself,
                # nor compares a media type that may be in any case.
                fields = self._forms.get(event["routeKey"])
                if fields is not None and is_form_media_type(event["headers"].get("content-type")):
                    text = form_body(event, limit, fields)
                else:
                    text = json_body(event, limit)
                event.update(body=text, isBase64Encoded=False)
                if "content-type" in event["headers"]:
                    event["headers"]["content-type"] = content_types.APPLICATION_JSON
            except errors.PresignError as exc:
                self._log(exc)
                return early_response(exc, raw_event, context)
            try:
                return self.app.resolve(event, context)
            except Exception:  # outside a route (Powertools itself): still a 500 in our shape
                self.logger.exception("unhandled error")
                return early_response(errors.PresignError("internal error"), event, context)

        return resolve

    def lambda_handler(self) -> Callable[[Any, Any], Any]:
        """The function's entry point: ``handler = api.lambda_handler()``."""
        return lambda_handler(self.logger, self.handler(), metrics=self.metrics)
