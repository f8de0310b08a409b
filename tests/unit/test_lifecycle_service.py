"""Lifecycle rules that need a clock: expiry, replays of finished uploads, stale claims.

In-memory ports (tests/support/memory.py) and a frozen clock, so nothing waits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from presign.auth import Principal
from presign.config.target import Target
from presign.config.uploads import UploadRecordSettings
from presign.errors import IdempotencyInProgress, NotUploaded, UploadGone, UploadNotPending
from presign.signing.context import SigningContext
from presign.signing.sigv4 import S3Presigner, SigningCredentials
from presign.uploads.complete import COMPLETE_ROUTE
from presign.uploads.grant import CREATE_ROUTE
from presign.uploads.idempotency import STALE_CLAIM_SECONDS, Claim, fingerprint, key_digest
from presign.uploads.schemas import CreateUploadRequest
from presign.uploads.service import Uploads
from presign.uploads.verification import ObjectFacts
from tests.support.memory import MemoryObjects, MemoryRecords
from tests.support.owners import owner_of
from tests.support.spending import StaticTargets, free

ALICE = Principal("alice")
TARGET = Target(bucket="b-test", endpoint_url="http://127.0.0.1:9", addressing_style="path")
REQUEST = CreateUploadRequest(filename="a.txt", content_type="text/plain", size=3)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def records() -> MemoryRecords:
    return MemoryRecords()


@pytest.fixture
def lifecycle(records: MemoryRecords, clock: Clock) -> Uploads:
    targets = StaticTargets({"main": TARGET}, signing(clock))
    return Uploads(records, UploadRecordSettings(), clock=clock, sleep=lambda _: None, targets=targets)


def signing(clock: Clock) -> SigningContext:
    presigner = S3Presigner(
        credentials=SigningCredentials("AKID", "secret"),
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        addressing_style="path",
    )
    return SigningContext(presigner=presigner, credentials_expire_at=None, clock=clock)


def begin(lifecycle: Uploads, clock: Clock, key: str | None = None, spent: list[int] | None = None) -> str:
    grant = lifecycle.begin(
        REQUEST,
        principal=ALICE,
        target_name="main",
        target=TARGET,
        spending=Counted(spent),
        idempotency_key=key,
    )
    return grant.upload_id


class Counted:
    """Counts the upload units spent in ``spent``; a single upload signs no part URLs."""

    def __init__(self, spent: list[int] | None) -> None:
        self.spent = spent

    def upload(self, target: str, nbytes: int) -> None:
        if self.spent is not None:
            self.spent.append(1)

    def spend(self, target: str | None = None, cost: int = 1, *, action: str | None = None) -> None:
        raise AssertionError(f"a single upload signs no part URLs; spent {cost} on {target}")


def test_completing_after_the_url_died_with_nothing_stored_is_410_and_expired(
    lifecycle: Uploads, clock: Clock, records: MemoryRecords
) -> None:
    upload_id = begin(lifecycle, clock)
    objects = MemoryObjects()

    with pytest.raises(NotUploaded):
        lifecycle.complete(owner_of(ALICE), upload_id, objects=lambda _: objects, spending=free())
    assert objects.heads == 3  # the bounded retry, without waiting (the sleep is injected)
    clock.now += timedelta(seconds=901)
    with pytest.raises(UploadGone):
        lifecycle.complete(owner_of(ALICE), upload_id, objects=lambda _: objects, spending=free())

    assert records.records[(owner_of(ALICE), upload_id)].status == "expired"
    assert records.ttls[(owner_of(ALICE), upload_id)] == int(clock.now.timestamp()) + 30 * 86_400


def test_an_object_stored_in_time_completes_even_after_the_url_died(lifecycle: Uploads, clock: Clock) -> None:
    upload_id = begin(lifecycle, clock)
    record = lifecycle.status(owner_of(ALICE), upload_id, spending=free())
    objects = MemoryObjects()
    objects.objects[record.key] = ObjectFacts(size=3, content_type="text/plain", etag='"e"')
    clock.now += timedelta(hours=2)

    done = lifecycle.complete(owner_of(ALICE), upload_id, objects=lambda _: objects, spending=free())

    assert done.status == "complete"


def test_a_pending_record_outlives_its_url_by_the_retention(
    lifecycle: Uploads, clock: Clock, records: MemoryRecords
) -> None:
    upload_id = begin(lifecycle, clock)
    record = records.records[(owner_of(ALICE), upload_id)]
    assert records.ttls[(owner_of(ALICE), upload_id)] == record.expires_at + 7 * 86_400


def test_replays_of_a_finished_upload_say_why_not(lifecycle: Uploads, clock: Clock) -> None:
    upload_id = begin(lifecycle, clock, key="k")
    objects = MemoryObjects()
    record = lifecycle.status(owner_of(ALICE), upload_id, spending=free())
    objects.objects[record.key] = ObjectFacts(size=3, content_type="text/plain", etag='"e"')
    lifecycle.complete(owner_of(ALICE), upload_id, objects=lambda _: objects, spending=free())

    with pytest.raises(UploadNotPending):
        begin(lifecycle, clock, key="k")


def test_a_replay_after_the_url_died_is_410(lifecycle: Uploads, clock: Clock) -> None:
    begin(lifecycle, clock, key="k")
    clock.now += timedelta(seconds=901)
    with pytest.raises(UploadGone):
        begin(lifecycle, clock, key="k")


def test_a_claim_left_by_a_dead_request_is_taken_over_once_stale(
    lifecycle: Uploads, clock: Clock, records: MemoryRecords
) -> None:
    # Given a claim whose request died before writing its record
    now = int(clock.now.timestamp())
    body = {**REQUEST.model_dump(mode="json"), "target": "main"}
    dead = Claim(
        owner_of(ALICE), key_digest("k"), fingerprint(CREATE_ROUTE, body), "01k0b7m3q8r9s4t5v6w7x8y9za", now
    )
    assert records.claim(dead, ttl=now + 86_400) is None
    spent: list[int] = []

    # Then a retry meanwhile is told to come back, and spends nothing
    with pytest.raises(IdempotencyInProgress):
        begin(lifecycle, clock, key="k", spent=spent)
    assert spent == []
    # And once the claim is stale, one retry takes it over, under the dead request's upload id
    clock.now += timedelta(seconds=STALE_CLAIM_SECONDS)
    assert begin(lifecycle, clock, key="k", spent=spent) == dead.upload_id
    assert spent == [1]
    assert begin(lifecycle, clock, key="k", spent=spent) == dead.upload_id and spent == [1]


def test_records_off_sign_without_writing_and_refuse_a_key(clock: Clock) -> None:
    off = Uploads(
        None,
        UploadRecordSettings(enabled=False),
        clock=clock,
        targets=StaticTargets({"main": TARGET}, signing(clock)),
    )
    assert begin(off, clock)
    from presign.errors import Unprocessable

    with pytest.raises(Unprocessable):
        begin(off, clock, key="k")


# -- replays cost what they do (issue 17) ------------------------------------------------------
# A counting ObjectStore: the ``before`` hook sees every storage call a real adapter would make.

MiB = 1024**2
BIG = CreateUploadRequest(filename="film.mp4", content_type="video/mp4", size=20 * MiB, multipart=True)


class Spent:
    """What a request spent: ``upload`` units (the create's) and ``upload_parts`` units by target."""

    def __init__(self) -> None:
        self.uploads = 0
        self.parts: list[tuple[str, int]] = []

    def upload(self, target: str, nbytes: int) -> None:
        self.uploads += 1

    def spend(self, target: str | None = None, cost: int = 1, *, action: str | None = None) -> None:
        assert action == "upload_parts", action
        self.parts.append((target or "", cost))


class Appending:
    """Appends the target of each spend to ``into``."""

    def __init__(self, into: list[str]) -> None:
        self.into = into

    def spend(self, target: str | None = None, cost: int = 1, *, action: str | None = None) -> None:
        self.into.append(target or "")


def begin_big(lifecycle: Uploads, clock: Clock, objects: MemoryObjects, spent: Spent, key: str) -> Any:
    return lifecycle.begin(
        BIG,
        principal=ALICE,
        target_name="main",
        target=TARGET,
        spending=spent,
        idempotency_key=key,
        objects=lambda _: objects,
    )


def test_a_multipart_replay_calls_no_storage_and_spends_one_parts_unit_per_url(
    lifecycle: Uploads, clock: Clock
) -> None:
    # Given a multipart upload made with an Idempotency-Key (one CreateMultipartUpload, one unit)
    calls: list[str] = []
    objects = MemoryObjects(before=calls.append)
    spent = Spent()
    first = begin_big(lifecycle, clock, objects, spent, "big-1")
    assert calls == ["start_multipart"] and spent.uploads == 1 and spent.parts == [], (calls, spent.parts)
    calls.clear()

    # When the client retries it (its answer was lost), a minute later
    clock.now += timedelta(minutes=1)
    again = begin_big(lifecycle, clock, objects, spent, "big-1")

    # Then the same upload is answered without a single storage call
    assert again.upload_id == first.upload_id and again.key == first.key
    assert calls == [], calls
    # And the part URLs signed again cost one upload_parts unit each; the upload unit is not spent again
    assert len(again.multipart.parts) == 3
    assert spent.parts == [("main", 3)] and spent.uploads == 1, (spent.parts, spent.uploads)


def test_a_single_replay_spends_nothing_and_calls_no_storage(lifecycle: Uploads, clock: Clock) -> None:
    spent = Spent()
    calls: list[str] = []
    objects = MemoryObjects(before=calls.append)

    for _ in range(3):
        lifecycle.begin(
            REQUEST,
            principal=ALICE,
            target_name="main",
            target=TARGET,
            spending=spent,
            idempotency_key="one",
            objects=lambda _: objects,
        )

    assert (spent.uploads, spent.parts, calls) == (1, [], [])


def complete(lifecycle: Uploads, upload_id: str, objects: MemoryObjects, spent: list[str], key: str) -> Any:
    return lifecycle.complete(
        owner_of(ALICE), upload_id, objects=lambda _: objects, spending=Appending(spent), idempotency_key=key
    )


def test_a_complete_replay_of_a_completed_upload_answers_the_record_without_storage(
    lifecycle: Uploads, clock: Clock
) -> None:
    upload_id = begin(lifecycle, clock)
    calls: list[str] = []
    objects = MemoryObjects(before=calls.append)
    record = lifecycle.status(owner_of(ALICE), upload_id, spending=free())
    objects.objects[record.key] = ObjectFacts(size=3, content_type="text/plain", etag='"e"')
    spent: list[str] = []
    done = complete(lifecycle, upload_id, objects, spent, "c-1")
    calls.clear()

    again = complete(lifecycle, upload_id, objects, spent, "c-1")

    assert again == done and calls == [] and spent == ["main"], (calls, spent)


def test_a_complete_retried_after_a_failure_does_the_work_again_and_spends_again(
    lifecycle: Uploads, clock: Clock
) -> None:
    # Given a completion refused because nothing was stored yet (three HEADs, one unit)
    upload_id = begin(lifecycle, clock)
    calls: list[str] = []
    objects = MemoryObjects(before=calls.append)
    spent: list[str] = []
    with pytest.raises(NotUploaded):
        complete(lifecycle, upload_id, objects, spent, "c-2")
    assert calls == ["head"] * 3 and spent == ["main"], (calls, spent)

    # When the client retries with the same key: the storage is asked again, so it costs again
    with pytest.raises(NotUploaded):
        complete(lifecycle, upload_id, objects, spent, "c-2")
    assert calls == ["head"] * 6 and spent == ["main", "main"], (calls, spent)


def test_a_complete_replay_while_the_first_runs_is_409_without_storage_until_the_claim_is_stale(
    lifecycle: Uploads, clock: Clock, records: MemoryRecords
) -> None:
    # Given a completion with key "c-3" still running (its claim is there, the record pending)
    upload_id = begin(lifecycle, clock)
    now = int(clock.now.timestamp())
    running = Claim(
        owner_of(ALICE),
        key_digest("c-3"),
        fingerprint(COMPLETE_ROUTE, {"upload_id": upload_id, "body": {}}),
        upload_id,
        now,
    )
    assert records.claim(running, ttl=now + 86_400) is None
    calls: list[str] = []
    objects = MemoryObjects(before=calls.append)
    spent: list[str] = []

    # Then the same request meanwhile is told to come back, with no storage call and nothing spent
    with pytest.raises(IdempotencyInProgress):
        complete(lifecycle, upload_id, objects, spent, "c-3")
    assert (calls, spent) == ([], [])
    # And once the claim is stale (its request died), a retry takes it over and does the work
    clock.now += timedelta(seconds=STALE_CLAIM_SECONDS)
    with pytest.raises(NotUploaded):
        complete(lifecycle, upload_id, objects, spent, "c-3")
    assert calls == ["head"] * 3 and spent == ["main"], (calls, spent)
