"""From one DynamoDB stream record to the events it is, if any.

Events are state transitions, read from the old and the new image of a committed write; never
raw writes. Which item a record is about comes from its key, as the adapters lay them out
(``presign.adapters.dynamodb_uploads``, ``presign.adapters.dynamodb_shares``;
``tests/unit/test_event_changes.py`` checks the prefixes against them):

* an **upload record** (``pk = "u#..."``, ``sk = "up#..."``):
  INSERT of a ``pending`` record -> ``upload.created``; MODIFY whose ``status`` differs between
  the images -> the new status's event: ``complete`` -> ``upload.completed``, ``rejected`` ->
  ``upload.rejected``, ``expired`` -> ``upload.expired``, ``deleted`` -> ``upload.deleted``, and
  ``aborted`` -> ``upload.deleted`` too. An abort is the owner deleting an upload that never
  completed (``DELETE /uploads/{id}`` of a pending one); for a backend both mean "this upload is
  gone at its owner's request", so the catalogue keeps one type, and ``data.status`` (``aborted``
  or ``deleted``) with ``data.previous_status`` (``pending`` or ``complete``) tells them apart.
* a **share** (``pk = "s#" + handle``, no sort key): INSERT -> ``share.created``; a MODIFY whose
  ``downloads`` grows -> ``share.accessed``, and, when it reaches ``max_downloads``,
  ``share.exhausted`` as well (one change, two events, in that order); ``revoked_at`` appearing
  -> ``share.revoked``; ``expired_at`` appearing on a share not revoked -> ``share.expired``.
  A share's status is derived from the clock, so expiry is only a change once something writes
  it: the cleanup marks expired shares with a conditional write (phase 2, ``expired_at``), and
  the event comes from that committed change, as late as the cleanup's schedule makes it.
  Only accesses that write are events: a count-limited link spends a download, a write; an
  unlimited link is never written on access and emits nothing, so a hot link stays read-only.
  (A password-protected link without a count writes on access only if its spend is made to
  count, ``downloads + 1`` without a limit: phase 2's choice, and this code already follows it.)

Never an event: idempotency claims (``i#``), orphan claims (``c#``), anything else not keyed as
above, the cleanup's fence and leases (``cleanup_at``, ``cleanup_lease``: status unchanged), a
TTL stamp, index moves (``pending_*``, ``removable_*``, ``stale_*``), failed password attempts
and locks (``failed_attempts``, ``locked_until``), a re-revocation, a MODIFY that changes nothing
(moto emits one for a no-op update; DynamoDB does not: neither is relied on), an INSERT that is
not a pending upload or a new share, and a REMOVE (the cleanup's deletion of old records, TTL).

**Sequence.** Per item, growing with each evented change. An upload's is its record's
``version`` when the record has one (phase 2), else its status's rank: ``pending`` 1; ``complete``,
``rejected``, ``aborted``, ``expired`` 2; ``deleted`` 3 (the state machine only moves forward, so
the rank grows with every transition, and a ``version`` written as "incremented on every
transition, 1 at creation" is the same number). The one move out of a final state,
``complete`` -> ``rejected`` (an overwrite that fails its re-check, ``presign.uploads.completion``),
is made only by code that writes ``version``, so its image always carries one. A share's is ``1 + downloads`` plus one for
each of ``revoked_at`` and ``expired_at``: a spend adds a download, a revocation or an expiry
mark adds a mark, and nothing takes either away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from presign.events.images import decode_image, decode_value
from presign.events.model import Event, EventType, MalformedChange, event_id, iso_seconds

UPLOAD_PK = "u#"
UPLOAD_SK = "up#"
SHARE_PK = "s#"

_UPLOAD_EVENTS: dict[str, EventType] = {
    "complete": "upload.completed",
    "rejected": "upload.rejected",
    "expired": "upload.expired",
    "deleted": "upload.deleted",
    "aborted": "upload.deleted",
}
UPLOAD_RANK: dict[str, int] = {
    "pending": 1,
    "complete": 2,
    "rejected": 2,
    "aborted": 2,
    "expired": 2,
    "deleted": 3,
}
_NAMES = ("INSERT", "MODIFY", "REMOVE")


# What a MODIFY must change to be an event; a write that leaves these alone is none (checked on
# the raw images, before anything is decoded: most writes are not events).
_UPLOAD_STATE = ("status",)
_SHARE_STATE = ("downloads", "revoked_at", "expired_at")


@dataclass(frozen=True, slots=True)
class Change:
    """One stream record: its new image decoded, its old image as it came (few of its values matter)."""

    table: str
    name: str
    keys: dict[str, Any]
    old: Mapping[str, Any] | None
    new: dict[str, Any] | None
    sequence_number: str
    approximate_time: float | None

    def before(self, name: str) -> Any:
        """One attribute of the old image, decoded (None if absent)."""
        old = _image(self.old, "OldImage")
        return decode_value(old[name]) if name in old else None


def events_of(record: Mapping[str, Any]) -> list[Event]:
    """The events one stream record is, in order (none for most writes)."""
    name, body = _body(record)
    if name == "REMOVE":
        return []
    keys = decode_image(body.get("Keys"))
    pk, sk = keys.get("pk"), keys.get("sk")
    state: tuple[str, ...]
    if isinstance(pk, str) and pk.startswith(UPLOAD_PK) and isinstance(sk, str) and sk.startswith(UPLOAD_SK):
        state, read = _UPLOAD_STATE, _upload_events
    elif isinstance(pk, str) and pk.startswith(SHARE_PK) and set(keys) == {"pk"}:
        state, read = _SHARE_STATE, _share_events
    else:
        return []  # a claim, a fence of another kind, an item of another table
    if name == "MODIFY" and _unchanged(body, state):
        return []
    return read(read_change(record))


def read_change(record: Mapping[str, Any]) -> Change:
    name, body = _body(record)
    sequence_number = body.get("SequenceNumber")
    if not isinstance(sequence_number, str) or not sequence_number:
        raise MalformedChange("a stream record without its SequenceNumber")
    moment = body.get("ApproximateCreationDateTime")
    old = body.get("OldImage")
    return Change(
        table=table_of(record.get("eventSourceARN")),
        name=name,
        keys=decode_image(body.get("Keys")),
        old=old if isinstance(old, dict) else None,
        new=decode_image(body["NewImage"]) if "NewImage" in body else None,
        sequence_number=sequence_number,
        approximate_time=float(moment) if isinstance(moment, int | float) else None,
    )


def _body(record: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    name = record.get("eventName") if isinstance(record, dict) else None
    body = record.get("dynamodb") if isinstance(record, dict) else None
    if name not in _NAMES or not isinstance(body, dict):
        raise MalformedChange("a stream record without eventName or dynamodb")
    return str(name), body


def _unchanged(body: Mapping[str, Any], state: tuple[str, ...]) -> bool:
    old, new = body.get("OldImage"), body.get("NewImage")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return False  # read in full, and refused there
    return all(old.get(name) == new.get(name) for name in state)


def table_of(arn: Any) -> str:
    """The table a stream ARN belongs to: ``arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>``."""
    resource = arn.split(":", 5)[5] if isinstance(arn, str) and arn.count(":") >= 5 else ""
    parts = resource.split("/")
    if len(parts) < 2 or parts[0] != "table" or not parts[1]:
        raise MalformedChange("a stream record without a table's eventSourceARN")
    return parts[1]


# -- uploads --------------------------------------------------------------------------------------


def _upload_events(change: Change) -> list[Event]:
    new = _image(change.new, "NewImage")
    status = _text(new, "status")
    if status not in UPLOAD_RANK:
        raise MalformedChange("an upload record with an unknown status")
    previous: str | None = None
    if change.name == "INSERT":
        if status != "pending":
            return []  # records are created pending: anything else is no transition of ours
        type_: EventType = "upload.created"
    else:
        before = change.before("status")
        if not isinstance(before, str):
            raise MalformedChange("an upload record without its status")
        previous = before
        if previous == status or status not in _UPLOAD_EVENTS:
            return []  # a fence, a lease, a stamp, a no-op: the status did not move
        type_ = _UPLOAD_EVENTS[status]
    sequence = _version(new) or UPLOAD_RANK[status]
    upload_id = _text(new, "upload_id")
    return [
        Event(
            id=event_id(change.table, change.keys, type_, sequence),
            type=type_,
            time=iso_seconds(_int(new, "updated_at")),
            sequence=sequence,
            subject=f"upload/{upload_id}",
            data=upload_data(new, status=status, previous=previous),
        )
    ]


def upload_data(item: Mapping[str, Any], *, status: str, previous: str | None) -> dict[str, Any]:
    """What an upload event tells a backend. Not the storage's multipart id, not the write ids."""
    completed_at = _opt_int(item, "completed_at")
    return {
        "upload_id": _text(item, "upload_id"),
        "key": _text(item, "object_key"),
        "target": _text(item, "target"),
        "kind": _opt_text(item, "kind"),
        "filename": _opt_text(item, "filename") or "",
        "size": _int(item, "size"),
        "content_type": _text(item, "content_type"),
        "checksum_sha256": _opt_text(item, "checksum_sha256"),
        "etag": _opt_text(item, "etag"),
        "metadata": _text_map(item.get("metadata"), "metadata"),
        "status": status,
        "previous_status": previous,
        "problems": [str(p) for p in item.get("problems") or []],
        "multipart": item.get("mp_upload_id") is not None,
        "created_at": iso_seconds(_int(item, "created_at")),
        "expires_at": iso_seconds(_int(item, "expires_at")),
        "completed_at": iso_seconds(completed_at) if completed_at is not None else None,
        "owner": owner_of(item),
    }


def _version(item: Mapping[str, Any]) -> int | None:
    version = item.get("version")
    if version is None:
        return None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MalformedChange("an item's version is not a positive integer")
    return version


# -- shares ---------------------------------------------------------------------------------------


def _share_events(change: Change) -> list[Event]:
    new = _image(change.new, "NewImage")
    downloads = _opt_int(new, "downloads") or 0
    limit = _opt_int(new, "max_downloads")
    types: list[EventType] = []
    if change.name == "INSERT":
        types.append("share.created")
    else:
        spent_before = _opt_int({"downloads": change.before("downloads")}, "downloads") or 0
        if downloads > spent_before:
            types.append("share.accessed")
            if limit is not None and spent_before < limit <= downloads:
                types.append("share.exhausted")
        if _has(new, "revoked_at") and change.before("revoked_at") is None:
            types.append("share.revoked")
        elif _has(new, "expired_at") and change.before("expired_at") is None and not _has(new, "revoked_at"):
            types.append("share.expired")
    if not types:
        return []
    sequence = 1 + downloads + _has(new, "revoked_at") + _has(new, "expired_at")
    data = share_data(new)
    handle = data["handle"]
    return [
        Event(
            id=event_id(change.table, change.keys, type_, sequence),
            type=type_,
            time=iso_seconds(_share_moment(type_, new, change)),
            sequence=sequence,
            subject=f"share/{handle}",
            data=data,
        )
        for type_ in types
    ]


def _share_moment(type_: EventType, item: Mapping[str, Any], change: Change) -> float:
    if type_ == "share.created":
        return _int(item, "created_ms") / 1000
    if type_ == "share.revoked":
        return _int(item, "revoked_at")
    if type_ == "share.expired":
        return _int(item, "expired_at")
    if change.approximate_time is None:  # a spend keeps no time of its own
        raise MalformedChange("a share's spend without the stream's ApproximateCreationDateTime")
    return change.approximate_time


def share_status(item: Mapping[str, Any]) -> str:
    """The share's status as of the change (the same precedence as ``Share.status``)."""
    if _has(item, "revoked_at"):
        return "revoked"
    if _has(item, "expired_at"):
        return "expired"
    limit = _opt_int(item, "max_downloads")
    if limit is not None and (_opt_int(item, "downloads") or 0) >= limit:
        return "exhausted"
    return "active"


def share_data(item: Mapping[str, Any]) -> dict[str, Any]:
    """What a share event tells a backend. Never the id, the password hash, the attempt counts."""
    revoked_at = _opt_int(item, "revoked_at")
    return {
        "handle": _text(item, "handle"),
        "key": _text(item, "object_key"),
        "target": _text(item, "target"),
        "size": _int(item, "size"),
        "content_type": _opt_text(item, "content_type"),
        "filename": _opt_text(item, "filename") or "",
        "disposition": _opt_text(item, "disposition") or "attachment",
        "created_at": iso_seconds(_int(item, "created_ms") / 1000),
        "expires_at": iso_seconds(_int(item, "expires_at")),
        "max_downloads": _opt_int(item, "max_downloads"),
        "downloads": _opt_int(item, "downloads") or 0,
        "password_protected": item.get("password_protected") is True or _has(item, "password_hash"),
        "status": share_status(item),
        "revoked_at": iso_seconds(revoked_at) if revoked_at is not None else None,
        "owner": owner_of(item),
    }


# -- attributes -----------------------------------------------------------------------------------


def owner_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The owner: always the digest; ``sub`` and the namespace claims when the item keeps them.

    ``owner_claims`` (a map of strings, ``sub`` among them) is written at creation from phase 2
    on; items made before carry the digest only, and so do their events.
    """
    owner: dict[str, Any] = {"digest": _text(item, "owner")}
    claims = item.get("owner_claims")
    if claims is not None:
        values = _text_map(claims, "owner_claims")
        if "sub" not in values:
            raise MalformedChange("owner_claims without sub")
        owner["sub"] = values.pop("sub")
        owner["claims"] = values
    return owner


def _image(image: Mapping[str, Any] | None, name: str) -> Mapping[str, Any]:
    if image is None:
        # Only a stream of NEW_AND_OLD_IMAGES can tell a transition from a write.
        raise MalformedChange(f"a stream record without its {name}: the stream must be NEW_AND_OLD_IMAGES")
    return image


def _has(item: Mapping[str, Any], name: str) -> bool:
    return item.get(name) is not None


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise MalformedChange(f"an item without its {name}")
    return value


def _opt_text(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value if isinstance(value, str) else None


def _int(item: Mapping[str, Any], name: str) -> int:
    value = _opt_int(item, name)
    if value is None:
        raise MalformedChange(f"an item without its {name}")
    return value


def _opt_int(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedChange(f"an item whose {name} is not an integer")
    return value


def _text_map(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise MalformedChange(f"an item whose {name} is not a map of strings")
    return {str(k): str(v) for k, v in value.items()}
