"""The cleanup job's reads and writes of the uploads and shares tables (``presign.cleanup.ports``).

Every read is a Query of one sparse index partition (day + shard), a consistent ``GetItem``, or
a consistent ``BatchGetItem`` of up to 100 records by key (does a record name this storage
upload?); never a Scan. Each index is read oldest day first, each page as it is needed, so a run that stops
early has done the oldest work. Every write is conditional:

* the *fence*: ``SET cleanup_at = if_not_exists(cleanup_at, :now), cleanup_lease = :until`` if
  ``status = pending`` and no other run's lease is running (so one run at a time works on an
  upload, and a run that died frees it when its lease ends);
* ``pending -> expired``: ``DynamoDbRecordStore.transition`` (``status = pending``);
* a record past its retention: ``DeleteItem`` if its ``removable_sk`` is still the one indexed
  (the record did not move since) and its ``ttl`` has passed;
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
from presign.adapters.dynamodb_shares import STALE_INDEX, STALE_SHARDS, DynamoDbShareStore
from presign.adapters.dynamodb_uploads import (
    PENDING_INDEX,
    PENDING_SHARDS,
    REMOVABLE_INDEX,
    REMOVABLE_SHARDS,
    DynamoDbRecordStore,
)
from presign.cleanup.ports import RecordKey, RecordRef, ShareRef, StorageUpload
from presign.cleanup.settings import DAY
from presign.errors import DependencyUnavailable
from presign.lifecycle.records import Status, UploadRecord

_ORPHAN_SK = "orphan"
BATCH_ATTEMPTS = 3  # BatchGetItem answers what it could not read; asked again at most this often


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _str(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    return str(value["S"]) if isinstance(value, dict) and "S" in value else ""


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
                    ":pk": _s(f"{prefix}#{day}#{shard}"),
                    ":low": _s(f"{since:010d}"),
                    # Strictly before ``before``: "0000000100#..." sorts after "0000000099~".
                    ":high": _s(f"{before - 1:010d}~"),
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
        self._call = self._store._call  # one place translates the table's errors
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

    def get(self, owner: str, upload_id: str) -> UploadRecord | None:
        return self._store.get(owner, upload_id)

    def transition(self, record: UploadRecord, *, expected: Status, ttl: int | None) -> bool:
        return self._store.transition(record, expected=expected, ttl=ttl)

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

    def fence(self, record: UploadRecord, *, now: int, lease_until: int) -> bool:
        try:
            self._call(
                "UpdateItem",
                {
                    "Key": _record_key(record.owner, record.upload_id),
                    "UpdateExpression": "SET cleanup_at = if_not_exists(cleanup_at, :now), cleanup_lease = :lease",
                    "ConditionExpression": (
                        "#status = :pending AND (attribute_not_exists(cleanup_lease) OR cleanup_lease < :now)"
                    ),
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":now": _n(now),
                        ":lease": _n(lease_until),
                        ":pending": _s("pending"),
                    },
                },
            )
        except AwsServiceError:
            return False
        return True

    def remove(self, ref: RecordRef, *, now: int) -> bool:
        try:
            self._call(
                "DeleteItem",
                {
                    "Key": _record_key(ref.owner, ref.upload_id),
                    "ConditionExpression": "removable_sk = :marker AND #ttl <= :now AND #status <> :pending",
                    "ExpressionAttributeNames": {"#ttl": "ttl", "#status": "status"},
                    "ExpressionAttributeValues": {
                        ":marker": _s(ref.marker),
                        ":now": _n(now),
                        ":pending": _s("pending"),
                    },
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
                    "Key": {"pk": _s(f"c#{digest}"), "sk": _s(_ORPHAN_SK)},
                    "UpdateExpression": "SET #ttl = :ttl, claimed_at = :now",
                    "ConditionExpression": "attribute_not_exists(pk) OR #ttl < :now",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": {":ttl": _n(ttl), ":now": _n(now)},
                },
            )
        except AwsServiceError:
            return False
        return True


class DynamoDbCleanupShares:
    """``presign.cleanup.ports.CleanupShares`` on the shares table."""

    def __init__(self, client: AwsJsonClient, table_name: str) -> None:
        self._call = DynamoDbShareStore(client, table_name)._call

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
                    "Key": {"pk": _s(f"s#{ref.handle}")},
                    "ConditionExpression": "stale_sk = :marker",
                    "ExpressionAttributeValues": {":marker": _s(ref.marker)},
                },
            )
        except AwsServiceError:
            return False
        return True


def _record_key(owner: str, upload_id: str) -> dict[str, Any]:
    return {"pk": _s(f"u#{owner}"), "sk": _s(f"up#{upload_id}")}


def _ref(item: dict[str, Any], marker: str) -> RecordRef:
    return RecordRef(
        owner=_str(item, "pk")[2:],
        upload_id=_str(item, "sk")[3:],
        target=_str(item, "target"),
        marker=_str(item, marker),
    )


def _unavailable_batch() -> DependencyUnavailable:
    error = DependencyUnavailable("the uploads table did not answer a batch read", retry_after=2)
    error.details["reason"] = "BatchGetItem"
    return error
