"""The one place that maps the project's exceptions to HTTP responses, plus the small pieces of
HTTP plumbing every handler shares (the gate every event passes, authentication, JSON responses).

Nothing here knows about S3 or DynamoDB; domain code never imports this module. The meta function
imports it too, so what it needs at run time stays light: no configuration, no pydantic.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from itertools import repeat
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from presign import errors

if TYPE_CHECKING:
    from pydantic import BaseModel

    from presign.auth import Principal
    from presign.runtime import Runtime

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


_INTEGER = {"type": "integer", "minimum": 0}
_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "requests (or bytes) the caller may spend in a burst",
    "RateLimit-Remaining": "what is left of it now",
    "RateLimit-Reset": "seconds until it is whole again",
}


def _header(description: str, schema: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": dict(schema)}


def cache_control(value: str = "no-store") -> dict[str, Any]:
    """The ``Cache-Control`` header of a response, as the OpenAPI document states it."""
    return {
        "Cache-Control": _header("what a cache may keep", {"type": "string", "const": value}, required=True)
    }


def _response_headers(status: int) -> dict[str, Any]:
    """The headers a response with ``status`` carries, as the OpenAPI document states them."""
    headers = cache_control()
    # Limits are off in some deployments, and nothing is counted before a token is verified.
    counted = 200 <= status < 300 or status == HTTPStatus.TOO_MANY_REQUESTS
    for name, text in _RATE_LIMIT_HEADERS.items() if counted else ():
        headers[name] = _header(text, _INTEGER, required=status == HTTPStatus.TOO_MANY_REQUESTS)
    if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
        headers["Retry-After"] = _header("seconds to wait", {"type": "integer", "minimum": 1}, required=True)
    elif status == HTTPStatus.CONFLICT:
        # Only while the request with the same Idempotency-Key is still running.
        headers["Retry-After"] = _header("seconds to wait", {"type": "integer", "minimum": 1}, required=False)
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
        # Always on a 401; on a 403 only when a scope is missing (not for a key outside the prefix).
        challenge = {"type": "string", "pattern": '^Bearer error="(invalid_token|insufficient_scope)"'}
        headers["WWW-Authenticate"] = _header(
            "RFC 6750 challenge", challenge, required=status == HTTPStatus.UNAUTHORIZED
        )
    return headers


def link(path: str, method: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link from a success to the operation ``method path``, each path parameter
    taken from a field of the response body (``upload_id="upload_id"``): what a stateful fuzzer
    follows to chain calls on one resource, and what tells a reader where an id leads."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {
        "operationRef": f"#/paths/{pointer}/{method.lower()}",
        "parameters": {name: f"$response.body#/{field}" for name, field in parameters.items()},
    }


def openapi_responses(
    status: int,
    model: type[BaseModel] | None,
    description: str,
    *,
    links: Mapping[str, dict[str, Any]] | None = None,
) -> dict[int, Any]:
    """The ``responses`` of a route for the OpenAPI document: its success model (None for a
    response without a body, such as 204) with its ``links``, and our errors, each with the
    headers it carries."""
    from presign.models import ErrorResponse  # only the routes that document a model pay for them

    error = {"application/json": {"model": ErrorResponse}}
    success: dict[str, Any] = {"description": description, "headers": _response_headers(status)}
    # Without a model, no body (a 204): an empty content, or Powertools documents the return type.
    success["content"] = {"application/json": {"model": model}} if model is not None else {}
    if links:
        success["links"] = dict(links)
    return {
        status: success,
        **{
            code: {"description": text, "headers": _response_headers(code), "content": error}
            for code, text in _DOCUMENTED_ERRORS.items()
        },
    }


_DOCUMENTED_ERRORS = {
    400: "invalid body (not UTF-8 JSON, nested too deeply, a missing or wrong field)",
    401: "missing or invalid bearer token",
    403: "outside the caller's namespace or scope",
    404: "not found: a target this deployment does not configure, or no such upload (another caller's upload is 404 too)",
    409: "conflicts with the upload's state, or the idempotent request is in progress",
    410: "gone: the upload expired (upload_gone), or a DELETE ended it (upload_aborted, upload_deleted; GET /uploads still lists it)",
    413: (
        "too large: a declared size over the target's maximum, or a request body over the deployment's "
        "max_body_bytes (256 KiB by default), refused before it is parsed, whatever it holds: a list "
        "far beyond its maxItems is 413 for its bytes, not 400"
    ),
    415: "content type not allowed, or a request body that is not application/json",
    422: "not possible for this target, or not by its storage provider (unsupported_by_provider)",
    429: "rate limited (see Retry-After)",
    503: "a dependency is down (see Retry-After)",
}


def principal_log_id(sub: str) -> str:
    """How logs name a caller: a hash of ``sub``, never the claim (docs/authentication.md)."""
    # surrogatepass: a lone surrogate survives JSON and PyJWT, and must not turn a 403 into a 500.
    return hashlib.sha256(sub.encode("utf-8", "surrogatepass")).hexdigest()[:16]


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
    request_id = _request_id_of(event) or str(getattr(context, "aws_request_id", "") or "")
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **NO_STORE, **headers},
        "body": error_body(code, message, request_id),
        "isBase64Encoded": False,
    }


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


# -- the gate ---------------------------------------------------------------------------------------
# Every event passes here before anything else reads it. What comes out is what API Gateway (HTTP
# API, payload 2.0) sends, in every part that we or Powertools read, with a body that is either
# absent or UTF-8 JSON of modest depth, as text. Anything else is refused in the error shape, so no
# input reaches code that would raise on it (a 500).

MAX_JSON_DEPTH = 32  # our bodies need 3; a parser or validator must never recurse on a client's say
_NOT_API_GATEWAY = "the invocation is not an API Gateway HTTP API (payload 2.0) request"
_CONTAINERS = (dict, list)
_TOO_DEEP = f"the request body is nested deeper than {MAX_JSON_DEPTH} levels"
_SURROGATE_MESSAGE = "the request body holds an unpaired surrogate (an escape in \\ud800-\\udfff)"
_STRING_MAPS = ("queryStringParameters", "pathParameters", "stageVariables")


def _request_id_of(event: object) -> str:
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    request_id = context.get("requestId") if isinstance(context, Mapping) else None
    return request_id if isinstance(request_id, str) else ""


def _malformed(where: str) -> errors.MalformedEvent:
    # The message names the field, never its value.
    return errors.MalformedEvent(f"{_NOT_API_GATEWAY}: {where}")


def _is_str_map(value: object) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _text_at(event: Mapping[str, Any], path: str) -> object:
    node: object = event
    for name in path.split("."):
        node = node.get(name) if isinstance(node, Mapping) else None
    return node


def checked_event(event: object, reads: Iterable[str] = ()) -> dict[str, Any]:
    """``event`` if it is an API Gateway v2 request in every part that is read, with its header
    names lower-cased as API Gateway sends them (repeats joined by commas); else MalformedEvent.

    ``reads``: the dotted paths of the fields a function reads beyond those every function does
    (``requestContext.http.sourceIp``), each of which must then be a non-empty string, as API
    Gateway always sends it: a field read but not checked here would be a KeyError, a 500.
    """
    if not isinstance(event, Mapping):
        raise _malformed("the event is not an object")
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        raise _malformed("requestContext")
    http = context.get("http")
    if not (isinstance(http, Mapping) and isinstance(http.get("method"), str)):
        raise _malformed("requestContext.http.method")
    if not isinstance(http.get("path", ""), str):
        raise _malformed("requestContext.http.path")
    # Read on every request: the request id by every log and audit line, the stage by Powertools
    # (for the route's path), so both must be there, not merely well typed when present.
    for name in ("requestId", "stage"):
        if not isinstance(context.get(name), str):
            raise _malformed(f"requestContext.{name}")
    authorizer = context.get("authorizer")
    if not isinstance(authorizer, Mapping | None):
        raise _malformed("requestContext.authorizer")
    jwt = (authorizer or {}).get("jwt")
    if not isinstance(jwt, Mapping | None):
        raise _malformed("requestContext.authorizer.jwt")
    if jwt is not None:
        # API Gateway's JWT authorizer hands every claim over as a string.
        if not (jwt.get("claims") is None or _is_str_map(jwt.get("claims"))):
            raise _malformed("requestContext.authorizer.jwt.claims")
        if not (jwt.get("scopes") is None or _is_str_list(jwt.get("scopes"))):
            raise _malformed("requestContext.authorizer.jwt.scopes")
    for name in ("routeKey", "rawPath"):
        if not isinstance(event.get(name), str):
            raise _malformed(name)
    if not isinstance(event.get("rawQueryString", ""), str):
        raise _malformed("rawQueryString")
    raw_headers = event.get("headers")
    if not (raw_headers is None or _is_str_map(raw_headers)):
        raise _malformed("headers")
    for name in _STRING_MAPS:
        if not (event.get(name) is None or _is_str_map(event.get(name))):
            raise _malformed(name)
    if not (event.get("cookies") is None or _is_str_list(event.get("cookies"))):
        raise _malformed("cookies")
    if not isinstance(event.get("body"), str | None):
        raise _malformed("body")
    if not isinstance(event.get("isBase64Encoded", False), bool):
        raise _malformed("isBase64Encoded")
    for path in reads:
        value = _text_at(event, path)
        if not (isinstance(value, str) and value):
            raise _malformed(path)
    headers: dict[str, str] = {}
    for name, value in (raw_headers or {}).items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return {**event, "headers": headers}


def is_json_media_type(value: str) -> bool:
    """``application/json`` in any case, with parameters; a charset other than UTF-8 is not JSON."""
    media_type, _, parameters = value.partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in parameters.split(";"):
        name, _, given = parameter.partition("=")
        if name.strip().lower() == "charset" and given.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_json(value: dict[str, Any] | list[Any], *, strings: bool) -> None:
    """No deeper than MAX_JSON_DEPTH (level by level: the check itself must not recurse) and, if
    ``strings``, no string with an unpaired surrogate, which a ``\\ud800`` escape decodes to and
    no URL or header can carry. Loops stay in C where they can: a 1000-key body takes ~0.1 ms."""
    level: list[Any] = [value]
    for _ in range(MAX_JSON_DEPTH):
        below: list[Any] = []
        for node in level:
            children: list[Any] = [*node, *node.values()] if isinstance(node, dict) else node
            if any(map(isinstance, children, repeat(_CONTAINERS))):
                below.extend(child for child in children if isinstance(child, _CONTAINERS))
            if strings:
                try:  # joining cannot pair two halves up: they stay two code points
                    "".join([child for child in children if type(child) is str]).encode()
                except UnicodeEncodeError:
                    raise errors.InvalidRequest(_SURROGATE_MESSAGE) from None
        if not below:
            return
        level = below
    raise errors.InvalidRequest(_TOO_DEEP)


def json_body(event: Mapping[str, Any], limit: int) -> str | None:
    """The body of a checked event as UTF-8 JSON text (None if there is none), or the refusal:
    415 for anything but ``application/json``, 413 over ``limit`` bytes, 400 for bytes that are
    not UTF-8 JSON."""
    raw: str | None = event.get("body")
    content_type: str | None = event["headers"].get("content-type")
    if not raw:
        # Nothing to be of the wrong type: the route's validation refuses a missing body (400).
        if content_type is not None and not is_json_media_type(content_type):
            raise errors.UnsupportedMediaType("send the request body as application/json")
        return None
    if content_type is None or not is_json_media_type(content_type):
        raise errors.UnsupportedMediaType("send the request body as application/json")
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
    except UnicodeEncodeError:  # a str with an unpaired surrogate: not text at all
        raise errors.InvalidRequest("the request body is not UTF-8") from None
    except (binascii.Error, ValueError):
        raise errors.InvalidRequest("the request body is flagged base64 but is not") from None
    if len(data) > limit:
        raise errors.PayloadTooLarge(f"the body exceeds {limit} bytes")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise errors.InvalidRequest("the request body is not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise errors.InvalidRequest(_TOO_DEEP) from None
    except ValueError:
        raise errors.InvalidRequest("the request body is not valid JSON") from None
    if isinstance(value, dict | list):
        # Text that encoded cleanly can only hold a surrogate through an escape.
        _check_json(value, strings="\\u" in text)
    return text


FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


def is_form_media_type(value: str | None) -> bool:
    """An HTML form's body type, in any case, with parameters; a charset other than UTF-8 is refused."""
    if value is None:
        return False
    media_type, _, parameters = value.partition(";")
    if media_type.strip().lower() != FORM_MEDIA_TYPE:
        return False
    for parameter in parameters.split(";"):
        name, _, given = parameter.partition("=")
        if name.strip().lower() == "charset" and given.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def form_body(event: Mapping[str, Any], limit: int, fields: frozenset[str]) -> str | None:
    """An HTML form's body (``application/x-www-form-urlencoded``, UTF-8) as the JSON object the
    route's model reads: only ``fields``, each at most once, or the refusal (400, 413)."""
    from urllib.parse import parse_qsl

    raw: str | None = event.get("body")
    if not raw:
        return None
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
    except UnicodeEncodeError:
        raise errors.InvalidRequest("the request body is not UTF-8") from None
    except (binascii.Error, ValueError):
        raise errors.InvalidRequest("the request body is flagged base64 but is not") from None
    if len(data) > limit:
        raise errors.PayloadTooLarge(f"the body exceeds {limit} bytes")
    try:
        pairs = parse_qsl(
            data.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=len(fields),
        )
    except (UnicodeDecodeError, ValueError):
        raise errors.InvalidRequest("the form is not valid application/x-www-form-urlencoded UTF-8") from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name not in fields or name in found:
            raise errors.InvalidRequest(f"the form may carry {', '.join(sorted(fields))}, each once")
        found[name] = value
    return json.dumps(found)


class Routes:
    """The methods each path of the API answers, so the ``$default`` route can tell an unknown
    path (404) from a known one asked with another method (405 with ``Allow``). Built from the
    OpenAPI document, which is generated from the routes themselves (and a test holds it to the
    template's)."""

    def __init__(self, paths: Mapping[str, Iterable[str]]) -> None:
        self._paths = [
            (_path_pattern(path), tuple(sorted({m.upper() for m in methods})))
            for path, methods in paths.items()
        ]

    @classmethod
    def from_openapi(cls, document: Mapping[str, Any]) -> Routes:
        paths: Mapping[str, Mapping[str, Any]] = document.get("paths", {})
        return cls({path: [m for m in item if m.upper() in _METHODS] for path, item in paths.items()})

    def allowed(self, path: str) -> tuple[str, ...]:
        for pattern, methods in self._paths:
            if pattern.fullmatch(path):
                return methods
        return ()

    def refusal(self, path: str) -> errors.PresignError:
        """What a request that no route took gets; the message echoes nothing the client sent."""
        allowed = self.allowed(path)
        if allowed:
            return errors.MethodNotAllowed(f"this path answers {', '.join(allowed)} only", allowed=allowed)
        return errors.NotFound("no such route")


_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})


def _path_pattern(path: str) -> re.Pattern[str]:
    # "/uploads/{upload_id}": a parameter is one segment; "{proxy+}" (greedy) is the rest.
    parts = re.split(r"(\{[^}/]+\})", path)
    regex = "".join(
        ("[^/]+" if not part.endswith("+}") else ".+") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(regex)


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

    def __init__(
        self,
        logger: Logger,
        metrics: Metrics,
        runtime: Runtime | None = None,
        *,
        public: bool = False,
        reads: tuple[str, ...] = (),
    ) -> None:
        """``public``: a function none of whose routes takes a token (the share links'), so it
        never reads the token secrets (its role may not) and ``protect`` refuses to be used.
        ``reads``: the event fields this function's routes read beyond every function's (dotted
        paths, ``requestContext.domainName``); the gate refuses an event without them (400)."""
        from presign.runtime import Runtime

        self.logger = logger
        self.metrics = metrics
        self.public = public
        self.reads = reads
        self.runtime = runtime or Runtime(on_event=self._count_event, authenticate=not public)
        self.app = APIGatewayHttpResolver(enable_validation=True)
        self._actions: dict[str, str] = {}
        self._forms: dict[str, frozenset[str]] = {}
        self._register_error_handlers()

    def _count_event(self, name: str, /, **dimensions: str) -> None:
        # Rate-limit events (refusals, an unavailable table, SDK retries) become metrics. Their
        # dimensions (the cause of a failure, say) go to the log only: metrics stay low-cardinality.
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if name == "RateLimitUnavailable":
            # The limiter names the cause ``reason`` (the adapter's error code or connection failure).
            cause = dimensions.pop("reason", "")
            self.logger.warning("rate limit store unavailable", extra={**dimensions, "cause": cause})

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

    # -- request plumbing ------------------------------------------------------------------
    def protect(self, route_key: str, action: str) -> None:
        """Require a caller allowed to ``action`` before ``route_key`` ("POST /uploads") runs.

        Authentication happens before Powertools validates the body, so a caller without a valid
        token gets 401 and learns nothing about the request schema.
        """
        if self.public:
            raise errors.ConfigurationError(f"{route_key}: a public function authenticates no route")
        self._actions[route_key] = action

    def accept_form(self, route_key: str, fields: tuple[str, ...]) -> None:
        """Let ``route_key`` ("POST /s/{share_id}") take an HTML form as well as JSON: a browser
        without script can send nothing else. The form becomes the JSON object of ``fields`` (each
        at most once, nothing else) before the route's model validates it; every other route
        keeps refusing forms (415)."""
        self._forms[route_key] = frozenset(fields)

    def principal(self) -> Principal:
        """The caller of a protected route; fails closed if the route was not protected."""
        from presign.auth import Principal

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
        self.logger.append_keys(principal=principal_log_id(principal.sub))
        return principal

    def handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        limit = self.runtime.settings.max_body_bytes

        def resolve(raw_event: dict[str, Any], context: Any) -> dict[str, Any]:
            try:
                event = checked_event(raw_event, self.reads)
                body = event.get("body") or ""
                # Checked before anything is parsed, so a huge body costs no JSON work.
                if len(body) > limit * (4 / 3 if event.get("isBase64Encoded") else 1):
                    raise errors.PayloadTooLarge(f"the body exceeds {limit} bytes")
                # Before the body is decoded: an anonymous caller makes us parse nothing.
                action = self._actions.get(event["routeKey"])
                if action is not None:
                    principal = self._authenticate(event, action)
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
