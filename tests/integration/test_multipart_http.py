"""Multipart routes through the real handlers, records in a moto server over HTTP.

The storage is an in-memory ``ObjectStore`` (tests/realserver/test_multipart.py has SeaweedFS
judge real parts); these check the contract: who may, what is counted, what is refused and how.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from local.servers import MotoServer
from presign.core.owners import subject_digest
from presign.errors import DependencyUnavailable
from tests.integration.conftest import Client
from tests.support.functions import function_env, load_function, settings_document
from tests.support.lifecycle import (
    UPLOADS_TABLE,
    Caller,
    body,
    fresh_sub,
    moto_with_tables,
    point_at,
    with_records,
)
from tests.support.memory import MemoryObjects

MiB = 1024**2
UPLOAD = {"filename": "big.bin", "content_type": "video/mp4", "size": 12 * MiB, "multipart": True}
TARGET = {
    "upload": {"content_types": ["video/*"], "max_size": 6 * 1024**3, "multipart": {"part_size": 5 * MiB}}
}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def storage() -> MemoryObjects:
    return MemoryObjects()


@pytest.fixture
def stack(moto: MotoServer, storage: MemoryObjects, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Caller]:
    def make(document: dict[str, Any] | None = None) -> Caller:
        point_at(moto, monkeypatch)
        env = function_env(with_records(document or settings_document(**TARGET)))
        env["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
        uploads = Client(load_function("uploads", monkeypatch, env))
        lifecycle = Client(load_function("lifecycle", monkeypatch, env))
        for client in (uploads, lifecycle):
            monkeypatch.setattr(client.module, "objects", lambda target: storage)
        return Caller(uploads, lifecycle, sub=fresh_sub("user"))

    return make


def begin(caller: Caller, **overrides: Any) -> dict[str, Any]:
    response = caller.create({**UPLOAD, **overrides})
    assert response["statusCode"] == 201, response["body"]
    return dict(body(response))


def storage_id(storage: MemoryObjects, key: str) -> str:
    return next(i for i, upload in storage.uploads.items() if upload.key == key)


def test_creation_starts_one_storage_upload_and_answers_the_plan(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    caller = stack()
    granted = begin(caller, metadata={"k": "v"})

    upload = storage.uploads[storage_id(storage, granted["key"])]
    assert (upload.content_type, upload.metadata, upload.checksums) == ("video/mp4", {"k": "v"}, False)
    plan = granted["multipart"]
    assert (plan["part_size"], plan["part_count"], [p["size"] for p in plan["parts"]]) == (
        5 * MiB,
        3,
        [5 * MiB, 5 * MiB, 2 * MiB],
    )
    assert plan["parts"][2]["headers"] == {"Content-Length": str(2 * MiB)}
    # The storage's own upload id is in the URLs (S3 needs it there) and nowhere else in the answer
    sid = storage_id(storage, granted["key"])
    rest = {k: v for k, v in granted.items() if k != "multipart"}
    assert sid not in str(rest) and sid not in str({k: v for k, v in plan.items() if k != "parts"})
    status = body(caller.status(granted["upload_id"]))
    assert sid not in str(status), status


def test_a_10000_part_upload_answers_the_first_100_urls_only(stack: Callable[..., Caller]) -> None:
    caller = stack(settings_document(upload={"content_types": ["video/*"], "max_size": 5 * 1024**4}))
    granted = begin(caller, size=5 * 1024**4)
    plan = granted["multipart"]
    assert plan["part_count"] == 9987 and len(plan["parts"]) == 100, {k: plan[k] for k in ("part_count",)}
    assert [p["part_number"] for p in plan["parts"]] == list(range(1, 101))
    assert len(str(granted)) < 100_000


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"part_numbers": [4]}, 422, "unknown_part"),
        ({"part_numbers": [0]}, 400, "invalid_request"),
        ({"part_numbers": [1, 1]}, 400, "invalid_request"),
        ({"part_numbers": list(range(1, 102))}, 400, "invalid_request"),
        ({"part_numbers": []}, 400, "invalid_request"),
        (
            {"part_numbers": [1], "checksums_sha256": ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]},
            422,
            "unprocessable",
        ),
        ({"part_numbers": [1], "surprise": 1}, 400, "invalid_request"),
        # schema-valid (no schema can tie two lengths together), so 422, not 400
        (
            {"part_numbers": [1, 2], "checksums_sha256": ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]},
            422,
            "unprocessable",
        ),
    ],
)
def test_renewal_refusals(
    stack: Callable[..., Caller], payload: dict[str, Any], status: int, code: str
) -> None:
    caller = stack()
    granted = begin(caller)
    response = caller.renew(granted["upload_id"], payload)
    assert response["statusCode"] == status, response["body"]
    assert body(response)["error"]["code"] == code, response["body"]


def test_renewal_is_for_the_callers_pending_multipart_uploads_only(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    caller = stack()
    granted = begin(caller)
    # another caller's upload is 404, as one that does not exist
    other = caller.as_user(caller.sub + "-bob").renew(granted["upload_id"], {"part_numbers": [1]})
    assert other["statusCode"] == 404, other["body"]
    assert caller.renew("0" * 26, {"part_numbers": [1]})["statusCode"] == 404
    # a single upload has no parts
    single = begin(caller, multipart=False)
    refused = caller.renew(single["upload_id"], {"part_numbers": [1]})
    assert (refused["statusCode"], body(refused)["error"]["code"]) == (422, "not_multipart"), refused["body"]
    # an aborted one signs nothing any more
    assert caller.delete(granted["upload_id"])["statusCode"] == 204
    after = caller.renew(granted["upload_id"], {"part_numbers": [1]})
    assert (after["statusCode"], body(after)["error"]["code"]) == (409, "upload_not_pending"), after["body"]


def test_each_part_url_counts_against_the_upload_parts_limit(
    stack: Callable[..., Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 100 part URLs at once and none more for an hour
    document = settings_document(**TARGET)
    document["rate_limits"] = {"actions": {"upload_parts": {"rate": 1, "period": 3600, "burst": 100}}}
    monkeypatch.setenv("PRESIGN_RATE_LIMIT_TABLE", "presign-local-RateLimitTable")
    caller = stack(document)
    granted = begin(caller)

    # When 3 are asked for, 97 remain; then 98 more are too many
    first = caller.renew(granted["upload_id"], {"part_numbers": [1, 2, 3]})
    assert first["statusCode"] == 200 and first["headers"]["RateLimit-Remaining"] == "97", first
    for _ in range(32):
        assert caller.renew(granted["upload_id"], {"part_numbers": [1, 2, 3]})["statusCode"] == 200
    refused = caller.renew(granted["upload_id"], {"part_numbers": [1, 2, 3]})
    assert refused["statusCode"] == 429 and int(refused["headers"]["Retry-After"]) >= 1, refused["body"]
    # and creation's own limit is untouched
    assert caller.create(UPLOAD)["statusCode"] == 201


def test_completion_assembles_exactly_the_plan_then_heads_the_result(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    caller = stack()
    granted = begin(caller)
    sid = storage_id(storage, granted["key"])
    etags = [storage.put_part(sid, p["part_number"], p["size"]) for p in granted["multipart"]["parts"]]

    response = caller.complete(
        granted["upload_id"], {"parts": [{"part_number": n, "etag": e} for n, e in enumerate(etags, 1)]}
    )

    assert response["statusCode"] == 200, response["body"]
    assert body(response)["etag"] == '"assembled-3"'
    assert [(i, [(p.part_number, p.etag) for p in parts]) for i, parts in storage.completions] == [
        (sid, list(enumerate(etags, 1)))
    ], storage.completions
    # completing again is the same answer, and assembles nothing more
    again = caller.complete(granted["upload_id"])
    assert again["statusCode"] == 200 and len(storage.completions) == 1, again["body"]


def test_an_object_that_differs_after_assembly_is_rejected_and_deleted(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    # Given parts assembled behind our back into something else (the store's HEAD disagrees)
    caller = stack()
    granted = begin(caller)
    sid = storage_id(storage, granted["key"])
    for part in granted["multipart"]["parts"]:
        storage.put_part(sid, part["part_number"], part["size"])
    storage.uploads[sid].content_type = "text/html"

    response = caller.complete(granted["upload_id"])

    assert response["statusCode"] == 422 and body(response)["error"]["code"] == "upload_mismatch", response
    assert granted["key"] not in storage.objects
    assert body(caller.status(granted["upload_id"]))["status"] == "rejected"


def test_a_retry_with_the_same_idempotency_key_starts_no_second_storage_upload(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    caller = stack()
    first = caller.create(UPLOAD, **{"Idempotency-Key": "mp-1"})
    again = caller.create(UPLOAD, **{"Idempotency-Key": "mp-1"})
    assert first["statusCode"] == again["statusCode"] == 201, (first["body"], again["body"])
    one, two = body(first), body(again)
    assert one["upload_id"] == two["upload_id"] and one["key"] == two["key"]
    assert [p["size"] for p in one["multipart"]["parts"]] == [p["size"] for p in two["multipart"]["parts"]]
    assert len(storage.uploads) == 1, storage.uploads


def test_a_record_that_cannot_be_written_aborts_the_storage_upload(
    stack: Callable[..., Caller], storage: MemoryObjects, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = stack()
    records = caller.uploads.module.lifecycle._store

    def down(*_: Any, **__: Any) -> bool:
        raise DependencyUnavailable("table down (test)", retry_after=2)

    monkeypatch.setattr(records, "create", down)
    response = caller.create(UPLOAD)
    assert response["statusCode"] == 503, response["body"]
    assert storage.uploads == {}, storage.uploads


def test_a_storage_that_cannot_start_is_503_and_no_record(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    caller = stack()
    storage.down = True
    response = caller.create(UPLOAD)
    assert response["statusCode"] == 503 and "Retry-After" in response["headers"], response
    storage.down = False
    assert body(caller.list())["items"] == []


def test_the_status_of_a_multipart_upload_shows_its_plan_and_stored_parts(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    caller = stack()
    granted = begin(caller)
    sid = storage_id(storage, granted["key"])
    storage.put_part(sid, 2, 5 * MiB, '"two"')

    status = body(caller.status(granted["upload_id"]))

    assert status["multipart"] == {
        "part_size": 5 * MiB,
        "part_count": 3,
        "part_checksums": False,
        "parts": [{"part_number": 2, "size": 5 * MiB, "etag": '"two"'}],
    }, status
    assert status["expires_at"] == granted["multipart"]["expires_at"]
    # in the list too, without the parts (that would be a storage call per item)
    listed = body(caller.list())["items"][0]
    assert listed["multipart"] == {"part_size": 5 * MiB, "part_count": 3, "part_checksums": False}, listed


def test_the_owner_digest_is_the_records_owner(stack: Callable[..., Caller]) -> None:
    caller = stack()
    granted = begin(caller)
    record = caller.uploads.module.lifecycle._store.get(subject_digest(caller.sub), granted["upload_id"])
    assert record is not None and record.multipart is not None and record.multipart.part_size == 5 * MiB


def test_renewing_part_urls_never_imports_boto3(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a pending multipart upload of user "cold", written straight into the table
    import json
    import subprocess
    import sys
    import time

    from local.servers import aws_env
    from presign.adapters.dynamodb import table_client as rate_limit_client
    from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
    from presign.uploads.records import Multipart, UploadRecord
    from tests.integration.test_lifecycle_http import COLD_START
    from tests.support.functions import ROOT

    env = {
        **function_env(with_records(settings_document(**TARGET))),
        **aws_env(moto.endpoint_url),
        "PRESIGN_UPLOADS_TABLE": UPLOADS_TABLE,
        "PYTHONPATH": f"{ROOT / 'layers' / 'presign'}:{ROOT}",
    }
    now = int(time.time())
    upload_id = "01k0b7m3q8r9s4t5v6w7x8y9zb"
    record = UploadRecord(
        owner=subject_digest("cold"),
        upload_id=upload_id,
        target="main",
        key=f"users/cold/2030/01/01/{upload_id}/big.bin",
        method="PUT",
        size=12 * MiB,
        content_type="video/mp4",
        status="pending",
        created_at=now,
        expires_at=now + 3600,
        updated_at=now,
        multipart=Multipart(storage_upload_id="mpu-cold", part_size=5 * MiB),
    )
    point_at(moto, monkeypatch)
    assert DynamoDbRecordStore(rate_limit_client(), UPLOADS_TABLE).create(record, ttl=None)

    # When a fresh uploads function renews its part URLs
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            COLD_START,
            "uploads",
            "POST",
            f"/uploads/{upload_id}/parts",
            json.dumps({"part_numbers": [1, 2, 3]}),
            "{}",
            "/uploads/{upload_id}/parts",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # Then it answers the URLs, with no boto3 (only the bare botocore Powertools probes) at any point
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["status"] == 200, result
    assert result["at_import"] in ([], ["botocore"]) and result["after"] in ([], ["botocore"]), result


def test_a_retry_after_the_threshold_changed_is_409_not_a_single_put_for_a_multipart_upload(
    stack: Callable[..., Caller], storage: MemoryObjects
) -> None:
    # Given an upload that went multipart on the threshold, made with an Idempotency-Key
    auto = {**UPLOAD, "multipart": None}
    first = stack(settings_document(upload={**TARGET["upload"], "multipart": {"threshold": 8 * MiB}}))
    made = first.create(auto, **{"Idempotency-Key": "mp-threshold"})
    assert made["statusCode"] == 201 and body(made)["multipart"], made["body"]
    # When the same request is retried after the threshold went up (the file is now "small")
    later = stack(settings_document(upload={**TARGET["upload"], "multipart": {"threshold": 64 * MiB}}))
    again = Caller(later.uploads, later.lifecycle, sub=first.sub).create(
        auto, **{"Idempotency-Key": "mp-threshold"}
    )
    # Then it is refused, never answered as a single PUT for what the storage holds in parts
    assert again["statusCode"] == 409, again["body"]


# -- POST /uploads/{upload_id}/sign: the S3 requests a client such as Uppy sends itself ------------


@pytest.mark.parametrize(
    ("operation", "method"),
    [("list_parts", "GET"), ("complete_multipart_upload", "POST"), ("abort_multipart_upload", "DELETE")],
)
def test_each_operation_is_signed_for_the_servers_key_and_storage_upload(
    stack: Callable[..., Caller], storage: MemoryObjects, operation: str, method: str
) -> None:
    # Given a pending multipart upload
    caller = stack()
    granted = begin(caller)

    # When its client asks for one S3 request
    response = caller.sign(granted["upload_id"], {"operation": operation})

    # Then the URL is that operation on the key and the storage upload the server started, nothing else
    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["Cache-Control"] == "no-store"
    signed = body(response)
    assert (signed["operation"], signed["method"], signed["headers"]) == (operation, method, {})
    url = urlsplit(signed["url"])
    assert url.path.endswith("/" + granted["key"]), signed["url"]
    query = parse_qs(url.query)
    assert query["uploadId"] == [storage_id(storage, granted["key"])], query
    assert query["X-Amz-SignedHeaders"] == ["host"], query
    assert "partNumber" not in query and "uploads" not in query
    assert 0 < signed["expires_in"] <= int(query["X-Amz-Expires"][0]) + 1, signed


@pytest.mark.parametrize(
    "payload",
    [
        {"operation": "create_multipart_upload"},  # the server starts the storage upload, never a client
        {"operation": "upload_part"},  # parts come from POST /uploads and /parts, sized by the plan
        {"operation": "list_parts", "key": "users/alice/elsewhere"},
        {"operation": "list_parts", "upload_id": "another"},
        {},
        {"operation": ["list_parts"]},
    ],
)
def test_anything_but_one_named_operation_is_400(
    stack: Callable[..., Caller], payload: dict[str, Any]
) -> None:
    caller = stack()
    granted = begin(caller)
    refused = caller.sign(granted["upload_id"], payload)
    assert refused["statusCode"] == 400, refused["body"]
    assert body(refused)["error"]["code"] == "invalid_request", refused["body"]


def test_only_the_callers_pending_multipart_uploads_are_signed(stack: Callable[..., Caller]) -> None:
    caller = stack()
    granted = begin(caller)
    ask = {"operation": "list_parts"}
    # another caller's upload is 404, as one that does not exist
    other = caller.as_user(caller.sub + "-bob").sign(granted["upload_id"], ask)
    assert other["statusCode"] == 404, other["body"]
    assert caller.sign("0" * 26, ask)["statusCode"] == 404
    # a single upload has no multipart requests
    single = begin(caller, multipart=False)
    refused = caller.sign(single["upload_id"], ask)
    assert (refused["statusCode"], body(refused)["error"]["code"]) == (422, "not_multipart"), refused["body"]
    # an aborted one signs nothing any more
    assert caller.delete(granted["upload_id"])["statusCode"] == 204
    after = caller.sign(granted["upload_id"], ask)
    assert (after["statusCode"], body(after)["error"]["code"]) == (409, "upload_not_pending"), after["body"]


def test_an_upload_with_part_checksums_is_completed_by_the_service_only(
    stack: Callable[..., Caller],
) -> None:
    caller = stack()
    granted = begin(caller, part_checksums=True)
    refused = caller.sign(granted["upload_id"], {"operation": "complete_multipart_upload"})
    assert (refused["statusCode"], body(refused)["error"]["code"]) == (422, "unprocessable"), refused["body"]
    assert "POST /uploads/{upload_id}/complete" in body(refused)["error"]["message"]
    # listing and aborting stay open to it
    assert caller.sign(granted["upload_id"], {"operation": "list_parts"})["statusCode"] == 200


def test_each_signed_request_counts_one_upload_parts_unit(
    stack: Callable[..., Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the part URLs' lane, with no refill within the test
    document = settings_document(**TARGET)
    document["rate_limits"] = {"actions": {"upload_parts": {"rate": 1, "period": 3600, "burst": 100}}}
    monkeypatch.setenv("PRESIGN_RATE_LIMIT_TABLE", "presign-local-RateLimitTable")
    caller = stack(document)
    granted = begin(caller)

    # When a request is signed, then three part URLs, then another request
    first = caller.sign(granted["upload_id"], {"operation": "list_parts"})
    parts = caller.renew(granted["upload_id"], {"part_numbers": [1, 2, 3]})
    second = caller.sign(granted["upload_id"], {"operation": "complete_multipart_upload"})

    # Then each signed request is one unit of the same lane as the part URLs
    remaining = [int(r["headers"]["RateLimit-Remaining"]) for r in (first, parts, second)]
    assert remaining == [remaining[0], remaining[0] - 3, remaining[0] - 4], remaining
