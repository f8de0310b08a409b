"""GCRA's guarantees, checked on random arrival sequences with an injected clock.

The bound under test (``presign.config.ratelimit``): a ``Limit(rate, period, burst)`` admits at
most ``burst + rate`` units in any closed window ``[t, t + period]`` (``burst + rate - 1`` in a
half-open one), and in general, for a closed window of ``W`` picoseconds, ``N`` units with
``(N - burst) * period <= W * rate``. The same properties are checked through the
``RateLimiter`` and its two-mode conditional writes, against an in-memory store with the
DynamoDB condition semantics, with several "containers" (limiters with their own caches).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presign.config.ratelimit import Limit, RateLimitSettings
from presign.errors import DependencyUnavailable, InvalidRequest, PayloadTooLarge, RateLimited
from presign.ratelimit.gcra import PICOS_PER_SECOND, Gcra
from presign.ratelimit.limiter import Decision, RateLimiter, item_key, lane_attribute
from presign.ratelimit.store import LaneWrite, WriteOutcome
from tests.support.ratelimit import START, US, Events, FakeClock

limits = st.builds(
    lambda rate, period, burst: Gcra.of(rate=rate, period_seconds=period, burst=burst),
    rate=st.integers(1, 30),
    period=st.integers(1, 10),
    burst=st.integers(1, 12),
)


def arrivals(period: int, rate: int, burst: int) -> st.SearchStrategy[list[tuple[int, int]]]:
    """(gap before the request in ps, cost): bursts, paced and jittered traffic, long pauses."""
    interval = period // rate
    gaps = st.one_of(
        st.just(0),
        st.integers(0, 3),
        st.integers(max(0, interval - 2), interval + 2),
        st.integers(0, interval),
        st.integers(0, 2 * period),
    )
    return st.lists(st.tuples(gaps, st.integers(1, burst)), min_size=1, max_size=120)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Gcra, list[tuple[int, int]]]:
    gcra = draw(limits)
    return gcra, draw(arrivals(gcra.period, gcra.rate, gcra.burst))


def admitted_units(gcra: Gcra, sequence: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Run the reference GCRA over the sequence; (time, cost) of every admitted request."""
    tat: int | None = None
    now = START
    admitted = []
    for gap, cost in sequence:
        now += gap
        ok, new_tat = gcra.decide(tat, now, cost)
        if ok:
            admitted.append((now, cost))
            assert new_tat is not None and (tat is None or new_tat > tat)  # the tat only grows
        else:
            assert new_tat == tat  # a refusal spends nothing
        tat = new_tat
    return admitted


def units_in(admitted: Sequence[tuple[int, int]], start: int, end: int, *, closed: bool = True) -> int:
    return sum(c for t, c in admitted if start <= t and (t <= end if closed else t < end))


def assert_bound(admitted: Sequence[tuple[int, int]], rate: int, period: int, burst: int) -> None:
    # The busiest window starts at an admission, so checking those windows checks them all.
    for start, _ in admitted:
        closed = units_in(admitted, start, start + period)
        half_open = units_in(admitted, start, start + period, closed=False)
        assert closed <= burst + rate, (closed, burst, rate)
        assert half_open <= burst + rate - 1, (half_open, burst, rate)


# -- the pure algorithm


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_no_window_of_one_period_admits_more_than_burst_plus_rate(
    scenario: tuple[Gcra, list[tuple[int, int]]],
) -> None:
    # Given a limit and any arrival sequence
    gcra, sequence = scenario
    # When the reference GCRA decides every request
    admitted = admitted_units(gcra, sequence)
    # Then no window of one period holds more than burst + rate admitted units
    assert_bound(admitted, gcra.rate, gcra.period, gcra.burst)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.integers(0, 20 * PICOS_PER_SECOND))
def test_any_window_admits_at_most_burst_plus_its_share_of_the_rate(
    scenario: tuple[Gcra, list[tuple[int, int]]], window: int
) -> None:
    gcra, sequence = scenario
    admitted = admitted_units(gcra, sequence)
    for start, _ in admitted:
        n = units_in(admitted, start, start + window)
        assert (n - gcra.burst) * gcra.period <= window * gcra.rate


@settings(max_examples=200, deadline=None)
@given(
    limits,
    st.integers(0, 5 * US),
    st.integers(1, 200),
    st.sampled_from([0, 1, 3, 7]),
)
def test_a_steady_client_at_or_under_the_rate_is_never_refused(
    gcra: Gcra, slack: int, count: int, phase: int
) -> None:
    # Given requests spaced at least one emission interval apart (on an integer clock)
    gap = -(-gcra.period // gcra.rate) + slack
    tat: int | None = None
    now = START + phase
    for _ in range(count):
        # When each arrives
        ok, tat = gcra.decide(tat, now, 1)
        # Then it is admitted
        assert ok
        now += gap


def test_a_fixed_window_boundary_burst_is_bounded() -> None:
    # Given 10 per minute, burst 10: a fixed window would admit 10 at 59.999 s and 10 more at 60 s
    gcra = Gcra.of(rate=10, period_seconds=60, burst=10)
    tat: int | None = None
    admitted = []
    for moment in (START + 59_999 * 10**9, START + 60 * PICOS_PER_SECOND):
        for _ in range(20):
            ok, tat = gcra.decide(tat, moment, 1)
            if ok:
                admitted.append((moment, 1))
    # Then the two instants together get the burst, not twice the limit
    assert sum(c for _, c in admitted) == 10
    # And a whole minute from the first instant gets at most burst + rate
    for step in range(1, 61):
        ok, tat = gcra.decide(tat, START + 59_999 * 10**9 + step * PICOS_PER_SECOND, 1)
        if ok:
            admitted.append((START + 59_999 * 10**9 + step * PICOS_PER_SECOND, 1))
    assert units_in(admitted, START + 59_999 * 10**9, START + 119_999 * 10**9) == 20


@settings(max_examples=200, deadline=None)
@given(limits, st.data())
def test_cost_spends_that_many_units_or_nothing(gcra: Gcra, data: st.DataObject) -> None:
    now = START
    tat: int | None = None
    # Given a bucket partly spent
    spent = data.draw(st.integers(0, gcra.burst))
    if spent:
        ok, tat = gcra.decide(tat, now, spent)
        assert ok
    remaining = gcra.remaining(tat, now)
    assert remaining == gcra.burst - spent
    cost = data.draw(st.integers(1, gcra.burst))
    # When a request of `cost` units arrives at the same instant
    ok, new_tat = gcra.decide(tat, now, cost)
    # Then it is admitted exactly when that many units remain, and spends exactly that many
    assert ok == (cost <= remaining)
    if ok:
        assert gcra.remaining(new_tat, now) == remaining - cost
    else:
        assert new_tat == tat
        assert gcra.retry_after(tat, now, cost) >= 1


def test_a_cost_above_the_burst_never_fits() -> None:
    gcra = Gcra.of(rate=100, period_seconds=1, burst=5)
    assert not gcra.fits(6)
    assert gcra.decide(None, START, 6) == (False, None)


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.integers(1, 12))
def test_retry_after_is_honest_and_whole_seconds(
    scenario: tuple[Gcra, list[tuple[int, int]]], cost: int
) -> None:
    gcra, sequence = scenario
    cost = min(cost, gcra.burst)
    tat: int | None = None
    now = START
    for gap, c in sequence:
        now += gap
        _, tat = gcra.decide(tat, now, c)
    if gcra.admits(tat, now, cost):
        return
    wait = gcra.retry_after(tat, now, cost)
    assert wait >= 1
    # Retrying after `wait` seconds succeeds; a second earlier would not have (when wait > 1).
    assert gcra.admits(tat, now + wait * PICOS_PER_SECOND, cost)
    if wait > 1:
        assert not gcra.admits(tat, now + (wait - 1) * PICOS_PER_SECOND, cost)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_remaining_is_the_largest_cost_admitted_now(scenario: tuple[Gcra, list[tuple[int, int]]]) -> None:
    gcra, sequence = scenario
    tat: int | None = None
    now = START
    for gap, c in sequence:
        now += gap
        _, tat = gcra.decide(tat, now, c)
    remaining = gcra.remaining(tat, now)
    assert 0 <= remaining <= gcra.burst
    if remaining:
        assert gcra.admits(tat, now, remaining)
    if remaining < gcra.burst:
        assert not gcra.admits(tat, now, remaining + 1)
    assert gcra.reset_after(tat, now) == (
        0 if tat is None or tat <= now else -(-(tat - now) // PICOS_PER_SECOND)
    )


def test_the_interval_is_rounded_up_so_rounding_only_ever_makes_it_stricter() -> None:
    gcra = Gcra.of(rate=3, period_seconds=1, burst=2)
    assert gcra.interval == 333_333_333_334 and gcra.interval * 3 >= gcra.period
    # Both units of the burst are there at once, in spite of the rounding
    ok, tat = gcra.decide(None, START, 1)
    assert ok and gcra.remaining(tat, START) == 1 and gcra.decide(tat, START, 1)[0]


# -- the same guarantees through the RateLimiter and its conditional writes


@dataclass
class MemoryStore:
    """The DynamoDB conditions of ``presign.ratelimit.store``, evaluated in memory."""

    items: dict[str, dict[str, int | str]] = field(default_factory=dict)
    writes: int = 0
    fail: bool = False

    def write(
        self, key: str, lanes: Sequence[LaneWrite], *, now: int, request_id: str, expires_at: int
    ) -> WriteOutcome:
        self.writes += 1
        if self.fail:
            error = DependencyUnavailable("down")
            error.details["reason"] = "Throttled"
            raise error
        item = self.items.get(key, {})
        ok = item.get("rid") != request_id
        for lane in lanes:
            tat = item.get(lane.attribute)
            assert tat is None or isinstance(tat, int)
            if lane.mode == "start":
                ok = ok and (tat is None or tat <= now)
            else:
                ok = ok and tat is not None and now < tat <= lane.ceiling
        if not ok:
            rid = item.get("rid")
            return WriteOutcome(False, self._tats(item, lanes), rid if isinstance(rid, str) else None)
        new = dict(item)
        for lane in lanes:
            tat = item.get(lane.attribute)
            base = now if lane.mode == "start" or not isinstance(tat, int) else tat
            new[lane.attribute] = base + lane.increment
        new["rid"], new["ttl"] = request_id, expires_at
        self.items[key] = new
        return WriteOutcome(True, self._tats(new, lanes), request_id)

    @staticmethod
    def _tats(item: Mapping[str, int | str], lanes: Sequence[LaneWrite]) -> dict[str, int]:
        return {lane.attribute: v for lane in lanes if isinstance(v := item.get(lane.attribute), int)}


def limiter_settings(limit: Limit, **extra: object) -> RateLimitSettings:
    return RateLimitSettings.model_validate({"actions": {"download": limit.model_dump()}, **extra})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rate=st.integers(1, 20),
    period=st.integers(1, 5),
    burst=st.integers(1, 10),
    data=st.data(),
)
def test_the_limiter_keeps_the_bound_across_containers(
    rate: int, period: int, burst: int, data: st.DataObject
) -> None:
    # Given three containers sharing one store, each with its own cache of tats
    limit = Limit(rate=rate, period=period, burst=burst)
    store, clock = MemoryStore(), FakeClock()
    containers = [RateLimiter(limiter_settings(limit), store, clock=clock) for _ in range(3)]
    period_ps = period * PICOS_PER_SECOND
    sequence = data.draw(
        st.lists(
            st.tuples(
                st.one_of(st.just(0), st.integers(0, period_ps // rate), st.integers(0, 2 * period_ps)),
                st.integers(1, burst),
                st.integers(0, 2),
            ),
            min_size=1,
            max_size=60,
        )
    )
    admitted: list[tuple[int, int]] = []
    for gap, cost, which in sequence:
        # Microseconds: what a datetime clock can express
        clock.ps += gap // US * US
        writes = store.writes
        # When each request goes to one of the containers
        try:
            decision = containers[which].acquire(subject="alice", action="download", target="main", cost=cost)
        except RateLimited as refused:
            assert refused.retry_after >= 1
            assert store.writes - writes <= 2
            continue
        # Then it costs at most two writes, and the decision is consistent
        assert store.writes - writes in (1, 2)
        assert 0 <= decision.remaining <= burst
        admitted.append((clock.ps, cost))
    # And no window of one period admits more than burst + rate
    reference = Gcra.of(rate=rate, period_seconds=period, burst=burst)
    assert_bound(admitted, reference.rate, reference.period, reference.burst)


@settings(max_examples=60, deadline=None)
@given(rate=st.integers(1, 20), period=st.integers(1, 5), burst=st.integers(1, 10), count=st.integers(1, 60))
def test_the_limiter_never_refuses_a_steady_client(rate: int, period: int, burst: int, count: int) -> None:
    store, clock = MemoryStore(), FakeClock()
    limiter = RateLimiter(limiter_settings(Limit(rate=rate, period=period, burst=burst)), store, clock=clock)
    gap_us = -(-period * 1_000_000 // rate)
    for _ in range(count):
        limiter.acquire(subject="alice", action="download", target="main")
        clock.ps += gap_us * US
    assert store.writes == count  # an idle lane each time: one write per request


def test_headers_count_down_and_a_refusal_carries_them() -> None:
    # Given 3 at once, 1 per minute
    clock = FakeClock()
    limiter = RateLimiter(limiter_settings(Limit(rate=1, period=60, burst=3)), MemoryStore(), clock=clock)
    # When the caller spends it all
    seen = [limiter.acquire(subject="a", action="download", target="main").headers() for _ in range(3)]
    # Then each answer says what is left and when the bucket is full again
    assert [h["RateLimit-Remaining"] for h in seen] == ["2", "1", "0"]
    assert [h["RateLimit-Reset"] for h in seen] == ["60", "120", "180"]
    assert {h["RateLimit-Limit"] for h in seen} == {"3"}
    with pytest.raises(RateLimited) as refused:
        limiter.acquire(subject="a", action="download", target="main")
    assert refused.value.retry_after == 60
    assert refused.value.headers == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "180",
    }
    # And a minute later one unit is back
    clock.ps += 60 * PICOS_PER_SECOND
    assert limiter.acquire(subject="a", action="download", target="main").remaining == 0


def test_cost_is_counted_per_unit_and_a_batch_above_the_burst_is_invalid() -> None:
    limiter = RateLimiter(
        limiter_settings(Limit(rate=100, period=60, burst=100)), MemoryStore(), clock=FakeClock()
    )
    assert limiter.acquire(subject="a", action="download", target="main", cost=40).remaining == 60
    with pytest.raises(RateLimited):
        limiter.acquire(subject="a", action="download", target="main", cost=61)
    assert limiter.acquire(subject="a", action="download", target="main", cost=60).remaining == 0
    with pytest.raises(InvalidRequest) as too_big:
        limiter.acquire(subject="b", action="download", target="main", cost=101)
    assert too_big.value.details == {"cost": 101, "max_cost": 100}
    with pytest.raises(ValueError, match="cost"):
        limiter.acquire(subject="a", action="download", target="main", cost=0)
    with pytest.raises(ValueError, match="action"):
        limiter.acquire(subject="a", action="delete", target="main")


def test_a_known_exhausted_budget_is_refused_without_a_write() -> None:
    store, events = MemoryStore(), Events()
    limiter = RateLimiter(
        limiter_settings(Limit(rate=1, period=60, burst=1)), store, clock=FakeClock(), on_event=events
    )

    # Given a budget spent through another container
    RateLimiter(limiter_settings(Limit(rate=1, period=60, burst=1)), store, clock=FakeClock()).acquire(
        subject="a", action="download", target="main"
    )
    writes = store.writes
    # When this container is asked five times
    for _ in range(5):
        with pytest.raises(RateLimited):
            limiter.acquire(subject="a", action="download", target="main")
    # Then the first refusal learns the tat from the failed write, and the rest cost nothing
    assert store.writes == writes + 1
    assert [dims["source"] for name, dims in events.seen if name == "RateLimitRefused"] == ["store"] + [
        "cache"
    ] * 4


def test_a_busy_lane_costs_two_writes_cold_and_one_warm() -> None:
    store, clock = MemoryStore(), FakeClock()
    settings_ = limiter_settings(Limit(rate=10, period=1, burst=10))
    RateLimiter(settings_, store, clock=clock).acquire(subject="a", action="download", target="main")
    cold, warm = RateLimiter(settings_, store, clock=clock), RateLimiter(settings_, store, clock=clock)
    warm.acquire(subject="a", action="download", target="main")
    writes = store.writes
    cold.acquire(subject="a", action="download", target="main")
    assert store.writes - writes == 2
    writes = store.writes
    warm.acquire(subject="a", action="download", target="main")
    assert store.writes - writes == 1


def test_an_upload_spends_its_unit_and_its_bytes_in_one_write_or_neither() -> None:
    store, clock = MemoryStore(), FakeClock()
    limiter = RateLimiter(
        RateLimitSettings.model_validate(
            {"actions": {"upload": {"rate": 10, "period": 1, "burst": 10}}, "upload_bytes_per_day": 1000}
        ),
        store,
        clock=clock,
    )
    assert store.writes == 0
    limiter.acquire_upload(subject="a", target="main", nbytes=600)
    assert store.writes == 1
    with pytest.raises(RateLimited) as refused:
        limiter.acquire_upload(subject="a", target="main", nbytes=500)
    # 100 bytes over, replenished at 1000 bytes a day: 8640 s
    assert refused.value.retry_after == 8640
    assert refused.value.headers["RateLimit-Limit"] == "1000"
    item = store.items[item_key("upload", "a")]
    assert item[lane_attribute("main")] == START + PICOS_PER_SECOND // 10  # one unit, not two
    decision = limiter.acquire_upload(subject="a", target="main", nbytes=400)
    # The byte quota is nearer exhaustion (0 of 1000 left) than the request budget (8 of 10)
    assert decision.headers()["RateLimit-Remaining"] == "0" and decision.limit == 1000
    with pytest.raises(PayloadTooLarge):
        limiter.acquire_upload(subject="b", target="main", nbytes=1001)


def test_no_quota_means_no_bytes_lane() -> None:
    limiter = RateLimiter(RateLimitSettings(), MemoryStore(), clock=FakeClock())
    assert limiter.acquire_bytes(subject="a", target="main", nbytes=10**12).headers() == {}
    assert limiter.acquire_upload(subject="a", target="main", nbytes=10**12).limit == 10


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_an_unavailable_store_fails_as_configured_and_says_so(mode: str) -> None:
    events = Events()
    limiter = RateLimiter(
        RateLimitSettings.model_validate({"failure_mode": mode, "unavailable_retry_after": 5}),
        MemoryStore(fail=True),
        clock=FakeClock(),
        on_event=events,
    )
    if mode == "closed":
        with pytest.raises(DependencyUnavailable) as down:
            limiter.acquire(subject="a", action="upload", target="main")
        assert down.value.retry_after == 5
    else:
        decision = limiter.acquire(subject="a", action="upload", target="main")
        assert decision.fail_open and decision.headers() == {}
    assert events.seen == [
        (
            "RateLimitUnavailable",
            {"action": "upload", "target": "main", "failure_mode": mode, "reason": "Throttled"},
        )
    ]


def test_a_broken_metrics_callback_changes_nothing() -> None:
    def explode(name: str, /, **dims: str) -> None:
        raise RuntimeError("metrics down")

    limiter = RateLimiter(
        limiter_settings(Limit(rate=1, period=60, burst=1)),
        MemoryStore(),
        clock=FakeClock(),
        on_event=explode,
    )
    limiter.acquire(subject="a", action="download", target="main")
    with pytest.raises(RateLimited):
        limiter.acquire(subject="a", action="download", target="main")


def test_per_target_overrides_and_defaults() -> None:
    rl = RateLimitSettings.model_validate(
        {"per_target": {"archive": {"download": {"rate": 1, "period": 3600, "burst": 1}}}}
    )
    assert rl.limit_for("download", "archive") == Limit(rate=1, period=3600, burst=1)
    assert rl.limit_for("download", "main") == rl.actions.download
    assert rl.failure_mode == "closed"
    with pytest.raises(ValueError, match="extra"):
        RateLimitSettings.model_validate(
            {"actions": {"upload": {"rate": 1, "period": 1, "burst": 1, "x": 1}}}
        )
    with pytest.raises(ValueError, match="burst"):
        RateLimitSettings.model_validate({"actions": {"upload": {"rate": 1, "period": 1, "burst": 0}}})


def test_a_decision_renders_its_headers() -> None:
    assert Decision(limit=10, remaining=3, reset_after=7).headers() == {
        "RateLimit-Limit": "10",
        "RateLimit-Remaining": "3",
        "RateLimit-Reset": "7",
    }


def test_a_refusal_reports_the_limit_that_refused() -> None:
    limiter = RateLimiter(
        RateLimitSettings.model_validate(
            {"actions": {"upload": {"rate": 1, "period": 60, "burst": 1}}, "upload_bytes_per_day": 1000}
        ),
        MemoryStore(),
        clock=FakeClock(),
    )
    limiter.acquire_upload(subject="a", target="main", nbytes=10)
    with pytest.raises(RateLimited) as refused:
        limiter.acquire_upload(subject="a", target="main", nbytes=10)
    assert refused.value.retry_after == 60
    assert refused.value.headers == {
        "RateLimit-Limit": "1",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "60",
    }


def test_a_store_that_contradicts_itself_cannot_make_the_limiter_spin() -> None:
    class Contradicting(MemoryStore):
        def write(
            self, key: str, lanes: Sequence[LaneWrite], *, now: int, request_id: str, expires_at: int
        ) -> WriteOutcome:
            self.writes += 1
            return WriteOutcome(False, {}, None)  # "refused", yet every lane looks idle

    store, events = Contradicting(), Events()
    limiter = RateLimiter(RateLimitSettings(), store, clock=FakeClock(), on_event=events)
    with pytest.raises(RateLimited) as refused:
        limiter.acquire(subject="a", action="upload", target="main")
    assert refused.value.retry_after == 1
    assert store.writes == 1 and events.names() == ["RateLimitContention"]
