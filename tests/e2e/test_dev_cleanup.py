"""`make cleanup` (and `DRY_RUN=1`) against a running `make dev`: the counts match what was left.

The dev stack runs as a user starts it (``python -m local.dev``); uploads are made through its
API and stored through the URLs it issued, then left uncompleted. `make dev` sets no grace, so
they are stale once their five-second URLs have expired (the test waits for that moment). Those
whose file arrived are completed by the storage's events first (make dev's feed): the cleanup
finds only what never arrived.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from local.cfn import ROOT
from local.token import mint_token
from tests.e2e.devstack import run_dev

pytestmark = pytest.mark.realserver
ENV = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'presign'}:{ROOT}", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("dev-cleanup")
    with run_dev(tmp, timeout=90) as stack:
        lines = stack.lines
        assert "CleanupFunction" in "".join(lines), "".join(lines)
        yield tmp / "state.json"


def make_cleanup(state: Path, *, dry_run: bool) -> tuple[dict[str, Any], str]:
    """`make cleanup [DRY_RUN=1]`, pointed at this test's stack: its JSON answer and the table."""
    bin_dir = Path(sys.executable).parent
    # -o: the venv running this test is the one to use; never rebuild it from here.
    command = ["make", "--no-print-directory", "-o", f"{bin_dir}/.installed", "cleanup", f"BIN={bin_dir}",
               f"STATE={state}"]  # fmt: skip
    if dry_run:
        command.append("DRY_RUN=1")
    done = subprocess.run(
        [*command], cwd=ROOT, env=ENV, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    answer, _, table = done.stdout.partition("\n}\n")
    return json.loads(answer + "\n}"), table


def test_make_cleanup_counts_what_was_left_behind_and_cleans_it(dev: Path) -> None:
    state = json.loads(dev.read_text())
    base, token = state["base_url"], mint_token("alice", secret=state["jwt_secret"], ttl=600)
    headers = {"authorization": f"Bearer {token}"}

    # Given three uploads left uncompleted, two of which stored their file through the URL
    granted = []
    for i in range(3):
        made = requests.post(f"{base}/uploads", json={"filename": "left.txt", "content_type": "text/plain",
                                                     "size": 5, "expires_in": 5}, headers=headers, timeout=10)  # fmt: skip
        assert made.status_code == 201, made.text
        granted.append(made.json())
        if i < 2:  # stored at once, while its URL is valid
            stored = requests.put(
                granted[-1]["url"], data=b"hello", headers=granted[-1]["headers"], timeout=10
            )
            assert stored.status_code == 200, stored.text
    # ... and their URLs have expired (the stack's clock is the real one)
    last = max(datetime.fromisoformat(g["expires_at"].replace("Z", "+00:00")) for g in granted)
    while datetime.now(UTC) < last + timedelta(seconds=1):  # stale: expired a whole second ago
        time.sleep(0.2)

    def statuses() -> list[str]:
        return [
            requests.get(f"{base}/uploads/{g['upload_id']}", headers=headers, timeout=10).json()["status"]
            for g in granted
        ]

    # ... the two whose file arrived were completed by the storage's events (make dev's feed)
    deadline = time.monotonic() + 45
    while statuses() != ["complete", "complete", "pending"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert statuses() == ["complete", "complete", "pending"]

    # When `make cleanup DRY_RUN=1` runs, Then it counts what is left and changes nothing
    dry, table = make_cleanup(dev, dry_run=True)
    assert dry["dry_run"] is True and dry["totals"]["single_expired"] == 1, dry
    assert dry["totals"]["objects_deleted"] == 0 and dry["totals"]["completed_by_cleanup"] == 0, dry
    assert "single_expired" in table and "dry run" in table, table
    assert statuses() == ["complete", "complete", "pending"]

    # When `make cleanup` runs, Then it does what the dry run said, and a second run finds nothing
    real, _ = make_cleanup(dev, dry_run=False)
    assert real["totals"] == dry["totals"], (real, dry)
    assert statuses() == ["complete", "complete", "expired"]
    again, _ = make_cleanup(dev, dry_run=True)
    assert again["totals"]["single_expired"] == 0 and again["totals"]["objects_deleted"] == 0, again


def test_the_invoke_endpoint_serves_only_functions_without_routes_and_refuses_bad_payloads(dev: Path) -> None:
    from local.invoke import invoke

    base = json.loads(dev.read_text())["base_url"]
    # An HTTP function is reached through its routes only (in gateway mode anyone invoking it
    # could claim to be any user), and an unknown name is Lambda's 404
    for name in ("UploadsFunction", "NoSuchFunction"):
        ok, answer = invoke(base, name, {})
        assert not ok and "Function not found" in answer["message"], answer
    # A payload the cleanup does not understand is the contract's error shape, not a crash
    ok, answer = invoke(base, "CleanupFunction", {"dry_run": "yes"})
    assert ok and answer["error"]["code"] == "invalid_request" and answer["error"]["request_id"], answer
    not_json = requests.post(
        f"{base}/2015-03-31/functions/CleanupFunction/invocations",
        data=b"{",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert not_json.status_code == 400, not_json.text


def test_a_web_page_cannot_make_the_dev_stack_run_its_cleanup_or_doctor(dev: Path) -> None:
    # A browser sends a "simple" cross-site POST (text/plain, no preflight) to any loopback port;
    # the answer would be unreadable, but the run would happen. The Invoke endpoint is for
    # `make cleanup` and `make doctor`, never for a page: anything with an Origin or without a
    # JSON content type is refused before the handler runs.
    base = json.loads(dev.read_text())["base_url"]
    url = f"{base}/2015-03-31/functions/CleanupFunction/invocations"
    for headers in (
        {"Origin": "http://evil.example", "Content-Type": "text/plain"},
        {"Origin": "http://evil.example", "Content-Type": "application/json"},
        {"Content-Type": "text/plain"},
        {},
    ):
        refused = requests.post(url, data=b'{"doctor": true}', headers=headers, timeout=10)
        assert refused.status_code == 403, (headers, refused.status_code, refused.text)
        assert "checks" not in refused.text and "totals" not in refused.text, refused.text
