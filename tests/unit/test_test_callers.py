"""The tests' own callers: every sub a test makes up is random, never derived from ``id()``.

Rate limits are per caller, in tables that live as long as a test module's moto server. CPython
hands a freed object's address to the next object, so a sub built from ``id(...)`` can come back
in a later test, which then starts with the budget an earlier test spent: a 429 that depends on
what the garbage collector did (seen as ``upload_list`` answering 429 in a clean-clone run).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.functions import ROOT
from tests.support.lifecycle import fresh_sub

TESTS = ROOT / "tests"


def _id_calls_in_fstrings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "id":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_test_names_anything_after_an_object_id() -> None:
    # Given every test module and support file
    # When f-strings that call id() are looked for
    found = [hit for path in sorted(TESTS.rglob("*.py")) for hit in _id_calls_in_fstrings(path)]
    # Then there are none: ids repeat after garbage collection (use tests.support.lifecycle.fresh_sub)
    assert found == [], found


def test_fresh_subs_do_not_repeat() -> None:
    subs = {fresh_sub("user") for _ in range(1000)}
    assert len(subs) == 1000
    assert all(sub.startswith("user-") for sub in subs), sorted(subs)[:3]
