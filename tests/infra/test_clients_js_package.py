"""clients/js/package.json (@presign/client) and the locks `make clients` and `make bench` install
with `npm ci`: exact pins, integrity hashes, no runtime dependency, React a peer that is never
installed there, and the exports a browser bundle and Node each resolve.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.functions import ROOT

CLIENT = ROOT / "clients" / "js"
BENCH = ROOT / "benchmarks" / "js"


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return loaded


def test_the_client_has_no_runtime_dependency_and_react_is_an_optional_peer() -> None:
    manifest = _load(CLIENT / "package.json")
    assert manifest["name"] == "@presign/client" and manifest["type"] == "module"
    assert "dependencies" not in manifest, manifest.get("dependencies")
    assert manifest["peerDependencies"] == {"react": ">=18"}
    assert manifest["peerDependenciesMeta"] == {"react": {"optional": True}}
    assert not any("react" in name for name in manifest["devDependencies"]), manifest["devDependencies"]
    assert manifest["engines"] == {"node": "^20"}  # the version the tests run on


def test_the_exports_give_node_its_entry_and_everything_else_the_browser_one() -> None:
    exports = _load(CLIENT / "package.json")["exports"]
    assert exports["."]["node"] == {"types": "./dist/node.d.ts", "default": "./dist/node.js"}
    assert (exports["."]["types"], exports["."]["default"]) == ("./dist/index.d.ts", "./dist/index.js")
    assert exports["./react"] == {"types": "./dist/react.d.ts", "default": "./dist/react.js"}


def test_typescript_is_pinned_to_5_for_openapi_typescript() -> None:
    dev = _load(CLIENT / "package.json")["devDependencies"]
    assert re.fullmatch(r"5\.\d+\.\d+", dev["typescript"]), dev["typescript"]
    assert dev["openapi-typescript"].startswith("7."), dev


@pytest.mark.parametrize("folder", [CLIENT, BENCH], ids=["clients/js", "benchmarks/js"])
def test_every_dependency_is_pinned_locked_and_hashed(folder: Path) -> None:
    manifest, lock = _load(folder / "package.json"), _load(folder / "package-lock.json")
    wanted = {**manifest.get("dependencies", {}), **manifest.get("devDependencies", {})}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in wanted.values()), wanted  # exact, no ranges
    assert lock["lockfileVersion"] == 3
    for name, version in wanted.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    missing = [path for path, entry in lock["packages"].items() if path and not entry.get("link")
               and not str(entry.get("integrity", "")).startswith("sha512-")]  # fmt: skip
    assert missing == [], missing
    if folder == CLIENT:  # React is the hook's peer: never installed where the client is built
        assert not [path for path in lock["packages"] if path.endswith("node_modules/react")]


def test_the_comparison_packages_live_apart_from_the_client() -> None:
    bench = _load(BENCH / "package.json")["dependencies"]
    assert {"@uppy/aws-s3", "uploadthing"} <= set(bench)
    client_lock = _load(CLIENT / "package-lock.json")["packages"]
    assert not [p for p in client_lock if "uppy" in p or "uploadthing" in p]
