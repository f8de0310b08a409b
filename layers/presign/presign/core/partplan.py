"""The part plan: how a file of ``size`` bytes is cut into parts. The server's, never the client's.

The rules it keeps, whatever the size from 0 to S3's 5 TiB (``tests/unit/test_multipart_plan.py``
checks each of them over random sizes):

* at most 10,000 parts (S3's limit on part numbers);
* every part has the plan's ``part_size`` except the last, which is no larger: S3 refuses parts
  under 5 MiB unless they are last, and Cloudflare R2 refuses a multipart upload whose parts
  differ in size, other than a smaller last one;
* ``part_size`` is a whole number of MiB, at least 5 MiB (and at least the target's preferred
  size), at most 5 GiB;
* the sizes add up to exactly ``size``. A file of 0 bytes is one empty part (the only part may be
  smaller than 5 MiB); the service refuses multipart for it anyway.

The part size is the smallest whole MiB that fits in 10,000 parts, or the target's preferred size
if that is larger: fewer, larger parts cost fewer requests, smaller ones lose less on a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from presign.limits import MAX_OBJECT_BYTES, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, MiB


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True, slots=True)
class PartPlan:
    size: int
    part_size: int
    part_count: int

    @property
    def last_size(self) -> int:
        return self.size - self.part_size * (self.part_count - 1)

    def has(self, part_number: int) -> bool:
        return 1 <= part_number <= self.part_count

    def size_of(self, part_number: int) -> int:
        """The exact size of part ``part_number`` (1-based); ValueError outside the plan."""
        if not self.has(part_number):
            raise ValueError(f"part {part_number} is not in a plan of {self.part_count} parts")
        return self.last_size if part_number == self.part_count else self.part_size

    def sizes(self) -> Iterator[int]:
        for number in range(1, self.part_count + 1):
            yield self.size_of(number)


def plan_parts(size: int, *, preferred_part_size: int = MIN_PART_SIZE) -> PartPlan:
    """The plan for ``size`` bytes; ``preferred_part_size`` is a whole MiB from 5 MiB to 5 GiB."""
    if type(size) is not int or not 0 <= size <= MAX_OBJECT_BYTES:
        raise ValueError(f"size must be an int in 0..{MAX_OBJECT_BYTES}, got {size!r}")
    if preferred_part_size % MiB or not MIN_PART_SIZE <= preferred_part_size <= MAX_PART_SIZE:
        raise ValueError("preferred_part_size must be a whole number of MiB from 5 MiB to 5 GiB")
    needed = _ceil_div(_ceil_div(size, MAX_PARTS), MiB) * MiB
    part_size = max(preferred_part_size, needed)
    return PartPlan(size=size, part_size=part_size, part_count=max(1, _ceil_div(size, part_size)))
