"""Provider refusals through the real uploads handler: what the storage cannot do is 422
``unsupported_by_provider`` in the contract's error shape, and a document asking for it never
starts the function (presign.config.providers; the domain-level cases are tests/unit/test_providers.py)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from presign.errors import ConfigurationError
from tests.integration.conftest import Client
from tests.support.functions import function_env, load_function, settings_document

CHECKSUM = base64.b64encode(hashlib.sha256(b"hello").digest()).decode()
FILE = {"filename": "a.txt", "content_type": "text/plain", "size": 5}


def answer(client: Client, **changes: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/uploads", {**FILE, **changes})
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("provider", "changes", "capability"),
    [
        ("r2", {"method": "POST"}, "POST"),
        ("filebase", {"method": "POST"}, "POST"),
        ("b2", {"checksum_sha256": CHECKSUM}, "SHA-256"),
        ("r2", {"checksum_sha256": CHECKSUM}, "SHA-256"),
        ("wasabi", {"size": 20 * 1024**2, "multipart": True, "part_checksums": True}, "SHA-256"),
    ],
    ids=["r2-post", "filebase-post", "b2-checksum", "r2-checksum", "wasabi-part-checksums"],
)
def test_what_the_provider_cannot_do_is_422(
    make_client: Callable[..., Client], provider: str, changes: dict[str, Any], capability: str
) -> None:
    client = make_client("uploads", settings_document(provider=provider))

    status, body = answer(client, **changes)

    assert status == 422, body
    assert body["error"]["code"] == "unsupported_by_provider", body
    assert capability in body["error"]["message"] and "storage" in body["error"]["message"], body
    assert set(body["error"]) == {"code", "message", "request_id"}, body


@pytest.mark.parametrize(
    "changes",
    [{"method": "POST"}, {"checksum_sha256": CHECKSUM}],
    ids=["post", "checksum"],
)
def test_the_same_requests_are_signed_where_the_provider_can(
    make_client: Callable[..., Client], changes: dict[str, Any]
) -> None:
    client = make_client("uploads", settings_document(provider="seaweedfs"))

    status, body = answer(client, **changes)

    assert status == 201, body


def test_a_document_asking_what_the_provider_cannot_do_never_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    document = settings_document(provider="r2", upload={"methods": ["PUT", "POST"]})

    with pytest.raises(ConfigurationError) as caught:
        load_function("uploads", monkeypatch, function_env(document))

    assert "targets.main.upload.methods: Cloudflare R2 does not support POST uploads" in caught.value.message
