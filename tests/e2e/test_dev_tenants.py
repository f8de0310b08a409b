"""Issue 17, item 1, as a user runs it: ``make dev PREFIX='tenants/{tenant}/users/{sub}/'`` and
tokens from ``make token SUB=... TENANT=...``; the same sub in another tenant finds nothing.

The stack is `python -m local.dev --prefix ...` (what `make dev PREFIX=...` runs, checked below)
with the real template, handlers, SeaweedFS and moto server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from local.cfn import ROOT
from tests.e2e.devstack import DevStack, run_dev

pytestmark = pytest.mark.realserver

PREFIX = "tenants/{tenant}/users/{sub}/"
TEXT = {"filename": "notes.txt", "content_type": "text/plain", "size": 11}
BIG = {"filename": "big.bin", "content_type": "application/octet-stream", "size": 12 * 1024**2}


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with run_dev(tmp_path_factory.mktemp("dev-tenants"), "--prefix", PREFIX) as stack:
        yield stack


def make_token(stack: DevStack, sub: str, tenant: str) -> str:
    """``make token SUB=<sub> TENANT=<tenant>``, with the running stack's secret."""
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        # -o: the venv running this test is the one to use; never rebuild it from here.
        ["make", "--no-print-directory", "-s", "-o", f"{bin_dir}/.installed", "token", f"BIN={bin_dir}",
         f"SUB={sub}", f"TENANT={tenant}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ROOT / ".local"),
             "PYTHONPATH": f"{ROOT / 'layers' / 'presign'}:{ROOT}",
             "PRESIGN_JWT_SECRET": stack.state["jwt_secret"]},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"authorization": f"Bearer {token}"}

    def __call__(self, method: str, path: str, payload: Any = None) -> requests.Response:
        return requests.request(method, self.base + path, json=payload, headers=self.headers, timeout=30)

    def ok(self, method: str, path: str, payload: Any = None, status: int = 200) -> Any:
        answer = self(method, path, payload)
        assert answer.status_code == status, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None


def test_make_dev_and_make_token_pass_the_prefix_and_the_tenant() -> None:
    makefile = (ROOT / "Makefile").read_text()
    dev = re.search(r"^dev:.*\n\t(.+)$", makefile, re.MULTILINE)
    token = re.search(r"^token:.*\n\t(.+\n\t.+)$", makefile, re.MULTILINE)
    assert dev and "$(if $(PREFIX),--prefix '$(PREFIX)')" in dev.group(1), dev
    assert token and "$(if $(TENANT),--claim 'tenant=$(TENANT)')" in token.group(1), token


def test_the_printed_token_carries_the_prefix_claims(dev: DevStack) -> None:
    # make dev says under which prefix keys are made, and its token names a tenant
    assert f"Keys are made under {PREFIX}" in dev.banner, dev.banner
    token = dev.printed_after('A dev token for sub "alice", tenant "demo"')
    grant = Api(dev.base_url, token).ok("POST", "/uploads", TEXT, status=201)
    assert grant["key"].startswith("tenants/demo/users/alice/"), grant["key"]


def test_the_same_sub_in_another_tenant_gets_404_on_every_route(dev: DevStack) -> None:
    sub = f"u{uuid.uuid4().hex[:10]}"
    acme_token, globex_token = make_token(dev, sub, "acme"), make_token(dev, sub, "globex")
    assert jwt.decode(acme_token, options={"verify_signature": False})["tenant"] == "acme"
    acme, globex = Api(dev.base_url, acme_token), Api(dev.base_url, globex_token)

    # Given acme's member's upload, stored through its URL and completed, a multipart upload
    # pending, and a share of the first
    done = acme.ok("POST", "/uploads", TEXT, status=201)
    assert done["key"].startswith(f"tenants/acme/users/{sub}/"), done["key"]
    stored = requests.put(done["url"], data=b"hello acme\n", headers=done["headers"], timeout=30)
    assert stored.status_code == 200, stored.text
    assert acme.ok("POST", f"/uploads/{done['upload_id']}/complete", {})["status"] == "complete"
    big = acme.ok("POST", "/uploads", BIG, status=201)
    assert big["multipart"] is not None, big
    share_id = acme.ok("POST", "/shares", {"key": done["key"]}, status=201)["share_id"]

    # When the same sub of globex tries every route on them
    calls = {
        "GET /uploads/{id}": ("GET", f"/uploads/{done['upload_id']}", None),
        "POST /uploads/{id}/complete": ("POST", f"/uploads/{done['upload_id']}/complete", {}),
        "POST /uploads/{id}/parts": ("POST", f"/uploads/{big['upload_id']}/parts", {"part_numbers": [1]}),
        "POST /uploads/{id}/sign": ("POST", f"/uploads/{big['upload_id']}/sign", {"operation": "list_parts"}),
        "DELETE /uploads/{id}": ("DELETE", f"/uploads/{done['upload_id']}", None),
        "DELETE /uploads/{id} (multipart)": ("DELETE", f"/uploads/{big['upload_id']}", None),
        "GET /shares/{id}": ("GET", f"/shares/{share_id}", None),
        "DELETE /shares/{id}": ("DELETE", f"/shares/{share_id}", None),
    }
    statuses = {name: globex(*call).status_code for name, call in calls.items()}

    # Then each is 404, the lists are empty, and the one route the prefix confined before is 403
    assert statuses == dict.fromkeys(calls, 404), statuses
    assert globex.ok("GET", "/uploads")["items"] == []
    assert globex.ok("GET", "/shares")["items"] == []
    assert globex("POST", "/downloads", {"keys": [done["key"]]}).status_code == 403
    # And acme's member still has all of it
    assert acme.ok("GET", f"/uploads/{done['upload_id']}")["status"] == "complete"
    assert acme.ok("GET", f"/uploads/{big['upload_id']}")["status"] == "pending"
    assert {i["upload_id"] for i in acme.ok("GET", "/uploads")["items"]} == {
        done["upload_id"],
        big["upload_id"],
    }
    assert acme.ok("GET", f"/shares/{share_id}")["status"] == "active"
    link = requests.get(f"{dev.base_url}/s/{share_id}", timeout=30)
    assert link.status_code == 200 and link.content == b"hello acme\n", link.status_code
