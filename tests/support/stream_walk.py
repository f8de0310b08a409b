"""The writes the service makes, each kind at least once, through the real stores on a
``Pipeline``, with the events they must become; and the check that received events are exactly
those (nothing lost, nothing invented, duplicates only of the same id)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from presign.cleanup.ports import RecordRef
from presign.shares.ids import handle_of, new_share_id
from presign.shares.records import Share
from presign.uploads.idempotency import Claim
from presign.uploads.ids import MonotonicIds
from presign.uploads.records import UploadRecord
from tests.support.stream_pipeline import Pipeline

OWNER = "0123456789abcdef0123456789abcdef"
PASSWORD = "correct horse battery staple"
ids = MonotonicIds(lambda n: b"\x05" * n)


def now() -> int:
    return int(time.time())


def new_upload(kind: str = "photo", *, expires_in: int = 900) -> UploadRecord:
    moment = now()
    upload_id = ids(datetime.now(UTC))
    return UploadRecord(
        owner=OWNER,
        upload_id=upload_id,
        target="main",
        key=f"users/{OWNER}/{upload_id}/file.bin",
        method="PUT",
        size=5,
        content_type="image/jpeg",
        status="pending",
        created_at=moment,
        expires_at=moment + expires_in,
        updated_at=moment,
        filename="file.jpg",
        kind=kind,
        metadata={"album": "summer"},
    )


def move(
    p: Pipeline, record: UploadRecord, status: Any, *, lease: int | None = None, **changes: Any
) -> tuple[UploadRecord, bool]:
    moved = record.moved(status, now=now(), **changes)
    return moved, p.records.transition(moved, expected=record.status, ttl=now() + 86400, lease=lease)


def new_share(p: Pipeline, **changes: Any) -> tuple[str, Share]:
    share_id = new_share_id()
    fields: dict[str, Any] = {
        "handle": handle_of(share_id),
        "owner": OWNER,
        "target": "main",
        "key": f"users/{OWNER}/q3.pdf",
        "size": 4096,
        "content_type": "application/pdf",
        "created_ms": now() * 1000,
        "expires_at": now() + 3600,
        "filename": "q3.pdf",
        "max_downloads": 2,
    }
    value = Share(**{**fields, **changes})
    assert p.shares.create(value, ttl=value.expires_at + 86400)
    return share_id, value


def walk(p: Pipeline) -> tuple[list[tuple[str, str]], list[str]]:
    """Every kind of write the service makes; answers the events they must be and the secrets."""
    expected: list[tuple[str, str]] = []

    def up(record: UploadRecord, *types: str) -> None:
        expected.extend((f"upload/{record.upload_id}", t) for t in types)

    done = new_upload()
    assert p.records.create(done, ttl=None)
    completed, ok = move(p, done, "complete", etag='"5d41402abc4b2a76b9719d911017c592"', completed_at=now())
    assert ok
    assert move(p, completed, "deleted")[1]
    up(done, "upload.created", "upload.completed", "upload.deleted")

    refused = new_upload("doc")
    assert p.records.create(refused, ttl=None)
    assert move(p, refused, "rejected", problems=("size: 5 != 6",))[1]
    assert not move(p, refused, "complete")[1], "a transition the record has left committed"
    up(refused, "upload.created", "upload.rejected")

    aborted = new_upload()
    assert p.records.create(aborted, ttl=None)
    assert move(p, aborted, "aborted")[1]
    up(aborted, "upload.created", "upload.deleted")

    stale = new_upload(expires_in=-60)
    assert p.records.create(stale, ttl=None)
    ref = RecordRef(owner=OWNER, upload_id=stale.upload_id)
    lease = now() + 60
    fenced = p.cleanup.fence(ref, now=now(), lease_until=lease, expired_before=now())
    assert fenced is not None and not move(p, stale, "complete")[1], "the fence let a completion through"
    # Only the fence's holder moves a fenced upload (issue 20): its expiry names its lease
    assert not move(p, stale, "expired")[1], "an expiry without the lease passed the fence"
    assert move(p, stale, "expired", lease=lease)[1]
    up(stale, "upload.created", "upload.expired")

    claim = Claim(
        owner=OWNER, key_digest="d" * 64, fingerprint="f", upload_id=done.upload_id, claimed_at=now()
    )
    assert p.records.claim(claim, ttl=now() + 3600) is None
    p.records.release(claim)
    key = {"pk": {"S": f"u#{OWNER}"}, "sk": {"S": f"up#{refused.upload_id}"}}
    p.dynamodb.update_item(  # changes nothing: moto still streams a MODIFY
        TableName=p.uploads_table,
        Key=key,
        UpdateExpression="SET filename = :f",
        ExpressionAttributeValues={":f": {"S": "file.jpg"}},
    )
    p.dynamodb.delete_item(TableName=p.uploads_table, Key=key)  # the cleanup's removal: a REMOVE

    share_id, counted = new_share(p, password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g")
    subject = f"share/{counted.handle}"
    assert p.shares.spend(counted.handle, now=now()).spent
    assert not p.shares.fail(counted.handle, now=now(), threshold=5, lock_until=now() + 60)
    assert p.shares.spend(counted.handle, now=now()).spent
    assert not p.shares.spend(counted.handle, now=now()).spent, "spent past max_downloads"
    assert p.shares.revoke(counted.handle, owner=OWNER, now=now(), ttl=now() + 60) is not None
    assert p.shares.revoke(counted.handle, owner=OWNER, now=now() + 1, ttl=now() + 99) is not None  # again
    expected += [(subject, "share.created"), (subject, "share.accessed")]
    expected += [(subject, "share.accessed"), (subject, "share.exhausted"), (subject, "share.revoked")]

    other_id, lapsed = new_share(p, max_downloads=None, expires_at=now() - 5)
    assert p.mark_expired(lapsed.handle, now=now()) and not p.mark_expired(lapsed.handle, now=now())
    expected += [(f"share/{lapsed.handle}", "share.created"), (f"share/{lapsed.handle}", "share.expired")]
    return expected, [share_id, other_id, PASSWORD, "c2FsdHNhbHQ"]


def by_id(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    unique: dict[str, dict[str, Any]] = {}
    for event in events:
        assert unique.setdefault(event["id"], event) == event, f"two different events with id {event['id']}"
    return unique


def assert_exactly(received: list[dict[str, Any]], expected: list[tuple[str, str]]) -> None:
    """No event lost, none invented: once deduplicated by id, the events are the expected changes."""
    events = sorted(by_id(received).values(), key=lambda e: (e["subject"], e["sequence"], e["type"]))
    got = Counter((e["subject"], e["type"]) for e in events)
    assert got == Counter(expected), f"missing {Counter(expected) - got}, invented {got - Counter(expected)}"
    for subject in {s for s, _ in expected}:
        in_order = [t for s, t in expected if s == subject]
        assert [e["type"] for e in events if e["subject"] == subject] == in_order, subject
