"""What ships is what was tested: the layer installs a hash-pinned lock, and so do the tests.

``layers/presign/requirements.txt`` says what the layer needs (ranges); ``requirements.lock`` pins
every package of it, with hashes, resolved for CPython 3.13 on Lambda's platform (``make lock``).
The layer build and the dev virtualenv both install the lock with ``--require-hashes``, so these
tests fail when the lock, its input, the dev pins and the installed packages drift apart.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from local.cfn import ROOT

LAYER = ROOT / "layers" / "presign"
LOCK = LAYER / "requirements.lock"


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    hashes: tuple[str, ...]


def _logical_lines(path: Path) -> list[str]:
    """Requirement lines with their continuations joined and comments dropped."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = (line.split(" #", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def lock() -> dict[str, Pin]:
    pins = {}
    for line in _logical_lines(LOCK):
        requirement, *options = line.split()
        name, _, version = requirement.partition("==")
        assert re.fullmatch(r"[A-Za-z0-9._\-]+", name) and version, f"not an exact pin: {line}"
        hashes = tuple(o.removeprefix("--hash=sha256:") for o in options if o.startswith("--hash=sha256:"))
        assert len(hashes) == len(options), f"only --hash=sha256 options belong in the lock: {line}"
        pins[canonicalize_name(name)] = Pin(canonicalize_name(name), version, hashes)
    return pins


def _requirements(path: Path) -> list[Requirement]:
    return [Requirement(line) for line in _logical_lines(path) if not line.startswith("-")]


def test_every_locked_package_is_an_exact_pin_with_hashes() -> None:
    pins = lock()

    assert pins, "the lock is empty"
    for pin in pins.values():
        assert pin.hashes, f"{pin.name}=={pin.version} has no hash"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in pin.hashes), pin


def test_the_lock_satisfies_what_the_layer_asks_for() -> None:
    # Given the layer's own requirements (ranges) and the lock resolved from them
    pins = lock()
    wanted = _requirements(LAYER / "requirements.txt")

    # Then each is locked at a version its range allows, and its extras' dependencies are locked too
    for requirement in wanted:
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement} is not in the lock: run `make lock`"
        assert requirement.specifier.contains(pin.version, prereleases=True), (str(requirement), pin.version)
        for extra in requirement.extras:
            needed = importlib.metadata.requires(requirement.name) or []
            for dependency in (Requirement(d) for d in needed):
                if dependency.marker and dependency.marker.evaluate({"extra": extra}):
                    assert canonicalize_name(dependency.name) in pins, f"{requirement}: {dependency.name}"


def test_the_lock_leaves_boto3_to_the_runtime() -> None:
    assert not set(lock()) & {"boto3", "botocore", "s3transfer"}


def test_the_virtualenv_has_exactly_the_locked_versions() -> None:
    # The tests ran against these; the layer ships these.
    installed = {name: importlib.metadata.version(name) for name in lock()}

    assert installed == {name: pin.version for name, pin in lock().items()}


def test_the_dev_requirements_pin_the_same_versions_as_the_lock() -> None:
    dev = ROOT / "requirements-dev.txt"
    pins = lock()

    # Not "-c requirements.lock": a constraint with hashes puts the whole install in hash-checking
    # mode, and the dev tools carry none (a fresh `make venv` failed exactly so). The Makefile
    # constrains this install by the lock's pins without hashes instead (next tests).
    assert not [line for line in _logical_lines(dev) if line.startswith(("-c", "--constraint"))]
    for requirement in _requirements(dev):
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is not None:
            assert requirement.specifier.contains(pin.version), (str(requirement), pin.version)
            assert str(requirement.specifier) == f"=={pin.version}", f"pin {requirement.name} exactly"


def _dry_run(makefile_dir: Path, target: str, *variables: str) -> str:
    return subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(makefile_dir), target, *variables],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_layer_is_built_from_the_lock_with_hashes_required(tmp_path: Path) -> None:
    plan = _dry_run(LAYER, "build-PresignLayer", f"ARTIFACTS_DIR={tmp_path}", "PYTHON=python3")

    assert "--require-hashes" in plan and "--no-deps" in plan
    assert "--requirement requirements.lock" in plan
    assert "requirements.txt" not in plan


def test_the_virtualenv_installs_the_lock_first_with_hashes_required() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = re.search(r"^\$\(BIN\)/\.installed:(.*?)\n\n", makefile, re.MULTILINE | re.DOTALL)
    assert rule, "no $(BIN)/.installed rule"
    prerequisites, _, recipe = rule.group(1).partition("\n")

    # A changed lock rebuilds the virtualenv; the lock goes in hash-checked before anything else.
    assert "layers/presign/requirements.lock" in prerequisites.split()
    installs = [line.strip() for line in recipe.splitlines() if "pip install" in line and "-r " in line]
    assert installs[0].endswith("--require-hashes --no-deps -r layers/presign/requirements.lock"), installs
    assert installs[1].endswith("-c $(LOCK_PINS) -r requirements-dev.txt"), installs


def test_the_dev_constraint_is_the_lock_without_its_hashes(tmp_path: Path) -> None:
    # Given the constraint `make venv` writes for the dev tools' install
    pins_file = tmp_path / "pins.txt"
    subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(ROOT), "lock-pins", f"LOCK_PINS={pins_file}"],
        check=True,
    )
    text = pins_file.read_text(encoding="utf-8")

    # Then it holds every pin of the lock, exactly, and no hash (no hash-checking mode)
    assert "--hash" not in text and "\\" not in text, text[:500]
    pins = {
        canonicalize_name(r.name): str(r.specifier)
        for r in (Requirement(line) for line in _logical_lines(pins_file) if not line.startswith("#"))
    }
    assert pins == {name: f"=={pin.version}" for name, pin in lock().items()}


@pytest.mark.parametrize(("platform", "uv_platform"), [("manylinux_2_28_x86_64", "x86_64-manylinux_2_28")])
def test_make_lock_resolves_for_the_lambda_runtime(platform: str, uv_platform: str) -> None:
    # The platform comes from the same LAMBDA_PLATFORM the build downloads wheels for.
    assert re.search(rf"^LAMBDA_PLATFORM \?= {platform}$", (LAYER / "Makefile").read_text(), re.MULTILINE)

    plan = _dry_run(LAYER, "lock", "UV=uv")

    assert "--generate-hashes" in plan
    assert f"--python-version 3.13 --python-platform {uv_platform}" in plan
    assert "--output-file requirements.lock requirements.txt" in plan
    assert "--upgrade" not in plan and "--upgrade " in _dry_run(LAYER, "lock", "UV=uv", "UPGRADE=1")
    # UPGRADE="name ...": the newest of those, every other pin kept.
    some = _dry_run(LAYER, "lock", "UV=uv", "UPGRADE=argon2-cffi-bindings cffi")
    assert "--upgrade-package argon2-cffi-bindings" in some and "--upgrade-package cffi" in some
    assert "--upgrade " not in some
