"""Inputs a hostile or careless client (or invoker) sends, through the real handlers.

Whatever arrives, the answer is a 4xx in the contract's error shape, never a 500: bodies that are
not UTF-8, form and multipart bodies, lone surrogates, JSON nested a hundred thousand levels deep,
and direct invocations whose event is not what API Gateway sends.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.servers import MotoServer
from tests.integration.conftest import Client
from tests.support.events import AUDIENCE, ISSUER, FakeContext, http_event, token
from tests.support.functions import settings_document
from tests.support.shares import BUCKET, Stack, make_stack, moto_with_bucket, s3, share_document

UPLOAD = {"filename": "cat.png", "content_type": "image/png", "size": 1234}
DOWNLOAD = {"keys": "users/alice/2026/a.txt"}
# A real multipart body as `curl -F keys=users/alice/a` sends it.
BOUNDARY = "------------------------d74496d66958873e"


def multipart(value: bytes) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="keys"\r\n\r\n'.encode()
        + value
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def call(client: Client, event: dict[str, Any]) -> dict[str, Any]:
    response = client.module.handler(event, FakeContext())
    assert isinstance(response, dict) and "statusCode" in response, response
    return response


def event_for(
    path: str,
    *,
    body: bytes | str | None = None,
    content_type: str | None = "application/json",
    base64_encoded: bool = False,
    bearer: str | None = "default",
) -> dict[str, Any]:
    """The event API Gateway sends for these bytes: text as is, anything else base64-encoded."""
    event = http_event("POST", path, bearer=token() if bearer == "default" else bearer)
    del event["headers"]["content-type"]
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    if isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True
    else:
        event["body"] = body
        event["isBase64Encoded"] = base64_encoded
    return event


def assert_error(response: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    assert response["statusCode"] == status, (response["statusCode"], response["body"])
    assert response["headers"]["Cache-Control"] == "no-store", response["headers"]
    assert response["headers"]["Content-Type"] == "application/json", response["headers"]
    error = json.loads(response["body"])["error"]
    assert error["code"] == code, error
    assert set(error) == {"code", "message", "request_id"}, error
    return dict(error)


@pytest.fixture
def uploads(make_client: Callable[..., Client]) -> Client:
    return make_client("uploads")


@pytest.fixture
def downloads(make_client: Callable[..., Client]) -> Client:
    return make_client("downloads")


@pytest.fixture(params=["uploads", "downloads"])
def any_function(request: pytest.FixtureRequest, make_client: Callable[..., Client]) -> tuple[Client, str]:
    name = str(request.param)
    return make_client(name), f"/{name}"


# --------------------------------------------------------------------------------- bytes and text


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xff", id="0xff"),
        pytest.param('{"keys": "users/alice/é"}'.encode("latin-1"), id="latin-1-json"),
        pytest.param(b'{"keys": "users/alice/\xc3"}', id="truncated-utf8"),
        pytest.param(b'{"keys": "users/alice/\xed\xa0\x80"}', id="utf8-encoded-surrogate"),
        pytest.param('{"keys": "users/alice/a"}'.encode("utf-16"), id="utf-16-json"),
    ],
)
def test_a_body_that_is_not_utf8_is_400(any_function: tuple[Client, str], raw: bytes) -> None:
    client, path = any_function
    # Given bytes that are not UTF-8, which API Gateway hands over base64-encoded
    # When
    response = call(client, event_for(path, body=raw))
    # Then
    error = assert_error(response, 400, "invalid_request")
    assert "UTF-8" in error["message"], error


def test_a_text_body_with_a_lone_surrogate_character_is_400(any_function: tuple[Client, str]) -> None:
    # A direct invocation can put any str in the event, unpaired surrogates included.
    client, path = any_function
    response = call(client, event_for(path, body='{"keys": "users/alice/\udcff"}'))
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/downloads", r'{"keys": "users/alice/a\ud800"}'),
        ("/downloads", r'{"keys": ["users/alice/ok", "users/alice/\udfff.txt"]}'),
        ("/downloads", r'{"keys": "users/alice/a", "filename": "\ud83d.txt", "disposition": "attachment"}'),
        ("/uploads", r'{"filename": "\ud800.png", "content_type": "image/png", "size": 1}'),
        ("/uploads", r'{"filename": "a.png", "content_type": "image/png", "size": 1, "\ud800": 1}'),
    ],
)
def test_an_escaped_lone_surrogate_is_400(make_client: Callable[..., Client], path: str, body: str) -> None:
    # Given valid UTF-8 JSON whose escapes decode to an unpaired surrogate, which no URL can carry
    client = make_client(path.strip("/"))
    # When
    response = call(client, event_for(path, body=body))
    # Then
    error = assert_error(response, 400, "invalid_request")
    assert "surrogate" in error["message"], error


def test_an_escaped_surrogate_pair_is_a_character_and_fine(downloads: Client) -> None:
    response = call(downloads, event_for("/downloads", body=r'{"keys": "users/alice/\ud83d\ude00.txt"}'))
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["items"][0]["key"] == "users/alice/\U0001f600.txt"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="100k-arrays"),
        pytest.param('{"keys": ' + "[" * 60_000 + "]" * 60_000 + "}", id="keys-60k-deep"),
        pytest.param('{"a":' * 40_000 + "1" + "}" * 40_000, id="40k-objects"),
        pytest.param('{"keys": ' + "[" * 500 + '"x"' + "]" * 500 + "}", id="500-deep"),
    ],
)
def test_deeply_nested_json_is_400(any_function: tuple[Client, str], body: str) -> None:
    client, path = any_function
    # Given a body under the 256 KB limit, nested far deeper than any request of ours
    assert len(body.encode()) <= 262_144
    # When
    response = call(client, event_for(path, body=body))
    # Then
    error = assert_error(response, 400, "invalid_request")
    assert "nested" in error["message"], error


def test_deeply_nested_json_in_base64_is_400(downloads: Client) -> None:
    response = call(downloads, event_for("/downloads", body=("[" * 90_000 + "]" * 90_000).encode()))
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("body", ['{"size": NaN}', '{"size": Infinity}', '{"size": -Infinity}'])
def test_json_with_non_json_constants_is_400(uploads: Client, body: str) -> None:
    error = assert_error(call(uploads, event_for("/uploads", body=body)), 400, "invalid_request")
    assert "JSON" in error["message"], error


def test_a_body_that_is_not_base64_although_flagged_so_is_400(downloads: Client) -> None:
    event = event_for("/downloads", body="not base64!", base64_encoded=True)
    assert_error(call(downloads, event), 400, "invalid_request")


def test_a_base64_json_body_is_served(downloads: Client) -> None:
    # Given JSON that arrives base64-encoded (API Gateway does so for some clients' bodies)
    response = call(downloads, event_for("/downloads", body=json.dumps(DOWNLOAD).encode()))
    assert response["statusCode"] == 200, response["body"]


def test_the_body_limit_counts_bytes_not_characters(uploads: Client) -> None:
    # Given 100 000 characters that are 300 000 bytes in UTF-8: over the 256 KB limit
    body = json.dumps({**UPLOAD, "filename": "€" * 100_000}, ensure_ascii=False)
    assert len(body) < 262_144 < len(body.encode())
    # Then
    assert_error(call(uploads, event_for("/uploads", body=body)), 413, "payload_too_large")


# ------------------------------------------------------------------------------------- media types


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        # curl --data-urlencode 'keys=users/alice/a' (and -d, the default form encoding)
        pytest.param("application/x-www-form-urlencoded", "keys=users%2Falice%2Fa", id="urlencoded"),
        # curl -F keys=users/alice/a
        pytest.param(
            f"multipart/form-data; boundary={BOUNDARY}", multipart(b"users/alice/a"), id="multipart"
        ),
        pytest.param("multipart/form-data", "--x\r\n\r\n--x--\r\n", id="multipart-without-boundary"),
        pytest.param(
            f"multipart/form-data; boundary={BOUNDARY}", multipart(b"\xff\xfe"), id="multipart-not-utf8"
        ),
        pytest.param("text/plain", json.dumps(DOWNLOAD), id="json-as-text"),
        pytest.param("application/jsonx", json.dumps(DOWNLOAD), id="jsonx"),
        pytest.param("application/json-patch+json", json.dumps(DOWNLOAD), id="json-patch"),
        pytest.param("application/json, text/plain", json.dumps(DOWNLOAD), id="two-types-joined"),
        pytest.param("application/json; charset=iso-8859-1", json.dumps(DOWNLOAD), id="latin-1-charset"),
        pytest.param("", json.dumps(DOWNLOAD), id="empty-content-type"),
        pytest.param(None, json.dumps(DOWNLOAD), id="no-content-type"),
    ],
)
def test_only_json_reaches_a_handler(
    any_function: tuple[Client, str], content_type: str | None, body: str | bytes
) -> None:
    client, path = any_function
    # When
    response = call(client, event_for(path, body=body, content_type=content_type))
    # Then: nothing is signed for a body that is not application/json
    error = assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"], error
    assert "X-Amz" not in response["body"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON", 'application/json;charset="UTF-8"',
     "application/json ; charset=utf8"],
)  # fmt: skip
def test_json_with_parameters_and_any_case_is_served(downloads: Client, content_type: str) -> None:
    response = call(downloads, event_for("/downloads", body=json.dumps(DOWNLOAD), content_type=content_type))
    assert response["statusCode"] == 200, response["body"]


@pytest.mark.parametrize("content_type", [None, "application/json"])
@pytest.mark.parametrize("body", [None, ""])
def test_an_empty_body_is_a_missing_body_not_a_media_type_problem(
    uploads: Client, content_type: str | None, body: str | None
) -> None:
    # Decided: without a body there is nothing to be of the wrong type, so a missing
    # Content-Type is fine and the request is refused for what it lacks: its body (400).
    response = call(uploads, event_for("/uploads", body=body, content_type=content_type))
    error = assert_error(response, 400, "invalid_request")
    assert "body" in error["message"], error


def test_an_empty_body_declared_as_another_type_is_415(uploads: Client) -> None:
    response = call(uploads, event_for("/uploads", body="", content_type="text/plain"))
    assert_error(response, 415, "unsupported_media_type")


def test_no_token_is_401_whatever_the_body(uploads: Client) -> None:
    # Authentication comes first: an anonymous caller makes us parse nothing.
    response = call(uploads, event_for("/uploads", body=b"\xff", content_type="text/plain", bearer=None))
    assert_error(response, 401, "invalid_token")


# ---------------------------------------------------------------------------- malformed invocations


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(event: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node: Any = event
        for key in parents:
            node = node[key]
        node[leaf] = value

    return mutate


MALFORMED: dict[str, Callable[[dict[str, Any]], None]] = {
    "requestContext-a-string": _set("requestContext", "x"),
    "requestContext-missing": lambda e: e.pop("requestContext"),
    "http-null": _set("requestContext.http", None),
    "method-a-number": _set("requestContext.http.method", 5),
    "requestId-a-list": _set("requestContext.requestId", ["x"]),
    "requestId-missing": lambda e: e["requestContext"].pop("requestId"),  # every log line reads it
    "stage-a-number": _set("requestContext.stage", 1),
    "stage-missing": lambda e: e["requestContext"].pop("stage"),  # Powertools reads it for the path
    "authorizer-a-list": _set("requestContext.authorizer", [1]),
    "authorizer-a-string": _set("requestContext.authorizer", "x"),
    "jwt-a-number": _set("requestContext.authorizer", {"jwt": 5}),
    "claims-a-number": _set("requestContext.authorizer", {"jwt": {"claims": 5, "scopes": None}}),
    "claims-a-list": _set("requestContext.authorizer", {"jwt": {"claims": ["sub"], "scopes": None}}),
    "claim-not-a-string": _set("requestContext.authorizer", {"jwt": {"claims": {"sub": 5}, "scopes": None}}),
    "scopes-a-string": _set("requestContext.authorizer", {"jwt": {"claims": {}, "scopes": "a b"}}),
    "headers-a-list": _set("headers", ["authorization"]),
    "headers-a-string": _set("headers", "authorization: x"),
    "header-value-a-number": _set("headers.authorization", 5),
    "header-value-null": _set("headers.authorization", None),
    "body-a-number": _set("body", 5),
    "body-an-object": _set("body", {"keys": "users/alice/a"}),
    "isBase64Encoded-a-string": _set("isBase64Encoded", "yes"),
    "routeKey-a-number": _set("routeKey", 5),
    "rawPath-a-number": _set("rawPath", 5),
    "rawPath-missing": lambda e: e.pop("rawPath"),
    "rawQueryString-a-list": _set("rawQueryString", []),
    "queryStringParameters-a-list": _set("queryStringParameters", ["a"]),
    "query-value-a-number": _set("queryStringParameters", {"a": 1}),
    "pathParameters-a-string": _set("pathParameters", "x"),
    "cookies-a-string": _set("cookies", "a=1"),
    "cookies-of-numbers": _set("cookies", [1]),
    "stageVariables-a-list": _set("stageVariables", [1]),
}


@pytest.mark.parametrize("mutation", list(MALFORMED), ids=list(MALFORMED))
@pytest.mark.parametrize("mode", ["hs256", "gateway"])
def test_a_malformed_invocation_is_400(make_client: Callable[..., Client], mutation: str, mode: str) -> None:
    # Given a direct invocation whose event is not what API Gateway would send
    document = settings_document()
    if mode == "gateway":
        document["auth"] = {"mode": "gateway", "issuer": ISSUER, "audience": AUDIENCE}
    client = make_client("downloads", document)
    event = http_event("POST", "/downloads", DOWNLOAD, bearer=token())
    MALFORMED[mutation](event)
    # When
    response = call(client, event)
    # Then
    error = assert_error(response, 400, "invalid_request")
    assert "API Gateway" in error["message"], error


@pytest.mark.parametrize("event", [[], "x", 5, None, {}], ids=["list", "str", "int", "None", "empty"])
def test_an_event_that_is_not_an_object_is_400(downloads: Client, event: Any) -> None:
    error = assert_error(call(downloads, event), 400, "invalid_request")
    # No request id in such an event: the Lambda one, which the logs carry too.
    assert error["request_id"] == FakeContext.aws_request_id, error


def test_null_headers_are_no_headers(downloads: Client) -> None:
    # A request without headers at all: no token, so 401 (not a crash and not a 400).
    event = http_event("POST", "/downloads", DOWNLOAD, bearer=token())
    event["headers"] = None
    assert_error(call(downloads, event), 401, "invalid_token")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    return found


BASE_EVENT = http_event("POST", "/downloads", DOWNLOAD, bearer="placeholder")
EVENT_PATHS = [p for p in _paths(BASE_EVENT) if p]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    path=st.sampled_from(EVENT_PATHS),
    value=json_values | st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
    content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data", None]),
)
def test_no_event_mutation_yields_a_500(
    downloads: Client, path: tuple[Any, ...], value: Any, content_type: str | None
) -> None:
    # Given a valid request with any one field of its event replaced by anything at all
    event = copy.deepcopy(BASE_EVENT)
    event["headers"]["authorization"] = f"Bearer {token()}"
    if content_type is None:
        del event["headers"]["content-type"]
    else:
        event["headers"]["content-type"] = content_type
    node = event
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    # When
    response = call(downloads, event)
    # Then
    assert response["statusCode"] < 500, (path, value, response["body"])
    if response["statusCode"] >= 400:
        assert set(json.loads(response["body"])["error"]) == {"code", "message", "request_id"}


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode),
    content_type=st.sampled_from(
        ["application/json", "application/json; charset=utf-8", "multipart/form-data"]
    ),
)
def test_no_body_yields_a_500(uploads: Client, raw: bytes, content_type: str) -> None:
    response = call(uploads, event_for("/uploads", body=raw, content_type=content_type))
    assert response["statusCode"] in (201, 400, 413, 415, 422), (raw, response["body"])


# ------------------------------------------------- fields one function reads (issue 17): 400, not 500


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_bucket()


@pytest.fixture
def shares_stack(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Stack:
    # No public_base_url: the owner's function builds the link on the request's domainName.
    document = share_document(moto.endpoint_url)
    del document["shares"]["public_base_url"]
    return make_stack(moto, monkeypatch, document)


WITHOUT = {
    "missing": ...,
    "null": None,
    "a-number": 5,
    "empty": "",
}


def _without(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, leaf = path.split(".")
    node = event
    for name in parents:
        node = node[name]
    if value is ...:
        node.pop(leaf)
    else:
        node[leaf] = value
    return event


@pytest.mark.parametrize("value", list(WITHOUT.values()), ids=list(WITHOUT))
def test_a_link_visit_without_a_source_ip_is_400(shares_stack: Stack, moto: MotoServer, value: Any) -> None:
    # Given a live share link (the public function counts its visitors by sourceIp)
    alice = shares_stack.owner()
    key = alice.key()
    s3(moto).put_object(Bucket=BUCKET, Key=key, Body=b"%PDF", ContentType="application/pdf")
    share_id = alice.share(key)["share_id"]
    event = http_event("GET", f"/s/{share_id}", route="/s/{share_id}")
    del event["headers"]["content-type"]
    assert call(shares_stack.links_fn, copy.deepcopy(event))["statusCode"] == 302  # as API Gateway sends it

    # When the event has no usable requestContext.http.sourceIp
    response = call(shares_stack.links_fn, _without(event, "requestContext.http.sourceIp", value))

    # Then it is refused as not API Gateway's, never a 500 nor a visit of an unknown client
    error = assert_error(response, 400, "invalid_request")
    assert "requestContext.http.sourceIp" in error["message"], error


@pytest.mark.parametrize("value", list(WITHOUT.values()), ids=list(WITHOUT))
def test_a_share_creation_without_a_domain_name_is_400(
    shares_stack: Stack, moto: MotoServer, value: Any
) -> None:
    # Given an object alice may share, and a deployment that builds links on the API's own host
    alice = shares_stack.owner()
    key = alice.key()
    s3(moto).put_object(Bucket=BUCKET, Key=key, Body=b"%PDF", ContentType="application/pdf")
    event = http_event("POST", "/shares", {"key": key}, bearer=alice.bearer)
    event["requestContext"]["domainName"] = "api.example.test"
    made = call(shares_stack.owner_fn, copy.deepcopy(event))
    assert made["statusCode"] == 201 and json.loads(made["body"])["url"].startswith(
        "https://api.example.test/s/"
    )

    # When the event has no usable requestContext.domainName
    response = call(shares_stack.owner_fn, _without(event, "requestContext.domainName", value))

    # Then 400, before anything is spent or written (never a 500, nor a link on "localhost")
    error = assert_error(response, 400, "invalid_request")
    assert "requestContext.domainName" in error["message"], error
