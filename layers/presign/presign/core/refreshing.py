"""A value fetched again once it is old, kept through a bounded outage, and fetched once at a time.

The HS256 secrets (``presign.auth.hs256``) and the targets' stored credentials
(``presign.adapters.aws_parameters``) live in Secrets Manager or SSM, where they are rotated and
revoked. A container that read them once would keep a revoked secret working for hours, and one that
read them on every request would pay a network call each time. ``Refreshing.get`` follows these
rules instead; the clock is injected, so tests move time:

* **Fresh** (answered less than ``ttl`` seconds ago): served as it is. No lock, no fetch.
* **Due** (older): the next caller fetches. One fetch at a time: a caller that finds another
  fetching goes on with what it has when that is still usable, and otherwise waits for that fetch
  and uses its result rather than fetching again. So there is one fetch per ``ttl``, however many
  threads ask.
* **Gone**: ``fetch`` raised ``ConfigurationError`` (not found, access denied, an unusable value).
  The old value is dropped at once and ``get`` raises that error until the next fetch, ``ttl``
  later: an absence is cached like a value, so a removed secret costs no fetch per request, and
  it stays removed while the store is down.
* **Unavailable**: ``fetch`` raised ``DependencyUnavailable`` (throttling, 5xx, network). The last
  value is still served until it is ``ttl + grace`` seconds old, then ``get`` raises
  ``DependencyUnavailable``: closed, never open. Attempts while the store is down are
  ``retry_interval`` apart, so an outage does not add a timeout to every request.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from presign.errors import ConfigurationError, DependencyUnavailable

RETRY_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class _State[T]:
    """Replaced whole, never mutated, so readers need no lock."""

    value: T | None
    has_value: bool
    gone: ConfigurationError | None
    answered_at: float  # when the store last gave an answer (a value or "gone"); -inf if never
    attempted_at: float  # when a fetch was last tried
    unavailable: DependencyUnavailable | None  # why the last attempt failed, if it did


class Refreshing[T]:
    def __init__(
        self,
        fetch: Callable[[], T],
        *,
        ttl: float,
        grace: float,
        clock: Callable[[], float],
        retry_interval: float = RETRY_INTERVAL_SECONDS,
    ) -> None:
        if ttl <= 0 or grace < 0 or retry_interval <= 0:
            raise ValueError("ttl and retry_interval must be positive, grace at least 0")
        self._fetch = fetch
        self._ttl = ttl
        self._grace = grace
        self._clock = clock
        self._retry = retry_interval
        self._lock = threading.Lock()  # held while fetching
        self._state: _State[T] | None = None

    def get(self) -> T:
        """The value; raises ``ConfigurationError`` (gone) or ``DependencyUnavailable``."""
        now = self._clock()
        state = self._state
        if state is not None and not self._due(state, now):
            return self._serve(state, now)
        if not self._lock.acquire(blocking=not self._usable(state, now)):
            assert state is not None  # only a usable state skips the wait
            return self._serve(state, now)  # another thread is fetching; what we have still serves
        try:
            state, now = self._state, self._clock()
            if state is None or self._due(state, now):  # not fetched meanwhile by the thread we waited for
                state = self._state = self._attempt(state, now)
        finally:
            self._lock.release()
        return self._serve(state, now)

    def _due(self, state: _State[T], now: float) -> bool:
        if state.unavailable is not None:
            return now - state.attempted_at >= self._retry
        return now - state.answered_at >= self._ttl

    def _usable(self, state: _State[T] | None, now: float) -> bool:
        """Whether ``state`` may answer without waiting for a fetch another thread is making."""
        if state is None:
            return False
        return state.gone is not None or (
            state.has_value and now - state.answered_at < self._ttl + self._grace
        )

    def _attempt(self, state: _State[T] | None, now: float) -> _State[T]:
        try:
            value = self._fetch()
        except ConfigurationError as gone:
            return _State(None, False, gone, now, now, None)
        except DependencyUnavailable as down:
            if state is None:
                return _State(None, False, None, -math.inf, now, down)
            return _State(state.value, state.has_value, state.gone, state.answered_at, now, down)
        return _State(value, True, None, now, now, None)

    def _serve(self, state: _State[T], now: float) -> T:
        if state.gone is not None:
            # A fresh instance each time: re-raising one would grow its traceback on every request.
            raise type(state.gone)(state.gone.message, details=state.gone.details)
        if state.has_value and now - state.answered_at < self._ttl + self._grace:
            return state.value  # type: ignore[return-value]  # has_value: a T, which may be None
        message = state.unavailable.message if state.unavailable else "the value cannot be fetched"
        wait = self._retry - (now - state.attempted_at)
        raise DependencyUnavailable(message, retry_after=math.ceil(max(wait, 1)))
