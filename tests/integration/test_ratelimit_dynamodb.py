"""The rate limiter against DynamoDB (moto in-process), on a table built from template.yaml.

Errors are injected through botocore's own event hooks, so the adapter sees exactly what the SDK
would raise; the SDK-retry test makes botocore resend a write whose first attempt was applied.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from moto import mock_aws

from local.cfn import load_template
from local.emulator import TemplateResolver
from local.tables import STACK_NAME, create_tables
from presign.adapters import dynamodb_ratelimit
from presign.adapters.dynamodb_ratelimit import DynamoDbRateLimitStore, rate_limit_client
from presign.errors import DependencyUnavailable, InvalidRequest, PayloadTooLarge, RateLimited
from presign.ratelimit.gcra import PICOS_PER_SECOND
from presign.ratelimit.limiter import (
    BYTES_LANE,
    TTL_MARGIN_SECONDS,
    RateLimiter,
    build_rate_limiter,
    item_key,
    lane_attribute,
)
from presign.ratelimit.settings import ActionLimits, RateLimitSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = f"{STACK_NAME}-RateLimitTable"  # as local.tables names template.yaml's table
START = 1_750_000_000 * PICOS_PER_SECOND
US = 10**6
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class FakeClock:
    ps: int = START

    def __call__(self) -> datetime:
        return EPOCH + timedelta(microseconds=self.ps // US)

    def advance(self, seconds: float) -> None:
        self.ps += int(seconds * 1_000_000) * US


@dataclass
class Events:
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, name: str, /, **dims: str) -> None:
        self.seen.append((name, dims))

    def names(self) -> list[str]:
        return [name for name, _ in self.seen]


def create_table(client: DynamoDBClient) -> None:
    doc = load_template()
    assert create_tables(doc, TemplateResolver(doc))["RateLimitTable"] == TABLE


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def client(aws_env: None) -> Iterator[DynamoDBClient]:
    rate_limit_client.cache_clear()
    with mock_aws():
        made = rate_limit_client(region_name="us-east-1")
        create_table(made)
        yield made
    rate_limit_client.cache_clear()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def make(client: DynamoDBClient, clock: FakeClock, events: Events) -> Callable[..., RateLimiter]:
    """A limiter as one Lambda container would build it (its own cache), on the shared table."""

    def build(document: dict[str, Any] | None = None, **kw: Any) -> RateLimiter:
        settings = RateLimitSettings.model_validate(document or {})
        return build_rate_limiter(
            settings, table_name=TABLE, client=kw.pop("client", client), clock=clock, on_event=events, **kw
        )

    return build


def count_calls(client: DynamoDBClient) -> Callable[[], int]:
    calls: list[int] = []
    client.meta.events.register("before-call.dynamodb.UpdateItem", lambda **_: calls.append(1))
    return lambda: len(calls)


def item(client: DynamoDBClient, key: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get_item(TableName=TABLE, Key={"pk": {"S": key}}).get("Item", {})
    return found


UPLOAD_3_PER_HOUR = {"actions": {"upload": {"rate": 1, "period": 1200, "burst": 3}}}


# -- the table


def test_the_table_is_the_templates_and_the_adapter_writes_its_ttl_attribute(client: DynamoDBClient) -> None:
    properties = load_template()["Resources"]["RateLimitTable"]["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"]["AttributeName"] == dynamodb_ratelimit.TTL
    described = client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}


# -- budgets


def test_users_are_independent_and_two_tokens_of_one_user_share_a_budget(
    make: Callable[..., RateLimiter],
) -> None:
    # Given two containers (two tokens of alice may land on either)
    first, second = make(UPLOAD_3_PER_HOUR), make(UPLOAD_3_PER_HOUR)
    # When alice spends her three uploads across both
    first.acquire(subject="alice", action="upload", target="main")
    second.acquire(subject="alice", action="upload", target="main")
    first.acquire(subject="alice", action="upload", target="main")
    # Then neither container admits a fourth
    for limiter in (first, second):
        with pytest.raises(RateLimited):
            limiter.acquire(subject="alice", action="upload", target="main")
    # And bob's budget is untouched
    assert second.acquire(subject="bob", action="upload", target="main").remaining == 2


def test_targets_and_actions_have_budgets_of_their_own_and_targets_can_override(
    make: Callable[..., RateLimiter],
) -> None:
    limiter = make(
        {
            **UPLOAD_3_PER_HOUR,
            "per_target": {"archive": {"upload": {"rate": 1, "period": 3600, "burst": 1}}},
        }
    )
    assert limiter.acquire(subject="alice", action="upload", target="archive").limit == 1
    with pytest.raises(RateLimited):
        limiter.acquire(subject="alice", action="upload", target="archive")
    assert limiter.acquire(subject="alice", action="upload", target="main").remaining == 2
    default_download_burst = ActionLimits().download.burst
    assert (
        limiter.acquire(subject="alice", action="download", target="archive").remaining
        == default_download_burst - 1
    )


def test_headers_are_exact_on_admissions_and_refusals(
    make: Callable[..., RateLimiter], clock: FakeClock
) -> None:
    limiter = make(UPLOAD_3_PER_HOUR)  # one upload every 20 minutes, three at once
    seen = [limiter.acquire(subject="alice", action="upload", target="main").headers() for _ in range(3)]
    assert seen == [
        {"RateLimit-Limit": "3", "RateLimit-Remaining": "2", "RateLimit-Reset": "1200"},
        {"RateLimit-Limit": "3", "RateLimit-Remaining": "1", "RateLimit-Reset": "2400"},
        {"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "RateLimit-Reset": "3600"},
    ]
    clock.advance(0.5)
    with pytest.raises(RateLimited) as refused:
        make(UPLOAD_3_PER_HOUR).acquire(subject="alice", action="upload", target="main")  # a cold container
    assert refused.value.retry_after == 1200  # 1199.5 s, rounded up to whole seconds
    assert refused.value.headers == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "3600",
    }
    clock.advance(1199.5)
    assert (
        limiter.acquire(subject="alice", action="upload", target="main").headers()["RateLimit-Remaining"]
        == "0"
    )


DOWNLOAD_600_PER_MINUTE_100_AT_ONCE = {"actions": {"download": {"rate": 600, "period": 60, "burst": 100}}}


def test_a_batch_download_spends_one_unit_per_url(make: Callable[..., RateLimiter]) -> None:
    limiter = make(DOWNLOAD_600_PER_MINUTE_100_AT_ONCE)
    assert limiter.acquire(subject="alice", action="download", target="main", cost=40).remaining == 60
    with pytest.raises(RateLimited):
        limiter.acquire(subject="alice", action="download", target="main", cost=61)
    assert limiter.acquire(subject="alice", action="download", target="main", cost=60).remaining == 0
    with pytest.raises(InvalidRequest):
        limiter.acquire(subject="bob", action="download", target="main", cost=101)


def test_the_byte_quota_is_enforced_from_the_declared_size(
    make: Callable[..., RateLimiter], client: DynamoDBClient, clock: FakeClock
) -> None:
    limiter = make({"upload_bytes_per_day": 1_000_000})
    # Given 600 kB uploaded
    limiter.acquire_upload(subject="alice", target="main", nbytes=600_000)
    # When 500 kB more are declared
    with pytest.raises(RateLimited) as refused:
        make({"upload_bytes_per_day": 1_000_000}).acquire_upload(
            subject="alice", target="main", nbytes=500_000
        )
    # Then it is refused until 100 kB have replenished (a tenth of a day), and spends nothing
    assert refused.value.retry_after == 8640
    assert refused.value.headers["RateLimit-Limit"] == "1000000"
    assert refused.value.headers["RateLimit-Remaining"] == "400000"
    stored = item(client, item_key("upload", "alice"))
    assert int(stored[lane_attribute("main")]["N"]) == START + 1 * PICOS_PER_SECOND  # one upload counted
    assert int(stored[BYTES_LANE]["N"]) == START + 600_000 * 86_400 * PICOS_PER_SECOND // 1_000_000
    # And 400 kB still fit, through the bytes-only entry point too
    assert limiter.acquire_bytes(subject="alice", target="main", nbytes=400_000).remaining == 0
    with pytest.raises(RateLimited):
        limiter.acquire_bytes(subject="alice", target="main", nbytes=1)
    # And bob has his own quota; nobody may declare more than a whole day's
    assert limiter.acquire_upload(subject="bob", target="other", nbytes=999_999).limit == 1_000_000
    with pytest.raises(PayloadTooLarge):
        limiter.acquire_upload(subject="carol", target="main", nbytes=1_000_001)
    clock.advance(8640)
    limiter.acquire_upload(subject="alice", target="main", nbytes=100_000)


def test_items_carry_a_sensible_ttl_and_no_user_id(
    make: Callable[..., RateLimiter], client: DynamoDBClient, clock: FakeClock
) -> None:
    now = START // PICOS_PER_SECOND
    make(DOWNLOAD_600_PER_MINUTE_100_AT_ONCE).acquire(
        subject="alice@example.com", action="download", target="main"
    )
    stored = item(client, item_key("download", "alice@example.com"))
    # A burst of 100 at 10 a second: the tat is at most 10 s ahead
    ttl = int(stored["ttl"]["N"])
    assert int(stored[lane_attribute("main")]["N"]) // PICOS_PER_SECOND < ttl
    assert ttl == now + 10 + TTL_MARGIN_SECONDS
    assert "alice" not in repr(stored)
    # An upload item with a byte quota lives as long as the quota needs, a day
    make({"upload_bytes_per_day": 10**9}).acquire_upload(subject="alice", target="main", nbytes=10)
    assert int(item(client, item_key("upload", "alice"))["ttl"]["N"]) == now + 86_400 + TTL_MARGIN_SECONDS


def test_an_item_deleted_by_ttl_is_a_full_budget(
    make: Callable[..., RateLimiter], client: DynamoDBClient
) -> None:
    limiter = make(UPLOAD_3_PER_HOUR)
    for _ in range(3):
        limiter.acquire(subject="alice", action="upload", target="main")
    client.delete_item(TableName=TABLE, Key={"pk": {"S": item_key("upload", "alice")}})
    # A fresh container (a warm one would still refuse from its cache until the tat passes)
    assert make(UPLOAD_3_PER_HOUR).acquire(subject="alice", action="upload", target="main").remaining == 2


def test_dynamodb_calls_per_request(make: Callable[..., RateLimiter], client: DynamoDBClient) -> None:
    calls = count_calls(client)

    def spent(action: Callable[[], object]) -> int:
        before = calls()
        with contextlib.suppress(RateLimited):
            action()
        return calls() - before

    warm = make(UPLOAD_3_PER_HOUR)
    # idle lane: 1; busy lane seen before: 1; busy lane in a cold container: 2
    assert spent(lambda: warm.acquire(subject="a", action="upload", target="main")) == 1
    assert spent(lambda: warm.acquire(subject="a", action="upload", target="main")) == 1
    assert spent(lambda: make(UPLOAD_3_PER_HOUR).acquire(subject="a", action="upload", target="main")) == 2
    # refusal: 1 where the tat is unknown or out of date (warm last saw 2 of 3 spent), then 0
    assert spent(lambda: make(UPLOAD_3_PER_HOUR).acquire(subject="a", action="upload", target="main")) == 1
    assert spent(lambda: warm.acquire(subject="a", action="upload", target="main")) == 1
    assert spent(lambda: warm.acquire(subject="a", action="upload", target="main")) == 0
    # an upload with a byte quota: one write for both limits
    quota = make({"upload_bytes_per_day": 10**9})
    assert spent(lambda: quota.acquire_upload(subject="b", target="main", nbytes=10)) == 1
    assert spent(lambda: quota.acquire_upload(subject="b", target="main", nbytes=10)) == 1


# -- failures


def client_error(code: str, status: int) -> Callable[..., Any]:
    def respond(**_: Any) -> tuple[Any, dict[str, Any]]:
        http = type("Http", (), {"status_code": status, "headers": {}})()
        return http, {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    return respond


def raising(error: Exception) -> Callable[..., Any]:
    def respond(**_: Any) -> None:
        raise error

    return respond


FAILURES = {
    "ProvisionedThroughputExceededException": client_error("ProvisionedThroughputExceededException", 400),
    "ThrottlingException": client_error("ThrottlingException", 400),
    "RequestLimitExceeded": client_error("RequestLimitExceeded", 400),
    "InternalServerError": client_error("InternalServerError", 500),
    "ResourceNotFoundException": client_error("ResourceNotFoundException", 400),
    "AccessDeniedException": client_error("AccessDeniedException", 400),
    "EndpointConnectionError": raising(EndpointConnectionError(endpoint_url="https://dynamodb")),
    "ReadTimeoutError": raising(ReadTimeoutError(endpoint_url="https://dynamodb")),
    "ConnectTimeoutError": raising(ConnectTimeoutError(endpoint_url="https://dynamodb")),
    "ConnectionClosedError": raising(ConnectionClosedError(endpoint_url="https://dynamodb")),
    "NoCredentialsError": raising(NoCredentialsError()),
}


@pytest.mark.parametrize("reason", sorted(FAILURES))
@pytest.mark.parametrize("mode", ["closed", "open"])
def test_an_unavailable_table_fails_as_configured_and_never_otherwise(
    make: Callable[..., RateLimiter], client: DynamoDBClient, events: Events, reason: str, mode: str
) -> None:
    # Given DynamoDB failing in one of the ways it can
    client.meta.events.register("before-call.dynamodb.UpdateItem", FAILURES[reason])
    limiter = make({"failure_mode": mode, "unavailable_retry_after": 3})
    # When a caller asks
    if mode == "closed":
        # Then fail closed: a 503 with Retry-After, and nothing but DependencyUnavailable
        with pytest.raises(Exception) as caught:
            limiter.acquire(subject="alice", action="upload", target="main")
        assert type(caught.value) is DependencyUnavailable
        assert caught.value.retry_after == 3
    else:
        # Or fail open: admitted, and the decision says so
        decision = limiter.acquire_upload(subject="alice", target="main", nbytes=10)
        assert decision.fail_open and decision.headers() == {}
    # And either way the event carries the cause for the metric
    assert events.seen[-1] == (
        "RateLimitUnavailable",
        {"action": "upload", "target": "main", "failure_mode": mode, "reason": reason},
    )


def test_an_unreachable_endpoint_is_tried_twice_then_unavailable(aws_env: None, events: Events) -> None:
    # Given an endpoint where nothing listens (no mock: a real connection attempt)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = rate_limit_client(region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}")
    attempts: list[int] = []
    unreachable.meta.events.register("request-created.dynamodb.UpdateItem", lambda **_: attempts.append(1))
    limiter = build_rate_limiter(RateLimitSettings(), table_name=TABLE, client=unreachable, on_event=events)
    # When a caller asks, then the SDK tried exactly twice and the limiter fails closed
    with pytest.raises(DependencyUnavailable):
        limiter.acquire(subject="alice", action="upload", target="main")
    assert len(attempts) == dynamodb_ratelimit.TOTAL_MAX_ATTEMPTS == 2
    assert events.seen[-1][1]["reason"] == "EndpointConnectionError"


def test_a_silent_endpoint_times_out_quickly(aws_env: None, events: Events) -> None:
    # Given an endpoint that accepts connections and never answers
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            server.settimeout(0.1)
            while not stop.is_set():
                try:
                    accepted.append(server.accept()[0])
                except OSError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        silent = rate_limit_client(region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}")
        limiter = build_rate_limiter(
            RateLimitSettings(failure_mode="open"), table_name=TABLE, client=silent, on_event=events
        )
        started = datetime.now(UTC)
        try:
            decision = limiter.acquire(subject="alice", action="upload", target="main")
        finally:
            stop.set()
            thread.join()
            for conn in accepted:
                conn.close()
    # Then two attempts of a 1 s read timeout (plus at most 1 s of backoff), and admitted (fail open)
    assert (datetime.now(UTC) - started).total_seconds() < 4
    assert decision.fail_open
    assert events.seen[-1][1]["reason"] == "ReadTimeoutError"


# -- SDK retries


def resend_applied_writes(
    client: DynamoDBClient, times: int = 1, before_resend: Callable[[], object] | None = None
) -> list[int]:
    """Make botocore resend the next ``times`` UpdateItem calls after their first attempt was
    applied: what a lost response or a timeout after the write looks like to the SDK."""
    forced: list[int] = []

    def needs_retry(attempts: int, response: Any = None, **_: Any) -> Any:
        if attempts == 1 and response is not None and len(forced) < times:
            forced.append(1)
            if before_resend is not None:
                before_resend()
            return 0  # resend now
        return None

    client.meta.events.register("needs-retry.dynamodb.UpdateItem", needs_retry)
    return forced


def test_the_forced_resend_really_applies_a_naive_increment_twice(client: DynamoDBClient) -> None:
    # The premise of the next tests: a plain ADD is counted twice when botocore resends it.
    forced = resend_applied_writes(client)
    client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "naive"}},
        UpdateExpression="ADD hits :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert forced == [1]
    assert item(client, "naive")["hits"] == {"N": "2"}


@pytest.mark.parametrize("busy", [False, True], ids=["idle-lane", "busy-lane"])
def test_an_sdk_resend_of_an_applied_write_is_counted_once(
    make: Callable[..., RateLimiter], client: DynamoDBClient, events: Events, busy: bool
) -> None:
    limiter = make(UPLOAD_3_PER_HOUR)
    if busy:
        limiter.acquire(subject="alice", action="upload", target="main")
    # Given botocore resends the next write after it was applied
    forced = resend_applied_writes(client)
    # When alice asks once
    decision = limiter.acquire(subject="alice", action="upload", target="main")
    # Then the resend happened, was recognised, and one unit was spent, not two
    assert forced == [1]
    spent = 2 if busy else 1
    assert decision.remaining == 3 - spent
    stored = item(client, item_key("upload", "alice"))
    assert int(stored[lane_attribute("main")]["N"]) == START + spent * 1200 * PICOS_PER_SECOND
    assert "RateLimitRetryAbsorbed" in events.names()
    assert ("RateLimitSdkRetry", {"action": "upload", "target": "main", "applied": "False"}) in events.seen


def test_a_resend_interleaved_with_another_request_can_only_overcharge_and_says_so(
    make: Callable[..., RateLimiter], client: DynamoDBClient, events: Events, aws_env: None
) -> None:
    # Given another request of alice's lands between the applied write and the SDK's resend
    other_client = rate_limit_client.__wrapped__(region_name="us-east-1")
    other = make(UPLOAD_3_PER_HOUR, client=other_client)
    resend_applied_writes(
        client, before_resend=lambda: other.acquire(subject="alice", action="upload", target="main")
    )
    limiter = make(UPLOAD_3_PER_HOUR)
    # When alice's request completes
    limiter.acquire(subject="alice", action="upload", target="main")
    # Then it may have been charged twice (3 units for 2 requests: stricter, never looser)
    stored = item(client, item_key("upload", "alice"))
    assert int(stored[lane_attribute("main")]["N"]) == START + 3 * 1200 * PICOS_PER_SECOND
    # And the retry was not silent
    assert ("RateLimitSdkRetry", {"action": "upload", "target": "main", "applied": "False"}) in events.seen
    with pytest.raises(RateLimited):
        limiter.acquire(subject="alice", action="upload", target="main")


def test_the_store_parses_what_dynamodb_returns(client: DynamoDBClient) -> None:
    store = DynamoDbRateLimitStore(client, TABLE)
    from presign.ratelimit.store import LaneWrite

    lane = LaneWrite(attribute="t:main", mode="start", increment=5, ceiling=0)
    first = store.write("k", [lane], now=100, request_id="r1", expires_at=1)
    assert first.applied and first.values == {"t:main": 105} and first.attempts == 1
    again = store.write("k", [lane], now=100, request_id="r2", expires_at=1)
    assert not again.applied and again.values == {"t:main": 105} and again.request_id == "r1"
    missing = store.write(
        "other", [LaneWrite("t:main", "add", 5, 10**6)], now=100, request_id="r3", expires_at=1
    )
    assert not missing.applied and missing.values == {} and missing.request_id is None
