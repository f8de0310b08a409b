"""The configuration's SSM read at cold start retries throttling with full-jitter backoff
(docs/capacity.md, bottleneck 2: a scale-up starts more containers at once than SSM's 40 reads/s)."""

from __future__ import annotations

import pytest

from presign.adapters.aws_json import AwsServiceError, AwsUnavailable
from presign.adapters.environment import (
    CONFIG_READ_ATTEMPTS,
    CONFIG_READ_BACKOFF_SECONDS,
    read_configuration_parameter,
)
from presign.errors import DependencyUnavailable

DOCUMENT = '{"targets": {}}'


class ThrottlingSsm:
    """Throttles the first ``times`` reads, then answers; counts the reads."""

    def __init__(self, times: int, cause: Exception | None = None) -> None:
        self.times = times
        self.calls = 0
        self.cause = cause or AwsServiceError("ThrottlingException", "Rate exceeded", 400, {})

    def __call__(self, name: str) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise DependencyUnavailable("SSM is unavailable") from self.cause
        return DOCUMENT


def read(ssm: ThrottlingSsm, sleeps: list[float]) -> str:
    return read_configuration_parameter("/presign/config", fetch=ssm, sleep=sleeps.append, rand=lambda: 1.0)


def test_throttled_twice_then_answered_starts_in_three_reads() -> None:
    ssm, sleeps = ThrottlingSsm(times=2), []
    assert read(ssm, sleeps) == DOCUMENT
    assert ssm.calls == 3, ssm.calls
    # rand() = 1: the most full jitter may wait, doubling each time.
    assert sleeps == [CONFIG_READ_BACKOFF_SECONDS, 2 * CONFIG_READ_BACKOFF_SECONDS], sleeps


def test_always_throttled_gives_up_after_the_last_attempt_within_two_seconds() -> None:
    ssm, sleeps = ThrottlingSsm(times=100), []
    with pytest.raises(DependencyUnavailable):
        read(ssm, sleeps)
    assert ssm.calls == CONFIG_READ_ATTEMPTS == 4, ssm.calls
    assert sum(sleeps) <= 2.0, sleeps


def test_the_jitter_is_drawn_from_zero_to_the_cap() -> None:
    ssm, sleeps = ThrottlingSsm(times=1), []
    read_configuration_parameter("/p", fetch=ssm, sleep=sleeps.append, rand=lambda: 0.0)
    assert sleeps == [0.0], sleeps


@pytest.mark.parametrize(
    "cause",
    [AwsUnavailable("ReadTimeoutError"), AwsServiceError("InternalServerError", "boom", 500, {})],
    ids=["timeout", "5xx"],
)
def test_what_is_not_throttling_is_not_retried(cause: Exception) -> None:
    ssm, sleeps = ThrottlingSsm(times=100, cause=cause), []
    with pytest.raises(DependencyUnavailable):
        read(ssm, sleeps)
    assert (ssm.calls, sleeps) == (1, []), (ssm.calls, sleeps)
