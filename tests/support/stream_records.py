"""DynamoDB stream records as Lambda delivers them, built from the adapters' own item layout.

Items come from ``record_item`` and ``share_item`` (the functions the stores write with), so a
renamed attribute breaks these tests instead of passing them by agreement with themselves.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from presign.adapters.dynamodb_shares import share_item
from presign.adapters.dynamodb_upload_items import record_item
from presign.shares.records import Share
from presign.uploads.records import UploadRecord

UPLOADS_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/presign-local-UploadsTable/stream/2026-01-01T00:00:00.000"
)
SHARES_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/presign-local-SharesTable/stream/2026-01-01T00:00:00.000"
)
NOW = 1_800_000_000
OWNER = "0123456789abcdef0123456789abcdef"
Item = dict[str, dict[str, Any]]

_sequence = itertools.count(100_000_000_000_000_000_000)


def upload(upload_id: str = "01JF0000000000000000000000", **changes: Any) -> UploadRecord:
    record = UploadRecord(
        owner=OWNER,
        upload_id=upload_id,
        target="main",
        key=f"users/{OWNER}/{upload_id}/photo.jpg",
        method="PUT",
        size=1234,
        content_type="image/jpeg",
        status="pending",
        created_at=NOW,
        expires_at=NOW + 900,
        updated_at=NOW,
        filename="photo.jpg",
        kind="photo",
        metadata={"album": "summer"},
    )
    return dataclasses.replace(record, **changes)


def share(handle: str = "ab" * 20, **changes: Any) -> Share:
    value = Share(
        handle=handle,
        owner=OWNER,
        target="main",
        key=f"users/{OWNER}/q3.pdf",
        size=4096,
        content_type="application/pdf",
        created_ms=NOW * 1000 + 123,
        expires_at=NOW + 3600,
        filename="q3.pdf",
        max_downloads=2,
    )
    return dataclasses.replace(value, **changes)


def upload_image(record: UploadRecord, *, ttl: int | None = None, **extra: dict[str, Any]) -> Item:
    return {**record_item(record, ttl), **extra}


def share_image(value: Share, *, ttl: int = NOW + 7200, **extra: dict[str, Any]) -> Item:
    return {**share_item(value, ttl), **extra}


def keys_of(item: Item) -> Item:
    return {name: item[name] for name in ("pk", "sk") if name in item}


def stream_record(
    name: str,
    *,
    old: Item | None = None,
    new: Item | None = None,
    arn: str = UPLOADS_ARN,
    at: int = NOW,
    sequence_number: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """One record of a ``{"Records": [...]}`` batch, NEW_AND_OLD_IMAGES, as Lambda sends it."""
    item = new if new is not None else old
    assert item is not None
    number = sequence_number or str(next(_sequence))
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": at,
        "Keys": keys_of(item),
        "SequenceNumber": number,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        body["OldImage"] = old
    if new is not None:
        body["NewImage"] = new
    return {
        "eventID": event_id or f"{int(number):032x}"[-32:],
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
        "eventSourceARN": arn,
    }
