"""The examples/ server of `make dev`: modules get a JavaScript type, nothing outside is served."""

from __future__ import annotations

import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from local.static import StaticServer


def _get(url: str) -> tuple[int, Message, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_serves_modules_as_javascript_and_refuses_listings_and_escapes(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "web").mkdir(parents=True)
    (site / "web" / "app.mjs").write_text("export const x = 1;\n")
    (tmp_path / "secret.txt").write_text("not for the browser")

    with StaticServer(site) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        status, headers, body = _get(f"{server.base_url}/web/app.mjs")
        assert (status, headers.get("Content-Type"), body) == (
            200,
            "text/javascript",
            b"export const x = 1;\n",
        )
        assert headers.get("X-Content-Type-Options") == "nosniff"
        listing, _, _ = _get(f"{server.base_url}/web/")
        escape, _, escaped = _get(f"{server.base_url}/../secret.txt")
        encoded, _, _ = _get(f"{server.base_url}/web/%2e%2e/%2e%2e/secret.txt")

    assert listing == 404, listing
    assert escape == 404 and b"not for the browser" not in escaped, (escape, escaped)
    assert encoded == 404, encoded


def test_a_taken_port_is_an_error_not_a_second_server() -> None:
    with StaticServer(Path()) as first:
        port = int(first.base_url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            StaticServer(Path(), port)


def test_answers_its_own_host_only(tmp_path: Path) -> None:
    # Given the examples' server with a page
    (tmp_path / "index.html").write_text("<p>hi</p>")
    with StaticServer(tmp_path) as server:
        port = int(server.base_url.rsplit(":", 1)[1])

        def status(host: str) -> int:
            request = urllib.request.Request(f"{server.base_url}/index.html", headers={"Host": host})
            try:
                with urllib.request.urlopen(request, timeout=10) as resp:
                    return int(resp.status)
            except urllib.error.HTTPError as err:
                return err.code

        # When it is asked under its own names and under a page's (DNS rebinding)
        got = {host: status(host) for host in (f"127.0.0.1:{port}", f"localhost:{port}", "evil.example",
                                                 f"evil.example:{port}")}  # fmt: skip

    # Then only its own names are served
    assert got == {
        f"127.0.0.1:{port}": 200,
        f"localhost:{port}": 200,
        "evil.example": 403,
        f"evil.example:{port}": 403,
    }, got
