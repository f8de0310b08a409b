"""When a webhook is tried again, when it is given up, and when its endpoint is switched off.

**The schedule.** Attempt 1 is immediate. After a failed attempt ``k`` the next one waits
``waits[k-1]`` seconds plus jitter: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h,
8 h, i.e. 12 attempts, the last one at least ``sum(waits)`` = 114 155 s (31 h 42 min) after the
first: an endpoint that is down for a whole day still gets its events.

**Jitter goes up, never down.** Full jitter (a wait drawn from ``[0, base]``) spreads a herd of
retries best, but it could shrink the 24-hour span to almost nothing. Here a wait is drawn
uniformly from ``[base, base * (1 + jitter)]``: full jitter over a window that starts at the
base, so ``sum(waits)`` stays a floor of the span and thousands of events that failed together
(an endpoint's outage) come back spread over half of each wait. A wait never exceeds
``max_wait`` (below).

**Retry-After** (seconds or an HTTP date) is honoured as a floor: the wait is
``max(scheduled, Retry-After)``, capped at ``max_wait``, so an endpoint can slow us down but
cannot park an event for a week, nor make us hammer it.

**Outcomes.** 2xx is delivered. 410 Gone means the endpoint is gone: no more attempts for it,
and the endpoint is disabled at once. Anything else (3xx included: redirects are never
followed, 4xx, 5xx, a timeout, a refused address) is a failure that is retried.

**SQS, as arithmetic.** One message per (event, endpoint). ``DelaySeconds`` stops at 900 s
(``MAX_DELAY_SECONDS``), so a wait is a ``ChangeMessageVisibility`` on the receipt of the
attempt that failed, and SQS allows at most 12 h (``MAX_VISIBILITY_SECONDS``) counted from that
receive. ``max_wait`` is therefore 12 h minus ``receive_margin`` (15 min: the delivery
function's own time after the receive must fit under the 12 h), and every wait fits in one
change. The attempt number is the message's ``ApproximateReceiveCount``:

    receive r = 1 .. A            attempt r (A = len(waits) + 1 = 12)
    attempt r < A fails           visibility := wait(r)            -> receive r + 1 after it
    attempt A fails               visibility := 0                  -> receive A + 1
    redrive: maxReceiveCount = A  receive A + 1 > A                -> SQS moves it to the DLQ

so ``max_receive_count == attempts`` and the dead-letter queue is reached right after the last
attempt, never before it: ``sum(waits) <= time to the DLQ <= sum(min(base * (1 + jitter),
max_wait)) + A * (one invocation)``. A crashed invocation (no visibility change; the message
returns after the queue's own visibility timeout) spends one attempt, which is also how a
message that crashes the function every time still reaches the DLQ.
``tests/integration/test_webhook_sqs.py`` runs this against moto's SQS with the waits set to 0.

**Retention.** SQS counts a message's retention from its first enqueue, in the dead-letter
queue too. The longest a message can spend in the delivery queue is ``longest_span``: every
wait stretched to ``max_wait`` by ``Retry-After`` (11 x 42 300 s = 5.4 days; jitter alone
gives at most 168 533 s = 46.8 h). So the delivery queue keeps messages 7 days and the
dead-letter queue 14 (SQS's maximum), leaving at least a week to replay.

**Disabling.** An endpoint whose deliveries have all failed for ``disable_after`` (3 days, as
Stripe and Svix do) since its last success is disabled (``EndpointHealth``); 410 disables it at
once. Whoever applies the change also publishes an event that says so.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

MAX_DELAY_SECONDS = 900
MAX_VISIBILITY_SECONDS = 43_200
DEFAULT_WAITS = (5, 30, 120, 600, 1_800, 3_600, 7_200, 14_400, 28_800, 28_800, 28_800)
DEFAULT_DISABLE_AFTER = timedelta(days=3)
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}")

#: A uniform draw in [0, 1): ``random.random`` in production, a constant in tests.
Random = Callable[[], float]


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # change the message's visibility to ``wait``, report it as failed
    DEAD_LETTER = "dead_letter"  # visibility 0, report it as failed: the next receive redrives it
    ENDPOINT_GONE = "endpoint_gone"  # 410: disable the endpoint, delete the message


class Disabled(StrEnum):
    GONE = "gone"  # the endpoint answered 410
    FAILING = "failing"  # every delivery failed for ``disable_after``


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    #: For ``RETRY``: the ``VisibilityTimeout`` to set, in seconds; 0 otherwise.
    wait: int = 0


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    waits: tuple[int, ...] = DEFAULT_WAITS
    jitter: float = 0.5
    receive_margin: int = 900

    def __post_init__(self) -> None:
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction of each wait, between 0 and 1")
        if not 0 <= self.receive_margin < MAX_VISIBILITY_SECONDS:
            raise ValueError("receive_margin must leave room under SQS's 12 hour visibility")
        if any(wait < 0 or wait > self.max_wait for wait in self.waits):
            raise ValueError(f"every wait must be 0..{self.max_wait} s (one ChangeMessageVisibility)")

    @property
    def attempts(self) -> int:
        return len(self.waits) + 1

    @property
    def max_receive_count(self) -> int:
        """The dead-letter queue's ``maxReceiveCount``: reached only after the last attempt."""
        return self.attempts

    @property
    def max_wait(self) -> int:
        return MAX_VISIBILITY_SECONDS - self.receive_margin

    @property
    def minimum_span(self) -> int:
        """Seconds from the first attempt to the last, at least (jitter only adds)."""
        return sum(self.waits)

    @property
    def longest_span(self) -> int:
        """Seconds from the first attempt to the last, at most (every wait at ``max_wait``)."""
        return len(self.waits) * self.max_wait

    def nominal_offsets(self) -> tuple[int, ...]:
        """When each attempt is due at the earliest, in seconds after the first one."""
        offsets = [0]
        for wait in self.waits:
            offsets.append(offsets[-1] + wait)
        return tuple(offsets)

    def wait_after(self, attempt: int, rand: Random) -> int:
        """Seconds between failed ``attempt`` (1-based, < ``attempts``) and the next one."""
        if not 1 <= attempt < self.attempts:
            raise ValueError(f"attempt {attempt} has no next one (1..{self.attempts - 1})")
        base = self.waits[attempt - 1]
        return min(self.max_wait, math.ceil(base * (1 + self.jitter * rand())))

    def decide(
        self, *, attempt: int, status: int | None, retry_after: str | None, now: datetime, rand: Random
    ) -> Decision:
        """What to do with a message after attempt number ``attempt`` (its receive count) got
        ``status`` (``None``: no HTTP answer at all)."""
        if status is not None and 200 <= status < 300:
            return Decision(Verdict.DELIVERED)
        if status == 410:
            return Decision(Verdict.ENDPOINT_GONE)
        if attempt >= self.attempts:
            return Decision(Verdict.DEAD_LETTER)
        wait = self.wait_after(max(attempt, 1), rand)
        asked = parse_retry_after(retry_after, now)
        return Decision(Verdict.RETRY, min(self.max_wait, max(wait, asked or 0)))


def parse_retry_after(value: str | None, now: datetime) -> int | None:
    """``Retry-After`` as seconds from ``now`` (RFC 9110: delta-seconds or an HTTP date);
    ``None`` when absent or unreadable, 0 for a date in the past."""
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return int(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, math.ceil((moment - now).total_seconds()))


def visibility_timeout(wait: int) -> int:
    """A wait as one ``ChangeMessageVisibility`` value (SQS allows 0..43 200)."""
    return max(0, min(MAX_VISIBILITY_SECONDS, wait))


def delay_seconds(wait: int) -> int:
    """A wait as ``SendMessage``'s ``DelaySeconds`` (0..900): for a replay or a test event sent
    later; a longer wait is the first receive's ``ChangeMessageVisibility``."""
    return max(0, min(MAX_DELAY_SECONDS, wait))


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """What the delivery log knows about one endpoint: failing since when, disabled or not."""

    failing_since: datetime | None = None
    disabled: Disabled | None = None
    disabled_at: datetime | None = None

    def after(
        self,
        *,
        delivered: bool,
        gone: bool = False,
        now: datetime,
        disable_after: timedelta = DEFAULT_DISABLE_AFTER,
    ) -> EndpointHealth:
        """The health after one attempt. A disabled endpoint stays disabled (an operator
        re-enables it); ``newly_disabled`` tells whoever stores this to publish the event."""
        if self.disabled is not None:
            return self
        if delivered:
            return EndpointHealth()
        if gone:
            return EndpointHealth(self.failing_since or now, Disabled.GONE, now)
        since = self.failing_since or now
        if now - since >= disable_after:
            return EndpointHealth(since, Disabled.FAILING, now)
        return EndpointHealth(since)

    def newly_disabled(self, before: EndpointHealth) -> bool:
        return before.disabled is None and self.disabled is not None
