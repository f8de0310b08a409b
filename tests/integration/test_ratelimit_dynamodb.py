"""The rate limiter against DynamoDB (a moto server over HTTP), on a table built from template.yaml.

The adapter's client is the lean ``AwsJsonClient`` (moto's in-process mock only intercepts botocore,
so the table is a ``local.servers.MotoServer``, serialised as DynamoDB's single-item writes are).
Failures are made on the wire where they can be: a stub server answers with DynamoDB's error bodies,
drops connections or never answers; a connect timeout is injected at the socket. The retry tests put
a stub between client and table that forwards a write to moto and then loses its answer, so the
client resends a write whose first attempt was applied.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from local.cfn import load_template
from local.gateway.template import TemplateResolver
from local.servers import MotoServer
from local.tables import STACK_NAME, create_tables
from presign.adapters import dynamodb as dynamodb_ratelimit  # the tables' shared client and constants
from presign.adapters.aws_json import AwsJsonClient
from presign.adapters.dynamodb import table_client as rate_limit_client
from presign.adapters.dynamodb_ratelimit import DynamoDbRateLimitStore
from presign.bootstrap.runtime import build_rate_limiter
from presign.config.ratelimit import ActionLimits, RateLimitSettings
from presign.errors import DependencyUnavailable, InvalidRequest, PayloadTooLarge, RateLimited
from presign.ratelimit.gcra import PICOS_PER_SECOND
from presign.ratelimit.limiter import BYTES_LANE, TTL_MARGIN_SECONDS, RateLimiter, item_key, lane_attribute
from presign.signing.sigv4 import SigningCredentials
from tests.support.http_stubs import Reply, Seen, StubServer, aws_error, forward
from tests.support.ratelimit import START, Events, FakeClock

TABLE = f"{STACK_NAME}-RateLimitTable"  # as local.tables names template.yaml's table


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


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
    monkeypatch.delenv("AWS_REGION", raising=False)


@pytest.fixture
def client(aws_env: None, moto: MotoServer) -> Iterator[AwsJsonClient]:
    # A fresh table per test, as a fresh mock_aws() gave
    moto.reset()
    doc = load_template()
    assert create_tables(doc, TemplateResolver(doc), moto.endpoint_url)["RateLimitTable"] == TABLE
    rate_limit_client.cache_clear()
    made = rate_limit_client(region_name="us-east-1", endpoint_url=moto.endpoint_url)
    yield made
    made.close()
    rate_limit_client.cache_clear()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def make(client: AwsJsonClient, clock: FakeClock, events: Events) -> Callable[..., RateLimiter]:
    """A limiter as one Lambda container would build it (its own cache), on the shared table."""

    def build(document: dict[str, Any] | None = None, **kw: Any) -> RateLimiter:
        settings = RateLimitSettings.model_validate(document or {})
        return build_rate_limiter(
            settings, table_name=TABLE, client=kw.pop("client", client), clock=clock, on_event=events, **kw
        )

    return build


def count_calls(client: AwsJsonClient, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    calls: list[int] = []
    real = client.call

    def counting(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        if operation == "UpdateItem":
            calls.append(1)
        return real(operation, payload)

    monkeypatch.setattr(client, "call", counting)
    return lambda: len(calls)


def item(client: AwsJsonClient, key: str) -> dict[str, Any]:
    found: dict[str, Any] = client.call("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": key}}}).get(
        "Item", {}
    )
    return found


UPLOAD_3_PER_HOUR = {"actions": {"upload": {"rate": 1, "period": 1200, "burst": 3}}}


# -- the table


def test_the_table_is_the_templates_and_the_adapter_writes_its_ttl_attribute(client: AwsJsonClient) -> None:
    properties = load_template()["Resources"]["RateLimitTable"]["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"]["AttributeName"] == dynamodb_ratelimit.TTL
    described = client.call("DescribeTimeToLive", {"TableName": TABLE})["TimeToLiveDescription"]
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
    make: Callable[..., RateLimiter], client: AwsJsonClient, clock: FakeClock
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
    make: Callable[..., RateLimiter], client: AwsJsonClient, clock: FakeClock
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
    make: Callable[..., RateLimiter], client: AwsJsonClient
) -> None:
    limiter = make(UPLOAD_3_PER_HOUR)
    for _ in range(3):
        limiter.acquire(subject="alice", action="upload", target="main")
    client.call("DeleteItem", {"TableName": TABLE, "Key": {"pk": {"S": item_key("upload", "alice")}}})
    # A fresh container (a warm one would still refuse from its cache until the tat passes)
    assert make(UPLOAD_3_PER_HOUR).acquire(subject="alice", action="upload", target="main").remaining == 2


def test_dynamodb_calls_per_request(
    make: Callable[..., RateLimiter], client: AwsJsonClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_calls(client, monkeypatch)

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


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lean_client(endpoint_url: str, **kw: Any) -> AwsJsonClient:
    """The production client's settings, shorter timeouts (failures are what is under test)."""
    options: dict[str, Any] = {
        "region": "us-east-1",
        "endpoint_url": endpoint_url,
        "credentials_provider": lambda: SigningCredentials("testing", "testing"),
        "connect_timeout": 0.3,
        "read_timeout": 0.3,
        "max_attempts": dynamodb_ratelimit.TOTAL_MAX_ATTEMPTS,
        **kw,
    }
    return AwsJsonClient(**options)


def answering(reply: Reply) -> Callable[[contextlib.ExitStack, pytest.MonkeyPatch], AwsJsonClient]:
    def failing(stack: contextlib.ExitStack, _: pytest.MonkeyPatch) -> AwsJsonClient:
        return lean_client(stack.enter_context(StubServer(lambda seen: reply)).endpoint_url)

    return failing


def never_answering(stack: contextlib.ExitStack, _: pytest.MonkeyPatch) -> AwsJsonClient:
    released = threading.Event()
    stub = stack.enter_context(StubServer(lambda seen: Reply(200, b"{}") if released.wait(5) else None))
    stack.callback(released.set)  # runs before the server stops, so its handler threads return
    return lean_client(stub.endpoint_url)


def hanging_up(stack: contextlib.ExitStack, _: pytest.MonkeyPatch) -> AwsJsonClient:
    return lean_client(stack.enter_context(StubServer(lambda seen: None)).endpoint_url)


def refusing_connections(stack: contextlib.ExitStack, _: pytest.MonkeyPatch) -> AwsJsonClient:
    return lean_client(f"http://127.0.0.1:{closed_port()}")


def connect_timing_out(stack: contextlib.ExitStack, monkeypatch: pytest.MonkeyPatch) -> AwsJsonClient:
    # A connect timeout cannot be made reliably on loopback; this is what a SYN left unanswered raises.
    def time_out(*_: Any, **__: Any) -> None:
        raise TimeoutError("timed out")

    monkeypatch.setattr("http.client.HTTPConnection.connect", time_out)
    return lean_client("http://127.0.0.1:9")


def without_credentials(stack: contextlib.ExitStack, _: pytest.MonkeyPatch) -> AwsJsonClient:
    def none() -> SigningCredentials:
        raise DependencyUnavailable("no role credentials are available to sign with")

    return lean_client("http://127.0.0.1:9", credentials_provider=none)


FAILURES: dict[str, Callable[[contextlib.ExitStack, pytest.MonkeyPatch], AwsJsonClient]] = {
    "ProvisionedThroughputExceededException": answering(
        aws_error(400, "ProvisionedThroughputExceededException")
    ),
    "ThrottlingException": answering(aws_error(400, "ThrottlingException")),
    "RequestLimitExceeded": answering(aws_error(400, "RequestLimitExceeded")),
    "InternalServerError": answering(aws_error(500, "InternalServerError")),
    "ResourceNotFoundException": answering(aws_error(400, "ResourceNotFoundException")),
    "AccessDeniedException": answering(aws_error(400, "AccessDeniedException")),
    "HTTP502": answering(Reply(502, b"<html>Bad Gateway</html>")),
    "EndpointConnectionError": refusing_connections,
    "ReadTimeoutError": never_answering,
    "ConnectTimeoutError": connect_timing_out,
    "ConnectionClosedError": hanging_up,
    "NoCredentialsError": without_credentials,
}


@pytest.mark.parametrize("reason", sorted(FAILURES))
@pytest.mark.parametrize("mode", ["closed", "open"])
def test_an_unavailable_table_fails_as_configured_and_never_otherwise(
    make: Callable[..., RateLimiter],
    events: Events,
    monkeypatch: pytest.MonkeyPatch,
    reason: str,
    mode: str,
) -> None:
    with contextlib.ExitStack() as stack:
        # Given DynamoDB failing in one of the ways it can
        failing = FAILURES[reason](stack, monkeypatch)
        limiter = make({"failure_mode": mode, "unavailable_retry_after": 3}, client=failing)
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


@pytest.mark.parametrize(
    ("reply", "attempts"),
    [
        (aws_error(400, "ThrottlingException"), 2),
        (aws_error(400, "ProvisionedThroughputExceededException"), 2),
        (aws_error(500, "InternalServerError"), 2),
        (Reply(503, b"Service Unavailable"), 2),
        (aws_error(400, "ResourceNotFoundException"), 1),
        (aws_error(400, "AccessDeniedException"), 1),
        (aws_error(400, "ConditionalCheckFailedException", Item={"rid": {"S": "x"}}), 1),
    ],
    ids=["throttled", "throughput", "500", "503-not-json", "no-table", "denied", "condition"],
)
def test_throttling_and_5xx_are_retried_once_and_4xx_never(
    aws_env: None, events: Events, reply: Reply, attempts: int
) -> None:
    # Given a table that always answers the same
    with StubServer(lambda seen: reply) as stub:
        limiter = build_rate_limiter(
            RateLimitSettings(), table_name=TABLE, client=lean_client(stub.endpoint_url), on_event=events
        )
        # When a caller asks
        with contextlib.suppress(DependencyUnavailable, RateLimited):
            limiter.acquire(subject="alice", action="upload", target="main")
    # Then the write was sent once, or twice where a second try may succeed
    assert stub.operations() == ["UpdateItem"] * attempts


def test_an_unreachable_endpoint_is_tried_twice_then_unavailable(
    aws_env: None, events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an endpoint where nothing listens (no mock: a real connection attempt)
    unreachable = rate_limit_client(region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{closed_port()}")
    attempts: list[int] = []
    real_connect = socket.create_connection

    def counting(*args: Any, **kw: Any) -> socket.socket:
        attempts.append(1)
        return real_connect(*args, **kw)

    monkeypatch.setattr(socket, "create_connection", counting)
    limiter = build_rate_limiter(RateLimitSettings(), table_name=TABLE, client=unreachable, on_event=events)
    # When a caller asks, then the client tried exactly twice, quickly, and the limiter fails closed
    started = datetime.now(UTC)
    with pytest.raises(DependencyUnavailable):
        limiter.acquire(subject="alice", action="upload", target="main")
    assert (datetime.now(UTC) - started).total_seconds() < 0.5
    assert len(attempts) == dynamodb_ratelimit.TOTAL_MAX_ATTEMPTS == 2
    assert events.seen[-1][1]["reason"] == "EndpointConnectionError"
    rate_limit_client.cache_clear()


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
            rate_limit_client.cache_clear()
    # Then two attempts of a 1 s read timeout (plus at most 50 ms of backoff), and admitted (fail open)
    elapsed = (datetime.now(UTC) - started).total_seconds()
    assert 2 * dynamodb_ratelimit.READ_TIMEOUT_SECONDS <= elapsed < 2.5
    assert decision.fail_open
    assert events.seen[-1][1]["reason"] == "ReadTimeoutError"


# -- retries


@dataclass
class LossyLink:
    """A client to the table through a stub that loses the answers of the next ``times`` writes
    after moto applied them: what a lost response or a read timeout after the write looks like."""

    forced: list[int] = field(default_factory=list)
    times: int = 0
    before_resend: Callable[[], object] | None = None
    client: AwsJsonClient | None = None

    def lose_next(self, times: int = 1, before_resend: Callable[[], object] | None = None) -> list[int]:
        self.times, self.before_resend = len(self.forced) + times, before_resend
        return self.forced


@pytest.fixture
def lossy(client: AwsJsonClient, moto: MotoServer) -> Iterator[LossyLink]:
    link = LossyLink()

    def behave(seen: Seen) -> Reply | None:
        reply = forward(moto.endpoint_url, seen)
        if seen.operation == "UpdateItem" and len(link.forced) < link.times:
            link.forced.append(1)
            if link.before_resend is not None:
                link.before_resend()
            return None  # applied, and the answer never arrives
        return reply

    with StubServer(behave) as stub:
        link.client = rate_limit_client.__wrapped__(region_name="us-east-1", endpoint_url=stub.endpoint_url)
        yield link
        link.client.close()


def test_the_forced_resend_really_applies_a_naive_increment_twice(
    lossy: LossyLink, client: AwsJsonClient
) -> None:
    # The premise of the next tests: a plain ADD is counted twice when the client resends it.
    forced = lossy.lose_next()
    assert lossy.client is not None
    answer = lossy.client.call(
        "UpdateItem",
        {
            "TableName": TABLE,
            "Key": {"pk": {"S": "naive"}},
            "UpdateExpression": "ADD hits :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        },
    )
    assert forced == [1] and answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert item(client, "naive")["hits"] == {"N": "2"}


@pytest.mark.parametrize("busy", [False, True], ids=["idle-lane", "busy-lane"])
def test_a_resend_of_an_applied_write_is_counted_once(
    make: Callable[..., RateLimiter], lossy: LossyLink, client: AwsJsonClient, events: Events, busy: bool
) -> None:
    limiter = make(UPLOAD_3_PER_HOUR, client=lossy.client)
    if busy:
        limiter.acquire(subject="alice", action="upload", target="main")
    # Given the client resends the next write after it was applied
    forced = lossy.lose_next()
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
    make: Callable[..., RateLimiter], lossy: LossyLink, client: AwsJsonClient, events: Events
) -> None:
    # Given another request of alice's (another container, its own connection to the table) lands
    # between the applied write and the client's resend
    other = make(UPLOAD_3_PER_HOUR)
    lossy.lose_next(before_resend=lambda: other.acquire(subject="alice", action="upload", target="main"))
    limiter = make(UPLOAD_3_PER_HOUR, client=lossy.client)
    # When alice's request completes
    limiter.acquire(subject="alice", action="upload", target="main")
    # Then it may have been charged twice (3 units for 2 requests: stricter, never looser)
    stored = item(client, item_key("upload", "alice"))
    assert int(stored[lane_attribute("main")]["N"]) == START + 3 * 1200 * PICOS_PER_SECOND
    # And the retry was not silent
    assert ("RateLimitSdkRetry", {"action": "upload", "target": "main", "applied": "False"}) in events.seen
    with pytest.raises(RateLimited):
        limiter.acquire(subject="alice", action="upload", target="main")


def test_the_store_parses_what_dynamodb_returns(client: AwsJsonClient) -> None:
    store = DynamoDbRateLimitStore(client, TABLE)
    from presign.ratelimit.store import LaneWrite

    lane = LaneWrite(attribute="t:main", mode="start", increment=5, ceiling=0)
    first = store.write("k", [lane], now=100, request_id="r1", expires_at=1)
    assert first.applied and first.values == {"t:main": 105} and first.attempts == 1
    again = store.write("k", [lane], now=100, request_id="r2", expires_at=1)
    assert not again.applied and again.values == {"t:main": 105} and again.request_id == "r1"
    assert again.attempts == 1  # a failed condition is an answer, never resent
    missing = store.write(
        "other", [LaneWrite("t:main", "add", 5, 10**6)], now=100, request_id="r3", expires_at=1
    )
    assert not missing.applied and missing.values == {} and missing.request_id is None


def test_the_production_client_is_wired_from_the_environment(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate_limit_client.cache_clear()
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert rate_limit_client().endpoint_url == "https://dynamodb.eu-west-3.amazonaws.com"
    rate_limit_client.cache_clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    assert rate_limit_client().endpoint_url == "http://127.0.0.1:1"
    rate_limit_client.cache_clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2")
    assert rate_limit_client().endpoint_url == "http://127.0.0.1:2"
    rate_limit_client.cache_clear()


HOT_KEY = [
    {"reason": "TableWriteKeyRangeThroughputExceeded", "resource": "arn:aws:dynamodb:us-east-1:1:table/t"}
]


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_a_throttled_hot_key_is_429_in_either_failure_mode(
    make: Callable[..., RateLimiter], events: Events, mode: str
) -> None:
    # Given DynamoDB throttling this caller's own item (its partition's per-key throughput)
    reply = aws_error(400, "ProvisionedThroughputExceededException", ThrottlingReasons=HOT_KEY)
    with contextlib.ExitStack() as stack, pytest.MonkeyPatch.context() as monkeypatch:
        hot = answering(reply)(stack, monkeypatch)
        limiter = make({"failure_mode": mode, "unavailable_retry_after": 3}, client=hot)
        # Then the caller is told to slow down: neither a 503 nor an unchecked admission
        with pytest.raises(RateLimited) as caught:
            limiter.acquire(subject="alice", action="upload", target="main")
    assert caught.value.retry_after == 1
    assert events.seen[-1][1]["reason"] == "KeyRangeThroughputExceeded", events.seen


def test_a_table_wide_throttle_is_still_unavailable() -> None:
    # The account's table quota is no caller's doing: 503 (fail closed), as before.
    reply = aws_error(
        400, "ThrottlingException", ThrottlingReasons=[{"reason": "TableWriteAccountLimitExceeded"}]
    )
    with StubServer(lambda seen: reply) as stub:
        table = DynamoDbRateLimitStore(lean_client(stub.endpoint_url), "t")
        with pytest.raises(DependencyUnavailable) as caught:
            table.call("UpdateItem", {})
    assert caught.value.details["reason"] == "ThrottlingException"
