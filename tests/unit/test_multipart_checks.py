"""Which uploads go multipart, and completion's check of the stored parts (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from presign.config.target import UploadPolicy
from presign.core.partplan import plan_parts
from presign.errors import MultipartUnsupported, PartsMismatch, PartsMissing, UnknownPart, Unprocessable
from presign.limits import MiB
from presign.uploads.issue import goes_multipart
from presign.uploads.multipart.checks import ClaimedPart, StoredPart, normalize_etag, parts_to_complete
from presign.uploads.schemas import CreateUploadRequest

GiB = 1024**3
POLICY = UploadPolicy(max_size=5 * 1024**4, multipart={"threshold": 100 * MiB})


def request(**fields: Any) -> CreateUploadRequest:
    return CreateUploadRequest.model_validate(
        {"filename": "f.bin", "content_type": "video/mp4", "size": 1, **fields}
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"size": 100 * MiB}, False),  # at the threshold: one PUT
        ({"size": 100 * MiB + 1}, True),  # above it: in parts
        ({"size": 100 * MiB + 1, "multipart": False}, False),  # unless the client says otherwise
        ({"size": 10, "multipart": True}, True),  # asked for
        ({"size": 6 * GiB, "multipart": None}, True),  # above 5 GiB, always
        ({"size": 200 * MiB, "method": "POST"}, False),  # the threshold is for PUT uploads
    ],
)
def test_when_an_upload_goes_multipart(fields: dict[str, Any], expected: bool) -> None:
    assert goes_multipart(request(**fields), POLICY) is expected


@pytest.mark.parametrize(
    ("fields", "policy", "says"),
    [
        ({"size": 6 * GiB, "multipart": False}, POLICY, "at most 5 GiB"),
        ({"size": 6 * GiB, "method": "POST"}, POLICY, "POST form"),
        ({"multipart": True, "method": "POST"}, POLICY, "POST form"),
        ({"multipart": True}, UploadPolicy(multipart=False), "does not accept multipart"),
        (
            {"multipart": True, "checksum_sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
            POLICY,
            "whole-file",
        ),
        ({"multipart": True, "size": 0}, POLICY, "empty file"),
        ({"part_checksums": True}, POLICY, "part_checksums are for multipart"),
        (
            {"multipart": True, "part_checksums": True},
            UploadPolicy(multipart={"checksums": False}),
            "part checksums",
        ),
    ],
)
def test_multipart_that_cannot_be_is_refused_clearly(
    fields: dict[str, Any], policy: UploadPolicy, says: str
) -> None:
    with pytest.raises(MultipartUnsupported, match=says):
        goes_multipart(request(**fields), policy)


PLAN = plan_parts(11 * MiB)  # 5 MiB, 5 MiB, 1 MiB
STORED = [StoredPart(1, 5 * MiB, '"a"'), StoredPart(2, 5 * MiB, '"b"'), StoredPart(3, MiB, '"c"')]
CLAIMED = [ClaimedPart(1, "a"), ClaimedPart(2, ' "b" '), ClaimedPart(3, '"c"')]


def test_the_parts_to_complete_are_the_stored_ones_in_order() -> None:
    assert parts_to_complete(PLAN, list(reversed(STORED)), CLAIMED) == STORED
    assert parts_to_complete(PLAN, STORED, None) == STORED
    assert normalize_etag(' "x-3" ') == "x-3"


@pytest.mark.parametrize(
    ("stored", "claimed", "error", "message"),
    [
        (STORED, [*CLAIMED, ClaimedPart(1, "a")], UnknownPart, "more than once: 1"),
        (STORED, [*CLAIMED, ClaimedPart(4, "d")], UnknownPart, "the list names 4"),
        ([*STORED, StoredPart(4, 1, '"d"')], None, PartsMismatch, "outside the plan: 4"),
        (STORED[::2], CLAIMED, PartsMissing, "parts not uploaded yet: 2"),
        (STORED, CLAIMED[:2], UnknownPart, "leaves out 3"),
        (
            [STORED[0], StoredPart(2, 5 * MiB - 1, '"b"'), STORED[2]],
            None,
            PartsMismatch,
            "another size than planned",
        ),
        ([*STORED[:2], StoredPart(3, 2 * MiB, '"c"')], None, PartsMismatch, ": 3"),
        (
            STORED,
            [CLAIMED[0], ClaimedPart(2, "zz"), CLAIMED[2]],
            PartsMismatch,
            "ETags differ from the stored parts: 2",
        ),
    ],
)
def test_what_is_wrong_is_named(
    stored: list[StoredPart], claimed: list[ClaimedPart] | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        parts_to_complete(PLAN, stored, claimed)


def test_many_missing_parts_are_named_briefly() -> None:
    plan = plan_parts(100 * 5 * MiB)
    with pytest.raises(PartsMissing) as caught:
        parts_to_complete(plan, [], None)
    assert caught.value.message == "parts not uploaded yet: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 90 more"


def test_part_checksums_come_from_the_storage_or_the_client() -> None:
    digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    listed = [StoredPart(1, 5 * MiB, '"a"', digest), *STORED[1:]]
    sent = [CLAIMED[0], ClaimedPart(2, "b", digest), ClaimedPart(3, "c", digest)]
    verified = parts_to_complete(PLAN, listed, sent, checksums=True)
    assert [p.checksum_sha256 for p in verified] == [digest] * 3
    with pytest.raises(Unprocessable, match="none for 2, 3"):
        parts_to_complete(PLAN, listed, None, checksums=True)
    # an upload without part checksums never sends one to the storage
    assert all(p.checksum_sha256 is None for p in parts_to_complete(PLAN, listed, sent))
