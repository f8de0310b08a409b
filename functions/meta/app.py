"""GET /health, GET /openapi.json, GET /events/schemas/{name} and the API's $default route: public, no configuration, no AWS
calls.

The events' JSON Schemas (``upload.completed.v1.json``, ...; docs/events.md) are served next to
the OpenAPI document, from the same layer, so a receiver validates against what this deployment
publishes. The OpenAPI document is a build output (``make openapi``) shipped inside the layer; CI fails when
the committed copy no longer matches the routes. The $default route gets every request no other
route takes, so unknown paths and methods are answered in the contract's error shape: 404, or 405
with ``Allow`` when the path exists (the document says with which methods).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign import errors
from presign.events.schemas import schema_names, schema_text
from presign.http.api import lambda_handler
from presign.http.gate import checked_event
from presign.http.openapi import Routes, cache_control
from presign.http.problems import early_response, error_response

logger = Logger()
app = APIGatewayHttpResolver()
OPENAPI = resources.files("presign").joinpath("openapi.json").read_text(encoding="utf-8")
ROUTES = Routes.from_openapi(json.loads(OPENAPI))


HEALTH_SCHEMA = {"type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"]}
DOCUMENT_SCHEMA = {
    "type": "object",
    "properties": {"openapi": {"type": "string", "pattern": "^3\\.1\\."}, "info": {"type": "object"}},
    "required": ["openapi", "info", "paths"],
}


def _ok(description: str, schema: dict[str, Any], control: str) -> dict[int, Any]:
    return {
        200: {
            "description": description,
            "headers": cache_control(control),
            "content": {"application/json": {"schema": schema}},
        }
    }


@app.get("/health", responses=_ok("the service answers", HEALTH_SCHEMA, "no-store"))
def health() -> Response[str]:
    return Response(
        200,
        content_types.APPLICATION_JSON,
        json.dumps({"status": "ok"}),
        headers={"Cache-Control": "no-store"},
    )


@app.get("/openapi.json", responses=_ok("this document", DOCUMENT_SCHEMA, "max-age=300"))
def openapi() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, OPENAPI, headers={"Cache-Control": "max-age=300"})


SCHEMA_SCHEMA = {
    "type": "object",
    "properties": {
        "$schema": {"const": "https://json-schema.org/draft/2020-12/schema"},
        "$id": {"type": "string"},
    },
    "required": ["$schema"],
}


@app.get(
    "/events/schemas/<name>",
    responses={
        **_ok("the JSON Schema of one event type and version (docs/events.md)", SCHEMA_SCHEMA, "max-age=300"),
        404: {
            "description": "no such schema; the names are " + ", ".join(schema_names()),
            "headers": cache_control("no-store"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        },
    },
)
def event_schema(name: str) -> Response[str]:
    text = schema_text(name)
    if text is None:
        missing = errors.NotFound("no such event schema: the names are listed in openapi.json")
        return error_response(missing, app.current_event.request_context.request_id or "")
    return Response(200, content_types.APPLICATION_JSON, text, headers={"Cache-Control": "max-age=300"})


def no_route(exc: NotFoundError) -> Response[str]:
    event = app.current_event
    return error_response(ROUTES.refusal(event.path), event.request_context.request_id or "")


app.not_found(no_route)


def resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        checked = checked_event(event)
    except errors.PresignError as exc:
        return early_response(exc, event, context)
    return app.resolve(checked, context)


handler = lambda_handler(logger, resolve)
