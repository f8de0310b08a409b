"""The retry schedule, Retry-After, 410, endpoint disabling and the SQS arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presign.webhooks.schedule import (
    DEFAULT_WAITS,
    MAX_DELAY_SECONDS,
    MAX_VISIBILITY_SECONDS,
    Decision,
    Disabled,
    EndpointHealth,
    RetrySchedule,
    Verdict,
    delay_seconds,
    parse_retry_after,
    visibility_timeout,
)

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule()


def low() -> float:
    return 0.0


def high() -> float:
    return 0.999999


def test_the_default_schedule_retries_for_more_than_a_day_with_growing_waits() -> None:
    assert SCHEDULE.waits == DEFAULT_WAITS
    assert SCHEDULE.attempts == 12
    assert SCHEDULE.minimum_span == 114_155 >= 24 * 3600, SCHEDULE.minimum_span
    assert list(SCHEDULE.waits) == sorted(SCHEDULE.waits), "backoff never shrinks"
    assert SCHEDULE.nominal_offsets()[:4] == (0, 5, 35, 155)
    assert SCHEDULE.nominal_offsets()[-1] == SCHEDULE.minimum_span


@given(attempt=st.integers(1, 11), draw=st.floats(0, 1, exclude_max=True))
def test_property_jitter_only_adds_and_every_wait_fits_one_visibility_change(
    attempt: int, draw: float
) -> None:
    wait = SCHEDULE.wait_after(attempt, lambda: draw)
    base = DEFAULT_WAITS[attempt - 1]
    assert base <= wait <= min(SCHEDULE.max_wait, base * 1.5 + 1), (attempt, draw, wait)
    assert wait <= MAX_VISIBILITY_SECONDS - SCHEDULE.receive_margin


def test_jitter_spreads_a_herd_over_half_of_each_wait() -> None:
    assert SCHEDULE.wait_after(6, low) == 3600
    assert SCHEDULE.wait_after(6, high) == 5400
    # the 8-hour waits would reach 12 h: capped where one ChangeMessageVisibility still fits
    assert SCHEDULE.wait_after(11, high) == MAX_VISIBILITY_SECONDS - 900


def test_the_longest_span_fits_a_seven_day_queue_retention() -> None:
    # Retry-After can stretch every wait to max_wait; retention counts from the first enqueue
    assert SCHEDULE.longest_span == 11 * (MAX_VISIBILITY_SECONDS - 900) < 7 * 86_400
    worst_jitter = sum(SCHEDULE.wait_after(a, high) for a in range(1, SCHEDULE.attempts))
    assert SCHEDULE.minimum_span < worst_jitter <= SCHEDULE.longest_span, worst_jitter


def test_max_receive_count_is_the_number_of_attempts() -> None:
    # receive r is attempt r; after attempt A the next receive (A + 1) exceeds maxReceiveCount
    assert SCHEDULE.max_receive_count == SCHEDULE.attempts == len(DEFAULT_WAITS) + 1
    compressed = RetrySchedule(waits=(0, 0))
    assert compressed.max_receive_count == 3


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    decision = SCHEDULE.decide(attempt=1, status=status, retry_after=None, now=NOW, rand=low)
    assert decision == Decision(Verdict.DELIVERED)


@pytest.mark.parametrize("status", [None, 301, 302, 400, 401, 404, 408, 429, 500, 502, 503, 504])
def test_every_other_answer_is_retried_on_the_schedule(status: int | None) -> None:
    decision = SCHEDULE.decide(attempt=3, status=status, retry_after=None, now=NOW, rand=low)
    assert decision == Decision(Verdict.RETRY, 120), decision


def test_410_means_gone_at_any_attempt() -> None:
    for attempt in (1, 12):
        assert SCHEDULE.decide(attempt=attempt, status=410, retry_after=None, now=NOW, rand=low) == Decision(
            Verdict.ENDPOINT_GONE
        )


def test_after_the_last_attempt_the_message_dead_letters_and_not_before() -> None:
    verdicts = [
        SCHEDULE.decide(attempt=a, status=503, retry_after=None, now=NOW, rand=low).verdict
        for a in range(1, SCHEDULE.attempts + 1)
    ]
    assert verdicts == [Verdict.RETRY] * 11 + [Verdict.DEAD_LETTER], verdicts


def test_retry_after_in_seconds_is_a_floor_and_is_capped() -> None:
    def wait(value: str) -> int:
        return SCHEDULE.decide(attempt=1, status=429, retry_after=value, now=NOW, rand=low).wait

    assert wait("120") == 120  # longer than the scheduled 5 s: honoured
    assert wait("1") == 5  # shorter: the schedule wins
    assert wait("999999") == SCHEDULE.max_wait  # an endpoint cannot park an event for days
    assert wait("soon") == 5  # unreadable: ignored


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(NOW + timedelta(minutes=10), usegmt=True)
    assert parse_retry_after(later, NOW) == 600
    assert parse_retry_after(format_datetime(NOW - timedelta(minutes=1), usegmt=True), NOW) == 0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0
    assert SCHEDULE.decide(attempt=2, status=503, retry_after=later, now=NOW, rand=low).wait == 600
    for garbage in ("", "-5", "1.5", "Mon, 99 Foo 2026", None):
        assert parse_retry_after(garbage, NOW) is None, garbage


def test_sqs_limits_as_arithmetic() -> None:
    assert delay_seconds(5) == 5 and delay_seconds(3600) == MAX_DELAY_SECONDS == 900
    assert visibility_timeout(-3) == 0 and visibility_timeout(10**6) == MAX_VISIBILITY_SECONDS == 43_200


def test_a_schedule_that_would_need_two_visibility_changes_is_refused() -> None:
    with pytest.raises(ValueError, match="ChangeMessageVisibility"):
        RetrySchedule(waits=(5, 43_000))
    with pytest.raises(ValueError, match="jitter"):
        RetrySchedule(jitter=2)


def test_an_endpoint_failing_for_three_days_is_disabled_and_a_success_resets_the_clock() -> None:
    # Given an endpoint that starts failing
    health = EndpointHealth().after(delivered=False, now=NOW)
    assert health == EndpointHealth(failing_since=NOW)

    # When it fails for just under three days, then succeeds, then fails again
    almost = health.after(delivered=False, now=NOW + timedelta(days=3, seconds=-1))
    assert almost.disabled is None
    healed = almost.after(delivered=True, now=NOW + timedelta(days=3))
    assert healed == EndpointHealth()
    again = healed.after(delivered=False, now=NOW + timedelta(days=4))

    # Then only three full days of failure since the last success disable it
    assert again.after(delivered=False, now=NOW + timedelta(days=6, seconds=-1)).disabled is None
    disabled = again.after(delivered=False, now=NOW + timedelta(days=7))
    assert disabled.disabled is Disabled.FAILING and disabled.disabled_at == NOW + timedelta(days=7)
    assert disabled.newly_disabled(again)
    assert not disabled.after(delivered=True, now=NOW + timedelta(days=8)).newly_disabled(disabled)
    assert disabled.after(delivered=True, now=NOW + timedelta(days=8)) == disabled, (
        "stays off until re-enabled"
    )


def test_410_disables_at_once_and_the_window_is_configurable() -> None:
    gone = EndpointHealth().after(delivered=False, gone=True, now=NOW)
    assert gone.disabled is Disabled.GONE and gone.newly_disabled(EndpointHealth())
    quick = EndpointHealth(failing_since=NOW).after(
        delivered=False, now=NOW + timedelta(hours=1), disable_after=timedelta(hours=1)
    )
    assert quick.disabled is Disabled.FAILING
