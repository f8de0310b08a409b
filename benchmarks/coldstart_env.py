"""What a measured cold start runs in: the environment Lambda would give the function (template.yaml's
variables for the deployment, the role's credentials), a moto server holding what the default
deployment reads (the configuration in SSM, the HS256 secret in Secrets Manager, the tables), the
sample events with a valid token. ``bench_coldstart`` measures in it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.coldstart_build import BenchError
from local.cfn import load_template
from local.gateway.template import TemplateResolver
from local.servers import MotoServer, ServerError
from local.tables import STACK_NAME, create_tables

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / ".aws-sam" / "bench-events"

ISSUER = "https://auth.bench.invalid/"
AUDIENCE = "presign-api"
JWT_SECRET = "bench-secret-" + "x" * 40  # HS256 wants at least 32 bytes
SUB = "user-123"
REGION = "us-east-1"
TABLE = f"{STACK_NAME}-RateLimitTable"  # as local.tables names template.yaml's table
CONFIG_PARAMETER = "/presign/bench/config"  # samconfig.toml's shape: /presign/<env>/config
JWT_SECRET_NAME = "presign/bench/jwt"
TABLES = {"RateLimitTable": TABLE, "UploadsTable": f"{STACK_NAME}-UploadsTable"}


def bench_token() -> str:
    import jwt

    now = int(time.time())
    claims = {"sub": SUB, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    claims["scope"] = "presign/uploads presign/downloads"
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def settings_document(secret: dict[str, str]) -> str:
    return json.dumps(
        {
            "default_target": "main",
            "targets": {"main": {"region": REGION, "bucket": "presign-bench-uploads"}},
            "auth": {"issuer": ISSUER, "audience": AUDIENCE, "secrets": [secret]},
        }
    )


ENV_SECRET = {"source": "env", "name": "PRESIGN_BENCH_JWT_SECRET"}


def _resolve(value: Any, params: dict[str, str], conditions: dict[str, bool]) -> Any:
    """The few intrinsics the template's environment variables use."""
    if isinstance(value, dict):
        if "Ref" in value:
            return params.get(value["Ref"], TABLES.get(value["Ref"]))
        if "Fn::If" in value:
            name, yes, no = value["Fn::If"]
            return _resolve(yes if conditions[name] else no, params, conditions)
    return value


def function_env(function: str, home: Path, deployment: str, runtime: str) -> dict[str, str]:
    template = load_template()
    if deployment == "default":
        params = {"PresignConfig": "", "PresignConfigParameter": CONFIG_PARAMETER, "LogLevel": "INFO"}
    else:
        params = {
            "PresignConfig": settings_document(ENV_SECRET),
            "PresignConfigParameter": "",
            "LogLevel": "INFO",
        }
    conditions = {"HasConfigParameter": deployment == "default", "UseJwtAuthorizer": False}
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    props = template["Resources"][function]["Properties"]
    variables.update(props.get("Environment", {}).get("Variables", {}))
    resolved = {k: _resolve(v, params, conditions) for k, v in variables.items()}
    memory = props.get("MemorySize", template["Globals"]["Function"]["MemorySize"])
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": str(home),  # an empty home: no ~/.aws of the developer's
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # Lambda hands the role's temporary credentials over in these variables.
        "AWS_ACCESS_KEY_ID": "ASIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PRESIGN_BENCH_JWT_SECRET": JWT_SECRET,
    }
    env.update({k: str(v) for k, v in resolved.items() if v is not None})
    return env


def write_events(token: str, names: Iterable[str]) -> dict[str, Path]:
    EVENTS_DIR.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in names:
        event = json.loads((ROOT / "events" / name).read_text(encoding="utf-8"))
        if "authorization" in event["headers"]:
            event["headers"]["authorization"] = f"Bearer {token}"
        path = EVENTS_DIR / name
        path.write_text(json.dumps(event), encoding="utf-8")
        paths[name] = path
    return paths


def _client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(  # type: ignore[call-overload]  # the service is a variable
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )


@contextlib.contextmanager
def aws_services() -> Iterator[str]:
    """A moto server on 127.0.0.1 holding what the default deployment reads, and the table."""
    try:
        server = MotoServer().start()
    except ServerError as exc:
        raise BenchError(f"no moto server: {exc}") from exc
    try:
        endpoint = server.endpoint_url
        doc = load_template()
        # The same table make dev and the tests create, from template.yaml's own properties.
        assert create_tables(doc, TemplateResolver(doc), endpoint)["RateLimitTable"] == TABLE
        # The template's default deployment: the document in SSM names the secret by ARN.
        arn = _client("secretsmanager", endpoint).create_secret(
            Name=JWT_SECRET_NAME, SecretString=JWT_SECRET
        )["ARN"]
        document = settings_document({"source": "secretsmanager", "secret_id": arn})
        _client("ssm", endpoint).put_parameter(Name=CONFIG_PARAMETER, Type="String", Value=document)
        yield endpoint
    finally:
        server.stop()


def table_items(endpoint: str) -> int:
    return int(_client("dynamodb", endpoint).scan(TableName=TABLE, Select="COUNT")["Count"])
