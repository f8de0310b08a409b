"""`make soak`'s short profile: make dev under mixed load with every fault injected once, then the
invariants from the storage and the tables (local/soak). The run's pass/fail is the invariants only,
never a timing; a failure prints the invariant and its evidence (the whole output is shown)."""

from __future__ import annotations

import os
import subprocess
import sys

from local.cfn import ROOT


def test_the_short_soak_keeps_every_invariant() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "local.soak", "--profile", "short"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}/layers/presign:{ROOT}", "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "soak: PASSED" in output, output
    # Every fault window was opened and closed (the log names each), the events one said why not.
    for fault in ("dynamodb paused", "storage slow", "storage killed", "clock skew"):
        assert f"end    {fault}" in output, f"no {fault!r} window:\n{output}"
    assert "events down: " in output, output
