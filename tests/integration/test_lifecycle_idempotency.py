"""Idempotency-Key through the real handlers, against ``local.servers.MotoServer`` over HTTP.

The server applies one request at a time, which is DynamoDB's per-item atomicity (see
tests/integration/test_ratelimit_concurrency.py for why a bare moto server would not do). Each
thread is its own container (its own handler module), all released together by a barrier.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.servers import MotoServer
from presign.adapters.dynamodb_upload_items import owner_pk
from presign.auth import Principal
from presign.uploads.verification import ObjectFacts
from tests.integration.conftest import Client
from tests.support.events import token
from tests.support.functions import function_env, load_function, settings_document
from tests.support.lifecycle import (
    RATE_LIMIT_TABLE,
    UPLOADS_TABLE,
    Caller,
    body,
    moto_with_tables,
    point_at,
    with_records,
)
from tests.support.memory import MemoryObjects
from tests.support.owners import owner_of

THREADS = 20
BURST = 50
UPLOAD = {"filename": "photo.png", "content_type": "image/png", "size": 1000}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def containers(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], list[Client]]:
    point_at(moto, monkeypatch)
    document = with_records(settings_document())
    document["rate_limits"] = {"actions": {"upload": {"rate": 1, "period": 3600, "burst": BURST}}}
    env = function_env(document)
    env.update(PRESIGN_UPLOADS_TABLE=UPLOADS_TABLE, PRESIGN_RATE_LIMIT_TABLE=RATE_LIMIT_TABLE)

    def make(count: int) -> list[Client]:
        return [Client(load_function("uploads", monkeypatch, env)) for _ in range(count)]

    return make


def all_at_once(calls: list[Callable[[], dict[str, Any]]]) -> list[dict[str, Any]]:
    barrier = threading.Barrier(len(calls))
    results: list[dict[str, Any] | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results), "a thread did not finish"
    return [r for r in results if r is not None]


def records_of(moto: MotoServer, sub: str) -> list[dict[str, Any]]:
    import boto3

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    answer = dynamodb.query(
        TableName=UPLOADS_TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :up)",
        ExpressionAttributeValues={":pk": {"S": owner_pk(owner_of(Principal(sub)))}, ":up": {"S": "up#"}},
    )
    items: list[dict[str, Any]] = answer["Items"]
    return items


def remaining(response: dict[str, Any]) -> int:
    return int(response["headers"]["RateLimit-Remaining"])


@pytest.mark.parametrize("round_", range(3))
def test_twenty_concurrent_posts_with_one_key_make_one_upload_and_spend_once(
    containers: Callable[[int], list[Client]], moto: MotoServer, round_: int
) -> None:
    # Given a fresh user, twenty containers and one Idempotency-Key
    sub = f"idem-{uuid.uuid4()}"
    bearer = token(sub)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    clients = containers(THREADS)

    # When twenty identical requests arrive at once
    answers = all_at_once(
        [lambda c=c: c.post("/uploads", UPLOAD, bearer=bearer, headers=key) for c in clients]  # type: ignore[misc]
    )

    # Then every answer is the one upload, or "in progress, retry" (never another upload, never a 5xx)
    granted = [body(a) for a in answers if a["statusCode"] == 201]
    waiting = [a for a in answers if a["statusCode"] != 201]
    assert granted, [a["body"] for a in answers]
    assert len({(g["upload_id"], g["key"]) for g in granted}) == 1, granted
    for answer in waiting:
        assert answer["statusCode"] == 409, answer["body"]
        assert body(answer)["error"]["code"] == "idempotency_in_progress"
        assert int(answer["headers"]["Retry-After"]) >= 1
    # And exactly one record exists
    records = records_of(moto, sub)
    assert [r["upload_id"]["S"] for r in records] == [granted[0]["upload_id"]], records
    # And one unit of the rate limit was spent: the next new upload sees BURST - 2 left
    fresh = clients[0].post("/uploads", UPLOAD, bearer=bearer)
    assert fresh["statusCode"] == 201 and remaining(fresh) == BURST - 2, fresh["headers"]


def test_a_retry_answers_the_same_upload_and_spends_nothing(
    containers: Callable[[int], list[Client]],
) -> None:
    (client,) = containers(1)
    bearer = token(f"idem-{uuid.uuid4()}")
    key = {"Idempotency-Key": "mobile-retry-42"}

    first = client.post("/uploads", UPLOAD, bearer=bearer, headers=key)
    again = client.post("/uploads", {**UPLOAD, "target": "main"}, bearer=bearer, headers=key)

    assert first["statusCode"] == again["statusCode"] == 201, (first["body"], again["body"])
    a, b = body(first), body(again)
    # The same upload, signed again as at its creation: the same URL, valid until the same moment
    assert (b["upload_id"], b["key"], b["url"], b["expires_at"]) == (
        a["upload_id"],
        a["key"],
        a["url"],
        a["expires_at"],
    )
    assert b["expires_in"] <= a["expires_in"]
    assert remaining(first) == BURST - 1 and "RateLimit-Remaining" not in again["headers"]


def test_the_same_key_with_another_body_is_422(containers: Callable[[int], list[Client]]) -> None:
    (client,) = containers(1)
    bearer = token(f"idem-{uuid.uuid4()}")
    key = {"Idempotency-Key": "k-1"}
    assert client.post("/uploads", UPLOAD, bearer=bearer, headers=key)["statusCode"] == 201

    reused = client.post("/uploads", {**UPLOAD, "size": 1001}, bearer=bearer, headers=key)

    assert reused["statusCode"] == 422, reused["body"]
    assert body(reused)["error"]["code"] == "idempotency_key_reused"


def test_keys_are_scoped_per_caller(containers: Callable[[int], list[Client]]) -> None:
    (client,) = containers(1)
    key = {"Idempotency-Key": "shared-key"}

    alice = client.post("/uploads", UPLOAD, bearer=token(f"a-{uuid.uuid4()}"), headers=key)
    bob = client.post("/uploads", {**UPLOAD, "size": 7}, bearer=token(f"b-{uuid.uuid4()}"), headers=key)

    assert alice["statusCode"] == bob["statusCode"] == 201, (alice["body"], bob["body"])
    assert body(alice)["upload_id"] != body(bob)["upload_id"]


def test_a_refused_request_frees_its_key(containers: Callable[[int], list[Client]]) -> None:
    (client,) = containers(1)
    bearer = token(f"idem-{uuid.uuid4()}")
    key = {"Idempotency-Key": "k-refused"}
    # A kind-less request the policy refuses is refused before any claim (415)...
    refused = client.post(
        "/uploads", {**UPLOAD, "content_type": "application/x-msdownload"}, bearer=bearer, headers=key
    )
    assert refused["statusCode"] == 415, refused["body"]
    # ...so the key is still free for the corrected request
    assert client.post("/uploads", UPLOAD, bearer=bearer, headers=key)["statusCode"] == 201


@pytest.mark.parametrize("header", ["", " padded", "x" * 256, "tab\there"])
def test_a_malformed_key_is_400(containers: Callable[[int], list[Client]], header: str) -> None:
    (client,) = containers(1)
    response = client.post("/uploads", UPLOAD, bearer=token("idem-bad"), headers={"Idempotency-Key": header})
    assert response["statusCode"] == 400, response["body"]


def test_a_request_whose_key_is_still_claimed_is_409_with_retry_after(
    containers: Callable[[int], list[Client]],
) -> None:
    # Given a claim whose request is still running (no record yet)
    import time

    from presign.adapters.dynamodb import table_client as rate_limit_client
    from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
    from presign.uploads.grant import CREATE_ROUTE
    from presign.uploads.idempotency import Claim, fingerprint, key_digest

    (client,) = containers(1)
    sub = f"idem-{uuid.uuid4()}"
    now = int(time.time())
    body_print = fingerprint(CREATE_ROUTE, {**UPLOAD, **_defaults(), "target": "main"})
    running = Claim(
        owner_of(Principal(sub)), key_digest("busy"), body_print, "01k0b7m3q8r9s4t5v6w7x8y9za", now
    )
    assert DynamoDbRecordStore(rate_limit_client(), UPLOADS_TABLE).claim(running, ttl=now + 86_400) is None

    # When the same request arrives with that key
    response = client.post("/uploads", UPLOAD, bearer=token(sub), headers={"Idempotency-Key": "busy"})

    # Then it is told to come back, and spends nothing
    assert response["statusCode"] == 409, response["body"]
    assert body(response)["error"]["code"] == "idempotency_in_progress"
    assert response["headers"]["Retry-After"] == "1"
    assert "RateLimit-Remaining" not in response["headers"]


def _defaults() -> dict[str, Any]:
    from presign.uploads.schemas import CreateUploadRequest

    return CreateUploadRequest.model_validate(UPLOAD).model_dump(mode="json")


# -- a replay costs what it does (issue 17): the storage is not asked again ---------------------

MiB = 1024**2
PARTS_BURST = 100
BIG = {"filename": "film.mp4", "content_type": "video/mp4", "size": 12 * MiB, "multipart": True}


@pytest.fixture
def replays(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> tuple[Caller, list[str], MemoryObjects]:
    """The uploads and lifecycle functions over one counting in-memory storage."""
    point_at(moto, monkeypatch)
    document = with_records(
        settings_document(
            upload={"content_types": ["video/*", "text/plain"], "multipart": {"part_size": 5 * MiB}}
        )
    )
    document["rate_limits"] = {
        "actions": {
            "upload": {"rate": 1, "period": 3600, "burst": BURST},
            "upload_parts": {"rate": 1, "period": 3600, "burst": PARTS_BURST},
            "upload_complete": {"rate": 1, "period": 3600, "burst": 5},
        }
    }
    env = function_env(document)
    env.update(PRESIGN_UPLOADS_TABLE=UPLOADS_TABLE, PRESIGN_RATE_LIMIT_TABLE=RATE_LIMIT_TABLE)
    calls: list[str] = []
    storage = MemoryObjects(before=calls.append)
    uploads = Client(load_function("uploads", monkeypatch, env))
    lifecycle = Client(load_function("lifecycle", monkeypatch, env))
    for client in (uploads, lifecycle):
        monkeypatch.setattr(client.module, "objects", lambda target: storage)
    return Caller(uploads, lifecycle, sub=f"replay-{uuid.uuid4()}"), calls, storage


def test_a_multipart_replay_calls_no_storage_and_pays_for_its_part_urls_only(
    replays: tuple[Caller, list[str], MemoryObjects],
) -> None:
    caller, calls, _ = replays
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = caller.create(BIG, **key)
    assert first["statusCode"] == 201 and remaining(first) == BURST - 1, first["body"]
    assert calls == ["start_multipart"], calls
    calls.clear()

    # When the client retries (its answer was lost)
    again = caller.create(BIG, **key)

    # Then the same upload, with no storage call; its 3 part URLs cost 3 upload_parts units
    assert again["statusCode"] == 201, again["body"]
    assert body(again)["upload_id"] == body(first)["upload_id"], again["body"]
    assert len(body(again)["multipart"]["parts"]) == 3, again["body"]
    assert calls == [], calls
    assert remaining(again) == PARTS_BURST - 3, again["headers"]
    # And the upload unit was spent once in all: the next new upload sees BURST - 2 left
    fresh = caller.create({**BIG, "size": 1000, "multipart": False})
    assert fresh["statusCode"] == 201 and remaining(fresh) == BURST - 2, fresh["headers"]


def test_a_completion_retried_after_a_failure_pays_again_and_a_replay_after_success_does_not(
    replays: tuple[Caller, list[str], MemoryObjects],
) -> None:
    caller, calls, storage = replays
    made = caller.create({"filename": "notes.txt", "content_type": "text/plain", "size": 11})
    grant = body(made)
    key = {"Idempotency-Key": str(uuid.uuid4())}

    # Given a completion refused because nothing was stored yet (HEADs, one unit)
    early = caller.complete(grant["upload_id"], **key)
    assert early["statusCode"] == 409 and body(early)["error"]["code"] == "not_uploaded", early["body"]
    assert "head" in calls, calls
    # When the file arrives and the client retries with the same key: the storage is asked again,
    # so the retry spends again (two of the five units gone)
    storage.objects[grant["key"]] = ObjectFacts(size=11, content_type="text/plain", etag='"e"')
    done = caller.complete(grant["upload_id"], **key)
    assert done["statusCode"] == 200 and remaining(done) == 3, (done["body"], done["headers"])
    calls.clear()

    # Then a replay of the completed request answers the record: no HEAD, nothing spent
    replay = caller.complete(grant["upload_id"], **key)
    assert replay["statusCode"] == 200 and body(replay) == body(done), replay["body"]
    assert calls == [] and "RateLimit-Remaining" not in replay["headers"], (calls, replay["headers"])
