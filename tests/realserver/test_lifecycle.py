"""The upload lifecycle judged by a real SeaweedFS (with an identities file) and a moto server.

Every object here is stored by SeaweedFS through the URL the service issued (or, to make one that
differs, with the admin credentials), and every completion is decided by SeaweedFS's own HEAD.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from local.servers import MotoServer, SeaweedFS
from tests.integration.conftest import Client
from tests.realserver.conftest import ACCESS_KEY, BUCKET, SECRET_KEY
from tests.support.functions import function_env, load_function, settings_document
from tests.support.lifecycle import (
    UPLOADS_TABLE,
    Caller,
    body,
    moto_with_tables,
    point_at,
    with_records,
)

pytestmark = pytest.mark.realserver
CONTENT = b"the bytes that were declared\n" * 7
UPLOAD = {"filename": "notes.txt", "content_type": "text/plain", "size": len(CONTENT)}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def caller(seaweed: SeaweedFS, moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Caller:
    point_at(moto, monkeypatch)
    document = with_records(
        settings_document(
            endpoint_url=seaweed.endpoint_url,
            bucket=BUCKET,
            upload={"content_types": ["text/*", "image/*"], "max_size": 4096},
        )
    )
    env = function_env(document, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    env["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
    uploads = Client(load_function("uploads", monkeypatch, env))
    lifecycle = Client(load_function("lifecycle", monkeypatch, env))
    return Caller(uploads, lifecycle)


@pytest.fixture
def admin(seaweed: SeaweedFS) -> Any:
    return seaweed.client(
        request_checksum_calculation="when_required", response_checksum_validation="when_required"
    )


def grant(caller: Caller, **overrides: Any) -> dict[str, Any]:
    response = caller.create({**UPLOAD, **overrides})
    assert response["statusCode"] == 201, response["body"]
    return dict(body(response))


def put(granted: dict[str, Any], data: bytes) -> None:
    stored = requests.put(granted["url"], data=data, headers=granted["headers"], timeout=10)
    assert stored.status_code == 200, stored.text


def exists(admin: Any, key: str) -> bool:
    try:
        admin.head_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("404", "NoSuchKey"), exc.response
        return False
    return True


def test_put_then_complete_is_complete_with_the_stored_objects_facts(caller: Caller, admin: Any) -> None:
    # Given an upload stored through its URL
    granted = grant(caller, metadata={"album": "summer"})
    put(granted, CONTENT)

    # When it is completed
    response = caller.complete(granted["upload_id"])

    # Then the answer is SeaweedFS's own view of the object
    assert response["statusCode"] == 200, response["body"]
    done = body(response)
    stored = admin.head_object(Bucket=BUCKET, Key=granted["key"])
    assert done == {
        "upload_id": granted["upload_id"],
        "key": granted["key"],
        "size": stored["ContentLength"],
        "content_type": stored["ContentType"],
        "etag": stored["ETag"],
        "status": "complete",
    }, (done, stored)
    assert done["size"] == len(CONTENT)
    # And the status says so, and completing again answers the same
    assert body(caller.status(granted["upload_id"]))["status"] == "complete"
    again = caller.complete(granted["upload_id"])
    assert again["statusCode"] == 200 and body(again) == done


def test_checksum_bound_put_then_complete(caller: Caller) -> None:
    digest = base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()
    granted = grant(caller, checksum_sha256=digest)
    put(granted, CONTENT)

    response = caller.complete(granted["upload_id"])

    assert response["statusCode"] == 200, response["body"]


def test_post_form_upload_then_complete(caller: Caller) -> None:
    granted = grant(caller, method="POST", metadata={"k": "v"})
    posted = requests.post(
        granted["url"], data=granted["fields"], files={"file": ("notes.txt", CONTENT)}, timeout=10
    )
    assert posted.status_code in (200, 201, 204), posted.text

    response = caller.complete(granted["upload_id"])

    assert response["statusCode"] == 200, response["body"]
    assert body(response)["status"] == "complete"


def test_complete_before_anything_was_uploaded_is_409(caller: Caller) -> None:
    granted = grant(caller)

    response = caller.complete(granted["upload_id"])

    assert response["statusCode"] == 409, response["body"]
    assert body(response)["error"]["code"] == "not_uploaded"
    assert body(caller.status(granted["upload_id"]))["status"] == "pending"


def _checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.mark.parametrize(
    ("declared", "stored", "differs"),
    [
        ({}, {"Body": CONTENT[:-1] + b"!" + b"x", "ContentType": "text/plain"}, "size"),
        ({}, {"Body": CONTENT, "ContentType": "text/html"}, "content_type"),
        ({"metadata": {"album": "summer"}}, {"Body": CONTENT, "ContentType": "text/plain"}, "metadata"),
        (
            {"checksum_sha256": _checksum(CONTENT)},
            {"Body": CONTENT[::-1], "ContentType": "text/plain", "ChecksumSHA256": _checksum(CONTENT[::-1])},
            "checksum_sha256",
        ),
        (
            {"checksum_sha256": _checksum(CONTENT)},
            {"Body": CONTENT[::-1], "ContentType": "text/plain"},
            "checksum_sha256",
        ),
    ],
    ids=["other-bytes-and-size", "other-type", "missing-metadata", "other-checksum", "no-checksum"],
)
def test_an_object_that_differs_is_422_and_deleted(
    caller: Caller, admin: Any, declared: dict[str, Any], stored: dict[str, Any], differs: str
) -> None:
    # Given an upload, and an object at its key written with the admin credentials
    granted = grant(caller, **declared)
    admin.put_object(Bucket=BUCKET, Key=granted["key"], **stored)
    assert exists(admin, granted["key"])

    # When it is completed
    response = caller.complete(granted["upload_id"])

    # Then 422 names what differs, the object is gone, and the upload is rejected for good
    assert response["statusCode"] == 422, response["body"]
    error = body(response)["error"]
    assert error["code"] == "upload_mismatch" and f"{differs}:" in error["message"], error
    assert not exists(admin, granted["key"])
    status = body(caller.status(granted["upload_id"]))
    assert status["status"] == "rejected" and any(p.startswith(differs) for p in status["problems"]), status
    # asked again, the same answer (decision 4 of issue 20: a rejection is answered as recorded)
    again = caller.complete(granted["upload_id"])
    assert (again["statusCode"], body(again)["error"]["code"]) == (422, "upload_mismatch"), again


def test_delete_of_a_pending_upload_with_an_object_is_204_and_aborted(caller: Caller, admin: Any) -> None:
    granted = grant(caller)
    put(granted, CONTENT)

    response = caller.delete(granted["upload_id"])

    assert response["statusCode"] == 204, response["body"]
    assert not exists(admin, granted["key"])
    gone = caller.status(granted["upload_id"])
    assert (gone["statusCode"], body(gone)["error"]["code"]) == (410, "upload_aborted"), gone
    completed = caller.complete(granted["upload_id"])
    assert completed["statusCode"] == 409 and body(completed)["error"]["code"] == "upload_not_pending"


def test_delete_of_a_completed_upload_deletes_the_object(caller: Caller, admin: Any) -> None:
    granted = grant(caller)
    put(granted, CONTENT)
    assert caller.complete(granted["upload_id"])["statusCode"] == 200

    assert caller.delete(granted["upload_id"])["statusCode"] == 204

    assert not exists(admin, granted["key"])
    gone = caller.status(granted["upload_id"])
    assert (gone["statusCode"], body(gone)["error"]["code"]) == (410, "upload_deleted"), gone
    assert caller.complete(granted["upload_id"])["statusCode"] == 410
    assert caller.delete(granted["upload_id"])["statusCode"] == 204  # idempotent


def test_another_users_upload_is_404_on_every_route(caller: Caller, admin: Any) -> None:
    # Given alice's stored upload
    granted = grant(caller)
    put(granted, CONTENT)
    mallory = caller.as_user("mallory")

    # When mallory uses its id on every route
    answers = {
        "complete": mallory.complete(granted["upload_id"]),
        "status": mallory.status(granted["upload_id"]),
        "delete": mallory.delete(granted["upload_id"]),
    }

    # Then each is 404, exactly as for an id that does not exist, and nothing changed
    for route, answer in answers.items():
        assert answer["statusCode"] == 404, (route, answer["body"])
        assert body(answer)["error"]["code"] == "not_found", route
    assert exists(admin, granted["key"])
    assert granted["upload_id"] not in {item["upload_id"] for item in body(mallory.list())["items"]}
    assert body(caller.status(granted["upload_id"]))["status"] == "pending"


def test_an_idempotent_retry_gets_a_url_that_still_works(caller: Caller) -> None:
    first = caller.create(UPLOAD, **{"Idempotency-Key": "retry-me-1"})
    again = caller.create(UPLOAD, **{"Idempotency-Key": "retry-me-1"})
    assert first["statusCode"] == again["statusCode"] == 201, (first["body"], again["body"])
    granted, replayed = body(first), body(again)
    assert (replayed["upload_id"], replayed["key"]) == (granted["upload_id"], granted["key"])

    put(replayed, CONTENT)  # SeaweedFS accepts the re-signed URL

    assert caller.complete(replayed["upload_id"])["statusCode"] == 200


def test_the_storage_down_is_503_with_retry_after_and_the_record_stays_pending(
    caller: Caller, moto: MotoServer, monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> None:
    granted = grant(caller)
    put(granted, CONTENT)
    # A lifecycle function whose target points at a port where nothing listens
    point_at(moto, monkeypatch)
    document = with_records(settings_document(endpoint_url=f"http://127.0.0.1:{unused_port}", bucket=BUCKET))
    env = function_env(document, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    env["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
    down = Caller(caller.uploads, Client(load_function("lifecycle", monkeypatch, env)))

    for response in (down.complete(granted["upload_id"]), down.delete(granted["upload_id"])):
        assert response["statusCode"] == 503, response["body"]
        assert body(response)["error"]["code"] == "dependency_unavailable"
        assert int(response["headers"]["Retry-After"]) >= 1
    assert body(caller.status(granted["upload_id"]))["status"] == "pending"
    assert caller.complete(granted["upload_id"])["statusCode"] == 200  # nothing was half-done


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MakeUploads = Callable[..., Client]
