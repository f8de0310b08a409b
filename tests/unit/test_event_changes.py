"""Stream records to events: every transition is exactly one event, every other write none.

Images are built with the adapters' own ``record_item`` / ``share_item``
(tests/support/stream_records.py), so the attribute names are the tables' real ones.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings

from presign.adapters.dynamodb_shares import share_pk
from presign.adapters.dynamodb_upload_items import claim_pk, owner_pk, record_sk
from presign.events import changes
from presign.events.changes import events_of
from presign.events.model import Event, MalformedChange
from presign.uploads.records import TRANSITIONS, Status
from tests.support.stream_records import (
    NOW,
    OWNER,
    SHARES_ARN,
    share,
    share_image,
    stream_record,
    upload,
    upload_image,
)
from tests.support.stream_table_model import EXPECTED_UPLOAD_TYPE, OPS, Table, n, s

EVERY_TRANSITION = [(source, target) for source, targets in TRANSITIONS.items() for target in sorted(targets)]


def types(events: list[Event]) -> list[str]:
    return [event.type for event in events]


def test_the_key_prefixes_are_the_adapters() -> None:
    assert owner_pk(OWNER).startswith(changes.UPLOAD_PK)
    assert record_sk("x").startswith(changes.UPLOAD_SK)
    assert share_pk("x").startswith(changes.SHARE_PK)
    assert not claim_pk(OWNER, "d").startswith(changes.UPLOAD_PK)  # a claim is never a record


# -- uploads ----------------------------------------------------------------------------------------


def test_a_new_pending_record_is_upload_created() -> None:
    event = events_of(stream_record("INSERT", new=upload_image(upload())))
    assert types(event) == ["upload.created"]
    assert event[0].sequence == 1
    assert event[0].data["status"] == "pending" and event[0].data["previous_status"] is None


@pytest.mark.parametrize(("source", "target"), EVERY_TRANSITION)
def test_every_status_transition_is_exactly_one_event(source: Status, target: Status) -> None:
    before = upload(status=source, updated_at=NOW + 1)
    after = dataclasses.replace(
        before, status=target, updated_at=NOW + 2, etag='"e"' if target == "complete" else None
    )
    old = upload_image(before, write_id=s("w1"))
    new = upload_image(after, ttl=NOW + 86400, write_id=s("w2"))
    if source == "complete":
        # A transition out of complete (an overwrite that failed its re-check) is one only
        # versioned code makes: its write stamps version = if_not_exists(version, rank) + 1
        # (presign.adapters.dynamodb_uploads), so its image always has one.
        new["version"] = n(changes.UPLOAD_RANK[source] + 1)
    events = events_of(stream_record("MODIFY", old=old, new=new))
    assert types(events) == [EXPECTED_UPLOAD_TYPE[target]], f"{source} -> {target}: {events}"
    event = events[0]
    assert event.data["status"] == target and event.data["previous_status"] == source
    if source == "complete":
        assert event.sequence == changes.UPLOAD_RANK[source] + 1, event
    else:
        assert event.sequence == changes.UPLOAD_RANK[target] > changes.UPLOAD_RANK[source]
    assert event.time == "2027-01-15T08:00:02Z"


def test_aborted_is_upload_deleted_and_says_it_was_never_completed() -> None:
    old = upload_image(upload())
    new = upload_image(upload(status="aborted", updated_at=NOW + 5))
    (event,) = events_of(stream_record("MODIFY", old=old, new=new))
    assert (event.type, event.data["status"], event.data["previous_status"]) == (
        "upload.deleted",
        "aborted",
        "pending",
    )


def test_upload_data_is_what_a_backend_acts_on_and_nothing_more() -> None:
    completed = upload(status="complete", etag='"5d41"', completed_at=NOW + 3, updated_at=NOW + 3)
    from presign.uploads.records import Multipart

    completed = dataclasses.replace(completed, multipart=Multipart("storage-secret-id", 5 << 20))
    new = upload_image(completed, write_id=s("w"), owner_claims={"M": {"sub": s("alice"), "tenant": s("t1")}})
    (event,) = events_of(stream_record("MODIFY", old=upload_image(upload()), new=new))
    assert event.data == {
        "upload_id": completed.upload_id,
        "key": completed.key,
        "target": "main",
        "kind": "photo",
        "filename": "photo.jpg",
        "size": 1234,
        "content_type": "image/jpeg",
        "checksum_sha256": None,
        "etag": '"5d41"',
        "metadata": {"album": "summer"},
        "status": "complete",
        "previous_status": "pending",
        "problems": [],
        "multipart": True,
        "created_at": "2027-01-15T08:00:00Z",
        "expires_at": "2027-01-15T08:15:00Z",
        "completed_at": "2027-01-15T08:00:03Z",
        "owner": {"digest": OWNER, "sub": "alice", "claims": {"tenant": "t1"}},
    }
    assert "storage-secret-id" not in event.to_json()
    assert event.subject == f"upload/{completed.upload_id}"


def test_records_made_before_owner_claims_carry_the_digest_only() -> None:
    (event,) = events_of(stream_record("INSERT", new=upload_image(upload())))
    assert event.data["owner"] == {"digest": OWNER}


def test_a_version_written_by_phase_2_is_the_sequence_and_keeps_the_id() -> None:
    old, after = upload_image(upload()), upload(status="complete", updated_at=NOW + 1)
    without = events_of(stream_record("MODIFY", old=old, new=upload_image(after)))
    with_version = events_of(stream_record("MODIFY", old=old, new=upload_image(after, version=n(2))))
    assert [e.sequence for e in with_version] == [2]
    assert [e.id for e in with_version] == [e.id for e in without]


# -- shares -----------------------------------------------------------------------------------------


def share_record(name: str, old: Any = None, new: Any = None, at: int = NOW) -> dict[str, Any]:
    return stream_record(name, old=old, new=new, arn=SHARES_ARN, at=at)


def test_share_transitions() -> None:
    fresh = share()
    created = events_of(share_record("INSERT", new=share_image(fresh)))
    assert types(created) == ["share.created"] and created[0].data["status"] == "active"
    assert created[0].time == "2027-01-15T08:00:00Z" and created[0].sequence == 1

    once = dataclasses.replace(fresh, downloads=1)
    accessed = events_of(
        share_record("MODIFY", share_image(fresh), share_image(once, last_access=s("w1")), at=NOW + 9)
    )
    assert types(accessed) == ["share.accessed"]
    assert (accessed[0].sequence, accessed[0].time, accessed[0].data["downloads"]) == (
        2,
        "2027-01-15T08:00:09Z",
        1,
    )

    twice = dataclasses.replace(fresh, downloads=2)
    last = events_of(share_record("MODIFY", share_image(once), share_image(twice)))
    assert types(last) == ["share.accessed", "share.exhausted"]
    assert {e.sequence for e in last} == {3} and len({e.id for e in last}) == 2
    assert [e.data["status"] for e in last] == ["exhausted", "exhausted"]

    revoked = dataclasses.replace(twice, revoked_at=NOW + 20)
    (event,) = events_of(share_record("MODIFY", share_image(twice), share_image(revoked)))
    assert (event.type, event.sequence, event.time, event.data["status"]) == (
        "share.revoked",
        4,
        "2027-01-15T08:00:20Z",
        "revoked",
    )


def test_expiry_is_an_event_only_once_the_cleanup_marks_it() -> None:
    old = share_image(share(expires_at=NOW - 1))
    (event,) = events_of(share_record("MODIFY", old, {**old, "expired_at": n(NOW + 60)}))
    assert (event.type, event.sequence, event.data["status"]) == ("share.expired", 2, "expired")
    revoked = share_image(share(revoked_at=NOW - 5))
    assert events_of(share_record("MODIFY", revoked, {**revoked, "expired_at": n(NOW)})) == []
    marked = {**old, "expired_at": n(NOW + 60)}
    (late,) = events_of(share_record("MODIFY", marked, {**marked, "revoked_at": n(NOW + 70)}))
    assert (late.type, late.sequence) == ("share.revoked", 3)


def test_share_data_never_holds_the_password_hash_or_the_attempts() -> None:
    protected = share(password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", max_downloads=None)
    (event,) = events_of(share_record("INSERT", new=share_image(protected)))
    text = event.to_json()
    assert "argon2" not in text and "failed_attempts" not in text and "locked_until" not in text
    assert event.data["password_protected"] is True and event.data["max_downloads"] is None
    assert event.subject == f"share/{protected.handle}" and event.data["handle"] == protected.handle


# -- writes that are not events ---------------------------------------------------------------------


def non_events() -> dict[str, dict[str, Any]]:
    pending = upload_image(upload())
    complete = upload_image(upload(status="complete", updated_at=NOW + 1), ttl=NOW + 99)
    claim = {"pk": s(claim_pk(OWNER, "d" * 64)), "sk": s("claim"), "upload_id": s("x"), "ttl": n(NOW)}
    orphan = {"pk": s("c#" + "f" * 32), "sk": s("orphan"), "ttl": n(NOW)}
    counted = share_image(share())
    return {
        "an idempotency claim written": stream_record("INSERT", new=claim),
        "an idempotency claim released": stream_record("MODIFY", old=claim, new={**claim, "ttl": n(0)}),
        "an orphan's abort claim": stream_record("INSERT", new=orphan),
        "the cleanup's fence": stream_record(
            "MODIFY", old=pending, new={**pending, "cleanup_at": n(NOW), "cleanup_lease": n(NOW + 60)}
        ),
        "the cleanup's lease": stream_record(
            "MODIFY", old=complete, new={**complete, "cleanup_lease": n(NOW)}
        ),
        "a TTL stamp": stream_record("MODIFY", old=complete, new={**complete, "ttl": n(NOW + 5)}),
        "an index move": stream_record(
            "MODIFY", old=complete, new={**complete, "removable_pk": s("r#x#1"), "removable_sk": s("y")}
        ),
        "a no-op update (moto)": stream_record("MODIFY", old=pending, new=pending),
        "an identical put (moto)": stream_record("MODIFY", old=complete, new=dict(complete)),
        "a record inserted not pending": stream_record("INSERT", new=complete),
        "the cleanup removing a record": stream_record("REMOVE", old=complete),
        "TTL removing a claim": stream_record("REMOVE", old=claim),
        "a failed password attempt": share_record("MODIFY", counted, {**counted, "failed_attempts": n(1)}),
        "a password lock": share_record(
            "MODIFY", counted, {**counted, "failed_attempts": n(0), "locked_until": n(NOW + 300)}
        ),
        "a stale-index move": share_record(
            "MODIFY", counted, {**counted, "stale_pk": s("x#1#2"), "stale_sk": s("z")}
        ),
        "a second revocation": share_record(
            "MODIFY",
            {**counted, "revoked_at": n(NOW)},
            {**counted, "revoked_at": n(NOW), "ttl": n(NOW + 9)},
        ),
        "the cleanup removing a share": share_record("REMOVE", old=counted),
        "an item of another table": stream_record("INSERT", new={"pk": s("rl#abc"), "tokens": n(3)}),
    }


@pytest.mark.parametrize("what", sorted(non_events()))
def test_writes_that_change_no_state_are_no_events(what: str) -> None:
    assert events_of(non_events()[what]) == [], what


def test_a_change_without_its_old_image_is_refused_not_guessed() -> None:
    record = stream_record("MODIFY", old=upload_image(upload()), new=upload_image(upload(status="complete")))
    del record["dynamodb"]["OldImage"]
    with pytest.raises(MalformedChange, match="NEW_AND_OLD_IMAGES"):
        events_of(record)


@pytest.mark.parametrize(
    "breakage",
    ["status", "upload_id", "eventSourceARN", "SequenceNumber", "bad value"],
)
def test_a_record_that_cannot_be_read_raises(breakage: str) -> None:
    record = stream_record("INSERT", new=upload_image(upload()))
    if breakage == "eventSourceARN":
        record["eventSourceARN"] = "arn:aws:sqs:us-east-1:1:queue"
    elif breakage == "SequenceNumber":
        del record["dynamodb"]["SequenceNumber"]
    elif breakage == "bad value":
        record["dynamodb"]["NewImage"]["size"] = {"N": "many"}
    else:
        del record["dynamodb"]["NewImage"][breakage]
    with pytest.raises(MalformedChange):
        events_of(record)


def test_the_same_change_read_again_or_from_another_stream_has_the_same_id() -> None:
    old, new = upload_image(upload()), upload_image(upload(status="complete", updated_at=NOW + 1))
    first = events_of(stream_record("MODIFY", old=old, new=new))
    again = events_of(stream_record("MODIFY", old=old, new=new, event_id="f" * 32, sequence_number="7" * 21))
    relabelled = stream_record("MODIFY", old=old, new=new)
    relabelled["eventSourceARN"] = relabelled["eventSourceARN"].replace(
        "2026-01-01T00:00:00.000", "2027-02-02T00:00:00.000"
    )
    assert [e.id for e in first] == [e.id for e in again] == [e.id for e in events_of(relabelled)]
    other_table = stream_record("MODIFY", old=old, new=new, arn=SHARES_ARN.replace("SharesTable", "Other"))
    assert [e.id for e in events_of(other_table)] != [e.id for e in first]


# -- the property: events are exactly the transitions ------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_events_are_exactly_the_status_transitions(ops: list[tuple[str, int, str]]) -> None:
    table = Table()
    for op, i, target in ops:
        table.apply(op, i, target)
    events = [event for record in table.records for event in events_of(record)]
    assert [(e.subject, e.type) for e in events] == table.expected
    assert len({e.id for e in events}) == len(events), "an id named two events"
    last: dict[str, tuple[int, str]] = {}
    change_of: dict[str, int] = defaultdict(int)
    for index, record in enumerate(table.records):
        for event in events_of(record):
            previous = last.get(event.subject)
            if previous is not None:
                # Events of one change share a sequence number; a later change has a larger one.
                same_change = change_of[event.subject] == index
                assert event.sequence == previous[0] if same_change else event.sequence > previous[0], (
                    event.subject,
                    previous,
                    event.sequence,
                )
            last[event.subject] = (event.sequence, event.type)
            change_of[event.subject] = index
