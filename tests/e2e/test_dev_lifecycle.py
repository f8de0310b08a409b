"""make dev with the real template: the printed walk-through uploads, completes, lists and deletes,
then uploads a file in parts and reads it back.

The new user's path from issue 8, verbatim: the lines `python -m local.dev` prints, run in a fresh
shell against the real handlers, a real SeaweedFS and a moto server.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from local.cfn import ROOT
from tests.e2e.devstack import run_dev

pytestmark = pytest.mark.realserver


def test_the_walk_through_completes_lists_and_deletes_an_upload(tmp_path: Path) -> None:
    with run_dev(tmp_path) as stack:
        lines = stack.lines
        text = "".join(lines)
        for route in ("POST /uploads/{upload_id}/complete", "GET /uploads ", "DELETE /uploads/{upload_id}"):
            assert route in text, text

        # When the printed lines run, up to the status read after the delete
        start = next(i for i, line in enumerate(lines) if line.startswith("export PRESIGN_URL="))
        end = next(i for i, line in enumerate(lines) if line.startswith("# 14."))
        shell = subprocess.run(
            ["bash", "-c", "set -e\n" + "".join(lines[start:end])],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
        )
        out = shell.stdout
        assert shell.returncode == 0, out + shell.stderr

        # Then each step answered what the walk-through says
        answers = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        # (steps 7-10 are the share walk-through: tests/e2e/test_dev_shares.py)
        grant, completed, listed, _download, *_share_steps, after, big_completed, later = answers
        assert completed == {
            "upload_id": grant["upload_id"],
            "key": grant["key"],
            "size": len("hello from presign\n"),
            "content_type": "text/plain",
            "etag": completed["etag"],
            "status": "complete",
        }, completed
        assert (
            listed["items"][0]["upload_id"] == grant["upload_id"]
            and listed["items"][0]["status"] == "complete"
        )
        assert "same bytes" in out and "DELETE -> HTTP 204" in out, out
        assert after["error"]["code"] == "upload_deleted", after
        # And the file above the threshold went in three parts, completed, and came back whole
        assert out.count("PUT part ") == 3 and "PUT part 3/3 (2097152 bytes) -> HTTP 200" in out, out
        assert big_completed["status"] == "complete" and big_completed["size"] == 12582912, big_completed
        assert big_completed["etag"].strip('"').endswith("-3"), big_completed
        assert "same bytes, in parts" in out, out
        # And the upload nobody completed is complete by itself (the storage's event)
        assert later["status"] == "complete" and later["size"] == len("hello from presign\n"), later
