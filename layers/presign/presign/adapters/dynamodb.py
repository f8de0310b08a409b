"""What the four table adapters share: one DynamoDB client per container, one translation of the
client's errors, and the attribute-value helpers.

**The client.** ``presign.adapters.aws_json.AwsJsonClient``, not boto3: importing botocore and
creating a client cost ~155 ms of a cold start, for a handful of calls (the numbers are in that
module). Every table (rate limits, uploads, shares, cleanup's reads of the last two) goes through
the same one, and so through one connection pool.

**Errors.** A failed condition is an outcome, left to the adapter that asked (``AwsServiceError``
with code ``ConditionalCheckFailedException``); everything else the client can raise (throttling
after its retry, timeouts, an unreachable endpoint, a missing table, access denied, no
credentials) becomes ``DependencyUnavailable`` (503 with Retry-After) with the cause in
``details["reason"]``, for logs and metrics, never shown to a client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from presign.adapters.aws_json import AwsJsonClient, AwsServiceError, AwsUnavailable
from presign.adapters.role import role_credentials
from presign.errors import ConfigurationError, DependencyUnavailable
from presign.ratelimit.store import HOT_KEY_REASON

CONNECT_TIMEOUT_SECONDS = 0.5
READ_TIMEOUT_SECONDS = 1.0
# Throttling and transient errors are retried once, with jittered backoff.
TOTAL_MAX_ATTEMPTS = 2
CONDITION_FAILED = "ConditionalCheckFailedException"
TTL = "ttl"  # every table's TimeToLiveSpecification.AttributeName (template.yaml)
Item = dict[str, dict[str, Any]]


@lru_cache(maxsize=8)
def table_client(
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


def unavailable(message: str, reason: str, *, retry_after: int = 1) -> DependencyUnavailable:
    error = DependencyUnavailable(message, retry_after=retry_after)
    error.details["reason"] = reason  # for logs and metrics; never shown to a client
    return error


class Table:
    """One table through the shared client: ``call`` answers, raises the failed condition, or
    raises ``DependencyUnavailable`` naming the table (``the uploads table is unreachable``)."""

    #: How messages name the table ("the uploads table"), and the Retry-After they ask for.
    title = "the table"
    retry_after = 1

    def __init__(self, client: AwsJsonClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._client.call(operation, {"TableName": self._table, **payload})
        except AwsServiceError as exc:
            if exc.code == CONDITION_FAILED:
                raise
            raise self.unavailable(f"{self.title} refused the request", _reason(exc)) from exc
        except AwsUnavailable as exc:
            raise self.unavailable(f"{self.title} is unreachable", exc.reason) from exc
        except DependencyUnavailable as exc:  # the credentials provider found none
            raise self.unavailable(f"no credentials for {self.title}", "NoCredentialsError") from exc

    @classmethod
    def unavailable(cls, message: str, reason: str) -> DependencyUnavailable:
        return unavailable(message, reason, retry_after=cls.retry_after)

    @classmethod
    def malformed(cls, name: str) -> DependencyUnavailable:
        """An item someone wrote by hand: refused, never guessed at (503, not a 500)."""
        return cls.unavailable(f"{cls.title} holds a malformed item", f"MalformedItem:{name}")


def _reason(exc: AwsServiceError) -> str:
    """The error's code, or ``HOT_KEY_REASON`` when DynamoDB says one key range was throttled
    (its ``ThrottlingReasons``, e.g. ``TableWriteKeyRangeThroughputExceeded``)."""
    reasons = exc.body.get("ThrottlingReasons")
    if isinstance(reasons, list) and any(
        isinstance(r, Mapping) and str(r.get("reason", "")).endswith(HOT_KEY_REASON) for r in reasons
    ):
        return HOT_KEY_REASON
    return exc.code


# -- attribute values ------------------------------------------------------------------------------


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def string(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return str(value["S"]) if isinstance(value, Mapping) and "S" in value else None


def integer(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    return int(str(value["N"])) if isinstance(value, Mapping) and "N" in value else None


def write_id() -> str:
    """A fresh id a conditional write stamps on its item, so a resend of it recognises itself."""
    return os.urandom(8).hex()
