"""Every provider profile's URLs are byte-identical to botocore's for the same settings.

The oracle of test_sigv4_oracle.py and test_multipart_oracle.py, extended over the profiles: each
target is settled by the configuration model (``provider`` plus what its endpoint needs, the rest
from the profile), its presigner is built the way the functions build it
(``SignerProvider.for_target``), and botocore gets the same region, endpoint and addressing style,
and the SDK checksum setting the profile tells boto3. GET, PUT and part URLs for every profile; a
POST form for every profile that supports one.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st

from presign.adapters.credentials import SignerProvider
from presign.config.providers import PROFILES, PROVIDERS
from presign.config.settings import parse_settings
from presign.config.target import Target
from presign.limits import MAX_PART_SIZE, MAX_PARTS
from presign.signing.context import SigningContext
from presign.uploads.multipart.urls import part_url
from tests.unit.test_multipart_oracle import checksums, upload_ids
from tests.unit.test_providers import AUTH, NEEDS
from tests.unit.test_sigv4_oracle import (
    ACCESS_KEY,
    SECRET,
    _frozen,
    buckets,
    expiries,
    get_params,
    keys,
    moments,
    post_args,
    put_params,
)

PER_PROFILE = settings(max_examples=30, deadline=None, database=None)
ENVIRON = {"PRESIGN_S3_ACCESS_KEY_ID": ACCESS_KEY, "PRESIGN_S3_SECRET_ACCESS_KEY": SECRET}


@functools.cache
def _settled(provider: str) -> Target:
    body = {"provider": provider, "bucket": "acme-files", "credentials": {"source": "env"}, **NEEDS[provider]}
    document = {"default_target": "t", "targets": {"t": body}, "auth": AUTH}
    return parse_settings(json.dumps(document)).targets["t"]


@functools.cache
def _ours(provider: str) -> SigningContext:
    return SignerProvider(ENVIRON, lambda: datetime.now(UTC)).for_target("t", _settled(provider))


@functools.cache
def _oracle(provider: str) -> Any:
    target = _settled(provider)
    checksum = PROFILES[provider].sdk_checksums
    options: dict[str, Any] = {
        "signature_version": "s3v4",
        "request_checksum_calculation": checksum,
        "response_checksum_validation": checksum,
        "ignore_configured_endpoint_urls": True,
        "s3": {"addressing_style": target.addressing_style, "us_east_1_regional_endpoint": "regional"},
    }
    return boto3.session.Session().client(
        "s3",
        region_name=target.region,
        endpoint_url=target.endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        config=Config(**options),
    )


def test_the_settled_targets_are_the_profiles_own() -> None:
    # The oracle below compares what the profiles produce, so it must be fed what they produce.
    for provider in PROVIDERS:
        target = _settled(provider)
        assert target.provider == provider
        assert target.addressing_style == PROFILES[provider].addressing_style
        assert target.region == NEEDS[provider].get("region", PROFILES[provider].default_region)


@pytest.mark.parametrize("provider", PROVIDERS)
@PER_PROFILE
@given(bucket=buckets, key=keys, now=moments, expires_in=expiries, get=get_params())
def test_get_matches_botocore(
    provider: str,
    bucket: str,
    key: str,
    now: datetime,
    expires_in: int,
    get: tuple[dict[str, str], dict[str, str]],
) -> None:
    params, query = get
    with _frozen(now):
        expected = _oracle(provider).generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=expires_in
        )

    ours = _ours(provider).presigner.presign("GET", bucket, key, now=now, expires_in=expires_in, query=query)

    assert ours == expected


@pytest.mark.parametrize("provider", PROVIDERS)
@PER_PROFILE
@given(bucket=buckets, key=keys, now=moments, expires_in=expiries, put=put_params())
def test_put_matches_botocore(
    provider: str,
    bucket: str,
    key: str,
    now: datetime,
    expires_in: int,
    put: tuple[dict[str, Any], dict[str, str]],
) -> None:
    params, headers = put
    with _frozen(now):
        expected = _oracle(provider).generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=expires_in
        )

    ours = _ours(provider).presigner.presign(
        "PUT", bucket, key, now=now, expires_in=expires_in, headers=headers
    )

    assert ours == expected


@pytest.mark.parametrize("provider", PROVIDERS)
@PER_PROFILE
@given(
    bucket=buckets,
    key=keys,
    now=moments,
    expires_in=expiries,
    upload_id=upload_ids,
    part_number=st.integers(1, MAX_PARTS),
    size=st.integers(0, MAX_PART_SIZE),
    checksum=checksums,
)
def test_part_url_matches_botocore(
    provider: str,
    bucket: str,
    key: str,
    now: datetime,
    expires_in: int,
    upload_id: str,
    part_number: int,
    size: int,
    checksum: str | None,
) -> None:
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "UploadId": upload_id,
        "PartNumber": part_number,
        "ContentLength": size,
    }
    if checksum is not None:
        params["ChecksumSHA256"] = checksum
    with _frozen(now):
        expected = _oracle(provider).generate_presigned_url(
            "upload_part", Params=params, ExpiresIn=expires_in
        )

    ours = part_url(
        _ours(provider).presigner,
        bucket,
        key,
        storage_upload_id=upload_id,
        part_number=part_number,
        size=size,
        checksum_sha256=checksum,
        now=now,
        expires_in=expires_in,
    )

    assert ours == expected


WITH_POST = [name for name, profile in PROFILES.items() if profile.capabilities.post_uploads]


@pytest.mark.parametrize("provider", WITH_POST)
@PER_PROFILE
@given(bucket=buckets, key=keys, now=moments, expires_in=expiries, post=post_args())
def test_post_matches_botocore(
    provider: str,
    bucket: str,
    key: str,
    now: datetime,
    expires_in: int,
    post: tuple[dict[str, str] | None, list[dict[str, str] | list[str | int]] | None],
) -> None:
    fields, conditions = post
    with _frozen(now):
        expected = _oracle(provider).generate_presigned_post(
            bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )

    ours = _ours(provider).presigner.presign_post(
        bucket, key, now=now, expires_in=expires_in, fields=fields, conditions=conditions
    )

    assert ours.url == expected["url"]
    assert list(ours.fields.items()) == list(expected["fields"].items())  # order too: forms post in order


def test_every_profile_and_the_post_ones_are_covered() -> None:
    assert set(WITH_POST) == {"aws", "minio", "seaweedfs", "generic"}
    assert len(PROVIDERS) == 12
