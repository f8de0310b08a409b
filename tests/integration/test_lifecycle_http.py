"""The lifecycle routes through the real handlers and a moto server over HTTP.

The storage is an in-memory ``ObjectStore`` here (SeaweedFS judges real objects in
tests/realserver/test_lifecycle.py); the records are DynamoDB's, in moto, in template.yaml's table.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.servers import MotoServer, aws_env
from presign.adapters.dynamodb import table_client
from presign.errors import ConfigurationError
from presign.uploads.ids import created_ms
from presign.uploads.verification import ObjectFacts
from tests.integration.conftest import Client
from tests.support.functions import ROOT, function_env, load_function, settings_document
from tests.support.http_stubs import Seen, StubServer, aws_error, forward
from tests.support.lifecycle import (
    UPLOADS_TABLE,
    Caller,
    body,
    fresh_sub,
    moto_with_tables,
    point_at,
    with_records,
)
from tests.support.memory import MemoryObjects

UPLOAD = {"filename": "notes.txt", "content_type": "text/plain", "size": 11}


def stored(size: int = 11, content_type: str = "text/plain", **extra: Any) -> ObjectFacts:
    return ObjectFacts(size=size, content_type=content_type, etag='"abc"', **extra)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def storage() -> MemoryObjects:
    return MemoryObjects()


@pytest.fixture
def stack(moto: MotoServer, storage: MemoryObjects, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Caller]:
    def make(document: dict[str, Any] | None = None, endpoint: str | None = None, **records: Any) -> Caller:
        point_at(moto, monkeypatch)
        if endpoint is not None:
            for name, value in aws_env(endpoint).items():
                monkeypatch.setenv(name, value)
            table_client.cache_clear()
        env = function_env(with_records(document or settings_document(), **records))
        env["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
        uploads = Client(load_function("uploads", monkeypatch, env))
        lifecycle = Client(load_function("lifecycle", monkeypatch, env))
        monkeypatch.setattr(lifecycle.module, "objects", lambda target: storage)
        return Caller(uploads, lifecycle, sub=fresh_sub("user"))

    return make


def created(caller: Caller, **overrides: Any) -> dict[str, Any]:
    response = caller.create({**UPLOAD, **overrides})
    assert response["statusCode"] == 201, response["body"]
    return dict(body(response))


# -- GET /uploads ----------------------------------------------------------------------------------


def test_the_list_pages_newest_first_and_only_the_callers_own(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    # Given 25 uploads of alice's and 3 of bob's
    alice = stack()
    bob = alice.as_user(alice.sub + "-bob")
    mine = [created(alice)["upload_id"] for _ in range(25)]
    theirs = {created(bob)["upload_id"] for _ in range(3)}

    # When alice reads her list ten at a time
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        response = alice.list(limit="10", **({"cursor": cursor} if cursor else {}))
        assert response["statusCode"] == 200, response["body"]
        page = body(response)
        pages.append([item["upload_id"] for item in page["items"]])
        cursor = page.get("cursor")
        if cursor is None:
            break

    # Then three pages hold exactly hers, the last made first
    assert [len(p) for p in pages] == [10, 10, 5], pages
    listed = [upload_id for p in pages for upload_id in p]
    assert listed == list(reversed(mine)), listed
    assert not theirs & set(listed)
    assert [created_ms(i) for i in listed] == sorted((created_ms(i) for i in listed), reverse=True)


def test_the_list_filters_by_status_across_pages(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    caller = stack()
    ids = [created(caller)["upload_id"] for _ in range(12)]
    for upload_id in ids[::3]:  # four aborted, spread over the list
        assert caller.delete(upload_id)["statusCode"] == 204

    aborted = body(caller.list(status="aborted", limit="3"))
    rest = body(caller.list(status="aborted", limit="3", cursor=aborted["cursor"]))
    pending = body(caller.list(status="pending", limit="100"))

    got = [i["upload_id"] for i in aborted["items"] + rest["items"]]
    assert got == list(reversed(ids[::3])), (aborted, rest)
    assert {i["status"] for i in aborted["items"] + rest["items"]} == {"aborted"}
    assert len(pending["items"]) == 8 and pending.get("cursor") is None


def test_an_upload_a_delete_ended_is_gone_but_stays_listed(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    # Given a pending upload and a completed one, both deleted
    caller = stack()
    pending = created(caller)["upload_id"]
    done = created(caller)
    storage.objects[done["key"]] = stored()
    assert caller.complete(done["upload_id"])["statusCode"] == 200
    for upload_id in (pending, done["upload_id"]):
        assert caller.delete(upload_id)["statusCode"] == 204

    # When each is read again
    answers = {upload_id: caller.status(upload_id) for upload_id in (pending, done["upload_id"])}

    # Then each is 410 in the contract's shape, saying which way it ended ...
    got = {
        upload_id: (a["statusCode"], body(a)["error"]["code"], a["headers"].get("Cache-Control"))
        for upload_id, a in answers.items()
    }
    assert got == {
        pending: (410, "upload_aborted", "no-store"),
        done["upload_id"]: (410, "upload_deleted", "no-store"),
    }, answers
    # ... a second DELETE still answers 204 (the key is deleted again), and the list keeps both
    assert caller.delete(pending)["statusCode"] == 204
    listed = {
        status: [i["upload_id"] for i in body(caller.list(status=status))["items"]]
        for status in ("aborted", "deleted")
    }
    assert listed == {"aborted": [pending], "deleted": [done["upload_id"]]}, listed
    # ... and another caller still gets 404 for both: nothing says they exist
    stranger = caller.as_user(fresh_sub("stranger"))
    assert {stranger.status(i)["statusCode"] for i in answers} == {404}


def test_a_parts_list_beyond_its_max_items_is_413_as_the_document_says(stack: Callable[..., Caller]) -> None:
    from presign.limits import MAX_PARTS

    # Given a completion listing one part more than the schema's maxItems (10,000)
    caller = stack()
    grant = created(caller)
    parts = [{"part_number": n, "etag": '"' + "0" * 32 + '"'} for n in range(1, MAX_PARTS + 2)]
    # When it is sent
    response = caller.complete(grant["upload_id"], {"parts": parts})
    # Then its bytes are refused before it is parsed (413, not 400), which the document says
    assert (response["statusCode"], body(response)["error"]["code"]) == (413, "payload_too_large"), response
    document = json.loads((ROOT / "layers" / "presign" / "presign" / "openapi.json").read_text("utf-8"))
    operation = document["paths"]["/uploads/{upload_id}/complete"]["post"]
    assert "maxItems" in operation["responses"]["413"]["description"], operation["responses"]["413"]
    parts_schema = document["components"]["schemas"]["CompleteUploadRequest"]["properties"]["parts"]
    assert "max_body_bytes" in json.dumps(parts_schema), parts_schema


def test_a_cursor_is_bound_to_its_caller_and_filter(stack: Callable[..., Caller]) -> None:
    alice = stack()
    for _ in range(3):
        created(alice)
    cursor = body(alice.list(limit="1"))["cursor"]

    for response in (
        alice.as_user(alice.sub + "-mallory").list(cursor=cursor),
        alice.list(cursor=cursor, status="pending"),
        alice.list(cursor="bm90LWEtY3Vyc29y"),
    ):
        assert response["statusCode"] == 422, response["body"]
        assert body(response)["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("query", [{"status": "lost"}, {"limit": "0"}, {"limit": "101"}, {"limit": "x"}])
def test_bad_list_queries_are_400(stack: Callable[..., Caller], query: dict[str, str]) -> None:
    response = stack().list(**query)
    assert response["statusCode"] == 400, response["body"]


# -- status, complete, delete through the handlers ---------------------------------------------


def test_status_complete_and_delete(stack: Callable[..., Caller], storage: MemoryObjects) -> None:
    caller = stack()
    grant = created(caller, metadata={"album": "x"})

    status = body(caller.status(grant["upload_id"]))
    assert status["status"] == "pending" and status["key"] == grant["key"] and status["size"] == 11
    assert status["metadata"] == {"album": "x"} and status["expires_at"] == grant["expires_at"]
    assert "url" not in status and "X-Amz" not in json.dumps(status)

    storage.objects[grant["key"]] = stored(metadata={"album": "x"})
    done = caller.complete(grant["upload_id"], {})
    assert done["statusCode"] == 200, done["body"]
    assert body(done) == {
        "upload_id": grant["upload_id"],
        "key": grant["key"],
        "size": 11,
        "content_type": "text/plain",
        "etag": '"abc"',
        "status": "complete",
    }
    assert body(caller.status(grant["upload_id"]))["completed_at"]
    assert caller.delete(grant["upload_id"])["statusCode"] == 204
    assert grant["key"] not in storage.objects


def test_complete_with_an_unknown_body_field_is_400(stack: Callable[..., Caller]) -> None:
    caller = stack()
    grant = created(caller)
    response = caller.complete(grant["upload_id"], {"surprise": []})
    assert response["statusCode"] == 400, response["body"]


def test_complete_of_a_single_upload_with_parts_is_422(stack: Callable[..., Caller]) -> None:
    caller = stack()
    grant = created(caller)
    response = caller.complete(grant["upload_id"], {"parts": []})
    assert response["statusCode"] == 422, response["body"]
    assert body(response)["error"]["code"] == "not_multipart"


@pytest.mark.parametrize("upload_id", ["nope", "0" * 26, "01K0B7M3Q8R9S4T5V6W7X8Y9ZA", "x" * 300])
def test_unknown_or_malformed_ids_are_404(stack: Callable[..., Caller], upload_id: str) -> None:
    caller = stack()
    for response in (caller.status(upload_id), caller.complete(upload_id), caller.delete(upload_id)):
        assert response["statusCode"] == 404, response["body"]


def test_complete_with_an_idempotency_key_spends_once(
    stack: Callable[..., Caller], storage: MemoryObjects, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = settings_document()
    document["rate_limits"] = {"actions": {"upload_complete": {"rate": 1, "period": 3600, "burst": 5}}}
    monkeypatch.setenv("PRESIGN_RATE_LIMIT_TABLE", "presign-local-RateLimitTable")
    caller = stack(document)
    grant = created(caller)
    storage.objects[grant["key"]] = stored()
    key = {"Idempotency-Key": "complete-once"}

    first = caller.complete(grant["upload_id"], **key)
    again = caller.complete(grant["upload_id"], **key)
    other = created(caller)
    reused = caller.complete(other["upload_id"], **key)

    assert first["statusCode"] == again["statusCode"] == 200 and body(first) == body(again)
    assert first["headers"]["RateLimit-Remaining"] == "4" and "RateLimit-Remaining" not in again["headers"]
    assert reused["statusCode"] == 422 and body(reused)["error"]["code"] == "idempotency_key_reused"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_every_state_change_is_one_audit_line_without_a_url(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    caller = stack()
    # Powertools logs through the stdlib logger of the service; read the very lines it writes.
    logger = caller.uploads.module.logger
    handler = Lines()
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    try:
        lines = _audited(caller, storage, handler)
    finally:
        logger._logger.removeHandler(handler)
    audit, grant, everything = lines
    assert [(a["action"], a["outcome"]) for a in audit] == [
        ("create", "pending"),
        ("complete", "complete"),
        ("delete", "deleted"),
    ], audit
    # The key relative to the caller's prefix (users/{sub}/ holds the sub in clear)
    in_namespace = "~/" + grant["key"].removeprefix(f"users/{caller.sub}/")
    for line in audit:
        assert line["upload_id"] == grant["upload_id"] and line["key"] == in_namespace, line
        assert line["target"] == "main" and line["request_id"]
        assert len(line["who"]) == 32 and caller.sub not in line["who"]
    assert "X-Amz-Signature" not in everything and grant["url"] not in everything
    assert caller.sub not in json.dumps(audit), audit


def _audited(
    caller: Caller, storage: MemoryObjects, handler: Lines
) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    grant = created(caller)
    storage.objects[grant["key"]] = stored()
    caller.complete(grant["upload_id"])
    caller.complete(grant["upload_id"])  # no change: no line
    caller.delete(grant["upload_id"])
    lines = [json.loads(line) for line in handler.lines]
    audit = [line for line in lines if line.get("message") == "upload audit"]
    return audit, grant, json.dumps(lines)


# -- dependencies down -------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_unavailable(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 503, response["body"]
    assert body(response)["error"]["code"] == "dependency_unavailable"
    assert int(response["headers"]["Retry-After"]) >= 1
    assert "url" not in body(response)


def test_dynamodb_down_is_503_on_every_route(stack: Callable[..., Caller]) -> None:
    caller = stack(endpoint=f"http://127.0.0.1:{closed_port()}")
    some_id = "01k0b7m3q8r9s4t5v6w7x8y9za"

    for response in (
        caller.create(UPLOAD),
        caller.create(UPLOAD, **{"Idempotency-Key": "down"}),
        caller.complete(some_id),
        caller.status(some_id),
        caller.delete(some_id),
        caller.list(),
    ):
        assert_unavailable(response)


def test_a_throttled_record_write_is_503_and_nothing_is_recorded(
    stack: Callable[..., Caller], moto: MotoServer
) -> None:
    def throttle_puts(seen: Seen) -> Any:
        if seen.operation == "PutItem":
            return aws_error(400, "ProvisionedThroughputExceededException")
        return forward(moto.endpoint_url, seen)

    with StubServer(throttle_puts) as stub:
        caller = stack(endpoint=stub.endpoint_url)
        response = caller.create(UPLOAD)
        assert_unavailable(response)
        assert stub.operations().count("PutItem") == 2  # one retry, then 503
    assert body(stack().as_user(caller.sub).list())["items"] == []


def test_a_throttled_completion_is_503_and_the_record_stays_pending(
    stack: Callable[..., Caller], moto: MotoServer, storage: MemoryObjects
) -> None:
    caller = stack()
    grant = created(caller)
    storage.objects[grant["key"]] = stored()

    def throttle_updates(seen: Seen) -> Any:
        if seen.operation == "UpdateItem":
            return aws_error(400, "ThrottlingException")
        return forward(moto.endpoint_url, seen)

    with StubServer(throttle_updates) as stub:
        throttled = stack(endpoint=stub.endpoint_url).as_user(caller.sub)
        # The object was checked and matched, but the write that says so did not happen
        assert_unavailable(throttled.complete(grant["upload_id"]))
        after = stack().as_user(caller.sub)
        assert body(after.status(grant["upload_id"]))["status"] == "pending"
        assert after.complete(grant["upload_id"])["statusCode"] == 200
        # A delete deletes the object first; the record keeps its status until it can say so
        assert_unavailable(throttled.delete(grant["upload_id"]))
        assert grant["key"] not in storage.objects
        assert body(after.status(grant["upload_id"]))["status"] == "complete"
        assert after.delete(grant["upload_id"])["statusCode"] == 204
        gone = after.status(grant["upload_id"])
        assert (gone["statusCode"], body(gone)["error"]["code"]) == (410, "upload_deleted"), gone


def test_storage_down_is_503_and_changes_nothing(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    caller = stack()
    grant = created(caller)
    storage.objects[grant["key"]] = stored(size=99)  # a mismatch, were it seen
    storage.down = True

    assert_unavailable(caller.complete(grant["upload_id"]))
    assert_unavailable(caller.delete(grant["upload_id"]))

    assert body(caller.status(grant["upload_id"]))["status"] == "pending"
    assert grant["key"] in storage.objects


def test_the_lifecycle_function_refuses_to_start_without_records(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="upload records"):
        load_function("lifecycle", monkeypatch, function_env(settings_document()))


def test_records_on_without_a_table_stop_the_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    env = function_env(with_records(settings_document()))
    env["PRESIGN_UPLOADS_TABLE"] = ""
    with pytest.raises(ConfigurationError, match="PRESIGN_UPLOADS_TABLE"):
        load_function("uploads", monkeypatch, env)


# -- boto3 stays out of the cold start ---------------------------------------------------------

COLD_START = """
import importlib.util, json, sys
from tests.support.events import FakeContext, http_event, token
name, method, path, body, headers = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5])
route = sys.argv[6] if len(sys.argv) > 6 else None
spec = importlib.util.spec_from_file_location("app", f"functions/{name}/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
def sdk():
    return sorted(m for m in sys.modules if m.partition(".")[0] in ("boto3", "botocore", "s3transfer"))
loaded = sdk()
answer = module.handler(http_event(method, path, body, bearer=token("cold"), headers=headers, route=route), FakeContext())
print(json.dumps({"status": answer["statusCode"], "at_import": loaded, "after": sdk()}))
"""


@pytest.mark.parametrize(
    ("name", "method", "path", "payload", "headers", "expected"),
    [
        ("uploads", "POST", "/uploads", UPLOAD, {}, 201),
        ("uploads", "POST", "/uploads", UPLOAD, {"idempotency-key": "cold-1"}, 201),
        ("lifecycle", "GET", "/uploads", None, {}, 200),
        # renewing part URLs signs; it never calls the storage
        ("uploads", "POST", "/uploads/01k0b7m3q8r9s4t5v6w7x8y9za/parts", {"part_numbers": [1]}, {}, 404),
    ],
    ids=["post-uploads", "post-uploads-idempotent", "get-uploads", "post-parts"],
)
def test_serving_without_s3_never_imports_boto3(
    moto: MotoServer,
    name: str,
    method: str,
    path: str,
    payload: Any,
    headers: dict[str, str],
    expected: int,
) -> None:
    env = {
        **function_env(with_records(settings_document())),
        **aws_env(moto.endpoint_url),
        "PRESIGN_UPLOADS_TABLE": UPLOADS_TABLE,
        "PYTHONPATH": f"{ROOT / 'layers' / 'presign'}:{ROOT}",
    }
    run = subprocess.run(
        [sys.executable, "-c", COLD_START, name, method, path, json.dumps(payload), json.dumps(headers)]
        + (["/uploads/{upload_id}/parts"] if path.endswith("/parts") else []),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["status"] == expected, result
    # Only the bare "botocore" package may appear: Powertools' user agent probes it with
    # `import botocore` (see tests/integration/test_ratelimit_http.py); no client, no submodule.
    assert result["at_import"] in ([], ["botocore"]) and result["after"] in ([], ["botocore"]), result


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("upload_status", lambda c, i: c.status(i)),
        ("upload_abort", lambda c, i: c.delete(i)),
        ("upload_list", lambda c, i: c.list()),
        ("upload_complete", lambda c, i: c.complete(i)),
    ],
)
def test_each_route_spends_its_own_action(
    stack: Callable[..., Caller],
    storage: MemoryObjects,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    call: Callable[[Caller, str], dict[str, Any]],
) -> None:
    # Given one request an hour for this action only
    document = settings_document()
    document["rate_limits"] = {"actions": {action: {"rate": 1, "period": 3600, "burst": 1}}}
    monkeypatch.setenv("PRESIGN_RATE_LIMIT_TABLE", "presign-local-RateLimitTable")
    caller = stack(document)
    grant = created(caller)
    storage.objects[grant["key"]] = stored()

    # When it is called twice
    first, second = call(caller, grant["upload_id"]), call(caller, grant["upload_id"])

    # Then the first spends the one unit, the second is 429, and the other routes are untouched
    assert first["statusCode"] in (200, 204) and first["headers"]["RateLimit-Remaining"] == "0", first
    assert second["statusCode"] == 429 and int(second["headers"]["Retry-After"]) >= 1, second["body"]
    others = {"upload_status": caller.status, "upload_list": lambda _: caller.list()}
    for name, other in others.items():
        if name != action:
            # (after its DELETE, the upload's status is 410 upload_aborted: answered, not refused)
            expected = 410 if (action, name) == ("upload_abort", "upload_status") else 200
            assert other(grant["upload_id"])["statusCode"] == expected, name
