"""Every request the soak sends, as it was answered: the record the figures and the API invariant
read. ``Client`` is one simulated user's HTTP: the API with its token, and the storage with the
presigned URLs it was given (real bytes, through make dev's storage proxy).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

API_TIMEOUT = 90.0  # the emulator queues invocations: an answer may wait for those before it
STORAGE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Call:
    """One request: ``kind`` api (a route with a token), link (a public share link), storage (a
    presigned URL) or cleanup (an invocation); ``status`` 0 when no answer came."""

    kind: str
    route: str
    user: str
    status: int
    started: float
    ended: float
    retry_after: str | None = None
    # The limiter's action this answer spent, and how many units (an admitted request only).
    spent: tuple[str, int] | None = None
    note: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[Call] = []
        self.notes: list[str] = []  # what clients saw that an invariant reads (idempotency answers)

    def add(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def note(self, text: str) -> None:
        with self._lock:
            self.notes.append(text)


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    content: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


NO_ANSWER = Answer(0, None, {})
WAITING = Answer(0, None, {})  # not sent: the client waits out a 429's Retry-After for that budget


class Client:
    """One user's HTTP. Every request is recorded; none raises on a network error (status 0)."""

    def __init__(self, base_url: str, token: str | None, user: str, recorder: Recorder) -> None:
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.recorder = recorder
        self.session = requests.Session()
        self.storage = requests.Session()
        self._auth = {"Authorization": f"Bearer {token}"} if token else {}
        # As the first-party clients do, a 429's Retry-After is waited out, per budget: the user
        # does something else meanwhile rather than hammer a refusal.
        self._waiting_until: dict[str, float] = {}

    def api(
        self,
        method: str,
        path: str,
        route: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        spends: str | None = None,
        kind: str = "api",
        redirects: bool = False,
    ) -> Answer:
        started = time.time()
        if spends and self._waiting_until.get(spends, 0.0) > started:
            return WAITING
        try:
            resp = self.session.request(
                method,
                self.base_url + path,
                json=json,
                headers={**self._auth, **(headers or {})},
                timeout=API_TIMEOUT,
                allow_redirects=redirects,
            )
        except requests.RequestException as exc:
            self.recorder.add(Call(kind, route, self.user, 0, started, time.time(), note=type(exc).__name__))
            return NO_ANSWER
        ended = time.time()
        try:
            body = resp.json() if resp.content else None
        except ValueError:
            body = None
        units = _units(spends, body) if spends and 200 <= resp.status_code < 400 else 0
        if spends and resp.status_code == 429:
            self._waiting_until[spends] = ended + _seconds(resp.headers.get("Retry-After"))
        self.recorder.add(
            Call(
                kind,
                route,
                self.user,
                resp.status_code,
                started,
                ended,
                retry_after=resp.headers.get("Retry-After"),
                spent=(spends, units) if spends and units else None,
            )
        )
        return Answer(resp.status_code, body, dict(resp.headers))

    def send(
        self,
        method: str,
        url: str,
        route: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        files: Any = None,
        form: dict[str, str] | None = None,
    ) -> Answer:
        """A presigned request to the storage (a PUT, a POST form, a GET)."""
        started = time.time()
        try:
            resp = self.storage.request(
                method,
                url,
                data=form if files else data,
                headers=headers,
                files=files,
                timeout=STORAGE_TIMEOUT,
            )
        except requests.RequestException as exc:
            self.recorder.add(
                Call("storage", route, self.user, 0, started, time.time(), note=type(exc).__name__)
            )
            return NO_ANSWER
        self.recorder.add(Call("storage", route, self.user, resp.status_code, started, time.time()))
        return Answer(resp.status_code, None, dict(resp.headers), resp.content)

    def close(self) -> None:
        self.session.close()
        self.storage.close()


def _seconds(retry_after: str | None) -> float:
    try:
        return min(60.0, max(0.0, float(retry_after or 1)))
    except ValueError:
        return 1.0


def _units(action: str, body: Any) -> int:
    """Units an admitted answer spent: a download batch one per URL signed, anything else one."""
    if action == "download" and isinstance(body, dict):
        return sum(1 for item in body.get("items", []) if isinstance(item, dict) and item.get("url"))
    return 1
