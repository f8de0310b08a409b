"""The limiter item, measured: real threads, the real DynamoDB adapter, ``local.servers.MotoServer``.

A cross-check of ``limiter_item.py``'s simulation, opt-in (``python -m benchmarks.capacity --moto``)
because it measures wall-clock behaviour and so is neither deterministic nor machine-independent.
Each thread is a container (its own ``RateLimiter``, its own cache) hammering one user's download
budget through ``DynamoDbRateLimitStore`` over HTTP; the server applies one request at a time, as
DynamoDB applies writes to one item. Every ``UpdateItem`` is counted. The same arrival rate and
container count are then simulated, so the two figures can be compared.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from benchmarks.capacity.limiter_item import simulate
from local.cfn import load_template
from local.emulator import TemplateResolver
from local.servers import MotoServer, aws_env
from local.tables import create_tables
from presign.adapters.aws_json import AwsJsonClient
from presign.adapters.role import role_credentials
from presign.bootstrap.runtime import build_rate_limiter
from presign.config.ratelimit import RateLimitSettings
from presign.errors import RateLimited

SECONDS = 2.0
# One a second, ten at once: moto serves ~60 writes a second here, so the budget runs out and the
# flood regime is reached (the default download limit, 1,000 at once, would never be spent).
LIMIT = {"rate": 60, "period": 60, "burst": 10}


class _Counting:
    def __init__(self, client: AwsJsonClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.calls = 0

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
        return self._client.call(operation, payload)


def _hammer(client: _Counting, table: str, threads: int, subject: str) -> tuple[int, int, float]:
    settings = RateLimitSettings.model_validate({"actions": {"download": LIMIT}})
    limiters = [build_rate_limiter(settings, table_name=table, client=client) for _ in range(threads)]  # type: ignore[arg-type]
    counts = [[0, 0] for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def work(i: int) -> None:
        barrier.wait()
        end = time.monotonic() + SECONDS
        while time.monotonic() < end:
            counts[i][0] += 1
            try:
                limiters[i].acquire(subject=subject, action="download", target="main")
            except RateLimited:
                continue
            counts[i][1] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(c[0] for c in counts), sum(c[1] for c in counts), time.monotonic() - started


def run() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with MotoServer() as server:
        env = aws_env(server.endpoint_url)
        doc = load_template()
        table = create_tables(doc, TemplateResolver(doc), server.endpoint_url)["RateLimitTable"]
        raw = AwsJsonClient(
            region="us-east-1",
            endpoint_url=server.endpoint_url,
            credentials_provider=lambda: role_credentials(env),
            connect_timeout=30.0,
            read_timeout=30.0,
            max_attempts=2,
            max_pool_connections=64,
        )
        for threads in (1, 8, 32):
            client = _Counting(raw)
            requests, admitted, wall = _hammer(client, table, threads, f"measured-{threads}")
            simulated = simulate(
                "simulated", rate=requests / wall, containers=threads, seconds=wall, limit=LIMIT
            )
            rows.append(
                {
                    "name": f"{threads} containers (threads), moto over HTTP",
                    "requests_s": round(requests / wall),
                    "admitted": admitted,
                    "bound": LIMIT["burst"] + int(wall * LIMIT["rate"] / LIMIT["period"]) + 1,
                    "item_writes_s": round(client.calls / wall, 1),
                    "writes_per_admitted": round(client.calls / max(1, admitted), 2),
                    "simulated_admitted": simulated.admitted,
                    "simulated_item_writes_s": round(simulated.writes / wall, 1),
                    "simulated_writes_per_admitted": round(simulated.writes / max(1, simulated.admitted), 2),
                }
            )
        raw.close()
    return rows
