"""Storage events: each object-created notification runs the one completion path for the upload
its key names (issue 21).

For each object created (``notifications.parse_notification``), for each configured target whose
bucket is the event's, for each spelling of the key (``ObjectCreated.candidates``): the cleanup's
key parser (``presign.cleanup.keys.ServiceKeys``) gives the owner's claims and the upload id, so
the record is one ``GetItem`` away, never a Scan. The record must name exactly this key
(``key_matches``). Then, by the record's status:

* ``pending``: the completion (``Completion.arrived``, actor ``event``): ``complete``, or
  ``rejected`` with the object deleted; not all there yet (a HEAD that does not see it, parts
  missing), or held by the cleanup's fence: nothing, the cleanup decides later;
* ``complete``: the object may have been overwritten: its ETag is compared, and a new one verified
  again (``Completion.recheck``);
* ``rejected``, ``aborted``, ``expired``, ``deleted``: the record names this key and never
  confirmed what is there now, which a URL still valid stored after the decision (or the event
  came late, after a DELETE: deleting again is harmless). It is deleted, as the cleanup would when
  it removes the record.

A key that parses to nothing, or that no record names, is never touched: it may belong to another
deployment sharing the bucket. Duplicates and events out of order end in the same state (every
write is conditional; a decided record moves no further). Storage or table failures raise
(``DependencyUnavailable``): the invocation fails and is retried, then lands in the on-failure
destination.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from presign.cleanup.keys import ServiceKeys
from presign.cleanup.ports import RecordRef
from presign.config.target import Target
from presign.errors import (
    Conflict,
    NotFound,
    NotUploaded,
    PartsMismatch,
    PartsMissing,
    UnknownPart,
    UploadGone,
)
from presign.storage_events.notifications import ObjectCreated, parse_notification
from presign.uploads.completion import Completion
from presign.uploads.ports import ObjectsFor, RecordStore
from presign.uploads.records import UploadRecord

# Statuses whose record names its key but never confirmed what a late write stored there.
_UNCONFIRMED = frozenset(("rejected", "aborted", "expired", "deleted"))
# What leaves a pending upload to a later event or the cleanup: not all there, or fenced.
_WAITING = (NotUploaded, PartsMissing, PartsMismatch, UnknownPart, UploadGone)
Warn = Callable[[str, Mapping[str, Any]], None]


class StorageEvents:
    def __init__(
        self,
        targets: Mapping[str, Target],
        *,
        records: RecordStore,
        completion: Completion,
        objects: ObjectsFor,
        warn: Warn,
        pending: Callable[[], Iterable[RecordRef]] | None = None,
    ) -> None:
        """``pending``: the pending uploads' index entries, for ``sweep``."""
        self._targets = targets
        self._keys = {name: ServiceKeys.of(target) for name, target in targets.items()}
        self._records = records
        self._completion = completion
        self._objects = objects
        self._warn = warn
        self._pending = pending

    def handle(self, event: object) -> dict[str, int]:
        """Every object the event says was created, each to its one final state: the counts
        (``completed``, ``rejected``, ``kept`` (a re-checked overwrite that matched, or a record
        already decided), ``waiting``, ``stray_deleted``, ``unknown``).

        ``{"sweep": true}`` instead runs the completion over every pending upload: what events
        were lost for (make dev runs it before its feed starts: SeaweedFS loses the last minute
        of its event log when it is killed)."""
        if isinstance(event, Mapping) and event.get("sweep") is True:
            return self.sweep()
        counts: Counter[str] = Counter()
        for created in parse_notification(event):
            found = self._records_of(created)
            if not found:
                counts["unknown"] += 1  # not ours, or no record: never touched
            for record in found:
                counts[self._one(record)] += 1
        return dict(counts)

    def sweep(self) -> dict[str, int]:
        """The completion over every pending upload the ``pending`` index holds (one Query per
        day and shard of the window uploads can be pending in; one GetItem each)."""
        counts: Counter[str] = Counter()
        if self._pending is None:
            return {}
        for ref in self._pending():
            record = self._records.get(ref.owner, ref.upload_id)
            if record is not None and record.status == "pending":
                counts[self._one(record)] += 1
        return dict(counts)

    def _records_of(self, created: ObjectCreated) -> list[UploadRecord]:
        """The records that name this object's key: one ``GetItem`` per (owner, upload id)."""
        seen: set[tuple[str, str]] = set()
        found: list[UploadRecord] = []
        for name, target in self._targets.items():
            if target.bucket != created.bucket:
                continue
            for candidate in created.candidates:
                key = self._keys[name].parse(candidate)
                if key is None or (key.owner, key.upload_id) in seen:
                    continue
                seen.add((key.owner, key.upload_id))
                record = self._records.get(key.owner, key.upload_id)
                if record is not None and record.target == name and created.key_matches(record.key):
                    found.append(record)
        return found

    def _one(self, record: UploadRecord) -> str:
        before = record.status
        if before in _UNCONFIRMED:
            storage = self._objects(record.target)
            if storage.head(record.key, checksum=False) is None:
                return "kept"  # a late event: the object is gone already
            storage.delete(record.key)
            self._warn(
                "storage event: deleted an object its record never confirmed",
                {"target": record.target, "upload_id": record.upload_id, "status": before},
            )
            return "stray_deleted"
        try:
            after = self._completion.arrived(record, self._objects, actor="event")
        except _WAITING:
            return "waiting"
        except (Conflict, NotFound):
            return "kept"  # moved by someone else meanwhile: theirs
        if after.status == "complete":
            return "completed" if before == "pending" else "kept"
        if after.status == "rejected":
            return "rejected"
        return "kept"
