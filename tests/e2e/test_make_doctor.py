"""``make doctor`` against ``make dev``: the real template's stack, checked end to end.

The issue's "done when": ``make doctor`` against ``make dev`` prints every check passing. ``make
doctor`` runs ``python -m local.doctor`` (checked against the Makefile below), which reads the
state file the running ``make dev`` wrote; here both run as subprocesses, as in two shells.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.cfn import ROOT
from presign.doctor.checks import CHECKS
from tests.e2e.devstack import run_dev

pytestmark = pytest.mark.realserver

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": f"{ROOT / 'layers' / 'presign'}:{ROOT}"}


def _doctor(state: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local.doctor", "--state-file", str(state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**ENV, "HOME": str(tmp_path)},
    )


def test_make_doctor_runs_local_doctor() -> None:
    recipe = re.search(r"^doctor:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe and recipe.group(1) == "$(BIN)/python -m local.doctor", recipe


def test_make_doctor_without_make_dev_says_how_to_start_it(tmp_path: Path) -> None:
    done = _doctor(tmp_path / "no-state.json", tmp_path)

    assert done.returncode == 2, done
    assert "no running `make dev` found" in done.stderr and "python -m presign.doctor --config" in done.stderr


def test_make_doctor_against_make_dev_prints_every_check_passing(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with run_dev(tmp_path, data_dir="dev", environ=ENV) as stack:
        lines = stack.lines
        assert any("make doctor" in line for line in lines), "".join(lines)

        # When
        done = _doctor(state, tmp_path)

        # Then every check passes, one line each, and exit status 0
        out = done.stdout
        assert done.returncode == 0, out + done.stderr
        applicable = [c for c in CHECKS if c != "events"]  # EventBridge delivery is AWS S3's
        for check in ("clock", "credentials", *applicable):
            assert re.search(rf"^PASS  local  {check}\b", out, re.MULTILINE), f"{check}:\n{out}"
        assert re.search(r"^SKIP  local  events +not applicable", out, re.MULTILINE), out
        assert not re.search(r"^(WARN|FAIL)", out, re.MULTILINE), out
        assert out.rstrip().endswith(f"presign doctor: {2 + len(applicable)} PASS, 1 SKIP"), out
        # And nothing secret is printed: not the S3 secret, not the JWT secret, no signature
        written = json.loads(state.read_text())
        for secret in (written["doctor"]["env"]["PRESIGN_S3_SECRET_ACCESS_KEY"], written["jwt_secret"]):
            assert secret not in out + done.stderr
        assert "Signature=" not in out
        assert oct(state.stat().st_mode & 0o777) == "0o600"

        # And {"doctor": true} to the cleanup function, through the emulator, finds the same
        invoked = subprocess.run(
            [sys.executable, "-m", "local.invoke", "CleanupFunction", "--payload", '{"doctor": true}',
             "--state-file", str(state)],
            cwd=ROOT, capture_output=True, text=True, timeout=120, env={**ENV, "HOME": str(tmp_path)},
        )  # fmt: skip
        assert invoked.returncode == 0, invoked.stdout + invoked.stderr
        answer = json.loads(invoked.stdout)
        assert answer["ok"] is True, answer
        assert {f["check"]: f["status"] for f in answer["findings"]} == {
            **dict.fromkeys(("clock", "credentials", *applicable), "PASS"),
            "events": "SKIP",
        }, answer
    # make dev removes its state on exit, so a later make doctor does not check a stopped stack
    assert not state.exists()
