"""Part URLs of one multipart upload, shared by the threads that send the parts.

The create's answer carries the first 100 at most; ``POST /uploads/{id}/parts`` gives the
others, up to 100 a call, in the order the parts go. When the storage refuses a URL as expired,
every URL signed with it (same answer) has expired too: the parts of that batch not yet started
are renewed in the same call, so a long pause costs one ``/parts`` and one refusal, not one each.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from presign_client.api import Api, path_of
from presign_client.storage import Signed

MAX_PER_CALL = 100  # the API's limit for part_numbers


class PartUrls:
    def __init__(
        self,
        api: Api,
        upload_id: str,
        wanted: Sequence[int],
        first: Sequence[dict[str, Any]],
        *,
        stop: threading.Event | None = None,
    ) -> None:
        self._api = api
        self._upload_id = upload_id
        self._wanted = list(wanted)
        self._stop = stop
        self._lock = threading.Lock()
        self._urls: dict[int, tuple[Signed, int]] = {}  # part -> (URL, the answer it came in)
        self._started: set[int] = set()
        self._batches = 0
        self._remember(first)
        #: How many ``/parts`` calls were made, and for which parts (for tests and notes).
        self.calls: list[list[int]] = []

    def get(self, n: int) -> Signed:
        with self._lock:
            self._started.add(n)
            if n not in self._urls:
                later = [m for m in self._wanted if m not in self._urls and m not in self._started]
                self._fetch([n, *later][:MAX_PER_CALL])
            return self._urls[n][0]

    def renew(self, n: int) -> Signed:
        """A fresh URL for part ``n``, whose URL the storage refused (and for its batch-mates)."""
        with self._lock:
            batch = self._urls[n][1] if n in self._urls else -1
            mates = [
                m
                for m in self._wanted
                if m != n and m not in self._started and m in self._urls and self._urls[m][1] == batch
            ]
            self._fetch([n, *mates][:MAX_PER_CALL])
            return self._urls[n][0]

    def _fetch(self, numbers: list[int]) -> None:
        self.calls.append(numbers)
        answer = self._api.call(
            "POST",
            path_of("uploads", self._upload_id, "parts"),
            {"part_numbers": numbers},
            stop=self._stop,
            upload_id=self._upload_id,
        )
        self._remember(answer["parts"])

    def _remember(self, parts: Sequence[dict[str, Any]]) -> None:
        self._batches += 1
        for part in parts:
            signed = Signed(str(part["url"]), {str(k): str(v) for k, v in part["headers"].items()})
            self._urls[int(part["part_number"])] = (signed, self._batches)
