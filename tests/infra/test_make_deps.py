"""`make deps`: the one place that installs the Debian packages `make test` and `make dev` need.

Root with apt-get installs what is missing (apt-get update first, as on a fresh Debian); anyone
else stops at once with one line naming the packages and the command; nothing missing is a no-op
that never calls apt-get. apt-get is replaced by a stub that records its calls (APT_GET) and
missing commands are simulated with a PATH of our own, so nothing is installed here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local.cfn import ROOT

# A command no machine has: "missing" without touching the real PATH.
ABSENT = "presign-test-absent-command"
# By its full path: some tests run make with a PATH that has no make on it.
MAKE = shutil.which("make") or "make"


@pytest.fixture
def apt_get(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in apt-get that appends its arguments to a file, one call a line."""
    calls = tmp_path / "apt-calls"
    stub = tmp_path / "apt-get"
    stub.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n', encoding="utf-8")
    stub.chmod(0o755)
    return stub, calls


def make_deps(*variables: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    # PYTHON: the interpreter running these tests is the runtime's (the venv's), so the Python
    # check passes and only the packages are judged.
    # Not the calling make's flags and level (make test runs these tests): a make of its own.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env |= {"PATH": path} if path else {}
    return subprocess.run(
        [MAKE, "--no-print-directory", "-s", "deps", f"PYTHON={sys.executable}", *variables],  # the last PYTHON= wins
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_nothing_missing_is_a_no_op_without_apt_get(apt_get: tuple[Path, Path]) -> None:
    stub, calls = apt_get

    done = make_deps("SYSTEM_PACKAGES=sh:dash make:make", f"APT_GET={stub}")

    assert done.returncode == 0, done.stderr
    assert done.stdout == done.stderr == ""
    assert not calls.exists(), calls.read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="installs only as root; test_not_root_... covers the rest")
def test_root_updates_then_installs_each_missing_package_once(apt_get: tuple[Path, Path]) -> None:
    stub, calls = apt_get

    done = make_deps(
        f"SYSTEM_PACKAGES=sh:dash {ABSENT}:nodejs {ABSENT}-npm:npm {ABSENT}:nodejs", f"APT_GET={stub}"
    )

    assert done.returncode == 0, done.stderr
    # A fresh Debian has no package lists yet: update first.
    assert calls.read_text().splitlines() == [
        "update -qq",
        "install -y -qq --no-install-recommends nodejs npm",
    ]


def test_without_apt_get_it_stops_at_once_naming_the_packages_and_the_command() -> None:
    done = make_deps(f"SYSTEM_PACKAGES={ABSENT}:chromium {ABSENT}-jq:jq", "APT_GET=/nonexistent/apt-get")

    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if not re.match(r"make(\[\d+\])?: \*\*\*", line)]
    assert len(lines) == 1, done.stderr
    assert "apt-get install -y chromium jq" in lines[0], lines[0]


def test_not_root_it_stops_at_once_and_says_what_root_would_run(
    apt_get: tuple[Path, Path], tmp_path: Path
) -> None:
    # Given an `id` that says uid 1000, first on PATH
    stub, calls = apt_get
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text("#!/bin/sh\necho 1000\n", encoding="utf-8")
    (fake / "id").chmod(0o755)

    done = make_deps(
        f"SYSTEM_PACKAGES={ABSENT}:chromium", f"APT_GET={stub}", path=f"{fake}:{os.environ['PATH']}"
    )

    assert done.returncode != 0
    assert "apt-get install -y chromium" in done.stderr and "as root" in done.stderr, done.stderr
    assert not calls.exists(), calls.read_text()


def test_what_it_checks_by_default_is_what_the_tests_use(tmp_path: Path) -> None:
    # A PATH with none of the packages' commands (only what the recipe itself runs): every
    # package is named, so a fresh machine gets all of them.
    bare = tmp_path / "bare"
    bare.mkdir()
    for tool in ("bash", "sh", "id"):
        found = shutil.which(tool)
        assert found, tool
        (bare / tool).symlink_to(found)

    done = make_deps("APT_GET=/nonexistent/apt-get", path=str(bare))

    named = re.search(r"apt-get install -y ([\w .+-]+?) \(as root\)", done.stderr)
    assert named, done.stderr
    assert set(named.group(1).split()) == {"chromium", "nodejs", "npm", "curl", "jq"}


def test_a_missing_python_stops_at_once_with_how_to_get_it() -> None:
    done = make_deps("PYTHON=/nonexistent/python3")

    assert done.returncode != 0
    assert re.search(r"presign needs Python 3\.\d+ .*pyenv install 3\.\d+", done.stderr), done.stderr


@pytest.mark.parametrize("target", ["test", "dev"])
def test_make_test_and_make_dev_install_the_packages_first(target: str) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = re.search(rf"^{target}:([^#\n]*)", makefile, re.MULTILINE)

    assert rule, target
    assert rule.group(1).split()[0] == "deps", rule.group(0)


def test_ci_runs_the_readmes_test_command_and_installs_nothing_itself() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in script.splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]

    # Anything CI needs beyond this, a developer's `make test` would lack too.
    assert commands == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "exec make test"], commands
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
