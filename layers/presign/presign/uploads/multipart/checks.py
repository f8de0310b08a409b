"""Completion's check of a multipart upload: the parts the storage holds, the plan, the client's list.

Pure functions. ``parts_to_complete`` answers the list CompleteMultipartUpload gets (every part of
the plan, in order, with the ETag the storage reported), or raises what is wrong, in this order:

1. the client's list names a part twice or outside the plan: ``UnknownPart`` (422);
2. the storage holds a part outside the plan: ``PartsMismatch`` (422);
3. a part of the plan is not stored (yet): ``PartsMissing`` (409), naming it: the client may
   still be uploading it;
4. the client's list leaves a part of the plan out: ``UnknownPart`` (422);
5. a part's size is not the planned one: ``PartsMismatch`` (422). The part URLs sign their
   Content-Length, so only someone else's request can have stored it;
6. a part's ETag differs from the client's (quotes aside): ``PartsMismatch`` (422);
7. for an upload with part checksums, a part whose SHA-256 neither the storage lists nor the
   client sends: ``Unprocessable`` (422). CompleteMultipartUpload needs them (AWS lists them
   with the parts, SeaweedFS does not), and the service keeps none.

Without a client list (``claimed`` None) steps 1, 4 and 6 have nothing to check: the storage's
own list completes the upload if it matches the plan.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from presign.core.partplan import PartPlan
from presign.errors import PartsMismatch, PartsMissing, UnknownPart, Unprocessable

NAMED = 10  # how many part numbers a message names before it says "and N more"


@dataclass(frozen=True, slots=True)
class StoredPart:
    """One part as ListParts reports it."""

    part_number: int
    size: int
    etag: str
    checksum_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedPart:
    """One part as the client lists it for completion."""

    part_number: int
    etag: str
    checksum_sha256: str | None = None


def normalize_etag(etag: str) -> str:
    """An ETag without surrounding whitespace and quotes: browsers, SDKs and stores differ in both."""
    return etag.strip().strip('"')


def name_parts(numbers: Iterable[int]) -> str:
    found = sorted(numbers)
    named = ", ".join(str(n) for n in found[:NAMED])
    return named + (f" and {len(found) - NAMED} more" if len(found) > NAMED else "")


def parts_to_complete(
    plan: PartPlan,
    stored: Sequence[StoredPart],
    claimed: Sequence[ClaimedPart] | None,
    *,
    checksums: bool = False,
) -> list[StoredPart]:
    planned = range(1, plan.part_count + 1)
    if claimed is not None:
        numbers = [part.part_number for part in claimed]
        repeated = [n for n, times in Counter(numbers).items() if times > 1]
        if repeated:
            raise UnknownPart(f"the list names parts more than once: {name_parts(repeated)}")
        outside = [n for n in numbers if not plan.has(n)]
        if outside:
            raise UnknownPart(
                f"the plan has parts 1 to {plan.part_count}; the list names {name_parts(outside)}"
            )
    by_number = {part.part_number: part for part in stored}
    foreign = [n for n in by_number if not plan.has(n)]
    if foreign:
        raise PartsMismatch(f"the storage holds parts outside the plan: {name_parts(foreign)}")
    missing = [n for n in planned if n not in by_number]
    if missing:
        raise PartsMissing(f"parts not uploaded yet: {name_parts(missing)}")
    if claimed is not None and len(claimed) != plan.part_count:
        left_out = set(planned) - {part.part_number for part in claimed}
        raise UnknownPart(f"the list must name every part of the plan; it leaves out {name_parts(left_out)}")
    wrong_size = [n for n in planned if by_number[n].size != plan.size_of(n)]
    if wrong_size:
        raise PartsMismatch(
            f"parts of another size than planned ({plan.part_size} bytes, the last "
            f"{plan.last_size}): {name_parts(wrong_size)}"
        )
    if claimed is not None:
        differ = [
            part.part_number
            for part in claimed
            if normalize_etag(part.etag) != normalize_etag(by_number[part.part_number].etag)
        ]
        if differ:
            raise PartsMismatch(f"ETags differ from the stored parts: {name_parts(differ)}")
    verified = [by_number[n] for n in planned]
    if not checksums:
        return [dataclasses.replace(part, checksum_sha256=None) for part in verified]
    sent = {part.part_number: part.checksum_sha256 for part in claimed or ()}
    verified = [
        part
        if part.checksum_sha256
        else dataclasses.replace(part, checksum_sha256=sent.get(part.part_number))
        for part in verified
    ]
    unknown = [part.part_number for part in verified if not part.checksum_sha256]
    if unknown:
        raise Unprocessable(
            "this upload declared part checksums and the storage does not list them: complete with "
            f"parts [{{part_number, etag, checksum_sha256}}]; none for {name_parts(unknown)}"
        )
    return verified
