"""The storage origin never serves active content, and what a downloader receives is decided by the
target's policy, not by whoever uploaded the object (issue 7, items 1, 2, 3, 15, 16 and 17).

SeaweedFS runs with an identities file, so every 200 and 403 below is its own verdict. GETs go
through http.client so that nothing decodes a body the server claims is gzip.
"""

import http.client
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from local.servers import SeaweedFS
from tests.integration.conftest import Client
from tests.realserver.conftest import BUCKET

pytestmark = pytest.mark.realserver

HTML = b"<!doctype html><script>alert(document.domain)</script>\n"
HOSTILE_HEADERS = {
    "Cache-Control": "public, max-age=31536000",
    "Content-Disposition": "inline",
    "Content-Encoding": "gzip",
}
POLICY_CACHE_CONTROL = "private, no-store"


def answer(client: Client, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client.post(path, payload)
    return response["statusCode"], json.loads(response["body"])


def grant_for(client: Client, data: bytes, **fields: Any) -> dict[str, Any]:
    payload = {"filename": "page.txt", "content_type": "text/plain", "size": len(data), **fields}
    status, body = answer(client, "/uploads", payload)
    assert status == 201, body
    return body


def download_url(client: Client, key: str, **fields: Any) -> str:
    status, body = answer(client, "/downloads", {"keys": [key], **fields})
    assert status == 200, body
    return str(body["items"][0]["url"])


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET as a browser would, without decoding anything: (status, lower-cased headers, body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def stored(seaweed: SeaweedFS, key: str) -> dict[str, Any]:
    """What the storage server keeps for the object (its admin view, not a download URL)."""
    head = seaweed.client().head_object(Bucket=BUCKET, Key=key)
    return {
        name: head.get(name)
        for name in ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding")
    }


def post_form(grant: dict[str, Any], data: bytes, **extra_fields: str) -> requests.Response:
    return requests.post(
        grant["url"], data={**grant["fields"], **extra_fields}, files={"file": ("f.bin", data)}, timeout=10
    )


@pytest.fixture
def text_target() -> dict[str, Any]:
    return {"upload": {"content_types": ["text/plain", "image/png"], "max_size": 4096}}


@pytest.fixture
def uploads(real_client: Callable[..., Client], text_target: dict[str, Any]) -> Client:
    return real_client("uploads", **text_target)


@pytest.fixture
def downloads(real_client: Callable[..., Client], text_target: dict[str, Any]) -> Client:
    return real_client("downloads", **text_target)


# -- item 3: the uploader's headers never reach a downloader ------------------------------------


def test_a_hostile_put_cannot_choose_what_downloaders_receive(
    uploads: Client, downloads: Client, seaweed: SeaweedFS
) -> None:
    # Given: a PUT that adds unsigned headers alongside the signed ones, and storage that keeps them
    grant = grant_for(uploads, HTML)
    put = requests.put(grant["url"], data=HTML, headers={**grant["headers"], **HOSTILE_HEADERS}, timeout=10)
    assert put.status_code == 200, put.text
    kept = stored(seaweed, grant["key"])
    assert kept["CacheControl"] == "public, max-age=31536000" and kept["ContentEncoding"] == "gzip", kept
    assert kept["ContentDisposition"] == "inline", kept

    # When: a download URL from our API is used
    status, headers, body = fetch(download_url(downloads, grant["key"]))

    # Then: the policy decides cache, disposition and encoding; the bytes are the stored ones
    assert status == 200 and body == HTML, (status, body)
    assert headers["cache-control"] == POLICY_CACHE_CONTROL, headers
    assert headers["content-disposition"] == 'attachment; filename="page.txt"', headers
    assert headers["content-encoding"] == "identity", headers
    assert headers["content-type"] == "text/plain", headers


def test_inline_urls_override_the_stored_headers_too(
    uploads: Client, downloads: Client, seaweed: SeaweedFS
) -> None:
    grant = grant_for(uploads, HTML)
    put = requests.put(grant["url"], data=HTML, headers={**grant["headers"], **HOSTILE_HEADERS}, timeout=10)
    assert put.status_code == 200, put.text

    status, headers, body = fetch(
        download_url(downloads, grant["key"], disposition="inline", content_type="text/plain")
    )

    assert status == 200 and body == HTML, (status, body)
    assert headers["content-type"] == "text/plain", headers
    assert headers["content-disposition"] == 'inline; filename="page.txt"', headers
    assert headers["cache-control"] == POLICY_CACHE_CONTROL, headers
    assert headers["content-encoding"] == "identity", headers


def test_the_post_policy_pins_cache_control_and_disposition(
    uploads: Client, downloads: Client, seaweed: SeaweedFS
) -> None:
    # Given: a form grant; its policy signs the target's Cache-Control and an attachment disposition
    grant = grant_for(uploads, HTML, method="POST")
    assert grant["fields"]["Cache-Control"] == POLICY_CACHE_CONTROL, grant["fields"]
    assert grant["fields"]["Content-Disposition"] == "attachment", grant["fields"]

    # When / Then: another value for a pinned field is the storage server's 403
    for name in ("Cache-Control", "Content-Disposition"):
        forged = post_form(grant, HTML, **{name: HOSTILE_HEADERS[name]})
        assert forged.status_code == 403, (name, forged.status_code, forged.text)

    # An extra field the policy does not name is stored by SeaweedFS (AWS S3 refuses it) ...
    sneaked = post_form(grant, HTML, **{"Content-Encoding": "gzip"})
    assert sneaked.status_code == 204, sneaked.text
    kept = stored(seaweed, grant["key"])
    assert kept["CacheControl"] == POLICY_CACHE_CONTROL and kept["ContentDisposition"] == "attachment", kept
    assert kept["ContentEncoding"] == "gzip", kept

    # ... and the download URL overrides it all the same.
    status, headers, body = fetch(download_url(downloads, grant["key"]))
    assert status == 200 and body == HTML, (status, body)
    assert headers["content-encoding"] == "identity", headers
    assert headers["cache-control"] == POLICY_CACHE_CONTROL, headers
    assert headers["content-disposition"] == 'attachment; filename="page.txt"', headers


# -- item 1: no request field makes the storage origin render active content -------------------


@pytest.mark.parametrize("disposition", ["inline", "attachment"])
@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml"])
def test_html_uploaded_as_text_cannot_be_served_as_an_active_type(
    uploads: Client, downloads: Client, disposition: str, content_type: str
) -> None:
    grant = grant_for(uploads, HTML)
    assert requests.put(grant["url"], data=HTML, headers=grant["headers"], timeout=10).status_code == 200

    status, body = answer(
        downloads,
        "/downloads",
        {"keys": [grant["key"]], "disposition": disposition, "content_type": content_type},
    )

    assert status == 415, body
    assert body["error"]["code"] == "unsupported_content_type", body
    assert "X-Amz" not in json.dumps(body)


def test_inline_needs_a_passive_type_that_we_sign(uploads: Client, downloads: Client) -> None:
    grant = grant_for(uploads, HTML)
    assert requests.put(grant["url"], data=HTML, headers=grant["headers"], timeout=10).status_code == 200

    # Without a type we cannot know what the object is: refused, nothing signed.
    status, body = answer(downloads, "/downloads", {"keys": [grant["key"]], "disposition": "inline"})
    assert status == 422 and body["error"]["code"] == "unprocessable", body

    # With a passive type, the server answers with that type, inline.
    status, headers, data = fetch(
        download_url(downloads, grant["key"], disposition="inline", content_type="image/png")
    )
    assert status == 200 and data == HTML
    assert headers["content-type"] == "image/png" and headers["content-disposition"].startswith("inline")


# -- item 2: SVG only by opt-in, and then always an attachment ---------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize("upload", [{}, {"content_types": ["image/*"]}, {"content_types": ["*/*"]}])
def test_svg_is_refused_unless_a_target_lists_it(real_client: Callable[..., Client], upload: Any) -> None:
    client = real_client("uploads", upload=upload)
    status, body = answer(
        client, "/uploads", {"filename": "x.svg", "content_type": "image/svg+xml", "size": len(SVG)}
    )
    assert status == 415 and body["error"]["code"] == "unsupported_content_type", (upload, body)
    status, body = answer(client, "/uploads", {"filename": "x.png", "content_type": "image/png", "size": 3})
    assert status == 201, (upload, body)


def test_an_opted_in_svg_is_always_downloaded_as_an_attachment(real_client: Callable[..., Client]) -> None:
    target = {"upload": {"content_types": ["image/png", "image/svg+xml"]}}
    uploads, downloads = real_client("uploads", **target), real_client("downloads", **target)
    grant = grant_for(uploads, SVG, filename="logo.svg", content_type="image/svg+xml")
    assert requests.put(grant["url"], data=SVG, headers=grant["headers"], timeout=10).status_code == 200

    status, headers, data = fetch(download_url(downloads, grant["key"]))
    assert status == 200 and data == SVG
    assert headers["content-type"] == "image/svg+xml", headers
    assert headers["content-disposition"] == 'attachment; filename="logo.svg"', headers

    for fields in ({"disposition": "inline"}, {"disposition": "inline", "content_type": "image/svg+xml"}):
        status, body = answer(downloads, "/downloads", {"keys": [grant["key"]], **fields})
        assert status in (415, 422), (fields, body)


# -- item 15: empty files ----------------------------------------------------------------------


def test_an_empty_file_goes_up_by_put_and_comes_back_empty(uploads: Client, downloads: Client) -> None:
    grant = grant_for(uploads, b"")
    assert grant["headers"]["Content-Length"] == "0", grant["headers"]
    put = requests.put(grant["url"], data=b"", headers=grant["headers"], timeout=10)
    assert put.status_code == 200, put.text
    status, headers, body = fetch(download_url(downloads, grant["key"]))
    assert (status, body, headers["content-length"]) == (200, b"", "0"), (status, headers, body)

    # The grant is for nothing: a byte more is refused.
    headers_without_length = {k: v for k, v in grant["headers"].items() if k != "Content-Length"}
    one_byte = requests.put(grant["url"], data=b"x", headers=headers_without_length, timeout=10)
    assert one_byte.status_code == 403, one_byte.text


def test_an_empty_file_goes_up_by_post_and_comes_back_empty(uploads: Client, downloads: Client) -> None:
    grant = grant_for(uploads, b"", method="POST")
    one_byte = post_form(grant, b"x")
    assert one_byte.status_code in (400, 403), one_byte.text
    posted = post_form(grant, b"")
    assert posted.status_code == 204, posted.text
    status, _, body = fetch(download_url(downloads, grant["key"]))
    assert (status, body) == (200, b"")


# -- item 17: metadata comes back exactly as sent ----------------------------------------------

ROUND_TRIP = {"spaces": "a  b", "marks": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "x": "x", "long": "v" * 200}


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_accepted_metadata_round_trips_exactly(uploads: Client, seaweed: SeaweedFS, method: str) -> None:
    grant = grant_for(uploads, b"meta", method=method, metadata=ROUND_TRIP)
    if method == "PUT":
        sent = requests.put(grant["url"], data=b"meta", headers=grant["headers"], timeout=10)
    else:
        sent = post_form(grant, b"meta")
    assert sent.status_code in (200, 204), sent.text
    kept = seaweed.client().head_object(Bucket=BUCKET, Key=grant["key"])["Metadata"]
    assert kept == ROUND_TRIP, kept


@pytest.mark.parametrize("value", ["", " leading", "trailing ", " "])
def test_metadata_that_would_not_round_trip_is_refused(uploads: Client, value: str) -> None:
    status, body = answer(
        uploads,
        "/uploads",
        {"filename": "a.txt", "content_type": "text/plain", "size": 1, "metadata": {"album": value}},
    )
    assert status == 400 and "'album'" in body["error"]["message"], body


# -- item 16: filename means attachment, with a visible ASCII fallback -------------------------


def test_a_filename_alone_downloads_under_that_name(uploads: Client, downloads: Client) -> None:
    grant = grant_for(uploads, b"salaam")
    assert requests.put(grant["url"], data=b"salaam", headers=grant["headers"], timeout=10).status_code == 200
    status, headers, _ = fetch(download_url(downloads, grant["key"], filename="صورة.txt"))
    assert status == 200
    assert headers["content-disposition"] == (
        "attachment; filename=\"download.txt\"; filename*=UTF-8''%D8%B5%D9%88%D8%B1%D8%A9.txt"
    ), headers


# -- item 4: controls in a content type never reach a signature --------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain\n", "text/plain;\tcharset=utf-8", "text/plain\r\n; a=b"]
)
def test_a_content_type_with_controls_is_refused(
    uploads: Client, downloads: Client, content_type: str
) -> None:
    status, body = answer(uploads, "/uploads", {"filename": "a.txt", "content_type": content_type, "size": 1})
    assert status == 400 and body["error"]["code"] == "invalid_request", body
    status, body = answer(
        downloads, "/downloads", {"keys": ["users/alice/a.txt"], "content_type": content_type}
    )
    assert status == 400 and body["error"]["code"] == "invalid_request", body
