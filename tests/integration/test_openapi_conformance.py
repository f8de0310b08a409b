"""The OpenAPI document says what the handlers really send: every status, body and header of the
responses below is checked against the committed document (what GET /openapi.json serves)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from local.cfn import load_template
from local.gateway.template import TemplateResolver
from local.servers import MotoServer, aws_env
from local.tables import STACK_NAME, create_tables
from presign.adapters.dynamodb import table_client
from tests.integration.conftest import Client
from tests.support.events import FakeContext, http_event, token
from tests.support.functions import ROOT, load_function, settings_document

DOCUMENT: dict[str, Any] = json.loads(
    (ROOT / "layers" / "presign" / "presign" / "openapi.json").read_text(encoding="utf-8")
)
UPLOAD = {"filename": "cat.png", "content_type": "image/png", "size": 1234}
TABLE = f"{STACK_NAME}-RateLimitTable"


def documented(method: str, path: str, status: int) -> dict[str, Any]:
    responses = DOCUMENT["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, documented: {sorted(responses)}"
    return dict(responses[str(status)])


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    # The document's $refs point into its own components.
    return Draft202012Validator({**schema, "components": DOCUMENT["components"]})


def _header_value(value: str, schema: dict[str, Any]) -> Any:
    return int(value) if schema.get("type") == "integer" and value.lstrip("-").isdigit() else value


def assert_conforms(method: str, path: str, response: dict[str, Any]) -> None:
    status = response["statusCode"]
    spec = documented(method, path, status)
    headers = {name.lower(): value for name, value in response["headers"].items()}
    # The body
    content = spec.get("content", {})
    assert headers["content-type"] in content, (status, headers["content-type"], sorted(content))
    body = json.loads(response["body"])
    problems = [e.message for e in _validator(content[headers["content-type"]]["schema"]).iter_errors(body)]
    assert not problems, (method, path, status, problems, body)
    # The headers: the required ones are there, and every documented one present has its form
    for name, header in spec.get("headers", {}).items():
        value = headers.get(name.lower())
        if value is None:
            assert not header.get("required"), f"{method} {path} {status}: no {name} header in {headers}"
            continue
        problems = [
            e.message
            for e in _validator(header["schema"]).iter_errors(_header_value(value, header["schema"]))
        ]
        assert not problems, (method, path, status, name, value, problems)


@pytest.fixture
def uploads(make_client: Callable[..., Client]) -> Client:
    return make_client(
        "uploads", settings_document(upload={"content_types": ["image/*"], "methods": ["PUT"]})
    )


@pytest.fixture
def downloads(make_client: Callable[..., Client]) -> Client:
    return make_client("downloads")


def test_the_public_routes_answer_what_the_document_says(monkeypatch: pytest.MonkeyPatch) -> None:
    meta = load_function("meta", monkeypatch, {})
    for path in ("/health", "/openapi.json"):
        response = meta.handler(http_event("GET", path), FakeContext())
        assert_conforms("GET", path, response)


def test_health_and_the_document_are_objects_not_strings() -> None:
    for path in ("/health", "/openapi.json"):
        schema = documented("GET", path, 200)["content"]["application/json"]["schema"]
        assert schema["type"] == "object", (path, schema)
    assert documented("GET", "/health", 200)["content"]["application/json"]["schema"]["required"] == [
        "status"
    ]


@pytest.mark.parametrize(
    ("payload", "bearer", "status"),
    [
        (UPLOAD, "default", 201),
        ({**UPLOAD, "size": "12"}, "default", 400),
        (UPLOAD, None, 401),
        (UPLOAD, token(ttl=-120), 401),
        ({**UPLOAD, "size": 200 * 1024**2}, "default", 413),
        ({**UPLOAD, "content_type": "text/html"}, "default", 415),
        ({**UPLOAD, "method": "POST"}, "default", 422),
    ],
)
def test_upload_answers_conform(uploads: Client, payload: Any, bearer: str | None, status: int) -> None:
    response = uploads.post("/uploads", payload, bearer=bearer)
    assert response["statusCode"] == status, response["body"]
    assert_conforms("POST", "/uploads", response)


def test_a_missing_scope_conforms(make_client: Callable[..., Client]) -> None:
    document = settings_document()
    document["auth"]["required_scopes"] = {"download": ["files:read"]}
    client = make_client("downloads", document)
    response = client.post("/downloads", {"keys": "users/alice/a"})
    assert response["statusCode"] == 403, response["body"]
    assert_conforms("POST", "/downloads", response)


@pytest.mark.parametrize(
    ("payload", "kw", "status"),
    [
        ({"keys": ["users/alice/a", "users/bob/b"]}, {}, 200),
        ({"keys": "users/bob/b"}, {}, 403),
        ({"keys": []}, {}, 400),
        (None, {"raw_body": "keys=a", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415),
        (None, {"raw_body": "[" * 300_000}, 413),
    ],
)
def test_download_answers_conform(downloads: Client, payload: Any, kw: dict[str, Any], status: int) -> None:
    response = downloads.post("/downloads", payload, **kw)
    assert response["statusCode"] == status, response["body"]
    assert_conforms("POST", "/downloads", response)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        doc = load_template()
        create_tables(doc, TemplateResolver(doc), server.endpoint_url)
        yield server


def _limited_client(
    endpoint: str,
    make_client: Callable[..., Client],
    monkeypatch: pytest.MonkeyPatch,
    rate_limits: dict[str, Any],
) -> Client:
    for name, value in aws_env(endpoint).items():
        monkeypatch.setenv(name, value)
    table_client.cache_clear()
    document = settings_document()
    document["rate_limits"] = rate_limits
    return make_client("uploads", document, PRESIGN_RATE_LIMIT_TABLE=TABLE)


def test_counted_answers_and_429_conform(
    moto: MotoServer, make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _limited_client(
        moto.endpoint_url,
        make_client,
        monkeypatch,
        {"actions": {"upload": {"rate": 1, "period": 3600, "burst": 1}}},
    )
    bearer = token("conformance")
    try:
        granted, refused = (client.post("/uploads", UPLOAD, bearer=bearer) for _ in range(2))
    finally:
        table_client.cache_clear()
    assert (granted["statusCode"], refused["statusCode"]) == (201, 429), refused["body"]
    assert "RateLimit-Remaining" in granted["headers"], granted["headers"]
    assert_conforms("POST", "/uploads", granted)
    assert_conforms("POST", "/uploads", refused)


def test_503_conforms(make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    client = _limited_client(closed, make_client, monkeypatch, {"failure_mode": "closed"})
    try:
        response = client.post("/uploads", UPLOAD)
    finally:
        table_client.cache_clear()
    assert response["statusCode"] == 503, response["body"]
    assert_conforms("POST", "/uploads", response)


def test_every_response_of_the_api_documents_cache_control() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                header = response.get("headers", {}).get("Cache-Control")
                assert header and header["required"], (method, path, status, response.get("headers"))


@pytest.mark.parametrize("operation", [("POST", "/uploads", 201), ("POST", "/downloads", 200)])
def test_the_headers_a_client_acts_on_are_documented(operation: tuple[str, str, int]) -> None:
    method, path, success = operation
    rate_limit = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}

    def headers(status: int) -> dict[str, bool]:
        return {
            name: bool(h.get("required"))
            for name, h in documented(method, path, status).get("headers", {}).items()
        }

    # Limits may be off, so a success may come without them; a 429 always has them all.
    assert {name: headers(success).get(name) for name in rate_limit} == dict.fromkeys(rate_limit, False)
    assert {name: headers(429).get(name) for name in (*rate_limit, "Retry-After")} == dict.fromkeys(
        (*rate_limit, "Retry-After"), True
    )
    assert headers(503).get("Retry-After") is True
    assert headers(401).get("WWW-Authenticate") is True
    # Only a missing scope carries a challenge on a 403, a key outside the prefix does not.
    assert headers(403).get("WWW-Authenticate") is False


def test_answers_without_a_body_document_none() -> None:
    # Given the responses that never carry a body: 204 (DELETE) and the redirects (GET/POST /s/...)
    bodiless = [
        (method.upper(), path, status, response)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if status == "204" or status.startswith("3")
    ]
    # Then they include DELETE /uploads/{id}, DELETE /shares/{id} and both redirects ...
    assert {(m, p, s) for m, p, s, _ in bodiless} >= {
        ("DELETE", "/uploads/{upload_id}", "204"),
        ("DELETE", "/shares/{share_id}", "204"),
        ("GET", "/s/{share_id}", "302"),
        ("POST", "/s/{share_id}", "302"),
    }, bodiless
    # ... and none of them documents a body (a client generator would wait for a JSON one)
    documented = [(m, p, s, r["content"]) for m, p, s, r in bodiless if "content" in r]
    assert documented == [], documented
