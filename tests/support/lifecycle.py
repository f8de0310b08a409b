"""Upload-lifecycle test plumbing: a moto server with template.yaml's tables, and clients of the
uploads and lifecycle functions wired to it (records on, the uploads table set)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from local.cfn import load_template
from local.gateway.template import TemplateResolver
from local.servers import MotoServer, aws_env
from local.tables import STACK_NAME, create_tables
from presign.adapters.dynamodb import table_client
from tests.integration.conftest import Client
from tests.support.events import token

UPLOADS_TABLE = f"{STACK_NAME}-UploadsTable"
RATE_LIMIT_TABLE = f"{STACK_NAME}-RateLimitTable"


def moto_with_tables() -> Iterator[MotoServer]:
    with MotoServer() as server:
        doc = load_template()
        tables = create_tables(doc, TemplateResolver(doc), server.endpoint_url)
        assert tables["UploadsTable"] == UPLOADS_TABLE
        yield server


def with_records(document: dict[str, Any], **records: Any) -> dict[str, Any]:
    return {**document, "upload_records": {"enabled": True, "head_retry_delay": 0, **records}}


def point_at(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in aws_env(moto.endpoint_url).items():
        monkeypatch.setenv(name, value)
    table_client.cache_clear()


def fresh_sub(prefix: str) -> str:
    """A caller no other test has been: rate-limit tables outlive a test, and a sub made from
    ``id(...)`` comes back once CPython reuses the address (tests/unit/test_test_callers.py)."""
    return f"{prefix}-{secrets.token_hex(8)}"


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


@dataclass
class Caller:
    """One user talking to the uploads and lifecycle functions."""

    uploads: Client
    lifecycle: Client
    sub: str = "alice"

    @property
    def bearer(self) -> str:
        return token(self.sub)

    def as_user(self, sub: str) -> Caller:
        return Caller(self.uploads, self.lifecycle, sub)

    def create(self, payload: dict[str, Any], **headers: str) -> dict[str, Any]:
        return self.uploads.post("/uploads", payload, bearer=self.bearer, headers=headers or None)

    def renew(self, upload_id: str, payload: Any) -> dict[str, Any]:
        return self.uploads.call(
            "POST",
            f"/uploads/{upload_id}/parts",
            payload,
            bearer=self.bearer,
            route="/uploads/{upload_id}/parts",
        )

    def sign(self, upload_id: str, payload: Any) -> dict[str, Any]:
        return self.lifecycle.call(
            "POST",
            f"/uploads/{upload_id}/sign",
            payload,
            bearer=self.bearer,
            route="/uploads/{upload_id}/sign",
        )

    def complete(self, upload_id: str, payload: Any = None, **headers: str) -> dict[str, Any]:
        return self.lifecycle.call(
            "POST",
            f"/uploads/{upload_id}/complete",
            payload,
            bearer=self.bearer,
            route="/uploads/{upload_id}/complete",
            headers=headers or None,
        )

    def status(self, upload_id: str) -> dict[str, Any]:
        return self.lifecycle.call(
            "GET", f"/uploads/{upload_id}", bearer=self.bearer, route="/uploads/{upload_id}"
        )

    def delete(self, upload_id: str) -> dict[str, Any]:
        return self.lifecycle.call(
            "DELETE", f"/uploads/{upload_id}", bearer=self.bearer, route="/uploads/{upload_id}"
        )

    def list(self, **query: str) -> dict[str, Any]:
        return self.lifecycle.call("GET", "/uploads", bearer=self.bearer, query=query or None)


MakeCaller = Callable[..., Caller]
