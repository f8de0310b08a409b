"""Log context belongs to one invocation, names callers by a hash, and never holds the event.

A warm container runs many invocations through one logger. Keys appended for one caller
(``principal``, ``upload_id``, ``target``) used to stay for the next, so the next caller's error
was logged under the previous caller; and the keys held the raw ``sub`` claim, which the docs
promise logs never do. ``POWERTOOLS_LOGGER_LOG_EVENT=true`` would have logged every event, bearer
token included.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from presign.adapters.dynamodb import table_client
from presign.errors import DependencyUnavailable, NotFound
from tests.support.events import FakeContext, http_event, token
from tests.support.functions import function_env, load_function, settings_document
from tests.support.lifecycle import UPLOADS_TABLE, with_records

ALICE = "alice-5b1e0d"
BOB = "bob-93c7aa"
UPLOAD = {"filename": "a.txt", "content_type": "text/plain", "size": 3}


def sub_hash(sub: str) -> str:
    return hashlib.sha256(sub.encode()).hexdigest()[:16]


class Logs:
    """Every JSON line the function's logger writes, plus whatever reached stdout/stderr (metrics)."""

    def __init__(self, handler: logging.StreamHandler[Any], capsys: pytest.CaptureFixture[str]) -> None:
        self._handler = handler
        self._capsys = capsys
        self._buffer = io.StringIO()
        # Not setStream(): it flushes the old stream, which may be an earlier test's closed capture.
        with handler.lock:  # type: ignore[union-attr]
            self._previous, handler.stream = handler.stream, self._buffer

    def take(self) -> tuple[list[dict[str, Any]], str]:
        """The lines written since the last call, parsed, and all raw text written (logs and stdout)."""
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        out = self._capsys.readouterr()
        return [json.loads(line) for line in text.splitlines() if line.strip()], text + out.out + out.err

    def close(self) -> None:
        with self._handler.lock:  # type: ignore[union-attr]
            self._handler.stream = self._previous


@pytest.fixture
def logs_of(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[ModuleType], Logs]]:
    opened: list[Logs] = []

    def attach(module: ModuleType) -> Logs:
        handler = module.logger.registered_handler
        assert isinstance(handler, logging.StreamHandler), handler
        opened.append(Logs(handler, capsys))
        return opened[-1]

    yield attach
    for logs in reversed(opened):
        logs.close()


def _load(name: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    environment = function_env(settings_document())
    environment.update(env)
    return load_function(name, monkeypatch, environment)


def _invoke(module: ModuleType, path: str, body: Any, sub: str) -> dict[str, Any]:
    event = http_event("POST", path, body, bearer=token(sub))
    response: dict[str, Any] = module.handler(event, FakeContext())
    return {**response, "request_id": event["requestContext"]["requestId"]}


def _fail_before_authentication(module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    # The identity provider is down: the caller's error is logged before anyone is authenticated.
    def down() -> None:
        raise DependencyUnavailable("the identity provider is unavailable")

    monkeypatch.setattr(module.api.runtime, "authenticator", down)


def _fail_after_authentication(module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    # Something breaks while signing: the traceback is logged for the caller who is authenticated.
    def broken(*_args: Any) -> None:
        raise RuntimeError("the signer broke")

    monkeypatch.setattr(module.api.runtime, "signing", broken)


@pytest.mark.parametrize(
    ("fail", "status", "message", "principal"),
    [
        (_fail_before_authentication, 503, "dependency unavailable", None),
        (_fail_after_authentication, 500, "unhandled error", sub_hash(BOB)),
    ],
    ids=["before-authentication", "after-authentication"],
)
def test_a_warm_invocation_carries_no_key_of_the_previous_one(
    monkeypatch: pytest.MonkeyPatch,
    logs_of: Callable[[ModuleType], Logs],
    fail: Callable[[ModuleType, pytest.MonkeyPatch], None],
    status: int,
    message: str,
    principal: str | None,
) -> None:
    # Given one warm uploads function, and alice's successful upload through it
    module = _load("uploads", monkeypatch)
    logs = logs_of(module)
    first = _invoke(module, "/uploads", UPLOAD, ALICE)
    assert first["statusCode"] == 201, first["body"]
    first_lines, _ = logs.take()
    granted = [line for line in first_lines if line["message"] == "upload granted"]
    assert len(granted) == 1, first_lines
    assert granted[0]["principal"] == sub_hash(ALICE), granted[0]
    assert granted[0]["upload_id"] == json.loads(first["body"])["upload_id"], granted[0]
    assert granted[0]["target"] == "main", granted[0]

    # When bob's request, the next invocation, fails
    fail(module, monkeypatch)
    second = _invoke(module, "/uploads", UPLOAD, BOB)
    assert second["statusCode"] == status, second["body"]
    second_lines, _ = logs.take()

    # Then its lines say what happened, to whom, and carry nothing of alice's invocation
    assert [line["message"] for line in second_lines if line["level"] != "DEBUG"][-1:] == [message], (
        second_lines
    )
    for line in second_lines:
        assert line.get("principal") == principal, line
        assert "upload_id" not in line and "target" not in line and "principal_sub" not in line, line
        assert sub_hash(ALICE) not in json.dumps(line), line
        assert line["correlation_id"] == second["request_id"], line
        assert line["service"] == "presign" and line["function_request_id"], line  # structure kept


@pytest.mark.parametrize("name", ["uploads", "downloads"])
def test_logs_name_callers_by_a_hash_never_by_their_sub(
    name: str, monkeypatch: pytest.MonkeyPatch, logs_of: Callable[[ModuleType], Logs]
) -> None:
    # Given a function that logs on success and on failure
    module = _load(name, monkeypatch)
    logs = logs_of(module)
    path, body = ("/uploads", UPLOAD) if name == "uploads" else ("/downloads", {"keys": [f"users/{ALICE}/k"]})

    # When alice succeeds and then bob's request breaks
    assert _invoke(module, path, body, ALICE)["statusCode"] in (200, 201)
    _fail_after_authentication(module, monkeypatch)
    assert _invoke(module, path, body, BOB)["statusCode"] == 500
    lines, text = logs.take()

    # Then each line names its caller by the hash, and neither sub appears anywhere
    assert {line.get("principal") for line in lines} >= {sub_hash(ALICE), sub_hash(BOB)}, lines
    assert ALICE not in text and BOB not in text, text


def test_a_sub_that_is_not_valid_utf8_is_hashed_not_crashed(
    monkeypatch: pytest.MonkeyPatch, logs_of: Callable[[ModuleType], Logs]
) -> None:
    # A lone surrogate survives JSON ("\ud800") and PyJWT; it cannot name a namespace (403),
    # and naming it in the log must not turn that into a 500.
    module = _load("uploads", monkeypatch)
    logs_of(module)
    response = _invoke(module, "/uploads", UPLOAD, "\ud800")
    assert response["statusCode"] == 403, response["body"]


@pytest.mark.parametrize(
    ("name", "method", "path", "body"),
    [
        ("uploads", "POST", "/uploads", UPLOAD),
        ("downloads", "POST", "/downloads", {"keys": [f"users/{ALICE}/k"]}),
        ("meta", "GET", "/health", None),
    ],
)
def test_no_setting_logs_the_event(
    name: str,
    method: str,
    path: str,
    body: Any,
    monkeypatch: pytest.MonkeyPatch,
    logs_of: Callable[[ModuleType], Logs],
) -> None:
    # Given the environment variable that asks Powertools to log every event, set before the
    # function starts (the decorator reads it then)
    module = _load(name, monkeypatch, POWERTOOLS_LOGGER_LOG_EVENT="true", POWERTOOLS_LOG_LEVEL="DEBUG")
    logs = logs_of(module)
    module.logger.info("probe")  # the capture works, so an empty log below proves something
    bearer = token(ALICE)
    event = http_event(method, path, body, bearer=bearer)

    # When it is invoked
    response = module.handler(event, FakeContext())
    lines, text = logs.take()

    # Then the event is not in the log: no header, no token, no body
    assert response["statusCode"] in (200, 201), response["body"]
    assert lines[0]["message"] == "probe", lines
    assert bearer not in text and bearer.split(".")[1] not in text, text
    assert "authorization" not in text.lower() and ALICE not in text, text
    assert all("routeKey" not in json.dumps(line) for line in lines), lines


# -- the lifecycle function (issue 8) ------------------------------------------------------------

UNKNOWN = "0" * 26  # well-formed, so the route appends it to the log context before looking it up


def _lifecycle(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    # No DynamoDB call is made below; the client only needs a region to be built.
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    table_client.cache_clear()
    environment = function_env(with_records(settings_document()))
    environment["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
    environment.update(env)
    return load_function("lifecycle", monkeypatch, environment)


def _delete(module: ModuleType, upload_id: str, sub: str) -> dict[str, object]:
    event = http_event("DELETE", f"/uploads/{upload_id}", bearer=token(sub), route="/uploads/{upload_id}")
    response: dict[str, object] = module.handler(event, FakeContext())
    return response


def test_lifecycle_warm_invocation_carries_no_key_of_the_previous_caller(
    monkeypatch: pytest.MonkeyPatch, logs_of: Callable[[ModuleType], Logs]
) -> None:
    # Given a warm lifecycle function that served alice (an id that is not hers: 404, no storage call)
    module = _lifecycle(monkeypatch)
    logs = logs_of(module)
    monkeypatch.setattr(module.lifecycle, "_get", _not_found)
    first = _delete(module, UNKNOWN, ALICE)
    assert first["statusCode"] == 404, first
    logs.take()

    # When bob's next request fails before he is authenticated
    def down() -> None:
        raise DependencyUnavailable("the identity provider is unavailable")

    monkeypatch.setattr(module.api.runtime, "authenticator", down)
    second = _delete(module, "x", BOB)
    assert second["statusCode"] == 503, second
    lines, _ = logs.take()

    # Then bob's lines carry neither alice's hash nor her upload id
    assert lines, "the 503 is logged"
    for line in lines:
        assert line.get("principal") is None and "upload_id" not in line, line
        assert sub_hash(ALICE) not in str(line), line


def test_lifecycle_never_logs_the_event(
    monkeypatch: pytest.MonkeyPatch, logs_of: Callable[[ModuleType], Logs]
) -> None:
    module = _lifecycle(monkeypatch, POWERTOOLS_LOGGER_LOG_EVENT="true", POWERTOOLS_LOG_LEVEL="DEBUG")
    logs = logs_of(module)
    module.logger.info("probe")
    bearer = token(ALICE)
    event = http_event("GET", "/uploads/not-an-id", bearer=bearer, route="/uploads/{upload_id}")

    response = module.handler(event, FakeContext())
    lines, text = logs.take()

    assert response["statusCode"] == 404, response["body"]
    assert lines[0]["message"] == "probe", lines
    assert bearer.split(".")[1] not in text and "authorization" not in text.lower(), text


def _not_found(owner: str, upload_id: str) -> object:
    raise NotFound("no such upload")


def test_the_audit_line_does_not_carry_the_sub_inside_the_object_key(
    monkeypatch: pytest.MonkeyPatch, logs_of: Callable[[ModuleType], Logs]
) -> None:
    # Given the uploads function with records on (kept in memory: only the log line matters here)
    # and the default key prefix template, users/{sub}/
    from tests.support.memory import MemoryRecords

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    table_client.cache_clear()
    environment = function_env(with_records(settings_document()))
    environment["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
    module = load_function("uploads", monkeypatch, environment)
    monkeypatch.setattr(module.lifecycle, "_store", MemoryRecords())
    logs = logs_of(module)

    # When alice is granted an upload
    response = _invoke(module, "/uploads", UPLOAD, ALICE)
    assert response["statusCode"] == 201, response["body"]
    lines, text = logs.take()

    # Then its audit line names her by a hash only: the key is users/<sub>/..., the claim in clear
    audit = [line for line in lines if line.get("audit")]
    assert len(audit) == 1, lines
    assert ALICE not in text, audit
