"""The API's ``$default`` route (the meta function): whatever no other route matches is answered in
the contract's error shape, 404 for an unknown path and 405 with ``Allow`` for a known one."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from tests.support.events import FakeContext, http_event
from tests.support.functions import ROOT, load_function

DOCUMENT = json.loads((ROOT / "layers" / "presign" / "presign" / "openapi.json").read_text(encoding="utf-8"))
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND")


@pytest.fixture
def meta(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("meta", monkeypatch, {})


def default_route(method: str, path: str) -> dict[str, Any]:
    """What API Gateway sends the $default route: the request as made, routeKey "$default"."""
    event = http_event(method, path)
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    del event["headers"]["content-type"]
    event["body"] = None
    return event


def assert_error(response: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    assert response["statusCode"] == status, (response["statusCode"], response["body"])
    assert response["headers"]["Cache-Control"] == "no-store", response["headers"]
    assert response["headers"]["Content-Type"] == "application/json", response["headers"]
    error = json.loads(response["body"])["error"]
    assert error["code"] == code and error["request_id"], error
    assert set(error) == {"code", "message", "request_id"}, error
    return dict(error)


@pytest.mark.parametrize("path", ["/", "/nowhere", "/uploads/", "/health/", "/uploads/x/y", "/%2e%2e/etc"])
@pytest.mark.parametrize("method", ["GET", "POST", "TRACE", "PROPFIND"])
def test_an_unknown_path_is_404_in_our_shape(meta: ModuleType, method: str, path: str) -> None:
    # When
    response = meta.handler(default_route(method, path), FakeContext())
    # Then
    assert_error(response, 404, "not_found")
    assert "Allow" not in response["headers"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [(path, sorted(m.upper() for m in operations)) for path, operations in DOCUMENT["paths"].items()],
)
def test_a_known_path_with_another_method_is_405_with_allow(
    meta: ModuleType, path: str, allowed: list[str]
) -> None:
    for method in (m for m in METHODS if m not in allowed):
        # When
        response = meta.handler(default_route(method, path), FakeContext())
        # Then
        error = assert_error(response, 405, "method_not_allowed")
        assert response["headers"]["Allow"] == ", ".join(allowed), (method, path, response["headers"])
        assert all(name in error["message"] for name in allowed), error


def test_the_request_id_is_the_gateways(meta: ModuleType) -> None:
    event = default_route("GET", "/nowhere")
    error = assert_error(meta.handler(event, FakeContext()), 404, "not_found")
    assert error["request_id"] == event["requestContext"]["requestId"]


def test_the_public_routes_still_answer(meta: ModuleType) -> None:
    health = meta.handler(http_event("GET", "/health"), FakeContext())
    assert health["statusCode"] == 200 and json.loads(health["body"]) == {"status": "ok"}
    assert health["headers"]["Cache-Control"] == "no-store"
    spec = meta.handler(http_event("GET", "/openapi.json"), FakeContext())
    assert spec["statusCode"] == 200 and json.loads(spec["body"]) == DOCUMENT


@pytest.mark.parametrize(
    "event", [[], "x", {}, {"requestContext": "x"}], ids=["list", "str", "empty", "context"]
)
def test_a_malformed_invocation_of_meta_is_400(meta: ModuleType, event: Any) -> None:
    assert_error(meta.handler(event, FakeContext()), 400, "invalid_request")


@pytest.mark.parametrize("name", ["upload.completed.v1.json", "share.accessed.v1.json"])
def test_the_event_schemas_are_served_next_to_the_document(meta: ModuleType, name: str) -> None:
    # Given the committed schema file (presign.events.schema writes it) / When it is asked for
    response = meta.handler(http_event("GET", f"/events/schemas/{name}"), FakeContext())

    # Then it is served as it is committed
    assert response["statusCode"] == 200, response
    served = json.loads(response["body"])
    committed = ROOT / "layers" / "presign" / "presign" / "events" / "schemas" / name
    assert served == json.loads(committed.read_text(encoding="utf-8"))
    assert served["$schema"] == "https://json-schema.org/draft/2020-12/schema", served


@pytest.mark.parametrize(
    "name", ["upload.nothing.v1.json", "..%2Fopenapi.json", "openapi.json", "__init__.py"]
)
def test_a_schema_that_is_not_published_is_a_404(meta: ModuleType, name: str) -> None:
    response = meta.handler(http_event("GET", f"/events/schemas/{name}"), FakeContext())
    assert_error(response, 404, "not_found")
