"""API Gateway HTTP API (payload 2.0) events and HS256 tokens for tests."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import jwt

ISSUER = "https://issuer.test"
AUDIENCE = "presign-test"
SECRET = "s" * 40


def token(sub: str = "alice", *, secret: str = SECRET, ttl: int = 300, **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def http_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    bearer: str | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
    route: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``route`` is the template's path (``/uploads/{upload_id}``) when ``path`` fills it in."""
    all_headers = {"content-type": "application/json", **(headers or {})}
    if bearer is not None:
        all_headers["authorization"] = f"Bearer {bearer}"
    request_id = str(uuid.uuid4())
    route_key = f"{method} {route or path}"
    extra: dict[str, Any] = {}
    if route is not None:
        extra["pathParameters"] = _path_parameters(route, path)
    if query:
        extra["queryStringParameters"] = dict(query)
    return {
        **extra,
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": raw_body if raw_body is not None else (None if body is None else json.dumps(body)),
        "isBase64Encoded": False,
    }


def _path_parameters(route: str, path: str) -> dict[str, str]:
    found = {}
    for pattern, value in zip(route.split("/"), path.split("/"), strict=True):
        if pattern.startswith("{") and pattern.endswith("}"):
            found[pattern[1:-1]] = value
    return found


class FakeContext:
    function_name = "presign-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:presign-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000
