"""The upload state machine under random interleavings of concurrent requests (hypothesis).

Each request (a completion, an abort, a storage event for the key) runs the real ``Uploads`` code in its own thread against
in-memory ports with DynamoDB's per-item atomicity. A deterministic scheduler lets exactly one
thread run at a time and, at every call a real adapter would make over the network (a read, a
conditional write, a HEAD, a DELETE), hypothesis picks which thread goes next. The client's one
upload (a matching object, one that differs, or HTML declared as text/plain) is a thread of its
own, so it lands anywhere; it may overwrite the object with HTML afterwards through the same URL,
and the storage's event for that overwrite then runs in that thread.

The claims of ``presign.uploads.records``, checked after every interleaving:

* the statuses a record goes through form a path of the state machine, starting at ``pending``;
* ``complete`` only for the object that was checked: the upload matched, its first bytes too,
  and the object is there, never overwritten since by content nobody checked;
* ``rejected`` only for an object that differed (or was overwritten), and it is gone unless the
  URL stored one again after the last delete;
* ``deleted`` only after ``complete``, and the object is gone;
* ``aborted``: the object is gone, unless the upload landed after the abort's last delete (a URL
  that was still valid; a second DELETE removes it);
* every request answers what happened (success, or one of the lifecycle's refusals), and none
  runs out of rounds.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presign.config.uploads import UploadRecordSettings
from presign.errors import Conflict, NotUploaded, PartsMissing, UploadGone, UploadMismatch, UploadNotPending
from presign.uploads.records import TRANSITIONS, Multipart, UploadRecord
from presign.uploads.service import Uploads
from presign.uploads.verification import ObjectFacts
from tests.support.memory import MemoryObjects, MemoryRecords, MemoryUpload
from tests.support.spending import free

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
OWNER = "0" * 32
UPLOAD_ID = "01k0b7m3q8r9s4t5v6w7x8y9za"
KEY = f"users/alice/2030/01/01/{UPLOAD_ID}/a.txt"
RECORD = UploadRecord(
    owner=OWNER,
    upload_id=UPLOAD_ID,
    target="main",
    key=KEY,
    method="PUT",
    size=10,
    content_type="text/plain",
    status="pending",
    created_at=T,
    expires_at=T + 900,
    updated_at=T,
)
GOOD = ObjectFacts(size=10, content_type="text/plain", etag='"good"')
BAD = ObjectFacts(size=11, content_type="text/plain", etag='"bad"')
OVERWRITTEN = ObjectFacts(size=10, content_type="text/plain", etag='"over"')  # right size and type
HTML = b"<!DOCTYPE html><p>hi"
REFUSALS = (NotUploaded, UploadGone, UploadMismatch, UploadNotPending)


class Scheduler:
    """Runs threads one at a time; ``choose`` picks among those waiting at a hook."""

    def __init__(self, choose: Callable[[list[str]], str]) -> None:
        self._choose = choose
        self._cv = threading.Condition()
        self._turn: str | None = None
        self._waiting: set[str] = set()
        self._done: set[str] = set()

    def hook(self, operation: str) -> None:
        me = threading.current_thread().name
        with self._cv:
            self._waiting.add(me)
            self._cv.notify_all()
            self._cv.wait_for(lambda: self._turn == me)
            self._turn = None
            self._waiting.discard(me)

    def run(self, work: dict[str, Callable[[], Any]]) -> dict[str, Any]:
        results: dict[str, Any] = {}

        def body(name: str, fn: Callable[[], Any]) -> None:
            self.hook("start")
            try:
                results[name] = fn()
            except Exception as exc:  # noqa: BLE001 - recorded, and asserted on below
                results[name] = exc
            finally:
                with self._cv:
                    self._done.add(name)
                    self._cv.notify_all()

        threads = [threading.Thread(target=body, args=(n, f), name=n, daemon=True) for n, f in work.items()]
        for thread in threads:
            thread.start()
        names = set(work)
        while True:
            with self._cv:
                settled = self._cv.wait_for(
                    lambda: self._turn is None and names <= self._waiting | self._done, timeout=10
                )
                assert settled, "a request blocked outside the scheduler"
                if names <= self._done:
                    break
                self._turn = self._choose(sorted(self._waiting))
                self._cv.notify_all()
        for thread in threads:
            thread.join(timeout=10)
        return results


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    requests=st.lists(st.sampled_from(["complete", "abort", "event"]), min_size=1, max_size=4),
    upload=st.sampled_from(["good", "bad", "html", None]),
    overwrite=st.booleans(),
    data=st.data(),
)
def test_random_interleavings_keep_every_claim(
    requests: list[str], upload: str | None, overwrite: bool, data: st.DataObject
) -> None:
    scheduler = Scheduler(lambda waiting: data.draw(st.sampled_from(waiting)))
    records = MemoryRecords(before=scheduler.hook)
    objects = MemoryObjects(before=scheduler.hook)
    events: list[tuple[str, str]] = []  # ("put" | "delete", by whom), in the order they happened
    real_delete = objects.delete

    def delete(key: str) -> None:
        real_delete(key)
        events.append(("delete", threading.current_thread().name))

    objects.delete = delete  # type: ignore[method-assign]
    records.records[(OWNER, UPLOAD_ID)] = RECORD
    lifecycle = Uploads(
        records, UploadRecordSettings(head_attempts=2), clock=lambda: NOW, sleep=lambda _: None
    )
    work: dict[str, Callable[[], Any]] = {}
    for i, kind in enumerate(requests):
        if kind == "complete":
            work[f"complete-{i}"] = lambda: lifecycle.complete(
                OWNER, UPLOAD_ID, objects=lambda _: objects, spending=free()
            )
        elif kind == "event":  # a storage event for the key: as presign.storage_events does
            work[f"event-{i}"] = lambda: lifecycle.arrived(
                records.get(OWNER, UPLOAD_ID) or RECORD, lambda _: objects, actor="event"
            )
        else:
            work[f"abort-{i}"] = lambda: lifecycle.abort(
                OWNER, UPLOAD_ID, objects=lambda _: objects, spending=free()
            )
    if upload is not None:

        def put() -> None:
            scheduler.hook("put")
            objects.objects[KEY] = GOOD if upload != "bad" else BAD
            if upload == "html":
                objects.bodies[KEY] = HTML
            events.append(("put", "client"))
            if overwrite:  # the same URL again, HTML this time; the storage tells (an event)
                scheduler.hook("put")
                objects.objects[KEY], objects.bodies[KEY] = OVERWRITTEN, HTML
                events.append(("put", "client"))
                lifecycle.arrived(records.get(OWNER, UPLOAD_ID) or RECORD, lambda _: objects, actor="event")

        work["client"] = put

    results = scheduler.run(work)

    final = records.records[(OWNER, UPLOAD_ID)]
    present = KEY in objects.objects
    path = ["pending"] + [to for _, _, to in records.history]
    context = (requests, upload, overwrite, path, results, events)
    # The statuses form a path of the state machine (a re-check that keeps complete adds none)
    path = [status for status, _ in itertools.groupby(path)]
    assert all(b in TRANSITIONS[a] for a, b in itertools.pairwise(path)), context
    assert path[-1] == final.status, context
    last_delete = max((i for i, (what, _) in enumerate(events) if what == "delete"), default=-1)
    last_put = max((i for i, (what, _) in enumerate(events) if what == "put"), default=-1)
    # Each final status says only what happened: a complete record points at checked content
    if final.status == "complete":
        assert upload == "good" and present and objects.objects[KEY] == GOOD, context
        assert KEY not in objects.bodies and final.etag == GOOD.etag, context
    if final.status == "rejected":
        assert upload in ("bad", "html") or overwrite, context
        assert not present or last_put > last_delete, context
    if final.status == "deleted":
        assert "complete" in path and (not present or last_put > last_delete), context
    if final.status == "aborted" and present:
        assert last_put > last_delete, context
    # Every request answered something it may answer
    for name, result in results.items():
        if name.startswith("complete"):
            assert isinstance(result, REFUSALS) or result.status == "complete", context
            if isinstance(result, UploadMismatch):
                assert "rejected" in path, context
            if not isinstance(result, Exception):
                assert "complete" in path, context
        elif name.startswith(("abort", "event")):
            assert isinstance(result, (UploadRecord, *REFUSALS)), context
        assert not isinstance(result, Conflict) or isinstance(result, REFUSALS), context


MiB = 1024**2
MULTIPART = dataclasses.replace(
    RECORD,
    size=12 * MiB,
    content_type="video/mp4",
    expires_at=T + 86_400,
    multipart=Multipart(storage_upload_id="mpu-1", part_size=5 * MiB),
)
PART_SIZES = {1: 5 * MiB, 2: 5 * MiB, 3: 2 * MiB}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    requests=st.lists(st.sampled_from(["complete", "abort"]), min_size=1, max_size=4),
    sent=st.lists(st.sampled_from([1, 2, 3]), unique=True, max_size=3),
    data=st.data(),
)
def test_random_interleavings_of_a_multipart_upload_keep_every_claim(
    requests: list[str], sent: list[int], data: st.DataObject
) -> None:
    """The same claims for a multipart upload, whose storage actions are ListParts,
    CompleteMultipartUpload, HEAD and AbortMultipartUpload, while the client PUTs the parts
    ``sent`` (in that order, each landing anywhere):

    * ``complete`` only when every part was stored, assembled exactly once, in order, into the
      object that is there;
    * ``aborted``: the storage's upload is gone and so is any object (a completion that assembled
      first is undone by the abort's delete); no part lands after the abort;
    * a completion answers complete, or a refusal (parts missing, not pending, gone).
    """
    scheduler = Scheduler(lambda waiting: data.draw(st.sampled_from(waiting)))
    records = MemoryRecords(before=scheduler.hook)
    objects = MemoryObjects(before=scheduler.hook)
    objects.uploads["mpu-1"] = MemoryUpload(MULTIPART.key, "video/mp4", {}, checksums=False)
    records.records[(OWNER, UPLOAD_ID)] = MULTIPART
    lifecycle = Uploads(
        records, UploadRecordSettings(head_attempts=2), clock=lambda: NOW, sleep=lambda _: None
    )
    landed: list[int] = []
    work: dict[str, Callable[[], Any]] = {}
    for i, kind in enumerate(requests):
        if kind == "complete":
            work[f"complete-{i}"] = lambda: lifecycle.complete(
                OWNER, UPLOAD_ID, objects=lambda _: objects, spending=free()
            )
        else:
            work[f"abort-{i}"] = lambda: lifecycle.abort(
                OWNER, UPLOAD_ID, objects=lambda _: objects, spending=free()
            )
    if sent:

        def client() -> None:
            for number in sent:
                scheduler.hook("put_part")
                if objects.put_part("mpu-1", number, PART_SIZES[number]) is not None:
                    landed.append(number)

        work["client"] = client

    results = scheduler.run(work)

    final = records.records[(OWNER, UPLOAD_ID)]
    present = MULTIPART.key in objects.objects
    path = ["pending"] + [to for _, _, to in records.history]
    context = (requests, sent, landed, path, results, objects.completions)
    assert all(b in TRANSITIONS[a] for a, b in itertools.pairwise(path)), context
    assert path[-1] == final.status, context
    assert len(objects.completions) <= 1, context
    if objects.completions:
        assert [p.part_number for p in objects.completions[0][1]] == [1, 2, 3], context
    if final.status == "complete":
        assert sorted(landed) == [1, 2, 3] and present, context
        assert final.etag == objects.objects[MULTIPART.key].etag, context
    if final.status == "aborted":
        assert not present and "mpu-1" not in objects.uploads, context
    assert final.status in ("pending", "complete", "aborted", "deleted"), context
    for name, result in results.items():
        if name.startswith("complete"):
            assert isinstance(result, (*REFUSALS, PartsMissing)) or result.status == "complete", context
            if not isinstance(result, Exception):
                assert "complete" in path, context
        elif name.startswith("abort"):
            assert isinstance(result, UploadRecord), context


def test_the_state_machine_is_written_down_once() -> None:
    # Final statuses have no way out; the only way into complete is from pending.
    assert {s for s, nexts in TRANSITIONS.items() if not nexts} == {
        "rejected",
        "aborted",
        "expired",
        "deleted",
    }
    assert [s for s, nexts in TRANSITIONS.items() if "complete" in nexts] == ["pending"]
