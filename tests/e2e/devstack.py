"""`make dev` as the browser tests run it: ``python -m local.dev --port 0`` in a child process, its
banner read line by line, its state file read, and everything stopped at the end.

Chromium is Debian's (``apt-get install chromium``; make deps installs it), launched headless.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.cfn import ROOT
from local.token import mint_token

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BANNER_END = "Ctrl-C stops everything."


class LineReader:
    """Collects a child's output lines on a thread, so waiting for one never blocks past a timeout."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self._stream = proc.stdout
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for line in self._stream:
            self._queue.put(line)
        self._queue.put("")  # end of output

    def readline(self, timeout: float) -> str:
        try:
            return self._queue.get(timeout=max(0.01, timeout))
        except queue.Empty:
            raise AssertionError(f"no output within {timeout:.0f} s") from None

    def available(self) -> str:
        """What the child printed since the last read, without waiting."""
        lines = []
        while not self._queue.empty():
            lines.append(self._queue.get())
        return "".join(lines)

    def rest(self, timeout: float = 20) -> str:
        self._thread.join(timeout)
        lines = []
        while not self._queue.empty():
            lines.append(self._queue.get())
        return "".join(lines)


@dataclass
class DevStack:
    """A running `make dev`: what it printed and what it wrote to its state file."""

    lines: list[str]
    state: dict[str, Any] = field(default_factory=dict)
    #: The `make dev` process and what it prints after its banner, for a test that stops it itself.
    proc: subprocess.Popen[str] | None = None
    reader: LineReader | None = None

    @property
    def base_url(self) -> str:
        return str(self.state["base_url"])

    @property
    def web_url(self) -> str:
        return str(self.state["web_url"])

    @property
    def banner(self) -> str:
        return "".join(self.lines)

    def printed_after(self, heading: str) -> str:
        """The line printed right after the one starting with ``heading``."""
        for i, line in enumerate(self.lines[:-1]):
            if line.startswith(heading):
                return self.lines[i + 1].strip()
        raise AssertionError(f"make dev printed no {heading!r}:\n{self.banner}")

    def token(self, sub: str) -> str:
        return dev_token(self.state, sub)


def dev_token(state: dict[str, Any], sub: str) -> str:
    """A token the stack whose state file this is accepts, for ``sub``."""
    return mint_token(sub, secret=state["jwt_secret"], issuer=state["issuer"], audience=state["audience"])


@contextlib.contextmanager
def run_dev(
    tmp: Path, *extra: str, timeout: float = 60, data_dir: str = "data", environ: dict[str, str] | None = None
) -> Iterator[DevStack]:
    """``python -m local.dev --port 0`` until its banner ends (within ``timeout`` seconds); SIGINT
    (then SIGKILL) at the end unless the test stopped it. ``extra``: more arguments (``--template``);
    ``environ``: variables over this process's."""
    state_file = tmp / "state.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "local.dev", "--port", "0", "--data-dir", str(tmp / data_dir),
         "--state-file", str(state_file), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT}/layers/presign:{ROOT}", "PYTHONUNBUFFERED": "1",
             **(environ or {})},
    )  # fmt: skip
    reader = LineReader(proc)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + timeout
        while not lines or BANNER_END not in lines[-1]:
            line = reader.readline(deadline - time.monotonic())
            if not line:
                raise AssertionError("make dev exited:\n" + "".join(lines))
            lines.append(line)
        yield DevStack(lines=lines, state=json.loads(state_file.read_text()), proc=proc, reader=reader)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium, headless, as every browser test runs it."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium (make deps does)"
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def require_examples_built() -> None:
    """The pages load packages `make examples` installs (npm ci from the lock) and bundles."""
    for path in (
        "examples/node_modules/swagger-ui-dist/swagger-ui-bundle.js",
        "examples/uppy/vendor/aws-s3.js",
    ):
        assert (ROOT / path).is_file(), f"{path} is missing: run `make examples` (make test does)"


def allow_in_the_buckets_cors(state: dict[str, Any], origin: str) -> None:
    """Name ``origin`` in the dev bucket's CORS rule, as a deployment names each of its SPAs'
    origins (make dev's rule names its examples' origin only): for a test's own page."""
    import boto3
    from botocore.config import Config

    env = state["doctor"]["env"]  # the stack's own target and storage keys (its state file)
    config = json.loads(env["PRESIGN_CONFIG"])
    target = config["targets"][config["default_target"]]
    s3 = boto3.client(
        "s3",
        endpoint_url=target["endpoint_url"],
        region_name=target["region"],
        aws_access_key_id=env["PRESIGN_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["PRESIGN_S3_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}),
    )
    rules = s3.get_bucket_cors(Bucket=target["bucket"])["CORSRules"]
    rules[0]["AllowedOrigins"].append(origin)
    s3.put_bucket_cors(Bucket=target["bucket"], CORSConfiguration={"CORSRules": rules})
