"""@presign/client as a user gets it: after `make clients`, `npm install` of the tarball (or of
clients/js itself) into a project of its own, then `import { createClient } from "@presign/client"`
in Node and in a browser bundle. The Node program uploads 11 MiB, is interrupted once with its
signal, and a new process uploading the same file completes the very upload that was interrupted.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from local.cfn import ROOT
from tests.e2e.devstack import DevStack
from tests.e2e.jsclient import CLIENT_JS, MiB, driver, random_file, require_client_built, uploads_of

pytestmark = pytest.mark.realserver

ESBUILD = CLIENT_JS / "node_modules" / ".bin" / "esbuild"
DOC = ROOT / "docs" / "clients.md"

# What a user's program does: upload, interrupt on the signal once 4 MiB went out; run again.
PROGRAM = """import { createClient } from "@presign/client";
const client = createClient({ baseUrl: process.env.PRESIGN_URL, token: process.env.TOKEN });
const controller = new AbortController();
const interrupt = process.argv[3] === "interrupt";
try {
  const done = await client.upload(process.argv[2], {
    signal: controller.signal,
    onProgress: (sent) => interrupt && sent >= 4 * 1024 * 1024 && controller.abort(),
  });
  console.log(JSON.stringify({ completed: done.upload_id, status: done.status, size: done.size }));
} catch (error) {
  console.log(JSON.stringify({ interrupted: error.uploadId, name: error.name }));
}
"""


def tarball() -> Path:
    found = sorted((CLIENT_JS / "dist").glob("presign-client-*.tgz"))
    assert found, "no npm pack tarball in clients/js/dist: run `make clients` (make test does)"
    return found[-1]


def npm_install(project: Path, what: str) -> None:
    project.mkdir()
    (project / "package.json").write_text(json.dumps({"name": "app", "private": True, "type": "module"}))
    done = subprocess.run(
        ["npm", "install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", what],
        cwd=project, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("source", ["tarball", "folder"])
def test_an_installed_package_resumes_the_interrupted_upload_in_a_new_process(
    proxied_dev_stack: DevStack, tmp_path: Path, source: str
) -> None:
    require_client_built()
    # Given a project that installed the package, and its program
    project = tmp_path / "app"
    npm_install(project, str(tarball() if source == "tarball" else CLIENT_JS))
    (project / "upload.mjs").write_text(PROGRAM)
    client = driver(proxied_dev_stack, tmp_path, f"pkg-{source}")
    path = random_file(tmp_path / "eleven.bin", 11 * MiB)

    def run(*args: str) -> dict[str, object]:
        done = subprocess.run(
            ["node", "upload.mjs", str(path), *args], cwd=project, env=client.env(),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0 and done.stdout.strip(), done.stdout + done.stderr
        answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return answer

    # When it is interrupted once, then run again as a new process
    first = run("interrupt")
    second = run()

    # Then the interrupted upload is the one that completed, the only one there is
    assert first["name"] == "AbortError" and first["interrupted"], first
    assert second == {"completed": first["interrupted"], "status": "complete", "size": 11 * MiB}, (
        first,
        second,
    )
    assert [u["upload_id"] for u in uploads_of(proxied_dev_stack, client.sub)] == [first["interrupted"]]
    assert client.records() == []


def test_the_package_bundles_for_a_browser_without_node_modules_and_declares_react_optional(
    tmp_path: Path,
) -> None:
    require_client_built()
    project = tmp_path / "web"
    npm_install(project, str(tarball()))
    (project / "app.js").write_text(
        'import { createClient } from "@presign/client";\n'
        'import { useUpload } from "@presign/client/react";\n'
        "globalThis.made = [createClient, useUpload];\n"
    )
    done = subprocess.run(
        [str(ESBUILD), "app.js", "--bundle", "--platform=browser", "--format=esm", "--external:react",
         "--outfile=out.js", "--log-level=warning"],
        cwd=project, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    bundle = (project / "out.js").read_text()
    assert "XMLHttpRequest" in bundle and "indexedDB" in bundle, "the browser entry was not the one bundled"
    assert "node:http" not in bundle and "node:fs" not in bundle, "Node's entry leaked into a browser bundle"
    installed = json.loads((project / "node_modules" / "@presign" / "client" / "package.json").read_text())
    assert installed["peerDependenciesMeta"]["react"] == {"optional": True}, installed
    assert not (project / "node_modules" / "react").exists(), "installing the client must not install React"
    assert not (ROOT / "clients" / "js" / "node_modules" / "react").exists(), (
        "React is never installed in clients/js"
    )


def test_the_docs_node_example_runs_as_written(proxied_dev_stack: DevStack, tmp_path: Path) -> None:
    require_client_built()
    # Given docs/clients.md's example, in a project that installed the tarball
    found = re.search(
        r"^<!-- client-example: node -->\n```js\n(.*?)\n```$", DOC.read_text("utf-8"), re.M | re.S
    )
    assert found, "docs/clients.md has no <!-- client-example: node --> block"
    project = tmp_path / "app"
    npm_install(project, str(tarball()))
    (project / "example.mjs").write_text(found[1] + "\n")
    client = driver(proxied_dev_stack, tmp_path, "docs")
    path = random_file(tmp_path / "cat.png", 3 * MiB)

    # When it runs
    done = subprocess.run(
        ["node", "example.mjs", str(path)],
        cwd=project,
        env=client.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Then it printed the completed record, and progress on stderr
    assert done.returncode == 0, done.stdout + done.stderr
    completed = json.loads(done.stdout.strip().splitlines()[-1])
    assert (completed["status"], completed["size"], completed["content_type"]) == (
        "complete",
        3 * MiB,
        "image/png",
    )
    assert "100 %" in done.stderr, done.stderr
