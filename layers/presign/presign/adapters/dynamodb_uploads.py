"""The upload records table: records, idempotency claims and the pending index, over DynamoDB.

**Keys.** Every item of a caller lives in their partition, ``pk = "u#" + sha256(sub)[:32]`` (the
rate limiter's digest: no user id in keys):

* an upload record has ``sk = "up#" + upload_id``. Upload ids sort by creation time
  (``presign.uploads.ids``), so ``Query(pk, begins_with(sk, "up#"), ScanIndexForward=false)``
  lists the caller's uploads newest first, and ``GetItem(pk = caller, sk = id)`` makes another
  caller's id a plain miss (404);
* an idempotency claim has its own item, ``pk = "i#" + owner + "#" + sha256(key)``, ``sk = "claim"``,
  so a claim is one conditional write on a key that any retry computes again.

**The pending index** (GSI ``pending``, sparse): a pending record carries
``pending_pk = "p#" + <expiry day, YYYYMMDD> + "#" + <shard 0-7>`` and
``pending_sk = <expires_at, 10 digits> + "#" + upload_id``; both are removed by the write that
moves the record out of ``pending``. The cleanup job queries, per day and shard, the uploads whose
URL expired before a moment, without a Scan; eight shards spread one day's writes over eight
index partitions.

**The removable index** (GSI ``removable``, sparse, keys and ``target`` only): a record that
is no longer pending and has a TTL carries ``removable_pk = "r#" + <TTL day> + "#" + <shard>``
and ``removable_sk = <ttl, 10 digits> + "#" + upload_id``, written by the transition that sets
the TTL (and removed by one that clears it), so the cleanup job deletes records past their
retention without waiting for DynamoDB's TTL (which may take days). Records moved before the
index existed do not carry it; TTL still removes them.

**The cleanup fence**: ``cleanup_at``, set on a pending record by the cleanup job before it
cleans the storage; the write to ``complete`` is conditioned on its absence
(``presign.uploads.records``).

**Calls.** ``POST /uploads`` makes one ``PutItem`` (two with an Idempotency-Key: the claim, then the
record). Each transition is one conditional ``UpdateItem`` on ``status``. All through the project's
``AwsJsonClient`` (no botocore at cold start), the rate limiter's client, so both share a pool.

**Retries.** The client resends a write whose answer was lost. Each write here is conditional
and stamps the item with a fresh ``write_id``, so a resend of an applied write fails its condition,
``ReturnValuesOnConditionCheckFailure=ALL_OLD`` shows the item, and when the item carries this
call's own ``write_id`` the call reports success (two requests in the same second cannot be
mistaken for each other: their ids differ).

Errors: a failed condition is an outcome; anything else (throttling after the retry, timeouts,
an unreachable endpoint, a missing table, access denied, no credentials) is
``DependencyUnavailable`` (503 with Retry-After), with the cause in ``details["reason"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from presign.adapters.aws_json import AwsServiceError
from presign.adapters.dynamodb import Item, Table, integer, n, s, string, write_id
from presign.uploads.idempotency import Claim
from presign.uploads.ids import ALPHABET
from presign.uploads.ports import Page
from presign.uploads.records import STATUSES, Multipart, Status, UploadRecord

PENDING_INDEX = "pending"
PENDING_SHARDS = 8
REMOVABLE_INDEX = "removable"
REMOVABLE_SHARDS = 8
RETRY_AFTER_SECONDS = 2
_RECORD_PREFIX = "up#"
_CLAIM_SK = "claim"


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
        raise DynamoDbRecordStore.malformed(name)
    return value


def _need_int(item: Mapping[str, Any], name: str) -> int:
    value = integer(item, name)
    if value is None:
        raise DynamoDbRecordStore.malformed(name)
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
        raise DynamoDbRecordStore.malformed("status")
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
        multipart=multipart,
    )


def _status(value: str) -> Status:
    for status in STATUSES:
        if status == value:
            return status
    raise DynamoDbRecordStore.malformed("status")


def _claim_from(item: Mapping[str, Any], owner: str, key_digest: str) -> Claim:
    return Claim(
        owner=owner,
        key_digest=key_digest,
        fingerprint=_need_str(item, "fingerprint"),
        upload_id=_need_str(item, "upload_id"),
        claimed_at=_need_int(item, "claimed_at"),
    )


# -- the store ------------------------------------------------------------------------------------


class DynamoDbRecordStore(Table):
    """``presign.uploads.ports.RecordStore`` on the table template.yaml calls ``UploadsTable``."""

    title = "the uploads table"
    retry_after = RETRY_AFTER_SECONDS

    def create(self, record: UploadRecord, *, ttl: int | None) -> bool:
        stamp = write_id()
        item = {**record_item(record, ttl), "write_id": s(stamp)}
        try:
            self.call(
                "PutItem",
                {
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
            )
        except AwsServiceError as exc:
            # Our own write, resent after its answer was lost, finds itself.
            return string(exc.body.get("Item") or {}, "write_id") == stamp
        return True

    def get(self, owner: str, upload_id: str) -> UploadRecord | None:
        answer = self.call(
            "GetItem",
            {"Key": {"pk": s(owner_pk(owner)), "sk": s(record_sk(upload_id))}, "ConsistentRead": True},
        )
        item = answer.get("Item")
        return record_from(item) if item else None

    def transition(self, record: UploadRecord, *, expected: Status, ttl: int | None) -> bool:
        stamp = write_id()
        names = {"#status": "status", "#ttl": "ttl"}
        values: dict[str, Any] = {
            ":status": s(record.status),
            ":expected": s(expected),
            ":updated": n(record.updated_at),
            ":write_id": s(stamp),
        }
        sets = ["#status = :status", "updated_at = :updated", "write_id = :write_id"]
        removes = []
        if record.etag is not None:
            sets.append("etag = :etag")
            values[":etag"] = s(record.etag)
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
        condition = "#status = :expected"
        if record.status == "complete":
            # Not once the cleanup job has fenced the upload: it is deleting what is stored.
            condition += " AND attribute_not_exists(cleanup_at)"
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self.call(
                "UpdateItem",
                {
                    "Key": {"pk": s(owner_pk(record.owner)), "sk": s(record_sk(record.upload_id))},
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
            )
        except AwsServiceError as exc:
            # Moved by this very write, resent after its answer was lost: applied.
            return string(exc.body.get("Item") or {}, "write_id") == stamp
        return True

    def page(self, owner: str, *, status: Status | None, limit: int, after: str | None) -> Page:
        payload: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :records)",
            "ExpressionAttributeValues": {":pk": s(owner_pk(owner)), ":records": s(_RECORD_PREFIX)},
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": max(1, limit),
        }
        if status is not None:
            payload["FilterExpression"] = "#status = :status"
            payload["ExpressionAttributeNames"] = {"#status": "status"}
            payload["ExpressionAttributeValues"][":status"] = s(status)
        if after is not None:
            # Always the caller's own partition: a cursor cannot reach anyone else's items.
            payload["ExclusiveStartKey"] = {"pk": s(owner_pk(owner)), "sk": s(record_sk(after))}
        answer = self.call("Query", payload)
        records = [record_from(item) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        last_sk = string(last, "sk") if isinstance(last, Mapping) else None
        last_id = last_sk[len(_RECORD_PREFIX) :] if last_sk and last_sk.startswith(_RECORD_PREFIX) else None
        return Page(records=records, last_upload_id=last_id)

    def claim(self, claim: Claim, *, ttl: int) -> Claim | None:
        # UpdateItem, not PutItem: it creates the item just as well, and keeps the lifecycle
        # function's role to reading and updating (no PutItem, no DeleteItem).
        stamp = write_id()
        values = {
            ":fingerprint": s(claim.fingerprint),
            ":upload_id": s(claim.upload_id),
            ":now": n(claim.claimed_at),
            ":ttl": n(ttl),
            ":write_id": s(stamp),
        }
        try:
            self.call(
                "UpdateItem",
                {
                    "Key": self._claim_key(claim),
                    "UpdateExpression": (
                        "SET fingerprint = :fingerprint, upload_id = :upload_id, claimed_at = :now, "
                        "#ttl = :ttl, write_id = :write_id"
                    ),
                    # DynamoDB deletes expired items late (up to days): an expired claim is free.
                    "ConditionExpression": "attribute_not_exists(pk) OR #ttl < :now",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": values,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
            )
        except AwsServiceError as exc:
            old = exc.body.get("Item") or {}
            if string(old, "write_id") == stamp:
                return None  # our own claim, resent
            return _claim_from(old, claim.owner, claim.key_digest)
        return None

    @staticmethod
    def _claim_key(claim: Claim) -> Item:
        return {"pk": s(claim_pk(claim.owner, claim.key_digest)), "sk": s(_CLAIM_SK)}

    def take_over(self, stale: Claim, *, now: int, ttl: int) -> bool:
        try:
            self.call(
                "UpdateItem",
                {
                    "Key": self._claim_key(stale),
                    "UpdateExpression": "SET claimed_at = :now, #ttl = :ttl",
                    "ConditionExpression": "claimed_at = :then AND upload_id = :id",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": {
                        ":now": n(now),
                        ":ttl": n(ttl),
                        ":then": n(stale.claimed_at),
                        ":id": s(stale.upload_id),
                    },
                },
            )
        except AwsServiceError:
            return False
        return True

    def release(self, claim: Claim) -> None:
        # Released by expiring it now (a claim whose TTL has passed is free, see ``claim``), so
        # no role needs DeleteItem; DynamoDB's TTL removes the item later.
        try:
            self.call(
                "UpdateItem",
                {
                    "Key": self._claim_key(claim),
                    "UpdateExpression": "SET #ttl = :expired",
                    "ConditionExpression": "claimed_at = :then AND upload_id = :id",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": {
                        ":expired": n(0),
                        ":then": n(claim.claimed_at),
                        ":id": s(claim.upload_id),
                    },
                },
            )
        except AwsServiceError:
            return  # someone took it over meanwhile: theirs now
