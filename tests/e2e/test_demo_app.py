"""The demo app (examples/web/) in a real browser (Debian's chromium, headless) against `make dev`:
opened at the address `make dev` prints, on the examples/ origin, so every call to the API and to
SeaweedFS is cross-origin and preflighted. Every flow a person would click through: PUT with a
progress bar, POST form, a 12 MiB file in three parts paused after the first with its other part
URLs left to expire for real (the storage refuses them, the app renews them and resumes from
GET /uploads/{id}), another left pending by a reload and resumed from the list, the list, downloads (the same bytes), delete, a share link with a password
(copied, opened, refused with a wrong password, downloaded with the right one), its revocation (410
after), and a 429 waited out as its Retry-After says. Every upload goes through @presign/client
(clients/js's browser bundle, which `make examples` copies). A screenshot is written to
.local/artifacts/demo-app.png.

Chromium is installed by make deps (apt-get install chromium; make test runs it); without it this test fails and says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import requests

from local.cfn import ROOT
from tests.e2e.devstack import DevStack, launch_chromium

ARTIFACTS = ROOT / ".local" / "artifacts"
PASSWORD = "a demo password 7"
# The first part URLs of the multipart upload live this long (the API's minimum is 1 s): short
# enough to wait out, long enough for part 1 to go up with its own URL on a busy machine.
FIRST_PART_URLS_LIVE = 3


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_files(tmp: Path) -> dict[str, Path]:
    files = {
        "put": tmp / "notes.txt",  # text/plain, a few progress events' worth
        "post": tmp / "form.pdf",
        "big": tmp / "big.bin",  # 12 MiB: three 5 MiB parts under make dev's plan
    }
    files["put"].write_bytes(b"presign demo, line by line\n" * 80_000)  # ~2.1 MB
    files["post"].write_bytes(b"%PDF-1.7\nsent as a form by the demo app\n")
    files["big"].write_bytes(os.urandom(12 * 1024 * 1024))
    files["again"] = tmp / "again.bin"  # 11 MiB: parts of 5, 5 and 1 MiB
    files["again"].write_bytes(os.urandom(11 * 1024 * 1024))
    return files


class Network:
    """Every request the page sends, preflights included, as Chromium's DevTools protocol reports
    them (Playwright's own request events do not include CORS preflights). Methods, origins and
    statuses only: the URLs are presigned and stay out of any output."""

    def __init__(self, context: Any, page: Any) -> None:
        self.sent: dict[str, tuple[str, str]] = {}
        self.answered: dict[str, tuple[int, dict[str, str]]] = {}
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._answered)

    def _sent(self, event: dict[str, Any]) -> None:
        url = urllib.parse.urlsplit(event["request"]["url"])
        self.sent[event["requestId"]] = (event["request"]["method"], f"{url.scheme}://{url.netloc}")

    def _answered(self, event: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        self.answered[event["requestId"]] = (event["response"]["status"], headers)

    def preflights(self, origin: str) -> list[tuple[int, str]]:
        """(status, Access-Control-Allow-Origin) of each OPTIONS the browser sent to ``origin``."""
        return [
            (self.answered[rid][0], self.answered[rid][1].get("access-control-allow-origin", ""))
            for rid, (method, to) in self.sent.items()
            if method == "OPTIONS" and to == origin and rid in self.answered
        ]


def test_the_demo_app_does_every_flow_from_another_origin(dev_stack: DevStack, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a condition to wait for, not a time limit: CI is busy

    # Given the address make dev prints: the examples/ origin, the API and a token in the fragment
    demo_url = dev_stack.printed_after("The demo app")
    assert demo_url.startswith(f"{dev_stack.web_url}/web/#api="), demo_url
    fragment = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(demo_url).fragment))
    assert fragment["api"] == dev_stack.base_url, fragment.keys()
    auth = {"Authorization": f"Bearer {fragment['token']}"}
    api, web = dev_stack.base_url, dev_stack.web_url
    files = make_files(tmp_path)

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web)
            # The app's test knobs: short-lived first part URLs, and a pause after part 1
            context.add_init_script(
                f"window.PRESIGN_DEMO_TEST = {{multipartExpiresIn: {FIRST_PART_URLS_LIVE}, pauseAfterParts: 1}};"
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            network = Network(context, page)
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))

            def stats() -> dict[str, Any]:
                return dict(page.evaluate("window.presignDemo.stats"))

            # Sign in: the fields are prefilled from the fragment, which leaves the address bar
            page.goto(demo_url)
            expect(page.locator("#api-url")).to_have_value(api)
            expect(page.locator("#token")).to_have_value(fragment["token"])
            assert "#" not in page.url and "token" not in page.url, "the fragment stayed in the address bar"
            page.click("#sign-in-btn")
            expect(page.locator("#app")).to_be_visible()
            expect(page.locator("#who-name")).to_have_text("signed in as alice")

            # PUT with a progress bar that reaches 100 %
            page.set_input_files("#file", files["put"])
            page.check("input[name=method][value=PUT]")
            page.click("#upload-btn")
            expect(page.locator("#transfer-state")).to_have_text("complete")
            expect(page.locator("#progress")).to_have_js_property("value", 100)
            progress = stats()["put"]["progress"]
            assert progress and progress[-1] == 100 and progress == sorted(progress), progress

            # POST form
            page.set_input_files("#file", files["post"])
            page.check("input[name=method][value=POST]")
            page.click("#upload-btn")
            expect(page.locator("#transfer-state")).to_have_text("complete")

            # In parts: the app pauses by itself after part 1 (the knob), as a user's Pause would
            page.set_input_files("#file", files["big"])
            page.check("input[name=method][value=multipart]")
            page.click("#upload-btn")
            expect(page.locator("#transfer-state")).to_have_text("paused")
            expect(page.locator("#resume-btn")).to_be_visible()
            paused = stats()["multipart"]
            assert (paused["partCount"], paused["partsStored"]) == (3, 1), paused
            expect(page.locator("#progress")).to_have_js_property("value", 41)  # 5 of 12 MiB
            # Wait until the first part URLs have expired (one more second: SigV4 counts whole seconds)
            page.wait_for_function(
                "() => Date.now() > Date.parse(window.presignDemo.stats.multipart.urlExpiresAt) + 1000",
                polling=250,
                timeout=(FIRST_PART_URLS_LIVE + 30) * 1000,
            )
            page.click("#resume-btn")
            expect(page.locator("#transfer-state")).to_have_text("complete")
            done = stats()["multipart"]
            # The app resumed from the stored part, met the storage's refusal of an expired URL,
            # renewed it through POST /uploads/{id}/parts, and finished with fresh URLs
            assert done["resumedWith"] == 1, done
            # (part 2, whose URL expired during the pause; or part 1, if a busy machine took
            # longer than the URL's life to send it: then one renewal covered every part)
            assert done["refusedParts"] in ([2], [1]), done
            assert done["renewals"] == done["expiredRefusals"] == 1, done
            assert done["partsStored"] == 3, done
            expect(page.locator("#progress")).to_have_js_property("value", 100)

            # The list: three complete uploads, newest first
            items = page.locator("#uploads-list li[data-upload-id]")
            expect(items).to_have_count(3)
            expect(page.locator("#uploads-list li[data-status=complete]")).to_have_count(3)
            names = items.locator(".name").all_inner_texts()
            assert names == ["big.bin", "form.pdf", "notes.txt"], names
            ids = {name: items.nth(i).get_attribute("data-upload-id") for i, name in enumerate(names)}
            big = requests.get(f"{api}/uploads/{ids['big.bin']}", headers=auth, timeout=10).json()
            assert big["status"] == "complete" and big["size"] == 12 * 1024 * 1024, big
            assert big["etag"].strip('"').endswith("-3"), big
            expect(items.nth(0)).to_contain_text("3 parts")

            # Download: the same bytes (the 12 MiB one and the PUT one)
            for name, path in (("big.bin", files["big"]), ("notes.txt", files["put"])):
                with page.expect_download() as waiting:
                    page.click(f"#uploads-list li[data-upload-id='{ids[name]}'] button.download")
                saved = tmp_path / f"downloaded-{name}"
                waiting.value.save_as(saved)
                assert waiting.value.suggested_filename == name
                assert sha256(saved) == sha256(path), (name, saved.stat().st_size, path.stat().st_size)

            # Delete (the button asks once more)
            delete = page.locator(f"#uploads-list li[data-upload-id='{ids['form.pdf']}'] button.delete")
            delete.click()
            expect(delete).to_have_text("Sure? Delete")
            delete.click()
            expect(page.locator(f"#uploads-list li[data-upload-id='{ids['form.pdf']}']")).to_have_attribute(
                "data-status", "deleted"
            )
            gone = requests.get(f"{api}/uploads/{ids['form.pdf']}", headers=auth, timeout=10)
            assert (gone.status_code, gone.json()["error"]["code"]) == (410, "upload_deleted"), gone.text

            # Share with a password, good for two downloads; copy the link
            page.click(f"#uploads-list li[data-upload-id='{ids['notes.txt']}'] button.share")
            page.select_option("#share-expiry", "3600")
            page.fill("#share-max", "2")
            page.fill("#share-password", PASSWORD)
            page.click("#share-create")
            expect(page.locator("#share-made")).to_be_visible()
            link = page.input_value("#share-link")
            assert link.startswith(f"{api}/s/"), "the share link is not on the API's origin"
            page.click("#share-copy")
            expect(page.locator("#share-copy")).to_have_text("Copied")
            assert page.evaluate("navigator.clipboard.readText()") == link

            # Open it in a tab: the link's own page asks for the password
            with context.expect_page() as opened:
                page.click("#share-open")
            tab = opened.value
            tab.wait_for_load_state()
            expect(tab.locator("input[type=password][name=password]")).to_have_count(1)
            tab.close()

            # Open it in the app: it asks for the password, refuses a wrong one, downloads with the right one
            page.click("#share-open-here")
            expect(page.locator("#open-link")).to_have_value(link)
            page.click("#open-btn")
            expect(page.locator("#open-result")).to_have_text("This link needs its password.")
            page.fill("#open-password", "not the password")
            page.click("#open-btn")
            expect(page.locator("#open-result")).to_have_text("That password is not right.")
            expect(page.locator("#notice-text")).to_contain_text("401 password_invalid")
            page.fill("#open-password", PASSWORD)
            with page.expect_download() as waiting:
                page.click("#open-btn")
            saved = tmp_path / "shared.txt"
            waiting.value.save_as(saved)
            assert sha256(saved) == sha256(files["put"]), saved.stat().st_size

            # My shares: the link, one of two downloads used; revoke it, and it answers 410
            share_item = page.locator("#shares-list li[data-handle]")
            page.click("#shares-refresh")
            expect(share_item).to_have_count(1)
            expect(share_item).to_contain_text("1 of 2 downloads")
            revoke = share_item.locator("button.revoke")
            revoke.click()
            revoke.click()
            expect(share_item).to_have_attribute("data-status", "revoked")
            page.click("#open-btn")
            expect(page.locator("#notice-text")).to_contain_text("410 share_revoked")
            revoked = requests.get(link, headers={"Accept": "application/json"}, timeout=10)
            assert revoked.status_code == 410, (revoked.status_code, revoked.text)
            page.click("#notice-close")

            # A multipart upload left pending by a reload: only its upload id is left (in the
            # list); the app asks GET /uploads/{id} for the stored parts and fresh URLs for the rest
            page.set_input_files("#file", files["again"])
            page.check("input[name=method][value=multipart]")
            page.click("#upload-btn")
            expect(page.locator("#transfer-state")).to_have_text("paused")
            page.reload()
            expect(page.locator("#token")).to_have_value(fragment["token"])  # kept in localStorage
            page.click("#sign-in-btn")
            pending = page.locator("#uploads-list li[data-status=pending]")
            expect(pending).to_have_count(1)
            expect(pending.locator(".name")).to_have_text("again.bin")
            again_id = pending.get_attribute("data-upload-id")
            with page.expect_file_chooser() as chooser:
                pending.locator("button.resume").click()
            chooser.value.set_files(files["again"])
            expect(page.locator("#transfer-state")).to_have_text("complete")
            resumed = stats()["multipart"]
            assert (resumed["resumedWith"], resumed["partsStored"]) == (1, 2), resumed
            assert (resumed["renewals"], resumed["expiredRefusals"]) == (1, 0), resumed
            again = requests.get(f"{api}/uploads/{again_id}", headers=auth, timeout=10).json()
            assert (again["status"], again["size"]) == ("complete", 11 * 1024 * 1024), again
            assert again["etag"].strip('"').endswith("-3"), again

            # The screenshot, after the flows
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "demo-app.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the demo app: {shot}")

            # On a phone's width nothing runs off the side
            page.set_viewport_size({"width": 390, "height": 844})
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the page is {overflow}px wider than a phone's screen"
            page.screenshot(path=str(ARTIFACTS / "demo-app-phone.png"), full_page=True)
            page.set_viewport_size({"width": 1200, "height": 900})

            # Over the upload limit (make dev's: 5 at once, 10 a minute): the client waits what
            # Retry-After says, the page says so, and the upload goes through by itself
            page.set_input_files("#file", files["post"])
            page.check("input[name=method][value=PUT]")
            for _ in range(12):
                page.click("#upload-btn")
                expect(page.locator("#upload-btn")).to_be_enabled()
                if any(w["status"] == 429 for w in stats()["waits"]):
                    break
            limited = [w for w in stats()["waits"] if w["status"] == 429]
            waits = stats()["waits"]
            assert limited and limited[0]["code"] == "rate_limited" and limited[0]["wait"] >= 1000, waits
            assert "Busy (429 rate_limited): trying again in" in limited[0]["text"], limited
            expect(page.locator("#transfer-state")).to_have_text("complete")
            assert not [e for e in stats()["errors"] if e["status"] == 429], stats()["errors"]

            # And every API call went through CORS: preflights, answered for the app's origin
            to_api = network.preflights(api)
            assert to_api and all(p == (204, web) for p in to_api), to_api
            to_storage = network.preflights(storage_origin(dev_stack))
            assert to_storage and all(status in (200, 204) for status, _ in to_storage), to_storage
            # And the page's Content-Security-Policy let it do all that
            assert not [c for c in console if "Content Security Policy" in c], console
        finally:
            browser.close()


def storage_origin(dev_stack: DevStack) -> str:
    """SeaweedFS's S3 origin, as the banner prints it."""
    line = next(line for line in dev_stack.lines if line.strip().startswith("S3 (SeaweedFS"))
    url = next(word for word in line.split() if word.startswith("http://"))
    return url.rstrip("/")


SAVED_KEY = "presign-demo.sign-in"  # examples/web/app.js SAVED


def test_resuming_an_upload_deleted_elsewhere_says_so_and_lists_it_as_it_is(
    dev_stack: DevStack, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    token = dev_stack.token(f"resumer-{uuid.uuid4().hex[:8]}")
    api, auth = dev_stack.base_url, {"Authorization": f"Bearer {token}"}
    big = tmp_path / "left.bin"  # 9 MiB: above make dev's threshold, two parts
    big.write_bytes(os.urandom(9 * 1024 * 1024))
    fragment = urllib.parse.urlencode({"api": api, "token": token}, safe=":/")

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            context.add_init_script("window.PRESIGN_DEMO_TEST = {pauseAfterParts: 1};")
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{dev_stack.web_url}/web/#{fragment}")
            page.click("#sign-in-btn")
            # Given a multipart upload paused after its first part, on screen and pending in the list
            page.set_input_files("#file", big)
            page.check("input[name=method][value=multipart]")
            page.click("#upload-btn")
            expect(page.locator("#transfer-state")).to_have_text("paused")
            page.click("#uploads-refresh")
            pending = page.locator("#uploads-list li[data-status=pending]")
            expect(pending).to_have_count(1)
            upload_id = pending.get_attribute("data-upload-id")
            # When another tab deletes it, and this one presses Resume
            deleted = requests.delete(f"{api}/uploads/{upload_id}", headers=auth, timeout=10)
            assert deleted.status_code == 204, deleted.text
            page.click("#resume-btn")
            # Then the app says the upload is over (the API's 410) and shows the list as it is now
            expect(page.locator("#notice-text")).to_contain_text("410 upload_aborted")
            expect(page.locator("#notice-text")).to_contain_text("deleted before it completed")
            expect(page.locator("#transfer-state")).to_have_text("aborted")
            expect(page.locator("#resume-btn")).to_be_hidden()
            item = page.locator(f"#uploads-list li[data-upload-id='{upload_id}']")
            expect(item).to_have_attribute("data-status", "aborted")
            expect(item.locator("button.resume")).to_have_count(0)
        finally:
            browser.close()


def test_a_link_naming_another_api_does_not_get_the_saved_token(dev_stack: DevStack) -> None:
    # A link to the demo app may name any API in its fragment; the token saved for this stack's
    # API must not be filled in for another one (the user would send it there on Sign in).
    from playwright.sync_api import sync_playwright

    saved = {"api": dev_stack.base_url, "token": "SAVED.TOKEN.SIG"}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context()
            setup = context.new_page()
            setup.goto(f"{dev_stack.web_url}/web/")
            setup.evaluate("([k, v]) => localStorage.setItem(k, v)", [SAVED_KEY, json.dumps(saved)])

            def fields(url: str) -> tuple[str, str]:
                page = context.new_page()  # a fresh load: the app reads the fragment at start
                page.goto(url)
                return page.input_value("#api-url"), page.input_value("#token")

            other = fields(f"{dev_stack.web_url}/web/#api=http://127.0.0.1:9")
            same = fields(f"{dev_stack.web_url}/web/")
        finally:
            browser.close()

    assert other == ("http://127.0.0.1:9", ""), other
    assert same == (dev_stack.base_url, "SAVED.TOKEN.SIG"), same
