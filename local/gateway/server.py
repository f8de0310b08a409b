"""The emulated HTTP API's server: 127.0.0.1 only, each request turned into an event for the function
its route names (``events``), one invocation at a time unless asked otherwise (``serialize``, or
``concurrency``: worker processes, ``containers``)."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote

from local.cfn import TEMPLATE
from local.gateway.containers import Containers
from local.gateway.events import (
    HOST,
    Handler,
    LambdaContext,
    Response,
    _gateway_error,
    _is_json,
    _json_response,
    _load_handler,
    _to_response,
    build_event,
    read_body,
    write_response,
)
from local.gateway.template import CorsConfig, EmulatorError, Route, load_api, localhost_origin
from local.servers import local_hosts

# Lambda's Invoke API path, as `sam local start-lambda` serves it.
_INVOKE_PATH = re.compile(r"/2015-03-31/functions/([^/]+)/invocations")


# A share link's path is its secret (GET /s/{share_id} hands out the file): the access log keeps
# the route, never the id, nor what follows it (a query string, the rest of a request line).
_SHARE_PATH = re.compile(r"/s/[^\s\"']+")


def redact(line: str) -> str:
    """An access log line without share ids: ``/s/abc...`` becomes ``/s/***``."""
    return _SHARE_PATH.sub("/s/***", line)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Emulator


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "presign-local-apigw"

    def _dispatch(self) -> None:
        self.server.emulator._serve(self)

    def __getattr__(self, name: str) -> Any:
        # http.server looks up do_<METHOD> and answers 501 (in HTML) when there is none; API
        # Gateway routes every method, TRACE and extension methods included: so does this.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.emulator.quiet:
            sys.stderr.write(f"[emulator] {self.address_string()} {redact(format % args)}\n")


class Emulator:
    """The emulated HTTP API: ``with Emulator(template) as api: ... api.base_url``.

    Constructing it reads the template and imports every handler (a cold start); ``start()`` binds
    127.0.0.1:``port`` (a free one when None) and serves on a background thread.
    """

    def __init__(
        self,
        template_path: Path = TEMPLATE,
        port: int | None = None,
        *,
        host: str = HOST,
        api_id: str | None = None,
        parameters: Mapping[str, str] | None = None,
        serialize: bool = True,
        quiet: bool = False,
        concurrency: int = 1,
        worker_init: Callable[[], None] | None = None,
    ) -> None:
        self.template_path = Path(template_path)
        self.api = load_api(self.template_path, api_id, parameters)
        self.host = host
        self._requested_port = port or 0
        self.quiet = quiet
        # In Lambda every concurrent invocation has a process of its own; here all functions share
        # one. Module state is then shared between requests, and Powertools keeps the current event
        # in a class attribute (BaseRouter.current_event) for every resolver in the process, so
        # overlapping invocations could read each other's request. Hence one invocation at a time
        # (the HTTP server stays threaded); serialize=False overlaps them, at that risk.
        self._invoke_lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if serialize else contextlib.nullcontext()
        )
        # concurrency > 1: each invocation runs in one of that many worker processes instead
        # (local/gateway/containers.py), as Lambda runs one container per concurrent request.
        self._containers: Containers | None = (
            Containers(concurrency, self.template_path, api_id, parameters, worker_init)
            if concurrency > 1
            else None
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._hosts: frozenset[str] = frozenset()  # set by start(), once the port is known
        for layer in reversed(self.api.layer_dirs):
            if str(layer) not in sys.path:
                sys.path.insert(0, str(layer))
        self.handlers: dict[str, Handler] = {lid: _load_handler(s) for lid, s in self.api.functions.items()}

    @property
    def routes(self) -> list[Route]:
        return list(self.api.routes)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._server is not None:
            return self
        try:
            server = _Server((self.host, self._requested_port), _RequestHandler)
        except OSError as exc:
            raise EmulatorError(
                f"cannot listen on {self.host}:{self._requested_port}: {exc.strerror}"
            ) from exc
        server.emulator = self
        self._server = server
        self._hosts = local_hosts(self.port) | {f"{self.host}:{self.port}"}
        self._thread = threading.Thread(target=server.serve_forever, name="apigw-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._containers is not None:
            self._containers.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- routing
    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        path_only = raw_path or "/"
        for route in self.api.routes:
            if route.method not in ("ANY", method):
                continue
            m = route.pattern.fullmatch(path_only)
            if m:
                params = {name: unquote(m.group(f"p{i}")) for i, name in enumerate(route.params)}
                return route, params
        return None

    def _cors_for(self, origin: str | None) -> CorsConfig | None:
        if not origin:
            return None
        if self.api.cors is not None:
            return self.api.cors
        if localhost_origin(origin):
            return CorsConfig(
                allow_origins=(origin,), allow_methods=("*",), allow_headers=("*",), max_age=600
            )
        return None

    def _preflight(self, headers: Mapping[str, str]) -> Response:
        origin = headers.get("origin", "")
        cors = self._cors_for(origin)
        allowed = cors.origin_allowed(origin) if cors else None
        if cors is None or allowed is None:
            return Response(204, [], b"")
        out = [("access-control-allow-origin", allowed)]
        wanted_method = headers.get("access-control-request-method", "").upper()
        methods = cors.allow_methods
        if "*" in methods or not methods:
            out.append(("access-control-allow-methods", wanted_method or "*"))
        else:
            out.append(("access-control-allow-methods", ",".join(methods)))
        wanted_headers = headers.get("access-control-request-headers", "")
        if "*" in cors.allow_headers:
            out.append(("access-control-allow-headers", wanted_headers or "*"))
        elif cors.allow_headers:
            out.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
        if cors.max_age is not None:
            out.append(("access-control-max-age", str(cors.max_age)))
        if cors.allow_credentials:
            out.append(("access-control-allow-credentials", "true"))
        if allowed != "*":
            out.append(("vary", "origin"))
        return Response(204, out, b"")

    def _add_cors(self, resp: Response, origin: str | None) -> None:
        cors = self._cors_for(origin)
        allowed = cors.origin_allowed(origin) if cors and origin else None
        if cors is None or allowed is None:
            return
        # API Gateway's CORS headers replace whatever the integration sent.
        resp.headers = [(k, v) for k, v in resp.headers if not k.startswith("access-control-")]
        resp.headers.append(("access-control-allow-origin", allowed))
        if cors.expose_headers:
            resp.headers.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
        if cors.allow_credentials:
            resp.headers.append(("access-control-allow-credentials", "true"))
        if allowed != "*":
            resp.headers.append(("vary", "origin"))

    # -- one request
    def _serve(self, req: _RequestHandler) -> None:
        request_id = str(uuid.uuid4())
        method = req.command.upper()
        raw_path, _, raw_query = req.path.partition("?")
        header_items = list(req.headers.items())
        lower = {k.lower(): v for k, v in header_items}
        origin = lower.get("origin")
        if lower.get("host", "").lower() not in self._hosts:
            # Refused before the body is read or anything runs, with no CORS header to read it by.
            write_response(
                req, method, _gateway_error(403, "Forbidden: not a Host this server answers"), close=True
            )
            return
        try:
            body, too_big = read_body(req, lower)
        except ValueError:
            write_response(req, method, _gateway_error(400, "Bad Request"), close=True)
            return
        preflight = (
            method == "OPTIONS" and "access-control-request-method" in lower and self._cors_for(origin)
        )
        invoked = _INVOKE_PATH.fullmatch(raw_path) if method == "POST" else None
        if too_big:
            resp = _gateway_error(413, "Request Entity Too Large")
        elif invoked is not None and (origin is not None or not _is_json(lower.get("content-type"))):
            # Lambda's Invoke API is for `make cleanup` / `make doctor`: a web page's "simple"
            # cross-site POST (text/plain, no preflight) must not make the handler run at all.
            resp = _json_response(
                403,
                {
                    "Type": "User",
                    "message": "the Invoke endpoint takes application/json from a shell, not a page",
                },
                [("x-amzn-errortype", "AccessDeniedException")],
            )
        elif invoked is not None:
            resp = self._invoke_direct(unquote(invoked.group(1)), body, request_id)
        elif preflight:
            resp = self._preflight(lower)
        else:
            found = self.match(method, raw_path)
            if found is None:
                resp = _gateway_error(404, "Not Found")
            else:
                route, params = found
                event = build_event(
                    method=method,
                    raw_path=raw_path,
                    raw_query=raw_query,
                    headers=header_items,
                    body=body,
                    route=route,
                    path_parameters=params,
                    source_ip=req.client_address[0],
                    api_id=self.api.api_id,
                    request_id=request_id,
                )
                resp = self._invoke(route.function, event)
        if not preflight:
            self._add_cors(resp, origin)
        resp.headers.append(("apigw-requestid", request_id))
        write_response(req, method, resp, close=too_big)

    def _invoke(self, function: str, event: dict[str, Any]) -> Response:
        spec = self.api.functions[function]
        context = LambdaContext(spec)
        started = time.monotonic()
        try:
            if self._containers is not None:
                result = self._containers.invoke(function, event, context.aws_request_id)
            else:
                with self._invoke_lock:
                    result = self.handlers[function](event, context)
        except Exception:  # noqa: BLE001 - any handler failure is a 500, as in Lambda
            self._log(
                f"{spec.function_name} RequestId: {context.aws_request_id} failed:\n{traceback.format_exc()}"
            )
            return _gateway_error(500, "Internal Server Error")
        try:
            resp = _to_response(result)
        except (ValueError, TypeError) as exc:
            self._log(f"{spec.function_name} returned a response API Gateway cannot use: {exc}")
            return _gateway_error(500, "Internal Server Error")
        elapsed = time.monotonic() - started
        if elapsed > spec.timeout_s:
            self._log(
                f"{spec.function_name} took {elapsed:.1f} s, over its Timeout of {spec.timeout_s:g} s: "
                "Lambda would have stopped it (API Gateway: 503)"
            )
        return resp

    def _invoke_direct(self, name: str, body: bytes, request_id: str) -> Response:
        """Lambda's Invoke API (``sam local start-lambda`` serves it too), for the functions no
        route reaches: the payload is the event, the answer the handler's result as JSON; a
        handler that raises answers ``X-Amz-Function-Error: Unhandled``, as Lambda does."""
        lid = next(
            (lid for lid in self.api.invocable if name in (lid, self.api.functions[lid].function_name)), None
        )
        if lid is None:
            return _json_response(
                404,
                {
                    "Type": "User",
                    "message": f"Function not found: {name} (only functions without HTTP routes)",
                },
                [("x-amzn-errortype", "ResourceNotFoundException")],
            )
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            return _json_response(
                400,
                {"Type": "User", "message": "the payload is not JSON"},
                [("x-amzn-errortype", "InvalidRequestContentException")],
            )
        spec = self.api.functions[lid]
        context = LambdaContext(spec, request_id)
        try:
            with self._invoke_lock:
                result = self.handlers[lid](event, context)
        except Exception as exc:  # noqa: BLE001 - reported as Lambda reports an unhandled error
            self._log(
                f"{spec.function_name} RequestId: {context.aws_request_id} failed:\n{traceback.format_exc()}"
            )
            return _json_response(
                200,
                {"errorMessage": str(exc), "errorType": type(exc).__name__},
                [("x-amz-function-error", "Unhandled")],
            )
        return _json_response(200, result, [("x-amz-executed-version", "$LATEST")])

    @staticmethod
    def _log(text: str) -> None:
        sys.stderr.write(f"[emulator] {text.rstrip()}\n")
        sys.stderr.flush()

    # -- CLI
    def serve_until_interrupted(self) -> None:
        # A shell without job control starts background children with SIGINT ignored, and Python
        # then installs no KeyboardInterrupt handler: Ctrl-C (or a test's SIGINT) must still stop us.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)
        self.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
