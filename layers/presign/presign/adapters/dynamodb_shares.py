"""The shares table over DynamoDB (``presign.shares.store.ShareStore``).

**Keys.** One item per share, ``pk = "s#" + handle``, where the handle is a SHA-256 of the share
id (``presign.shares.ids``): the table never holds an id, so nothing read from it, a backup
included, opens a link. The owner's shares are found through the sparse-free index ``by_owner``:
``owner_pk = "o#" + owner digest``, ``owner_sk = <created, 13-digit milliseconds> + "#" + handle``,
so a Query in reverse order lists them newest first. The index projects what a listing shows and
not the password hash. Listings read the index, so a share created a moment ago may take a
second to appear; every other read is a consistent ``GetItem``.

**Calls.** Creating a share is one conditional ``PutItem``. Opening an unlimited, unprotected
share is one consistent ``GetItem`` and no write. Opening a count-limited or password-protected one
adds one conditional ``UpdateItem`` (the spend, ``presign.shares.records``). A wrong password is one
``UpdateItem`` (two when it locks the share). Revoking is one conditional ``UpdateItem``.

**The stale index** (GSI ``stale``, keys and ``target``): ``stale_pk = "x#" + <day> + "#" +
<shard>``, ``stale_sk = <moment, 10 digits> + "#" + handle``, where the moment is when the share
stops working: its expiry at creation, moved to the revocation or to the spend that used the last
download by a second, best-effort write (lost, the share stays filed under its expiry). The
cleanup job removes shares ``share_grace`` after that moment, without a Scan. Shares created
before the index existed do not carry it: their TTL (expiry plus ``shares.retention``) removes
them.

**Retries.** The client resends a write whose answer was lost. The spend stamps the item with a
fresh ``last_access`` id and refuses its own id in the condition, so a resend of an applied spend
fails, ``ALL_OLD`` shows the id, and the call reports the spend it made, not a second one. (If
another visitor's spend lands between the two attempts the resend counts again: a lost answer
can cost the share one download, never hand out one more than ``max_downloads``.)

Errors: a failed condition is an outcome; anything else is ``DependencyUnavailable``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from presign.adapters.aws_json import AwsServiceError
from presign.adapters.dynamodb import Item, Table, integer, n, s, string, write_id
from presign.errors import DependencyUnavailable
from presign.shares.ids import HANDLE_LENGTH
from presign.shares.ports import SharePage, Spent
from presign.shares.records import Share

OWNER_INDEX = "by_owner"
STALE_INDEX = "stale"
STALE_SHARDS = 8
RETRY_AFTER_SECONDS = 2
# Every attribute a listing shows: the index projects these (and not password_hash).
LISTED = (
    "handle",
    "owner",
    "target",
    "object_key",
    "size",
    "content_type",
    "created_ms",
    "expires_at",
    "filename",
    "disposition",
    "max_downloads",
    "downloads",
    "password_protected",
    "revoked_at",
    "locked_until",
)
# Names DynamoDB reserves (owner, size, ...) or that read better quoted: always through #names.
_NAMES = {f"#{name}": name for name in (*LISTED, "ttl", "failed_attempts", "last_access", "pk", "expired_at")}


def share_pk(handle: str) -> str:
    return f"s#{handle}"


def owner_pk(owner: str) -> str:
    return f"o#{owner}"


def owner_sk(share: Share) -> str:
    return f"{share.created_ms:013d}#{share.handle}"


def stale_keys(handle: str, moment: int) -> tuple[str, str]:
    """The ``stale`` index's keys of a share that stops working at ``moment`` (epoch seconds)."""
    day = datetime.fromtimestamp(moment, UTC).strftime("%Y%m%d")
    shard = int(handle[-2:], 16) % STALE_SHARDS if _is_hex(handle[-2:]) else 0
    return f"x#{day}#{shard}", f"{moment:010d}#{handle}"


def _is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdefABCDEF" for c in text)


def _need(value: Any, name: str) -> Any:
    if value is None:
        raise DynamoDbShareStore.malformed(name)
    return value


def share_item(share: Share, ttl: int) -> Item:
    item: Item = {
        "pk": s(share_pk(share.handle)),
        "handle": s(share.handle),
        "owner": s(share.owner),
        "target": s(share.target),
        "object_key": s(share.key),
        "size": n(share.size),
        "created_ms": n(share.created_ms),
        "expires_at": n(share.expires_at),
        "filename": s(share.filename),
        "disposition": s(share.disposition),
        "downloads": n(share.downloads),
        "password_protected": {"BOOL": share.protected},
        "failed_attempts": n(share.failed_attempts),
        "locked_until": n(share.locked_until),
        "ttl": n(ttl),
        "owner_pk": s(owner_pk(share.owner)),
        "owner_sk": s(owner_sk(share)),
    }
    stale_pk, stale_sk = stale_keys(share.handle, _stops_at(share))
    item["stale_pk"], item["stale_sk"] = s(stale_pk), s(stale_sk)
    if share.content_type is not None:
        item["content_type"] = s(share.content_type)
    if share.max_downloads is not None:
        item["max_downloads"] = n(share.max_downloads)
    if share.password_hash is not None:
        item["password_hash"] = s(share.password_hash)
    if share.revoked_at is not None:
        item["revoked_at"] = n(share.revoked_at)
    if share.owner_claims:
        # Never a key: for the share's events (docs/events.md); the table holds user ids.
        item["owner_claims"] = {"M": {k: s(v) for k, v in share.owner_claims.items()}}
    return item


def _stops_at(share: Share) -> int:
    if share.revoked_at is not None:
        return min(share.revoked_at, share.expires_at)
    return share.expires_at


def share_from(item: Mapping[str, Any]) -> Share:
    disposition = string(item, "disposition")
    protected = item.get("password_protected")
    return Share(
        handle=_need(string(item, "handle"), "handle"),
        owner=_need(string(item, "owner"), "owner"),
        target=_need(string(item, "target"), "target"),
        key=_need(string(item, "object_key"), "object_key"),
        size=_need(integer(item, "size"), "size"),
        content_type=string(item, "content_type"),
        created_ms=_need(integer(item, "created_ms"), "created_ms"),
        expires_at=_need(integer(item, "expires_at"), "expires_at"),
        filename=string(item, "filename") or "",
        disposition="inline" if disposition == "inline" else "attachment",
        max_downloads=integer(item, "max_downloads"),
        downloads=integer(item, "downloads") or 0,
        password_hash=string(item, "password_hash"),
        password_protected=bool(isinstance(protected, Mapping) and protected.get("BOOL")),
        revoked_at=integer(item, "revoked_at"),
        failed_attempts=integer(item, "failed_attempts") or 0,
        locked_until=integer(item, "locked_until") or 0,
    )


def _names(expression: str) -> dict[str, str]:
    return {token: name for token, name in _NAMES.items() if token in expression}


class DynamoDbShareStore(Table):
    """``presign.shares.ports.ShareStore`` on the table template.yaml calls ``SharesTable``."""

    title = "the shares table"
    retry_after = RETRY_AFTER_SECONDS

    def _update(self, handle: str, update: str, condition: str, values: Item, **extra: Any) -> dict[str, Any]:
        return self.call(
            "UpdateItem",
            {
                "Key": {"pk": s(share_pk(handle))},
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": _names(update + " " + condition),
                "ExpressionAttributeValues": values,
                **extra,
            },
        )

    def create(self, share: Share, *, ttl: int) -> bool:
        try:
            self.call(
                "PutItem", {"Item": share_item(share, ttl), "ConditionExpression": "attribute_not_exists(pk)"}
            )
        except AwsServiceError:
            return False
        return True

    def get(self, handle: str) -> Share | None:
        answer = self.call("GetItem", {"Key": {"pk": s(share_pk(handle))}, "ConsistentRead": True})
        item = answer.get("Item")
        return share_from(item) if item else None

    def spend(self, handle: str, *, now: int) -> Spent:
        stamp = write_id()
        try:
            answer = self._update(
                handle,
                "SET #downloads = #downloads + :one, #last_access = :write_id",
                "attribute_exists(#pk) AND attribute_not_exists(#revoked_at) "
                "AND attribute_not_exists(#expired_at) AND #expires_at > :now "
                "AND (attribute_not_exists(#max_downloads) OR #downloads < #max_downloads) "
                "AND (attribute_not_exists(#last_access) OR #last_access <> :write_id)",
                {":one": n(1), ":now": n(now), ":write_id": s(stamp)},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except AwsServiceError as exc:
            old = exc.body.get("Item") or {}
            if old and string(old, "last_access") == stamp:
                return Spent(True, None)  # our own spend, resent after its answer was lost
            return Spent(False, share_from(old) if old else None)
        self._index_if_used_up(handle, answer.get("Attributes") or {}, now)
        return Spent(True, None)

    def _index_if_used_up(self, handle: str, updated: Mapping[str, Any], now: int) -> None:
        """The spend that used the last download moves the share to ``now`` in the stale index.

        A second write, best effort: if it is lost, the share stays indexed at its expiry and
        cleanup removes it then (DynamoDB cannot set an attribute on a condition of the result).
        """
        downloads, limit = integer(updated, "downloads"), integer(updated, "max_downloads")
        if downloads is None or limit is None or downloads < limit:
            return
        pk, sk = stale_keys(handle, now)
        try:
            self._update(
                handle,
                "SET stale_pk = :pk, stale_sk = :sk",
                "#downloads >= #max_downloads AND #expires_at > :now",
                {":pk": s(pk), ":sk": s(sk), ":now": n(now)},
            )
        except (AwsServiceError, DependencyUnavailable):
            return  # not used up yet (the common case), or the table hiccuped: filed under expiry

    def revoke(self, handle: str, *, owner: str, now: int, ttl: int) -> Share | None:
        try:
            answer = self._update(
                handle,
                "SET #revoked_at = if_not_exists(#revoked_at, :now), #ttl = :ttl",
                "attribute_exists(#pk) AND #owner = :owner",
                {":now": n(now), ":ttl": n(ttl), ":owner": s(owner)},
                ReturnValues="ALL_NEW",
            )
        except AwsServiceError:
            return None
        share = share_from(answer.get("Attributes") or {})
        if share.revoked_at == now and now < share.expires_at:
            # This call revoked it: the stale index moves it from its expiry to now (best effort,
            # as for a spend: lost, the share is removed after its expiry instead).
            pk, sk = stale_keys(handle, now)
            with contextlib.suppress(AwsServiceError, DependencyUnavailable):
                self._update(
                    handle,
                    "SET stale_pk = :pk, stale_sk = :sk",
                    "#revoked_at = :now",
                    {":pk": s(pk), ":sk": s(sk), ":now": n(now)},
                )
        return share

    def fail(self, handle: str, *, now: int, threshold: int, lock_until: int) -> bool:
        try:
            answer = self._update(
                handle,
                "ADD #failed_attempts :one",
                "attribute_exists(#pk)",
                {":one": n(1)},
                ReturnValues="UPDATED_NEW",
            )
        except AwsServiceError:
            return False  # the share is gone (TTL): nothing to count
        count = integer(answer.get("Attributes") or {}, "failed_attempts") or 0
        if count < threshold:
            return False
        try:
            self._update(
                handle,
                "SET #locked_until = :until, #failed_attempts = :zero",
                "#failed_attempts >= :threshold",
                {":until": n(lock_until), ":zero": n(0), ":threshold": n(threshold)},
            )
        except AwsServiceError:
            return False  # a concurrent failure locked it first
        return True

    def page(self, owner: str, *, limit: int, after: str | None) -> SharePage:
        payload: dict[str, Any] = {
            "IndexName": OWNER_INDEX,
            "KeyConditionExpression": "owner_pk = :owner",
            "ExpressionAttributeValues": {":owner": s(owner_pk(owner))},
            "ScanIndexForward": False,
            "Limit": max(1, limit),
        }
        if after is not None:
            handle = after.rpartition("#")[2]
            if len(handle) != HANDLE_LENGTH:
                return SharePage(shares=[], last=None)
            # Always the caller's own index partition: a cursor cannot reach anyone else's shares.
            payload["ExclusiveStartKey"] = {
                "pk": s(share_pk(handle)),
                "owner_pk": s(owner_pk(owner)),
                "owner_sk": s(after),
            }
        answer = self.call("Query", payload)
        shares = [share_from(item) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return SharePage(shares=shares, last=string(last, "owner_sk") if isinstance(last, Mapping) else None)
