"""The installed ``presign`` command against `make dev` with the storage proxy in front of SeaweedFS.

The command is the one `make clients` installs into ``.venv-client`` (``pip install
./clients/python`` on Python 3.11), run as a user runs it: a process, with ``PRESIGN_URL`` and
``PRESIGN_TOKEN`` in its environment and a state directory of its own. The stack is `make dev`
itself (``run_dev(..., "--storage-proxy")``): real SigV4 checks by SeaweedFS, the template's
functions in the API Gateway emulator, and a proxy that counts every request that reached the
storage and injects the faults a test asks for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from local.proxy_control import ProxyControl
from local.storage_proxy import Exchange
from tests.e2e.devstack import DevStack, run_dev

ROOT = Path(__file__).resolve().parents[2]
PRESIGN = ROOT / ".venv-client" / "bin" / "presign"
MiB = 1024 * 1024
BIG_SIZE = 11 * MiB  # make dev: in parts above 8 MiB, 5 MiB each: 5 + 5 + 1 MiB


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    assert PRESIGN.exists(), f"{PRESIGN} is missing: run `make clients` (make test does)"
    with run_dev(tmp_path_factory.mktemp("dev-cli"), "--storage-proxy") as running:
        yield running


@pytest.fixture
def proxy(stack: DevStack) -> Iterator[ProxyControl]:
    control = ProxyControl(stack.state["storage_proxy"])
    control.set_faults([])
    yield control
    control.set_faults([])


@dataclass
class Caller:
    """One caller of the API (a fresh ``sub``: make dev's upload limit is per caller) with a
    home and a state directory of their own."""

    stack: DevStack
    sub: str
    home: Path

    @property
    def token(self) -> str:
        return self.stack.token(self.sub)

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "PRESIGN_URL": self.stack.base_url,
            "PRESIGN_TOKEN": self.token,
            "PRESIGN_STATE_DIR": str(self.state_dir),
            **extra,
        }

    def run(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None, stdin: str = ""
    ) -> Run:
        started = time.monotonic()
        done = subprocess.run(
            [str(PRESIGN), *args],
            env=env or self.env(),
            cwd=self.home,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(PRESIGN), *args],
            env=env or self.env(),
            cwd=self.home,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return requests.request(method, self.stack.base_url + path, headers=headers, timeout=30, **kwargs)

    def records(self) -> list[Path]:
        """The resume records the CLI left (files under the state directory)."""
        return sorted(self.state_dir.glob("uploads/*.json"))


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    def ok(self) -> Run:
        assert self.code == 0, f"exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"
        return self

    def document(self) -> Any:
        """stdout as exactly one JSON document, and nothing else."""
        assert self.stdout.endswith("\n") and self.stdout.count("\n") == 1, self.stdout
        return json.loads(self.stdout)


@pytest.fixture
def caller(stack: DevStack, tmp_path: Path) -> Caller:
    home = tmp_path / "home"
    home.mkdir()
    return Caller(stack, f"cli-{uuid.uuid4().hex[:10]}", home)


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[[str, int], Path]:
    def make(name: str, size: int) -> Path:
        path = tmp_path / name
        path.write_bytes(os.urandom(size))
        return path

    return make


def part_puts(proxy: ProxyControl, key_part: str, since: int = 0) -> list[Exchange]:
    """The part PUTs that reached the proxy for keys containing ``key_part``, in order."""
    return [
        e for e in proxy.log(since) if e.method == "PUT" and e.part_number is not None and key_part in e.path
    ]


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Poll ``condition`` until it answers something truthy (a condition, never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.1)


def moto_pid(stack: DevStack) -> int:
    found = re.search(r"\(moto server\)\s+\S+\s+pid (\d+)", stack.banner)
    assert found, stack.banner
    return int(found[1])
