"""The events publisher in process (issue 22): events per second, against serialising them alone.

* ``publish a batch``: ``presign.events.publisher.publish`` over one batch of 100 stream records
  as Lambda delivers them (DynamoDB JSON images of uploads created and completed, shares created
  and spent), into a sink that keeps the events it is given: decoding the images, telling
  transitions from writes, ids, data, the answer to Lambda. Baseline: ``json.dumps`` of the
  same batch's events, the least any publisher must do to send them.

Not in ``make bench`` yet (phase 2 wires it, with the request path's latency before and after).
Run: ``PYTHONPATH=layers/presign:. python -c "from benchmarks import bench_events; print(bench_events.run())"``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from benchmarks.timing import paired_median_us
from presign.events.changes import events_of
from presign.events.model import Event
from presign.events.publisher import publish

BATCH = 100


class _KeepingSink:
    def __init__(self) -> None:
        self.count = 0

    def put(self, events: Sequence[Event]) -> list[str]:
        self.count += len(events)
        return []


def _records() -> list[dict[str, Any]]:
    from tests.support.stream_records import (
        NOW,
        SHARES_ARN,
        share,
        share_image,
        stream_record,
        upload,
        upload_image,
    )

    records: list[dict[str, Any]] = []
    for i in range(BATCH // 4):
        pending = upload(f"01JF{i:022d}")
        done = dataclasses.replace(
            pending, status="complete", etag='"e"', completed_at=NOW + 1, updated_at=NOW + 1
        )
        fresh = share(f"{i:040x}", max_downloads=10)
        records += [
            stream_record("INSERT", new=upload_image(pending)),
            stream_record("MODIFY", old=upload_image(pending), new=upload_image(done, ttl=NOW + 99)),
            stream_record("INSERT", new=share_image(fresh), arn=SHARES_ARN),
            stream_record(
                "MODIFY",
                old=share_image(fresh),
                new=share_image(dataclasses.replace(fresh, downloads=1)),
                arn=SHARES_ARN,
            ),
        ]
    return records


def run() -> list[dict[str, Any]]:
    records = _records()
    dicts = [event.as_dict() for record in records for event in events_of(record)]
    sink = _KeepingSink()

    def ours() -> object:
        return publish(records, sink)

    def serialise_alone() -> object:
        return [json.dumps(event) for event in dicts]

    ours_us, base_us = paired_median_us(ours, serialise_alone, iterations=20)
    return [
        {
            "name": f"publish a batch of {len(records)} stream records ({len(dicts)} events), in process",
            "value_us": round(ours_us, 1),
            "events_per_second": round(len(dicts) / (ours_us / 1e6)),
            "baseline": "json.dumps of the same events alone",
            "baseline_us": round(base_us, 1),
            "ratio": round(ours_us / base_us, 2),
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
