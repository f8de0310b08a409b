"""How an upload record and its keys are laid out in the uploads table (``dynamodb_uploads`` says why).

The item mapping both ways, the keys, and the sparse indexes' keys; the store itself is
``presign.adapters.dynamodb_uploads.DynamoDbRecordStore``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from presign.adapters.dynamodb import Item, integer, n, s, string, unavailable
from presign.errors import DependencyUnavailable
from presign.uploads.ids import ALPHABET
from presign.uploads.records import STATUSES, Multipart, Status, UploadRecord

PENDING_INDEX = "pending"
PENDING_SHARDS = 8
REMOVABLE_INDEX = "removable"
REMOVABLE_SHARDS = 8
RETRY_AFTER_SECONDS = 2
RECORD_PREFIX = "up#"
CLAIM_SK = "claim"


def owner_pk(owner: str) -> str:
    return f"u#{owner}"


def record_sk(upload_id: str) -> str:
    return f"{RECORD_PREFIX}{upload_id}"


def claim_pk(owner: str, key_digest: str) -> str:
    return f"i#{owner}#{key_digest}"


def pending_keys(record: UploadRecord) -> tuple[str, str]:
    day = datetime.fromtimestamp(record.expires_at, UTC).strftime("%Y%m%d")
    shard = ALPHABET.index(record.upload_id[-1]) % PENDING_SHARDS
    return f"p#{day}#{shard}", f"{record.expires_at:010d}#{record.upload_id}"


def removable_keys(record: UploadRecord, ttl: int) -> tuple[str, str]:
    """The ``removable`` index's keys of a record that is past its retention at ``ttl``."""
    day = datetime.fromtimestamp(ttl, UTC).strftime("%Y%m%d")
    shard = ALPHABET.index(record.upload_id[-1]) % REMOVABLE_SHARDS
    return f"r#{day}#{shard}", f"{ttl:010d}#{record.upload_id}"


def need_str(item: Mapping[str, Any], name: str) -> str:
    value = string(item, name)
    if value is None:
        raise _malformed(name)
    return value


def need_int(item: Mapping[str, Any], name: str) -> int:
    value = integer(item, name)
    if value is None:
        raise _malformed(name)
    return value


def record_item(record: UploadRecord, ttl: int | None) -> Item:
    item: Item = {
        "pk": s(owner_pk(record.owner)),
        "sk": s(record_sk(record.upload_id)),
        "upload_id": s(record.upload_id),
        "owner": s(record.owner),
        "target": s(record.target),
        "object_key": s(record.key),
        "method": s(record.method),
        "size": n(record.size),
        "content_type": s(record.content_type),
        "status": s(record.status),
        "created_at": n(record.created_at),
        "expires_at": n(record.expires_at),
        "updated_at": n(record.updated_at),
        "filename": s(record.filename),
        "metadata": {"M": {k: s(v) for k, v in record.metadata.items()}},
    }
    optional = {
        "kind": record.kind,
        "checksum_sha256": record.checksum_sha256,
        "idempotency_key": record.idempotency_key,
        "etag": record.etag,
    }
    item.update({name: s(value) for name, value in optional.items() if value is not None})
    if record.completed_at is not None:
        item["completed_at"] = n(record.completed_at)
    if record.owner_claims:
        item["owner_claims"] = {"M": {k: s(v) for k, v in record.owner_claims.items()}}
    if record.problems:
        item["problems"] = {"L": [s(p) for p in record.problems]}
    if record.multipart is not None:
        item["mp_upload_id"] = s(record.multipart.storage_upload_id)
        item["mp_part_size"] = n(record.multipart.part_size)
        item["mp_checksums"] = {"BOOL": record.multipart.checksums}
    if ttl is not None:
        item["ttl"] = n(ttl)
    if record.status == "pending":
        pk, sk = pending_keys(record)
        item["pending_pk"], item["pending_sk"] = s(pk), s(sk)
    return item


def record_from(item: Mapping[str, Any]) -> UploadRecord:
    status = need_str(item, "status")
    method = need_str(item, "method")
    if status not in STATUSES or method not in ("PUT", "POST"):
        raise _malformed("status")
    metadata = item.get("metadata", {}).get("M", {})
    problems = item.get("problems", {}).get("L", [])
    storage_upload_id = string(item, "mp_upload_id")
    multipart = (
        Multipart(
            storage_upload_id=storage_upload_id,
            part_size=need_int(item, "mp_part_size"),
            checksums=item.get("mp_checksums", {}).get("BOOL") is True,
        )
        if storage_upload_id is not None
        else None
    )
    return UploadRecord(
        owner=need_str(item, "owner"),
        upload_id=need_str(item, "upload_id"),
        target=need_str(item, "target"),
        key=need_str(item, "object_key"),
        method="PUT" if method == "PUT" else "POST",
        size=need_int(item, "size"),
        content_type=need_str(item, "content_type"),
        status=_status(status),
        created_at=need_int(item, "created_at"),
        expires_at=need_int(item, "expires_at"),
        updated_at=need_int(item, "updated_at"),
        filename=string(item, "filename") or "",
        kind=string(item, "kind"),
        checksum_sha256=string(item, "checksum_sha256"),
        metadata={str(k): str(v.get("S", "")) for k, v in metadata.items()},
        idempotency_key=string(item, "idempotency_key"),
        etag=string(item, "etag"),
        completed_at=integer(item, "completed_at"),
        cleanup_at=integer(item, "cleanup_at"),
        problems=tuple(str(p.get("S", "")) for p in problems),
        multipart=multipart,
        owner_claims={
            str(k): str(v.get("S", "")) for k, v in item.get("owner_claims", {}).get("M", {}).items()
        },
    )


def _status(value: str) -> Status:
    for status in STATUSES:
        if status == value:
            return status
    raise _malformed("status")


def _malformed(name: str) -> DependencyUnavailable:
    """An item someone wrote by hand: refused, never guessed at (503, not a 500)."""
    return unavailable(
        "the uploads table holds a malformed item", f"MalformedItem:{name}", retry_after=RETRY_AFTER_SECONDS
    )
