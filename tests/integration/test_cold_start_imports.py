"""The default deployment never imports botocore: configuration in SSM, the HS256 secret and a
target's keys in Secrets Manager, the rate-limit and uploads tables in DynamoDB, all served by a moto server.

Each function is imported in a fresh interpreter (this one has botocore loaded by moto and the
tests), which then serves its first request; ``sys.modules`` is read after each step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.cfn import load_template
from local.emulator import TemplateResolver
from local.servers import MotoServer, aws_env
from local.tables import create_tables
from tests.support.events import AUDIENCE, ISSUER, SECRET, http_event, token

ROOT = Path(__file__).resolve().parents[2]
CONFIG_PARAMETER = "/presign/test/config"

CHILD = r"""
import json, sys
paths, event = json.loads(sys.argv[1])
sys.path[:0] = paths
report = {}
import app
report["after_import"] = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))

class Context:
    function_name = "fn"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    def get_remaining_time_in_millis(self):
        return 6000

response = app.handler(event, Context())
report["after_request"] = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))
report["status"] = response.get("statusCode")
report["body"] = response.get("body", json.dumps(response))
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def deployment() -> Iterator[dict[str, str]]:
    """A moto server holding what the template's default deployment reads; the function environment."""
    with MotoServer() as moto:
        env = aws_env(moto.endpoint_url)
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=env["AWS_REGION"]
        )
        secrets = session.client("secretsmanager", endpoint_url=moto.endpoint_url)
        jwt_arn = secrets.create_secret(Name="presign/test/jwt", SecretString=SECRET)["ARN"]
        keys = {"access_key_id": "AKIASTORED", "secret_access_key": "k" * 40}
        keys_arn = secrets.create_secret(Name="presign/test/r2", SecretString=json.dumps(keys))["ARN"]
        config = {
            "default_target": "main",
            "targets": {
                "main": {
                    "endpoint_url": "https://acct.r2.cloudflarestorage.invalid",
                    "region": "auto",
                    "bucket": "presign-test",
                    "addressing_style": "path",
                    "credentials": {"source": "secretsmanager", "secret_id": keys_arn},
                }
            },
            "auth": {
                "issuer": ISSUER,
                "audience": AUDIENCE,
                "secrets": [{"source": "secretsmanager", "secret_id": jwt_arn}],
            },
        }
        session.client("ssm", endpoint_url=moto.endpoint_url).put_parameter(
            Name=CONFIG_PARAMETER, Type="String", Value=json.dumps(config)
        )
        doc = load_template()
        tables = create_tables(doc, TemplateResolver(doc), moto.endpoint_url)
        yield {
            **env,
            "PRESIGN_CONFIG_PARAMETER": CONFIG_PARAMETER,
            "PRESIGN_RATE_LIMIT_TABLE": tables["RateLimitTable"],
            "PRESIGN_UPLOADS_TABLE": tables["UploadsTable"],
            "POWERTOOLS_SERVICE_NAME": "presign",
            "POWERTOOLS_METRICS_NAMESPACE": "presign-test",
        }


def cold_start(function: str, event: dict[str, Any], env: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    paths = [str(ROOT / "functions" / function), str(ROOT / "layers" / "presign")]
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **env}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps([paths, event])],
        env=child_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize(
    ("function", "route", "body", "status"),
    [
        ("uploads", "/uploads", {"filename": "a.txt", "content_type": "text/plain", "size": 3}, 201),
        ("downloads", "/downloads", {"keys": "users/alice/a.txt"}, 200),
    ],
)
def test_the_default_deployment_never_imports_botocore(
    deployment: dict[str, str], tmp_path: Path, function: str, route: str, body: Any, status: int
) -> None:
    # Given: the function's cold start and first request, with everything read from AWS
    event = http_event("POST", route, body, bearer=token())

    # When
    report = cold_start(function, event, deployment, tmp_path)

    # Then: a correct answer, signed with the stored keys, and no boto3 or botocore at any point
    # beyond botocore's bare package: `import aws_lambda_powertools` runs `import botocore` (its
    # shared/user_agent.py probes whether to hook the SDK's user agent), which loads only that
    # package's __init__ (logging, os, re; about 1 ms): no session, client, endpoint data or
    # credential chain, which are what cost a cold start.
    assert report["status"] == status, report
    assert "Credential=AKIASTORED%2F" in report["body"], report["body"][:500]
    assert set(report["after_import"]) <= {"botocore"}, report["after_import"]
    assert set(report["after_request"]) <= {"botocore"}, report["after_request"]


def test_the_storage_events_function_never_imports_botocore_for_an_event_not_its_own(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    # Given: its cold start (configuration from SSM) and an event for a bucket of no target
    event = json.loads((ROOT / "events" / "storage-object-created.json").read_text(encoding="utf-8"))

    # When
    report = cold_start("storage_events", event, deployment, tmp_path)

    # Then: the event is left alone, and boto3 stays out (botocore's bare package, as above)
    assert json.loads(report["body"]) == {"unknown": 1}, report
    assert set(report["after_import"]) <= {"botocore"}, report["after_import"]
    assert set(report["after_request"]) <= {"botocore"}, report["after_request"]
