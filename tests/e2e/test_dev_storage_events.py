"""Storage events live in `make dev` (issue 21): real SeaweedFS, its real filer events, delivered by
make dev's feed to StorageEventsFunction through the emulator's Invoke, as EventBridge would.

One stack for the module. Uploads are made through its API and stored through the URLs it issued,
and `/complete` is never called: the record must become `complete` (or `rejected`) by itself. Each
test waits for that with a deadline (45 s, the promise's bound with room), never a fixed sleep.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.devstack import DevStack, dev_token, run_dev

pytestmark = pytest.mark.realserver
DEADLINE = 45.0


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with run_dev(tmp_path_factory.mktemp("dev-events"), timeout=90) as stack:
        assert "StorageEventsFunction" in stack.banner, stack.banner
        yield stack


class User:
    def __init__(self, dev: DevStack, sub: str) -> None:
        self.base = dev.base_url
        self.headers = {"authorization": f"Bearer {dev_token(dev.state, sub)}"}

    def grant(self, **payload: Any) -> dict[str, Any]:
        made = requests.post(f"{self.base}/uploads", json=payload, headers=self.headers, timeout=10)
        assert made.status_code == 201, made.text
        return dict(made.json())

    def put(self, granted: dict[str, Any], data: bytes) -> None:
        stored = requests.put(granted["url"], data=data, headers=granted["headers"], timeout=10)
        assert stored.status_code == 200, stored.text

    def status(self, upload_id: str) -> dict[str, Any]:
        answer = requests.get(f"{self.base}/uploads/{upload_id}", headers=self.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def settled(self, upload_id: str) -> dict[str, Any]:
        """The record once it left ``pending`` (or as it is at the deadline)."""
        deadline = time.monotonic() + DEADLINE
        record = self.status(upload_id)
        while record["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.2)
            record = self.status(upload_id)
        return record


def test_a_put_never_completed_by_its_client_becomes_complete_by_itself(dev: DevStack) -> None:
    user = User(dev, "ev-put")
    data = b"arrived, never completed\n"
    granted = user.grant(filename="note.txt", content_type="text/plain", size=len(data))
    user.put(granted, data)

    record = user.settled(granted["upload_id"])

    assert record["status"] == "complete", record
    assert record["etag"], record


def test_a_post_upload_completes_by_itself_too(dev: DevStack) -> None:
    user = User(dev, "ev-post")
    data = b"posted\n"
    granted = user.grant(filename="form.txt", content_type="text/plain", size=len(data), method="POST")
    form = requests.post(
        granted["url"], data=granted["fields"], files={"file": ("form.txt", data)}, timeout=10
    )
    assert form.status_code in (200, 201, 204), form.text

    assert user.settled(granted["upload_id"])["status"] == "complete"


def test_html_declared_as_png_becomes_rejected_by_itself_and_its_object_is_gone(dev: DevStack) -> None:
    user = User(dev, "ev-html")
    html = b"<!DOCTYPE html><html><script>alert(document.domain)</script></html>"
    granted = user.grant(filename="cat.png", content_type="image/png", size=len(html))
    user.put(granted, html)

    record = user.settled(granted["upload_id"])

    assert record["status"] == "rejected", record
    assert any("HTML" in p for p in record.get("problems", [])), record
    # the object is gone: a download URL for it finds nothing
    dl = requests.post(
        f"{user.base}/downloads", json={"keys": [granted["key"]]}, headers=user.headers, timeout=10
    )
    assert dl.status_code == 200, dl.text
    assert requests.get(dl.json()["items"][0]["url"], timeout=10).status_code == 404


@pytest.mark.parametrize("sub", ["a+b=c@d|e:f~g", "plain"])
def test_keys_with_awkward_characters_complete(dev: DevStack, sub: str) -> None:
    user = User(dev, sub)
    data = b"awkward\n"
    granted = user.grant(filename="my photo (1) é 日本.txt", content_type="text/plain", size=len(data))
    assert " " in granted["key"] and "日本" in granted["key"], granted["key"]
    user.put(granted, data)

    assert user.settled(granted["upload_id"])["status"] == "complete"
