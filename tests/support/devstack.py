"""`make dev` in a child process (python -m local.dev on free ports) and Debian's chromium, for
the browser tests of the pages in examples/ (served by make dev from a second origin)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from local.token import mint_token

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextlib.contextmanager
def running_dev(tmp: Path) -> Iterator[dict[str, Any]]:
    """The real stack; yields its state file (base_url, web_url, jwt_secret, issuer, audience)."""
    state_file = tmp / "state.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "local.dev", "--port", "0", "--data-dir", str(tmp / "data"),
         "--state-file", str(state_file)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": f"{ROOT}/layers/presign:{ROOT}"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not state_file.exists():
            assert proc.poll() is None, "make dev exited early"
            assert time.monotonic() < deadline, "make dev did not start within 60 s"
            time.sleep(0.2)
        yield json.loads(state_file.read_text())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def dev_token(state: dict[str, Any], sub: str) -> str:
    return mint_token(sub, secret=state["jwt_secret"], issuer=state["issuer"], audience=state["audience"])


def require_examples_built() -> None:
    """The pages load packages `make examples` installs (npm ci from the lock) and bundles."""
    for path in (
        "examples/node_modules/swagger-ui-dist/swagger-ui-bundle.js",
        "examples/uppy/vendor/aws-s3.js",
    ):
        assert (ROOT / path).is_file(), f"{path} is missing: run `make examples` (make test does)"
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
