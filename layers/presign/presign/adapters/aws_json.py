"""A minimal AWS JSON-protocol client (DynamoDB's wire format) on ``http.client``: standard library only.

**Why it exists.** The rate limiter makes one conditional ``UpdateItem`` per request, and that was the
only thing that brought botocore into the uploads and downloads functions. Importing boto3/botocore and
creating a DynamoDB client cost ~155 ms of a ~360 ms cold start (UploadsFunction, measured with
``benchmarks/bench_coldstart.py``): as much as the naive handler we compare against, once both ship
bytecode. Signing with ``presign.signing.sigv4.sign_request`` (pinned byte for byte to botocore) and
sending over ``http.client`` costs a few milliseconds of imports and nothing at client creation.

**What it does.** POSTs ``{"X-Amz-Target": f"{target_prefix}.{operation}"}`` with a JSON body to the
endpoint's root, signed with the credentials the provider returns for that request (it is called per
request, so rotated role credentials are picked up). Keeps connections alive in a small pool, safe
to share between threads. Makes at most ``max_attempts`` attempts, with jittered backoff, on
throttling, 5xx and connection errors, and reports how many it made as botocore does
(``ResponseMetadata.RetryAttempts``), since the caller may need to know a write was resent.

**What it deliberately does not do.** No endpoint rulesets (FIPS, dual-stack, partitions other than
``aws`` and ``aws-cn``), no credential chain (the provider decides), no retry quota or adaptive
mode, no CRC32 response checks, no pagination, waiters or request validation, no HTTP proxies, no
``Expect: 100-continue``. Callers that need any of that should use boto3.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from presign.signing.sigv4 import SigningCredentials, sign_request

if TYPE_CHECKING:
    import ssl

__all__ = ["AwsJsonClient", "AwsServiceError", "AwsUnavailable"]

THROTTLING_CODES = frozenset(
    ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded")
)
BACKOFF_SECONDS = 0.05  # the first retry waits up to this long, each later one up to twice as long
# A pooled connection idle for longer may have been closed by the server (or the container was frozen);
# it is dropped rather than spending an attempt to find out.
MAX_IDLE_SECONDS = 30.0


class AwsServiceError(Exception):
    """The service answered with an error: ``code`` is the ``__type`` without its ``namespace#``."""

    def __init__(self, code: str, message: str, status: int, body: dict[str, Any], attempts: int = 1) -> None:
        super().__init__(f"{code} (HTTP {status}): {message}")
        self.code = code
        self.message = message
        self.status = status
        self.body = body  # e.g. ConditionalCheckFailedException's Item (ReturnValuesOnConditionCheckFailure)
        self.attempts = attempts


class AwsUnavailable(Exception):
    """No usable answer: connection refused or closed, a timeout, or a 5xx that is not the service's.

    ``reason`` names the failure as botocore's exception would (``EndpointConnectionError``,
    ``ConnectTimeoutError``, ``ReadTimeoutError``, ``ConnectionClosedError``) or ``HTTP<status>``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class _Retryable(Exception):
    def __init__(self, error: AwsServiceError | AwsUnavailable) -> None:
        self.error = error


class AwsJsonClient:
    """``call(operation, payload)`` for one AWS JSON-protocol service; see the module docstring."""

    def __init__(
        self,
        *,
        service: str = "dynamodb",
        region: str,
        endpoint_url: str | None,
        credentials_provider: Callable[[], SigningCredentials],
        target_prefix: str = "DynamoDB_20120810",
        content_type: str = "application/x-amz-json-1.0",
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int = 2,
        max_pool_connections: int = 10,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        suffix = ".cn" if region.startswith("cn-") else ""
        self.endpoint_url = endpoint_url or f"https://{service}.{region}.amazonaws.com{suffix}"
        parts = urlsplit(self.endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"unsupported endpoint_url {self.endpoint_url!r}")
        self._https = parts.scheme == "https"
        self._hostname = parts.hostname
        self._port = parts.port
        self._service = service
        self._region = region
        self._credentials = credentials_provider
        self._target_prefix = target_prefix
        self._content_type = content_type
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self.max_attempts = max_attempts
        self._max_idle = max_pool_connections
        self._clock = clock
        self._tls: ssl.SSLContext | None = None  # made on first connect (loading the CA bundle takes ms)
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []  # LIFO: the warmest first
        self._lock = threading.Lock()
        self.connections_opened = 0  # for tests and benchmarks: keep-alive reuse is observable

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The decoded response, plus ``ResponseMetadata`` (``HTTPStatusCode``, ``RetryAttempts``).

        Raises ``AwsServiceError`` for the service's errors and ``AwsUnavailable`` when there was no
        usable answer, after retrying what may succeed on a second try. What the credentials
        provider raises (no credentials) propagates unchanged and is never retried.
        """
        body = json.dumps(payload, separators=(",", ":")).encode()
        for attempt in range(1, self.max_attempts + 1):
            try:
                status, answer = self._send(operation, body)
            except _Retryable as retryable:
                if attempt == self.max_attempts:
                    error = retryable.error
                    if isinstance(error, AwsServiceError):
                        error.attempts = attempt
                    raise error from None
                time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** (attempt - 1)))  # noqa: S311 - jitter
                continue
            except AwsServiceError as error:
                error.attempts = attempt
                raise
            answer["ResponseMetadata"] = {"HTTPStatusCode": status, "RetryAttempts": attempt - 1}
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()

    # -- one attempt

    def _send(self, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
        headers = sign_request(
            method="POST",
            url=self.endpoint_url,
            headers={
                "Content-Type": self._content_type,
                "X-Amz-Target": f"{self._target_prefix}.{operation}",
            },
            body=body,
            service=self._service,
            region=self._region,
            credentials=self._credentials(),
            now=self._clock(),
        )
        conn = self._checkout()
        try:
            if conn.sock is None:
                self._connect(conn)
            # http.client adds Host (as the signer derived it) and Content-Length itself.
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except _Retryable:
            conn.close()
            raise
        except TimeoutError as exc:
            conn.close()
            raise _Retryable(AwsUnavailable("ReadTimeoutError", str(exc))) from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise _Retryable(AwsUnavailable("ConnectionClosedError", type(exc).__name__)) from exc
        if response.will_close:
            conn.close()
        else:
            self._checkin(conn)
        return response.status, self._decode(response.status, data)

    def _connect(self, conn: http.client.HTTPConnection) -> None:
        # http.client has one timeout; it is the connect timeout until the socket is up.
        try:
            conn.connect()
        except TimeoutError as exc:
            raise _Retryable(AwsUnavailable("ConnectTimeoutError", str(exc))) from exc
        except OSError as exc:
            raise _Retryable(AwsUnavailable("EndpointConnectionError", str(exc))) from exc
        conn.sock.settimeout(self._read_timeout)
        with self._lock:
            self.connections_opened += 1

    def _decode(self, status: int, data: bytes) -> dict[str, Any]:
        try:
            decoded = json.loads(data) if data else {}
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            if status >= 500:
                raise _Retryable(AwsUnavailable(f"HTTP{status}", "the response is not the service's JSON"))
            if status >= 400:
                raise AwsServiceError(f"HTTP{status}", "the response is not the service's JSON", status, {})
            raise AwsUnavailable("MalformedResponse", "the response is not a JSON object")
        if status < 300:
            return decoded
        code = str(decoded.get("__type", f"HTTP{status}")).rpartition("#")[2]
        message = str(decoded.get("message", decoded.get("Message", "")))
        error = AwsServiceError(code, message, status, decoded)
        if code in THROTTLING_CODES or status >= 500:
            raise _Retryable(error)
        raise error  # a 4xx, a failed condition above all, is an answer: never resent

    # -- the pool

    def _checkout(self) -> http.client.HTTPConnection:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn, since = self._idle.pop()
                if now - since <= MAX_IDLE_SECONDS:
                    return conn
                conn.close()
        if self._https:
            if self._tls is None:
                import ssl  # only for real endpoints; a loopback test server speaks http

                self._tls = ssl.create_default_context()
            return http.client.HTTPSConnection(
                self._hostname, self._port, timeout=self._connect_timeout, context=self._tls
            )
        return http.client.HTTPConnection(self._hostname, self._port, timeout=self._connect_timeout)

    def _checkin(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()
