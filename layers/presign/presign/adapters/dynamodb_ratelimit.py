"""The rate limiter's DynamoDB store: one conditional ``UpdateItem`` per write, nothing else.

The functions' role may only ``dynamodb:UpdateItem`` on the table, and this is all it needs:
``ReturnValues=UPDATED_NEW`` gives the new tats of an admitted write, and
``ReturnValuesOnConditionCheckFailure=ALL_OLD`` gives the current ones when the condition fails,
so the limiter never reads. The conditions are described in ``presign.ratelimit.store``.

Errors are translated here and nowhere else: a failed condition is an outcome, not an error;
everything else the client can raise (throttling, timeouts, an unreachable endpoint, a missing
table, access denied, no credentials) becomes ``DependencyUnavailable`` with the cause in
``details["reason"]`` (the service's error code, or the connection failure named as botocore names it).

**The client.** ``presign.adapters.aws_json.AwsJsonClient``, not boto3: importing botocore and creating
a client cost ~155 ms of a cold start, for this one call (the numbers are in that module).

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

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from presign.adapters.aws_json import AwsJsonClient, AwsServiceError, AwsUnavailable
from presign.adapters.credentials import role_credentials
from presign.errors import ConfigurationError, DependencyUnavailable
from presign.ratelimit.store import LaneWrite, Mode, WriteOutcome

CONNECT_TIMEOUT_SECONDS = 0.5
READ_TIMEOUT_SECONDS = 1.0
# Throttling and transient errors are retried once, with jittered backoff.
TOTAL_MAX_ATTEMPTS = 2
REQUEST_ID = "rid"
TTL = "ttl"  # the table's TimeToLiveSpecification.AttributeName


@lru_cache(maxsize=8)
def rate_limit_client(
    *, region_name: str | None = None, endpoint_url: str | None = None, max_pool_connections: int = 10
) -> AwsJsonClient:
    """One DynamoDB client per container, wired from the environment as the SDK would be.

    The region is ``AWS_REGION`` (set by Lambda) or ``AWS_DEFAULT_REGION``; the endpoint
    ``AWS_ENDPOINT_URL_DYNAMODB``, then ``AWS_ENDPOINT_URL`` (local runs and tests), else the
    regional one; the credentials are the role's, read per request (they rotate).
    """
    environ = os.environ
    region = region_name or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigurationError("AWS_REGION (or AWS_DEFAULT_REGION) must be set for the rate-limit table")
    endpoint = endpoint_url or environ.get("AWS_ENDPOINT_URL_DYNAMODB") or environ.get("AWS_ENDPOINT_URL")
    return AwsJsonClient(
        service="dynamodb",
        region=region,
        endpoint_url=endpoint or None,
        credentials_provider=lambda: role_credentials(environ),
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_attempts=TOTAL_MAX_ATTEMPTS,
        max_pool_connections=max_pool_connections,
    )


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

    def __init__(self, client: AwsJsonClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def write(
        self, key: str, lanes: Sequence[LaneWrite], *, now: int, request_id: str, expires_at: int
    ) -> WriteOutcome:
        update, condition = _expressions(tuple(lane.mode for lane in lanes))
        names = {"#rid": REQUEST_ID, "#ttl": TTL}
        values: dict[str, dict[str, str]] = {
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
            response = self._client.call(
                "UpdateItem",
                {
                    "TableName": self._table,
                    "Key": {"pk": {"S": key}},
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                    "ReturnValues": "UPDATED_NEW",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
            )
        except AwsServiceError as exc:
            if exc.code != "ConditionalCheckFailedException":
                raise _unavailable("the rate-limit table refused the request", exc.code) from exc
            item = exc.body.get("Item") or {}
            return WriteOutcome(
                applied=False,
                values=_tats(item, lanes),
                request_id=_string(item.get(REQUEST_ID)),
                attempts=exc.attempts,
            )
        except AwsUnavailable as exc:
            raise _unavailable("the rate-limit table is unreachable", exc.reason) from exc
        except DependencyUnavailable as exc:  # the credentials provider found none
            raise _unavailable("no credentials for the rate-limit table", "NoCredentialsError") from exc
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
