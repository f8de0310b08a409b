"""The seaweedfs profile's claims, judged by SeaweedFS itself (started with an identities file).

The target names only ``provider``, its endpoint and bucket: region and addressing style come from
the profile. What the profile says SeaweedFS can do (POST forms, x-amz-checksum-sha256, If-None-Match)
is signed and enforced by the server; a wrong profile default (region, style) fails the signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from local.servers import SeaweedFS
from presign.config.providers import PROFILES
from tests.integration.conftest import Client
from tests.realserver.conftest import ACCESS_KEY, BUCKET, SECRET_KEY
from tests.realserver.test_presigned_urls import CONTENT, download_url, grant_for, post_form, put
from tests.support.functions import function_env, load_function, settings_document

pytestmark = pytest.mark.realserver


@pytest.fixture
def profiled(seaweed: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Client]:
    def make(name: str, **upload: Any) -> Client:
        document = settings_document(endpoint_url=seaweed.endpoint_url, bucket=BUCKET)
        target = document["targets"]["main"]
        del target["region"], target["addressing_style"]  # the profile's to fill
        target.update(provider="seaweedfs", upload={"content_types": ["text/*"], **upload})
        env = function_env(document, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        return Client(load_function(name, monkeypatch, env))

    return make


def test_the_profile_claims_what_these_tests_exercise() -> None:
    caps = PROFILES["seaweedfs"].capabilities
    assert caps.post_uploads and caps.checksum_sha256 and caps.conditional_writes


def test_a_put_with_checksum_and_no_overwrite_is_enforced_by_the_server(
    profiled: Callable[..., Client],
) -> None:
    uploads, downloads = profiled("uploads", no_overwrite=True), profiled("downloads")
    digest = base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()

    grant = grant_for(uploads, checksum_sha256=digest)
    wrong = put(grant, CONTENT[:-1] + b"?")
    first = put(grant, CONTENT)
    replay = put(grant, CONTENT)
    fetched = requests.get(download_url(downloads, grant["key"]), timeout=10)

    assert "X-Amz-Credential=" in grant["url"] and "%2Fus-east-1%2Fs3%2F" in grant["url"], grant["url"]
    assert wrong.status_code == 400, wrong.text
    assert first.status_code == 200, first.text
    assert replay.status_code == 412, replay.text
    assert fetched.status_code == 200 and fetched.content == CONTENT, fetched.text


def test_a_post_form_is_accepted_by_the_server(profiled: Callable[..., Client]) -> None:
    uploads, downloads = profiled("uploads"), profiled("downloads")

    grant = grant_for(uploads, method="POST")
    posted = post_form(grant, CONTENT)
    fetched = requests.get(download_url(downloads, grant["key"]), timeout=10)

    assert posted.status_code in (200, 204), posted.text
    assert fetched.content == CONTENT, fetched.text


def test_part_checksums_are_not_refused_for_the_provider(profiled: Callable[..., Client]) -> None:
    uploads = profiled("uploads")

    response = uploads.post(
        "/uploads",
        {"filename": "big.txt", "content_type": "text/plain", "size": 6 * 1024**2, "multipart": True,
         "part_checksums": True},
    )  # fmt: skip
    body = json.loads(response["body"])

    # Upload records are off in this document, so multipart stops there; it is not refused for
    # the provider (the profile leaves upload.multipart.checksums on).
    assert response["statusCode"] == 422 and body["error"]["code"] == "multipart_unsupported", body
