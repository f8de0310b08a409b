"""The README's client code in a real browser (Debian's chromium, headless) against `make dev`:
a cross-origin SPA asks for URLs, PUTs and POSTs files straight to SeaweedFS, and reads them back.

Chromium is installed by make deps (apt-get install chromium; make test runs it); without it this test fails and says so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.token import mint_token
from tests.e2e.devstack import DevStack, allow_in_the_buckets_cors, launch_chromium

ROOT = Path(__file__).resolve().parents[2]
PAGE_DIR = Path(__file__).resolve().parent / "browser"


@pytest.fixture(scope="module")
def stack(dev_stack: DevStack) -> dict[str, Any]:
    """The real `make dev` stack (template.yaml, SeaweedFS with identities, moto_server)."""
    return dev_stack.state


@pytest.fixture(scope="module")
def page_origin(stack: dict[str, Any]) -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(PAGE_DIR))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    allow_in_the_buckets_cors(stack, origin)
    yield origin
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser_page(page_origin: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(f"{page_origin}/index.html")
        yield page
        browser.close()


def test_a_browser_puts_and_reads_back_a_file(stack: dict[str, Any], browser_page: Any) -> None:
    token = mint_token(
        "browser-user", secret=stack["jwt_secret"], issuer=stack["issuer"], audience=stack["audience"]
    )
    text = "héllo from a real browser\n"

    stored = browser_page.evaluate("([b, t, x]) => putUpload(b, t, x)", [stack["base_url"], token, text])
    fetched = browser_page.evaluate(
        "([b, t, k]) => download(b, t, k)", [stack["base_url"], token, stored["key"]]
    )

    assert stored["status"] == 200
    assert stored["key"].startswith("users/browser-user/")
    assert fetched["status"] == 200 and fetched["text"] == text


def test_a_browser_posts_a_form_with_the_policy(stack: dict[str, Any], browser_page: Any) -> None:
    token = mint_token(
        "browser-user", secret=stack["jwt_secret"], issuer=stack["issuer"], audience=stack["audience"]
    )
    text = "sent as a form\n"

    stored = browser_page.evaluate("([b, t, x]) => postUpload(b, t, x)", [stack["base_url"], token, text])
    fetched = browser_page.evaluate(
        "([b, t, k]) => download(b, t, k)", [stack["base_url"], token, stored["key"]]
    )

    assert stored["status"] == 204
    assert fetched["text"] == text


def test_a_browser_uploads_a_large_file_in_parts_reading_each_etag(
    stack: dict[str, Any], browser_page: Any
) -> None:
    # Given make dev's target: above 8 MiB in 5 MiB parts, the bucket's CORS rule exposing ETag
    token = mint_token(
        "browser-user", secret=stack["jwt_secret"], issuer=stack["issuer"], audience=stack["audience"]
    )
    size = 3 * 5 * 1024**2 + 4321  # three full parts and a short last one

    # When the page uploads a file of that size: each part to its URL, each ETag read by script
    result = browser_page.evaluate(
        "([b, t, n]) => multipartUpload(b, t, n)", [stack["base_url"], token, size]
    )

    # Then every part was stored and counted, and the API completed the upload with those ETags
    assert "failed" not in result, result
    assert (result["part_size"], result["part_count"], result["first_urls"]) == (5 * 1024**2, 4, 4), result
    assert result["progress"] == [1, 2, 3, 4], result
    assert all(isinstance(e, str) and e.strip('"') for e in result["etags"]), result["etags"]
    completed = result["completed"]
    assert completed["status"] == 200 and completed["body"]["size"] == size, completed
    assert completed["body"]["etag"].strip('"').endswith("-4"), completed
    # And the stored object is byte for byte the file
    fetched = browser_page.evaluate(
        "([b, t, k]) => downloadDigest(b, t, k)", [stack["base_url"], token, result["key"]]
    )
    assert fetched["status"] == 200 and fetched["size"] == size, fetched
    assert fetched["sha256"] == result["sha256"]
