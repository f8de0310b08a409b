"""Hostile input to the lifecycle routes (issue 8) through the real handler, records in moto.

tests/integration/test_hostile_input.py fuzzes the older routes; these are the ones merged since:
odd upload ids in the path, any query string for GET /uploads, any Idempotency-Key, any body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.servers import MotoServer
from tests.integration.conftest import Client
from tests.support.events import FakeContext, http_event, token
from tests.support.functions import function_env, load_function, settings_document
from tests.support.lifecycle import UPLOADS_TABLE, moto_with_tables, point_at, with_records
from tests.support.memory import MemoryObjects

ROUTES = [
    ("POST", "/uploads/{upload_id}/complete"),
    ("POST", "/uploads/{upload_id}/sign"),
    ("GET", "/uploads/{upload_id}"),
    ("DELETE", "/uploads/{upload_id}"),
    ("GET", "/uploads"),
]
text = st.text(max_size=40) | st.binary(max_size=20).map(lambda b: b.decode("latin-1"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def lifecycle(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Client:
    point_at(moto, monkeypatch)
    env = function_env(with_records(settings_document()))
    env["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
    client = Client(load_function("lifecycle", monkeypatch, env))
    storage = MemoryObjects()
    monkeypatch.setattr(client.module, "objects", lambda target: storage)
    return client


def event(method: str, route: str, upload_id: str, query: dict[str, str], key: str | None, body: Any) -> Any:
    path = route.replace("{upload_id}", upload_id)
    built = http_event(method, "/x", bearer=token("alice"))
    built.update(routeKey=f"{method} {route}", rawPath=path)
    built["requestContext"].update(
        routeKey=f"{method} {route}", http={**built["requestContext"]["http"], "path": path}
    )
    if "{upload_id}" in route:
        built["pathParameters"] = {"upload_id": upload_id}
    if query:
        built["queryStringParameters"] = query
        built["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if key is not None:
        built["headers"]["idempotency-key"] = key
    if body is not None:
        built["body"] = json.dumps(body)
    return built


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    route=st.sampled_from(ROUTES),
    upload_id=text,
    query=st.dictionaries(st.sampled_from(["status", "limit", "cursor", "x"]), text, max_size=3),
    key=st.none() | text,
    body=st.none() | json_values,
)
def test_no_lifecycle_input_yields_a_500(
    lifecycle: Client,
    route: tuple[str, str],
    upload_id: str,
    query: dict[str, str],
    key: str | None,
    body: Any,
) -> None:
    method, path = route
    response = lifecycle.module.handler(event(method, path, upload_id, query, key, body), FakeContext())
    assert response["statusCode"] < 500, (route, upload_id, query, key, body, response["body"])
    if response["statusCode"] >= 400:
        assert set(json.loads(response["body"])["error"]) == {"code", "message", "request_id"}, response
