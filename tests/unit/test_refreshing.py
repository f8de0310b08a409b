"""``presign.core.refreshing.Refreshing`` against a model: random histories of a store that changes its
value, removes it, goes down and comes back, with time moving in between.

Whatever the history, every answer ``get`` gives obeys the rules its docstring states:
1. a value is never older than ``ttl + grace`` (counted from the read that returned it);
2. a value is the latest thing the store said: never one it has since replaced or removed;
3. "gone" is answered only when the store's latest answer was "gone";
4. with the store up, the answer reflects a read less than ``ttl`` old, unless a read failed less
   than ``retry_interval`` ago;
5. reads are spaced: at least ``ttl`` after a successful one, ``retry_interval`` after a failed one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from presign.core.refreshing import Refreshing
from presign.errors import ConfigurationError, DependencyUnavailable

TTL, GRACE, RETRY = 60.0, 120.0, 5.0


@dataclass
class Store:
    value: str | None = "v0"  # None: removed
    up: bool = True
    now: float = 0.0
    reads: list[tuple[float, str]] = field(default_factory=list)  # (when, "value" | "gone" | "down")
    answers: list[tuple[float, str | None]] = field(default_factory=list)  # the store's definite answers

    def read(self) -> str:
        if not self.up:
            self.reads.append((self.now, "down"))
            raise DependencyUnavailable("down")
        self.reads.append((self.now, "gone" if self.value is None else "value"))
        self.answers.append((self.now, self.value))
        if self.value is None:
            raise ConfigurationError("gone")
        return self.value


step = st.one_of(
    st.tuples(st.just("advance"), st.floats(min_value=0, max_value=200, allow_nan=False)),
    st.tuples(st.just("rotate"), st.integers(1, 1000).map(lambda n: f"v{n}")),
    st.tuples(st.just("remove"), st.none()),
    st.tuples(st.just("down"), st.none()),
    st.tuples(st.just("up"), st.none()),
    st.tuples(st.just("get"), st.none()),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(step, min_size=1, max_size=60))
def test_every_answer_obeys_the_rules(history: list[tuple[str, object]]) -> None:
    store = Store()
    cached = Refreshing(store.read, ttl=TTL, grace=GRACE, clock=lambda: store.now, retry_interval=RETRY)
    for action, arg in [("get", None), *history]:
        if action == "advance":
            assert isinstance(arg, float)
            store.now += arg
        elif action == "rotate":
            assert isinstance(arg, str)
            store.value = arg
        elif action == "remove":
            store.value = None
        elif action in ("down", "up"):
            store.up = action == "up"
        else:
            check_one_get(cached, store)
    check_spacing(store.reads)


def check_one_get(cached: Refreshing[str], store: Store) -> None:
    try:
        answer: str | None = cached.get()
        outcome = "value"
    except ConfigurationError:
        answer, outcome = None, "gone"
    except DependencyUnavailable:
        answer, outcome = None, "down"
    if not store.answers:
        assert outcome == "down", (outcome, store)
        return
    when, latest = store.answers[-1]
    if outcome == "value":
        assert answer == latest, f"served {answer!r}, the store last said {latest!r}"  # rule 2
        assert store.now - when < TTL + GRACE, (store.now, when)  # rule 1
    if outcome == "gone":
        assert latest is None, f"gone, though the store last said {latest!r}"  # rule 3
    if outcome == "down":
        assert latest is not None, "a removed value is gone, not unavailable"
        assert store.now - when >= TTL + GRACE, f"unavailable with a value {store.now - when} s old"
    last_read_failed = store.reads[-1][1] == "down"
    if store.up and not (last_read_failed and store.now - store.reads[-1][0] < RETRY):
        assert store.now - when < TTL, f"up, yet the answer is {store.now - when} s old"  # rule 4


def check_spacing(reads: list[tuple[float, str]]) -> None:
    for (earlier, kind), (later, _) in itertools.pairwise(reads):
        gap = RETRY if kind == "down" else TTL
        assert later - earlier >= gap, (
            f"read at {later} only {later - earlier} s after a {kind} read"
        )  # rule 5
