"""The cleanup's claims under random interleavings with completions (hypothesis).

Cleanup runs (one or two at once, each completing what arrived under its fence), client
completions and storage events of the same uploads run the real ``Cleanup`` and ``Uploads``
code, each in its own thread, over in-memory ports with DynamoDB's per-item
atomicity (``tests/support/memory*.py``). The scheduler of ``test_lifecycle_state_machine`` lets
one thread run at a time and hypothesis picks which one at every call a real adapter would make
over the network. The clock is injected: the uploads are stale or still in time, as drawn.

Claims (``presign.cleanup.runner``):

* no confirmed object is ever deleted: no delete happens while the key's record says ``complete``,
  and every ``complete`` record's object is there at the end;
* cleanup touches nothing in time: a fresh upload is never expired, its storage never aborted;
* the counts are exact: every expiry, completion and rejection cleanup counts is one it wrote,
  whoever else ran;
* no stale item survives two full runs: after them, nothing is pending, no multipart upload is
  left at the storage, and objects remain only where a record says ``complete``;
* nothing a client uploaded is lost: each upload ends in exactly one final state, ``complete``
  iff everything arrived and matches; what arrived and does not (HTML declared as text/plain) is
  never complete and its object is gone (``rejected``, or ``expired`` when its rejection raced
  the cleanup); what never (fully) arrived is ``expired``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presign.cleanup.runner import Cleanup
from presign.config.cleanup import CleanupSettings
from presign.config.target import Target
from presign.config.uploads import UploadRecordSettings
from presign.core.owners import subject_digest
from presign.uploads.completion import Completion
from presign.uploads.ids import new_upload_id
from presign.uploads.multipart.checks import StoredPart
from presign.uploads.records import Multipart, UploadRecord
from presign.uploads.service import Uploads
from presign.uploads.verification import ObjectFacts
from tests.support.memory import MemoryRecords, MemoryUpload
from tests.support.memory_cleanup import MemoryCleanupRecords, NoShares, SweepObjects
from tests.support.spending import free
from tests.unit.test_lifecycle_state_machine import Scheduler

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
OWNER = subject_digest("alice")
GRACE = 600
MAX_AGE = 7200
MiB = 1024**2
TARGET = Target.model_validate(
    {
        "region": "us-east-1",
        "bucket": "b-test",
        "credentials": {"source": "env"},
        "key_prefix": "users/{sub}/",
    }
)
SETTINGS = CleanupSettings(grace=GRACE, max_age=MAX_AGE, concurrency=1)
_counter = itertools.count(1)

Spec = tuple[str, str, bool, bool]  # (single | multipart, stale | fresh, stored, HTML)


def _id(n: int) -> str:
    return new_upload_id(NOW - timedelta(hours=2), lambda k: n.to_bytes(k, "big"))


def _record(n: int, spec: Spec) -> UploadRecord:
    kind, age, _, _ = spec
    upload_id = _id(n)
    expires_at = T - GRACE - 60 if age == "stale" else T + 3600
    record = UploadRecord(
        owner=OWNER,
        upload_id=upload_id,
        target="main",
        key=f"users/alice/2030/01/01/{upload_id}/f.bin",
        method="PUT",
        size=10 if kind == "single" else 12 * MiB,
        content_type="text/plain",
        status="pending",
        created_at=T - 7200,
        expires_at=expires_at,
        updated_at=T - 7200,
    )
    if kind == "multipart":
        record = UploadRecord(**{**_fields(record), "multipart": Multipart(f"mpu-{n}", 5 * MiB)})
    return record


def _fields(record: UploadRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _completion(table: MemoryRecords, at: datetime) -> Completion:
    return Completion(
        table,
        UploadRecordSettings(head_attempts=1),
        clock=lambda: at,
        sleep=lambda _: None,
        target_settings={"main": TARGET},
    )


def _cleanup(records: MemoryCleanupRecords, objects: SweepObjects, at: datetime) -> Cleanup:
    return Cleanup(
        SETTINGS,
        targets={"main": TARGET},
        records=records,
        shares=NoShares(),
        storage=lambda _: objects,
        clock=lambda: at,
        closed_retention=30 * 86_400,
        share_grace=86_400,
        warn=lambda message, keys: None,
        completion=_completion(records.records, at),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from(["single", "multipart"]),
            st.sampled_from(["stale", "fresh"]),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ),
    completions=st.lists(st.integers(0, 2), max_size=3),
    events=st.lists(st.integers(0, 2), max_size=2),
    runs=st.integers(1, 2),
    orphans=st.integers(0, 2),
    data=st.data(),
)
def test_cleanup_never_deletes_a_confirmed_object_and_leaves_nothing_stale(
    specs: list[Spec],
    completions: list[int],
    events: list[int],
    runs: int,
    orphans: int,
    data: st.DataObject,
) -> None:
    scheduler = Scheduler(lambda waiting: data.draw(st.sampled_from(waiting)))
    table = MemoryRecords(before=scheduler.hook)
    objects = SweepObjects(before=scheduler.hook)
    records = MemoryCleanupRecords(table)
    violations: list[str] = []
    by_key: dict[str, tuple[str, str]] = {}

    # Given uploads, stale or in time, whose client stored everything (or not), and orphans
    uploads = [_record(i + 1, spec) for i, spec in enumerate(specs)]
    for record, (kind, _, stored, html) in zip(uploads, specs, strict=True):
        table.records[(OWNER, record.upload_id)] = record
        by_key[record.key] = (OWNER, record.upload_id)
        if kind == "single" and stored:
            objects.objects[record.key] = ObjectFacts(size=10, content_type="text/plain", etag='"e"')
            if html:
                objects.bodies[record.key] = b"<html><script>alert(1)</script>"
        if kind == "multipart":
            assert record.multipart is not None
            storage_id = record.multipart.storage_upload_id
            objects.uploads[storage_id] = MemoryUpload(record.key, "text/plain", {}, checksums=False)
            objects.initiated[storage_id] = T - 7200
            sizes = {1: 5 * MiB, 2: 5 * MiB, 3: 2 * MiB} if stored else {1: 5 * MiB}
            for number, size in sizes.items():
                objects.uploads[storage_id].parts[number] = StoredPart(number, size, f'"p{number}"')
    orphan_ids = []
    for i in range(orphans):
        storage_id = f"orphan-{i}"
        upload_id = _id(100 + i)
        objects.uploads[storage_id] = MemoryUpload(
            f"users/bob/2030/01/01/{upload_id}/o.bin", "x/y", {}, False
        )
        objects.initiated[storage_id] = T - MAX_AGE - 1
        orphan_ids.append(storage_id)
    before_fresh = {r.upload_id for r, (_, age, _, _) in zip(uploads, specs, strict=True) if age == "fresh"}

    real_delete, real_abort = objects.delete, objects.abort_multipart

    def delete(key: str) -> None:
        slot = by_key.get(key)
        if slot is not None and table.records[slot].status == "complete":
            violations.append(f"deleted {key} of a complete upload")
        real_delete(key)

    def abort(key: str, storage_upload_id: str) -> None:
        slot = by_key.get(key)
        if slot is not None and slot[1] in before_fresh:
            violations.append(f"aborted the storage upload of {key}, which is in time")
        real_abort(key, storage_upload_id)

    moves: list[tuple[str, str]] = []  # (thread, status written), for every transition made
    real_transition = table.transition

    def transition(record: UploadRecord, *, expected: Any, ttl: int | None, **conditions: Any) -> bool:
        moved = real_transition(record, expected=expected, ttl=ttl, **conditions)
        if moved:
            moves.append((threading.current_thread().name, record.status))
        return moved

    table.transition = transition  # type: ignore[method-assign]
    objects.delete = delete  # type: ignore[method-assign]
    objects.abort_multipart = abort  # type: ignore[method-assign]
    lifecycle = Uploads(table, UploadRecordSettings(head_attempts=1), clock=lambda: NOW, sleep=lambda _: None)

    # When cleanup runs and completions interleave at every network call
    work: dict[str, Callable[[], Any]] = {}
    for i in range(runs):
        work[f"cleanup-{i}"] = lambda: _cleanup(records, objects, NOW).run(
            dry_run=False, remaining_ms=lambda: 10**9
        )
    for i, which in enumerate(completions):
        if which < len(uploads):
            upload_id = uploads[which].upload_id
            work[f"complete-{i}"] = lambda upload_id=upload_id: lifecycle.complete(
                OWNER, upload_id, objects=lambda _: objects, spending=free()
            )
    events_of = _completion(table, NOW)
    for i, which in enumerate(events):
        if which < len(uploads):
            upload_id = uploads[which].upload_id
            work[f"event-{i}"] = lambda upload_id=upload_id: events_of.arrived(
                table.get(OWNER, upload_id) or uploads[0], lambda _: objects, actor="event"
            )
    results = scheduler.run(work)
    context = (
        specs,
        completions,
        events,
        runs,
        orphans,
        results,
        [(r.upload_id, r.status) for r in table.records.values()],
    )

    # Then nothing confirmed was deleted, nothing in time was touched, and the counts are exact
    assert not violations, (violations, context)
    for record in table.records.values():
        if record.status == "complete":
            assert record.key in objects.objects, context
        if record.upload_id in before_fresh:
            assert record.status in ("pending", "complete", "rejected"), context
    by_cleanup = [to for who, to in moves if who.startswith("cleanup")]
    cleanup_totals = [r.totals() for n, r in results.items() if n.startswith("cleanup")]
    counted = sum(t["single_expired"] + t["multipart_expired"] for t in cleanup_totals)
    assert counted == by_cleanup.count("expired"), (counted, moves, context)
    completed = sum(t["completed_by_cleanup"] for t in cleanup_totals)
    assert completed == by_cleanup.count("complete"), (completed, moves, context)
    rejected = sum(t["rejected_by_cleanup"] for t in cleanup_totals)
    assert rejected == by_cleanup.count("rejected"), (rejected, moves, context)
    aborted_orphans = sum(
        r.totals()["orphans_aborted"] for n, r in results.items() if n.startswith("cleanup")
    )
    assert aborted_orphans == orphans, context

    # When two full runs follow, long after every upload's time
    table.before = objects.before = lambda operation: None
    later = NOW + timedelta(days=1)
    for _ in range(2):
        _cleanup(records, objects, later).run(dry_run=False, remaining_ms=lambda: 10**9)

    # Then no stale item survives
    statuses = {r.upload_id: r.status for r in table.records.values()}
    assert "pending" not in statuses.values(), (statuses, context)
    assert objects.uploads == {}, (objects.uploads, context)
    complete_keys = {r.key for r in table.records.values() if r.status == "complete"}
    assert set(objects.objects) == complete_keys, (set(objects.objects), context)

    # And each upload ended in one state what arrived allows: everything that arrived and matches
    # is complete, nothing that never arrived is; content that contradicts its type is never
    # complete and its object is gone: rejected, or expired when its rejection (delete, then
    # write) raced the cleanup, which then found nothing at the key
    for record, (_, _, stored, html) in zip(uploads, specs, strict=True):
        final = statuses[record.upload_id]
        if not stored:
            allowed = {"expired"}
        elif html and record.multipart is None:
            allowed = {"rejected", "expired"}
        else:
            allowed = {"complete"}
        assert final in allowed, (record.upload_id, final, allowed, specs, completions, events, moves)
