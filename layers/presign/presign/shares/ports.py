"""The shares' port to their table (``presign.adapters.dynamodb_shares`` implements it).

Tests use an in-memory store with the same conditional semantics. Every method raises
``DependencyUnavailable`` when the table cannot answer, and nothing else of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from presign.shares.records import Share


@dataclass(frozen=True, slots=True)
class SharePage:
    shares: list[Share]
    last: str | None  # where the next page starts (an opaque position); None when there is no more


@dataclass(frozen=True, slots=True)
class Spent:
    """A spend's outcome: ``spent``, or why not (``current`` is the item as the refusal found it;
    None when there is no item)."""

    spent: bool
    current: Share | None


class ShareStore(Protocol):
    def create(self, share: Share, *, ttl: int) -> bool:
        """Write a new share; False (and nothing written) when its handle is taken."""
        ...

    def get(self, handle: str) -> Share | None:
        """The share, read consistently (a revocation answered before is always seen)."""
        ...

    def spend(self, handle: str, *, now: int) -> Spent:
        """One download of a count-limited share, if it is active at ``now`` (one conditional write)."""
        ...

    def revoke(self, handle: str, *, owner: str, now: int, ttl: int) -> Share | None:
        """Revoke the owner's share (again: a no-op); the share after it, None if not theirs."""
        ...

    def fail(self, handle: str, *, now: int, threshold: int, lock_until: int) -> bool:
        """Count one wrong password; True when this one reached ``threshold`` and locked the share."""
        ...

    def page(self, owner: str, *, limit: int, after: str | None) -> SharePage:
        """Up to ``limit`` of the owner's shares, newest first, after the position ``after``."""
        ...
