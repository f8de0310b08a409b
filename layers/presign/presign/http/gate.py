"""The gate every event passes before anything else reads it.

What comes out is what API Gateway (HTTP API, payload 2.0) sends, in every part that we or
Powertools read, with a body that is either absent or UTF-8 JSON of modest depth (or, for a route
that takes one, an HTML form turned into the JSON object its model reads), as text. Anything else
is refused in the error shape, so no input reaches code that would raise on it (a 500).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from itertools import repeat
from typing import Any

from presign import errors

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


def _is_utf8(value: str, expected: str) -> bool:
    """Whether ``value`` is the media type ``expected``, in any case, with parameters and no
    charset other than UTF-8."""
    media_type, _, parameters = value.partition(";")
    if media_type.strip().lower() != expected:
        return False
    for parameter in parameters.split(";"):
        name, _, given = parameter.partition("=")
        if name.strip().lower() == "charset" and given.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def is_json_media_type(value: str) -> bool:
    """``application/json`` in any case, with parameters; a charset other than UTF-8 is not JSON."""
    return _is_utf8(value, "application/json")


def _decoded(event: Mapping[str, Any], raw: str, limit: int) -> bytes:
    """The body's bytes (base64-decoded when flagged so), or the refusal (400, 413)."""
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
    except UnicodeEncodeError:  # a str with an unpaired surrogate: not text at all
        raise errors.InvalidRequest("the request body is not UTF-8") from None
    except (binascii.Error, ValueError):
        raise errors.InvalidRequest("the request body is flagged base64 but is not") from None
    if len(data) > limit:
        raise errors.PayloadTooLarge(f"the body exceeds {limit} bytes")
    return data


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
    data = _decoded(event, raw, limit)
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
    return value is not None and _is_utf8(value, FORM_MEDIA_TYPE)


def form_body(event: Mapping[str, Any], limit: int, fields: frozenset[str]) -> str | None:
    """An HTML form's body (``application/x-www-form-urlencoded``, UTF-8) as the JSON object the
    route's model reads: only ``fields``, each at most once, or the refusal (400, 413)."""
    from urllib.parse import parse_qsl

    raw: str | None = event.get("body")
    if not raw:
        return None
    data = _decoded(event, raw, limit)
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
