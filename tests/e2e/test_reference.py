"""The API reference page (examples/reference/, Swagger UI from examples/package-lock.json) in
headless chromium, from make dev's web origin: it fetches the API's own GET /openapi.json across
origins and renders every operation of it, and nothing else reaches the API until someone
presses "Try it out", which sends the token the page was given.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.devstack import DevStack, dev_token, launch_chromium, require_examples_built

pytestmark = pytest.mark.realserver
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def stack(dev_stack: DevStack) -> dict[str, Any]:
    """The browser tests' shared `make dev` (tests/e2e/conftest.py); each test has a sub of its own."""
    require_examples_built()
    return dev_stack.state


def test_the_reference_page_renders_every_operation_of_the_served_document(stack: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    # Given the document the API serves
    api, web = stack["base_url"], stack["web_url"]
    document = requests.get(f"{api}/openapi.json", timeout=10).json()
    expected = sorted(
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    )
    assert len(expected) >= 16, expected

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            to_api: list[str] = []
            page.on(
                "request",
                lambda r: (
                    to_api.append(f"{r.method} {urlsplit(r.url).path}") if r.url.startswith(api) else None
                ),
            )
            # When the page is opened on the web origin, pointed at the API
            page.goto(f"{web}/reference/#api={api}&token={dev_token(stack, 'reference-user')}")
            # The document comes across origins: the API's CORS answers this page's origin
            cors = page.evaluate(
                "async (u) => { const r = await fetch(u); return [r.status, (await r.json()).openapi]; }",
                f"{api}/openapi.json",
            )
            page.wait_for_function(f"() => document.querySelectorAll('.opblock').length >= {len(expected)}")
            rendered = page.eval_on_selector_all(
                ".opblock",
                "els => els.map(e => e.querySelector('.opblock-summary-method').textContent.trim() + ' ' +"
                " e.querySelector('.opblock-summary-path').getAttribute('data-path'))",
            )
            before_trying = set(to_api)
            # And "Try it out" on GET /uploads, with the token the page was given
            operation = "#operations-default-list_uploads_uploads_get"
            page.click(f"{operation} .opblock-summary")
            page.click(f"{operation} button.try-out__btn")
            page.click(f"{operation} button.execute")
            tried = page.inner_text(f"{operation} .live-responses-table .response .response-col_status")
            left_in_url = page.url
            # The page's CSP runs scripts of its own origin only: an inline one is refused
            page.evaluate(
                "() => { const s = document.createElement('script');"
                " s.textContent = 'window.inlineRan = true'; document.body.append(s); }"
            )
            inline_ran = page.evaluate("() => window.inlineRan === true")
        finally:
            browser.close()

    # Then every operation of the document is on the page, once, and nothing but the document was asked
    assert cors == [200, document["openapi"]], cors
    assert sorted(rendered) == expected, (sorted(rendered), expected)
    assert before_trying == {"GET /openapi.json"}, before_trying
    # ... and trying one sends the bearer token (a 200, not a 401), which left the address bar
    assert tried.strip() == "200", tried
    assert "token" not in left_in_url, left_in_url
    assert not inline_ran, "an inline script ran: the reference page's CSP is missing"
    violations = [line for line in console if "Content Security Policy" in line]
    assert len(violations) == 1 and "inline" in violations[0].lower(), violations  # the probe's, only
