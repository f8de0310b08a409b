"""The cleanup run: its work plan, its guarantees and its time budget.

**The plan**, in this order, every step driven by an index (never a Scan):

1. *stale pending uploads* (the uploads table's ``pending`` index, by expiry): pending
   ``grace`` seconds after the URL, or a multipart upload's lifetime, ended. For each: *fence* the
   record (``cleanup_at`` with a lease, conditional on ``pending``: one run at a time works on
   it, and from then on only that run may mark it ``complete`` or ``rejected``); run the one
   completion path under the fence (``presign.cleanup.stale``): what arrived and matches is
   ``complete``, what does not is deleted and ``rejected``; what never (fully) arrived: abort the
   storage's multipart upload, delete anything at the key, then ``pending -> expired``. A target
   with ``upload.completion: "client"`` skips the completion: everything stale expires;
1b. *completions to check again* (the ``recheck`` index): single uploads completed while their
   URL could still overwrite the object, once that URL is dead: a changed ETag is verified again;
2. *the storage sweep*, per target: ListMultipartUploads under the static part of the target's
   key prefix (every page), keys of the service's own shape only (``presign.cleanup.keys``),
   initiated more than ``max_age`` ago and named by no record (the key holds the caller and the
   upload id: one ``BatchGetItem`` per 100 uploads): claimed in the table (one conditional write, so of two
   runs one aborts), then aborted;
3. *stale shares* (the shares table's ``stale`` index): removed ``share_grace`` after they
   stopped working;
4. *old records* (the uploads table's ``removable`` index): deleted once past their retention; a
   record never confirmed (rejected, aborted, expired, deleted) is leased first and its key
   cleaned (a URL still valid after an abort may have stored an object since).

**Never a confirmed file lost.** Cleanup deletes an object only after its fence write succeeded
on a record that was still ``pending``, and every other write to ``complete`` requires no fence
(``presign.uploads.records``): a record that says ``complete`` was completed before the fence
(whose condition then failed, and cleanup touched nothing), or by this run itself, which then
deletes nothing. A rejection (and a re-check's) deletes only what it has just found different. The sweep only aborts multipart
uploads, which never deletes an object, and never one a pending record claims.

**Crash-safe and repeatable.** The storage is cleaned before the record says so: a run that dies
between leaves the record pending and fenced, the next run does the same steps again (each is
idempotent: aborting what is gone and deleting what is absent succeed). Items done leave the
indexes (``expired`` drops out of ``pending``, deleted items out of theirs), so the next run
continues where this one stopped. Two runs at once: every change is conditional, and only the run
whose write succeeded counts it.

**Bounded.** Before each item the run asks how much time is left (``remaining_ms``, Lambda's
``get_remaining_time_in_millis``); below ``time_margin`` it lets the items in flight finish, stops
and says ``stopped_early``. Items are worked ``concurrency`` at a time (each one is a few network
calls, mostly waiting). One item's failure is counted (``errors``), logged, and the run goes on.

``tests/unit/test_cleanup_properties.py`` checks these claims over random interleavings.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any, TypeVar

from presign.cleanup.keys import ServiceKeys
from presign.cleanup.ports import (
    CleanupRecords,
    CleanupShares,
    RecordKey,
    RecordRef,
    ShareRef,
    StorageUpload,
    SweepStorage,
)
from presign.cleanup.report import UNATTRIBUTED, Report
from presign.cleanup.stale import FENCE_LEASE_SECONDS, StaleUploads
from presign.config.cleanup import CleanupSettings
from presign.config.target import Target
from presign.limits import DAY
from presign.uploads.completion import Completion

LOOKUP_BATCH = 100  # storage uploads looked up in the records table at once (BatchGetItem's limit)
# Final statuses whose object was never confirmed, or was deleted by its owner: anything at their
# key when the record is removed is a leftover (``complete`` is not among them, ever).
NEVER_CONFIRMED = frozenset(("rejected", "aborted", "expired", "deleted"))
ORPHAN_CLAIM_SECONDS = 3600  # a claim whose run died frees the upload for a later run after this
Warn = Callable[[str, Mapping[str, Any]], None]
StorageFor = Callable[[str], SweepStorage]
T = TypeVar("T")


class OutOfTime(Exception):
    """The run's budget is spent: stop here, cleanly."""


class Cleanup:
    def __init__(
        self,
        settings: CleanupSettings,
        *,
        targets: Mapping[str, Target],
        records: CleanupRecords | None,
        shares: CleanupShares | None,
        storage: StorageFor,
        clock: Callable[[], datetime],
        closed_retention: int,
        share_grace: int,
        warn: Warn,
        completion: Completion | None = None,
    ) -> None:
        """``completion``: the one completion path, for stale uploads whose object arrived (and
        completions to check again); None expires every stale upload, verified or not."""
        self._settings = settings
        self._targets = targets
        self._records = records
        self._shares = shares
        self._storage = storage
        self._clock = clock
        self._closed_retention = closed_retention
        self._share_grace = share_grace
        self._warn = warn
        self._stale = (
            StaleUploads(
                records,
                targets=targets,
                storage=storage,
                completion=completion,
                closed_retention=closed_retention,
            )
            if records is not None
            else None
        )

    def run(
        self, *, dry_run: bool, remaining_ms: Callable[[], int], targets: Sequence[str] | None = None
    ) -> Report:
        """One run over ``targets`` (default: every configured one). Never raises for an item."""
        selected = frozenset(targets) if targets is not None else None
        report = Report(dry_run=dry_run)
        for name in self._targets:
            if selected is None or name in selected:
                report.include(name)
        margin_ms = int(self._settings.time_margin * 1000)

        def check() -> None:
            if remaining_ms() <= margin_ms:
                raise OutOfTime

        now = self._now()
        lookback = self._settings.lookback_days * DAY  # behind each step's due line
        try:
            if self._records is not None:
                due = now - self._settings.grace
                refs = self._records.pending_due(since=due - lookback, before=due)
                self._each(
                    refs, check, report, lambda ref: self._stale_upload(ref, report, selected, dry_run)
                )
                recheck = self._records.recheck_due(since=now - lookback, before=now)
                self._each(recheck, check, report, lambda ref: self._recheck(ref, report, selected, dry_run))
            for name, target in self._targets.items():
                if selected is None or name in selected:
                    self._sweep(name, target, check, report, dry_run)
            if self._shares is not None:
                shares = self._shares
                due = now - self._share_grace
                stale = shares.stale_due(since=due - lookback, before=due)
                self._each(
                    stale,
                    check,
                    report,
                    lambda ref: self._stale_share(shares, ref, report, selected, dry_run),
                )
            if self._records is not None:
                records = self._records
                old = records.removable_due(since=now - lookback, before=now)
                self._each(
                    old, check, report, lambda ref: self._old_record(records, ref, report, selected, dry_run)
                )
        except OutOfTime:
            report.stopped_early = True
        return report

    # -- the loop every step shares ---------------------------------------------------------

    def _each(
        self, items: Iterable[T], check: Callable[[], None], report: Report, work: Callable[[T], None]
    ) -> None:
        """``work`` on every item, ``concurrency`` at a time; the budget is checked before each.

        Out of time, the items in flight finish (each is a few storage and table calls) and then
        the run stops: nothing is left half done by the budget itself.
        """
        iterator: Iterator[T] = iter(items)
        concurrency = self._settings.concurrency
        if concurrency == 1:  # on this thread (the property tests schedule every thread)
            for item in self._next_items(iterator, check, report):
                self._one(item, report, work)
            return
        in_flight: set[Future[None]] = set()
        with ThreadPoolExecutor(concurrency, thread_name_prefix="cleanup") as pool:
            try:
                for item in self._next_items(iterator, check, report):
                    if len(in_flight) >= concurrency:
                        _, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    in_flight.add(pool.submit(self._one, item, report, work))
            finally:
                wait(in_flight)

    def _next_items(self, iterator: Iterator[T], check: Callable[[], None], report: Report) -> Iterator[T]:
        """The items, with the budget checked before each; an index read that fails ends them."""
        while True:
            check()
            try:
                item = next(iterator)
            except StopIteration:
                return
            except _TargetFailed as failed:  # this target's storage is down; the others are not
                cause = failed.__cause__ if isinstance(failed.__cause__, Exception) else failed
                self._failed(report, failed.target, "list", cause)
                return
            except Exception as exc:  # noqa: BLE001 - an index read failed: count it, go on with the next step
                self._failed(report, UNATTRIBUTED, "read", exc)
                return
            yield item

    def _one(self, item: T, report: Report, work: Callable[[T], None]) -> None:
        try:
            work(item)
        except Exception as exc:  # noqa: BLE001 - one item's failure must not stop the rest
            self._failed(report, getattr(item, "target", "") or UNATTRIBUTED, type(item).__name__, exc)

    def _failed(self, report: Report, target: str, what: str, exc: Exception) -> None:
        report.add(target, "errors")
        details = getattr(exc, "details", {}) or {}
        self._warn(
            "cleanup item failed",
            {
                "target": target,
                "item": what,
                "error": type(exc).__name__,
                "reason": details.get("reason", ""),
            },
        )

    def _now(self) -> int:
        return int(self._clock().timestamp())

    # -- 1. stale pending uploads (presign.cleanup.stale) ------------------------------------

    def _stale_upload(
        self, ref: RecordRef, report: Report, selected: frozenset[str] | None, dry_run: bool
    ) -> None:
        if selected is not None and ref.target not in selected:
            return  # the index carries the target
        assert self._stale is not None
        now = self._now()
        self._stale.stale(ref, report, now=now, due=now - self._settings.grace, dry_run=dry_run)

    def _recheck(
        self, ref: RecordRef, report: Report, selected: frozenset[str] | None, dry_run: bool
    ) -> None:
        if selected is not None and ref.target not in selected:
            return
        assert self._stale is not None
        self._stale.recheck(ref, report, now=self._now(), dry_run=dry_run)

    # -- 2. the storage sweep ---------------------------------------------------------------

    def _sweep(
        self, name: str, target: Target, check: Callable[[], None], report: Report, dry_run: bool
    ) -> None:
        keys = ServiceKeys.of(target)
        storage = self._storage(name)
        max_age = self._settings.max_age

        def candidates() -> Iterator[tuple[StorageUpload, RecordKey]]:
            """Old uploads of the service's own keys (anything else is never touched)."""
            for upload in storage.list_multipart(keys.static_prefix):
                ours = keys.parse(upload.key)
                if ours is not None and self._now() - upload.initiated >= max_age:
                    yield upload, (ours.owner, ours.upload_id)

        def orphans() -> Iterator[_Named]:
            """The candidates no record names, looked up ``LOOKUP_BATCH`` at a time."""
            batch: list[tuple[StorageUpload, RecordKey]] = []
            for candidate in itertools.chain(candidates(), [None]):
                if candidate is not None:
                    batch.append(candidate)
                    if len(batch) < LOOKUP_BATCH:
                        continue
                named = self._named_uploads([ref for _, ref in batch])
                for upload, ref in batch:
                    # A record that names this storage upload, in any status: pending, step 1
                    # decides its fate; otherwise it was moved after the storage's upload ended
                    # (storage first), so this listing is older than that, and aborting it again
                    # would count one upload twice.
                    if named.get(ref) != upload.upload_id:
                        yield _Named(name, upload)
                batch = []

        def orphan(upload: StorageUpload) -> None:
            if not dry_run:
                now = self._now()
                records = self._records
                if records is not None and not records.claim_orphan(
                    name, upload, now=now, ttl=now + ORPHAN_CLAIM_SECONDS
                ):
                    return  # another run is aborting it
                storage.abort_multipart(upload.key, upload.upload_id)
            report.add(name, "orphans_aborted")

        self._each(_attributed(orphans(), name), check, report, lambda item: orphan(item.upload))

    def _named_uploads(self, refs: list[RecordKey]) -> dict[RecordKey, str | None]:
        if self._records is None or not refs:
            return {}
        return self._records.storage_upload_ids(refs)

    # -- 3. stale shares, 4. old records ----------------------------------------------------

    def _stale_share(
        self,
        shares: CleanupShares,
        ref: ShareRef,
        report: Report,
        selected: frozenset[str] | None,
        dry_run: bool,
    ) -> None:
        if selected is not None and ref.target not in selected:
            return
        if dry_run or shares.remove(ref, now=self._now()):
            report.add(ref.target, "shares_removed")

    def _old_record(
        self,
        records: CleanupRecords,
        ref: RecordRef,
        report: Report,
        selected: frozenset[str] | None,
        dry_run: bool,
    ) -> None:
        """Remove a record past its retention. One never confirmed takes its key along: a URL
        still valid after an abort (or the object a late part assembled) may have stored an
        object there since, and the key is that upload's alone (it holds the upload id)."""
        if selected is not None and ref.target not in selected:
            return
        now = self._now()
        sweep_key = ref.status in NEVER_CONFIRMED and bool(ref.key)
        if dry_run:
            report.add(ref.target, "records_removed")
            if sweep_key and self._storage(ref.target).head(ref.key, checksum=False) is not None:
                report.add(ref.target, "objects_deleted")
            return
        if not sweep_key:
            if records.remove(ref, now=now, lease_until=None):
                report.add(ref.target, "records_removed")
            return
        until = now + FENCE_LEASE_SECONDS
        if not records.lease(ref, now=now, until=until):
            return  # moved, gone, or another run is on it
        storage = self._storage(ref.target)
        stored = storage.head(ref.key, checksum=False) is not None
        if stored:
            storage.delete(ref.key)
        if records.remove(ref, now=now, lease_until=until):
            report.add(ref.target, "records_removed")
            if stored:
                report.add(ref.target, "objects_deleted")


class _Named:
    __slots__ = ("target", "upload")

    def __init__(self, target: str, upload: StorageUpload) -> None:
        self.target = target
        self.upload = upload


def _attributed(items: Iterator[_Named], target: str) -> Iterator[_Named]:
    """``items``, with a failure to list or look up reported as the target's (not unattributed)."""
    try:
        yield from items
    except Exception as exc:
        raise _TargetFailed(target) from exc


class _TargetFailed(Exception):
    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target
