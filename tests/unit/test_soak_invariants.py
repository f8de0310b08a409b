"""The soak's invariants that read only what was sent (local/soak/invariants.py) catch what they
are for: a 5xx that is not a 503 with Retry-After, a 503 outside every fault window, a request left
without an answer, and a user admitted past the limiter's allowance (the functions' clock jumps
counted). The ones that read the storage and the tables run in tests/e2e/test_soak.py."""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

import pytest

from local.soak import invariants
from local.soak.faults import Window
from local.soak.invariants import (
    Facts,
    idempotent_retries_answer_the_same_upload,
    limiter_allowance_kept,
    no_5xx_but_503_in_fault_windows,
)
from local.soak.ledger import Ledger
from local.soak.record import Call

UPLOAD = {"rate": 10, "period": 60, "burst": 5}


class FakeStack:
    config: ClassVar[dict[str, Any]] = {
        "default_target": "local",
        "rate_limits": {"actions": {"upload": UPLOAD}},
    }


def facts(calls: list[Call], windows: list[Window] | None = None, ledger: Ledger | None = None) -> Facts:
    return Facts(FakeStack(), calls, ledger or Ledger(), windows or [], cleanup_at=0.0, notes=[])  # type: ignore[arg-type]


def api(status: int, at: float, retry_after: str | None = None, spent: tuple[str, int] | None = None) -> Call:
    return Call("api", "POST /uploads", "u1", status, at, at + 0.1, retry_after=retry_after, spent=spent)


PAUSE = Window("dynamodb paused", "", start=100.0, end=104.0)


def test_a_503_with_retry_after_inside_a_window_is_allowed() -> None:
    ev = no_5xx_but_503_in_fault_windows(facts([api(503, 102, "2"), api(201, 50)], [PAUSE]))
    assert ev.ok and ev.checked == 2, ev


def test_a_503_long_after_every_window_is_a_violation() -> None:
    ev = no_5xx_but_503_in_fault_windows(facts([api(503, 130, "2")], [PAUSE]))
    assert ev.violations == ["POST /uploads by u1: 503 outside every fault window"], ev


def test_a_500_or_a_503_without_retry_after_is_a_violation_even_in_a_window() -> None:
    ev = no_5xx_but_503_in_fault_windows(facts([api(500, 101), api(503, 102)], [PAUSE]))
    assert len(ev.violations) == 2, ev


def test_a_request_without_an_answer_is_a_violation() -> None:
    ev = no_5xx_but_503_in_fault_windows(facts([api(0, 10)]))
    assert len(ev.violations) == 1 and "no answer" in ev.violations[0], ev


def test_storage_answers_are_not_the_apis() -> None:
    call = Call("storage", "PUT object", "u1", 500, 10, 11)
    assert no_5xx_but_503_in_fault_windows(facts([call])).checked == 0


def test_admitted_within_burst_plus_rate_is_kept_and_one_more_is_not() -> None:
    # 60 s at 10/60 s with a burst of 5: at most 5 + 10 = 15 units.
    kept = [api(201, t, spent=("upload", 1)) for t in [0.0] * 5 + [6.0 * i for i in range(1, 10)] + [59.9]]
    assert len(kept) == 15
    assert limiter_allowance_kept(facts(kept)).ok
    ev = limiter_allowance_kept(facts([*kept, api(201, 30.0, spent=("upload", 1))]))
    assert len(ev.violations) == 1 and "16 units" in ev.violations[0], ev


def test_a_forward_clock_jump_of_the_functions_is_the_limiters_to_allow() -> None:
    calls = [api(201, t, spent=("upload", 1)) for t in [0.0] * 5 + [1.0] * 5]
    assert not limiter_allowance_kept(facts(calls)).ok
    skew = Window("clock skew", "", start=0.5, end=5.0, clock_jump=90.0)
    assert limiter_allowance_kept(facts(calls, [skew])).ok


def test_an_idempotent_retry_answered_with_another_upload_is_a_violation() -> None:
    ledger = Ledger()
    ledger.replay("k1", "upload-a", "upload-a")
    ledger.replay("k2", "upload-b", "upload-c")
    ev = idempotent_retries_answer_the_same_upload(facts([], ledger=ledger))
    assert ev.checked == 2 and ev.violations == [
        "Idempotency-Key k2: dropped answer upload-b, retry upload-c"
    ], ev


def test_without_the_events_code_the_events_invariant_says_not_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "presign.events" else real(name, *a)
    )
    assert invariants.events_invariant() == "events: not yet: no outgoing events (presign.events is absent)"


def test_events_code_without_its_soak_hook_fails_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_hook(name: str, *a: Any) -> Any:
        if name == "local.soak.events_hook":
            raise ModuleNotFoundError(name)
        return real(name, *a)

    monkeypatch.setattr(importlib, "import_module", without_hook)
    check = invariants.events_invariant()
    assert callable(check)
    ev = check(facts([]))
    assert ev.violations == [
        "presign.events exists but local.soak.events_hook (its soak invariant) does not"
    ], ev


def test_the_events_code_brings_its_soak_invariant() -> None:
    from local.soak import events_hook

    assert invariants.events_invariant() is events_hook.invariant


def _event(subject: str, sequence: int, type_: str, id_: str | None = None) -> dict[str, Any]:
    return {
        "id": id_ or f"evt_{subject}_{sequence}_{type_}",
        "subject": subject,
        "sequence": sequence,
        "type": type_,
    }


def test_the_events_invariant_passes_every_change_delivered_once_even_twice_over() -> None:
    from local.soak.events_hook import violations

    want = {"upload/a": (2, "upload.completed"), "share/s": (2, None)}
    bus = [
        _event("upload/a", 1, "upload.created"),
        _event("upload/a", 2, "upload.completed"),
        _event("upload/a", 2, "upload.completed"),  # at least once: the same id again
        _event("share/s", 1, "share.created"),
        _event("share/s", 2, "share.accessed"),
        _event("share/s", 2, "share.exhausted"),  # one change, two events
    ]
    assert violations(want, bus, bus) == []


def test_the_events_invariant_names_what_is_missing_extra_or_double() -> None:
    from local.soak.events_hook import violations

    want = {"upload/a": (3, "upload.deleted"), "upload/b": (2, "upload.expired")}
    bus = [
        _event("upload/a", 1, "upload.created"),
        _event("upload/a", 3, "upload.deleted"),  # sequence 2 lost
        _event("upload/b", 1, "upload.created"),
        _event("upload/b", 2, "upload.completed"),  # the record says expired
        _event("upload/b", 1, "upload.created", id_="evt_other"),  # the same change under two ids
        _event("upload/c", 1, "upload.created"),  # no such record
    ]
    found = violations(want, bus, bus[:-1])
    assert any(v.startswith("upload/a: 3 committed changes, sequences delivered [1, 3]") for v in found), (
        found
    )
    assert any(
        "upload/b: its record says upload.expired, its last event is upload.completed" in v for v in found
    ), found
    assert any("delivered under 2 ids" in v for v in found), found
    assert any(v.startswith("upload/c: events delivered for no item") for v in found), found
    assert any("never reached the webhook endpoint" in v for v in found), found
