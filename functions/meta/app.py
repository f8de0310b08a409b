"""GET /health and GET /openapi.json: public, no configuration, no AWS calls.

The OpenAPI document is a build output (``make openapi``) shipped inside the layer; CI fails when
the committed copy no longer matches the routes.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
app = APIGatewayHttpResolver()
OPENAPI = resources.files("presign").joinpath("openapi.json").read_text(encoding="utf-8")


@app.get("/health")
def health() -> Response[str]:
    return Response(
        200,
        content_types.APPLICATION_JSON,
        json.dumps({"status": "ok"}),
        headers={"Cache-Control": "no-store"},
    )


@app.get("/openapi.json")
def openapi() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, OPENAPI, headers={"Cache-Control": "max-age=300"})


# clear_state: keys appended for one caller must not label the next invocation's lines.
# log_event=False, explicitly: otherwise POWERTOOLS_LOGGER_LOG_EVENT=true would log every event,
# bearer token included.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
