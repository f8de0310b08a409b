"""``make dev``'s storage events: how long after a PUT's response its "Object Created" event is handed on.

What is timed, for each of ``PUTS`` presigned PUTs (one at a time, the next only after the previous
event arrived) to a local SeaweedFS with a ``local.storage_feed.StorageFeed`` running:

* the PUT's round trip: request sent to response read (a kept-alive connection, like a browser's);
* the lag: response read to the feed's callback, which is what an upload left uncompleted by its
  client waits for before the completion can start. It can be negative: the filer announces the
  entry as it commits it, which may be before the client has read the response.

Reported: median and p95 of the lag and of the round trip, in ms, and their medians' ratio (lag
over round trip: 1 means the event costs another PUT's time). The completion itself is not in
it (phase 2 adds the event-to-``complete`` row). ``python benchmarks/bench_storage_feed.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "presign", _ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

ACCESS_KEY = "bench-feed"
SECRET_KEY = "bench-feed-secret-0123456789abcdef"
BUCKET = "bench-feed"
PUTS = 100
BODY = b"x" * 1024
TIMEOUT = 30.0


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def measure(puts: int = PUTS) -> dict[str, Any]:
    import requests

    from local.servers import SeaweedFS
    from local.storage_feed import StorageFeed, filer_address

    arrived: dict[str, float] = {}
    ready = threading.Condition()

    def deliver(event: dict[str, Any]) -> None:
        now = time.perf_counter()
        with ready:
            arrived[event["detail"]["object"]["key"]] = now
            ready.notify_all()

    with tempfile.TemporaryDirectory(prefix="bench-feed-") as tmp:
        work = Path(tmp)
        with SeaweedFS(
            work / "weed", access_key=ACCESS_KEY, secret_key=SECRET_KEY, buckets=[BUCKET]
        ) as server:
            s3 = server.client()
            session = requests.Session()
            with StorageFeed(
                bucket=BUCKET,
                filer=lambda: filer_address(server),
                cursor_path=work / "cursor",
                deliver=deliver,
            ):
                round_trips: list[float] = []
                lags: list[float] = []
                for n in range(-5, puts):  # five to warm the connection and the tail up, not counted
                    key = f"bench/{n}.bin"
                    url = s3.generate_presigned_url(
                        "put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300
                    )
                    sent = time.perf_counter()
                    answer = session.put(url, data=BODY, timeout=TIMEOUT)
                    answered = time.perf_counter()
                    answer.raise_for_status()
                    with ready:
                        if not ready.wait_for(lambda key=key: key in arrived, timeout=TIMEOUT):
                            raise RuntimeError(f"no event for {key} within {TIMEOUT:g} s")
                    if n >= 0:
                        round_trips.append((answered - sent) * 1000)
                        lags.append((arrived[key] - answered) * 1000)
    lag, round_trip = statistics.median(lags), statistics.median(round_trips)
    return {
        "name": f"PUT response -> feed callback ({puts} PUTs of {len(BODY)} B)",
        "lag_median_ms": lag,
        "lag_p95_ms": _p95(lags),
        "put_median_ms": round_trip,
        "put_p95_ms": _p95(round_trips),
        "ratio": lag / round_trip,
    }


def run() -> list[dict[str, Any]]:
    return [measure()]


if __name__ == "__main__":
    for row in run():
        print(row)
