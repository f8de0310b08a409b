"""The upload records' items: their keys, their index attributes, and the record as an item and
back (``presign.adapters.dynamodb_uploads`` says what each key and index is for)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from presign.adapters.dynamodb import Item, Table, integer, n, s, string
from presign.errors import DependencyUnavailable
from presign.uploads.idempotency import Claim
from presign.uploads.ids import ALPHABET
from presign.uploads.records import STATUSES, Multipart, Status, UploadRecord

PENDING_INDEX = "pending"
PENDING_SHARDS = 8
REMOVABLE_INDEX = "removable"
REMOVABLE_SHARDS = 8
RECHECK_INDEX = "recheck"
RECHECK_SHARDS = 8
RETRY_AFTER_SECONDS = 2
_RECORD_PREFIX = "up#"
_CLAIM_SK = "claim"


class UploadsTable(Table):
    """What every reader of the uploads table answers when it fails (its name, its Retry-After)."""

    title = "the uploads table"
    retry_after = RETRY_AFTER_SECONDS


def _malformed(name: str) -> DependencyUnavailable:
    return UploadsTable.malformed(name)


def owner_pk(owner: str) -> str:
    return f"u#{owner}"


def record_sk(upload_id: str) -> str:
    return f"{_RECORD_PREFIX}{upload_id}"


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


def _need_str(item: Mapping[str, Any], name: str) -> str:
    value = string(item, name)
    if value is None:
        raise _malformed(name)
    return value


def _need_int(item: Mapping[str, Any], name: str) -> int:
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
    if record.problems:
        item["problems"] = {"L": [s(p) for p in record.problems]}
    if record.rejected_code is not None:
        item["rejected_code"] = s(record.rejected_code)
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
    status = _need_str(item, "status")
    method = _need_str(item, "method")
    if status not in STATUSES or method not in ("PUT", "POST"):
        raise _malformed("status")
    metadata = item.get("metadata", {}).get("M", {})
    problems = item.get("problems", {}).get("L", [])
    storage_upload_id = string(item, "mp_upload_id")
    multipart = (
        Multipart(
            storage_upload_id=storage_upload_id,
            part_size=_need_int(item, "mp_part_size"),
            checksums=item.get("mp_checksums", {}).get("BOOL") is True,
        )
        if storage_upload_id is not None
        else None
    )
    return UploadRecord(
        owner=_need_str(item, "owner"),
        upload_id=_need_str(item, "upload_id"),
        target=_need_str(item, "target"),
        key=_need_str(item, "object_key"),
        method="PUT" if method == "PUT" else "POST",
        size=_need_int(item, "size"),
        content_type=_need_str(item, "content_type"),
        status=_status(status),
        created_at=_need_int(item, "created_at"),
        expires_at=_need_int(item, "expires_at"),
        updated_at=_need_int(item, "updated_at"),
        filename=string(item, "filename") or "",
        kind=string(item, "kind"),
        checksum_sha256=string(item, "checksum_sha256"),
        metadata={str(k): str(v.get("S", "")) for k, v in metadata.items()},
        idempotency_key=string(item, "idempotency_key"),
        etag=string(item, "etag"),
        completed_at=integer(item, "completed_at"),
        cleanup_at=integer(item, "cleanup_at"),
        problems=tuple(str(p.get("S", "")) for p in problems),
        rejected_code=string(item, "rejected_code"),
        recheck_at=integer(item, "recheck_at"),
        multipart=multipart,
    )


def _status(value: str) -> Status:
    for status in STATUSES:
        if status == value:
            return status
    raise _malformed("status")


def claim_from(item: Mapping[str, Any], owner: str, key_digest: str) -> Claim:
    return Claim(
        owner=owner,
        key_digest=key_digest,
        fingerprint=_need_str(item, "fingerprint"),
        upload_id=_need_str(item, "upload_id"),
        claimed_at=_need_int(item, "claimed_at"),
    )


def recheck_keys(record: UploadRecord, at: int) -> tuple[str, str]:
    """The ``recheck`` index's keys of a completion the cleanup checks again at ``at``."""
    day = datetime.fromtimestamp(at, UTC).strftime("%Y%m%d")
    shard = ALPHABET.index(record.upload_id[-1]) % RECHECK_SHARDS
    return f"k#{day}#{shard}", f"{at:010d}#{record.upload_id}"


def transition_update(record: UploadRecord, ttl: int | None, stamp: str) -> tuple[str, dict[str, str], Item]:
    """The UpdateExpression of a transition to ``record`` (its names and values; the condition is
    the caller's): status and outcome fields, the TTL, and the sparse indexes it enters or leaves."""
    names = {"#status": "status", "#ttl": "ttl"}
    values: Item = {":status": s(record.status), ":updated": n(record.updated_at), ":write_id": s(stamp)}
    sets = ["#status = :status", "updated_at = :updated", "write_id = :write_id"]
    removes = []
    optional = {"etag": record.etag, "rejected_code": record.rejected_code}
    for name, value in optional.items():
        if value is not None:
            sets.append(f"{name} = :{name}")
            values[f":{name}"] = s(value)
    if record.completed_at is not None:
        sets.append("completed_at = :completed")
        values[":completed"] = n(record.completed_at)
    if record.problems:
        sets.append("problems = :problems")
        values[":problems"] = {"L": [s(p) for p in record.problems]}
    if ttl is None:
        removes.append("#ttl")
    else:
        sets.append("#ttl = :ttl")
        values[":ttl"] = n(ttl)
    if record.status != "pending":
        removes += ["pending_pk", "pending_sk"]  # out of the sparse index
        if ttl is None:
            removes += ["removable_pk", "removable_sk"]  # kept until deleted
        else:
            pk, sk = removable_keys(record, ttl)
            sets += ["removable_pk = :removable_pk", "removable_sk = :removable_sk"]
            values[":removable_pk"], values[":removable_sk"] = s(pk), s(sk)
    if record.status == "complete" and record.recheck_at is not None:
        pk, sk = recheck_keys(record, record.recheck_at)
        sets += ["recheck_at = :recheck_at", "recheck_pk = :recheck_pk", "recheck_sk = :recheck_sk"]
        values[":recheck_at"], values[":recheck_pk"], values[":recheck_sk"] = (
            n(record.recheck_at),
            s(pk),
            s(sk),
        )
    else:
        removes += ["recheck_at", "recheck_pk", "recheck_sk"]
    update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return update, names, values
