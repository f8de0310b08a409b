"""What the share functions load and read at cold start.

The public links function builds no authenticator, so it starts without any token secret (its
role may read none); neither function imports boto3 or argon2-cffi at cold start: boto3 comes
with the first HEAD, argon2-cffi with the first password.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.servers import MotoServer, aws_env
from presign.errors import ConfigurationError
from tests.support.events import FakeContext, http_event
from tests.support.functions import load_function
from tests.support.lifecycle import moto_with_tables, point_at
from tests.support.shares import share_document, stack_env

ROOT = Path(__file__).resolve().parents[2]
CHILD = r"""
import json, sys
paths, event = json.loads(sys.argv[1])
sys.path[:0] = paths
# The bare botocore package is Powertools' probe for it (see test_cold_start_imports.py); any
# module under it, boto3 or argon2 would be a real load.
heavy = lambda: sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "argon2") and m != "botocore")
import app
report = {"after_import": heavy()}

class Context:
    function_name = "fn"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    def get_remaining_time_in_millis(self):
        return 6000

response = app.handler(event, Context())
report.update(after_request=heavy(), status=response["statusCode"])
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


def test_the_links_function_starts_without_any_token_secret(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the deployment's environment without the HS256 secret the configuration names
    env = stack_env(moto, share_document(moto.endpoint_url))
    del env["PRESIGN_TEST_JWT_SECRET"]
    monkeypatch.delenv("PRESIGN_TEST_JWT_SECRET", raising=False)
    point_at(moto, monkeypatch)  # the tables' client, made afresh for this server

    # Then the public function starts and answers; the owner's function refuses to start
    links = load_function("links", monkeypatch, env)
    event = http_event("GET", "/s/" + "A" * 32, route="/s/{share_id}")
    event["headers"].pop("content-type")
    assert links.handler(event, FakeContext())["statusCode"] == 404
    with pytest.raises(ConfigurationError):
        load_function("shares", monkeypatch, env)


@pytest.mark.parametrize("name", ["links", "shares"])
def test_a_cold_start_imports_neither_boto3_nor_argon2(moto: MotoServer, name: str) -> None:
    env = {**os.environ, **aws_env(moto.endpoint_url), **stack_env(moto, share_document(moto.endpoint_url))}
    env.pop("PYTHONPATH", None)
    event = (
        http_event("GET", "/s/" + "A" * 32, route="/s/{share_id}")
        if name == "links"
        else http_event("GET", "/shares", bearer=None)
    )
    paths = [str(ROOT / "functions" / name), str(ROOT / "layers" / "presign")]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps([paths, event])],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["after_import"] == [] and report["after_request"] == [], report
    assert report["status"] in (401, 404), report


def test_the_first_password_imports_argon2(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2-cffi loads on demand; once loaded it is the library that checks (no fallback).
    from presign.config.shares import Argon2Parameters
    from presign.shares.passwords import PasswordHasher

    hasher = PasswordHasher(Argon2Parameters())
    assert hasher._hasher is None
    hasher.hash("a password of eight")
    assert type(hasher._hasher).__module__.startswith("argon2")
