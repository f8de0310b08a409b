"""The cleanup's table adapter against template.yaml's tables in a moto server over HTTP: the
fence's conditions, the indexes the transitions and share writes maintain, and the conditional
removals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from local.servers import MotoServer
from presign.adapters.dynamodb_cleanup import DynamoDbCleanupRecords, DynamoDbCleanupShares
from presign.adapters.dynamodb_shares import DynamoDbShareStore
from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
from presign.cleanup.ports import RecordRef, ShareRef, StorageUpload
from presign.shares.records import Share
from presign.uploads.ids import MonotonicIds
from presign.uploads.records import Multipart, UploadRecord
from tests.integration.test_dynamodb_uploads import client
from tests.support.lifecycle import UPLOADS_TABLE, moto_with_tables
from tests.support.shares import SHARES_TABLE

NOW = int(time.time())
ids = MonotonicIds(lambda n: b"\x09" * n)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def stores(moto: MotoServer) -> tuple[DynamoDbRecordStore, DynamoDbCleanupRecords]:
    return DynamoDbRecordStore(client(moto.endpoint_url), UPLOADS_TABLE), DynamoDbCleanupRecords(
        client(moto.endpoint_url), UPLOADS_TABLE
    )


def pending(expires_at: int, *, multipart: bool = False) -> UploadRecord:
    upload_id = ids(datetime.now(UTC))
    return UploadRecord(
        owner="c" * 32, upload_id=upload_id, target="main", key=f"users/c/2030/01/01/{upload_id}/f", method="PUT",
        size=5, content_type="text/plain", status="pending", created_at=NOW - 100, expires_at=expires_at,
        updated_at=NOW - 100, multipart=Multipart("mpu-x", 5 * 1024**2) if multipart else None,
    )  # fmt: skip


def test_a_fenced_upload_moves_only_by_the_lease_holders_writes(
    stores: tuple[DynamoDbRecordStore, DynamoDbCleanupRecords],
) -> None:
    store, cleanup = stores
    record = pending(NOW - 50)
    assert store.create(record, ttl=NOW + 3600)

    ref = RecordRef(record.owner, record.upload_id, "main")

    # When the cleanup fences it (not before it is stale): a second run's fence waits for the
    # lease, and the fence answers the record as it is
    assert cleanup.fence(ref, now=NOW, lease_until=NOW + 600, expired_before=NOW - 50) is None
    fenced = cleanup.fence(ref, now=NOW, lease_until=NOW + 600, expired_before=NOW)
    assert fenced is not None and fenced.cleanup_at == NOW and fenced.status == "pending"
    assert fenced == store.get(record.owner, record.upload_id)
    assert cleanup.fence(ref, now=NOW + 1, lease_until=NOW + 601, expired_before=NOW) is None
    again = cleanup.fence(ref, now=NOW + 601, lease_until=NOW + 1200, expired_before=NOW)  # the first died
    assert again is not None and again.cleanup_at == NOW

    # Then a client's completion or expiry fails its condition; the first run's lease (taken
    # over) no longer writes; the lease holder's own completion would, and its expiry does
    done = fenced.moved("complete", now=NOW, etag='"e"', completed_at=NOW)
    expired = fenced.moved("expired", now=NOW)
    assert store.transition(done, expected="pending", ttl=None) is False
    assert store.transition(expired, expected="pending", ttl=NOW + 10) is False
    assert store.transition(done, expected="pending", ttl=None, lease=NOW + 600) is False
    assert store.transition(expired, expected="pending", ttl=NOW + 10, lease=NOW + 1200)
    # and a fence of a record no longer pending fails
    assert cleanup.fence(ref, now=NOW + 2000, lease_until=NOW + 3000, expired_before=NOW) is None


def test_the_pending_index_finds_due_records_by_window_and_the_removable_index_old_ones(
    stores: tuple[DynamoDbRecordStore, DynamoDbCleanupRecords],
) -> None:
    store, cleanup = stores
    due, later = pending(NOW - 500), pending(NOW + 500)
    for r in (due, later):
        assert store.create(r, ttl=NOW + 3600)

    found = {ref.upload_id for ref in cleanup.pending_due(since=NOW - 86_400, before=NOW)}
    assert due.upload_id in found and later.upload_id not in found

    # When the due one expires with a retention ending at NOW + 10
    assert store.transition(due.moved("expired", now=NOW), expected="pending", ttl=NOW + 10)
    assert due.upload_id not in {ref.upload_id for ref in cleanup.pending_due(since=NOW - 86_400, before=NOW)}
    (ref,) = [
        r for r in cleanup.removable_due(since=NOW - 86_400, before=NOW + 11) if r.upload_id == due.upload_id
    ]
    assert ref.target == "main" and ref.owner == due.owner

    assert (ref.key, ref.status) == (due.key, "expired")

    # Then it is leased and removed only once past its retention, by the lease's holder, once
    assert not cleanup.lease(ref, now=NOW + 5, until=NOW + 100)
    assert cleanup.lease(ref, now=NOW + 11, until=NOW + 100)
    assert not cleanup.lease(ref, now=NOW + 12, until=NOW + 101)  # another run
    assert not cleanup.remove(ref, now=NOW + 12, lease_until=NOW + 101)
    assert cleanup.remove(ref, now=NOW + 12, lease_until=NOW + 100)
    assert not cleanup.remove(ref, now=NOW + 13, lease_until=NOW + 100)
    assert store.get(due.owner, due.upload_id) is None


def test_batch_lookup_names_the_storage_upload_of_each_existing_record(
    stores: tuple[DynamoDbRecordStore, DynamoDbCleanupRecords],
) -> None:
    store, cleanup = stores
    multipart, single = pending(NOW + 500, multipart=True), pending(NOW + 500)
    for r in (multipart, single):
        assert store.create(r, ttl=NOW + 3600)
    refs = [(r.owner, r.upload_id) for r in (multipart, single)] + [("d" * 32, multipart.upload_id)]

    assert cleanup.storage_upload_ids(refs) == {refs[0]: "mpu-x", refs[1]: None}


def test_an_orphan_is_claimed_by_one_run_until_the_claim_expires(
    stores: tuple[DynamoDbRecordStore, DynamoDbCleanupRecords],
) -> None:
    _, cleanup = stores
    upload = StorageUpload(key=f"users/z/{NOW}/x", upload_id="u-1", initiated=0)
    assert cleanup.claim_orphan("main", upload, now=NOW, ttl=NOW + 100)
    assert not cleanup.claim_orphan("main", upload, now=NOW + 1, ttl=NOW + 101)
    assert cleanup.claim_orphan("main", upload, now=NOW + 101, ttl=NOW + 201)


def test_shares_are_indexed_when_they_stop_working_and_removed_once(moto: MotoServer) -> None:
    store = DynamoDbShareStore(client(moto.endpoint_url), SHARES_TABLE)
    cleanup = DynamoDbCleanupShares(client(moto.endpoint_url), SHARES_TABLE)
    tag = f"{NOW % 100000:05d}"

    def share(letter: str, **fields: object) -> Share:
        made = Share(handle=(letter * 35) + tag, owner="o" * 32, target="main", key="users/o/x", size=1,
                     content_type=None, created_ms=NOW * 1000, expires_at=NOW + 7 * 86_400, filename="",
                     **fields)  # type: ignore[arg-type]  # fmt: skip
        assert store.create(made, ttl=made.expires_at + 86_400)
        return made

    used, revoked, active = share("a", max_downloads=1), share("b"), share("c", max_downloads=2)
    assert store.spend(used.handle, now=NOW).spent
    assert store.spend(active.handle, now=NOW).spent  # one of two: still working
    assert store.revoke(revoked.handle, owner="o" * 32, now=NOW, ttl=NOW + 86_400) is not None

    def stale(before: int) -> set[str]:
        return {ref.handle for ref in cleanup.stale_due(since=NOW - 86_400, before=before)}

    assert {used.handle, revoked.handle} <= stale(NOW + 1)
    assert active.handle not in stale(NOW + 1)
    assert active.handle in stale(NOW + 7 * 86_400 + 1)  # filed under its expiry from the start
    (ref,) = [r for r in cleanup.stale_due(since=NOW - 86_400, before=NOW + 1) if r.handle == used.handle]
    assert cleanup.remove(ref, now=NOW) and not cleanup.remove(ref, now=NOW)
    assert store.get(used.handle) is None and store.get(active.handle) is not None


def test_shares_past_their_expiry_are_marked_once_and_then_spend_nothing(moto: MotoServer) -> None:
    # Given a share past its expiry, a revoked one past it, a live one and a password-only one
    store = DynamoDbShareStore(client(moto.endpoint_url), SHARES_TABLE)
    cleanup = DynamoDbCleanupShares(client(moto.endpoint_url), SHARES_TABLE)
    tag = f"{NOW % 100000:05d}"

    def share(letter: str, expires_at: int, **fields: object) -> ShareRef:
        made = Share(handle=(letter * 35) + tag, owner="o" * 32, target="main", key="users/o/x", size=1,
                     content_type=None, created_ms=NOW * 1000, expires_at=expires_at, filename="",
                     **fields)  # type: ignore[arg-type]  # fmt: skip
        assert store.create(made, ttl=expires_at + 86_400)
        return ShareRef(handle=made.handle, target="main", marker="")

    lapsed, revoked, live = share("d", NOW - 10), share("e", NOW - 10), share("f", NOW + 3600)
    protected = share("g", NOW + 3600, password_hash="$argon2id$x", password_protected=True)
    assert store.revoke(revoked.handle, owner="o" * 32, now=NOW - 20, ttl=NOW + 86_400) is not None

    # When the cleanup marks them (twice: a second run, or two at once)
    marked = [cleanup.mark_expired(ref, now=NOW) for ref in (lapsed, lapsed, revoked, live)]

    # Then only the lapsed, unrevoked share is marked, once (share.expired's committed change)
    assert marked == [True, False, False, False], marked
    # And a password-only link spends on every access, without a limit (share.accessed's change)
    assert [store.spend(protected.handle, now=NOW).spent for _ in range(3)] == [True, True, True]
    stored = store.get(protected.handle)
    assert stored is not None and stored.downloads == 3, stored
    # while a share marked expired spends nothing, whatever the clock says
    assert not store.spend(lapsed.handle, now=NOW - 100).spent
