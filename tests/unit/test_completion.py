"""The one completion path (``presign.uploads.completion``) through each of its ways in: the client's
``/complete``, the cleanup's stale uploads, a storage event; the first-bytes check; the answers
for decisions made by others; overwrites verified again. In-memory ports with the adapters'
conditional semantics (``tests/support/memory*.py``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from presign.cleanup.runner import Cleanup
from presign.config.cleanup import CleanupSettings
from presign.config.target import Target
from presign.config.uploads import UploadRecordSettings
from presign.errors import ContentMismatch, UploadGone, UploadMismatch
from presign.uploads.ledger import AuditEvent
from presign.uploads.multipart.checks import StoredPart
from presign.uploads.records import Multipart, UploadRecord
from presign.uploads.service import Uploads
from presign.uploads.verification import ObjectFacts
from tests.support.memory import MemoryRecords, MemoryUpload
from tests.support.memory_cleanup import MemoryCleanupRecords, NoShares, SweepObjects
from tests.support.spending import free

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
OWNER = "0" * 32
UPLOAD_ID = "01k0b7m3q8r9s4t5v6w7x8y9za"
KEY = f"users/alice/2030/01/01/{UPLOAD_ID}/a.png"
HTML = b"<!DOCTYPE html><script>steal()</script>"
MiB = 1024**2


def target(**upload: Any) -> Target:
    return Target.model_validate(
        {"region": "us-east-1", "bucket": "b-test", "credentials": {"source": "env"}, "upload": upload}
    )


RECORD = UploadRecord(
    owner=OWNER,
    upload_id=UPLOAD_ID,
    target="main",
    key=KEY,
    method="PUT",
    size=10,
    content_type="image/png",
    status="pending",
    created_at=T - 100,
    expires_at=T + 800,
    updated_at=T - 100,
)
FACTS = ObjectFacts(size=10, content_type="image/png", etag='"v1"')


class World:
    def __init__(self, record: UploadRecord = RECORD, at: datetime = NOW, **upload: Any) -> None:
        self.table = MemoryRecords()
        self.objects = SweepObjects()
        self.audit: list[AuditEvent] = []
        self.table.records[(OWNER, record.upload_id)] = record
        self.targets = {"main": target(**upload)}
        self.at = at
        self.uploads = self._uploads(at)

    def _uploads(self, at: datetime) -> Uploads:
        return Uploads(
            self.table,
            UploadRecordSettings(head_attempts=1),
            clock=lambda: at,
            sleep=lambda _: None,
            audit=self.audit.append,
            target_settings=self.targets,
        )

    def store(self, facts: ObjectFacts = FACTS, body: bytes | None = None, key: str = KEY) -> None:
        self.objects.objects[key] = facts
        if body is not None:
            self.objects.bodies[key] = body

    @property
    def record(self) -> UploadRecord:
        return self.table.records[(OWNER, UPLOAD_ID)]

    def complete(self) -> Any:
        return self.uploads.complete(OWNER, UPLOAD_ID, objects=lambda _: self.objects, spending=free())

    def event(self) -> UploadRecord:
        return self.uploads.arrived(self.record, lambda _: self.objects, actor="event")

    def cleanup(self, at: datetime) -> dict[str, int]:
        run = Cleanup(
            CleanupSettings(grace=60, concurrency=1),
            targets=self.targets,
            records=MemoryCleanupRecords(self.table),
            shares=NoShares(),
            storage=lambda _: self.objects,
            clock=lambda: at,
            closed_retention=86_400,
            share_grace=86_400,
            warn=lambda message, keys: None,
            completion=self._uploads(at),
        )
        totals: dict[str, int] = run.run(dry_run=False, remaining_ms=lambda: 10**9).totals()  # type: ignore[assignment]
        return totals

    def actions(self) -> list[tuple[str, str, str]]:
        return [(e.action, e.actor, e.outcome) for e in self.audit]


LATER = NOW + timedelta(hours=1)  # the URL dead and the grace over: the upload is stale


# -- the client, and the first bytes -----------------------------------------------------------------


def test_html_declared_as_png_is_rejected_as_content_mismatch_and_deleted() -> None:
    world = World()
    world.store(body=HTML)

    with pytest.raises(ContentMismatch) as raised:
        world.complete()

    assert "begins as HTML" in raised.value.message, raised.value.message
    assert KEY not in world.objects.objects
    assert (world.record.status, world.record.rejected_code) == ("rejected", "content_mismatch")
    assert world.actions() == [("reject", "client", "rejected")]


def test_a_png_passes_the_first_bytes_and_completes_with_one_ranged_read() -> None:
    world = World()
    world.store(body=b"\x89PNG\r\n\x1a\n0000")
    reads: list[tuple[str, int]] = []
    real = world.objects.first_bytes
    world.objects.first_bytes = lambda key, length: reads.append((key, length)) or real(key, length)  # type: ignore[method-assign, func-returns-value]

    assert world.complete().status == "complete"
    assert reads == [(KEY, 4096)]
    assert world.actions() == [("complete", "client", "complete")]


def test_a_kind_may_turn_the_content_check_off() -> None:
    world = World(dataclasses.replace(RECORD, kind="raw"), kinds={"raw": {"content_check": False}})
    world.store(body=HTML)

    assert world.complete().status == "complete"


# -- answers for decisions made by others -------------------------------------------------------------


@pytest.mark.parametrize(("body", "error"), [(HTML, ContentMismatch), (None, UploadMismatch)])
def test_complete_after_the_cleanup_rejected_answers_the_recorded_problems_and_code(
    body: bytes | None, error: type[UploadMismatch]
) -> None:
    world = World()
    world.store(ObjectFacts(size=10 if body else 11, content_type="image/png", etag='"v1"'), body=body)
    assert world.cleanup(LATER)["rejected_by_cleanup"] == 1

    with pytest.raises(UploadMismatch) as raised:
        world.complete()

    assert type(raised.value) is error
    assert all(problem in raised.value.message for problem in world.record.problems)
    assert world.actions() == [("reject", "cleanup", "rejected")]


def test_complete_after_an_event_completed_answers_200_with_the_record() -> None:
    world = World()
    world.store()
    assert world.event().status == "complete"

    assert world.complete().status == "complete"
    assert world.actions() == [("complete", "event", "complete")]


# -- the cleanup finishes what it can ---------------------------------------------------------------


def test_the_cleanup_completes_a_stale_upload_whose_object_arrived() -> None:
    world = World()
    world.store()

    totals = world.cleanup(LATER)

    assert (totals["completed_by_cleanup"], totals["single_expired"], totals["objects_deleted"]) == (1, 0, 0)
    assert world.record.status == "complete" and KEY in world.objects.objects
    assert world.record.recheck_at is None  # its URL was dead when it completed: nothing can overwrite it
    assert world.actions() == [("complete", "cleanup", "complete")]


def test_the_cleanup_completes_a_multipart_upload_from_list_parts() -> None:
    record = dataclasses.replace(
        RECORD, size=12 * MiB, content_type="video/mp4", multipart=Multipart("mpu-1", 5 * MiB)
    )
    world = World(record)
    world.objects.uploads["mpu-1"] = MemoryUpload(KEY, "video/mp4", {}, checksums=False)
    for number, size in {1: 5 * MiB, 2: 5 * MiB, 3: 2 * MiB}.items():
        world.objects.uploads["mpu-1"].parts[number] = StoredPart(number, size, f'"p{number}"')

    assert world.cleanup(LATER)["completed_by_cleanup"] == 1
    assert world.record.status == "complete" and world.objects.uploads == {}
    assert [n for n, _ in world.objects.completions] == ["mpu-1"]


def test_the_cleanup_still_expires_what_never_arrived() -> None:
    world = World()

    totals = world.cleanup(LATER)

    assert (totals["single_expired"], totals["completed_by_cleanup"]) == (1, 0)
    assert world.record.status == "expired"


def test_a_target_that_opts_out_keeps_the_old_behaviour_expire_and_delete() -> None:
    world = World(completion="client")
    world.store()

    totals = world.cleanup(LATER)

    assert (totals["single_expired"], totals["objects_deleted"], totals["completed_by_cleanup"]) == (1, 1, 0)
    assert world.record.status == "expired" and KEY not in world.objects.objects


def test_while_the_cleanup_holds_the_fence_the_client_hears_410_and_an_event_does_nothing() -> None:
    world = World()
    world.store()
    world.table.fence(OWNER, UPLOAD_ID, now=T + 3600, lease_until=T + 9999, expired_before=T + 3600)

    with pytest.raises(UploadGone):
        world.complete()
    with pytest.raises(UploadGone):
        world.event()
    assert world.record.status == "pending" and world.audit == []


# -- overwrites are verified again ------------------------------------------------------------------


def test_a_completion_while_the_url_is_valid_is_marked_for_a_recheck_unless_no_overwrite() -> None:
    world = World()
    world.store()
    world.complete()
    guarded = World(no_overwrite=True)
    guarded.store()
    guarded.complete()

    assert world.record.recheck_at == RECORD.expires_at + 60
    assert guarded.record.recheck_at is None


def test_an_overwrite_with_html_seen_by_an_event_is_deleted_and_the_record_rejected() -> None:
    world = World()
    world.store()
    world.complete()
    world.store(ObjectFacts(size=10, content_type="image/png", etag='"v2"'), body=HTML)

    after = world.event()

    assert (after.status, after.rejected_code) == ("rejected", "content_mismatch")
    assert KEY not in world.objects.objects
    assert world.actions()[-1] == ("reject", "event", "rejected")
    assert [(frm, to) for _, frm, to in world.table.history] == [
        ("pending", "complete"),
        ("complete", "rejected"),
    ]


def test_an_overwrite_that_verifies_keeps_the_record_complete_with_the_new_etag() -> None:
    world = World()
    world.store()
    world.complete()
    world.store(ObjectFacts(size=10, content_type="image/png", etag='"v2"'))

    after = world.event()

    assert (after.status, after.etag) == ("complete", '"v2"')
    assert world.event().etag == '"v2"'  # a duplicate event: nothing to do
    assert len(world.audit) == 2


def test_the_cleanup_rechecks_once_after_the_url_died() -> None:
    world = World()
    world.store()
    world.complete()
    world.store(ObjectFacts(size=11, content_type="image/png", etag='"v2"'))  # no event came

    totals = world.cleanup(LATER)

    assert totals["rejected_by_cleanup"] == 1
    assert world.record.status == "rejected" and KEY not in world.objects.objects


def test_the_cleanups_recheck_of_an_unchanged_object_only_removes_the_mark() -> None:
    world = World()
    world.store()
    world.complete()

    assert world.cleanup(LATER)["rejected_by_cleanup"] == 0
    assert (world.record.status, world.record.recheck_at) == ("complete", None)
    assert world.cleanup(LATER + timedelta(days=1))["errors"] == 0
