"""make dev's share walk-through (issue 10), verbatim: a protected link good for two downloads,
opened without and with its password, and its limit seen to hold on the third attempt.

The lines `python -m local.dev` prints run in a fresh shell against the real handlers, a real
SeaweedFS and a moto server.
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


def test_the_walk_through_shares_a_file_and_the_third_download_is_refused(tmp_path: Path) -> None:
    with run_dev(tmp_path, data_dir="dev") as stack:
        lines = stack.lines
        text = "".join(lines)
        for route in ("POST /shares", "GET /s/{share_id}", "POST /s/{share_id}", "DELETE /shares/{share_id}"):
            assert route in text, text

        # When the printed lines run, up to the share walk-through's end
        start = next(i for i, line in enumerate(lines) if line.startswith("export PRESIGN_URL="))
        end = next(i for i, line in enumerate(lines) if line.startswith("# 11."))
        shell = subprocess.run(
            ["bash", "-c", "set -e\n" + "".join(lines[start:end])],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
        )  # fmt: skip
        out = shell.stdout
        assert shell.returncode == 0, out + shell.stderr

        # Then: the link was made, refused without its password, gave the file twice, then 410
        answers = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        share, required, exhausted = answers[-3:]
        assert share["password_protected"] is True and share["max_downloads"] == 2, share
        assert share["url"].startswith("http://127.0.0.1:") and share["url"].endswith(share["share_id"])
        assert required["error"]["code"] == "password_required", required
        assert out.count("hello from presign\n") == 2, out
        assert exhausted["error"]["code"] == "share_exhausted", exhausted
