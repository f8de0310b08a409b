"""The upload record and the status state machine it follows.

One record per upload, written by ``POST /uploads`` before the URL is answered. It holds what the
caller declared (size, content type, checksum, metadata), where the object goes (target, key) and
when the URL dies; never a URL, a signature or a token: those are credentials, and a replay of
an idempotent request signs again instead.

**Statuses and their transitions** (nothing else is ever written)::

    pending  --complete-->  complete   the stored object was HEADed, its first bytes read, and it matched
    pending  --reject---->  rejected   it did not match; the object was deleted first
    pending  --abort----->  aborted    DELETE /uploads/{id}; the object, if any, was deleted first
    pending  --expire---->  expired    the URL died with nothing stored (completion or cleanup)
    complete --delete---->  deleted    DELETE /uploads/{id} of a completed upload; object deleted
    complete --reject---->  rejected   the object changed after completion (an overwrite with a URL
                                       still valid) and the new one did not match; deleted first

``rejected``, ``aborted``, ``expired`` and ``deleted`` are final. Every transition is one
conditional write, ``status = <from>``, so two requests racing on one upload (a completion and an
abort, two completions) cannot both move it: the loser's condition fails, it reads the record
again and answers from what it finds. That is why a record never says ``complete`` for an object
that was not checked: the only write that sets ``complete`` is conditioned on the record still
being ``pending``, and is made by the request that has just compared the object.

**Actors.** One completion path (``presign.uploads.completion``) makes the first two moves, for
three actors: the ``client`` (``POST /uploads/{id}/complete``), the ``cleanup`` (a stale pending
upload whose object arrived) and a storage ``event`` (object created). Each change is one audit
line naming its actor. ``rejected`` records which error a client asking later gets
(``rejected_code``: ``upload_mismatch`` or ``content_mismatch``).

**Overwrites.** A PUT URL stays valid until it expires, so a completed object can be replaced.
``complete`` remembers the ETag it checked; an object found with another ETag (a storage event,
or the cleanup's one re-check after the URL died, ``recheck_at``) is verified again: it stays
``complete`` with the new ETag (one write conditioned on the old ETag), or moves
``complete -> rejected`` after the delete (conditioned on the old ETag too, so of two re-checks
one writes).

Storage actions come before the write that records them (the object is deleted, then the record
says ``rejected`` / ``aborted`` / ``deleted``), so a failure in between leaves the record in its
old status and a retry redoes the work; never a record that claims more than happened.
``tests/unit/test_lifecycle_state_machine.py`` checks both claims against random interleavings.

**Multipart uploads** (``multipart`` set) follow the same machine; their storage actions are the
multipart calls. ``complete`` comes after CompleteMultipartUpload and a HEAD of the result,
``aborted`` after AbortMultipartUpload (and a delete of the key, in case a completion won the
race), ``expired`` after AbortMultipartUpload when the upload's lifetime ended with parts missing.
The cleanup and events complete without a client's part list: every planned part stored at its
planned size completes the upload from ListParts.

**Cleanup's fence.** The scheduled cleanup (``presign.cleanup``) works on stale pending uploads.
It first sets ``cleanup_at`` on the still-pending record with its lease (``cleanup_lease``, a
conditional write); from then on a write to ``complete`` (or a client's ``expired``) needs
``cleanup_at`` absent *or* the lease named in its condition to be the one stored: only the run
holding the fence may complete or expire the upload, a client's ``/complete`` answers 410 and an
event does nothing. (A rejection racing
the fence is left unconditioned: it deleted what it found different, and the record says so.) The
cleanup then runs the completion itself; when nothing (or not every part) arrived it cleans the
storage and writes ``expired``. A completion racing it could otherwise HEAD the object just
before the cleanup deletes it and write ``complete`` just after: a confirmed upload without its
object. One of the two wins, never both.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from presign.core.partplan import PartPlan

Status = Literal["pending", "complete", "rejected", "aborted", "expired", "deleted"]
STATUSES: tuple[Status, ...] = ("pending", "complete", "rejected", "aborted", "expired", "deleted")
FINAL: frozenset[Status] = frozenset(("rejected", "aborted", "expired", "deleted"))

TRANSITIONS: dict[Status, frozenset[Status]] = {
    "pending": frozenset(("complete", "rejected", "aborted", "expired")),
    "complete": frozenset(("deleted", "rejected")),
    "rejected": frozenset(),
    "aborted": frozenset(),
    "expired": frozenset(),
    "deleted": frozenset(),
}


def allowed(source: Status, target: Status) -> bool:
    return target in TRANSITIONS[source]


class TransitionError(ValueError):
    """A transition the state machine does not have (a programming error, never a client's)."""


@dataclass(frozen=True, slots=True)
class Multipart:
    """The storage side of a multipart upload.

    ``storage_upload_id`` is the store's own id of the upload (CreateMultipartUpload's answer): it
    is needed to sign parts and to list, complete or abort them, and is never shown to anyone.
    """

    storage_upload_id: str
    part_size: int
    checksums: bool = False  # every part carries x-amz-checksum-sha256, signed into its URL

    def plan(self, size: int) -> PartPlan:
        return PartPlan(size=size, part_size=self.part_size, part_count=max(1, -(-size // self.part_size)))


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """One upload. Times are epoch seconds; ``owner`` is the caller's digest, never their id."""

    owner: str
    upload_id: str
    target: str
    key: str
    method: Literal["PUT", "POST"]
    size: int
    content_type: str
    status: Status
    created_at: int
    expires_at: int
    updated_at: int
    filename: str = ""
    kind: str | None = None
    checksum_sha256: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None  # the key's digest, when the upload was made with one
    # Set on completion: what the storage said about the object that was checked.
    etag: str | None = None
    completed_at: int | None = None
    # Set on rejection: what differed, one line per field.
    problems: tuple[str, ...] = ()
    rejected_code: str | None = None  # the error code of that rejection (upload or content mismatch)
    # Set for a multipart upload; ``expires_at`` is then the end of its lifetime, not one URL's.
    multipart: Multipart | None = None
    # Set by the cleanup job before it touches a stale pending upload's storage (``fence``): from
    # then on no completion may mark it ``complete``, so the object it is about to delete can never
    # be one a record confirms. The status stays ``pending`` until the storage is clean.
    cleanup_at: int | None = None
    # Set on a completion made while a PUT URL could still overwrite the object: when the cleanup
    # re-checks it once (HEAD; a changed ETag is verified again). Removed by that re-check.
    recheck_at: int | None = None
    # The owner's ``sub`` and namespace claims, written once at creation (never a key) so the
    # record's events can name the user; empty on records made before they were kept.
    owner_claims: dict[str, str] = field(default_factory=dict)

    def moved(self, status: Status, *, now: int, **changes: object) -> UploadRecord:
        """This record in ``status`` (raises ``TransitionError`` for a transition that does not exist)."""
        if not allowed(self.status, status):
            raise TransitionError(f"{self.status} -> {status} is not a transition of an upload")
        return dataclasses.replace(self, status=status, updated_at=now, **changes)  # type: ignore[arg-type]
