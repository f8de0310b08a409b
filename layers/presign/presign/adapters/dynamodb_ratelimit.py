"""The rate limiter's DynamoDB store: one conditional ``UpdateItem`` per write, nothing else.

The functions' role may only ``dynamodb:UpdateItem`` on the table, and this is all it needs:
``ReturnValues=UPDATED_NEW`` gives the new tats of an admitted write, and
``ReturnValuesOnConditionCheckFailure=ALL_OLD`` gives the current ones when the condition fails,
so the limiter never reads. The conditions are described in ``presign.ratelimit.store``.

Errors are translated here and nowhere else: a failed condition is an outcome, not an error;
everything else the client can raise (throttling, timeouts, an unreachable endpoint, a missing
table, access denied, no credentials) becomes ``DependencyUnavailable`` with the cause in
``details["reason"]`` (the service's error code, or the connection failure named as botocore names it).

**The client** is the tables' shared one (``presign.adapters.dynamodb.table_client``): the
project's own small ``AwsJsonClient``, not boto3, so no cold start pays for botocore.

**Retries.** The client makes at most 2 attempts, with short timeouts and a jittered backoff of at
most 50 ms, so a sick DynamoDB costs a request about 2 s at worst, never Lambda's whole timeout. It
resends on throttling, 5xx, timeouts and lost connections, never on a failed condition (a 4xx is an
answer). A resend cannot be counted twice without anyone knowing: every write carries a fresh request
id and is conditioned on the item's last writer not being that id, and an idle lane's write is also
conditioned on ``tat <= now``, which the write itself falsifies. So when an attempt was applied but
its response lost (a read timeout, a connection closed before the answer), the resend fails its
condition and ``ALL_OLD`` shows the caller its own request id: the limiter admits once
(``tests/integration/test_ratelimit_dynamodb.py`` forces exactly that). The one gap, another writer
landing between the lost response and the resend, can only over-charge the caller by one request
(never admit more), and shows up as the ``RateLimitSdkRetry`` event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from presign.adapters.aws_json import AwsServiceError
from presign.adapters.dynamodb import TTL, Table, n, s, string
from presign.ratelimit.store import LaneWrite, Mode, WriteOutcome

REQUEST_ID = "rid"


@lru_cache(maxsize=64)
def _expressions(modes: tuple[Mode, ...]) -> tuple[str, str]:
    """(UpdateExpression, ConditionExpression) for lanes written in ``modes``."""
    sets = ["#rid = :rid, #ttl = :ttl"]
    conditions = ["(attribute_not_exists(#rid) OR #rid <> :rid)"]
    for i, mode in enumerate(modes):
        if mode == "start":
            sets.append(f"#a{i} = :v{i}")
            conditions.append(f"(attribute_not_exists(#a{i}) OR #a{i} <= :now)")
        else:
            sets.append(f"#a{i} = #a{i} + :i{i}")
            conditions.append(f"(#a{i} > :now AND #a{i} <= :c{i})")
    return "SET " + ", ".join(sets), " AND ".join(conditions)


class DynamoDbRateLimitStore(Table):
    """``RateLimitStore`` on a table with a string hash key ``pk`` and TTL attribute ``ttl``."""

    title = "the rate-limit table"

    def write(
        self, key: str, lanes: Sequence[LaneWrite], *, now: int, request_id: str, expires_at: int
    ) -> WriteOutcome:
        update, condition = _expressions(tuple(lane.mode for lane in lanes))
        names = {"#rid": REQUEST_ID, "#ttl": TTL}
        values: dict[str, dict[str, str]] = {":now": n(now), ":rid": s(request_id), ":ttl": n(expires_at)}
        for i, lane in enumerate(lanes):
            names[f"#a{i}"] = lane.attribute
            if lane.mode == "start":
                values[f":v{i}"] = n(now + lane.increment)
            else:
                values[f":i{i}"] = n(lane.increment)
                values[f":c{i}"] = n(lane.ceiling)
        try:
            response = self.call(
                "UpdateItem",
                {
                    "Key": {"pk": s(key)},
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                    "ReturnValues": "UPDATED_NEW",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
            )
        except AwsServiceError as exc:  # the condition failed: an outcome, not an error
            item = exc.body.get("Item") or {}
            return WriteOutcome(
                applied=False,
                values=self._tats(item, lanes),
                request_id=string(item, REQUEST_ID),
                attempts=exc.attempts,
            )
        return WriteOutcome(
            applied=True,
            values=self._tats(response.get("Attributes", {}), lanes),
            request_id=request_id,
            attempts=_attempts(response),
        )

    def _tats(self, item: Mapping[str, Any], lanes: Sequence[LaneWrite]) -> dict[str, int]:
        found: dict[str, int] = {}
        for lane in lanes:
            value = item.get(lane.attribute)
            if value is None:
                continue
            try:
                found[lane.attribute] = int(str(value["N"]))
            except (KeyError, TypeError, ValueError) as exc:
                # Someone wrote a lane by hand; refuse to guess rather than admit or crash.
                raise self.unavailable(f"{self.title} holds a malformed item", "MalformedItem") from exc
        return found


def _attempts(response: Mapping[str, Any]) -> int:
    metadata = response.get("ResponseMetadata") or {}
    retries = metadata.get("RetryAttempts", 0)
    return 1 + retries if isinstance(retries, int) else 1
