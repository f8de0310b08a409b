"""Running clients/js (@presign/client) from the e2e tests: tests/e2e/js/driver.mjs in a Node process
of its own per action, as a user's program runs it, its JSON lines read back.

The client is the one `make clients` built (clients/js/dist); its resume records go to the
XDG_STATE_HOME each test gives (a new process finds them there, as in a user's home).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from local.cfn import ROOT
from local.storage_proxy import Exchange
from tests.e2e.devstack import DevStack

CLIENT_JS = ROOT / "clients" / "js"
NODE_ENTRY = CLIENT_JS / "dist" / "node.js"
BROWSER_BUNDLE = CLIENT_JS / "dist" / "presign-client.min.js"
DRIVER = Path(__file__).resolve().parent / "js" / "driver.mjs"
MiB = 1024**2


def require_client_built() -> None:
    for path in (NODE_ENTRY, BROWSER_BUNDLE):
        assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run `make clients` (make test does)"


@dataclass
class Run:
    """What one driver process printed."""

    lines: list[dict[str, Any]]
    stderr: str
    returncode: int

    @property
    def events(self) -> list[dict[str, Any]]:
        return [line["event"] for line in self.lines if "event" in line]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    @property
    def result(self) -> Any:
        found = [line["result"] for line in self.lines if "result" in line]
        assert found, f"no result: {self}"
        return found[0]

    @property
    def error(self) -> dict[str, Any]:
        found = [line["error"] for line in self.lines if "error" in line]
        assert found, f"no error: {self}"
        return dict(found[0])

    @property
    def progress(self) -> tuple[int, bool, int | None]:
        """(how many reports, whether each was larger than the one before, the last one)."""
        (count, rising, last) = next(line["progress"] for line in self.lines if "progress" in line)
        return count, rising, last

    def __str__(self) -> str:
        return "\n".join(json.dumps(line) for line in self.lines) + f"\nstderr: {self.stderr[-2000:]}"


@dataclass
class Driver:
    """Runs actions for one caller against one stack, with resume records under ``state``."""

    stack: DevStack
    sub: str
    state: Path
    base_url: str | None = None
    client: str = str(NODE_ENTRY)
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.state.parent),
            "XDG_STATE_HOME": str(self.state),
            "PRESIGN_CLIENT": self.client,
            "PRESIGN_URL": self.base_url or self.stack.base_url,
            "TOKEN": self.stack.token(self.sub),
            **self.extra_env,
        }

    def start(
        self, plan: dict[str, Any], *, script: Path = DRIVER, cwd: Path | None = None
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["node", str(script)], cwd=cwd or self.state.parent, env={**self.env(), "PLAN": json.dumps(plan)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def run(self, plan: dict[str, Any], *, timeout: float = 120, **how: Any) -> Run:
        proc = self.start(plan, **how)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        run = Run(
            [json.loads(line) for line in stdout.splitlines() if line.startswith("{")],
            stderr,
            proc.returncode,
        )
        assert run.returncode == 0, f"node exited {run.returncode}:\n{run}"
        return run

    def records(self) -> list[Path]:
        """The resume record files the Node client's file store holds."""
        folder = self.state / "presign" / "uploads"
        return sorted(folder.glob("*.json")) if folder.is_dir() else []


def read_lines(proc: subprocess.Popen[str]) -> Iterator[dict[str, Any]]:
    """A running driver's JSON lines, as they come."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            yield json.loads(line)


def part_puts(log: list[Exchange]) -> list[tuple[int, int]]:
    """(part number, status) of every part PUT that reached the proxy, in order."""
    return [(e.part_number, e.status) for e in log if e.method == "PUT" and e.part_number is not None]


def stored_parts(log: list[Exchange]) -> list[int]:
    """Part numbers the storage accepted (200), in order."""
    return [number for number, status in part_puts(log) if status == 200]


def moto_pid(stack: DevStack) -> int:
    found = re.search(r"\(moto server\)\s+\S+\s+pid (\d+)", stack.banner)
    assert found, stack.banner
    return int(found[1])


def random_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def driver(stack: DevStack, tmp_path: Path, name: str) -> Driver:
    """A caller of its own (make dev's upload limit, 5 at once, is per sub), with its own home."""
    home = tmp_path / f"home-{name}"
    (home / "state").mkdir(parents=True)
    return Driver(stack, f"js-{name}-{uuid.uuid4().hex[:8]}", home / "state")


def api(stack: DevStack, sub: str, method: str, path: str, **kw: Any) -> requests.Response:
    auth = {"Authorization": f"Bearer {stack.token(sub)}"}
    return requests.request(method, f"{stack.base_url}{path}", headers=auth, timeout=30, **kw)


def uploads_of(stack: DevStack, sub: str) -> list[dict[str, Any]]:
    answer = api(stack, sub, "GET", "/uploads?limit=100")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items
