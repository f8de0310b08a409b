"""The capacity model's simulations (benchmarks/capacity): the conclusions docs/capacity.md draws.

Each assertion is one sentence of the document; if a change to the limiter or to the model moves
a number past what the document says, this fails and prints the row.
"""

from __future__ import annotations

import pytest

from benchmarks.capacity import limiter_item, model, s3_prefixes, share_counter, thresholds


@pytest.mark.parametrize(("max_downloads", "counters"), [(7, 3), (60_000, 4), (1, 8)])
def test_allotments_add_up_to_max_downloads(max_downloads: int, counters: int) -> None:
    parts = share_counter.allotments(max_downloads, counters)
    assert sum(parts) == max_downloads and max(parts) - min(parts) <= 1, parts


@pytest.mark.parametrize("counters", [1, 2, 4, 8])
def test_split_counters_hand_out_exactly_max_downloads(counters: int) -> None:
    run = share_counter.simulate(counters=counters, max_downloads=3_000, rate=2_000, seed=7)
    assert run.exact, share_counter.rows([run])
    assert run.refused == run.visits - run.granted


def test_four_counter_items_keep_a_2000_per_second_link_under_a_partitions_writes() -> None:
    one, four = share_counter.simulate(counters=1), share_counter.simulate(counters=4)
    assert one.seconds_over_limit > 0, share_counter.rows([one])
    assert four.seconds_over_limit == 0 and four.writes_per_grant < 1.02, share_counter.rows([four])


def test_stale_caches_in_many_containers_never_admit_more_than_the_limit() -> None:
    runs = limiter_item.run()
    assert all(r.admitted <= r.bound for r in runs), [r.row() for r in runs]


def test_a_flood_from_many_containers_costs_about_one_write_per_request() -> None:
    few = limiter_item.simulate("few", rate=2_000, containers=10)
    many = limiter_item.simulate("many", rate=2_000, containers=1_000)
    assert few.writes / few.requests < 0.3, few.row()
    assert many.writes / many.requests > 0.9 and many.peak_item_writes_s > 1_000, many.row()


def test_the_sub_first_layout_keeps_s3_splits_across_days_and_date_first_does_not() -> None:
    ours, date_first = s3_prefixes.run()
    assert not ours.row()["over_3500_next_day"], ours.row()
    assert date_first.row()["over_3500_next_day"], date_first.row()
    assert ours.hottest_user_s <= 101


def test_items_on_the_hot_paths_fit_one_write_unit() -> None:
    sizes = model.typical_items()
    assert all(size <= 1024 for size in sizes.values()), sizes


def test_the_route_throttle_then_the_ssm_read_are_the_first_limits_met() -> None:
    first = [t.part for t in thresholds.thresholds()[:2]]
    assert first == ["route throttle (template default)", "SSM config read at a deploy"], first
