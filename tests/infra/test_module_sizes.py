"""No module of ours over 400 lines (``python -m local.sizes``, run by ``make lint``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from local.sizes import LIMIT, main, oversized

ROOT = Path(__file__).resolve().parents[2]


def test_no_module_outside_the_tests_is_over_the_limit() -> None:
    assert oversized(ROOT) == {}, oversized(ROOT)


def test_a_module_over_the_limit_is_named_and_a_test_is_not(tmp_path: Path) -> None:
    # Given a repository with one module over the limit, one at it, and an oversized test
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "big.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "fits.py").write_text("x = 1\n" * LIMIT)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_big.py").write_text("x = 1\n" * (LIMIT * 2))

    # When / Then
    assert oversized(tmp_path) == {"big.py": LIMIT + 1}


def test_the_command_passes_on_this_tree() -> None:
    assert main([]) == 0
