"""The rate limiter's DynamoDB store: one conditional ``UpdateItem`` per write, nothing else.

The functions' role may only ``dynamodb:UpdateItem`` on the table, and this is all it needs:
``ReturnValues=UPDATED_NEW`` gives the new tats of an admitted write, and
``ReturnValuesOnConditionCheckFailure=ALL_OLD`` gives the current ones when the condition fails,
so the limiter never reads. The conditions are described in ``presign.ratelimit.store``.

Errors are translated here and nowhere else: a failed condition is an outcome, not an error;
everything else the SDK can raise (throttling, timeouts, an unreachable endpoint, a missing
table, access denied) becomes ``DependencyUnavailable`` with the cause in ``details["reason"]``.

**SDK retries.** The client makes at most 2 attempts (standard mode), with short timeouts, so a
sick DynamoDB costs a request about 2 s at worst, never Lambda's whole timeout. A retry cannot be
counted twice without anyone knowing: every write carries a fresh request id and is conditioned
on the item's last writer not being that id, and an idle lane's write is also conditioned on
``tat <= now``, which the write itself falsifies. So when an attempt was applied but its response
lost, the resend fails its condition and ``ALL_OLD`` shows the caller its own request id: the
limiter admits once (``tests/integration/test_ratelimit_dynamodb.py`` forces exactly that). The
one gap, another writer landing between the lost response and the resend, can only over-charge
the caller by one request (never admit more), and shows up as the ``RateLimitSdkRetry`` event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from presign.errors import DependencyUnavailable
from presign.ratelimit.store import LaneWrite, Mode, WriteOutcome

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

CONNECT_TIMEOUT_SECONDS = 0.5
READ_TIMEOUT_SECONDS = 1.0
# Standard mode: throttling and transient errors are retried once, with jittered backoff.
TOTAL_MAX_ATTEMPTS = 2
REQUEST_ID = "rid"
TTL = "ttl"  # the table's TimeToLiveSpecification.AttributeName


@lru_cache(maxsize=8)
def rate_limit_client(
    *, region_name: str | None = None, endpoint_url: str | None = None, max_pool_connections: int = 10
) -> DynamoDBClient:
    """One DynamoDB client per container (the endpoint may come from AWS_ENDPOINT_URL_DYNAMODB)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": TOTAL_MAX_ATTEMPTS},
        max_pool_connections=max_pool_connections,
        tcp_keepalive=True,
        # Every request is built here from typed values; client-side validation only costs time.
        parameter_validation=False,
    )
    session = boto3.session.Session()  # not the default session: client creation is not thread-safe
    return session.client("dynamodb", region_name=region_name, endpoint_url=endpoint_url, config=config)


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


class DynamoDbRateLimitStore:
    """``RateLimitStore`` on a table with a string hash key ``pk`` and TTL attribute ``ttl``."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def write(
        self, key: str, lanes: Sequence[LaneWrite], *, now: int, request_id: str, expires_at: int
    ) -> WriteOutcome:
        from botocore.exceptions import BotoCoreError, ClientError

        update, condition = _expressions(tuple(lane.mode for lane in lanes))
        names = {"#rid": REQUEST_ID, "#ttl": TTL}
        values: dict[str, AttributeValueTypeDef] = {
            ":now": {"N": str(now)},
            ":rid": {"S": request_id},
            ":ttl": {"N": str(expires_at)},
        }
        for i, lane in enumerate(lanes):
            names[f"#a{i}"] = lane.attribute
            if lane.mode == "start":
                values[f":v{i}"] = {"N": str(now + lane.increment)}
            else:
                values[f":i{i}"] = {"N": str(lane.increment)}
                values[f":c{i}"] = {"N": str(lane.ceiling)}
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code != "ConditionalCheckFailedException":
                raise _unavailable("the rate-limit table refused the request", code or "ClientError") from exc
            error_response: Mapping[str, Any] = exc.response
            item = error_response.get("Item") or {}
            return WriteOutcome(
                applied=False,
                values=_tats(item, lanes),
                request_id=_string(item.get(REQUEST_ID)),
                attempts=_attempts(error_response),
            )
        except BotoCoreError as exc:
            raise _unavailable("the rate-limit table is unreachable", type(exc).__name__) from exc
        return WriteOutcome(
            applied=True,
            values=_tats(response.get("Attributes", {}), lanes),
            request_id=request_id,
            attempts=_attempts(response),
        )


def _unavailable(message: str, reason: str) -> DependencyUnavailable:
    error = DependencyUnavailable(message)
    error.details["reason"] = reason  # for the limiter's metric; never shown to a client
    return error


def _tats(item: Mapping[str, Any], lanes: Sequence[LaneWrite]) -> dict[str, int]:
    found: dict[str, int] = {}
    for lane in lanes:
        value = item.get(lane.attribute)
        if value is None:
            continue
        try:
            found[lane.attribute] = int(str(value["N"]))
        except (KeyError, TypeError, ValueError) as exc:
            # Someone wrote a lane by hand; refuse to guess rather than admit or crash.
            raise _unavailable("the rate-limit table holds a malformed item", "MalformedItem") from exc
    return found


def _string(value: object) -> str | None:
    if isinstance(value, Mapping):
        text = value.get("S")
        return text if isinstance(text, str) else None
    return None


def _attempts(response: Mapping[str, Any]) -> int:
    metadata = response.get("ResponseMetadata") or {}
    retries = metadata.get("RetryAttempts", 0)
    return 1 + retries if isinstance(retries, int) else 1
