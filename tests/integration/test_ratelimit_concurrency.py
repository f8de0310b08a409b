"""Concurrent requests against a moto server over HTTP: the limit is exact, not approximate.

Each thread is its own "container" (its own RateLimiter and cache), all released together by a
barrier, all sharing one client (the adapter's ``AwsJsonClient``) to a moto server subprocess on 127.0.0.1.

The server is ``local.servers.MotoServer``, which handles one request at a time by default.
DynamoDB applies each conditional write atomically, and the limiter relies on exactly that;
moto's plain threaded server does not: it evaluates a ``ConditionExpression`` and applies the
update in separate steps, so under thread switches two writers can both pass
``attribute_not_exists`` (with ``sys.setswitchinterval(1e-5)`` in the server, 13 of 30 rounds of
50 racing creators let more than one through). Serialised, the server gives DynamoDB's guarantee,
so a failure here is the limiter's, not the emulator's.

Serialised, it is also slow: fifty requests queue behind one lock, and on a busy 2-core CI machine
the last of them waited more than the production client's 1 s read timeout. A timed-out write is
treated as DynamoDB being down (fail closed), so that thread raised ``DependencyUnavailable`` and,
its write having been applied, a round admitted 9 instead of 10 (seen twice on fresh clones). The
limiter was right to do so; the test was measuring the emulator's queue. These tests therefore use
a client with the production retry policy but timeouts no queue here can reach; what the
production timeouts do is tested against stub servers in tests/integration/test_aws_json_client.py.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from local.cfn import load_template
from local.gateway.template import TemplateResolver
from local.servers import MotoServer, aws_env
from local.tables import STACK_NAME, create_tables
from presign.adapters.aws_json import AwsJsonClient
from presign.adapters.dynamodb import TOTAL_MAX_ATTEMPTS
from presign.adapters.role import role_credentials
from presign.bootstrap.runtime import build_rate_limiter
from presign.config.ratelimit import RateLimitSettings
from presign.errors import RateLimited
from presign.ratelimit.limiter import Decision, RateLimiter

TABLE = f"{STACK_NAME}-RateLimitTable"  # as local.tables names template.yaml's table
THREADS = 50
ROUNDS = 20
# Ten at once, one more an hour: nothing refills while a round runs.
QUEUE_TIMEOUT_SECONDS = 60.0
TEN_AT_ONCE = {"actions": {"upload": {"rate": 1, "period": 3600, "burst": 10}}}


@pytest.fixture(scope="module")
def client() -> Iterator[AwsJsonClient]:
    with MotoServer() as server, pytest.MonkeyPatch.context() as env:
        for name, value in aws_env(server.endpoint_url).items():
            env.setenv(name, value)
        made = AwsJsonClient(
            region="us-east-1",
            endpoint_url=server.endpoint_url,
            credentials_provider=lambda: role_credentials(aws_env(server.endpoint_url)),
            # See the module docstring: a queue of fifty behind one lock is not DynamoDB being down.
            connect_timeout=QUEUE_TIMEOUT_SECONDS,
            read_timeout=QUEUE_TIMEOUT_SECONDS,
            max_attempts=TOTAL_MAX_ATTEMPTS,
            max_pool_connections=THREADS,
        )
        doc = load_template()
        tables = create_tables(doc, TemplateResolver(doc), server.endpoint_url)
        assert tables["RateLimitTable"] == TABLE
        yield made
        made.close()


def all_at_once(calls: list[Callable[[], Decision]]) -> list[Decision | BaseException]:
    """Run the calls in threads released together; each result is a Decision or what it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Decision | BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - recorded, and the test asserts on its type
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results), "a thread did not finish"
    return [r for r in results if r is not None]


def outcomes(results: list[Decision | BaseException]) -> str:
    """What each thread got, for an assertion message: counts, and every unexpected error in full."""
    counts: dict[str, int] = {}
    for result in results:
        counts[type(result).__name__] = counts.get(type(result).__name__, 0) + 1
    unexpected = [repr(r) for r in results if not isinstance(r, Decision | RateLimited)]
    return f"{counts}; unexpected: {unexpected}"


def containers(
    client: AwsJsonClient, document: dict[str, Any], count: int = THREADS, **kw: Any
) -> list[RateLimiter]:
    settings = RateLimitSettings.model_validate(document)
    return [build_rate_limiter(settings, table_name=TABLE, client=client, **kw) for _ in range(count)]


def test_fifty_at_a_limit_of_ten_admit_exactly_ten_every_time(client: AwsJsonClient) -> None:
    for _ in range(ROUNDS):
        # Given a fresh user and fifty containers
        subject = f"user-{uuid.uuid4()}"
        limiters = containers(client, TEN_AT_ONCE)
        # When fifty requests arrive at once
        results = all_at_once(
            [partial(lim.acquire, subject=subject, action="upload", target="main") for lim in limiters]
        )
        # Then exactly ten are admitted, the last of them seeing the budget empty
        admitted = [r for r in results if isinstance(r, Decision)]
        refused = [r for r in results if isinstance(r, RateLimited)]
        assert len(admitted) == 10 and len(refused) == 40, outcomes(results)
        assert min(d.remaining for d in admitted) == 0 and max(d.remaining for d in admitted) <= 9
        # And every other one is told when to come back
        assert all(type(r) is RateLimited and r.retry_after >= 1 for r in refused)
        assert all(r.headers["RateLimit-Remaining"] == "0" for r in refused)


def test_concurrent_batches_never_overspend_and_never_refuse_what_fits(client: AwsJsonClient) -> None:
    # All stamped at one instant (a frozen clock), so the arithmetic below is exact: with a live
    # clock, a request stamped a millisecond before the lane's first writer is charged that
    # millisecond too, and could be refused a unit that refills a millisecond later.
    instant = datetime.now(UTC)
    for round_ in range(5):
        subject = f"user-{uuid.uuid4()}"
        limiters = containers(client, TEN_AT_ONCE, clock=lambda: instant)
        costs = [1 + (i * 7 + round_) % 3 for i in range(THREADS)]
        results = all_at_once(
            [
                partial(lim.acquire, subject=subject, action="upload", target="main", cost=cost)
                for lim, cost in zip(limiters, costs, strict=True)
            ]
        )
        spent = sum(cost for cost, r in zip(costs, results, strict=True) if isinstance(r, Decision))
        assert all(isinstance(r, Decision | RateLimited) for r in results), outcomes(results)
        assert spent <= 10
        assert sorted(d.remaining for d in results if isinstance(d, Decision))[0] == 10 - spent
        # Nothing refills and a refused request spends nothing: each refusal saw less than its cost,
        # and what is left at the end is less still.
        left = 10 - spent
        assert all(cost > left for cost, r in zip(costs, results, strict=True) if isinstance(r, RateLimited))


def test_concurrent_uploads_with_a_byte_quota_are_exact_across_both_limits(client: AwsJsonClient) -> None:
    document = {**TEN_AT_ONCE, "upload_bytes_per_day": 1000}
    writes: list[int] = []
    real = client.call

    def count(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        writes.append(1)  # list.append is atomic: no lock needed across the fifty threads
        return real(operation, payload)

    for _ in range(3):
        # Given a user whose byte lane is busy (100 of 1000 bytes spent) and request lane idle:
        # the mixed state in which fifty cold containers race through their write modes
        subject = f"user-{uuid.uuid4()}"
        containers(client, document, 1)[0].acquire_bytes(subject=subject, target="main", nbytes=100)
        limiters = containers(client, document)
        writes.clear()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(client, "call", count)
            results = all_at_once(
                [partial(lim.acquire_upload, subject=subject, target="main", nbytes=100) for lim in limiters]
            )
        # Then exactly the nine uploads the quota allows are admitted, and nobody else
        admitted = [r for r in results if isinstance(r, Decision)]
        assert len(admitted) == 9, outcomes(results)
        assert all(isinstance(r, RateLimited) for r in results if not isinstance(r, Decision)), outcomes(
            results
        )
        # And no request needed more than three writes (two, plus one only in this race)
        assert len(writes) <= 3 * THREADS
