"""@presign/client in headless Chromium against `make dev STORAGE_PROXY=1`: a multipart upload
interrupted by a page reload resumes on the new page from its IndexedDB record, and the storage
(counted by the proxy) receives only the parts that were missing.

The page (tests/e2e/js/page.html) loads the browser bundle `make clients` builds, from an origin of
its own, so every call to the API and to the storage is cross-origin, preflights included.
"""

from __future__ import annotations

import json
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from local.proxy_control import ProxyControl
from tests.e2e.devstack import DevStack, allow_in_the_buckets_cors, launch_chromium
from tests.e2e.jsclient import BROWSER_BUNDLE, MiB, api, driver, part_puts, random_file, require_client_built

pytestmark = pytest.mark.realserver

PAGE = Path(__file__).resolve().parent / "js" / "page.html"
FOUR_PARTS = 17 * MiB  # make dev's plan: 5 + 5 + 5 + 2 MiB


@pytest.fixture(scope="module")
def page_origin(proxied_dev_stack: DevStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_client_built()
    root = tmp_path_factory.mktemp("client-page")
    shutil.copy(PAGE, root / "index.html")
    shutil.copy(BROWSER_BUNDLE, root / "presign-client.js")
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    allow_in_the_buckets_cors(proxied_dev_stack.state, origin)  # the page PUTs parts cross-origin
    yield origin
    server.shutdown()
    server.server_close()


def part_number(url: str) -> int | None:
    raw = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)).get("partNumber")
    return int(raw) if raw else None


def test_a_multipart_upload_interrupted_by_a_reload_resumes_on_the_new_page_with_only_the_missing_parts(
    proxied_dev_stack: DevStack, page_origin: str, tmp_path: Path
) -> None:
    from playwright.sync_api import Route, sync_playwright

    stack = proxied_dev_stack
    proxy = ProxyControl(stack.state["storage_proxy"])
    proxy.set_faults([])
    caller = driver(stack, tmp_path, "browser-reload")
    token = stack.token(caller.sub)
    path = random_file(tmp_path / "holiday.bin", FOUR_PARTS)
    mark = proxy.log()[-1].seq + 1 if proxy.log() else 0

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            # Parts 3 and 4 never leave the first page (the network refuses them): what the storage
            # has at the reload is exactly parts 1 and 2, whatever the timing.
            held: list[int] = []

            def hold_late_parts(route: Route) -> None:
                number = part_number(route.request.url)
                if route.request.method == "PUT" and number is not None and number > 2:
                    held.append(number)
                    route.abort()
                else:
                    route.continue_()

            page.route(f"{stack.state['storage_proxy']}/**", hold_late_parts)
            page.goto(f"{page_origin}/index.html")
            page.wait_for_selector("body[data-ready='1']", state="attached")
            page.set_input_files("#file", path)

            # When the upload runs until two parts are stored, and the page is reloaded
            page.evaluate(
                "([api, token]) => { startUpload(api, token, {concurrency: 1}); }", [stack.base_url, token]
            )
            page.wait_for_function("() => window.events.filter((e) => e.type === 'part').length === 2")
            page.wait_for_function("() => window.events.some((e) => e.type === 'retry')")  # part 3 refused
            before = page.evaluate("window.events")
            page.unroute(f"{stack.state['storage_proxy']}/**")
            page.reload()
            page.wait_for_selector("body[data-ready='1']", state="attached")
            records = page.evaluate("window.records()")
            reloaded_at = proxy.log()[-1].seq + 1

            # and the same file is picked and uploaded on the new page
            page.set_input_files("#file", path)
            outcome = page.evaluate("([api, token]) => startUpload(api, token)", [stack.base_url, token])
            after = page.evaluate("window.events")
            progress = page.evaluate("window.progress")
        finally:
            browser.close()

    created = next(e for e in before if e["type"] == "created")
    # Then the first page stored parts 1 and 2 only; its record (no URL, no token) survived the reload
    assert held and set(held) == {3}, held
    assert part_puts(proxy.log(since=mark))[:2] == [(1, 200), (2, 200)], part_puts(proxy.log(since=mark))
    assert len(records) == 1 and records[0]["upload_id"] == created["uploadId"], records
    stored = json.dumps(records)
    assert "http" not in stored and "X-Amz" not in stored and token not in stored, stored
    # and the new page continued the same upload, sending parts 3 and 4 only
    assert outcome["result"]["upload_id"] == created["uploadId"], outcome
    assert outcome["result"]["status"] == "complete", outcome
    resumed = [e for e in after if e["type"] == "resumed"]
    assert resumed == [{"type": "resumed", "uploadId": created["uploadId"], "storedParts": [1, 2]}], after
    assert sorted(part_puts(proxy.log(since=reloaded_at))) == [(3, 200), (4, 200)], part_puts(
        proxy.log(since=reloaded_at)
    )
    assert progress == sorted(set(progress)) and progress[-1] == FOUR_PARTS, progress[:5]
    assert_downloads_the_same(stack, caller.sub, outcome["result"]["key"], path)


def assert_downloads_the_same(stack: DevStack, sub: str, key: str, path: Path) -> None:
    answer = api(stack, sub, "POST", "/downloads", json={"keys": [key]})
    assert answer.status_code == 200, answer.text
    got = requests.get(answer.json()["items"][0]["url"], timeout=60)
    assert got.status_code == 200 and got.content == path.read_bytes(), (got.status_code, len(got.content))
