"""Uppy (@uppy/core, @uppy/dashboard, @uppy/aws-s3 from examples/package-lock.json) uploading
through the API in headless chromium, from make dev's web origin: examples/uppy/ with its glue
file, app.js. Files go in with Uppy's own API (``uppy.addFile``, ``uppy.upload()``); the results
are read from the page, then checked through the API and by downloading the bytes again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.devstack import DevStack, dev_token, launch_chromium, require_examples_built

pytestmark = pytest.mark.realserver
MiB = 1024**2
SMALL = 100_000  # one PUT
LARGE = 2 * 5 * MiB + 123_457  # make dev's target: above 8 MiB, in 5 MiB parts: three parts

# In the page: random bytes, added to Uppy as a file; after upload() each file's upload id, what
# /complete answered (the glue keeps it on the file) or its error, and the SHA-256 of the bytes.
UPLOAD_BOTH = """async (files) => {
  const added = [];
  for (const [name, type, size] of files) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const id = uppy.addFile({ name, type, data: new Blob([bytes], { type }) });
    added.push([id, [...digest].map((b) => b.toString(16).padStart(2, "0")).join("")]);
  }
  const result = await uppy.upload();
  return {
    successful: result.successful.length,
    files: added.map(([id, sha256]) => {
      const file = uppy.getFile(id);
      return { name: file.name, upload_id: file.meta.upload_id, presign: file.presign ?? null,
               error: file.error ?? null, sha256 };
    }),
    shown: document.getElementById("done").textContent,
  };
}"""


@pytest.fixture(scope="module")
def stack(dev_stack: DevStack) -> dict[str, Any]:
    """The browser tests' shared `make dev` (tests/e2e/conftest.py); each test has a sub of its own."""
    require_examples_built()
    return dev_stack.state


def storage_origin(seen: list[tuple[str, str]]) -> str:
    """The origin the presigned requests went to (neither the API's nor the page's)."""
    for method, url in seen:
        if method == "PUT" and "X-Amz-Signature=" in url:
            parts = urlsplit(url)
            return f"{parts.scheme}://{parts.netloc}"
    raise AssertionError(f"the browser sent no presigned PUT: {seen}")


def storage_requests(
    requests_seen: list[tuple[str, str]], s3_origin: str
) -> list[tuple[str, str, dict[str, list[str]]]]:
    seen = []
    for method, url in requests_seen:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == s3_origin and method != "OPTIONS":
            seen.append((method, parts.path, parse_qs(parts.query, keep_blank_values=True)))
    return seen


def test_uppy_uploads_a_single_put_and_a_multipart_file_through_the_api(
    stack: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    # Given the Uppy page on make dev's web origin, signed in as a fresh user
    api, token = stack["base_url"], dev_token(stack, "uppy-user")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            seen: list[tuple[str, str]] = []
            page.on("request", lambda r: seen.append((r.method, r.url)))
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"{stack['web_url']}/uppy/#api={api}&token={token}")
            page.wait_for_function("() => window.uppy !== undefined")
            assert "token" not in page.url, page.url  # the page dropped the fragment

            # When a small and a large file are added to Uppy and uploaded
            result = page.evaluate(
                UPLOAD_BOTH,
                [["small.txt", "text/plain", SMALL], ["large.bin", "application/octet-stream", LARGE]],
            )
            page.screenshot(path=str(tmp_path / "uppy.png"), full_page=True)  # to look at when it fails
            # The page's CSP runs scripts of its own origin (and its import map) only
            page.evaluate(
                "() => { const s = document.createElement('script');"
                " s.textContent = 'window.inlineRan = true'; document.body.append(s); }"
            )
            inline_ran = page.evaluate("() => window.inlineRan === true")
            policy = page.evaluate(
                "() => document.querySelector('meta[http-equiv=Content-Security-Policy]')?.content ?? null"
            )
        finally:
            browser.close()

    # Then both were uploaded and completed, as the page tells
    assert result["successful"] == 2 and not problems, (result, problems)
    # ... under the same kind of CSP as the other pages, which let it do all that and nothing inline
    assert policy and "default-src 'none'" in policy and "'unsafe-inline'" not in policy, policy
    assert not inline_ran, "an inline script ran: the Uppy page's CSP is missing"
    violations = [line for line in console if "Content Security Policy" in line]
    assert len(violations) == 1 and "inline" in violations[0].lower(), violations  # the probe's, only
    small, large = result["files"]
    for file, size in ((small, SMALL), (large, LARGE)):
        assert file["error"] is None, file
        assert (file["presign"]["status"], file["presign"]["size"]) == ("complete", size), file
    assert result["shown"].count("complete") == 2, result["shown"]

    # ... and the browser sent the storage one PUT for the small file, and for the large one its
    # ListParts, three part PUTs and its CompleteMultipartUpload, never a CreateMultipartUpload
    s3 = storage_requests(seen, storage_origin(seen))
    small_key, large_key = small["presign"]["key"], large["presign"]["key"]
    on_small = [(m, q) for m, path, q in s3 if path.endswith("/" + small_key)]
    on_large = [(m, q) for m, path, q in s3 if path.endswith("/" + large_key)]
    assert [m for m, q in on_small] == ["PUT"] and "uploadId" not in on_small[0][1], on_small
    assert [(m, q.get("partNumber")) for m, q in on_large] == [
        ("GET", None),
        ("PUT", ["1"]),
        ("PUT", ["2"]),
        ("PUT", ["3"]),
        ("POST", None),
    ], on_large
    assert not any("uploads" in q for _, _, q in s3), s3

    # And the API agrees: each upload is complete with its size, and a download is the same bytes
    bearer = {"Authorization": f"Bearer {token}"}
    for file, size in ((small, SMALL), (large, LARGE)):
        status = requests.get(f"{api}/uploads/{file['upload_id']}", headers=bearer, timeout=10)
        assert status.status_code == 200, status.text
        assert (status.json()["status"], status.json()["size"]) == ("complete", size), status.json()
        links = requests.post(
            f"{api}/downloads", json={"keys": [file["presign"]["key"]]}, headers=bearer, timeout=10
        )
        assert links.status_code == 200, links.text
        fetched = requests.get(links.json()["items"][0]["url"], timeout=30)
        assert fetched.status_code == 200, fetched.text
        assert hashlib.sha256(fetched.content).hexdigest() == file["sha256"], (
            file["name"],
            len(fetched.content),
        )


# In the page: a multipart file removed from Uppy once its first part is stored.
CANCEL_ONE = """async (size) => {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  const id = uppy.addFile({ name: "cancelled.bin", type: "application/octet-stream", data: new Blob([bytes]) });
  let uploadId = null;
  uppy.once("s3-multipart:part-uploaded", (file) => { uploadId = file.meta.upload_id; uppy.removeFile(id); });
  const result = await uppy.upload();
  return { uploadId, successful: result.successful.length, left: uppy.getFiles().length };
}"""


def test_a_file_removed_mid_upload_is_aborted(stack: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    api, token = stack["base_url"], dev_token(stack, "uppy-cancel")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(f"{stack['web_url']}/uppy/#api={api}&token={token}")
            page.wait_for_function("() => window.uppy !== undefined")
            # When a three-part file is removed once its first part is stored
            result = page.evaluate(CANCEL_ONE, LARGE)
            # Then the glue's DELETE /uploads/{id} ends it (polled from the page: it runs after removal)
            status = page.evaluate(
                """async ([api, token, id]) => {
                  for (let i = 0; i < 200; i++) {
                    const r = await fetch(`${api}/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });
                    const body = await r.json();
                    if (r.status === 410) return body.error.code; // a DELETE ended it
                    if (body.status !== "pending") return body.status;
                    await new Promise((done) => setTimeout(done, 50));
                  }
                  return "pending";
                }""",
                [api, token, result["uploadId"]],
            )
        finally:
            browser.close()

    assert result["uploadId"] and result["successful"] == 0 and result["left"] == 0, result
    assert status == "upload_aborted", status
