"""Every URL shape the service issues, used against SeaweedFS exactly as a client would.

SeaweedFS runs with an identities file, so it verifies SigV4 signatures, expiry and POST
policies; each refusal below is its decision, not ours.
"""

import base64
import hashlib
import http.client
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from tests.integration.conftest import Client
from tests.support.events import token

pytestmark = pytest.mark.realserver
CONTENT = "héllo, wörld\n".encode() * 20


def grant_for(client: Client, **overrides: Any) -> dict[str, Any]:
    payload = {"filename": "notes ü.txt", "content_type": "text/plain", "size": len(CONTENT), **overrides}
    response = client.post("/uploads", payload)
    assert response["statusCode"] == 201, response["body"]
    return json.loads(response["body"])


def download_url(client: Client, key: str, **extra: Any) -> str:
    response = client.post("/downloads", {"keys": [key], **extra})
    assert response["statusCode"] == 200, response["body"]
    return str(json.loads(response["body"])["items"][0]["url"])


def put(grant: dict[str, Any], data: bytes, **header_overrides: str) -> requests.Response:
    headers = {**grant["headers"], **header_overrides}
    return requests.put(grant["url"], data=data, headers=headers, timeout=10)


def post_form(grant: dict[str, Any], data: bytes, **field_overrides: str) -> requests.Response:
    fields = {**grant["fields"], **field_overrides}
    return requests.post(grant["url"], data=fields, files={"file": ("upload.bin", data)}, timeout=10)


@pytest.fixture
def uploads(real_client: Callable[..., Client]) -> Client:
    return real_client("uploads", upload={"content_types": ["text/*", "image/*"], "max_size": 4096})


@pytest.fixture
def downloads(real_client: Callable[..., Client]) -> Client:
    return real_client("downloads")


def test_put_then_get_returns_the_same_bytes(uploads: Client, downloads: Client) -> None:
    # Given
    grant = grant_for(uploads, metadata={"album": "summer"})

    # When
    stored = put(grant, CONTENT)
    fetched = requests.get(download_url(downloads, grant["key"]), timeout=10)

    # Then
    assert stored.status_code == 200, stored.text
    assert fetched.status_code == 200 and fetched.content == CONTENT
    assert fetched.headers["x-amz-meta-album"] == "summer"


def test_get_with_disposition_and_content_type(uploads: Client, downloads: Client) -> None:
    grant = grant_for(uploads)
    assert put(grant, CONTENT).status_code == 200
    url = download_url(
        downloads,
        grant["key"],
        disposition="attachment",
        filename="Grüße.txt",
        # An override must be a passive type the target accepts for uploads (issue 7, item 1).
        content_type="text/plain; charset=utf-8",
    )
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == CONTENT
    assert (
        fetched.headers["Content-Disposition"]
        == ("attachment; filename=\"Gruße.txt\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt")
        or "filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt" in fetched.headers["Content-Disposition"]
    )
    assert fetched.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_post_form_upload_then_get(uploads: Client, downloads: Client) -> None:
    grant = grant_for(uploads, method="POST", metadata={"k": "v"})
    response = post_form(grant, CONTENT)
    assert response.status_code in (200, 201, 204), response.text
    fetched = requests.get(download_url(downloads, grant["key"]), timeout=10)
    assert fetched.content == CONTENT
    assert fetched.headers["x-amz-meta-k"] == "v"


def test_checksum_bound_put(uploads: Client, downloads: Client) -> None:
    digest = base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()
    grant = grant_for(uploads, checksum_sha256=digest)
    assert put(grant, CONTENT).status_code == 200
    assert requests.get(download_url(downloads, grant["key"]), timeout=10).content == CONTENT


# -- refusals: each is the storage server's decision ------------------------------------


def test_tampered_signature_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads)
    parts = urlsplit(grant["url"])
    query = dict(parse_qsl(parts.query))
    signature = query["X-Amz-Signature"]
    query["X-Amz-Signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]
    tampered = {**grant, "url": urlunsplit(parts._replace(query=urlencode(query)))}
    assert put(tampered, CONTENT).status_code == 403


def test_signature_for_another_key_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads)
    moved = {**grant, "url": grant["url"].replace("/users/alice/", "/users/bob/", 1)}
    assert put(moved, CONTENT).status_code == 403


def test_expired_url_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads, expires_in=1)
    time.sleep(2.2)
    assert put(grant, CONTENT).status_code == 403


def test_different_content_type_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads)
    assert put(grant, CONTENT, **{"Content-Type": "text/html"}).status_code == 403


def test_different_content_length_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads)
    bigger = CONTENT + b"!"
    # requests sends the true Content-Length of the body; the URL signed the declared one.
    headers = {k: v for k, v in grant["headers"].items() if k != "Content-Length"}
    response = requests.put(grant["url"], data=bigger, headers=headers, timeout=10)
    assert response.status_code == 403


def test_missing_signed_metadata_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads, metadata={"owner": "alice"})
    headers = {k: v for k, v in grant["headers"].items() if k != "x-amz-meta-owner"}
    assert requests.put(grant["url"], data=CONTENT, headers=headers, timeout=10).status_code == 403


def test_post_over_declared_size_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads, method="POST")
    response = post_form(grant, CONTENT + b"x" * 100)
    assert response.status_code in (400, 403), response.text


def test_post_to_another_key_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads, method="POST")
    other = grant["key"].replace("users/alice/", "users/bob/")
    assert post_form(grant, CONTENT, key=other).status_code == 403


def test_post_with_another_content_type_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads, method="POST")
    assert post_form(grant, CONTENT, **{"Content-Type": "text/html"}).status_code == 403


def test_post_with_tampered_policy_is_refused(uploads: Client) -> None:
    grant = grant_for(uploads, method="POST")
    policy = json.loads(base64.b64decode(grant["fields"]["policy"]))
    policy["conditions"] = [
        c for c in policy["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")
    ]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    assert post_form(grant, CONTENT + b"x" * 100, policy=forged).status_code == 403


def test_download_url_cannot_be_reused_for_another_key(uploads: Client, downloads: Client) -> None:
    grant = grant_for(uploads)
    assert put(grant, CONTENT).status_code == 200
    url = download_url(downloads, grant["key"])
    assert (
        requests.get(url.replace(grant["upload_id"], "A" + grant["upload_id"][1:]), timeout=10).status_code
        == 403
    )


def test_another_users_key_gets_403_from_our_api(downloads: Client) -> None:
    response = downloads.post(
        "/downloads", {"keys": ["users/bob/2026/11/22/x/secret.txt"]}, bearer=token("alice")
    )
    assert response["statusCode"] == 403
    assert json.loads(response["body"])["error"]["code"] == "forbidden"


def test_no_overwrite_target_refuses_a_second_put(real_client: Callable[..., Client]) -> None:
    client = real_client("uploads", upload={"content_types": ["text/*"], "no_overwrite": True})
    grant = grant_for(client)
    assert grant["headers"]["If-None-Match"] == "*"
    assert put(grant, CONTENT).status_code == 200
    # The same URL replayed: the object exists now, so the signed precondition fails.
    assert put(grant, CONTENT).status_code == 412


def test_checksum_mismatch_is_refused(uploads: Client) -> None:
    digest = base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()
    grant = grant_for(uploads, checksum_sha256=digest)
    same_length_other_bytes = CONTENT[:-1] + b"?"
    assert put(grant, same_length_other_bytes).status_code == 400


def via_loopback(
    method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """Send to 127.0.0.1 whatever host the URL names ({bucket}.localhost does not resolve here),
    with that host in the Host header, which is what the signature covers."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    try:
        connection.request(
            method,
            f"{parts.path}?{parts.query}",
            body=body,
            headers={"Host": parts.netloc, **(headers or {})},
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_virtual_hosted_urls_are_accepted_and_still_bound(
    real_client: Callable[..., Client], seaweed: Any
) -> None:
    # Given: a target addressed virtual-hosted style, {bucket}.localhost:{port}
    endpoint = f"http://localhost:{seaweed.s3_port}"
    uploads = real_client(
        "uploads", endpoint_url=endpoint, addressing_style="virtual", upload={"content_types": ["text/*"]}
    )
    downloads = real_client("downloads", endpoint_url=endpoint, addressing_style="virtual")
    grant = grant_for(uploads)
    assert urlsplit(grant["url"]).netloc == f"presign-real.localhost:{seaweed.s3_port}"

    # When / Then: the exact headers work, another type does not, and GET returns the bytes
    assert (
        via_loopback("PUT", grant["url"], CONTENT, {**grant["headers"], "Content-Type": "text/html"})[0]
        == 403
    )
    assert via_loopback("PUT", grant["url"], CONTENT, grant["headers"])[0] == 200
    status, body = via_loopback("GET", download_url(downloads, grant["key"]))
    assert status == 200 and body == CONTENT
    # The host named the bucket: the object is in presign-real, as a path-style GET shows.
    path_style = real_client("downloads")
    assert requests.get(download_url(path_style, grant["key"]), timeout=10).content == CONTENT
