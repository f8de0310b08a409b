"""The published JSON Schemas: current, valid, closed, and satisfied by every event type.

Real events from moto's streams are checked against them in
tests/integration/test_stream_publisher.py; here every type is made from the adapters' items.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from presign.events.changes import events_of
from presign.events.model import TYPES, Event
from presign.events.schema import DIRECTORY, render, schema_name
from presign.webhooks.disabled import endpoint_disabled
from presign.webhooks.schedule import Disabled, EndpointHealth
from tests.support.event_checks import schema_errors, secrets_in
from tests.support.stream_records import (
    NOW,
    SHARES_ARN,
    share,
    share_image,
    stream_record,
    upload,
    upload_image,
)


def one_of_each() -> dict[str, Event]:
    pending = upload_image(upload())
    done = upload(status="complete", etag='"e"', completed_at=NOW + 1, updated_at=NOW + 1)
    records = [
        stream_record("INSERT", new=pending),
        stream_record(
            "MODIFY", old=pending, new=upload_image(done, owner_claims={"M": {"sub": {"S": "alice"}}})
        ),
        stream_record(
            "MODIFY", old=pending, new=upload_image(upload(status="rejected", problems=("size: 1 != 2",)))
        ),
        stream_record("MODIFY", old=pending, new=upload_image(upload(status="expired"))),
        stream_record(
            "MODIFY", old=upload_image(done), new=upload_image(dataclasses.replace(done, status="deleted"))
        ),
    ]
    fresh, once = share(max_downloads=1), share(max_downloads=1, downloads=1)
    open_ended = share(handle="cd" * 20, max_downloads=None)
    records += [
        stream_record("INSERT", new=share_image(fresh), arn=SHARES_ARN),
        stream_record("MODIFY", old=share_image(fresh), new=share_image(once), arn=SHARES_ARN),
        stream_record(
            "MODIFY",
            old=share_image(once),
            new=share_image(share(max_downloads=1, downloads=1, revoked_at=NOW)),
            arn=SHARES_ARN,
        ),
        stream_record(
            "MODIFY",
            old=share_image(open_ended),
            new=share_image(open_ended, expired_at={"N": str(NOW + 4000)}),
            arn=SHARES_ARN,
        ),
    ]
    events = {event.type: event for record in records for event in events_of(record)}
    # The one event that is no table's change: an endpoint the delivery side disabled
    moment = datetime.fromtimestamp(NOW, UTC)
    health = EndpointHealth(moment - timedelta(days=3), Disabled.FAILING, moment)
    events["webhook.endpoint_disabled"] = endpoint_disabled("billing", health)
    assert sorted(events) == sorted(TYPES)
    return events


@pytest.mark.parametrize("type_", TYPES)
def test_the_committed_schema_is_the_one_the_code_builds(type_: str) -> None:
    path = DIRECTORY / schema_name(type_)
    assert path.read_text(encoding="utf-8") == render(type_), (
        f"{path.name} is stale: run `python -m presign.events.schema`"
    )


def test_no_stray_schema_files() -> None:
    assert sorted(p.name for p in DIRECTORY.glob("*.json")) == sorted(schema_name(t) for t in TYPES)


@pytest.mark.parametrize("type_", TYPES)
def test_every_type_validates_and_holds_no_secret(type_: str) -> None:
    event = one_of_each()[type_].as_dict()
    assert schema_errors(event) == [], json.dumps(event, indent=1)
    assert secrets_in(event) == []


def test_a_field_the_schema_does_not_name_is_refused() -> None:
    event = one_of_each()["upload.completed"].as_dict()
    event["data"]["url"] = "https://bucket.example/key?X-Amz-Signature=abc"
    assert any("url" in error for error in schema_errors(event)), schema_errors(event)
    assert secrets_in(event) != []
    share_event = one_of_each()["share.created"].as_dict()
    share_event["data"]["share_id"] = "s" * 32
    assert schema_errors(share_event) != []


def test_a_status_its_type_cannot_have_is_refused() -> None:
    event = one_of_each()["upload.completed"].as_dict()
    event["data"]["status"] = "rejected"
    assert schema_errors(event) != []
