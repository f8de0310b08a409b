"""``python -m local.sizes``: no module of ours over 400 lines (``make lint`` runs it).

Every Python file git tracks counts (the layer, the functions, ``local/``, ``benchmarks/``, the
Python client), except the tests: a module that outgrows the limit has more than one job, and is
split by them (docs/architecture.md). Exit status 1, naming each file, when one is over.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from local.cfn import ROOT

LIMIT = 400
EXEMPT = ("tests/",)


def python_files(root: Path) -> list[Path]:
    """The Python files git tracks (and those it does not track yet but would), tests aside."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        root / name for name in sorted(set(listed)) if not name.startswith(EXEMPT) and (root / name).is_file()
    ]


def oversized(root: Path, limit: int = LIMIT) -> dict[str, int]:
    found = {}
    for path in python_files(root):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found[str(path.relative_to(root))] = lines
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.sizes", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=LIMIT)
    args = parser.parse_args(argv)
    found = oversized(ROOT, args.limit)
    for name, lines in found.items():
        print(f"{name}: {lines} lines, over {args.limit}: split it by its jobs", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
