"""A versioned JSON Schema (2020-12) per event type, published as ``schemas/<type>.v1.json``.

The files are built here, from one description of the envelope and of each type's data, and
committed; ``tests/unit/test_event_schemas.py`` fails when a committed file differs from what
this module builds (``python -m presign.events.schema`` writes them again), and validates real
events against them. Every object is closed (``additionalProperties: false``) except the
caller's ``metadata`` and the owner's ``claims``, so a field added to an event without its
schema, or a secret that slipped into one, fails the tests instead of reaching a receiver.

A breaking change to a type's data makes a ``v2`` file next to the ``v1`` one; ``v1`` stays
published as long as events of that version may still be delivered.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from presign.events.model import SCHEMA_VERSION, TYPES, EventType

DIRECTORY = Path(__file__).resolve().parent / "schemas"
_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", "format": "date-time"}
_OPTIONAL_TIME = {"anyOf": [_TIME, {"type": "null"}]}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}

UPLOAD_STATUSES: dict[str, list[str]] = {
    "upload.created": ["pending"],
    "upload.completed": ["complete"],
    "upload.rejected": ["rejected"],
    "upload.expired": ["expired"],
    "upload.deleted": ["deleted", "aborted"],
}
UPLOAD_PREVIOUS: dict[str, list[str | None]] = {
    "upload.created": [None],
    "upload.completed": ["pending"],
    "upload.rejected": ["pending"],
    "upload.expired": ["pending"],
    "upload.deleted": ["pending", "complete"],
}
SHARE_STATUSES: dict[str, list[str]] = {
    "share.created": ["active"],
    "share.accessed": ["active", "exhausted"],
    "share.exhausted": ["exhausted"],
    "share.revoked": ["revoked"],
    "share.expired": ["expired"],
}
DESCRIPTIONS: dict[str, str] = {
    "upload.created": "An upload was created (POST /uploads): its URL was handed out, nothing is stored yet.",
    "upload.completed": "The stored object was checked against the upload and matched.",
    "upload.rejected": "The stored object did not match the upload; it was deleted.",
    "upload.expired": "The upload's lifetime ended with nothing confirmed; what it stored was deleted.",
    "upload.deleted": (
        "The owner deleted the upload: a completed one (status deleted) or one never completed "
        "(status aborted); its object was deleted."
    ),
    "share.created": "A share link was created.",
    "share.accessed": "A share link that counts its downloads handed out one.",
    "share.exhausted": "A share link handed out its last allowed download.",
    "share.revoked": "The owner revoked a share link.",
    "share.expired": "A share link passed its expiry (marked by the scheduled cleanup).",
    "webhook.endpoint_disabled": (
        "A webhook endpoint was disabled: it answered 410, or every delivery failed for days; "
        "nothing is sent to it until an operator enables it again."
    ),
}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


def _owner() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Who owns the item: the digest of their sub always; sub and the namespace "
        "claims for items created since the tables keep them.",
        "properties": {
            "digest": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "sub": {"type": "string"},
            "claims": _STRINGS,
        },
        "required": ["digest"],
        "dependentRequired": {"sub": ["claims"], "claims": ["sub"]},
        "additionalProperties": False,
    }


def _upload_data(type_: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "upload_id": {"type": "string"},
        "key": {"type": "string"},
        "target": {"type": "string"},
        "kind": _nullable("string"),
        "filename": {"type": "string"},
        "size": {"type": "integer", "minimum": 0},
        "content_type": {"type": "string"},
        "checksum_sha256": _nullable("string"),
        "etag": _nullable("string"),
        "metadata": _STRINGS,
        "status": {"enum": UPLOAD_STATUSES[type_]},
        "previous_status": {"enum": UPLOAD_PREVIOUS[type_]},
        "problems": {"type": "array", "items": {"type": "string"}},
        "multipart": {"type": "boolean"},
        "created_at": _TIME,
        "expires_at": _TIME,
        "completed_at": _OPTIONAL_TIME,
        "owner": _owner(),
    }
    return _closed(properties)


def _share_data(type_: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "handle": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
        "key": {"type": "string"},
        "target": {"type": "string"},
        "size": {"type": "integer", "minimum": 0},
        "content_type": _nullable("string"),
        "filename": {"type": "string"},
        "disposition": {"enum": ["attachment", "inline"]},
        "created_at": _TIME,
        "expires_at": _TIME,
        "max_downloads": {"type": ["integer", "null"], "minimum": 0},
        "downloads": {"type": "integer", "minimum": 0},
        "password_protected": {"type": "boolean"},
        "status": {"enum": SHARE_STATUSES[type_]},
        "revoked_at": _OPTIONAL_TIME,
        "owner": _owner(),
    }
    return _closed(properties)


def _webhook_data() -> dict[str, Any]:
    return _closed(
        {
            "endpoint_id": {"type": "string"},
            "reason": {"enum": ["gone", "failing"]},
            "failing_since": _TIME,
            "disabled_at": _TIME,
        }
    )


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def schema_name(type_: str, version: int = SCHEMA_VERSION) -> str:
    return f"{type_}.v{version}.json"


def build(type_: EventType) -> dict[str, Any]:
    family = type_.split(".")[0]
    data = {"upload": _upload_data, "share": _share_data}.get(family, lambda _: _webhook_data())(type_)
    subjects = {
        "upload": "^upload/.+$",
        "share": "^share/[0-9a-f]{40}$",
        "webhook": "^webhook/[a-z0-9][a-z0-9_-]*$",
    }
    properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": "^evt_[0-9a-f]{32}$"},
        "type": {"const": type_},
        "schema_version": {"const": SCHEMA_VERSION},
        "time": _TIME,
        "sequence": {"type": "integer", "minimum": 1},
        "subject": {"type": "string", "pattern": subjects[family]},
        "data": data,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:presign:events:{type_}:v{SCHEMA_VERSION}",
        "title": type_,
        "description": DESCRIPTIONS[type_],
        **_closed(properties),
    }


def render(type_: EventType) -> str:
    return json.dumps(build(type_), indent=2, ensure_ascii=False) + "\n"


def write(directory: Path = DIRECTORY) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for type_ in TYPES:
        path = directory / schema_name(type_)
        path.write_text(render(type_), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write():
        sys.stdout.write(f"{written_path}\n")
