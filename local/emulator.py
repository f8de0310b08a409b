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
import sys
from pathlib import Path

from local.cfn import TEMPLATE

# The emulator lives in local.gateway (template, events, server); its public names stay
# importable from here, where its users have always found them.
from local.gateway.events import (
    AUTHORIZER_FLAG,
    MAX_BODY_BYTES,
    LambdaContext,
    authorizer_context,
    build_event,
)
from local.gateway.server import Emulator
from local.gateway.template import (
    NO_VALUE,
    CorsConfig,
    EmulatorError,
    FunctionSpec,
    Route,
    TemplateResolver,
    Unresolved,
    load_api,
)

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
