"""Multipart uploads judged by a real SeaweedFS (with an identities file) and a moto server.

Every part is stored by SeaweedFS through the part URL the service signed; every refusal below
is SeaweedFS's own (a wrong size, an expired URL), every completion is its CompleteMultipartUpload
and HEAD. SeaweedFS enforces S3's 5 MiB minimum for all parts but the last (EntityTooSmall at
completion), so the parts here are real 5 MiB parts.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from local.servers import MotoServer, SeaweedFS
from presign.clock import system_clock
from tests.integration.conftest import Client
from tests.realserver.conftest import ACCESS_KEY, BUCKET, SECRET_KEY
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

pytestmark = pytest.mark.realserver
MiB = 1024**2
PART = 5 * MiB
# Two full parts and a short last one.
CONTENT = os.urandom(2 * PART + 123_457)
UPLOAD = {
    "filename": "video.mp4",
    "content_type": "video/mp4",
    "size": len(CONTENT),
    "multipart": True,
    "metadata": {"album": "summer"},
}


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
            upload={
                "content_types": ["video/*", "application/octet-stream"],
                "max_size": 6 * 1024**3,
                "multipart": {"part_size": PART, "threshold": 8 * MiB},
            },
        )
    )
    env = function_env(document, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    env["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
    uploads = Client(load_function("uploads", monkeypatch, env))
    lifecycle = Client(load_function("lifecycle", monkeypatch, env))
    return Caller(uploads, lifecycle, sub=fresh_sub("mp"))


@pytest.fixture
def admin(seaweed: SeaweedFS) -> Any:
    return seaweed.client(
        request_checksum_calculation="when_required", response_checksum_validation="when_required"
    )


def begin(caller: Caller, **overrides: Any) -> dict[str, Any]:
    response = caller.create({**UPLOAD, **overrides})
    assert response["statusCode"] == 201, response["body"]
    return dict(body(response))


def chunk(number: int, data: bytes = CONTENT) -> bytes:
    return data[(number - 1) * PART : number * PART]


def put_part(part: dict[str, Any], data: bytes) -> requests.Response:
    return requests.put(part["url"], data=data, headers=part["headers"], timeout=30)


def upload_part(part: dict[str, Any], data: bytes = CONTENT) -> str:
    stored = put_part(part, chunk(part["part_number"], data))
    assert stored.status_code == 200, (part["part_number"], stored.status_code, stored.text)
    return str(stored.headers["ETag"])


def exists(admin: Any, key: str) -> bool:
    try:
        admin.head_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("404", "NoSuchKey"), exc.response
        return False
    return True


def test_three_parts_through_their_urls_complete_and_read_back(caller: Caller, admin: Any) -> None:
    # Given a multipart upload of two full parts and a short last one
    granted = begin(caller)
    plan = granted["multipart"]
    assert (plan["part_size"], plan["part_count"]) == (PART, 3), plan
    assert [p["size"] for p in plan["parts"]] == [PART, PART, len(CONTENT) - 2 * PART]
    assert granted["url"] == "" and granted["method"] == "PUT"
    # When each part goes to its URL, and the upload is completed with the ETags they answered
    etags = [upload_part(part) for part in plan["parts"]]
    listed = [{"part_number": n, "etag": etag} for n, etag in enumerate(etags, start=1)]
    response = caller.complete(granted["upload_id"], {"parts": listed})

    # Then it is complete, as SeaweedFS's HEAD says, and a GET returns the same bytes
    assert response["statusCode"] == 200, response["body"]
    done = body(response)
    head = admin.head_object(Bucket=BUCKET, Key=granted["key"])
    assert done == {
        "upload_id": granted["upload_id"],
        "key": granted["key"],
        "size": len(CONTENT),
        "content_type": "video/mp4",
        "etag": head["ETag"],
        "status": "complete",
    }, (done, head)
    assert head["Metadata"] == {"album": "summer"}, head
    fetched = admin.get_object(Bucket=BUCKET, Key=granted["key"])["Body"].read()
    assert hashlib.sha256(fetched).digest() == hashlib.sha256(CONTENT).digest(), len(fetched)
    # And completing again answers the same
    again = caller.complete(granted["upload_id"], {"parts": listed})
    assert again["statusCode"] == 200 and body(again) == done, again["body"]


def test_an_expired_part_url_is_refused_then_renewed_and_the_upload_goes_on(
    caller: Caller, admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given part URLs signed two hours ago (the signer's clock injected), valid for 15 minutes
    signers = caller.uploads.module.api.runtime.signers
    monkeypatch.setattr(signers, "_clock", lambda: system_clock() - timedelta(hours=2))
    granted = begin(caller)
    monkeypatch.setattr(signers, "_clock", system_clock)
    first = granted["multipart"]["parts"][0]

    # When part 1 is sent with it, SeaweedFS refuses it
    refused = put_part(first, chunk(1))
    assert refused.status_code == 403, (refused.status_code, refused.text)
    assert "expired" in refused.text.lower(), refused.text

    # Then fresh URLs come from /parts, and the upload goes on with them
    renewed = caller.renew(granted["upload_id"], {"part_numbers": [1, 2, 3]})
    assert renewed["statusCode"] == 200, renewed["body"]
    fresh = body(renewed)
    assert [p["part_number"] for p in fresh["parts"]] == [1, 2, 3]
    assert fresh["expires_in"] == 900, fresh
    for part in fresh["parts"]:
        upload_part(part)
    response = caller.complete(granted["upload_id"])
    assert response["statusCode"] == 200, response["body"]
    assert admin.get_object(Bucket=BUCKET, Key=granted["key"])["Body"].read() == CONTENT


def test_a_part_of_another_size_is_refused_by_the_server(caller: Caller) -> None:
    granted = begin(caller)
    first = granted["multipart"]["parts"][0]
    headers = {k: v for k, v in first["headers"].items() if k != "Content-Length"}
    for data in (chunk(1)[:-1], chunk(1) + b"!"):
        # requests sends the true Content-Length of the body; the URL signed the planned one.
        response = requests.put(first["url"], data=data, headers=headers, timeout=30)
        assert response.status_code == 403, (len(data), response.status_code, response.text)
    # and the storage holds nothing for it
    parts = body(caller.status(granted["upload_id"]))["multipart"]["parts"]
    assert parts == [], parts


def test_completion_with_a_wrong_etag_is_422_and_no_object_exists(caller: Caller, admin: Any) -> None:
    # Given every part stored
    granted = begin(caller)
    etags = [upload_part(part) for part in granted["multipart"]["parts"]]
    listed = [{"part_number": n, "etag": etag} for n, etag in enumerate(etags, start=1)]
    wrong = [*listed[:1], {"part_number": 2, "etag": '"0123456789abcdef0123456789abcdef"'}, *listed[2:]]

    # When the client's list has a wrong ETag
    response = caller.complete(granted["upload_id"], {"parts": wrong})

    # Then 422 naming the part, nothing is completed, and the upload stays pending
    assert response["statusCode"] == 422, response["body"]
    error = body(response)["error"]
    assert error["code"] == "parts_mismatch" and "2" in error["message"], error
    assert not exists(admin, granted["key"])
    assert body(caller.status(granted["upload_id"]))["status"] == "pending"
    # ... so the right list (quotes dropped: they are normalized) still completes it
    unquoted = [{**part, "etag": part["etag"].strip('"')} for part in listed]
    assert caller.complete(granted["upload_id"], {"parts": unquoted})["statusCode"] == 200


def test_completion_with_a_missing_part_is_409_naming_it(caller: Caller, admin: Any) -> None:
    granted = begin(caller)
    parts = granted["multipart"]["parts"]
    upload_part(parts[0])
    upload_part(parts[2])

    response = caller.complete(granted["upload_id"])

    assert response["statusCode"] == 409, response["body"]
    error = body(response)["error"]
    assert error == {**error, "code": "parts_missing", "message": "parts not uploaded yet: 2"}, error
    assert not exists(admin, granted["key"])


def test_a_resumed_upload_lists_its_parts_uploads_the_rest_and_completes_without_a_list(
    caller: Caller, admin: Any
) -> None:
    # Given two parts stored, and the client forgets everything but the upload id
    granted = begin(caller)
    sent = {part["part_number"]: upload_part(part) for part in granted["multipart"]["parts"][:2]}
    upload_id = granted["upload_id"]
    del granted

    # When it reads the upload's status
    status = body(caller.status(upload_id))

    # Then the status lists the stored parts with their sizes and ETags, and the plan
    multipart = status["multipart"]
    assert (status["status"], multipart["part_count"], multipart["part_size"]) == ("pending", 3, PART)
    assert multipart["parts"] == [
        {"part_number": n, "size": PART, "etag": etag} for n, etag in sorted(sent.items())
    ], multipart
    # And with a URL for the rest, the upload completes without the client's list
    missing = sorted(
        set(range(1, multipart["part_count"] + 1)) - {p["part_number"] for p in multipart["parts"]}
    )
    renewed = body(caller.renew(upload_id, {"part_numbers": missing}))
    for part in renewed["parts"]:
        upload_part(part)
    response = caller.complete(upload_id)
    assert response["statusCode"] == 200, response["body"]
    assert admin.get_object(Bucket=BUCKET, Key=status["key"])["Body"].read() == CONTENT


def test_an_aborted_upload_is_gone_from_list_multipart_uploads(caller: Caller, admin: Any) -> None:
    granted = begin(caller)
    upload_part(granted["multipart"]["parts"][0])

    def in_progress() -> list[str]:
        return [u["Key"] for u in admin.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]

    assert granted["key"] in in_progress()

    response = caller.delete(granted["upload_id"])

    assert response["statusCode"] == 204, response["body"]
    assert granted["key"] not in in_progress()
    gone = caller.status(granted["upload_id"])
    assert (gone["statusCode"], body(gone)["error"]["code"]) == (410, "upload_aborted"), gone
    # A part URL of the aborted upload no longer stores anything
    late = put_part(granted["multipart"]["parts"][1], chunk(2))
    assert late.status_code == 404, (late.status_code, late.text)
    renewed = caller.renew(granted["upload_id"], {"part_numbers": [2]})
    assert renewed["statusCode"] == 409, renewed["body"]


def test_part_checksums_are_signed_and_verified_by_the_server(caller: Caller) -> None:
    # Given an upload that declared part checksums: no URL until the client sends them
    granted = begin(caller, part_checksums=True)
    assert granted["multipart"]["parts"] == [] and granted["multipart"]["part_checksums"] is True
    digests = [base64.b64encode(hashlib.sha256(chunk(n)).digest()).decode() for n in (1, 2, 3)]
    renewed = caller.renew(granted["upload_id"], {"part_numbers": [1, 2, 3], "checksums_sha256": digests})
    assert renewed["statusCode"] == 200, renewed["body"]
    parts = body(renewed)["parts"]
    assert parts[0]["headers"]["x-amz-checksum-sha256"] == digests[0]

    # When part 2 is sent with other bytes of the same size, the server refuses them
    tampered = bytes(reversed(chunk(2)))
    assert put_part(parts[1], tampered).status_code in (400, 403)
    # Then the true bytes go through
    etags = [upload_part(part) for part in parts]
    # SeaweedFS's ListParts does not list checksums (AWS's does), so the client must send them
    without = caller.complete(granted["upload_id"])
    assert without["statusCode"] == 422 and "checksum_sha256" in without["body"], without["body"]
    listed = [
        {"part_number": n, "etag": etag, "checksum_sha256": digest}
        for n, (etag, digest) in enumerate(zip(etags, digests, strict=True), start=1)
    ]
    response = caller.complete(granted["upload_id"], {"parts": listed})
    assert response["statusCode"] == 200, response["body"]


def test_the_status_lists_parts_past_the_first_page_of_1000(caller: Caller, admin: Any) -> None:
    # Given a plan of 1,100 parts (5.4 GB declared) and 1,001 small parts stored under its upload
    granted = begin(caller, content_type="application/octet-stream", size=1100 * PART)
    upload_id = granted["upload_id"]
    record = caller.uploads.module.lifecycle._store.get(caller_owner(caller), upload_id)
    storage_id = record.multipart.storage_upload_id
    for number in range(1, 1002):
        admin.upload_part(
            Bucket=BUCKET, Key=granted["key"], UploadId=storage_id, PartNumber=number, Body=b"p"
        )

    # When the status is read, Then every part is listed (ListParts answers 1,000 a page)
    parts = body(caller.status(upload_id))["multipart"]["parts"]
    assert [p["part_number"] for p in parts] == list(range(1, 1002)), len(parts)
    # And completion names the parts still missing, with nothing completed
    response = caller.complete(upload_id)
    assert response["statusCode"] == 409, response["body"]
    assert (
        body(response)["error"]["message"]
        == "parts not uploaded yet: 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011 and 89 more"
    )
    assert caller.delete(upload_id)["statusCode"] == 204


def caller_owner(caller: Caller) -> str:
    from presign.core.owners import subject_digest

    return subject_digest(caller.sub)


def test_make_devs_bucket_cors_rule_serves_the_examples_origin_only(seaweed: SeaweedFS) -> None:
    # Given the rule make dev sets for its examples' origin (SeaweedFS supports PutBucketCors)
    from local.dev_config import dev_bucket_cors, page_origins, set_bucket_cors

    pages = page_origins("http://127.0.0.1:5173")
    set_bucket_cors(seaweed, pages, BUCKET)
    rule = seaweed.client().get_bucket_cors(Bucket=BUCKET)["CORSRules"][0]
    assert rule["AllowedOrigins"] == ["http://127.0.0.1:5173", "http://localhost:5173"], rule
    assert rule["ExposeHeaders"] == ["ETag"], rule

    # When a browser asks before a part PUT, from the examples' origin and from any other
    url = seaweed.client().generate_presigned_url(
        "upload_part", Params={"Bucket": BUCKET, "Key": "cors/k", "UploadId": "x", "PartNumber": 1}
    )

    def preflight(origin: str) -> requests.Response:
        return requests.options(
            url, headers={"Origin": origin, "Access-Control-Request-Method": "PUT"}, timeout=10
        )

    ours, evil = preflight("http://127.0.0.1:5173"), preflight("http://evil.example")

    # Then the rule answers ours, ETag exposed, and gives another site nothing to read by
    assert ours.status_code == 200, ours.text
    assert ours.headers.get("Access-Control-Allow-Origin") == "http://127.0.0.1:5173", ours.headers
    assert ours.headers.get("Access-Control-Expose-Headers") == "ETag", ours.headers
    assert ours.headers.get("Access-Control-Max-Age") == str(
        dev_bucket_cors(pages)["CORSRules"][0]["MaxAgeSeconds"]
    ), ours.headers
    assert "Access-Control-Allow-Origin" not in evil.headers, (evil.status_code, evil.headers)


# -- POST /uploads/{upload_id}/sign: ListParts, CompleteMultipartUpload, AbortMultipartUpload sent by
# the client itself (as @uppy/aws-s3 does); SeaweedFS checks each signature, /complete the result --


def signed(caller: Caller, upload_id: str, operation: str) -> dict[str, Any]:
    response = caller.sign(upload_id, {"operation": operation})
    assert response["statusCode"] == 200, response["body"]
    return dict(body(response))


def send(request: dict[str, Any], data: bytes | None = None) -> requests.Response:
    return requests.request(
        request["method"], request["url"], data=data, headers=request["headers"], timeout=30
    )


def completion_xml(etags: list[str]) -> bytes:
    # What @uppy/aws-s3 sends (S3mini._buildCompleteMultipartUploadXml)
    parts = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in enumerate(etags, 1)
    )
    return f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()


def test_a_client_lists_and_completes_itself_and_the_service_verifies_it(caller: Caller, admin: Any) -> None:
    # Given every part stored through its URL
    granted = begin(caller)
    etags = [upload_part(part) for part in granted["multipart"]["parts"]]

    # When the client lists the parts with a signed ListParts ...
    listed = send(signed(caller, granted["upload_id"], "list_parts"))
    assert listed.status_code == 200, listed.text
    assert re.findall(r"<PartNumber>(\d+)</PartNumber>", listed.text) == ["1", "2", "3"], listed.text
    # ... and assembles them with a signed CompleteMultipartUpload
    assembled = send(signed(caller, granted["upload_id"], "complete_multipart_upload"), completion_xml(etags))
    assert assembled.status_code == 200, assembled.text
    assert granted["key"] in assembled.text, assembled.text

    # Then the upload is pending until /complete has compared the result, then complete
    assert body(caller.status(granted["upload_id"]))["status"] == "pending"
    done = caller.complete(granted["upload_id"])
    assert done["statusCode"] == 200, done["body"]
    assert (body(done)["status"], body(done)["size"]) == ("complete", len(CONTENT)), done["body"]
    fetched = admin.get_object(Bucket=BUCKET, Key=granted["key"])["Body"].read()
    assert hashlib.sha256(fetched).hexdigest() == hashlib.sha256(CONTENT).hexdigest(), len(fetched)


def test_a_client_that_assembles_fewer_parts_gets_422_and_no_object(caller: Caller, admin: Any) -> None:
    # Given all three parts stored
    granted = begin(caller)
    etags = [upload_part(part) for part in granted["multipart"]["parts"]]

    # When the client completes the storage upload with the first two only (S3 allows that)
    assembled = send(
        signed(caller, granted["upload_id"], "complete_multipart_upload"), completion_xml(etags[:2])
    )
    assert assembled.status_code == 200, assembled.text
    assert admin.head_object(Bucket=BUCKET, Key=granted["key"])["ContentLength"] == 2 * PART

    # Then /complete refuses it: the size is not the declared one, and the object goes
    refused = caller.complete(granted["upload_id"])
    assert refused["statusCode"] == 422, refused["body"]
    assert body(refused)["error"]["code"] == "upload_mismatch", refused["body"]
    assert "size" in body(refused)["error"]["message"], refused["body"]
    assert not exists(admin, granted["key"])
    assert body(caller.status(granted["upload_id"]))["status"] == "rejected"


def test_a_signed_abort_ends_the_storage_upload(caller: Caller, admin: Any) -> None:
    granted = begin(caller)
    upload_part(granted["multipart"]["parts"][0])

    aborted = send(signed(caller, granted["upload_id"], "abort_multipart_upload"))

    assert aborted.status_code == 204, aborted.text
    assert admin.list_multipart_uploads(Bucket=BUCKET, Prefix=granted["key"]).get("Uploads", []) == []
    # nothing can be completed from it any more
    gone = caller.complete(granted["upload_id"])
    assert (gone["statusCode"], body(gone)["error"]["code"]) == (410, "upload_gone"), gone["body"]


def test_each_url_is_that_one_request_on_that_one_upload(caller: Caller) -> None:
    # Given two pending uploads and a signed ListParts for the first
    first, second = begin(caller), begin(caller)
    listing = signed(caller, first["upload_id"], "list_parts")
    other_id = re.search(r"uploadId=([^&]+)", second["multipart"]["parts"][0]["url"])
    assert other_id is not None

    # When the URL is sent with another method, or pointed at the other upload, SeaweedFS refuses it
    as_abort = requests.delete(listing["url"], timeout=30)
    elsewhere = requests.get(
        re.sub(r"uploadId=[^&]+", f"uploadId={other_id.group(1)}", listing["url"]), timeout=30
    )

    # Then both are refused by the storage's signature check
    assert as_abort.status_code == 403, (as_abort.status_code, as_abort.text)
    assert elsewhere.status_code == 403, (elsewhere.status_code, elsewhere.text)
    assert send(listing).status_code == 200
