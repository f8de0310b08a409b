"""An in-memory ``ShareStore`` with DynamoDB's semantics: each call is atomic, conditions are
checked and applied in one step. It counts its reads and writes (for the benchmarks)."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter

from presign.shares.ports import SharePage, Spent
from presign.shares.records import Share


class MemoryShares:
    def __init__(self) -> None:
        self.items: dict[str, Share] = {}
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def create(self, share: Share, *, ttl: int) -> bool:
        with self._lock:
            self.calls["write"] += 1
            if share.handle in self.items:
                return False
            self.items[share.handle] = share
            return True

    def get(self, handle: str) -> Share | None:
        with self._lock:
            self.calls["read"] += 1
            return self.items.get(handle)

    def spend(self, handle: str, *, now: int) -> Spent:
        with self._lock:
            self.calls["write"] += 1
            share = self.items.get(handle)
            if share is None or share.status(now) != "active":
                return Spent(False, share)
            self.items[handle] = dataclasses.replace(share, downloads=share.downloads + 1)
            return Spent(True, None)

    def revoke(self, handle: str, *, owner: str, now: int, ttl: int) -> Share | None:
        with self._lock:
            self.calls["write"] += 1
            share = self.items.get(handle)
            if share is None or share.owner != owner:
                return None
            if share.revoked_at is None:
                share = self.items[handle] = dataclasses.replace(share, revoked_at=now)
            return share

    def fail(self, handle: str, *, now: int, threshold: int, lock_until: int) -> bool:
        with self._lock:
            self.calls["write"] += 1
            share = self.items.get(handle)
            if share is None:
                return False
            count = share.failed_attempts + 1
            if count >= threshold:
                self.items[handle] = dataclasses.replace(share, failed_attempts=0, locked_until=lock_until)
                return True
            self.items[handle] = dataclasses.replace(share, failed_attempts=count)
            return False

    def page(self, owner: str, *, limit: int, after: str | None) -> SharePage:
        with self._lock:
            self.calls["read"] += 1
            mine = sorted(
                (s for s in self.items.values() if s.owner == owner),
                key=lambda s: (s.created_ms, s.handle),
                reverse=True,
            )
            positions = [f"{s.created_ms:013d}#{s.handle}" for s in mine]
            start = positions.index(after) + 1 if after in positions else 0
            chosen = mine[start : start + limit]
            more = start + limit < len(mine)
            return SharePage(chosen, positions[start + limit - 1] if more and chosen else None)
