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

**Events** (``presign.events``) are read from the table's stream. ``version`` (1 at creation, +1
per transition) is each upload's sequence number; a record written before it existed gets the
number its status's rank implies (``if_not_exists``), so its events' ids do not change across the
deploy. ``owner_claims`` (``sub`` and the namespace claims) is written once at creation, never a
key: the table holds user ids from then on (docs/events.md).

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
from typing import Any

from presign.adapters.aws_json import AwsServiceError
from presign.adapters.dynamodb import Item, n, s, string, write_id
from presign.adapters.dynamodb_upload_items import (
    CLAIM_SK,
    RECORD_PREFIX,
    UploadsTable,
    claim_from,
    claim_pk,
    owner_pk,
    record_from,
    record_item,
    record_sk,
    transition_update,
)
from presign.events.changes import UPLOAD_RANK
from presign.uploads.idempotency import Claim
from presign.uploads.ports import Page
from presign.uploads.records import Status, UploadRecord

# -- the store ------------------------------------------------------------------------------------


class DynamoDbRecordStore(UploadsTable):
    """``presign.uploads.ports.RecordStore`` on the table template.yaml calls ``UploadsTable``."""

    def create(self, record: UploadRecord, *, ttl: int | None) -> bool:
        stamp = write_id()
        item = {**record_item(record, ttl), "write_id": s(stamp), "version": n(1)}
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

    def transition(
        self,
        record: UploadRecord,
        *,
        expected: Status,
        ttl: int | None,
        lease: int | None = None,
        etag: str | None = None,
    ) -> bool:
        stamp = write_id()
        update, names, values = transition_update(record, ttl, stamp)
        values[":expected"] = s(expected)
        if record.status != expected:
            # The sequence number of the record's events (presign.events.changes), one per status
            # change (a re-check that keeps an upload complete with a new ETag is none): a record
            # written before versions were kept gets the number its status's rank implies.
            update = update.replace("SET ", "SET version = if_not_exists(version, :rank) + :one, ", 1)
            values[":rank"], values[":one"] = n(UPLOAD_RANK[expected]), n(1)
        condition = "#status = :expected"
        if lease is not None:
            # The cleanup's own write, under its fence: only while the lease is still this run's.
            condition += " AND (attribute_not_exists(cleanup_at) OR cleanup_lease = :lease)"
            values[":lease"] = n(lease)
        elif record.status in ("complete", "expired") and expected == "pending":
            # Not once the cleanup job has fenced the upload: only the fence's holder completes
            # or expires it (a client's completion answers 410 meanwhile).
            condition += " AND attribute_not_exists(cleanup_at)"
        if etag is not None:
            condition += " AND etag = :old_etag"  # a re-check: the object it verified is still the one
            values[":old_etag"] = s(etag)
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
            "ExpressionAttributeValues": {":pk": s(owner_pk(owner)), ":records": s(RECORD_PREFIX)},
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
        last_id = last_sk[len(RECORD_PREFIX) :] if last_sk and last_sk.startswith(RECORD_PREFIX) else None
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
            return claim_from(old, claim.owner, claim.key_digest)
        return None

    @staticmethod
    def _claim_key(claim: Claim) -> Item:
        return {"pk": s(claim_pk(claim.owner, claim.key_digest)), "sk": s(CLAIM_SK)}

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
