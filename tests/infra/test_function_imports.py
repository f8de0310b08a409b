"""The function modules are entry points: import-linter cannot see them (seven modules named ``app``,
no package), so this holds them to the layering instead. A function imports, of ``presign``, only
the composition root (``presign.bootstrap``), the HTTP plumbing (``presign.http``), its features'
request and response bodies (``presign.<feature>.schemas``, pure pydantic models) and the
contract's error classes (``presign.errors``); the services, their rules and every adapter reach it
through ``presign.bootstrap`` (docs/architecture.md).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(ROOT.glob("functions/*/app.py"))
ALLOWED = re.compile(r"^presign\.(bootstrap|http)(\..+)?$|^presign\.[a-z_]+\.schemas$|^presign\.errors$")


def presign_imports(source: str) -> list[str]:
    """Every ``presign`` module a source imports, at any depth of it (``from presign import errors``
    counts as ``presign.errors``)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "presign"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "presign":
            if node.module == "presign":
                found += [f"presign.{alias.name}" for alias in node.names]
            else:
                found.append(node.module)
    return found


def test_there_are_eight_function_modules() -> None:
    assert [path.parent.name for path in FUNCTIONS] == [
        "cleanup",
        "downloads",
        "lifecycle",
        "links",
        "meta",
        "shares",
        "storage_events",
        "uploads",
    ], FUNCTIONS


@pytest.mark.parametrize("path", FUNCTIONS, ids=lambda path: path.parent.name)
def test_a_function_imports_only_the_root_the_http_layer_and_schemas(path: Path) -> None:
    imported = presign_imports(path.read_text(encoding="utf-8"))

    outside = [module for module in imported if not ALLOWED.match(module)]

    assert imported, f"{path} imports nothing of presign: the check reads the wrong place"
    assert not outside, f"{path.relative_to(ROOT)} imports {outside}: reach them through presign.bootstrap"


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        ("from presign.uploads.service import Uploads", ["presign.uploads.service"]),
        ("from presign.adapters.s3_control import S3ObjectStore", ["presign.adapters.s3_control"]),
        ("import presign.config.settings", ["presign.config.settings"]),
        ("from presign import config", ["presign.config"]),
        ("def f():\n    from presign.uploads.ledger import Ledger", ["presign.uploads.ledger"]),
        (
            "from presign.bootstrap.uploads import build_uploads\nfrom presign.http.api import json_response",
            [],
        ),
    ],
)
def test_the_check_refuses_what_it_should(source: str, refused: list[str]) -> None:
    assert [m for m in presign_imports(source) if not ALLOWED.match(m)] == refused
