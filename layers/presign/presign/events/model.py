"""The event envelope: what every event says, however it is delivered.

::

    {"id": "evt_5c0f...", "type": "upload.completed", "schema_version": 1,
     "time": "2026-12-07T21:27:36Z", "sequence": 2, "subject": "upload/01JF...",
     "data": {...}}

* ``id`` is derived from the committed change, never drawn at publish time: a hash of the table,
  the item's key, the event's type and the item's sequence number (``event_id``). A batch that is
  retried, a stream read twice, or the same change read from another stream of the same table
  (a re-enabled stream, a replica) gives the same id, so a receiver deduplicates on it.
  The stream record's own ``eventID`` was the alternative; it is stable when the same record is
  read again, but it names a stream record, not a change (another stream of the same table gives
  the same change another id), one record can hold two events (a spend that uses a share's last
  download is ``share.accessed`` and ``share.exhausted``), and a receiver could not compute it
  from the item.
* ``sequence`` orders the events of one item (``subject``): it grows with every evented change
  of the item (``presign.events.changes`` says how it is derived). Events of one change share it
  and keep their order in ``TYPES``. EventBridge does not keep order: receivers order by it.
* ``time`` is when the change happened (the record's own time where it keeps one, else the
  stream's approximate creation time), to the second, UTC.
* ``data`` is the item as a backend can act on it: never a URL, a token, a password, a password
  hash or a share id (the public link's secret); a share is named by its handle, a one-way hash
  of the id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from presign.clock import isoformat_z
from presign.errors import PresignError

SCHEMA_VERSION = 1

EventType = Literal[
    "upload.created",
    "upload.completed",
    "upload.rejected",
    "upload.expired",
    "upload.deleted",
    "share.created",
    "share.accessed",
    "share.exhausted",
    "share.revoked",
    "share.expired",
    "webhook.endpoint_disabled",
]
TYPES: tuple[EventType, ...] = (
    "upload.created",
    "upload.completed",
    "upload.rejected",
    "upload.expired",
    "upload.deleted",
    "share.created",
    "share.accessed",
    "share.exhausted",
    "share.revoked",
    "share.expired",
    "webhook.endpoint_disabled",
)


class MalformedChange(PresignError):
    """A stream record that names an upload or a share but cannot be read as one.

    Never skipped: the publisher reports the record as failed, so it is retried and, after the
    event source mapping's retries, lands in its on-failure destination for an operator.
    """

    code = "malformed_change"


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: EventType
    time: str
    sequence: int
    subject: str
    data: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "schema_version": SCHEMA_VERSION,
            "time": self.time,
            "sequence": self.sequence,
            "subject": self.subject,
            "data": dict(self.data),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":"))


def event_id(table: str, keys: Mapping[str, Any], type_: str, sequence: int) -> str:
    """The id of the event ``type_`` of the item ``keys`` of ``table`` at ``sequence``.

    Each (item, type, sequence) happens once: the statuses of an upload are each entered at
    most once, and a share's sequence grows with every spend and mark. So the id names one
    change, and computing it again, anywhere, gives the same text.
    """
    canonical = json.dumps([table, sorted(keys.items()), type_, sequence], separators=(",", ":"))
    return "evt_" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def iso_seconds(epoch: float) -> str:
    return isoformat_z(datetime.fromtimestamp(int(epoch), UTC))
