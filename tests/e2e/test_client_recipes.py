"""docs/clients.md's recipes, run as they are written against `make dev`'s stack.

Each runnable block of the doc (marked ``<!-- recipe: NAME -->`` before its fence) is cut out
verbatim and run: curl through bash, Python with this interpreter, Node with ``node``, the
browser's in Debian's headless chromium from a page on another origin. Every one uploads a file
(a small one, and one above make dev's 8 MiB threshold, in 5 MiB parts), completes it and
downloads the same bytes, judged by SeaweedFS checking every signature. The Python recipe also
meets a real 429 and its Retry-After, an Idempotency-Key retry, and renewed part URLs. The Swift
and Kotlin blocks cannot run here: they are checked against the OpenAPI document's names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.token import mint_token
from tests.e2e.devstack import allow_in_the_buckets_cors, run_dev

pytestmark = pytest.mark.realserver

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "clients.md"
OPENAPI = ROOT / "layers" / "presign" / "presign" / "openapi.json"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MARKER = re.compile(
    r"^<!-- recipe: (?P<name>[a-z]+)(?P<note>[^>]*)-->\n```(?P<lang>\w+)\n(?P<code>.*?)\n```$", re.M | re.S
)
SMALL = "héllo from a recipe\n".encode()
BIG_SIZE = 12 * 1024**2 + 5  # make dev: multipart above 8 MiB, 5 MiB parts: 5 + 5 + 2 MiB and 5 bytes


def recipes() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for m in MARKER.finditer(DOC.read_text("utf-8")):
        assert m["name"] not in found, f"two blocks marked {m['name']}"
        found[m["name"]] = {"lang": m["lang"], "note": m["note"].strip(), "code": m["code"] + "\n"}
    return found


RECIPES = recipes()


# --------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real `make dev` stack (template.yaml, SeaweedFS with identities, moto_server)."""
    tmp = tmp_path_factory.mktemp("recipes-dev")
    with run_dev(tmp) as stack:
        banner = tmp / "banner.txt"  # what make dev printed, kept beside its data
        banner.write_text(stack.banner)
        moto = re.search(r"\(moto server\)\s+\S+\s+pid (\d+)", banner.read_text())
        assert moto, banner.read_text()
        yield {**stack.state, "moto_pid": int(moto[1])}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("recipe-files")
    (d / "hello.txt").write_bytes(SMALL)
    (d / "big.bin").write_bytes(os.urandom(BIG_SIZE))
    return {"small": d / "hello.txt", "big": d / "big.bin"}


def token(dev: dict[str, Any], sub: str) -> str:
    return mint_token(sub, secret=dev["jwt_secret"], issuer=dev["issuer"], audience=dev["audience"])


def fresh_sub(name: str) -> str:
    """A caller of its own per test: make dev's upload limit (5 at once) is per sub."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def recipe_env(dev: dict[str, Any], sub: str, home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PRESIGN_URL": dev["base_url"],
        "TOKEN": token(dev, sub),
    }


def write_recipe(name: str, directory: Path, filename: str) -> Path:
    path = directory / filename
    path.write_text(RECIPES[name]["code"], "utf-8")
    return path


def run(
    args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:2]} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def last_json(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert lines, stdout
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


def assert_completed(completed: dict[str, Any], sub: str, size: int, parts: int | None) -> None:
    assert completed["status"] == "complete" and completed["size"] == size, completed
    assert completed["key"].startswith(f"users/{sub}/"), completed
    etag = completed["etag"].strip('"')
    assert etag.endswith(f"-{parts}") if parts else "-" not in etag, completed


# ------------------------------------------------------------------------------------ the markers


def test_the_doc_marks_every_recipe_and_says_which_are_not_run() -> None:
    assert {name: r["lang"] for name, r in RECIPES.items()} == {
        "curl": "bash",
        "python": "python",
        "browser": "js",
        "node": "js",
        "swift": "swift",
        "kotlin": "kotlin",
    }, RECIPES.keys()
    for name in ("swift", "kotlin"):
        assert RECIPES[name]["note"] == "(reviewed, not run in CI)", RECIPES[name]["note"]
    for name in ("curl", "python", "browser", "node"):
        assert RECIPES[name]["note"] == "", RECIPES[name]["note"]
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "(docs/clients.md)" in readme, "README.md should link docs/clients.md"


# ------------------------------------------------------------------------------------------- curl


@pytest.mark.parametrize(
    ("which", "content_type", "parts"),
    [("small", "text/plain", None), ("big", "application/octet-stream", 3)],
)
def test_the_curl_recipe_uploads_completes_and_downloads(
    dev: dict[str, Any],
    files: dict[str, Path],
    tmp_path: Path,
    which: str,
    content_type: str,
    parts: int | None,
) -> None:
    sub = fresh_sub("curl")
    script = write_recipe("curl", tmp_path, "presign.sh")
    copy = tmp_path / "copy"

    done = run(["bash", str(script), str(files[which]), content_type, str(copy)], cwd=tmp_path,
               env=recipe_env(dev, sub, tmp_path))  # fmt: skip

    assert_completed(last_json(done.stdout), sub, files[which].stat().st_size, parts)
    assert copy.read_bytes() == files[which].read_bytes()


# ----------------------------------------------------------------------------------------- python


@pytest.mark.parametrize(("which", "parts"), [("small", None), ("big", 3)])
def test_the_python_recipe_uploads_completes_and_downloads(
    dev: dict[str, Any], files: dict[str, Path], tmp_path: Path, which: str, parts: int | None
) -> None:
    sub = fresh_sub("python")
    script = write_recipe("python", tmp_path, "presign_client.py")
    copy = tmp_path / "copy"

    done = run([sys.executable, str(script), str(files[which]), str(copy)], cwd=tmp_path,
               env=recipe_env(dev, sub, tmp_path))  # fmt: skip

    completed = last_json(done.stdout)
    assert_completed(completed, sub, files[which].stat().st_size, parts)
    assert completed["content_type"] == ("text/plain" if which == "small" else "application/octet-stream")
    assert copy.read_bytes() == files[which].read_bytes()


def python_harness(
    dev: dict[str, Any], sub: str, tmp_path: Path, code: str
) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter next to the recipe, imported as ``pc``."""
    write_recipe("python", tmp_path, "presign_client.py")
    prelude = "import json, sys, time, requests\nimport presign_client as pc\n"
    return run([sys.executable, "-c", prelude + code], cwd=tmp_path, env=recipe_env(dev, sub, tmp_path))


RENEW_IN_PYTHON = """import json, sys, time, requests
import presign_client as pc
renewed = []
real_renew = pc.renew
def renew(upload_id, numbers):  # counts the recipe's calls to POST /uploads/{id}/parts
    renewed.append(list(numbers))
    return real_renew(upload_id, numbers)
pc.renew = renew
path = sys.argv[1]
expiring = pc.create_upload(path, expires_in=1)
cut = pc.create_upload(path)
cut["multipart"]["parts"] = cut["multipart"]["parts"][:1]
time.sleep(2.5)  # past the URLs' expiry (X-Amz-Expires=1): the storage now says "Request has expired"
first = expiring["multipart"]["parts"][0]
probe = requests.put(first["url"], data=b"x" * first["size"], headers=first["headers"])
out = {"probe": [probe.status_code, probe.text[:300]]}
for name, grant in (("expiring", expiring), ("cut", cut)):
    renewed.clear()
    parts = pc.put_parts(grant, path)
    out[name] = {"renewed": list(renewed),
                 "completed": pc.call("POST", f"/uploads/{grant['upload_id']}/complete", {"parts": parts})}
print(json.dumps(out))
"""

RENEW_IN_NODE = """import { openAsBlob } from "node:fs";
import { call, putParts } from "./presign-client.mjs";
const renewed = [], realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {  // counts the recipe's calls to POST /uploads/{id}/parts
  if (/\\/uploads\\/[^/]+\\/parts$/.test(String(input))) renewed.push(JSON.parse(init.body).part_numbers);
  return realFetch(input, init);
};
const file = await openAsBlob(process.argv[2]);
const request = { filename: "big.bin", content_type: "application/octet-stream", size: file.size };
const expiring = await call("POST", "/uploads", { ...request, expires_in: 1 });
const cut = await call("POST", "/uploads", request);
cut.multipart.parts = cut.multipart.parts.slice(0, 1);
await new Promise((resolve) => setTimeout(resolve, 2500));  // past the URLs' expiry
const first = expiring.multipart.parts[0];
const probe = await realFetch(first.url, { method: "PUT", headers: first.headers, body: new Blob([new Uint8Array(first.size)]) });
const out = { probe: [probe.status, (await probe.text()).slice(0, 300)] };
for (const [name, grant] of [["expiring", expiring], ["cut", cut]]) {
  renewed.length = 0;
  const parts = await putParts(grant, file);
  out[name] = { renewed: [...renewed], completed: await call("POST", `/uploads/${grant.upload_id}/complete`, { parts }) };
}
console.log(JSON.stringify(out));
"""


def test_the_python_and_node_recipes_renew_part_urls_that_expired_or_were_not_given(
    dev: dict[str, Any], files: dict[str, Path], tmp_path: Path
) -> None:
    # Given, for each, two multipart grants: one whose part URLs live 1 s and are left to expire,
    # and one whose first answer is cut to its first part (as past a real answer's first 100)
    subs = {name: fresh_sub(f"{name}-renew") for name in ("python", "node")}
    dirs = {name: tmp_path / name for name in subs}
    for d in dirs.values():
        d.mkdir()
    write_recipe("python", dirs["python"], "presign_client.py")
    (dirs["python"] / "renew.py").write_text(RENEW_IN_PYTHON, "utf-8")
    write_recipe("node", dirs["node"], "presign-client.mjs")
    (dirs["node"] / "renew.mjs").write_text(RENEW_IN_NODE, "utf-8")
    big = str(files["big"])

    # When each recipe's part uploader sends them (in parallel: the two waits overlap)
    outs = run_all(
        dev,
        subs,
        dirs,
        {"python": [sys.executable, "renew.py", big], "node": ["node", "renew.mjs", big]},
    )

    # Then the expired URLs were refused, renewed one by one, and the missing ones asked for at once
    for name, (stdout, _stderr) in outs.items():
        out = last_json(stdout)
        assert out["probe"][0] == 403 and "Request has expired" in out["probe"][1], (name, out["probe"])
        assert out["expiring"]["renewed"] == [[1], [2], [3]], (name, out["expiring"])
        assert out["cut"]["renewed"] == [[2, 3]], (name, out["cut"])
        for grant in ("expiring", "cut"):
            assert_completed(out[grant]["completed"], subs[name], BIG_SIZE, 3)


def run_all(
    dev: dict[str, Any], subs: dict[str, str], dirs: dict[str, Path], commands: dict[str, list[str]]
) -> dict[str, tuple[str, str]]:
    """Runs each command at once, as its own caller in its own folder; all must exit 0."""
    procs = {
        name: subprocess.Popen(
            args,
            cwd=dirs[name],
            env=recipe_env(dev, subs[name], dirs[name]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, args in commands.items()
    }
    try:
        outs = {name: proc.communicate(timeout=90) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for name, (stdout, stderr) in outs.items():
        assert procs[name].returncode == 0, f"{name} exited {procs[name].returncode}:\n{stdout}\n{stderr}"
    return outs


def test_the_python_recipes_idempotency_key_answers_the_same_upload(
    dev: dict[str, Any], files: dict[str, Path], tmp_path: Path
) -> None:
    code = f"""
path = {str(files["small"])!r}
first = pc.create_upload(path, idempotency_key="photo-1")
again = pc.create_upload(path, idempotency_key="photo-1")
other = pc.create_upload(path, idempotency_key="photo-2")
print(json.dumps({{"first": first, "again": again, "other": other}}))
"""
    out = last_json(python_harness(dev, fresh_sub("idem"), tmp_path, code).stdout)

    first, again, other = out["first"], out["again"], out["other"]
    assert (again["upload_id"], again["key"], again["url"]) == (
        first["upload_id"],
        first["key"],
        first["url"],
    ), out
    assert other["upload_id"] != first["upload_id"], out


def test_the_python_recipe_resumes_from_the_stored_parts_and_knows_a_deleted_upload(
    dev: dict[str, Any], files: dict[str, Path], tmp_path: Path
) -> None:
    # Given an upload in parts with its first part stored, and another a DELETE ended
    code = f"""
path = {str(files["big"])!r}
grant = pc.create_upload(path)
first = grant["multipart"]["parts"][0]
with open(path, "rb") as f:
    stored = pc.storage.put(first["url"], data=f.read(first["size"]), headers=first["headers"])
ended = pc.create_upload(path)
pc.call("DELETE", f"/uploads/{{ended['upload_id']}}")
# When the recipe asks what is stored, for each
print(json.dumps({{"etag": stored.headers["ETag"], "resumed": pc.stored_parts(grant["upload_id"]),
                  "ended": pc.stored_parts(ended["upload_id"])}}))
"""
    out = last_json(python_harness(dev, fresh_sub("resume"), tmp_path, code).stdout)
    # Then the first has part 1 with the ETag its PUT answered, and the second is over (410)
    assert out["resumed"] == {"1": out["etag"]}, out
    assert out["ended"] is None, out


def test_the_python_recipe_waits_out_a_503_while_dynamodb_is_down(
    dev: dict[str, Any], files: dict[str, Path], tmp_path: Path
) -> None:
    # Given make dev's DynamoDB (the moto server) frozen: the rate limiter cannot answer, and the
    # service fails closed, 503 dependency_unavailable with Retry-After (a real outage, no stub)
    write_recipe("python", tmp_path, "presign_client.py")
    (tmp_path / "ask.py").write_text(
        "import json, sys\nimport presign_client as pc\n"
        "body = {'filename': 'x.txt', 'content_type': 'text/plain', 'size': 1}\n"
        "print(json.dumps(pc.call('POST', '/uploads', body)))\n",  # no key: the limiter is the first to fail
        "utf-8",
    )
    os.kill(dev["moto_pid"], signal.SIGSTOP)
    thawed = False
    try:
        # When the recipe asks for an upload, and DynamoDB comes back once it has met the 503
        proc = subprocess.Popen(
            [sys.executable, "ask.py"], cwd=tmp_path, env=recipe_env(dev, fresh_sub("outage"), tmp_path),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stderr is not None
        first = proc.stderr.readline()
        os.kill(dev["moto_pid"], signal.SIGCONT)
        thawed = True
        stdout, rest = proc.communicate(timeout=90)
    finally:
        if not thawed:
            os.kill(dev["moto_pid"], signal.SIGCONT)
    stderr = first + rest

    # Then it waited at least Retry-After after each 503, and a retry was admitted
    assert proc.returncode == 0, stdout + stderr
    waits = re.findall(r"POST /uploads: (\d+) (\w+), Retry-After (\d+): retrying in ([\d.]+) s", stderr)
    assert waits and all(w[:2] == ("503", "dependency_unavailable") for w in waits), stderr
    assert all(float(wait) >= int(retry_after) >= 1 for *_, retry_after, wait in waits), waits
    assert stderr.count("retrying") == len(waits), stderr
    grant = last_json(stdout)
    assert grant["upload_id"] and grant["method"] == "PUT", grant


# ------------------------------------------------------------------------------------------- node


@pytest.mark.parametrize(
    ("which", "content_type", "parts"),
    [("small", "text/plain", None), ("big", "application/octet-stream", 3)],
)
def test_the_node_recipe_uploads_completes_and_downloads(
    dev: dict[str, Any],
    files: dict[str, Path],
    tmp_path: Path,
    which: str,
    content_type: str,
    parts: int | None,
) -> None:
    assert shutil.which("node"), "Node 20 or later is needed (Debian: apt-get install nodejs)"
    sub = fresh_sub("node")
    script = write_recipe("node", tmp_path, "presign-client.mjs")
    copy = tmp_path / "copy"

    done = run(["node", str(script), str(files[which]), content_type, str(copy)], cwd=tmp_path,
               env=recipe_env(dev, sub, tmp_path))  # fmt: skip

    completed = last_json(done.stdout)
    assert_completed(completed, sub, files[which].stat().st_size, parts)
    assert completed["content_type"] == content_type
    assert copy.read_bytes() == files[which].read_bytes()


# ---------------------------------------------------------------------------------------- browser


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def blank_origin(dev: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A page on an origin of its own (not the API's, not the storage's): every call is CORS."""
    d = tmp_path_factory.mktemp("blank")
    (d / "index.html").write_text("<!doctype html><title>recipes</title>", "utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(d)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    allow_in_the_buckets_cors(dev, origin)
    yield origin
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(blank_origin: str) -> Iterator[Any]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium (make deps does)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.goto(f"{blank_origin}/index.html")
        page.add_script_tag(content=RECIPES["browser"]["code"])
        yield page
        browser.close()


BROWSER_RUN = """async ([api, token, size, type, mode]) => {
  const presign = presignClient(api, () => token);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  const file = new File([bytes], mode === "form" ? "form.bin" : "page.bin", {type});
  const progress = [];
  let completed;
  try {
    completed = mode === "form" ? await presign.uploadForm(file)
      : await presign.upload(file, {onProgress: (sent, total) => progress.push([sent, total])});
  } catch (err) {
    return {failed: String(err), status: err.status, code: err.code};
  }
  const back = new Uint8Array(await (await fetch(await presign.downloadUrl(completed.key))).arrayBuffer());
  const hex = async (b) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", b)),
                                      (x) => x.toString(16).padStart(2, "0")).join("");
  return {completed, last: progress.at(-1) ?? null, events: progress.length,
          sent: await hex(bytes), got: await hex(back), size: back.length};
}"""


@pytest.mark.parametrize(
    ("mode", "size", "parts"),
    [("put", 70_000, None), ("form", 70_000, None), ("put", BIG_SIZE, 3)],
    ids=["put-with-progress", "post-form", "multipart-with-progress"],
)
def test_the_browser_recipe_uploads_from_another_origin(
    dev: dict[str, Any], page: Any, blank_origin: str, mode: str, size: int, parts: int | None
) -> None:
    sub = fresh_sub("browser")
    assert blank_origin != dev["base_url"]  # cross-origin: the API's CORS answers the preflights

    out = page.evaluate(
        BROWSER_RUN, [dev["base_url"], token(dev, sub), size, "application/octet-stream", mode]
    )

    assert "failed" not in out, out
    assert_completed(out["completed"], sub, size, parts)
    assert out["size"] == size and out["got"] == out["sent"], out
    if mode == "put":  # XHR's upload progress reached the whole file
        assert out["events"] >= 1 and out["last"] == [size, size], out


# ------------------------------------------------------------------------------- swift and kotlin


def contract_names() -> set[str]:
    """Every property name of every schema in the OpenAPI document."""
    doc = json.loads(OPENAPI.read_text("utf-8"))
    return {name for schema in doc["components"]["schemas"].values() for name in schema.get("properties", {})}


@pytest.mark.parametrize("name", ["swift", "kotlin"])
def test_the_reviewed_recipes_use_the_contracts_routes_fields_and_headers(name: str) -> None:
    code = RECIPES[name]["code"]
    names = contract_names()
    fields = ["filename", "content_type", "size", "upload_id", "headers", "multipart", "part_size",
              "part_count", "parts", "part_number", "url", "etag", "part_numbers", "keys", "items"]  # fmt: skip
    assert set(fields) <= names, set(fields) - names  # the names are the contract's own
    for field in fields:
        assert re.search(rf"\b{field}\b", code), f"{name}: no {field!r}"
    for route in (r'"/uploads"', r"/uploads/\S+/parts", r"/uploads/\S+/complete", r'"/downloads"'):
        assert re.search(route, code), f"{name}: no {route}"
    for header in ("Authorization", "Bearer", "Idempotency-Key", "Retry-After", "ETag"):
        assert f'"{header}' in code, f"{name}: no {header}"
    for status in ("429", "503", "403", '"idempotency_in_progress"'):
        assert status in code, f"{name}: does not handle {status}"
    # Balanced brackets: a cheap guard against a block cut short in an edit
    for opening, closing in ("{}", "()", "[]"):
        assert code.count(opening) == code.count(closing), f"{name}: {opening}{closing} unbalanced"


def test_the_swift_recipe_uploads_from_a_file_in_a_background_session() -> None:
    code = RECIPES["swift"]["code"]
    assert ".background(withIdentifier:" in code and "uploadTask(with: request, fromFile:" in code
    # exactly the returned headers, each one, and nothing of its own on the storage's request
    assert "for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }" in code
    put = code[code.index("func put(") : code.index("func urlSession(")]
    assert "Authorization" not in put and "x-amz" not in put.lower(), put


def test_the_kotlin_recipe_sends_the_signed_headers_as_returned() -> None:
    code = RECIPES["kotlin"]["code"]
    put = code[code.index("private fun put(") : code.index("fun upload(")]
    assert "signed.keys().forEach { name -> header(name, signed.getString(name)) }" in put, put
    assert "Authorization" not in put, put
    # bodies without a media type, so OkHttp does not replace the signed Content-Type
    assert "asRequestBody(null)" in code and "override fun contentType(): MediaType? = null" in code


def test_the_runnable_recipes_never_send_the_token_to_the_storage() -> None:
    # the storage gets only the signed headers: each recipe's PUT takes the grant's headers as is
    assert "storage = requests.Session()" in RECIPES["python"]["code"]
    assert (
        'const put = (url, headers, body) => fetch(url, { method: "PUT", headers, body });'
        in RECIPES["node"]["code"]
    )
    curl_put = RECIPES["curl"]["code"].split("put() {", 1)[1].split("\n}\n", 1)[0]
    assert "Authorization" not in curl_put and "TOKEN" not in curl_put, curl_put


# ------------------------------------------------------------------ 429: every runnable recipe

SPEND_IN_BASH = """set -euo pipefail
for i in $(seq 30); do  # spend the caller's upload burst until the API says 429
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$PRESIGN_URL/uploads" \\
    -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
    -d '{"filename":"x.txt","content_type":"text/plain","size":1}')
  echo "spent $code"
  [ "$code" = 429 ] && break
done
echo "--- recipe" >&2
bash presign.sh "$1" text/plain copy
"""

SPEND_IN_PYTHON = """import json, sys, requests
import presign_client as pc
body = {"filename": "x.txt", "content_type": "text/plain", "size": 1}
for _ in range(30):  # spend the caller's upload burst until the API says 429
    r = requests.post(pc.API + "/uploads", json=body, headers={"Authorization": pc.api.headers["Authorization"]})
    print(f"spent {r.status_code}", flush=True)
    if r.status_code == 429:
        break
print("--- recipe", file=sys.stderr, flush=True)
grant = pc.create_upload(sys.argv[1], idempotency_key="after-429")
print("--- again", file=sys.stderr, flush=True)  # the budget is spent again: the same key answers all the same
again = pc.create_upload(sys.argv[1], idempotency_key="after-429")
pc.put_file(again, sys.argv[1])
completed = pc.call("POST", f"/uploads/{again['upload_id']}/complete", {})
pc.download(completed["key"], "copy")
print(json.dumps({**completed, "first_upload_id": grant["upload_id"]}))
"""

SPEND_IN_NODE = """import { upload, download } from "./presign-client.mjs";
const body = JSON.stringify({ filename: "x.txt", content_type: "text/plain", size: 1 });
const headers = { authorization: `Bearer ${process.env.TOKEN}`, "content-type": "application/json" };
for (let i = 0; i < 30; i++) {  // spend the caller's upload burst until the API says 429
  const res = await fetch(`${process.env.PRESIGN_URL}/uploads`, { method: "POST", headers, body });
  console.log(`spent ${res.status}`);
  if (res.status === 429) break;
}
console.error("--- recipe");
const completed = await upload(process.argv[2], "text/plain");
await download(completed.key, "copy");
console.log(JSON.stringify(completed));
"""

SPEND_IN_PAGE = """async ([api, token]) => {
  const seen = [], realFetch = window.fetch;
  window.fetch = async (input, init) => {  // counts the answers to POST /uploads, the recipe's too
    const res = await realFetch(input, init);
    if (String(input).endsWith("/uploads") && init?.method === "POST") seen.push(res.status);
    return res;
  };
  try {
    const headers = {authorization: `Bearer ${token}`, "content-type": "application/json"};
    const body = JSON.stringify({filename: "x.txt", content_type: "text/plain", size: 1});
    while (!seen.includes(429) && seen.length < 30) await fetch(api + "/uploads", {method: "POST", headers, body});
    const spent = seen.length;
    const completed = await presignClient(api, () => token).upload(new File(["after a 429\\n"], "a.txt", {type: "text/plain"}));
    return {spent: seen.slice(0, spent), recipe: seen.slice(spent), completed};
  } catch (err) {
    return {failed: String(err), seen};
  } finally {
    window.fetch = realFetch;
  }
}"""


def assert_spent(statuses: list[int]) -> None:
    assert statuses[-1] == 429 and set(statuses[:-1]) == {201} and len(statuses) >= 6, statuses


def test_every_runnable_recipe_waits_out_a_429_as_retry_after_says(
    dev: dict[str, Any], files: dict[str, Path], page: Any, tmp_path: Path
) -> None:
    # Given four callers, each of whom has just spent make dev's upload burst (5 at once, 10 a
    # minute): in parallel, so that the four waits of about 6 s overlap
    subs = {name: fresh_sub(f"{name}-429") for name in ("curl", "python", "node", "browser")}
    dirs = {name: tmp_path / name for name in ("curl", "python", "node")}
    for d in dirs.values():
        d.mkdir()
    write_recipe("curl", dirs["curl"], "presign.sh")
    (dirs["curl"] / "spend.sh").write_text(SPEND_IN_BASH, "utf-8")
    write_recipe("python", dirs["python"], "presign_client.py")
    (dirs["python"] / "spend.py").write_text(SPEND_IN_PYTHON, "utf-8")
    write_recipe("node", dirs["node"], "presign-client.mjs")
    (dirs["node"] / "spend.mjs").write_text(SPEND_IN_NODE, "utf-8")
    small = str(files["small"])
    procs = {
        name: subprocess.Popen(
            args,
            cwd=dirs[name],
            env=recipe_env(dev, subs[name], dirs[name]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, args in (
            ("curl", ["bash", "spend.sh", small]),
            ("python", [sys.executable, "spend.py", small]),
            ("node", ["node", "spend.mjs", small]),
        )
    }
    try:
        # When each recipe asks for an upload at once
        in_page = page.evaluate(SPEND_IN_PAGE, [dev["base_url"], token(dev, subs["browser"])])
        outs = {name: proc.communicate(timeout=90) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # Then each met one 429, waited as Retry-After said, and its one retry was admitted (a retry
    # made sooner would have met another 429), and the upload went through to the end
    for name, (stdout, stderr) in outs.items():
        assert procs[name].returncode == 0, f"{name}:\n{stdout}\n{stderr}"
        assert_spent([int(s) for s in re.findall(r"^spent (\d+)$", stdout, re.M)])
        recipe_stderr = stderr.split("--- recipe", 1)[1]
        if name == "curl":  # curl's own --retry notes each answer it retried
            assert recipe_stderr.count("returned error: 429") == 1, stderr
        else:
            waits = re.findall(
                r"POST /uploads: 429 rate_limited, Retry-After (\d+): retrying in ([\d.]+) s", recipe_stderr
            )
            assert len(waits) == 1 and float(waits[0][1]) >= int(waits[0][0]) >= 1, stderr
            assert recipe_stderr.count("retrying") == 1, stderr
        if name == "python":  # and the same Idempotency-Key, budget spent or not, is the same upload
            assert "retrying" not in recipe_stderr.split("--- again", 1)[1], stderr
            assert last_json(stdout)["first_upload_id"] == last_json(stdout)["upload_id"], stdout
        assert_completed(last_json(stdout), subs[name], len(SMALL), None)
        assert (dirs[name] / "copy").read_bytes() == SMALL
    assert "failed" not in in_page, in_page
    assert_spent(in_page["spent"])
    assert in_page["recipe"] == [429, 201], in_page
    assert_completed(in_page["completed"], subs["browser"], len("after a 429\n"), None)
