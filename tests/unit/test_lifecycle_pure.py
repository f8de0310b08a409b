"""The lifecycle's pure parts: ids, cursors, the HEAD comparison, the record's transitions."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presign.errors import InvalidCursor
from presign.uploads.ids import MonotonicIds, created_ms, is_upload_id, new_upload_id
from presign.uploads.records import TransitionError, UploadRecord
from presign.uploads.service import decode_cursor, encode_cursor
from presign.uploads.verification import ObjectFacts, differences

T0 = datetime(2030, 1, 1, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=2**40).map(lambda ms: T0 + timedelta(milliseconds=ms))


@given(a=moments, b=moments, ra=st.binary(min_size=10, max_size=10), rb=st.binary(min_size=10, max_size=10))
def test_ids_sort_by_their_millisecond(a: datetime, b: datetime, ra: bytes, rb: bytes) -> None:
    first, second = new_upload_id(a, lambda n: ra), new_upload_id(b, lambda n: rb)
    assert is_upload_id(first) and is_upload_id(second)
    assert created_ms(first) == int(a.timestamp() * 1000)
    if created_ms(first) < created_ms(second):
        assert first < second


def test_ids_from_one_container_increase_within_a_millisecond() -> None:
    ids = MonotonicIds(os.urandom)
    made = [ids(T0) for _ in range(1000)]
    assert made == sorted(made) and len(set(made)) == 1000
    assert {created_ms(i) for i in made} == {int(T0.timestamp() * 1000)}


def test_an_id_is_26_unambiguous_characters() -> None:
    upload_id = new_upload_id(T0, os.urandom)
    assert len(upload_id) == 26 and not set(upload_id) & set("ilou")
    assert not is_upload_id(upload_id.upper()) and not is_upload_id(upload_id[:-1])


def test_a_cursor_round_trips_for_its_owner_and_filter_only() -> None:
    upload_id = new_upload_id(T0, os.urandom)
    cursor = encode_cursor("owner-a", "pending", upload_id)

    assert decode_cursor(cursor, "owner-a", "pending") == upload_id
    for owner, status in (("owner-b", "pending"), ("owner-a", None), ("owner-a", "complete")):
        with pytest.raises(InvalidCursor):
            decode_cursor(cursor, owner, status)


@pytest.mark.parametrize("cursor", ["", "!!!", "a" * 200, "bm8", encode_cursor("owner-a", None, "not-an-id")])
def test_malformed_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, "owner-a", None)


RECORD = UploadRecord(
    owner="o",
    upload_id="01k0b7m3q8r9s4t5v6w7x8y9za",
    target="main",
    key="users/a/k",
    method="PUT",
    size=10,
    content_type="text/plain; charset=utf-8",
    status="pending",
    created_at=1,
    expires_at=2,
    updated_at=1,
    metadata={"album": "x"},
    checksum_sha256="q" * 43 + "=",
)
MATCH = ObjectFacts(
    size=10,
    content_type="text/plain;charset=UTF-8",
    etag='"e"',
    metadata={"album": "x"},
    checksum_sha256="q" * 43 + "=",
)


def test_a_matching_object_has_no_differences() -> None:
    assert differences(RECORD, MATCH) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"size": 11}, "size"),
        ({"content_type": "text/html"}, "content_type"),
        ({"content_type": None}, "content_type"),
        ({"metadata": {}}, "metadata"),
        ({"metadata": {"album": "y"}}, "metadata"),
        ({"metadata": {"album": "x", "extra": "1"}}, "metadata"),
        ({"checksum_sha256": None}, "checksum_sha256"),
        ({"checksum_sha256": "r" * 43 + "="}, "checksum_sha256"),
    ],
)
def test_each_difference_is_named(changes: dict[str, object], field: str) -> None:
    import dataclasses

    found = differences(RECORD, dataclasses.replace(MATCH, **changes))  # type: ignore[arg-type]
    assert [line.split(":")[0] for line in found] == [field], found


def test_a_record_moves_only_along_the_state_machine() -> None:
    done = RECORD.moved("complete", now=5, etag='"e"', completed_at=5)
    assert (done.status, done.updated_at, done.etag) == ("complete", 5, '"e"')
    assert done.moved("deleted", now=6).status == "deleted"
    with pytest.raises(TransitionError):
        done.moved("aborted", now=6)
    with pytest.raises(TransitionError):
        RECORD.moved("deleted", now=6)
