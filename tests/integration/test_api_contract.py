"""The HTTP contract of the real handlers, in-process: statuses, error shape, headers.

Signing needs no network, so these run without a storage server; tests/realserver/ has the
storage server judge the URLs themselves.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import Client
from tests.support.events import FakeContext, http_event, token
from tests.support.functions import settings_document

UPLOAD = {"filename": "cat.png", "content_type": "image/png", "size": 1234}


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def assert_error(response: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    assert response["statusCode"] == status, response["body"]
    error = body(response)["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "request_id"} and error["request_id"]
    assert response["headers"]["Cache-Control"] == "no-store"
    return error


@pytest.fixture
def uploads(make_client: Callable[..., Client]) -> Client:
    return make_client("uploads")


@pytest.fixture
def downloads(make_client: Callable[..., Client]) -> Client:
    return make_client("downloads")


def test_put_upload_grant(uploads: Client) -> None:
    # When
    response = uploads.post("/uploads", {**UPLOAD, "metadata": {"album": "cats"}})

    # Then
    assert response["statusCode"] == 201
    assert response["headers"]["Cache-Control"] == "no-store"
    grant = body(response)
    assert grant["method"] == "PUT" and grant["target"] == "main" and grant["fields"] == {}
    assert grant["key"].startswith("users/alice/") and grant["key"].endswith(f"/{grant['upload_id']}/cat.png")
    assert grant["headers"] == {
        "Content-Type": "image/png",
        "Content-Length": "1234",
        "x-amz-meta-album": "cats",
    }
    query = parse_qs(urlsplit(grant["url"]).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-SignedHeaders"] == ["content-length;content-type;host;x-amz-meta-album"]
    assert (
        "x-amz-checksum-crc32" not in grant["url"].lower()
        and "x-amz-sdk-checksum" not in grant["url"].lower()
    )
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expires_at = datetime.strptime(grant["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert (expires_at - signed_at).total_seconds() == grant["expires_in"] == int(query["X-Amz-Expires"][0])
    assert grant["expires_in"] == 900


def test_checksum_and_no_overwrite_are_signed_headers(make_client: Callable[..., Client]) -> None:
    client = make_client(
        "uploads", settings_document(upload={"content_types": ["*/*"], "no_overwrite": True})
    )
    digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    grant = body(client.post("/uploads", {**UPLOAD, "checksum_sha256": digest}))
    assert grant["headers"]["x-amz-checksum-sha256"] == digest
    assert grant["headers"]["If-None-Match"] == "*"
    signed = parse_qs(urlsplit(grant["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"if-none-match", "x-amz-checksum-sha256", "content-length", "content-type"} <= set(signed)


def test_post_upload_grant_is_a_form_with_a_policy(uploads: Client) -> None:
    grant = body(uploads.post("/uploads", {**UPLOAD, "method": "POST"}))
    assert grant["method"] == "POST" and grant["headers"] == {}
    fields = grant["fields"]
    assert fields["key"] == grant["key"] and fields["Content-Type"] == "image/png"
    policy = json.loads(__import__("base64").b64decode(fields["policy"]))
    assert ["content-length-range", 1234, 1234] in policy["conditions"]
    assert {"key": grant["key"]} in policy["conditions"]
    assert {"bucket": "presign-test"} in policy["conditions"]
    assert urlsplit(grant["url"]).path == "/presign-test"


def test_expiry_is_capped_and_truthful(uploads: Client) -> None:
    grant = body(uploads.post("/uploads", {**UPLOAD, "expires_in": 86400}))
    assert grant["expires_in"] == 3600


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({**UPLOAD, "size": 200 * 1024**2}, 413, "payload_too_large"),
        ({**UPLOAD, "content_type": "text/html"}, 415, "unsupported_content_type"),
        # Without upload records (this client's configuration) there is no multipart.
        ({**UPLOAD, "multipart": True}, 422, "multipart_unsupported"),
        ({**UPLOAD, "target": "elsewhere"}, 404, "unknown_target"),
        ({**UPLOAD, "size": -1}, 400, "invalid_request"),  # 0 is an empty file (issue 7, item 15)
        ({**UPLOAD, "size": "12"}, 400, "invalid_request"),
        ({**UPLOAD, "content_type": "image/png\r\nX-Evil: 1"}, 400, "invalid_request"),
        ({**UPLOAD, "checksum_sha256": "not base64!"}, 400, "invalid_request"),
        ({**UPLOAD, "checksum_sha256": "AAAA"}, 400, "invalid_request"),
        ({**UPLOAD, "metadata": {"Bad Key": "x"}}, 400, "invalid_request"),
        ({**UPLOAD, "metadata": {"k": "ü"}}, 400, "invalid_request"),
        ({**UPLOAD, "metadata": {"k": "x" * 3000}}, 400, "invalid_request"),
        ({**UPLOAD, "expires_in": 604801}, 400, "invalid_request"),
        ({**UPLOAD, "unexpected": 1}, 400, "invalid_request"),
        ({"filename": "a"}, 400, "invalid_request"),
        ([1, 2], 400, "invalid_request"),
    ],
)
def test_upload_refusals(uploads: Client, payload: Any, status: int, code: str) -> None:
    assert_error(uploads.post("/uploads", payload), status, code)


def test_post_cannot_promise_what_only_put_enforces(make_client: Callable[..., Client]) -> None:
    digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    plain = make_client("uploads")
    guarded = make_client(
        "uploads", settings_document(upload={"content_types": ["image/*"], "no_overwrite": True})
    )
    error = assert_error(
        plain.post("/uploads", {**UPLOAD, "method": "POST", "checksum_sha256": digest}), 422, "unprocessable"
    )
    assert "PUT" in error["message"]
    assert_error(guarded.post("/uploads", {**UPLOAD, "method": "POST"}), 422, "unprocessable")
    assert guarded.post("/uploads", UPLOAD)["statusCode"] == 201


def test_post_refused_when_target_only_allows_put(make_client: Callable[..., Client]) -> None:
    client = make_client("uploads", settings_document(upload={"methods": ["PUT"]}))
    assert_error(client.post("/uploads", {**UPLOAD, "method": "POST"}), 422, "unprocessable")


def test_malformed_json(uploads: Client) -> None:
    error = assert_error(uploads.post("/uploads", raw_body='{"filename": '), 400, "invalid_request")
    assert "JSON" in error["message"]


def test_huge_body_is_refused_before_parsing(uploads: Client) -> None:
    assert_error(uploads.post("/uploads", raw_body="[" * 2_000_000), 413, "payload_too_large")


def test_non_json_content_type(uploads: Client) -> None:
    response = uploads.post("/uploads", raw_body="filename=a", headers={"content-type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "bearer",
    [
        None,
        "",
        "not-a-jwt",
        token(ttl=-120),
        token(secret="x" * 40),
        token(aud="someone-else"),
        token(iss="https://issuer.test.evil"),
        token()[:-2],
    ],
)
def test_bad_tokens_get_401(uploads: Client, bearer: str | None) -> None:
    response = uploads.post("/uploads", UPLOAD, bearer=bearer)
    error = assert_error(response, 401, "invalid_token")
    assert response["headers"]["WWW-Authenticate"].startswith("Bearer")
    assert error["message"] == "the bearer token is missing or invalid"


def test_download_of_own_keys(downloads: Client) -> None:
    keys = ["users/alice/2026/11/22/x/a.txt", "users/alice/2026/11/22/x/b.txt"]
    response = downloads.post("/downloads", {"keys": keys, "disposition": "attachment", "filename": "ü.txt"})
    assert response["statusCode"] == 200 and response["headers"]["Cache-Control"] == "no-store"
    items = body(response)["items"]
    assert [i["key"] for i in items] == keys
    for item in items:
        query = parse_qs(urlsplit(item["url"]).query)
        assert query["response-content-disposition"] == [
            "attachment; filename=\"u.txt\"; filename*=UTF-8''%C3%BC.txt"
        ]
        assert item["expires_at"].endswith("Z")


def test_another_users_key_is_403_before_anything_is_signed(downloads: Client) -> None:
    response = downloads.post("/downloads", {"keys": "users/bob/2026/secret.pdf"})
    error = assert_error(response, 403, "forbidden")
    assert "url" not in response["body"] and "X-Amz" not in response["body"]
    assert error["message"]


def test_mixed_batch_reports_refused_items(downloads: Client) -> None:
    keys = ["users/alice/ok.txt", "users/bob/x.txt", "users/alice/../bob/x.txt", "users/alice/a\u0000"]
    items = body(downloads.post("/downloads", {"keys": keys}))["items"]
    assert "url" in items[0] and "error" not in items[0]
    assert items[1]["error"]["code"] == "forbidden" and "url" not in items[1]
    assert items[2]["error"]["code"] == "invalid_request"
    assert items[3]["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    "payload",
    [{"keys": []}, {"keys": ["a"] * 1001}, {"keys": 5}, {"keys": "users/alice/x", "disposition": "evil"}],
)
def test_download_refusals(downloads: Client, payload: Any) -> None:
    assert_error(downloads.post("/downloads", payload), 400, "invalid_request")


def test_unknown_route_is_404_in_our_shape(downloads: Client) -> None:
    assert_error(downloads.post("/nowhere", {}), 404, "not_found")


def test_unexpected_error_is_500_without_internals(uploads: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("db password is hunter2")

    monkeypatch.setattr(uploads.module.lifecycle, "begin", explode)
    response = uploads.post("/uploads", UPLOAD)
    error = assert_error(response, 500, "internal_error")
    assert "hunter2" not in response["body"] and "RuntimeError" not in response["body"]
    assert error["message"] == "internal error"


def test_logs_never_carry_tokens_or_urls(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, uploads: Client, downloads: Client
) -> None:
    bearer = token()
    grant = body(uploads.post("/uploads", UPLOAD, bearer=bearer))
    body(downloads.post("/downloads", {"keys": [grant["key"]]}, bearer=bearer))
    uploads.post("/uploads", UPLOAD, bearer=bearer + "x")
    out = capsys.readouterr()
    # Every record with all its structured keys, plus whatever reached stdout (metrics, EMF).
    logged = out.out + out.err + "\n".join(str(vars(record)) for record in caplog.records)
    assert "upload granted" in logged  # the log is really captured
    for secret in (bearer, bearer.split(".")[2], "X-Amz-Signature", grant["url"]):
        assert secret not in logged


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
upload_like = st.fixed_dictionaries(
    {},
    optional={
        "filename": st.text(max_size=50) | json_values,
        "content_type": st.sampled_from(["image/png", "text/html", "x", ""]) | json_values,
        "size": st.integers(min_value=-5, max_value=2**40) | json_values,
        "method": st.sampled_from(["PUT", "POST", "GET"]) | json_values,
        "metadata": st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3) | json_values,
        "expires_in": st.integers(min_value=-5, max_value=10**7) | json_values,
        "target": st.text(max_size=5) | json_values,
    },
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(payload=upload_like | json_values)
def test_no_input_yields_a_500(uploads: Client, payload: Any) -> None:
    response = uploads.post("/uploads", payload)
    assert response["statusCode"] in (201, 400, 404, 413, 415, 422), response["body"]
    parsed = body(response)
    if response["statusCode"] == 404:  # a target name that is well formed but not configured
        assert parsed["error"]["code"] == "unknown_target", parsed
    if response["statusCode"] != 201:
        assert set(parsed["error"]) == {"code", "message", "request_id"}


def test_authentication_comes_before_body_validation(uploads: Client) -> None:
    # A caller without a token learns nothing about the schema: 401, not 400.
    response = uploads.post("/uploads", {"surprise": True}, bearer=None)
    assert_error(response, 401, "invalid_token")
    assert "surprise" not in response["body"]


def test_a_route_missing_from_the_protection_table_fails_closed(uploads: Client) -> None:
    event_route_key = "POST /uploads/"  # what a misconfigured gateway might send
    response = uploads.module.handler(
        {**http_event("POST", "/uploads", UPLOAD, bearer=token()), "routeKey": event_route_key}, FakeContext()
    )
    assert_error(response, 401, "invalid_token")
