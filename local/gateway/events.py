"""What a function is given and what it answers, as Lambda and API Gateway do it: the handler
loaded as a cold start loads it, the context object, the payload format 2.0 event built from an
HTTP request, and the handler's result read back into an HTTP response."""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from local.gateway.template import ACCOUNT_ID, REGION, EmulatorError, FunctionSpec, Route

HOST = "127.0.0.1"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
AUTHORIZER_FLAG = "PRESIGN_EMULATOR_JWT_AUTHORIZER"
Handler = Callable[[dict[str, Any], Any], Any]


def authorizer_context(headers: Mapping[str, str]) -> dict[str, Any] | None:
    """Gateway-mode auth hook (``PRESIGN_EMULATOR_JWT_AUTHORIZER=1``): the event's
    ``requestContext.authorizer`` for these (lower-cased) headers, or None to send none."""
    return None


class LambdaContext:
    """The parts of the Lambda context object handlers (and Powertools) read."""

    def __init__(self, spec: FunctionSpec, request_id: str | None = None) -> None:
        self.function_name = spec.function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = spec.memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{spec.function_name}"
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load_handler(spec: FunctionSpec) -> Handler:
    module_path, _, attr = spec.handler.rpartition(".")
    if not module_path or not attr:
        raise EmulatorError(f"{spec.logical_id}: Handler {spec.handler!r} is not 'module.function'")
    rel = Path(*module_path.split("."))
    file = spec.code_dir / rel.with_suffix(".py")
    if not file.is_file():
        file = spec.code_dir / rel / "__init__.py"
    if not file.is_file():
        raise EmulatorError(f"{spec.logical_id}: no module {module_path!r} in {spec.code_dir}")
    unique = "_presign_fn_" + re.sub(r"\W", "_", f"{spec.logical_id}_{module_path}")

    # In Lambda the code directory is on sys.path, so a handler may import its siblings. Several
    # functions may have siblings of the same name: drop any such module another function loaded.
    local_names = {p.stem for p in spec.code_dir.glob("*.py")} | {
        p.parent.name for p in spec.code_dir.glob("*/__init__.py")
    }
    for name in list(sys.modules):
        mod_file = getattr(sys.modules[name], "__file__", None)
        if name.split(".")[0] in local_names and mod_file and spec.code_dir not in Path(mod_file).parents:
            del sys.modules[name]
    sys.path.insert(0, str(spec.code_dir))
    try:
        mod_spec = importlib.util.spec_from_file_location(unique, file)
        if mod_spec is None or mod_spec.loader is None:
            raise EmulatorError(f"{spec.logical_id}: cannot load {file}")
        module: ModuleType = importlib.util.module_from_spec(mod_spec)
        sys.modules[unique] = module
        try:
            mod_spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[unique]
            trace = "".join(traceback.format_exc().splitlines(keepends=True)[-20:])
            raise EmulatorError(
                f"{spec.logical_id}: importing {file} failed (a cold start error):\n{trace}"
            ) from exc
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(spec.code_dir))
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise EmulatorError(f"{spec.logical_id}: {file} has no callable {attr!r}")
    return handler  # type: ignore[no-any-return]  # a callable found by name at runtime


_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|xml|javascript|graphql|x-yaml|yaml)|.*\+(json|xml))$", re.IGNORECASE
)


def build_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    route: Route | None,
    path_parameters: Mapping[str, str],
    source_ip: str,
    api_id: str = "local",
    now: datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload format 2.0 event for one request."""
    now = now or datetime.now(UTC)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    route_key = route.route_key if route else "$default"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": merged.get("host", HOST),
            "domainPrefix": merged.get("host", HOST).split(".")[0].split(":")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": request_id or str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if os.environ.get(AUTHORIZER_FLAG) == "1":
        ctx = authorizer_context(merged)
        if ctx is not None:
            event["requestContext"]["authorizer"] = ctx
    if body:
        content_type = merged.get("content-type", "").split(";")[0].strip()
        text: str | None = None
        if _TEXT_TYPES.match(content_type):
            with contextlib.suppress(UnicodeDecodeError):
                text = body.decode("utf-8")
        if text is None:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _is_json(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "application/json"


def _json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, [("content-type", "application/json"), *headers], json.dumps(payload).encode())


def _gateway_error(status: int, message: str) -> Response:
    return _json_response(status, {"message": message})


def _to_response(result: Any) -> Response:
    """A v2.0 handler result, interpreted the way API Gateway does (raises ValueError if malformed)."""
    if isinstance(result, dict) and "statusCode" in result:
        status = result["statusCode"]
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise ValueError(f"invalid statusCode {status!r}")
        headers: list[tuple[str, str]] = []
        for k, v in (result.get("headers") or {}).items():
            headers.append((str(k).lower(), str(v)))
        for k, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((str(k).lower(), str(v)) for v in values or [])
        headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or [])
        raw_body = result.get("body")
        if raw_body is None:
            body = b""
        elif not isinstance(raw_body, str):
            raise ValueError("body must be a string")
        elif result.get("isBase64Encoded"):
            body = base64.b64decode(raw_body, validate=True)
        else:
            body = raw_body.encode("utf-8")
        if body and not any(k == "content-type" for k, _ in headers):
            headers.append(("content-type", "application/json"))
        return Response(status, headers, body)
    # Not the v2 response shape: API Gateway takes it as a 200 JSON body.
    text = result if isinstance(result, str) else json.dumps(result)
    return Response(200, [("content-type", "application/json")], text.encode("utf-8"))


def read_body(req: BaseHTTPRequestHandler, headers: Mapping[str, str]) -> tuple[bytes, bool]:
    """The request body, and whether it was over the limit (then it is drained, not kept)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        total = 0
        while True:
            line = req.rfile.readline(1024)
            size = int(line.split(b";")[0].strip() or b"0", 16)  # ValueError: a bad request
            if size == 0:
                while req.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                break
            data = req.rfile.read(size)
            req.rfile.readline(8)
            total += len(data)
            if total <= MAX_BODY_BYTES:
                chunks.append(data)
        return (b"", True) if total > MAX_BODY_BYTES else (b"".join(chunks), False)
    try:
        length = int(headers.get("content-length", "0") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        remaining = length if length <= 4 * MAX_BODY_BYTES else 0  # drain a moderate excess
        while remaining > 0:
            data = req.rfile.read(min(remaining, 1 << 20))
            if not data:
                break
            remaining -= len(data)
        return b"", True
    return (req.rfile.read(length) if length > 0 else b""), False


def write_response(req: BaseHTTPRequestHandler, method: str, resp: Response, *, close: bool = False) -> None:
    req.send_response(resp.status)
    for k, v in resp.headers:
        if k not in ("content-length", "connection", "transfer-encoding", "date", "server"):
            req.send_header(k, v)
    req.send_header("content-length", str(len(resp.body)))
    if close:
        req.send_header("connection", "close")
        req.close_connection = True
    req.end_headers()
    if method != "HEAD" and resp.body:
        req.wfile.write(resp.body)
