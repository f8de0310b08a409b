"""Rate limits as a client sees them: through the real handlers, against a moto_server over HTTP."""

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.cfn import load_template
from local.gateway.template import TemplateResolver
from local.servers import MotoServer, aws_env
from local.tables import STACK_NAME, create_tables
from presign.adapters.dynamodb import table_client
from tests.integration.conftest import Client
from tests.support.events import token
from tests.support.functions import ROOT, function_env, settings_document

TABLE = f"{STACK_NAME}-RateLimitTable"
UPLOAD = {"filename": "a.txt", "content_type": "text/plain", "size": 100}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        doc = load_template()
        create_tables(doc, TemplateResolver(doc), server.endpoint_url)
        yield server


@pytest.fixture
def limited(
    moto: MotoServer, make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Client]]:
    for name, value in aws_env(moto.endpoint_url).items():
        monkeypatch.setenv(name, value)
    table_client.cache_clear()

    def make(name: str, rate_limits: dict[str, Any], **target: Any) -> Client:
        document = settings_document(**target)
        document["rate_limits"] = rate_limits
        return make_client(name, document, PRESIGN_RATE_LIMIT_TABLE=TABLE)

    yield make
    table_client.cache_clear()


def test_uploads_over_the_limit_get_429_and_sign_nothing(limited: Callable[..., Client]) -> None:
    # Given: three uploads an hour for each user
    client = limited("uploads", {"actions": {"upload": {"rate": 3, "period": 3600, "burst": 3}}})
    bearer = token("rl-alice")

    # When
    answers = [client.post("/uploads", UPLOAD, bearer=bearer) for _ in range(4)]

    # Then
    assert [a["statusCode"] for a in answers] == [201, 201, 201, 429]
    assert [a["headers"]["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert all(a["headers"]["RateLimit-Limit"] == "3" for a in answers)
    refused = answers[3]
    assert int(refused["headers"]["Retry-After"]) >= 1
    assert int(refused["headers"]["RateLimit-Reset"]) >= 1
    assert json.loads(refused["body"])["error"]["code"] == "rate_limited"
    assert "X-Amz" not in refused["body"] and "url" not in refused["body"]
    # Another user has a budget of their own
    assert client.post("/uploads", UPLOAD, bearer=token("rl-bob"))["statusCode"] == 201


def test_a_batch_spends_one_unit_per_url(limited: Callable[..., Client]) -> None:
    client = limited(
        "downloads",
        {"actions": {"download": {"rate": 10, "period": 3600, "burst": 10}}},
        download={"max_keys": 10},
    )
    bearer = token("rl-carol")
    keys = [f"users/rl-carol/k{i}" for i in range(6)]

    first = client.post("/downloads", {"keys": keys}, bearer=bearer)
    second = client.post("/downloads", {"keys": keys}, bearer=bearer)

    assert first["statusCode"] == 200 and first["headers"]["RateLimit-Remaining"] == "4"
    assert second["statusCode"] == 429  # six more do not fit in the four left


def test_the_daily_byte_quota_counts_declared_sizes(limited: Callable[..., Client]) -> None:
    client = limited("uploads", {"upload_bytes_per_day": 250})
    bearer = token("rl-dave")
    statuses = [client.post("/uploads", UPLOAD, bearer=bearer)["statusCode"] for _ in range(3)]
    assert statuses == [201, 201, 429]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(("mode", "status"), [("closed", 503), ("open", 201)])
def test_dynamodb_unreachable(
    make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch, mode: str, status: int
) -> None:
    for name, value in aws_env(f"http://127.0.0.1:{closed_port()}").items():
        monkeypatch.setenv(name, value)
    table_client.cache_clear()
    document = settings_document()
    document["rate_limits"] = {"failure_mode": mode}
    client = make_client("uploads", document, PRESIGN_RATE_LIMIT_TABLE=TABLE)

    response = client.post("/uploads", UPLOAD)
    table_client.cache_clear()

    assert response["statusCode"] == status, response["body"]
    if mode == "closed":
        assert json.loads(response["body"])["error"]["code"] == "dependency_unavailable"
        assert int(response["headers"]["Retry-After"]) >= 1
    else:
        assert "RateLimit-Remaining" not in response["headers"]  # nothing was checked


def test_limits_on_without_a_table_stop_the_cold_start(make_client: Callable[..., Client]) -> None:
    from presign.errors import ConfigurationError

    document = settings_document()
    document["rate_limits"] = {}
    with pytest.raises(ConfigurationError, match="PRESIGN_RATE_LIMIT_TABLE"):
        make_client("uploads", document, PRESIGN_RATE_LIMIT_TABLE="")


# A cold start in a fresh interpreter, as Lambda does it: import the handler, serve one request.
COLD_START = """
import importlib.util, json, sys
from tests.support.events import FakeContext, http_event, token
name, path, body = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
spec = importlib.util.spec_from_file_location("app", f"functions/{name}/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
answer = module.handler(http_event("POST", path, body, bearer=token("cold-start")), FakeContext())
sdk = sorted(m for m in sys.modules if m.partition(".")[0] in ("boto3", "botocore", "s3transfer"))
print(json.dumps({"status": answer["statusCode"], "headers": answer["headers"], "sdk": sdk}))
"""


@pytest.mark.parametrize(
    ("name", "path", "body"),
    [("uploads", "/uploads", UPLOAD), ("downloads", "/downloads", {"keys": ["users/cold-start/a.txt"]})],
)
def test_a_cold_start_and_first_rate_limited_request_never_import_the_sdk(
    moto: MotoServer, name: str, path: str, body: dict[str, Any]
) -> None:
    # Given a function with rate limits on, env credentials for S3 and env secrets for tokens
    document = settings_document()
    document["rate_limits"] = {"actions": {"upload": {"rate": 5, "period": 60, "burst": 5}}}
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "presign"), str(ROOT)]),
        **function_env(document),
        **aws_env(moto.endpoint_url),
        "PRESIGN_RATE_LIMIT_TABLE": TABLE,
    }
    # When a fresh interpreter imports the handler and serves one request
    done = subprocess.run(
        [sys.executable, "-c", COLD_START, name, path, json.dumps(body)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    # Then the limiter answered from the table (moto), and the SDK was never loaded: no boto3 and no
    # botocore module. Only the bare "botocore" package may appear: Powertools' user_agent probes it
    # with `import botocore` (its __init__ is ~0.5 ms and imports no submodule) and we cannot stop it.
    assert answer["status"] in (200, 201), answer
    assert "RateLimit-Remaining" in answer["headers"]
    assert answer["sdk"] in ([], ["botocore"])
