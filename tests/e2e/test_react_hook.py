"""useUpload() (@presign/client/react) in headless Chromium: examples/react, the page `make dev`
serves and prints, bundled with React from examples' lock (the hook's peer dependency; clients/js
never installs React). Pause interrupts and keeps the upload; Resume continues the same upload
with the parts the storage lacks; Cancel deletes it.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from local.banner import signed_in_page
from tests.e2e.devstack import DevStack, launch_chromium
from tests.e2e.jsclient import MiB, api, driver, random_file, require_client_built

pytestmark = pytest.mark.realserver

APP = Path(__file__).resolve().parents[2] / "examples" / "react" / "vendor" / "app.js"


def test_use_upload_pauses_resumes_the_same_upload_and_cancels(
    proxied_dev_stack: DevStack, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    require_client_built()
    assert APP.is_file(), "examples/react/vendor/app.js is missing: run `make examples` (make test does)"
    expect.set_options(timeout=60_000)
    stack = proxied_dev_stack
    caller = driver(stack, tmp_path, "react")
    token = stack.token(caller.sub)
    kept = random_file(tmp_path / "kept.bin", 17 * MiB)
    dropped = random_file(tmp_path / "dropped.bin", 12 * MiB)

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            # While held, parts after the first never leave the page (the network refuses them, the
            # client retries): an upload is still under way when Pause or Cancel is clicked,
            # whatever the machine's speed.
            storage = f"{stack.state['storage_proxy']}/**"
            page.route(storage, hold_parts_after_the_first)
            page.goto(signed_in_page(stack.web_url, "react", stack.base_url, token))
            events = lambda: page.evaluate("window.presignReact.events")  # noqa: E731

            # Given an upload in parts under way, paused once a part is stored
            page.set_input_files("#file", kept)
            expect(page.locator("#state")).to_have_text("uploading")
            page.wait_for_function("() => window.presignReact.events.some((e) => e.type === 'part')")
            page.click("#pause")
            expect(page.locator("#state")).to_have_text("paused")
            upload_id = page.inner_text("#upload-id").strip()
            paused = api(stack, caller.sub, "GET", f"/uploads/{upload_id}").json()

            # When it is resumed (the network lets every part through again)
            page.unroute(storage)
            page.click("#resume")
            expect(page.locator("#state")).to_have_text("complete")
            resumed = [e for e in events() if e["type"] == "resumed"]
            expect(page.locator("#progress")).to_have_js_property("value", 100)
            expect(page.locator("#result")).to_contain_text(f"({17 * MiB} bytes)")

            # And another file is canceled mid-way
            page.route(storage, hold_parts_after_the_first)
            page.set_input_files("#file", dropped)
            page.wait_for_function(
                "(id) => window.presignReact.events.some((e) => e.type === 'part' && e.uploadId !== id)",
                arg=upload_id,
            )
            other = page.inner_text("#upload-id").strip()
            page.click("#cancel")
            expect(page.locator("#state")).to_have_text("canceled")
        finally:
            browser.close()

    # Then the pause kept a pending upload (one part stored), the resume completed that same upload from its stored parts
    assert paused["status"] == "pending" and len(paused["multipart"]["parts"]) == 1, paused
    assert len(resumed) == 1 and resumed[0]["uploadId"] == upload_id and resumed[0]["storedParts"], resumed
    done = api(stack, caller.sub, "GET", f"/uploads/{upload_id}").json()
    assert (done["status"], done["size"]) == ("complete", 17 * MiB), done
    # and the cancel deleted the other one
    assert other and other != upload_id
    gone = api(stack, caller.sub, "GET", f"/uploads/{other}")
    assert (gone.status_code, gone.json().get("status")) in ((200, "aborted"), (410, None)), gone.text


def hold_parts_after_the_first(route: Any) -> None:
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(route.request.url).query))
    if route.request.method == "PUT" and int(query.get("partNumber", "0")) > 1:
        route.abort()
    else:
        route.continue_()
