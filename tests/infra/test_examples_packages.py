"""examples/package.json and its lock: what `make examples` installs with `npm ci`.

`npm ci` installs exactly the lock (it refuses a lock that does not match package.json), checks
every tarball against the lock's integrity hash and, with --ignore-scripts, runs no package's
install script. These check the files it trusts, so a hand edit cannot slip through.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from local.banner import example_pages
from tests.support.functions import ROOT

EXAMPLES = ROOT / "examples"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text("utf-8"))
    return loaded


def test_every_dependency_is_pinned_and_the_lock_records_the_same_versions() -> None:
    manifest, lock = _load("package.json"), _load("package-lock.json")
    wanted = {**manifest["dependencies"], **manifest["devDependencies"]}
    assert {"@uppy/core", "@uppy/dashboard", "@uppy/aws-s3", "swagger-ui-dist", "esbuild"} <= set(wanted)
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in wanted.values()), wanted  # exact, no ranges
    assert lock["lockfileVersion"] == 3
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    assert lock["packages"][""]["devDependencies"] == manifest["devDependencies"]
    for name, version in wanted.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name


def test_every_locked_package_has_an_integrity_hash() -> None:
    packages = _load("package-lock.json")["packages"]
    missing = [path for path, entry in packages.items() if path and not entry.get("link")
               and not str(entry.get("integrity", "")).startswith("sha512-")]  # fmt: skip
    assert missing == [], missing


def test_the_uppy_example_imports_only_what_its_import_map_names() -> None:
    # app.js keeps bare imports (copyable into a bundled app); index.html maps each to the bundle
    # the build script makes (one entry point per package).
    glue = (EXAMPLES / "uppy" / "app.js").read_text("utf-8")
    page = (EXAMPLES / "uppy" / "index.html").read_text("utf-8")
    imports = set(re.findall(r'^import .* from "([^".][^"]*)";$', glue, re.M))
    import_map = re.search(r'<script type="importmap">(.*?)</script>', page, re.S)
    assert import_map is not None, "examples/uppy/index.html has no import map"
    mapped = json.loads(import_map[1])["imports"]
    build = _load("package.json")["scripts"]["build"]
    assert imports == {"@uppy/core", "@uppy/aws-s3"}, imports
    for name, path in mapped.items():
        entry = path.removeprefix("./vendor/").removesuffix(".js")
        assert f" {entry}={name}" in build, (name, build)
    assert imports <= set(mapped), (imports, mapped)


def test_the_banner_points_both_pages_at_the_stack() -> None:
    lines = example_pages("http://127.0.0.1:8081", "http://127.0.0.1:8080", "tok.en.x")
    assert lines[0].split()[-1] == "http://127.0.0.1:8081/uppy/#api=http://127.0.0.1:8080&token=tok.en.x"
    assert lines[1].split()[-1] == "http://127.0.0.1:8081/reference/#api=http://127.0.0.1:8080&token=tok.en.x"


def test_the_uppy_page_allows_its_import_map_by_hash_and_no_other_inline_script() -> None:
    # The import map must be inline (browsers load no external one), so the CSP names its hash;
    # an edit of the map without the hash would leave Uppy unresolved in the browser.
    page = (EXAMPLES / "uppy" / "index.html").read_text("utf-8")
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert policy is not None, "examples/uppy/index.html has no Content-Security-Policy"
    directives = dict(d.strip().split(" ", 1) for d in policy[1].split(";"))
    import_map = re.search(r'<script type="importmap">(.*?)</script>', page, re.S)
    assert import_map is not None
    digest = base64.b64encode(hashlib.sha256(import_map[1].encode()).digest()).decode()
    assert directives["script-src"] == f"'self' 'sha256-{digest}'", directives
    assert directives["default-src"] == "'none'" and directives["style-src"] == "'self'", directives
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline == [' type="importmap"'], inline  # every other script is a file
    assert "<style" not in page and " style=" not in page
