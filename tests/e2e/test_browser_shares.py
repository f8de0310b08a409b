"""A protected share link in a real browser (Debian's chromium, headless) against `make dev`:
the link shows a password form, the form posts the password, and the file downloads, with no
script on the page and the page's strict Content-Security-Policy in force.

Chromium is installed by make deps (apt-get install chromium; make test runs it); without it this test fails and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from local.token import mint_token
from tests.e2e.devstack import DevStack, launch_chromium

ROOT = Path(__file__).resolve().parents[2]
CONTENT = b"%PDF-1.7\nshared through a browser\n"
PASSWORD = "a browser's password"


@pytest.fixture(scope="module")
def stack(dev_stack: DevStack) -> dict[str, Any]:
    """The real `make dev` stack (template.yaml, SeaweedFS with identities, moto_server)."""
    return dev_stack.state


def shared_link(stack: dict[str, Any]) -> dict[str, Any]:
    """Upload a PDF, complete it, and share it with a password (all through the API)."""
    token = mint_token(
        "browser-sharer", secret=stack["jwt_secret"], issuer=stack["issuer"], audience=stack["audience"]
    )
    auth = {"Authorization": f"Bearer {token}"}
    api = stack["base_url"]
    grant = requests.post(
        f"{api}/uploads",
        json={"filename": "browser.pdf", "content_type": "application/pdf", "size": len(CONTENT)},
        headers=auth, timeout=10,
    ).json()  # fmt: skip
    put = requests.put(grant["url"], data=CONTENT, headers=grant["headers"], timeout=10)
    assert put.status_code == 200, put.text
    done = requests.post(f"{api}/uploads/{grant['upload_id']}/complete", json={}, headers=auth, timeout=10)
    assert done.status_code == 200, done.text
    share = requests.post(
        f"{api}/shares",
        json={"key": grant["key"], "password": PASSWORD, "max_downloads": 2},
        headers=auth,
        timeout=10,
    )
    assert share.status_code == 201, share.text
    return dict(share.json())


def test_a_browser_opens_a_protected_link_submits_the_password_and_the_file_downloads(
    stack: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    link = shared_link(stack)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(accept_downloads=True, java_script_enabled=False)
            page = context.new_page()
            violations: list[str] = []
            page.on("console", lambda message: violations.append(message.text))

            # When the browser opens the link: a password form, and no script on the page
            opened = page.goto(link["url"])
            assert opened is not None and opened.status == 200, opened
            assert "default-src 'none'" in opened.headers["content-security-policy"]
            assert page.locator("input[type=password][name=password]").count() == 1
            assert page.locator("script").count() == 0

            # A wrong password first: the form again, saying so
            page.fill("input[name=password]", "not it")
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert "not right" in page.content()

            # Then the right one: the 302 to the storage, and the file downloads
            page.fill("input[name=password]", PASSWORD)
            with page.expect_download() as waiting:
                page.click("button[type=submit]")
            download = waiting.value
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
        finally:
            browser.close()

    assert download.suggested_filename == "browser.pdf"
    assert saved.read_bytes() == CONTENT
    assert not [v for v in violations if "Content Security Policy" in v], violations
