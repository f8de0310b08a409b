"""The naive baseline for bench_coldstart: how such a function is commonly written.

Everything is created at import: boto3 S3 and DynamoDB clients, Powertools Logger and Metrics, an
APIGatewayHttpResolver with validation, pydantic models and PyJWT; the configuration and the JWT
secret are read where the deployment keeps them (an SSM parameter and Secrets Manager, with boto3
clients, or environment variables). It serves the same requests as
the real functions (same events, same token, same answers in substance), so the benchmark compares
cold starts, not features. It is shipped the way a plain `sam build` ships a function: dependencies
vendored next to it, without bytecode.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import boto3
import jwt
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

if os.environ.get("PRESIGN_CONFIG_PARAMETER"):
    ssm = boto3.client("ssm")
    CONFIG = json.loads(ssm.get_parameter(Name=os.environ["PRESIGN_CONFIG_PARAMETER"])["Parameter"]["Value"])
else:
    CONFIG = json.loads(os.environ["PRESIGN_CONFIG"])
TARGET = CONFIG["targets"][CONFIG["default_target"]]
AUTH = CONFIG["auth"]
if any(ref["source"] == "secretsmanager" for ref in AUTH["secrets"]):
    secretsmanager = boto3.client("secretsmanager")
JWT_SECRETS = [
    os.environ[ref["name"]]
    if ref["source"] == "env"
    else secretsmanager.get_secret_value(SecretId=ref["secret_id"])["SecretString"]
    for ref in AUTH["secrets"]
]
RATE_LIMIT_TABLE = os.environ.get("PRESIGN_RATE_LIMIT_TABLE", "")
# The upload records the real functions keep: the naive way, one boto3 call each.
UPLOADS_TABLE = os.environ.get("PRESIGN_UPLOADS_TABLE", "")
# bench_coldstart sets this only when it sees the real functions write a counter per request.
COUNT_REQUESTS = os.environ.get("BENCH_BASELINE_RATE_LIMIT") == "1"

logger = Logger()
metrics = Metrics()
s3 = boto3.client(
    "s3", region_name=TARGET.get("region", "us-east-1"), endpoint_url=TARGET.get("endpoint_url")
)
dynamodb = boto3.client("dynamodb")
app = APIGatewayHttpResolver(enable_validation=True)


class UploadRequest(BaseModel):
    filename: str = Field(min_length=1, max_length=1024)
    content_type: str = Field(min_length=3, max_length=255)
    size: int = Field(gt=0)
    target: str | None = None
    method: Literal["PUT", "POST"] = "PUT"
    metadata: dict[str, str] = Field(default_factory=dict)
    expires_in: int | None = Field(default=None, gt=0, le=604800)


class DownloadRequest(BaseModel):
    keys: str | list[str]
    target: str | None = None
    expires_in: int | None = Field(default=None, gt=0, le=604800)
    disposition: Literal["attachment", "inline"] | None = None


def _claims() -> dict[str, Any]:
    header = app.current_event.headers.get("authorization", "")
    token = header.partition(" ")[2]
    for secret in JWT_SECRETS:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, secret, algorithms=["HS256"], audience=AUTH["audience"], issuer=AUTH["issuer"]
            )
            return claims
        except jwt.InvalidSignatureError:
            continue
    raise PermissionError("invalid token")


def _count(action: str, sub: str) -> None:
    if COUNT_REQUESTS:
        dynamodb.update_item(
            TableName=RATE_LIMIT_TABLE,
            Key={"pk": {"S": f"{action}#{sub}"}},
            UpdateExpression="ADD hits :one SET #ttl = :ttl",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":ttl": {"N": str(int(datetime.now(UTC).timestamp()) + 60)},
            },
        )


def _expires_at(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


@app.post("/uploads")
def create_upload(request: UploadRequest) -> Response[str]:
    claims = _claims()
    _count("upload", claims["sub"])
    expires_in = request.expires_in or 900
    upload_id = secrets.token_urlsafe(16)
    key = f"users/{claims['sub']}/{datetime.now(UTC):%Y/%m/%d}/{upload_id}/{request.filename}"
    url = s3.generate_presigned_url(
        "put_object",
        Params={
            "Bucket": TARGET["bucket"],
            "Key": key,
            "ContentType": request.content_type,
            "ContentLength": request.size,
            "Metadata": request.metadata,
        },
        ExpiresIn=expires_in,
    )
    if UPLOADS_TABLE:
        dynamodb.put_item(
            TableName=UPLOADS_TABLE,
            Item={
                "pk": {"S": f"u#{claims['sub']}"},
                "sk": {"S": f"up#{upload_id}"},
                "object_key": {"S": key},
                "status": {"S": "pending"},
                "size": {"N": str(request.size)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    metrics.add_metric(name="UploadUrlsIssued", unit=MetricUnit.Count, value=1)
    body = {
        "upload_id": upload_id,
        "key": key,
        "method": "PUT",
        "url": url,
        "headers": {"content-type": request.content_type},
        "expires_at": _expires_at(expires_in),
        "expires_in": expires_in,
    }
    return Response(
        201, content_types.APPLICATION_JSON, json.dumps(body), headers={"Cache-Control": "no-store"}
    )


@app.post("/downloads")
def create_downloads(request: DownloadRequest) -> Response[str]:
    claims = _claims()
    _count("download", claims["sub"])
    expires_in = request.expires_in or 300
    prefix = f"users/{claims['sub']}/"
    items = []
    for key in [request.keys] if isinstance(request.keys, str) else request.keys:
        if not key.startswith(prefix):
            items.append({"key": key, "error": {"code": "forbidden", "message": "outside your namespace"}})
            continue
        params = {"Bucket": TARGET["bucket"], "Key": key}
        if request.disposition:
            params["ResponseContentDisposition"] = request.disposition
        url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        items.append({"key": key, "url": url, "expires_at": _expires_at(expires_in)})
    metrics.add_metric(name="DownloadUrlsIssued", unit=MetricUnit.Count, value=len(items))
    body = {"items": items, "expires_in": expires_in}
    return Response(
        200, content_types.APPLICATION_JSON, json.dumps(body), headers={"Cache-Control": "no-store"}
    )


@app.get("/uploads")
def list_uploads() -> Response[str]:
    claims = _claims()
    _count("upload_list", claims["sub"])
    found = dynamodb.query(
        TableName=UPLOADS_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"u#{claims['sub']}"}},
        ScanIndexForward=False,
        Limit=20,
    )
    items = [{"upload_id": i["sk"]["S"][3:], "status": i["status"]["S"]} for i in found.get("Items", [])]
    return Response(
        200,
        content_types.APPLICATION_JSON,
        json.dumps({"items": items}),
        headers={"Cache-Control": "no-store"},
    )


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/openapi.json")
def openapi() -> Response[str]:
    # The naive way: build the document from the routes on request.
    return Response(200, content_types.APPLICATION_JSON, app.get_openapi_json_schema())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
