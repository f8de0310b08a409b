"""The limiter's port to its storage: one conditional, atomic write per call, nothing else.

An item (one per subject and action) holds one tat attribute per *lane* (a target's request
budget, or the byte quota), the id of the last request that wrote it, and a TTL. A write updates
one or more lanes of one item atomically; each lane is written in one of two modes, chosen from
what the caller believes the lane's state to be:

* ``start`` (the lane is missing or idle, ``tat <= now``): ``tat := now + increment``
  if ``attribute_not_exists(tat) OR tat <= now``.
* ``add`` (the lane is busy, ``tat > now``): ``tat := tat + increment``
  if ``tat > now AND tat <= ceiling``.

Together they are GCRA's ``tat := max(tat, now) + increment`` with its admission test, done by the
database in one conditional write, so there is no read-then-write race. When the write's
condition fails, the store reports the item's current values (DynamoDB's
``ReturnValuesOnConditionCheckFailure=ALL_OLD``): the limiter learns the state without a read.

Every write also requires ``request_id`` to differ from the item's last writer and stores it.
A retried write whose first attempt was applied therefore fails its condition and shows the
caller its own id: that is how a retry is recognised and never counted twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Mode = Literal["start", "add"]


# A write DynamoDB throttled because one key took more than its partition allows (the
# ``Table|Index`` + ``Read|Write`` + ``KeyRangeThroughputExceeded`` throttling reasons): a store's
# ``DependencyUnavailable`` names it in ``details["reason"]``. Only this caller's own item is that
# hot (~1,000 writes a second), so the limiter answers 429, never 503 nor a fail-open admission.
HOT_KEY_REASON = "KeyRangeThroughputExceeded"


@dataclass(frozen=True, slots=True)
class LaneWrite:
    attribute: str
    mode: Mode
    increment: int  # picoseconds added to the tat
    ceiling: int  # add mode: the highest current tat still admitted


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What one conditional write did.

    ``applied``: the write happened and ``values`` are the lanes' new tats. Otherwise ``values``
    are the item's current tats (a lane absent from it has never been written or has expired) and
    ``request_id`` is the id of the item's last writer.
    ``attempts``: how many times the SDK sent the request (more than 1 means it retried).
    """

    applied: bool
    values: Mapping[str, int]
    request_id: str | None
    attempts: int = 1


class RateLimitStore(Protocol):
    def write(
        self, key: str, lanes: Sequence[LaneWrite], *, now: int, request_id: str, expires_at: int
    ) -> WriteOutcome:
        """One conditional write of ``lanes`` on item ``key`` (``expires_at``: epoch seconds).

        Raises ``DependencyUnavailable`` when the store cannot answer (throttled, unreachable,
        timed out, misconfigured), and nothing else.
        """
        ...
