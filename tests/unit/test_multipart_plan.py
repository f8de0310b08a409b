"""The part plan against S3's limits (and R2's equal-parts rule), over every size up to 5 TiB."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from presign.core.partplan import plan_parts
from presign.limits import MAX_OBJECT_BYTES, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, MiB

sizes = st.one_of(
    st.integers(0, MAX_OBJECT_BYTES),
    st.integers(0, 64 * MiB),  # the small end, where one part or a few are the whole file
    # around the boundaries where the part size must grow past the preferred one
    st.integers(-4096, 4096).map(lambda d: max(0, min(MAX_OBJECT_BYTES, MAX_PARTS * MIN_PART_SIZE + d))),
    st.integers(-4096, 0).map(lambda d: MAX_OBJECT_BYTES + d),
)
preferred = st.integers(5, 128).map(lambda n: n * MiB)


@settings(max_examples=2000, deadline=None)
@given(size=sizes, preferred_part_size=preferred)
@example(size=0, preferred_part_size=MIN_PART_SIZE)
@example(size=1, preferred_part_size=MIN_PART_SIZE)
@example(size=MIN_PART_SIZE, preferred_part_size=MIN_PART_SIZE)
@example(size=MIN_PART_SIZE + 1, preferred_part_size=MIN_PART_SIZE)
@example(size=MAX_PARTS * MIN_PART_SIZE, preferred_part_size=MIN_PART_SIZE)
@example(size=MAX_PARTS * MIN_PART_SIZE + 1, preferred_part_size=MIN_PART_SIZE)
@example(size=MAX_OBJECT_BYTES, preferred_part_size=MIN_PART_SIZE)
def test_a_plan_keeps_every_rule(size: int, preferred_part_size: int) -> None:
    # Given a size / When it is planned
    plan = plan_parts(size, preferred_part_size=preferred_part_size)
    parts = list(plan.sizes())

    # Then: at most 10,000 parts, one at least
    assert 1 <= plan.part_count <= MAX_PARTS, plan
    assert len(parts) == plan.part_count
    # all equal but the last, and the last not larger
    assert set(parts[:-1]) <= {plan.part_size}, plan
    assert parts[-1] <= plan.part_size, plan
    # the sum exactly the size
    assert sum(parts) == size, (plan, sum(parts))
    # every part at least 5 MiB except the last; a whole MiB, at most 5 GiB
    assert all(p >= MIN_PART_SIZE for p in parts[:-1]), plan
    assert plan.part_size % MiB == 0 and MIN_PART_SIZE <= plan.part_size <= MAX_PART_SIZE, plan
    assert plan.part_size >= preferred_part_size
    # and no part is empty unless the file is
    assert parts[-1] > 0 or size == 0, plan


def test_the_part_size_is_the_smallest_whole_mib_that_fits() -> None:
    # 5 TiB in 10,000 parts needs 524.288 MiB each: 525 MiB
    plan = plan_parts(MAX_OBJECT_BYTES)
    assert (plan.part_size, plan.part_count) == (525 * MiB, 9987), plan
    assert plan_parts(MAX_OBJECT_BYTES, preferred_part_size=16 * MiB).part_size == 525 * MiB
    assert plan_parts(100 * MiB, preferred_part_size=16 * MiB).part_count == 7


def test_size_of_refuses_numbers_outside_the_plan() -> None:
    plan = plan_parts(11 * MiB)
    assert [plan.size_of(n) for n in (1, 2, 3)] == [5 * MiB, 5 * MiB, MiB]
    for number in (0, 4, -1):
        assert not plan.has(number)
        with pytest.raises(ValueError, match="not in a plan"):
            plan.size_of(number)


@pytest.mark.parametrize("size", [-1, MAX_OBJECT_BYTES + 1, 1.0, True])
def test_impossible_sizes_raise(size: object) -> None:
    with pytest.raises(ValueError, match="size"):
        plan_parts(size)  # type: ignore[arg-type]


@pytest.mark.parametrize("preferred_part_size", [4 * MiB, 5 * MiB + 1, MAX_PART_SIZE + MiB])
def test_impossible_preferred_part_sizes_raise(preferred_part_size: int) -> None:
    with pytest.raises(ValueError, match="preferred_part_size"):
        plan_parts(MiB, preferred_part_size=preferred_part_size)
