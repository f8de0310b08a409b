"""What must hold after the run, checked from the storage and the tables themselves (boto3 against
SeaweedFS and moto's server), not from what clients believe. Each invariant returns its ``Evidence``:
how many things it checked and, for each violation, a line that says what was found. A violation
fails the run and is printed.

The object invariants hold under both cleanup rules (today's: a never-confirmed object is deleted
when its upload expires; issue 20's: it is completed when the object is there): an object belongs
to a record that is ``complete``, or ``pending`` and still within its lifetime; a ``complete``
record has its object.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from local.soak.faults import EVENTS_HOOK, EVENTS_PACKAGE, Window
from local.soak.ledger import Ledger
from local.soak.record import Call
from local.soak.stack import Stack

SETTLE_SECONDS = 5.0  # the figures count a fault's cost until this long after its window
# A 503 is the fault's until this long after its window: a request that began in it, or queued
# behind one that did, takes the adapters' timeouts and retries (S3: 1 s + 3 s, twice) to fail.
AFTERMATH_SECONDS = 10.0
MAX_EVIDENCE = 20  # lines printed per violated invariant
# Record times are whole seconds and the cleanup reads its own clock when it starts: a record that
# expired within this margin of the last run may still be pending (the next run takes it).
CLOCK_MARGIN = 2


@dataclass
class Evidence:
    name: str
    checked: int = 0
    violations: list[str] = field(default_factory=list)
    note: str = ""
    fenced: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class Facts:
    """Everything an invariant may read: the stack, what was sent, what clients believe, when the
    faults were, and when the last cleanup ran (epoch seconds)."""

    stack: Stack
    calls: list[Call]
    ledger: Ledger
    windows: list[Window]
    cleanup_at: float
    notes: list[str]
    _records: list[dict[str, Any]] | None = None

    def records(self) -> list[dict[str, Any]]:
        if self._records is None:
            self._records = list(_scan(self.stack, "UploadsTable"))
        return self._records

    def upload_records(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("sk", {}).get("S", "").startswith("up#")]


def _scan(stack: Stack, logical_id: str) -> Iterator[dict[str, Any]]:
    paginator = stack.dynamodb().get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table(logical_id)):
        yield from page["Items"]


def _objects(stack: Stack) -> Iterator[dict[str, Any]]:
    for page in stack.s3().get_paginator("list_objects_v2").paginate(Bucket=stack.bucket):
        yield from page.get("Contents", [])


def _s(item: dict[str, Any], name: str) -> str:
    return str(item.get(name, {}).get("S", ""))


def _n(item: dict[str, Any], name: str) -> int | None:
    raw = item.get(name, {}).get("N")
    return int(raw) if raw is not None else None


# -- the invariants ------------------------------------------------------------------------------
def no_5xx_but_503_in_fault_windows(facts: Facts) -> Evidence:
    """No API answer 5xx but 503 with Retry-After, and those only while a fault was on; no request
    left without an answer."""
    ev = Evidence("no 5xx but 503 + Retry-After, in fault windows")
    spans = [(w.start, w.end + AFTERMATH_SECONDS, w.name) for w in facts.windows]
    for call in facts.calls:
        if call.kind not in ("api", "link"):
            continue
        ev.checked += 1
        if call.status == 0:
            ev.violations.append(f"{call.route} by {call.user}: no answer ({call.note})")
        elif call.status >= 500:
            inside = [name for start, end, name in spans if call.started <= end and call.ended >= start]
            if call.status != 503 or not call.retry_after:
                ev.violations.append(
                    f"{call.route} by {call.user}: {call.status}, Retry-After {call.retry_after!r}"
                )
            elif not inside:
                ev.violations.append(f"{call.route} by {call.user}: 503 outside every fault window")
    return ev


def completed_uploads_have_their_bytes(facts: Facts) -> Evidence:
    """Every upload a client saw ``complete`` (and did not delete) is stored with exactly its bytes."""
    ev = Evidence("every upload seen complete has its object, same sha256")
    s3 = facts.stack.s3()
    for done in facts.ledger.completed.values():
        if done.upload_id in facts.ledger.deleted:
            continue
        ev.checked += 1
        try:
            data = s3.get_object(Bucket=facts.stack.bucket, Key=done.key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            ev.violations.append(f"{done.key}: no object (the client saw it complete)")
            continue
        if hashlib.sha256(data).hexdigest() != done.sha256:
            ev.violations.append(f"{done.key}: {len(data)} bytes of another sha256 than the {done.size} sent")
    return ev


def every_object_has_its_record(facts: Facts) -> Evidence:
    """Every object belongs to a record ``complete``, or ``pending`` within its lifetime, once the
    cleanup has run."""
    ev = Evidence("every object: record complete, or pending within its lifetime")
    by_key = {_s(r, "object_key"): r for r in facts.upload_records()}
    for obj in _objects(facts.stack):
        ev.checked += 1
        record = by_key.get(obj["Key"])
        if record is None:
            ev.violations.append(f"{obj['Key']}: no record names it")
            continue
        status, expires_at = _s(record, "status"), _n(record, "expires_at") or 0
        if status == "complete" or (status == "pending" and expires_at > facts.cleanup_at - CLOCK_MARGIN):
            continue
        lease = _n(record, "cleanup_lease") or 0
        if status == "pending" and lease > facts.cleanup_at:
            # A run that failed on it (the storage was down) left its fence: the first run after
            # the lease takes it (runner.py, FENCE_LEASE_SECONDS). Counted, not a violation.
            ev.fenced += 1
            continue
        ev.violations.append(
            f"{obj['Key']}: record {_s(record, 'upload_id')} is {status} (expired at {expires_at}, "
            f"cleanup ran at {facts.cleanup_at:.0f}, lease {lease or 'none'})"
        )
    if ev.fenced:
        ev.note = f"{ev.fenced} pending past their lifetime, fenced by a cleanup run that failed on them"
    return ev


def complete_records_have_objects(facts: Facts) -> Evidence:
    """No record ``complete`` without its object, of the size it says."""
    ev = Evidence("no complete record without its object")
    s3 = facts.stack.s3()
    for record in facts.upload_records():
        if _s(record, "status") != "complete":
            continue
        ev.checked += 1
        key = _s(record, "object_key")
        try:
            head = s3.head_object(Bucket=facts.stack.bucket, Key=key)
        except s3.exceptions.ClientError as exc:
            ev.violations.append(f"{key}: complete, but HEAD says {exc.response['Error'].get('Code')}")
            continue
        if head["ContentLength"] != _n(record, "size"):
            ev.violations.append(
                f"{key}: complete at {_n(record, 'size')} bytes, stored {head['ContentLength']}"
            )
    return ev


def multipart_uploads_belong_to_pending_records(facts: Facts) -> Evidence:
    """Every multipart upload still open at the storage belongs to a ``pending`` record within its
    lifetime, or none at all: those orphans (the record's write failed after CreateMultipartUpload)
    are the sweep's once older than ``cleanup.max_age``, and until then counted apart."""
    ev = Evidence("every open multipart upload: its record pending, or a young orphan")
    by_storage_id = {_s(r, "mp_upload_id"): r for r in facts.upload_records() if _s(r, "mp_upload_id")}
    s3, orphans = facts.stack.s3(), 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=facts.stack.bucket):
        for upload in page.get("Uploads", []):
            ev.checked += 1
            record = by_storage_id.get(upload["UploadId"])
            if record is None:
                orphans += 1  # younger than max_age (2 days by default) in any soak
                continue
            status, expires_at = _s(record, "status"), _n(record, "expires_at") or 0
            lease = _n(record, "cleanup_lease") or 0
            if status == "pending" and (
                expires_at > facts.cleanup_at - CLOCK_MARGIN or lease > facts.cleanup_at
            ):
                continue
            ev.violations.append(
                f"{upload['Key']}: open at the storage, its record {_s(record, 'upload_id')} is {status}"
            )
    if orphans:
        ev.note = f"{orphans} orphans younger than cleanup.max_age, left to a later sweep"
    return ev


def shares_within_max_downloads(facts: Facts) -> Evidence:
    """Each share handed out at most ``max_downloads`` URLs: by its item's count and by the URLs
    its visitors got."""
    ev = Evidence("each share handed out at most max_downloads URLs")
    items = {_s(i, "handle"): i for i in _scan(facts.stack, "SharesTable") if _s(i, "handle")}
    for handle, seen in facts.ledger.shares.items():
        ev.checked += 1
        item = items.get(handle)
        counted = _n(item, "downloads") if item else None
        limit = seen.max_downloads
        if limit is None:
            continue
        if seen.urls > limit:
            ev.violations.append(f"share {handle}: visitors got {seen.urls} URLs, max_downloads {limit}")
        if counted is not None and counted > limit:
            ev.violations.append(
                f"share {handle}: its item counts {counted} downloads, max_downloads {limit}"
            )
    return ev


def limiter_allowance_kept(facts: Facts) -> Evidence:
    """Each user's admitted units of each action stay within the limit's bound: at most
    ``burst + rate * W / period`` over the W seconds between its first and last admitted request."""
    from presign.config.ratelimit import RateLimitSettings

    ev = Evidence("each user's admitted requests within the limiter's allowance")
    config = facts.stack.config
    settings = RateLimitSettings.model_validate(config.get("rate_limits", {}))
    spent: dict[tuple[str, str], list[Call]] = defaultdict(list)
    for call in facts.calls:
        if call.spent is not None:
            spent[(call.user, call.spent[0])].append(call)
    for (user, action), calls in sorted(spent.items()):
        ev.checked += 1
        limit = settings.limit_for(action, config["default_target"])  # type: ignore[arg-type]
        units = sum(c.spent[1] for c in calls if c.spent)
        first, last = min(c.started for c in calls), max(c.ended for c in calls)
        # The limiter reads the functions' clock: a skew window moved it forward, and that much
        # time more was the limiter's to allow (GCRA refills with the clock it is given).
        jumped = sum(w.clock_jump for w in facts.windows if first <= w.start <= last)
        bound = limit.burst + limit.rate * (last - first + jumped) / limit.period
        if units > bound:
            ev.violations.append(
                f"{user} {action}: {units} units admitted in {last - first:.1f} s (+{jumped:g} s of clock "
                f"jump), bound {bound:.1f} (burst {limit.burst}, {limit.rate}/{limit.period} s)"
            )
    return ev


def idempotent_retries_answer_the_same_upload(facts: Facts) -> Evidence:
    """A request sent again with its ``Idempotency-Key`` after its answer was dropped is answered
    with the same upload; and what clients noticed on the way (other bytes downloaded, a flow that
    raised) is reported here."""
    ev = Evidence("an Idempotency-Key retry answers the same upload")
    for key, first, second in facts.ledger.replays:
        ev.checked += 1
        if first != second:
            ev.violations.append(f"Idempotency-Key {key}: dropped answer {first}, retry {second}")
    ev.violations += facts.notes
    return ev


INVARIANTS: list[Callable[[Facts], Evidence]] = [
    no_5xx_but_503_in_fault_windows,
    completed_uploads_have_their_bytes,
    every_object_has_its_record,
    complete_records_have_objects,
    multipart_uploads_belong_to_pending_records,
    shares_within_max_downloads,
    limiter_allowance_kept,
    idempotent_retries_answer_the_same_upload,
]


def events_invariant() -> Callable[[Facts], Evidence] | str:
    """The events invariant (every committed change delivered with exactly one event id, issues
    22/23), from ``EVENTS_HOOK`` once the events code exists; until then the reason it is not
    checked, printed with the results. Events code without the hook fails the run by name."""
    if importlib.util.find_spec(EVENTS_PACKAGE) is None:
        return f"events: not yet: no outgoing events ({EVENTS_PACKAGE} is absent)"
    try:
        hook = importlib.import_module(EVENTS_HOOK)
    except ModuleNotFoundError:

        def missing(facts: Facts) -> Evidence:
            return Evidence(
                "every committed change: one event id delivered",
                violations=[f"{EVENTS_PACKAGE} exists but {EVENTS_HOOK} (its soak invariant) does not"],
            )

        return missing
    invariant: Callable[[Facts], Evidence] = hook.invariant
    return invariant


def check(facts: Facts) -> tuple[list[Evidence], list[str]]:
    extra = events_invariant()
    checks = [*INVARIANTS, *([extra] if callable(extra) else [])]
    return [inv(facts) for inv in checks], ([extra] if isinstance(extra, str) else [])
