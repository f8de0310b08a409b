"""What bench_coldstart measures, built for one Lambda Python runtime.

For each runtime (a Python minor version such as 3.13) three things are built, once, and reused
while their sources are unchanged:
  candidate    `sam build`'s output: `.aws-sam/build` for template.yaml's own runtime, and for any
               other runtime a build of its own (`.aws-sam/bench-<version>/build`) made by the same
               makefiles with LAMBDA_PYTHON and PYTHON set to that version, so its bytecode is
               that version's.
  baseline     benchmarks/baseline with its dependencies vendored for that version (the layer's
               wheels: `make -C layers/presign wheel-args`), plain and with bytecode.
  runtime dir  boto3 and its dependencies, as Lambda's runtime provides them, compiled by it.

Each needs that version's interpreter: the one running this when it is that version, else
`python3.X` if it runs, else pyenv's (`$(pyenv root)/versions/3.X.*`).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from local.cfn import load_template  # noqa: E402 - needs ROOT on sys.path

BUILD = ROOT / ".aws-sam" / "build"
BASELINE_SRC = ROOT / "benchmarks" / "baseline"
LAYER_DIR = ROOT / "layers" / "presign"
LAYER_LOCK = LAYER_DIR / "requirements.lock"
# What Lambda's Python runtimes provide besides the standard library.
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")


class BenchError(RuntimeError):
    """The benchmark cannot run (no sam, no interpreter, a wrong answer): say why, then stop."""


@dataclass(frozen=True)
class Runtime:
    version: str  # "3.13"
    python: str  # an interpreter of that version
    build_dir: Path  # where `sam build` puts its functions and layer

    @property
    def name(self) -> str:
        return f"python{self.version}"

    @property
    def layer_site(self) -> Path:
        return self.build_dir / "PresignLayer" / "python"


def template_runtime() -> str:
    """The Python version of template.yaml's runtime: python3.13 -> 3.13."""
    runtime = str(load_template()["Globals"]["Function"]["Runtime"])
    return runtime.removeprefix("python")


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def _runs_as(python: str, version: str) -> bool:
    code = f"import sys; sys.exit(sys.version_info[:2] != {_version_tuple(version)!r})"
    try:
        return subprocess.run([python, "-c", code], capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def find_python(version: str) -> str:
    """An interpreter of that version. Found by running it: pyenv's shim for a version that is not
    selected is on PATH all the same, and exits 127."""
    if sys.version_info[:2] == _version_tuple(version):
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    if shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False).stdout.strip()
        installed = Path(root).glob(f"versions/{version}.*/bin/python{version}") if root else []
        candidates += sorted(map(str, installed))
    for candidate in candidates:
        if candidate and _runs_as(candidate, version):
            return candidate
    raise BenchError(
        f"no Python {version} to measure it with: pyenv install {version}, or put python{version} on PATH"
    )


def runtimes(versions: Iterable[str] | None = None) -> list[Runtime]:
    """Each version with its interpreter and build: `.aws-sam/build` for the template's runtime."""
    own = template_runtime()
    return [
        Runtime(v, find_python(v), BUILD if v == own else ROOT / ".aws-sam" / f"bench-{v}" / "build")
        for v in (versions or [own])
    ]


# --- the candidate: sam build -------------------------------------------------------------------


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for base in paths:
        files = [base] if base.is_file() else base.rglob("*")
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                newest = max(newest, path.stat().st_mtime)
    return newest


def _sources(functions: set[str]) -> list[Path]:
    template = load_template()
    dirs = [ROOT / template["Resources"][name]["Properties"]["CodeUri"] for name in functions]
    return [ROOT / "template.yaml", LAYER_DIR, ROOT / "functions" / "function.mk", *dirs]


def _sam() -> str | None:
    for candidate in (os.environ.get("SAM"), str(ROOT / ".venv-sam" / "bin" / "sam"), shutil.which("sam")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def ensure_candidate(runtime: Runtime, functions: set[str], build: bool = True) -> None:
    """Run `sam build` for this runtime when its output is missing or older than its sources."""
    out = runtime.build_dir
    needed = [runtime.layer_site, *(out / name for name in functions)]
    built_at = (out / "template.yaml").stat().st_mtime if (out / "template.yaml").exists() else 0.0
    fresh = all(p.exists() for p in needed) and built_at >= _newest_mtime(_sources(functions))
    if fresh or not build:
        if not all(p.exists() for p in needed):
            raise BenchError(f"no sam build output in {out.relative_to(ROOT)}: run without --no-build")
        return
    sam = _sam()
    if sam is None:
        raise BenchError("sam not found (set SAM=/path/to/sam or `make build`)")
    print(f"bench_coldstart: sam build for {runtime.name} (output missing or stale) ...", file=sys.stderr)
    command = [sam, "build", "--parallel"]
    if out != BUILD:
        # Another runtime's build: its own output and cache, or sam would reuse the other's layer.
        command += ["--build-dir", str(out), "--cache-dir", str(out.parent / "cache")]
    env = os.environ | {"PYTHON": runtime.python, "LAMBDA_PYTHON": runtime.version}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BenchError(f"sam build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


# --- the baseline and the runtime's own packages ------------------------------------------------


def _stamp_ok(directory: Path, stamp: str) -> bool:
    marker = directory / ".bench-stamp"
    return marker.exists() and marker.read_text(encoding="utf-8") == stamp


def _write_stamp(directory: Path, stamp: str) -> None:
    (directory / ".bench-stamp").write_text(stamp, encoding="utf-8")


def wheel_args(version: str) -> list[str]:
    """The layer's pip arguments for Lambda's platform (its Makefile's), for that Python."""
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(LAYER_DIR), "wheel-args", f"LAMBDA_PYTHON={version}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode or "--platform" not in done.stdout:
        raise BenchError(f"make wheel-args in {LAYER_DIR}: {done.stdout}{done.stderr}")
    return done.stdout.split()


def _compile(python: str, directory: Path) -> None:
    flags = ["-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    subprocess.run([python, "-m", "compileall", *flags, str(directory)], check=True)


def ensure_baseline(runtime: Runtime) -> tuple[Path, Path]:
    """The baseline without bytecode (as a plain `sam build` ships it) and with it."""
    base = ROOT / ".aws-sam" / "bench-baseline" / runtime.version
    sources = sorted(p for p in BASELINE_SRC.iterdir() if p.is_file() and p.suffix in (".py", ".txt"))
    args = wheel_args(runtime.version)
    stamp = json.dumps(
        {p.name: p.read_text(encoding="utf-8") for p in [*sources, LAYER_LOCK]} | {"args": args}
    )
    plain, compiled = base / "plain", base / "compiled"
    if _stamp_ok(base, stamp) and plain.is_dir() and compiled.is_dir():
        return plain, compiled
    print(f"bench_coldstart: building the baseline for {runtime.name} ...", file=sys.stderr)
    shutil.rmtree(base, ignore_errors=True)
    plain.mkdir(parents=True)
    # This interpreter's pip (the dev venv's, a known version) installs the runtime's wheels: the
    # wheel arguments name its version and platform, and nothing is compiled here (--no-compile).
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-conflicts",
         "--root-user-action=ignore", "--no-compile", *args, "--target", str(plain),
         "--requirement", str(BASELINE_SRC / "requirements.txt"), "--constraint", str(LAYER_LOCK)],
        check=True,
    )  # fmt: skip
    shutil.copy2(BASELINE_SRC / "app.py", plain / "app.py")
    for cache in list(plain.rglob("__pycache__")):
        shutil.rmtree(cache)
    shutil.copytree(plain, compiled)
    _compile(runtime.python, compiled)
    _write_stamp(base, stamp)
    return plain, compiled


def ensure_runtime(runtime: Runtime) -> Path:
    """boto3 and its dependencies, as Lambda's Python runtime provides them (pure Python: copied
    from this interpreter's environment, compiled by the runtime's)."""
    target_dir = ROOT / ".aws-sam" / "bench-runtime" / runtime.version
    dists = [importlib.metadata.distribution(name) for name in RUNTIME_DISTRIBUTIONS]
    stamp = json.dumps({d.metadata["Name"]: d.version for d in dists} | {"python": runtime.python})
    if _stamp_ok(target_dir, stamp):
        return target_dir
    shutil.rmtree(target_dir, ignore_errors=True)
    target_dir.mkdir(parents=True)
    for dist in dists:
        for file in dist.files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue  # console scripts; bytecode is compiled below
            source = Path(str(dist.locate_file(file)))
            target = target_dir / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # The runtime's files keep their mtimes, so its (default, timestamp) bytecode stays valid.
    subprocess.run([runtime.python, "-m", "compileall", "-q", "-j", "0", str(target_dir)], check=True)
    _write_stamp(target_dir, stamp)
    return target_dir
