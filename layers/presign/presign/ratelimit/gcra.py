"""GCRA (the generic cell rate algorithm) in integer picoseconds: pure arithmetic, no I/O, no clock.

The state of one limit is one number, the *theoretical arrival time* ``tat``: the instant at which
the caller's bucket would be full again. With ``T`` the emission interval (``period / rate``) and
``tau = burst * T`` (the tolerance), a request of ``cost`` units arriving at ``now`` is admitted iff

    max(tat, now) + cost * T - now <= tau

and then ``tat := max(tat, now) + cost * T``. A refused request changes nothing.

**Integers.** Time is an integer number of picoseconds since the epoch and ``T`` is
``ceil(period / rate)`` in picoseconds, so all the arithmetic is exact. Rounding ``T`` up makes the
limiter stricter by less than one part in ``T / 1 ps`` (a million for one request a microsecond;
0.012 % for a 10 GiB daily byte quota, whose ``T`` is about 8 ns), and everything below holds for
the rounded ``T`` exactly.

**The bound.** Let N units be admitted in the closed window ``[a, a + W]``, the first at ``t1``
and the last at ``tn``. Each admission raises ``tat`` by ``cost * T`` above ``max(tat, now)``, so
after the last one ``tat >= t1 + N * T``; the last one was admitted, so ``tat - tn <= tau``. Hence
``N * T <= tn - t1 + burst * T <= W + burst * T``, i.e. ``(N - burst) * period <= W * rate``
(as ``T >= period / rate``): for ``W = period``, at most ``burst + rate`` units. In a half-open
window ``tn - t1 < W``, so at most ``burst + rate - 1``. This holds whatever order concurrent
writers land in, because it only uses each request's own timestamp and the fact that every
admission raises the shared tat.

**Steady clients.** Requests at least ``period / rate`` apart are never refused: on an integer
clock a gap ``>= period / rate`` is also ``>= T``, so each finds ``tat <= now``.

**Monotonic state.** ``tat`` never decreases (an idle lane is restarted at ``now + cost * T``,
above any old ``tat <= now``). The limiter relies on that to refuse from a cached lower bound
without a round trip, and the DynamoDB writes rely on it to need at most two attempts.
"""

from __future__ import annotations

from dataclasses import dataclass

PICOS_PER_SECOND = 10**12


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@dataclass(frozen=True, slots=True)
class Gcra:
    """One limit: ``rate`` units per ``period_seconds``, at most ``burst`` at once (times in ps)."""

    rate: int
    period_seconds: int
    burst: int
    interval: int  # T = ceil(period / rate), in picoseconds
    tau: int  # burst * T: how far ahead of ``now`` the tat may run

    @classmethod
    def of(cls, *, rate: int, period_seconds: int, burst: int) -> Gcra:
        if rate <= 0 or period_seconds <= 0 or burst <= 0:
            raise ValueError("rate, period and burst must be positive")
        interval = _ceil_div(period_seconds * PICOS_PER_SECOND, rate)
        return cls(
            rate=rate, period_seconds=period_seconds, burst=burst, interval=interval, tau=burst * interval
        )

    @property
    def period(self) -> int:
        """The period in picoseconds."""
        return self.period_seconds * PICOS_PER_SECOND

    def increment(self, cost: int) -> int:
        """How far ``cost`` units push the tat."""
        return cost * self.interval

    def fits(self, cost: int) -> bool:
        """Whether ``cost`` can ever be admitted (a full bucket holds ``burst`` units)."""
        return 0 < cost <= self.burst

    def ceiling(self, now: int, cost: int) -> int:
        """The highest current tat at which ``cost`` units are still admitted at ``now``."""
        return now + self.tau - self.increment(cost)

    def admits(self, tat: int | None, now: int, cost: int) -> bool:
        return self.fits(cost) and (tat is None or tat <= self.ceiling(now, cost))

    def advance(self, tat: int | None, now: int, cost: int) -> int:
        """The tat after admitting ``cost`` units at ``now``."""
        base = now if tat is None or tat < now else tat
        return base + self.increment(cost)

    def decide(self, tat: int | None, now: int, cost: int = 1) -> tuple[bool, int | None]:
        """The reference step: (admitted, new tat). Refused requests leave the tat unchanged."""
        if not self.admits(tat, now, cost):
            return False, tat
        return True, self.advance(tat, now, cost)

    # -- what a client is told

    def remaining(self, tat: int | None, now: int) -> int:
        """Units a request could spend right now (0 .. burst): the largest cost admitted."""
        ahead = 0 if tat is None else max(0, tat - now)
        return max(0, (self.tau - ahead) // self.interval)

    def reset_after(self, tat: int | None, now: int) -> int:
        """Whole seconds until the bucket is full again (``burst`` units available)."""
        if tat is None or tat <= now:
            return 0
        return _ceil_div(tat - now, PICOS_PER_SECOND)

    def retry_after(self, tat: int | None, now: int, cost: int) -> int:
        """Whole seconds, at least 1, until ``cost`` units would be admitted."""
        if tat is None:
            return 1
        return max(1, _ceil_div(tat - self.ceiling(now, cost), PICOS_PER_SECOND))
