"""Per-user rate limits: GCRA lanes kept in one DynamoDB item per subject and action.

``RateLimiter.acquire`` spends ``cost`` units of a subject's budget for an action on a target, or
raises ``RateLimited``. The item's key is ``rl#<action>#<sha256(sub)[:32]>`` (the subject is hashed,
``presign.core.owners.subject_digest``: no user id in the table, and the keys spread evenly over
partitions, so one noisy user only ever touches their own item); each target's budget is a lane (attribute ``t:<target>``) of that item,
and the upload byte quota is the lane ``q:bytes`` of the upload item, so an upload checks its
request budget and its byte quota in one atomic write.

DynamoDB calls per request (every one a conditional ``UpdateItem``, see ``store.py``):

* 1 when the guess about the lanes' state is right: the common case for an occasional caller
  (idle lanes), and for a busy caller whose lanes this container has seen before (busy lanes).
* 2 when the first write shows a lane busy that was guessed idle; the second write is then
  exact (a busy lane stays busy: the tat only grows), so it is admitted or refused for good.
* 0 when this container already knows a lane's tat is too far ahead to admit (the tat never
  decreases, so a cached value is a safe lower bound): a hammering client costs no writes.
* 3 at most, only for an upload whose two lanes are in mixed states while another request of
  the same user races it; there is no loop.

Failures: a store that cannot answer raises ``DependencyUnavailable`` (``failure_mode="closed"``,
the default) or admits with ``Decision.fail_open`` set (``"open"``); either way an event is
emitted. Nothing else escapes, except ``InvalidRequest`` / ``PayloadTooLarge`` for a request
that no budget could ever admit (more units than ``burst``, more bytes than the daily quota).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from presign.clock import Clock, system_clock
from presign.config.ratelimit import ACTIONS, Action, Limit, RateLimitSettings
from presign.core.owners import subject_digest
from presign.errors import DependencyUnavailable, InvalidRequest, PayloadTooLarge, RateLimited
from presign.ratelimit.gcra import PICOS_PER_SECOND, Gcra
from presign.ratelimit.store import HOT_KEY_REASON, LaneWrite, Mode, RateLimitStore, WriteOutcome

BYTES_LANE = "q:bytes"
SECONDS_PER_DAY = 86_400
# The item outlives its furthest tat by this much, so clock skew between hosts never lets
# DynamoDB's TTL delete a lane that is still ahead of someone's clock.
TTL_MARGIN_SECONDS = 60
# At most this many writes per request (see the module docstring for why 3 is reached at all).
MAX_WRITES = 3
HINT_CAPACITY = 4096
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventSink(Protocol):
    """Receives operational events (wire it to Powertools Metrics): a name and string dimensions."""

    def __call__(self, name: str, /, **dims: str) -> None: ...


def _ignore_event(name: str, /, **dims: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Decision:
    """An admission. ``limit`` / ``remaining`` / ``reset_after`` describe the budget after it.

    ``fail_open``: admitted without a check because the store was unavailable (fail-open mode).
    ``unlimited``: no limit applies (a byte quota that is not configured).
    """

    limit: int
    remaining: int
    reset_after: int
    fail_open: bool = False
    unlimited: bool = False

    @property
    def admitted(self) -> bool:
        return True  # refusals raise RateLimited instead

    def headers(self) -> dict[str, str]:
        """``RateLimit-Limit`` (the burst), ``-Remaining`` (units spendable now), ``-Reset``
        (seconds until the budget is full); nothing when no limit was checked."""
        if self.fail_open or self.unlimited:
            return {}
        return _headers(self.limit, self.remaining, self.reset_after)


def _headers(limit: int, remaining: int, reset_after: int) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(reset_after),
    }


@dataclass(frozen=True, slots=True)
class _Lane:
    attribute: str
    gcra: Gcra
    cost: int


def _gcra(limit: Limit) -> Gcra:
    return Gcra.of(rate=limit.rate, period_seconds=limit.period, burst=limit.burst)


def _epoch_ps(moment: datetime) -> int:
    """Picoseconds since the epoch, exactly (a datetime has microseconds)."""
    delta = moment - _EPOCH
    return (delta.days * SECONDS_PER_DAY + delta.seconds) * PICOS_PER_SECOND + delta.microseconds * 1_000_000


def item_key(action: Action, subject: str) -> str:
    return f"rl#{action}#{subject_digest(subject)}"


def lane_attribute(target: str) -> str:
    return f"t:{target}"


class _Hints:
    """The tats this container has seen, per (item, lane): lower bounds, since a tat only grows."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, attributes: Iterable[str]) -> dict[str, int]:
        with self._lock:
            return {a: self._seen[(key, a)] for a in attributes if (key, a) in self._seen}

    def learn(self, key: str, values: Mapping[str, int]) -> None:
        with self._lock:
            for attribute, tat in values.items():
                slot = (key, attribute)
                known = self._seen.pop(slot, None)
                self._seen[slot] = tat if known is None else max(known, tat)
            while len(self._seen) > self._capacity:
                self._seen.popitem(last=False)


class RateLimiter:
    """Spends subjects' budgets in a ``RateLimitStore``; see the module docstring."""

    def __init__(
        self,
        settings: RateLimitSettings,
        store: RateLimitStore,
        *,
        clock: Clock = system_clock,
        on_event: EventSink | None = None,
        hint_capacity: int = HINT_CAPACITY,
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._on_event: EventSink = on_event or _ignore_event
        self._hints = _Hints(hint_capacity)
        self._quota = (
            None
            if settings.upload_bytes_per_day is None
            else Gcra.of(
                rate=settings.upload_bytes_per_day,
                period_seconds=SECONDS_PER_DAY,
                burst=settings.upload_bytes_per_day,
            )
        )
        self._gcras: dict[tuple[Action, str], Gcra] = {}
        # How far ahead of `now` any lane of an action's item can run: the item's TTL span.
        self._ttl_span: dict[Action, int] = {}
        for action in ACTIONS:
            spans = [_gcra(limit).tau for limit in settings.limits_for_action(action)]
            if action == "upload" and self._quota is not None:
                spans.append(self._quota.tau)
            self._ttl_span[action] = max(spans)

    # -- public

    def acquire(self, *, subject: str, action: str, target: str, cost: int = 1) -> Decision:
        """Spend ``cost`` units (one per URL signed) of ``subject``'s ``action`` budget on ``target``."""
        checked = _action(action)
        _check_subject(subject)
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
            raise ValueError("cost must be a positive integer")
        gcra = self._gcra_for(checked, target)
        if not gcra.fits(cost):
            raise InvalidRequest(
                f"this request needs {cost} units of the {checked} rate limit; at most "
                f"{gcra.burst} can be granted at once",
                details={"cost": cost, "max_cost": gcra.burst},
            )
        lane = _Lane(lane_attribute(target), gcra, cost)
        return self._acquire(checked, target, item_key(checked, subject), [lane])

    def acquire_bytes(self, *, subject: str, target: str, nbytes: int) -> Decision:
        """Spend ``nbytes`` of ``subject``'s daily upload quota (no-op when none is configured)."""
        _check_subject(subject)
        lane = self._bytes_lane(nbytes)
        if lane is None:
            return Decision(limit=0, remaining=0, reset_after=0, unlimited=True)
        return self._acquire("upload", target, item_key("upload", subject), [lane])

    def acquire_upload(self, *, subject: str, target: str, nbytes: int) -> Decision:
        """One upload: a unit of the upload budget and ``nbytes`` of the quota, in one atomic write.

        Prefer this to ``acquire`` + ``acquire_bytes``: one write instead of two, and a request
        refused by either limit spends neither.
        """
        _check_subject(subject)
        gcra = self._gcra_for("upload", target)
        lanes = [_Lane(lane_attribute(target), gcra, 1)]
        quota_lane = self._bytes_lane(nbytes)
        if quota_lane is not None:
            lanes.append(quota_lane)
        return self._acquire("upload", target, item_key("upload", subject), lanes)

    # -- the algorithm

    def _acquire(self, action: Action, target: str, key: str, lanes: Sequence[_Lane]) -> Decision:
        now = _epoch_ps(self._clock())
        ceilings = {lane.attribute: lane.gcra.ceiling(now, lane.cost) for lane in lanes}
        known = self._hints.get(key, ceilings)
        if any(tat > ceilings[attribute] for attribute, tat in known.items()):
            self._emit("RateLimitRefused", action=action, target=target, source="cache")
            raise self._refusal(lanes, known, now)

        request_id = os.urandom(8).hex()
        expires_at = -(-(now + self._ttl_span[action]) // PICOS_PER_SECOND) + TTL_MARGIN_SECONDS
        modes = _modes(lanes, known, now)
        for _ in range(MAX_WRITES):
            writes = [
                LaneWrite(
                    attribute=lane.attribute,
                    mode=modes[lane.attribute],
                    increment=lane.gcra.increment(lane.cost),
                    ceiling=ceilings[lane.attribute],
                )
                for lane in lanes
            ]
            try:
                outcome = self._store.write(
                    key, writes, now=now, request_id=request_id, expires_at=expires_at
                )
            except DependencyUnavailable as exc:
                return self._unavailable(action, target, lanes, exc)
            if outcome.attempts > 1:
                # The SDK resent the write. If the first attempt had been applied, the resend
                # fails its condition and we see our own request id below: no double count.
                self._emit("RateLimitSdkRetry", action=action, target=target, applied=str(outcome.applied))
            self._hints.learn(key, _ours(outcome, ceilings))
            if outcome.applied:
                return self._admitted(lanes, outcome.values, now)
            if outcome.request_id == request_id:
                self._emit("RateLimitRetryAbsorbed", action=action, target=target)
                return self._admitted(lanes, outcome.values, now)
            current = outcome.values
            if any(current.get(a, now) > ceilings[a] for a in ceilings):
                self._emit("RateLimitRefused", action=action, target=target, source="store")
                raise self._refusal(lanes, current, now)
            fresh = _modes(lanes, current, now)
            if fresh == modes:
                break  # the store contradicts its own report; do not spin on it
            modes = fresh
        self._emit("RateLimitContention", action=action, target=target)
        raise self._refusal(lanes, {}, now, retry_after=1)

    def _admitted(self, lanes: Sequence[_Lane], values: Mapping[str, int], now: int) -> Decision:
        # With two lanes, report the one nearer exhaustion (as the RateLimit header draft advises).
        best: Decision | None = None
        for lane in lanes:
            tat = values.get(lane.attribute)
            here = Decision(
                limit=lane.gcra.burst,
                remaining=lane.gcra.remaining(tat, now),
                reset_after=lane.gcra.reset_after(tat, now),
            )
            if best is None or here.remaining * best.limit < best.remaining * here.limit:
                best = here
        assert best is not None
        return best

    def _refusal(
        self, lanes: Sequence[_Lane], values: Mapping[str, int], now: int, *, retry_after: int | None = None
    ) -> RateLimited:
        # The binding lane is the refusing one that needs the longest wait.
        refusing = [
            lane for lane in lanes if not lane.gcra.admits(values.get(lane.attribute), now, lane.cost)
        ] or list(lanes)
        waits = [
            (lane.gcra.retry_after(values.get(lane.attribute), now, lane.cost), lane) for lane in refusing
        ]
        wait, lane = max(waits, key=lambda pair: pair[0])
        tat = values.get(lane.attribute)
        headers = _headers(lane.gcra.burst, lane.gcra.remaining(tat, now), lane.gcra.reset_after(tat, now))
        wait = retry_after if retry_after is not None else wait
        kind = "upload quota" if lane.attribute == BYTES_LANE else "rate limit"
        return RateLimited(f"{kind} exceeded; retry in {wait} s", retry_after=wait, headers=headers)

    def _unavailable(
        self, action: Action, target: str, lanes: Sequence[_Lane], exc: DependencyUnavailable
    ) -> Decision:
        mode = self._settings.failure_mode
        reason = str(exc.details.get("reason", "unknown"))
        self._emit("RateLimitUnavailable", action=action, target=target, failure_mode=mode, reason=reason)
        if reason == HOT_KEY_REASON:
            # This caller's own item is past its partition's throughput: they are too fast,
            # whatever the failure mode says about an outage.
            raise RateLimited("too many requests at once; retry in 1 s", retry_after=1) from exc
        if mode == "closed":
            raise DependencyUnavailable(
                "the rate limiter is unavailable", retry_after=self._settings.unavailable_retry_after
            ) from exc
        first = lanes[0].gcra
        return Decision(limit=first.burst, remaining=0, reset_after=0, fail_open=True)

    # -- helpers

    def _gcra_for(self, action: Action, target: str) -> Gcra:
        slot = (action, target)
        gcra = self._gcras.get(slot)
        if gcra is None:
            gcra = self._gcras[slot] = _gcra(self._settings.limit_for(action, target))
        return gcra

    def _bytes_lane(self, nbytes: int) -> _Lane | None:
        if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 0:
            raise ValueError("nbytes must be a non-negative integer")
        if self._quota is None or nbytes == 0:
            return None
        if not self._quota.fits(nbytes):
            raise PayloadTooLarge(
                f"the declared size is above the daily upload quota of {self._quota.burst} bytes",
                details={"size": nbytes, "quota": self._quota.burst},
            )
        return _Lane(BYTES_LANE, self._quota, nbytes)

    def _emit(self, name: str, /, **dims: str) -> None:
        try:
            self._on_event(name, **dims)
        except Exception:  # noqa: BLE001 - a metrics hiccup must never fail or admit a request
            return


def _action(action: str) -> Action:
    for known in ACTIONS:
        if action == known:
            return known
    raise ValueError(f"unknown rate-limited action {action!r}; expected one of {ACTIONS}")


def _check_subject(subject: str) -> None:
    if not isinstance(subject, str) or not subject:
        raise ValueError("subject must be a non-empty string")


def _modes(lanes: Sequence[_Lane], tats: Mapping[str, int], now: int) -> dict[str, Mode]:
    """Guess each lane's write mode: ``add`` where its tat is known to be ahead of ``now``."""
    return {lane.attribute: "add" if tats.get(lane.attribute, now) > now else "start" for lane in lanes}


def _ours(outcome: WriteOutcome, lanes: Mapping[str, int]) -> dict[str, int]:
    return {a: tat for a, tat in outcome.values.items() if a in lanes}


__all__ = [
    "BYTES_LANE",
    "Decision",
    "EventSink",
    "RateLimiter",
    "item_key",
    "lane_attribute",
]
