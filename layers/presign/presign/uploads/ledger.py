"""The upload records as the routes read and write them: the base every job of ``Uploads`` shares.

A record is found only by its owner and id, and only if its key is under the owner's prefix; it
moves only by the state machine's conditional writes (``presign.uploads.records``), each followed
by one audit event; an idempotency claim a failed request holds is released. The jobs built on
this (``grant``, ``replay``, ``parts``, ``complete``, ``service``) add what their routes do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from presign.clock import Clock
from presign.config.target import Target
from presign.config.uploads import UploadRecordSettings
from presign.core.owners import Namespace
from presign.errors import ConfigurationError, Conflict, NotFound, UploadGone, UploadNotPending
from presign.uploads.idempotency import Claim
from presign.uploads.ids import MonotonicIds, is_upload_id
from presign.uploads.issue import Issued, MultipartStart, StartMultipart
from presign.uploads.ports import ObjectsFor, RecordStore, Targets
from presign.uploads.records import Status, UploadRecord
from presign.uploads.schemas import CreateUploadRequest

# A record moved by someone else is read again and the step retried; a few rounds settle any race
# (each round sees a later status, and statuses only move forward).
MAX_ROUNDS = 3
_ACTIONS: dict[Status, str] = {
    "pending": "create",
    "complete": "complete",
    "rejected": "reject",
    "aborted": "abort",
    "expired": "expire",
    "deleted": "delete",
}
# Who moved a record: the client's request, the scheduled cleanup, or a storage event.
Actor = Literal["client", "cleanup", "event"]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One state change: who (the owner's digest), what, where, and the status it led to."""

    action: str
    owner: str
    target: str
    key: str
    upload_id: str
    outcome: Status
    actor: Actor = "client"
    previous: Status = "pending"  # the status it left (``complete`` for a re-checked overwrite)


AuditSink = Callable[[AuditEvent], None]


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def target_gone() -> UploadGone:
    """What an upload whose target is no longer configured answers: 410, it cannot go on."""
    return UploadGone("this upload's storage target is no longer configured")


class Ledger:
    """The records behind the upload routes; ``store`` None means records are turned off."""

    def __init__(
        self,
        store: RecordStore | None,
        settings: UploadRecordSettings,
        *,
        clock: Clock,
        targets: Targets | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random_bytes: Callable[[int], bytes] = os.urandom,
        audit: AuditSink | None = None,
        namespace: Namespace | None = None,
        target_settings: Mapping[str, Target] | None = None,
    ) -> None:
        """``targets``: the configured targets and their signers (``Runtime``), which every route
        that signs needs. ``namespace``: who owns what (``Runtime.namespace``); by default ``{sub}``
        alone, with no target's prefix known, so no record's key is checked against one (tests).
        ``target_settings``: the targets' settings where no ``targets`` signs (the cleanup, the
        storage events): completion reads a target's ``no_overwrite`` and its kinds' rules."""
        self._store = store
        self._settings = settings
        self._targets = targets
        self._namespace = namespace or Namespace()
        self._target_settings: Mapping[str, Target] = target_settings or {}
        self._clock = clock
        self._sleep = sleep
        self._new_id = MonotonicIds(random_bytes)
        self._audit: AuditSink = audit or (lambda event: None)

    @property
    def records_enabled(self) -> bool:
        return self._store is not None

    def _require(self) -> RecordStore:
        if self._store is None:
            raise ConfigurationError("upload records are turned off (upload_records.enabled)")
        return self._store

    # -- recording an issued upload ------------------------------------------------------------

    @staticmethod
    def _starter(objects: ObjectsFor | None, target_name: str) -> StartMultipart | None:
        if objects is None:
            return None

        def start(what: MultipartStart) -> str:
            return objects(target_name).start_multipart(
                what.key, content_type=what.content_type, metadata=what.metadata, checksums=what.checksums
            )

        return start

    def _record_or_undo(
        self,
        owner: str,
        request: CreateUploadRequest,
        issued: Issued,
        digest: str | None,
        objects: ObjectsFor | None,
    ) -> None:
        """Record ``issued``; if that fails, abort the multipart upload it started (best effort)."""
        try:
            created = self._record(owner, request, issued, digest)
        except BaseException:
            self._undo_start(issued, objects)
            raise
        if not created:
            self._undo_start(issued, objects)
            raise Conflict("an upload with this id exists already; try again")

    @staticmethod
    def _undo_start(issued: Issued, objects: ObjectsFor | None) -> None:
        if issued.multipart is None or objects is None:
            return
        try:
            objects(issued.response.target).abort_multipart(
                issued.response.key, issued.multipart.storage_upload_id
            )
        except Exception:  # noqa: BLE001 - the record's failure is the one to answer; cleanup aborts later
            return

    def _record(self, owner: str, request: CreateUploadRequest, issued: Issued, digest: str | None) -> bool:
        grant = issued.response
        url_expires_at = epoch(datetime.fromisoformat(grant.expires_at.replace("Z", "+00:00")))
        created = url_expires_at - grant.expires_in
        record = UploadRecord(
            owner=owner,
            upload_id=grant.upload_id,
            target=grant.target,
            key=grant.key,
            method=grant.method,
            size=request.size,
            content_type=request.content_type,
            status="pending",
            created_at=created,
            expires_at=issued.expires_at,
            updated_at=created,
            filename=request.filename,
            kind=request.kind,
            checksum_sha256=request.checksum_sha256,
            metadata=dict(request.metadata),
            idempotency_key=digest,
            multipart=issued.multipart,
        )
        assert self._store is not None
        if not self._store.create(record, ttl=self._ttl(record)):
            return False
        self._emit(record)
        return True

    # -- the records ----------------------------------------------------------------------------

    def _require_targets(self) -> Targets:
        if self._targets is None:
            raise ConfigurationError("these upload routes need the configured targets")
        return self._targets

    def _get(self, owner: str, upload_id: str) -> UploadRecord:
        # A malformed id, an unknown one and another caller's are the same answer; so is one
        # whose key is outside the caller's prefix (defence in depth: Namespace.holds).
        record = self._require().get(owner, upload_id) if is_upload_id(upload_id) else None
        if record is None or not self._namespace.holds(owner, record.target, record.key):
            raise NotFound("no such upload")
        return record

    @staticmethod
    def _require_pending(record: UploadRecord) -> None:
        if record.status in ("rejected", "aborted"):
            raise UploadNotPending(f"this upload was {record.status}; it cannot be completed")
        if record.status == "expired":
            raise UploadGone("this upload expired before anything was stored")
        if record.status == "deleted":
            raise UploadGone("this upload was deleted")

    def _move(
        self,
        moved: UploadRecord,
        current: UploadRecord,
        *,
        actor: Actor = "client",
        lease: int | None = None,
        etag: str | None = None,
    ) -> bool:
        """One conditional write (``RecordStore.transition``: on ``current``'s status, and
        ``lease`` / ``etag`` when given), then its audit line."""
        written = self._require().transition(
            moved, expected=current.status, ttl=self._ttl(moved), lease=lease, etag=etag
        )
        if not written:
            return False
        self._emit(moved, actor=actor, previous=current.status)
        return True

    def _release(self, claim: Claim) -> None:
        # Best effort: a claim that stays behind only makes the retry wait STALE_CLAIM_SECONDS.
        try:
            self._require().release(claim)
        except Exception:  # noqa: BLE001 - the original error is the one to answer
            return

    def _ttl(self, record: UploadRecord) -> int | None:
        settings = self._settings
        if record.status == "pending":
            return record.expires_at + settings.pending_retention
        if record.status == "complete":
            if settings.completed_retention is None:
                return None
            return (record.completed_at or record.updated_at) + settings.completed_retention
        return record.updated_at + settings.closed_retention

    def _emit(self, record: UploadRecord, *, actor: Actor = "client", previous: Status = "pending") -> None:
        try:
            self._audit(
                AuditEvent(
                    action=_ACTIONS[record.status],
                    owner=record.owner,
                    target=record.target,
                    key=record.key,
                    upload_id=record.upload_id,
                    outcome=record.status,
                    actor=actor,
                    previous=previous,
                )
            )
        except Exception:  # noqa: BLE001 - a logging hiccup must not fail a state change that happened
            return
