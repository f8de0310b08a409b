"""The events publisher in process (issue 22): events per second, against serialising them alone.

* ``publish a batch``: ``presign.events.publisher.publish`` over one batch of 100 stream records
  as Lambda delivers them (DynamoDB JSON images of uploads created and completed, shares created
  and spent), into a sink that keeps the events it is given: decoding the images, telling
  transitions from writes, ids, data, the answer to Lambda. Baseline: ``json.dumps`` of the
  same batch's events, the least any publisher must do to send them.

* ``the request path``: what ``POST /uploads`` writes (``DynamoDbRecordStore.create``, the record
  with its ``version`` and ``owner_claims``) and a transition (``pending -> complete``, with the
  ``version`` increment), into template.yaml's uploads table with its stream on (after), against
  the same table without a stream and the record without the two attributes (before), on one
  moto_server in the same run. The request path makes no new call: the publisher reads the stream.
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


def _request_path() -> dict[str, Any]:
    import dataclasses as dc
    import itertools

    from local.cfn import load_template
    from local.gateway.template import TemplateResolver
    from local.servers import MotoServer
    from local.tables import _table_request
    from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
    from tests.support.stream_pipeline import boto, json_client
    from tests.support.stream_records import upload

    counter = itertools.count()
    with MotoServer() as moto:
        doc = load_template()
        request = _table_request(
            "UploadsTable", doc["Resources"]["UploadsTable"]["Properties"], TemplateResolver(doc)
        )
        dynamodb = boto("dynamodb", moto.endpoint_url)
        plain = {**request, "TableName": "before"}
        plain.pop("StreamSpecification", None)
        dynamodb.create_table(**plain)
        dynamodb.create_table(**{**request, "TableName": "after"})
        client = json_client(moto.endpoint_url)
        after = DynamoDbRecordStore(client, "after")

        class _Before(DynamoDbRecordStore):  # the record as it was: no version, no claims
            def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
                payload.get("Item", {}).pop("version", None)
                payload.get("Item", {}).pop("owner_claims", None)
                return super().call(operation, payload)

        before = _Before(client, "before")

        def path(store: DynamoDbRecordStore, claims: dict[str, str]) -> object:
            record = dc.replace(upload(f"01JF{next(counter):022d}"), owner_claims=claims)
            store.create(record, ttl=None)
            done = record.moved(
                "complete", now=record.updated_at + 1, etag='"e"', completed_at=record.updated_at + 1
            )
            return store.transition(done, expected="pending", ttl=None)

        ours_us, base_us = paired_median_us(
            lambda: path(after, {"sub": "alice"}), lambda: path(before, {}), iterations=20, repeats=7
        )
    return {
        "name": "request path: POST /uploads' record and its completion (2 DynamoDB calls), streamed table",
        "value_us": round(ours_us, 1),
        "baseline": "the same two calls, table without a stream, record without version/owner_claims",
        "baseline_us": round(base_us, 1),
        "ratio": round(ours_us / base_us, 2),
    }


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
        },
        _request_path(),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
