"""A small API Gateway HTTP API (payload format 2.0) emulator for the functions in template.yaml.

Each HTTP request on 127.0.0.1 becomes the v2.0 event API Gateway would send, goes to the handler
the template routes it to (with a fake Lambda context), and the handler's v2 response is written
back. Routes come from the template itself (``AWS::Serverless::Function`` events of type
``HttpApi``), so the emulator cannot drift from what ``sam deploy`` creates. Every handler module
is imported at start, like a cold start, so a configuration error shows at once.

Mirrors of API Gateway behaviour: a request no route matches goes to the ``$default`` route (an
``HttpApi`` event without Path and Method) whatever its method (TRACE and extension methods
included), and without one is 404 ``{"message":"Not Found"}``; a body over 10 MB is 413; a handler that raises is 500 ``{"message":"Internal Server Error"}`` (the traceback
goes to stderr, like Lambda's log); OPTIONS preflights are answered from the API's
``CorsConfiguration`` (or permissively for localhost origins when there is none).

Not API Gateway's, but this machine's: a request whose ``Host`` is not ``127.0.0.1:<port>`` or
``localhost:<port>`` is refused with 403 before anything runs (a page cannot reach the emulator
through a name of its own that resolves to 127.0.0.1, DNS rebinding), and the access log shows
a share link's path as ``/s/***``: its id is the link's secret.

Functions that no HttpApi event reaches (the scheduled cleanup) are served as Lambda's Invoke API
serves them, at ``POST /2015-03-31/functions/{FunctionName}/invocations`` (as ``sam local
start-lambda`` does): the body is the event, the answer the handler's result
(``python -m local.invoke`` calls it).

Not emulated: per-function environment variables, timeouts (a handler that overruns its Timeout is
only reported), and process isolation: all functions share this process and its module state, so
invocations run one at a time by default (the HTTP server itself is threaded).

    python -m local.emulator --port 8080 [--template template.yaml]

    with Emulator(Path("template.yaml")) as api:
        requests.post(f"{api.base_url}/uploads", json=...)
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.util
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote

from local.cfn import TEMPLATE, load_template
from local.servers import local_hosts

HOST = "127.0.0.1"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
AUTHORIZER_FLAG = "PRESIGN_EMULATOR_JWT_AUTHORIZER"
# Lambda's Invoke API path, as `sam local start-lambda` serves it.
_INVOKE_PATH = re.compile(r"/2015-03-31/functions/([^/]+)/invocations")

Handler = Callable[[dict[str, Any], Any], Any]

__all__ = [
    "AUTHORIZER_FLAG",
    "MAX_BODY_BYTES",
    "NO_VALUE",
    "CorsConfig",
    "Emulator",
    "EmulatorError",
    "FunctionSpec",
    "LambdaContext",
    "Route",
    "TemplateResolver",
    "Unresolved",
    "authorizer_context",
    "build_event",
    "load_api",
    "main",
]


class EmulatorError(RuntimeError):
    """The template cannot be emulated (no routes, a handler that cannot be imported, ...)."""


def authorizer_context(headers: Mapping[str, str]) -> dict[str, Any] | None:
    """Gateway-mode auth hook (``PRESIGN_EMULATOR_JWT_AUTHORIZER=1``): the event's
    ``requestContext.authorizer`` for these (lower-cased) headers, or None to send none."""
    return None


# ------------------------------------------------------------------------------------ template model


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # "app.handler"
    function_name: str
    memory_mb: int = 128
    timeout_s: float = 3.0


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # "/uploads/{upload_id}", "/files/{proxy+}", or "$default"
    function: str  # logical id of the function
    pattern: re.Pattern[str] = field(compare=False, repr=False)
    params: tuple[str, ...] = field(compare=False, default=())

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def sort_key(self) -> tuple[int, int, int, int]:
        """API Gateway prefers exact paths over parameters, greedy last, a method over ANY."""
        if self.path == "$default":
            return (3, 0, 0, 0)
        segments = self.path.strip("/").split("/")
        greedy = 1 if self.path.endswith("+}") else 0
        n_params = sum(1 for s in segments if s.startswith("{"))
        return (greedy, -len(segments), n_params, 1 if self.method == "ANY" else 0)


@dataclass(frozen=True)
class CorsConfig:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False
    allow_localhost: bool = False  # any http(s)://localhost|127.0.0.1[:port] origin

    def origin_allowed(self, origin: str) -> str | None:
        """The Access-Control-Allow-Origin value for ``origin``, or None if it is not allowed."""
        if "*" in self.allow_origins:
            return "*" if not self.allow_credentials else origin
        if origin in self.allow_origins or (self.allow_localhost and _localhost_origin(origin)):
            return origin
        return None


def _localhost_origin(origin: str) -> bool:
    return re.fullmatch(r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?", origin) is not None


def _compile(path: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    if path == "$default":
        return re.compile(r".*", re.S), ()
    parts: list[str] = []
    names: list[str] = []
    segments = path.strip("/").split("/") if path != "/" else []
    for i, seg in enumerate(segments):
        m = re.fullmatch(r"\{([A-Za-z0-9_.\-]+)(\+?)\}", seg)
        if m and m.group(2):
            if i != len(segments) - 1:
                raise EmulatorError(f"greedy parameter must be the last segment: {path}")
            names.append(m.group(1))
            parts.append(f"(?P<p{len(names) - 1}>.+)")
        elif m:
            names.append(m.group(1))
            parts.append(f"(?P<p{len(names) - 1}>[^/]+)")
        else:
            parts.append(re.escape(seg))
    return re.compile("/" + "/".join(parts)), tuple(names)


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, (str, int)))
    return ()


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


class Unresolved(LookupError):
    """A template value the emulator cannot know locally (an attribute, a parameter without value)."""


class _NoValue:
    """``AWS::NoValue``: the property is left out."""


NO_VALUE = _NoValue()
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "presign-local",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/presign-local/local",
}


class TemplateResolver:
    """Evaluates the intrinsics a local run can know: Ref to parameters (overrides, else Default),
    pseudo parameters and resources with a known physical id, Fn::If with its Conditions, Fn::Sub
    without attributes, Fn::Join and Fn::Select. Anything else raises ``Unresolved``."""

    def __init__(
        self,
        doc: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        physical_ids: Mapping[str, str] | None = None,
    ) -> None:
        self._params: dict[str, Any] = dict(doc.get("Parameters") or {})
        self._conditions: dict[str, Any] = dict(doc.get("Conditions") or {})
        self._overrides = dict(parameters or {})
        self.physical_ids = dict(physical_ids or {})

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self._params:
            spec = self._params[name] or {}
            raw = self._overrides.get(name, spec.get("Default"))
            if raw is None:
                raise Unresolved(f"parameter {name} has no value (pass it in parameters)")
            ptype = str(spec.get("Type", "String"))
            if ptype == "CommaDelimitedList" or ptype.startswith("List<"):
                return [] if str(raw) == "" else [v.strip() for v in str(raw).split(",")]
            return str(raw)
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise Unresolved(f"Ref {name}")

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            raise Unresolved(f"condition {name}")
        return bool(self.resolve(self._conditions[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}
        ((key, arg),) = value.items()
        if key == "Ref":
            return self.ref(str(arg))
        if key == "Condition" and isinstance(arg, str):
            return self.condition(arg)
        if key == "Fn::If":
            name, then, otherwise = arg
            return self.resolve(then if self.condition(name) else otherwise)
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in arg)
            return left == right
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::And":
            return all(self.resolve(a) for a in arg)
        if key == "Fn::Or":
            return any(self.resolve(a) for a in arg)
        if key == "Fn::Join":
            sep, items = arg
            return str(sep).join(str(v) for v in self.resolve(items))
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

            def sub(m: re.Match[str]) -> str:
                name = m.group(1)
                if name in variables:
                    return str(self.resolve(variables[name]))
                if "." in name:
                    raise Unresolved(f"${{{name}}}")
                return str(self.ref(name))

            return re.sub(r"\$\{([^}!][^}]*)\}", sub, str(text))
        if key.startswith("Fn::") or key == "Ref":
            raise Unresolved(key)
        return {key: self.resolve(arg)}


def _cors_from(raw: Any, resolver: TemplateResolver) -> CorsConfig | None:
    if raw is True:
        return CorsConfig(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
    if not isinstance(raw, dict):
        return None

    def field_(name: str) -> Any:
        try:
            return resolver.resolve(raw.get(name))
        except Unresolved:
            return None

    origins = field_("AllowOrigins")
    max_age = field_("MaxAge")
    return CorsConfig(
        # Origins the template leaves to a deploy-time parameter: any localhost origin, locally.
        allow_origins=_str_list(origins),
        allow_localhost=origins is None,
        allow_methods=tuple(m.upper() for m in _str_list(field_("AllowMethods"))),
        allow_headers=tuple(h.lower() for h in _str_list(field_("AllowHeaders"))),
        expose_headers=tuple(h.lower() for h in _str_list(field_("ExposeHeaders"))),
        max_age=int(max_age) if isinstance(max_age, (int, str)) and str(max_age).isdigit() else None,
        allow_credentials=str(field_("AllowCredentials")).lower() == "true",
    )


@dataclass(frozen=True)
class Api:
    api_id: str  # logical id of the HttpApi resource ("ServerlessHttpApi" for the implicit one)
    functions: dict[str, FunctionSpec]
    routes: list[Route]
    cors: CorsConfig | None
    layer_dirs: list[Path]
    invocable: tuple[str, ...] = ()  # functions no route reaches: the Invoke endpoint serves them


def load_api(
    template_path: Path = TEMPLATE, api_id: str | None = None, parameters: Mapping[str, str] | None = None
) -> Api:
    """Read the functions, HttpApi routes, CORS configuration and layers from a SAM template.

    ``parameters`` are the template's parameter values (like ``sam deploy --parameter-overrides``);
    a CORS AllowOrigins left to a parameter without a value allows any localhost origin.
    """
    template_path = Path(template_path)
    base = template_path.parent
    doc = load_template(template_path)
    resolver = TemplateResolver(doc, parameters)
    resources: dict[str, Any] = doc.get("Resources") or {}
    globals_: dict[str, Any] = doc.get("Globals") or {}
    g_fn: dict[str, Any] = globals_.get("Function") or {}
    g_api: dict[str, Any] = globals_.get("HttpApi") or {}

    apis = [lid for lid, r in resources.items() if r.get("Type") == "AWS::Serverless::HttpApi"]
    if api_id is None:
        if len(apis) > 1:
            raise EmulatorError(f"{template_path} has several HttpApi resources {apis}: pick one (api_id)")
        api_id = apis[0] if apis else "ServerlessHttpApi"
    elif api_id not in apis and api_id != "ServerlessHttpApi":
        raise EmulatorError(f"no AWS::Serverless::HttpApi {api_id!r} in {template_path}")
    implicit = api_id not in apis

    api_props = {} if implicit else (resources[api_id].get("Properties") or {})
    cors = _cors_from(api_props.get("CorsConfiguration", g_api.get("CorsConfiguration")), resolver)

    functions: dict[str, FunctionSpec] = {}
    routes: list[Route] = []
    invocable: list[str] = []
    layer_refs: list[str] = []
    for lid, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props: dict[str, Any] = res.get("Properties") or {}
        events = [
            ev.get("Properties") or {}
            for ev in (props.get("Events") or {}).values()
            if isinstance(ev, dict) and ev.get("Type") == "HttpApi"
        ]
        mine = [ev for ev in events if (_ref(ev.get("ApiId")) or "ServerlessHttpApi") == api_id]
        # A function no HttpApi event reaches (a scheduled one) is served by the Invoke endpoint.
        invoke_only = not events
        if not mine and not invoke_only:
            continue
        code_uri = _as_str(props.get("CodeUri", g_fn.get("CodeUri")))
        handler = _as_str(props.get("Handler", g_fn.get("Handler")))
        if not code_uri or not handler:
            raise EmulatorError(f"{lid}: CodeUri and Handler must be plain strings in {template_path}")
        name = _as_str(props.get("FunctionName")) or lid
        memory = props.get("MemorySize", g_fn.get("MemorySize", 128))
        timeout = props.get("Timeout", g_fn.get("Timeout", 3))
        functions[lid] = FunctionSpec(
            logical_id=lid,
            code_dir=(base / code_uri).resolve(),
            handler=handler,
            function_name=name,
            memory_mb=int(memory) if isinstance(memory, int) else 128,
            timeout_s=float(timeout) if isinstance(timeout, (int, float)) else 3.0,
        )
        if invoke_only:
            invocable.append(lid)
        for ev in mine:
            path = _as_str(ev.get("Path")) or "$default"
            method = (_as_str(ev.get("Method")) or "ANY").upper()
            if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" or method == "*":
                method = "ANY"
            pattern, params = _compile(path)
            routes.append(Route(method=method, path=path, function=lid, pattern=pattern, params=params))
        for layer in props.get("Layers", g_fn.get("Layers")) or []:
            ref = _ref(layer)
            if ref:
                layer_refs.append(ref)
    if not routes:
        raise EmulatorError(f"{template_path}: no HttpApi routes for API {api_id}")
    seen: dict[str, Route] = {}
    for r in routes:
        if r.route_key in seen:
            raise EmulatorError(
                f"route {r.route_key} is defined twice ({seen[r.route_key].function}, {r.function})"
            )
        seen[r.route_key] = r
    routes.sort(key=Route.sort_key)

    layer_dirs: list[Path] = []
    for ref in dict.fromkeys(layer_refs):
        res = resources.get(ref) or {}
        if res.get("Type") == "AWS::Serverless::LayerVersion":
            content = _as_str((res.get("Properties") or {}).get("ContentUri"))
            if content:
                layer_dirs.append((base / content).resolve())
    return Api(
        api_id=api_id,
        functions=functions,
        routes=routes,
        cors=cors,
        layer_dirs=layer_dirs,
        invocable=tuple(invocable),
    )


# --------------------------------------------------------------------------------------- invocation


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


# -------------------------------------------------------------------------------------- HTTP server


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
        if _localhost_origin(origin):
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
            _write(req, method, _gateway_error(403, "Forbidden: not a Host this server answers"), close=True)
            return
        try:
            body, too_big = _read_body(req, lower)
        except ValueError:
            _write(req, method, _gateway_error(400, "Bad Request"), close=True)
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
        _write(req, method, resp, close=too_big)

    def _invoke(self, function: str, event: dict[str, Any]) -> Response:
        spec = self.api.functions[function]
        context = LambdaContext(spec)
        started = time.monotonic()
        try:
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


def _read_body(req: BaseHTTPRequestHandler, headers: Mapping[str, str]) -> tuple[bytes, bool]:
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


def _write(req: BaseHTTPRequestHandler, method: str, resp: Response, *, close: bool = False) -> None:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.emulator", description="API Gateway HTTP API emulator"
    )
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--api-id", default=None, help="which AWS::Serverless::HttpApi, if several")
    parser.add_argument(
        "--concurrent", action="store_true", help="overlap invocations (unsafe with shared module state)"
    )
    parser.add_argument("--quiet", action="store_true", help="no access log")
    args = parser.parse_args(argv)
    try:
        emulator = Emulator(
            args.template, args.port, api_id=args.api_id, serialize=not args.concurrent, quiet=args.quiet
        )
        emulator.start()
    except EmulatorError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    print(f"API Gateway emulator on {emulator.base_url}", flush=True)
    for route in emulator.routes:
        print(f"  {route.route_key:40} -> {route.function}", flush=True)
    emulator.serve_until_interrupted()
    return 0


if __name__ == "__main__":
    sys.exit(main())
