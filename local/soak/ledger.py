"""What the clients believe, for the invariants to hold against the storage and the tables: each
upload a client saw ``complete`` (with the sha256 of the bytes it sent), what it deleted, the URLs
each share link handed out, and what a retried ``Idempotency-Key`` answered."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Completed:
    upload_id: str
    key: str
    size: int
    sha256: str  # hex, of the bytes the client sent
    user: str


@dataclass
class ShareSeen:
    share_id: str
    handle: str
    max_downloads: int | None
    urls: int = 0  # 302s (or 200 with a URL) the visitors got


@dataclass
class Ledger:
    completed: dict[str, Completed] = field(default_factory=dict)  # by upload id
    deleted: set[str] = field(default_factory=set)  # upload ids a DELETE was sent for (any answer)
    shares: dict[str, ShareSeen] = field(default_factory=dict)  # by handle
    # (idempotency key, the upload id of the dropped answer, the upload id of the retry's answer)
    replays: list[tuple[str, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def complete(self, done: Completed) -> None:
        with self._lock:
            self.completed[done.upload_id] = done

    def delete(self, upload_id: str) -> None:
        with self._lock:
            self.deleted.add(upload_id)

    def share(self, seen: ShareSeen) -> None:
        with self._lock:
            self.shares[seen.handle] = seen

    def url_handed_out(self, handle: str) -> None:
        with self._lock:
            self.shares[handle].urls += 1

    def replay(self, key: str, first: str, second: str) -> None:
        with self._lock:
            self.replays.append((key, first, second))

    def owned_completed(self, user: str) -> list[Completed]:
        with self._lock:
            return [c for c in self.completed.values() if c.user == user and c.upload_id not in self.deleted]
