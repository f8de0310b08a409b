"""The API the emulator serves, read from the SAM template: its functions, HttpApi routes, CORS
configuration and layers, with the template's intrinsic functions resolved (``TemplateResolver``)
as far as a local run can (parameters, pseudo parameters, ``!Ref``, ``!Sub``, ``!If``...)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.cfn import TEMPLATE, load_template

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class EmulatorError(RuntimeError):
    """The template cannot be emulated (no routes, a handler that cannot be imported, ...)."""


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
        if origin in self.allow_origins or (self.allow_localhost and localhost_origin(origin)):
            return origin
        return None


def localhost_origin(origin: str) -> bool:
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
