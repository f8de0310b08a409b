"""When the rate-limit table cannot be reached, the log says why (and nothing a client sent)."""

import socket
from collections.abc import Callable

import pytest

from local.servers import aws_env
from local.tables import STACK_NAME
from presign.adapters.dynamodb import table_client
from tests.integration.conftest import Client
from tests.support.events import token
from tests.support.functions import settings_document

UPLOAD = {"filename": "a.txt", "content_type": "text/plain", "size": 100}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_the_unavailable_line_names_its_cause(
    make_client: Callable[..., Client],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    # Given a table endpoint where nothing listens
    for name, value in aws_env(f"http://127.0.0.1:{closed_port()}").items():
        monkeypatch.setenv(name, value)
    table_client.cache_clear()
    document = settings_document()
    document["rate_limits"] = {"failure_mode": mode}
    client = make_client("uploads", document, PRESIGN_RATE_LIMIT_TABLE=f"{STACK_NAME}-RateLimitTable")
    bearer = token()
    caplog.clear()

    # When
    response = client.post("/uploads", UPLOAD, bearer=bearer)
    table_client.cache_clear()

    # Then: one structured line with the cause the adapter named, and what was being counted
    assert response["statusCode"] == (503 if mode == "closed" else 201), response["body"]
    # (Powertools' handler writes to the stdout of the first test that made it: read the records.)
    records = [vars(r) for r in caplog.records]
    lines = [r for r in records if r["msg"] == "rate limit store unavailable"]
    assert len(lines) == 1, records
    logged = {key: lines[0].get(key) for key in ("cause", "action", "target", "failure_mode")}
    assert logged["cause"] not in (None, "", "unknown"), logged
    assert logged == {**logged, "action": "upload", "target": "main", "failure_mode": mode}, logged
    assert bearer not in str(records)
