"""The storage events function (``functions/storage_events``) with crafted events, over the records
in template.yaml's table on a moto server; the storage is in memory (SeaweedFS's own events are
tests/e2e/test_dev_storage_events.py's).

Uploads are granted through the uploads function, so keys and records are the service's own;
objects are "stored" in memory; each event is one a source sends (tests/support/storage_events.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.servers import MotoServer
from local.storage_feed import object_created_event
from presign.errors import InvalidRequest
from presign.uploads.verification import ObjectFacts
from tests.integration.conftest import Client
from tests.support.functions import function_env, load_function, settings_document
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
from tests.support.storage_events import (
    eventbridge,
    go_query_escape,
    minio_webhook,
    r2,
    s3_direct,
    s3_url_encode,
)

BUCKET = "presign-test"
HTML = b"<!doctype html><script>alert(1)</script>"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


class Stack:
    def __init__(self, caller: Caller, events: Any, storage: MemoryObjects) -> None:
        self.caller = caller
        self.events = events
        self.storage = storage

    def grant(self, **overrides: Any) -> dict[str, Any]:
        payload = {"filename": "cat.png", "content_type": "image/png", "size": 10, **overrides}
        response = self.caller.create(payload)
        assert response["statusCode"] == 201, response["body"]
        return dict(body(response))

    def store(
        self, granted: dict[str, Any], body_: bytes = b"\x89PNG\r\n\x1a\n..", etag: str = '"e1"'
    ) -> None:
        self.storage.objects[granted["key"]] = ObjectFacts(size=10, content_type="image/png", etag=etag)
        self.storage.bodies[granted["key"]] = body_

    def send(self, event: dict[str, Any]) -> dict[str, int]:
        answer: dict[str, int] = self.events.handler(event, _Context())
        return answer

    def status(self, upload_id: str) -> str:
        return str(body(self.caller.status(upload_id))["status"])


class _Context:
    function_name = "presign-storage-events"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:presign-storage-events"
    aws_request_id = "00000000-0000-0000-0000-000000000001"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@pytest.fixture
def stack(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Stack]:
    def make(sub: str | None = None, **target: Any) -> Stack:
        point_at(moto, monkeypatch)
        document = with_records(settings_document(bucket=BUCKET, **target))
        env = function_env(document)
        env["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
        storage = MemoryObjects()
        uploads = Client(load_function("uploads", monkeypatch, env))
        monkeypatch.setattr(uploads.module, "objects", lambda target: storage)
        lifecycle = Client(load_function("lifecycle", monkeypatch, env))
        monkeypatch.setattr(lifecycle.module, "objects", lambda target: storage)
        events = load_function("storage_events", monkeypatch, env)
        monkeypatch.setattr(events.events, "_objects", lambda target: storage)
        return Stack(Caller(uploads, lifecycle, sub=sub or fresh_sub("ev")), events, storage)

    return make


def created(granted: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return eventbridge(granted["key"], bucket=BUCKET, **kwargs)


def test_an_event_completes_an_upload_its_client_never_completed(
    stack: Callable[..., Stack], caplog: pytest.LogCaptureFixture
) -> None:
    s = stack()
    granted = s.grant()
    s.store(granted)
    caplog.clear()

    with caplog.at_level(logging.INFO):
        assert s.send(created(granted)) == {"completed": 1}

    assert s.status(granted["upload_id"]) == "complete"
    audits = [r for r in caplog.records if r.getMessage() == "upload audit"]
    assert [(r.action, r.actor) for r in audits] == [("complete", "event")]  # type: ignore[attr-defined]
    # and the client that asks later hears 200
    assert s.caller.complete(granted["upload_id"])["statusCode"] == 200


def test_duplicates_change_nothing_and_write_one_audit_line(
    stack: Callable[..., Stack], caplog: pytest.LogCaptureFixture
) -> None:
    s = stack()
    granted = s.grant()
    s.store(granted)
    caplog.clear()

    with caplog.at_level(logging.INFO):
        answers = [s.send(created(granted)) for _ in range(3)]

    assert answers == [{"completed": 1}, {"kept": 1}, {"kept": 1}]
    assert sum(r.getMessage() == "upload audit" for r in caplog.records) == 1


def test_html_declared_as_png_is_rejected_by_the_event_and_the_client_hears_the_same(
    stack: Callable[..., Stack],
) -> None:
    s = stack()
    granted = s.grant()
    s.store(granted, HTML)

    assert s.send(created(granted)) == {"rejected": 1}

    assert granted["key"] not in s.storage.objects
    late = s.caller.complete(granted["upload_id"])
    assert (late["statusCode"], body(late)["error"]["code"]) == (422, "content_mismatch"), late


@pytest.mark.parametrize(
    "key",
    [
        "users/someone/2026/01/01/01k0b7m3q8r9s4t5v6w7x8y9za/f.png",  # our shape, no record
        "elsewhere/report.pdf",  # not our shape at all
    ],
)
def test_a_key_no_record_names_is_never_touched(stack: Callable[..., Stack], key: str) -> None:
    s = stack()
    s.storage.objects[key] = ObjectFacts(size=1, content_type="image/png", etag='"x"')

    assert s.send(eventbridge(key, bucket=BUCKET)) == {"unknown": 1}
    assert key in s.storage.objects and s.storage.heads == 0


def test_an_event_for_another_bucket_is_not_ours(stack: Callable[..., Stack]) -> None:
    s = stack()
    granted = s.grant()
    s.store(granted)

    assert s.send(eventbridge(granted["key"], bucket="someone-elses")) == {"unknown": 1}
    assert s.status(granted["upload_id"]) == "pending"


def test_created_after_a_delete_removes_the_object_the_url_stored_late(stack: Callable[..., Stack]) -> None:
    # Given an upload aborted by its client, whose still-valid URL then stored an object anyway
    s = stack()
    granted = s.grant()
    assert s.caller.delete(granted["upload_id"])["statusCode"] == 204
    s.store(granted)

    # When the created event arrives, Then the record stays aborted and the stray object goes
    assert s.send(created(granted)) == {"stray_deleted": 1}
    assert granted["key"] not in s.storage.objects
    assert s.caller.status(granted["upload_id"])["statusCode"] == 410
    # and an event arriving late, for an object the DELETE already removed, does nothing
    assert s.send(created(granted)) == {"kept": 1}


def test_an_event_racing_complete_ends_in_one_state(stack: Callable[..., Stack]) -> None:
    s = stack()
    first, second = s.grant(), s.grant()
    for granted in (first, second):
        s.store(granted)

    # The client first, then the event; the event first, then the client
    assert s.caller.complete(first["upload_id"])["statusCode"] == 200
    assert s.send(created(first)) == {"kept": 1}
    assert s.send(created(second)) == {"completed": 1}
    assert s.caller.complete(second["upload_id"])["statusCode"] == 200
    assert s.status(first["upload_id"]) == s.status(second["upload_id"]) == "complete"


def test_an_event_before_the_object_is_visible_waits(stack: Callable[..., Stack]) -> None:
    s = stack()
    granted = s.grant()

    assert s.send(created(granted)) == {"waiting": 1}
    assert s.status(granted["upload_id"]) == "pending"


def test_an_overwrite_event_verifies_the_new_object(stack: Callable[..., Stack]) -> None:
    s = stack()
    granted = s.grant()
    s.store(granted)
    assert s.caller.complete(granted["upload_id"])["statusCode"] == 200

    s.store(granted, HTML, etag='"e2"')

    assert s.send(created(granted)) == {"rejected": 1}
    assert s.status(granted["upload_id"]) == "rejected"
    assert granted["key"] not in s.storage.objects


def test_a_shape_that_claims_a_source_but_lacks_its_fields_fails_the_invocation(
    stack: Callable[..., Stack],
) -> None:
    s = stack()
    with pytest.raises(InvalidRequest):
        s.send({"source": "aws.s3", "detail-type": "Object Created", "detail": {}})


# Claim values with + = @ | : ~, a filename with spaces, parentheses and Unicode.
AWKWARD_SUB = "a+b=c@d|e:f~g"
AWKWARD_NAME = "my photo (1) é 日本.png"
SOURCES: dict[str, Callable[[str], dict[str, Any]]] = {
    "eventbridge raw": lambda key: eventbridge(key, bucket=BUCKET),
    "eventbridge encoded": lambda key: eventbridge(s3_url_encode(key), bucket=BUCKET),
    "s3 direct": lambda key: s3_direct(s3_url_encode(key), bucket=BUCKET),
    "minio": lambda key: minio_webhook(go_query_escape(key), bucket=BUCKET, raw_key=key),
    "r2": lambda key: r2(key, bucket=BUCKET),
    "make dev feed": lambda key: object_created_event(
        bucket=BUCKET, key=key, size=10, etag="e1", content_type="image/png", ts_ns=1, reason="PutObject"
    ),
}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_keys_with_awkward_characters_complete_through_every_source(
    stack: Callable[..., Stack], source: str
) -> None:
    s = stack(sub=f"{AWKWARD_SUB}-{source.replace(' ', '-')}")
    granted = s.grant(filename=AWKWARD_NAME)
    assert AWKWARD_NAME in granted["key"] and "+" in granted["key"]
    s.store(granted)

    assert s.send(SOURCES[source](granted["key"])) == {"completed": 1}
    assert s.status(granted["upload_id"]) == "complete"


def test_a_multipart_upload_completed_at_the_storage_by_its_client_is_completed_by_the_event(
    stack: Callable[..., Stack],
) -> None:
    # Given a multipart upload whose client sent CompleteMultipartUpload itself (Uppy's /sign path)
    s = stack(
        upload={"content_types": ["application/octet-stream"], "multipart": {"part_size": 5 * 1024 * 1024}}
    )
    size = 6 * 1024 * 1024
    granted = s.grant(filename="big.bin", content_type="application/octet-stream", size=size, multipart=True)
    ((storage_id, upload),) = s.storage.uploads.items()
    parts = [
        s.storage.put_part(storage_id, 1, 5 * 1024 * 1024),
        s.storage.put_part(storage_id, 2, size - 5 * 1024 * 1024),
    ]
    assert all(parts) and upload.key == granted["key"]
    assert s.storage.complete_multipart(
        granted["key"], storage_id, s.storage.list_parts(granted["key"], storage_id) or []
    )

    # When the storage's event for the assembled object arrives
    answer = s.send(created(granted, reason="CompleteMultipartUpload"))

    # Then the record is complete: the storage's upload was gone, the HEAD and first bytes matched
    assert answer == {"completed": 1}, answer
    assert s.status(granted["upload_id"]) == "complete"
