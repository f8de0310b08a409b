"""How the routes describe themselves in the OpenAPI document (``make openapi`` builds it from them):
the responses of a route with the headers each carries, links between operations, and ``Routes``,
which reads the document back to tell an unknown path (404) from a known one asked with another
method (405 with ``Allow``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from presign import errors

if TYPE_CHECKING:
    from pydantic import BaseModel

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
    from presign.core.schemas import ErrorResponse  # only the routes that document a model pay for them

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
