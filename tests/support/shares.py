"""Share-link test plumbing: the owner's and the public functions, wired to a moto server (its
DynamoDB holds template.yaml's tables, its S3 the objects) or to SeaweedFS for the storage."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from local.servers import MotoServer
from tests.integration.conftest import Client
from tests.support.clock import ManualClock, inject_clock
from tests.support.events import FakeContext, http_event, token
from tests.support.functions import function_env, load_function, settings_document
from tests.support.lifecycle import RATE_LIMIT_TABLE, UPLOADS_TABLE, moto_with_tables, point_at

SHARES_TABLE = "presign-local-SharesTable"
BUCKET = "presign-shares"
FAST_ARGON2 = {"memory_kib": 19456, "time_cost": 2, "parallelism": 1}


def moto_with_bucket(bucket: str = BUCKET) -> Iterator[MotoServer]:
    for server in moto_with_tables():
        s3(server).create_bucket(Bucket=bucket)
        yield server


def s3(server: MotoServer) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def dynamodb(server: MotoServer) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def share_document(endpoint_url: str, bucket: str = BUCKET, **shares: Any) -> dict[str, Any]:
    document = settings_document(endpoint_url=endpoint_url, bucket=bucket)
    document["shares"] = {"public_base_url": "https://files.example.test", **shares}
    return document


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


@dataclass
class Stack:
    """The owner's function and the public one, as two containers of one deployment."""

    owner_fn: Client
    links_fn: Client

    def owner(self, sub: str = "alice") -> Owner:
        return Owner(self, sub)

    def visit(
        self,
        share_id: str,
        *,
        method: str = "GET",
        password: str | None = None,
        form: dict[str, str] | None = None,
        accept: str | None = None,
        query: dict[str, str] | None = None,
        source_ip: str = "198.51.100.7",
        raw_body: str | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        if accept is not None:
            headers["accept"] = accept
        payload: Any = None
        if form is not None:
            raw_body = urlencode(form)
            headers["content-type"] = "application/x-www-form-urlencoded"
        elif password is not None:
            payload = {"password": password}
        if content_type is not None:
            headers["content-type"] = content_type
        event = http_event(
            method,
            f"/s/{share_id}",
            payload,
            headers=headers,
            raw_body=raw_body,
            route="/s/{share_id}",
            query=query,
        )
        if method == "GET" and raw_body is None:
            event["headers"].pop("content-type", None)
        event["requestContext"]["http"]["sourceIp"] = source_ip
        return self.links_fn.module.handler(event, FakeContext())  # type: ignore[no-any-return]


@dataclass
class Owner:
    stack: Stack
    sub: str
    created: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bearer(self) -> str:
        return token(self.sub)

    def key(self, name: str = "report.pdf") -> str:
        return f"users/{self.sub}/{uuid.uuid4().hex[:8]}/{name}"

    def create(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.stack.owner_fn.post("/shares", payload, bearer=self.bearer)

    def share(self, key: str, **options: Any) -> dict[str, Any]:
        response = self.create({"key": key, **options})
        assert response["statusCode"] == 201, response["body"]
        return dict(body(response))

    def list(self, **query: str) -> dict[str, Any]:
        return self.stack.owner_fn.call("GET", "/shares", bearer=self.bearer, query=query or None)

    def get(self, share_id: str) -> dict[str, Any]:
        return self.stack.owner_fn.call(
            "GET", f"/shares/{share_id}", bearer=self.bearer, route="/shares/{share_id}"
        )

    def revoke(self, share_id: str) -> dict[str, Any]:
        return self.stack.owner_fn.call(
            "DELETE", f"/shares/{share_id}", bearer=self.bearer, route="/shares/{share_id}"
        )


def stack_env(moto: MotoServer, document: dict[str, Any], **keys: str) -> dict[str, str]:
    env = function_env(document, **keys)
    env.update(
        PRESIGN_SHARES_TABLE=SHARES_TABLE,
        PRESIGN_UPLOADS_TABLE=UPLOADS_TABLE,
        PRESIGN_RATE_LIMIT_TABLE=RATE_LIMIT_TABLE,
    )
    return env


def make_stack(
    moto: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    document: dict[str, Any],
    *,
    links_clock: ManualClock | None = None,
    **keys: str,
) -> Stack:
    """``links_clock``: the public function's clock (the owner's keeps the real one, which its
    tokens are checked against)."""
    point_at(moto, monkeypatch)
    env = stack_env(moto, document, **keys)
    owner_fn = Client(load_function("shares", monkeypatch, env))
    if links_clock is not None:
        inject_clock(monkeypatch, links_clock)
    return Stack(owner_fn, Client(load_function("links", monkeypatch, env)))
