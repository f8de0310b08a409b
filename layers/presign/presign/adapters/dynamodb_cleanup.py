"""The cleanup job's reads and writes of the uploads and shares tables (``presign.cleanup.ports``).

Every read is a Query of one sparse index partition (day + shard), a consistent ``GetItem``, or
a consistent ``BatchGetItem`` of up to 100 records by key (does a record name this storage
upload?); never a Scan. Each index is read oldest day first, each page as it is needed, so a run that stops
early has done the oldest work. Every write is conditional:

* the *fence*: ``SET cleanup_at = if_not_exists(cleanup_at, :now), cleanup_lease = :until`` if
  ``status = pending``, the upload is stale and no other run's lease is running (so one run at a
  time works on an upload, and a run that died frees it when its lease ends); it answers the
  record (``ALL_NEW``), so a stale upload costs no read before it;
* ``pending -> expired``: ``DynamoDbRecordStore.transition`` (``status = pending``); the
  cleanup's completion writes ``complete`` / ``rejected`` the same way, its condition naming its
  lease (``cleanup_lease = :lease``);
* the ``recheck`` index (``recheck_pk = "k#" + day + "#" + shard``, ``recheck_sk = <recheck_at>#id``):
  completions whose URL could still overwrite the object, read like the others;
* a record past its retention: ``DeleteItem`` if its ``removable_sk`` is still the one indexed
  (the record did not move since) and its ``ttl`` has passed; one never confirmed (rejected,
  aborted, expired, deleted) is first *leased* (``cleanup_lease``, the same conditions) while its
  key is cleaned, and deleted only while the lease is still this run's;
* an orphan's abort claim: an item of its own (``pk = "c#" + sha256(target, key, upload id)``),
  written if absent or expired, so of two runs exactly one aborts and counts;
* a stale share: ``DeleteItem`` if its ``stale_sk`` is still the one indexed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from presign.adapters.aws_json import AwsJsonClient, AwsServiceError, AwsUnavailable
from presign.adapters.dynamodb import n, s, unavailable
from presign.adapters.dynamodb import string as _optional
from presign.adapters.dynamodb_shares import STALE_INDEX, STALE_SHARDS, DynamoDbShareStore, share_pk
from presign.adapters.dynamodb_upload_items import (
    PENDING_INDEX,
    PENDING_SHARDS,
    RECHECK_INDEX,
    RECHECK_SHARDS,
    REMOVABLE_INDEX,
    REMOVABLE_SHARDS,
    owner_pk,
    record_from,
    record_sk,
)
from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
from presign.cleanup.ports import RecordKey, RecordRef, ShareRef, StorageUpload
from presign.errors import DependencyUnavailable
from presign.limits import DAY
from presign.uploads.records import Status, UploadRecord

_ORPHAN_SK = "orphan"
# Still the record the removable index showed (it did not move since), and past its retention.
_STILL_REMOVABLE = "removable_sk = :marker AND #ttl <= :now AND #status <> :pending"
BATCH_ATTEMPTS = 3  # BatchGetItem answers what it could not read; asked again at most this often


def _str(item: dict[str, Any], name: str) -> str:
    return _optional(item, name) or ""


def days(since: int, before: int) -> list[str]:
    """The index days (YYYYMMDD, UTC) that can hold a moment in [since, before), oldest first."""
    if before <= since:
        return []
    first = since - since % DAY
    return [datetime.fromtimestamp(day, UTC).strftime("%Y%m%d") for day in range(first, before, DAY)]


def _query_index(
    call: Any, index: str, prefix: str, shards: int, since: int, before: int, projection: str
) -> Iterator[dict[str, Any]]:
    for day in days(since, before):
        for shard in range(shards):
            payload: dict[str, Any] = {
                "IndexName": index,
                "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
                "ExpressionAttributeNames": {"#pk": f"{projection}_pk", "#sk": f"{projection}_sk"},
                "ExpressionAttributeValues": {
                    ":pk": s(f"{prefix}#{day}#{shard}"),
                    ":low": s(f"{since:010d}"),
                    # Strictly before ``before``: "0000000100#..." sorts after "0000000099~".
                    ":high": s(f"{before - 1:010d}~"),
                },
            }
            while True:
                answer = call("Query", payload)
                yield from answer.get("Items", [])
                last = answer.get("LastEvaluatedKey")
                if not last:
                    break
                payload = {**payload, "ExclusiveStartKey": last}


class DynamoDbCleanupRecords:
    """``presign.cleanup.ports.CleanupRecords`` on the uploads table."""

    def __init__(self, client: AwsJsonClient, table_name: str) -> None:
        self._store = DynamoDbRecordStore(client, table_name)
        self._call = self._store.call  # one place translates the table's errors
        self._client = client
        self._table = table_name

    def pending_due(self, *, since: int, before: int) -> Iterator[RecordRef]:
        for item in _query_index(self._call, PENDING_INDEX, "p", PENDING_SHARDS, since, before, "pending"):
            yield _ref(item, "pending_sk")

    def removable_due(self, *, since: int, before: int) -> Iterator[RecordRef]:
        for item in _query_index(
            self._call, REMOVABLE_INDEX, "r", REMOVABLE_SHARDS, since, before, "removable"
        ):
            yield _ref(item, "removable_sk")

    def recheck_due(self, *, since: int, before: int) -> Iterator[RecordRef]:
        for item in _query_index(self._call, RECHECK_INDEX, "k", RECHECK_SHARDS, since, before, "recheck"):
            yield _ref(item, "recheck_sk")

    def get(self, owner: str, upload_id: str) -> UploadRecord | None:
        return self._store.get(owner, upload_id)

    def transition(
        self,
        record: UploadRecord,
        *,
        expected: Status,
        ttl: int | None,
        lease: int | None = None,
        etag: str | None = None,
    ) -> bool:
        return self._store.transition(record, expected=expected, ttl=ttl, lease=lease, etag=etag)

    def storage_upload_ids(self, refs: Sequence[RecordKey]) -> dict[RecordKey, str | None]:
        found: dict[RecordKey, str | None] = {}
        keys: list[dict[str, Any]] = [
            _record_key(owner, upload_id) for owner, upload_id in dict.fromkeys(refs)
        ]
        for _ in range(BATCH_ATTEMPTS):
            if not keys:
                return found
            answer = self._call_batch(keys)
            for item in answer.get("Responses", {}).get(self._table, []):
                ref = (_str(item, "pk")[2:], _str(item, "sk")[3:])
                found[ref] = _str(item, "mp_upload_id") or None
            keys = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        if keys:  # throttled on every attempt: the caller counts the error, the next run retries
            raise _unavailable_batch()
        return found

    def _call_batch(self, keys: list[dict[str, Any]]) -> dict[str, Any]:
        # BatchGetItem names its table inside RequestItems, not as TableName.
        try:
            return self._client.call(
                "BatchGetItem",
                {
                    "RequestItems": {
                        self._table: {
                            "Keys": keys,
                            "ProjectionExpression": "pk, sk, mp_upload_id",
                            "ConsistentRead": True,
                        }
                    }
                },
            )
        except (AwsServiceError, AwsUnavailable, DependencyUnavailable) as exc:
            raise _unavailable_batch() from exc

    def fence(
        self, ref: RecordRef, *, now: int, lease_until: int, expired_before: int
    ) -> UploadRecord | None:
        try:
            answer = self._call(
                "UpdateItem",
                {
                    "Key": _record_key(ref.owner, ref.upload_id),
                    "UpdateExpression": "SET cleanup_at = if_not_exists(cleanup_at, :now), cleanup_lease = :lease",
                    "ConditionExpression": (
                        "#status = :pending AND expires_at < :before"
                        " AND (attribute_not_exists(cleanup_lease) OR cleanup_lease < :now)"
                    ),
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":now": n(now),
                        ":lease": n(lease_until),
                        ":pending": s("pending"),
                        ":before": n(expired_before),
                    },
                    # The record as fenced: no GetItem before the write.
                    "ReturnValues": "ALL_NEW",
                },
            )
        except AwsServiceError:
            return None
        return record_from(answer.get("Attributes") or {})

    def lease(self, ref: RecordRef, *, now: int, until: int) -> bool:
        try:
            self._call(
                "UpdateItem",
                {
                    "Key": _record_key(ref.owner, ref.upload_id),
                    "UpdateExpression": "SET cleanup_lease = :until",
                    "ConditionExpression": (
                        f"{_STILL_REMOVABLE} AND (attribute_not_exists(cleanup_lease) OR cleanup_lease < :now)"
                    ),
                    "ExpressionAttributeNames": {"#ttl": "ttl", "#status": "status"},
                    "ExpressionAttributeValues": {**_removable_values(ref, now), ":until": n(until)},
                },
            )
        except AwsServiceError:
            return False
        return True

    def remove(self, ref: RecordRef, *, now: int, lease_until: int | None) -> bool:
        condition = _STILL_REMOVABLE
        values = _removable_values(ref, now)
        if lease_until is not None:
            condition += " AND cleanup_lease = :until"
            values[":until"] = n(lease_until)
        try:
            self._call(
                "DeleteItem",
                {
                    "Key": _record_key(ref.owner, ref.upload_id),
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#ttl": "ttl", "#status": "status"},
                    "ExpressionAttributeValues": values,
                },
            )
        except AwsServiceError:
            return False  # moved since it was indexed, or removed by another run
        return True

    def claim_orphan(self, target: str, upload: StorageUpload, *, now: int, ttl: int) -> bool:
        digest = hashlib.sha256(f"{target}\n{upload.key}\n{upload.upload_id}".encode()).hexdigest()[:32]
        try:
            self._call(
                "UpdateItem",
                {
                    "Key": {"pk": s(f"c#{digest}"), "sk": s(_ORPHAN_SK)},
                    "UpdateExpression": "SET #ttl = :ttl, claimed_at = :now",
                    "ConditionExpression": "attribute_not_exists(pk) OR #ttl < :now",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": {":ttl": n(ttl), ":now": n(now)},
                },
            )
        except AwsServiceError:
            return False
        return True


class DynamoDbCleanupShares:
    """``presign.cleanup.ports.CleanupShares`` on the shares table."""

    def __init__(self, client: AwsJsonClient, table_name: str) -> None:
        self._call = DynamoDbShareStore(client, table_name).call

    def stale_due(self, *, since: int, before: int) -> Iterator[ShareRef]:
        for item in _query_index(self._call, STALE_INDEX, "x", STALE_SHARDS, since, before, "stale"):
            yield ShareRef(
                handle=_str(item, "pk")[2:], target=_str(item, "target"), marker=_str(item, "stale_sk")
            )

    def remove(self, ref: ShareRef, *, now: int) -> bool:
        try:
            self._call(
                "DeleteItem",
                {
                    "Key": {"pk": s(share_pk(ref.handle))},
                    "ConditionExpression": "stale_sk = :marker",
                    "ExpressionAttributeValues": {":marker": s(ref.marker)},
                },
            )
        except AwsServiceError:
            return False
        return True


def _record_key(owner: str, upload_id: str) -> dict[str, Any]:
    return {"pk": s(owner_pk(owner)), "sk": s(record_sk(upload_id))}


def _ref(item: dict[str, Any], marker: str) -> RecordRef:
    return RecordRef(
        owner=_str(item, "pk")[2:],
        upload_id=_str(item, "sk")[3:],
        target=_str(item, "target"),
        marker=_str(item, marker),
        key=_str(item, "object_key"),
        status=_str(item, "status"),
    )


def _removable_values(ref: RecordRef, now: int) -> dict[str, Any]:
    return {":marker": s(ref.marker), ":now": n(now), ":pending": s("pending")}


def _unavailable_batch() -> DependencyUnavailable:
    return unavailable("the uploads table did not answer a batch read", "BatchGetItem", retry_after=2)
