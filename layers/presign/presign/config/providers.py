"""What each S3-compatible provider can and cannot do, and the defaults it wants.

A target names its ``provider`` (``"aws"`` without an ``endpoint_url``, ``"generic"`` with one, if
it names none). The profile fills what the target leaves out: the endpoint (from a template such
as R2's ``https://{account_id}.r2.cloudflarestorage.com`` or Wasabi's per-region host), the
region convention (R2's ``auto``), the addressing style, and the upload methods and part
checksums the provider supports. Whatever the target says explicitly wins.

A target that explicitly asks for what its provider cannot do stops at cold start with the field
named (``targets.r2.upload.methods: R2 does not support POST uploads``); a request that would need
it is refused with 422 ``unsupported_by_provider`` (both in ``presign.config.capabilities``). The
doctor (``presign.doctor``) reads the capabilities no configuration field names (lifecycle rules,
the bucket CORS API) to decide what to check and what to warn about.

Each profile cites the provider's documentation. Where the documentation does not settle a
capability the comment says "unverified" and the profile takes the conservative value: the
capability is off (a request for it is refused instead of signed and silently ignored), the
expiry is one day. ``generic`` is the exception: an endpoint we know nothing about keeps every
capability on, as before profiles existed, so that a working configuration keeps working; the
doctor is there to check it.

``python -m local.providers_table --markdown`` prints the table of providers in docs/providers.md.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, Protocol

from presign.limits import DAY, MAX_PRESIGN_EXPIRY, MIN_PART_SIZE

__all__ = ["PROFILES", "PROVIDERS", "Capabilities", "Profile", "Provided", "ProviderName", "profile_of"]

WEEK = MAX_PRESIGN_EXPIRY  # SigV4's own limit on a presigned URL's lifetime

ProviderName = Literal[
    "aws", "r2", "minio", "seaweedfs", "filebase", "b2", "wasabi", "spaces", "gcs", "qencode", "ibee",
    "generic",
]  # fmt: skip
PROVIDERS: tuple[ProviderName, ...] = (
    "aws", "r2", "minio", "seaweedfs", "filebase", "b2", "wasabi", "spaces", "gcs", "qencode", "ibee", "generic"
)  # fmt: skip
SdkChecksums = Literal["when_supported", "when_required"]


@dataclass(frozen=True)
class Capabilities:
    post_uploads: bool  # POST policy (browser form) uploads
    multipart: bool
    min_part_size: int  # bytes, every part but the last
    equal_parts: bool  # every part but the last must have the same size (R2)
    max_parts: int
    max_expiry: int  # seconds a presigned URL may live
    checksum_sha256: bool  # accepts (and verifies) x-amz-checksum-sha256 on PUT and parts
    conditional_writes: bool  # honours If-None-Match: * on PUT
    lifecycle_abort_multipart: bool  # honours AbortIncompleteMultipartUpload lifecycle rules
    bucket_cors_api: bool  # GetBucketCors / PutBucketCors work


@dataclass(frozen=True)
class Profile:
    name: ProviderName
    title: str
    docs: str  # the provider's S3-compatibility documentation
    # scheme://host, with {region} and/or {account_id} filled from the target; None: the target
    # gives endpoint_url itself (self-hosted), or AWS's regional endpoint is derived from region.
    endpoint_template: str | None
    default_region: str | None  # None: the target must name one (it is part of the endpoint)
    addressing_style: Literal["path", "virtual"]
    capabilities: Capabilities
    # What boto3 >= 1.36 must be told (request_checksum_calculation / response_checksum_validation):
    # its default "when_supported" adds CRC32 checksums that many providers reject.
    sdk_checksums: SdkChecksums
    # Whether a target of this provider must give endpoint_url (no template can make it).
    needs_endpoint: bool = False
    # What account_id means for this provider's template, for messages.
    account_id_means: str = "account id"

    def placeholders(self) -> tuple[str, ...]:
        if self.endpoint_template is None:
            return ()
        return tuple(f for _, f, _, _ in string.Formatter().parse(self.endpoint_template) if f)


# Every part but the last at least 5 MiB, at most 10,000 parts, URLs up to 7 days: S3's own rules,
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
_S3_LIKE = Capabilities(
    post_uploads=True,
    multipart=True,
    min_part_size=MIN_PART_SIZE,
    equal_parts=False,
    max_parts=10_000,
    max_expiry=WEEK,
    checksum_sha256=True,
    conditional_writes=True,
    lifecycle_abort_multipart=True,
    bucket_cors_api=True,
)
# What an unverified provider is assumed to do: PUT and multipart (every provider here documents
# both), nothing more; URLs for at most a day.
_CONSERVATIVE = Capabilities(
    post_uploads=False,
    multipart=True,
    min_part_size=MIN_PART_SIZE,
    equal_parts=False,
    max_parts=10_000,
    max_expiry=DAY,
    checksum_sha256=False,
    conditional_writes=False,
    lifecycle_abort_multipart=False,
    bucket_cors_api=False,
)


def _caps(base: Capabilities, **changes: Any) -> Capabilities:
    from dataclasses import replace

    return replace(base, **changes)


_PROFILES: tuple[Profile, ...] = (
    # AWS S3: everything. Conditional writes (If-None-Match on PutObject) since August 2024,
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html ; checksums,
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html .
    # The SDK's default checksums are AWS's own feature: leave them on.
    Profile(
        name="aws",
        title="AWS S3",
        docs="https://docs.aws.amazon.com/AmazonS3/latest/userguide/",
        endpoint_template=None,  # the regional endpoint, https://s3.{region}.amazonaws.com
        default_region="us-east-1",
        addressing_style="virtual",
        capabilities=_S3_LIKE,
        sdk_checksums="when_supported",
    ),
    # Cloudflare R2, https://developers.cloudflare.com/r2/api/s3/api/ : endpoint
    # https://<ACCOUNT_ID>.r2.cloudflarestorage.com, region "auto" ("us-east-1" and empty alias to
    # it); PostObject is not implemented (uploads answer 501). SHA-256 checksums are listed for
    # COMPOSITE (multipart) objects; on PutObject unverified, so off.
    # Multipart, https://developers.cloudflare.com/r2/objects/multipart-objects/ : parts 5 MiB to
    # 5 GiB, "all parts except the last one must be the same size", 10,000 parts at most;
    # incomplete uploads are aborted after 7 days by default, and lifecycle rules can change it
    # (https://developers.cloudflare.com/r2/buckets/object-lifecycles/).
    # Presigned URLs from 1 second to 7 days, https://developers.cloudflare.com/r2/api/s3/presigned-urls/
    # PutObject honours If-None-Match: * (https://developers.cloudflare.com/r2/api/s3/conditional-operations/).
    # CORS via PutBucketCors is listed as implemented. Path style: virtual hosts need a custom
    # domain per bucket.
    Profile(
        name="r2",
        title="Cloudflare R2",
        docs="https://developers.cloudflare.com/r2/api/s3/api/",
        endpoint_template="https://{account_id}.r2.cloudflarestorage.com",
        default_region="auto",
        addressing_style="path",
        capabilities=_caps(
            _CONSERVATIVE,
            equal_parts=True,
            max_expiry=WEEK,
            conditional_writes=True,
            lifecycle_abort_multipart=True,
            bucket_cors_api=True,
        ),
        sdk_checksums="when_required",
    ),
    # MinIO, https://min.io/docs/minio/linux/reference/s3-api-compatibility.html : self-hosted, so
    # endpoint_url is the target's; path style (virtual hosts need MINIO_DOMAIN); region us-east-1
    # unless the server sets another. POST policy and checksums are supported; If-None-Match: * on
    # PutObject since 2024 (https://blog.min.io/leading-the-way-minios-conditional-write-feature-for-modern-data-workloads/,
    # minio/minio#20346).
    # AbortIncompleteMultipartUpload in a lifecycle rule is NOT honoured (minio/minio#16120, and
    # minio/docs#1216): MinIO drops stale uploads itself after api.stale_uploads_expiry (24 h).
    # Bucket CORS is server-wide (api.cors_allow_origin), not PutBucketCors: off.
    Profile(
        name="minio",
        title="MinIO",
        docs="https://min.io/docs/minio/linux/reference/s3-api-compatibility.html",
        endpoint_template=None,
        default_region="us-east-1",
        addressing_style="path",
        capabilities=_caps(_S3_LIKE, lifecycle_abort_multipart=False, bucket_cors_api=False),
        sdk_checksums="when_required",
        needs_endpoint=True,
    ),
    # SeaweedFS S3 gateway, https://github.com/seaweedfs/seaweedfs/wiki/Amazon-S3-API : what our
    # real-server tests exercise (tests/realserver): POST policy, x-amz-checksum-sha256 on parts,
    # If-None-Match, PutBucketCors (local/dev.py). Lifecycle is TTL expiry only;
    # AbortIncompleteMultipartUpload unverified, so off.
    Profile(
        name="seaweedfs",
        title="SeaweedFS",
        docs="https://github.com/seaweedfs/seaweedfs/wiki/Amazon-S3-API",
        endpoint_template=None,
        default_region="us-east-1",
        addressing_style="path",
        capabilities=_caps(_S3_LIKE, lifecycle_abort_multipart=False),
        sdk_checksums="when_required",
        needs_endpoint=True,
    ),
    # Filebase, https://docs.filebase.com/api-documentation/s3-compatible-api : one endpoint,
    # https://s3.filebase.com, region us-east-1, path style in its examples. POST policy,
    # checksums, conditional writes, lifecycle and the CORS API: unverified, so off.
    Profile(
        name="filebase",
        title="Filebase",
        docs="https://docs.filebase.com/api-documentation/s3-compatible-api",
        endpoint_template="https://s3.filebase.com",
        default_region="us-east-1",
        addressing_style="path",
        capabilities=_CONSERVATIVE,
        sdk_checksums="when_required",
    ),
    # Backblaze B2, https://www.backblaze.com/docs/cloud-storage-call-the-s3-compatible-api :
    # endpoint https://s3.<region>.backblazeb2.com, the region (e.g. us-west-004) is the
    # account's and must be given; both virtual and path style work; SigV4 only. PostObject is
    # not supported (transloadit/uppy#5052). Rejects the SDK's default checksum headers
    # ("Unsupported header 'x-amz-sdk-checksum-algorithm'", boto/s3transfer#327). CORS rules via
    # PutBucketCors are documented; B2 lifecycle rules are its own (hide/delete files), and
    # AbortIncompleteMultipartUpload, checksums and If-None-Match are unverified, so off.
    # Presigned URLs up to 7 days (the SigV4 limit, in Backblaze's presigned-URL examples).
    Profile(
        name="b2",
        title="Backblaze B2",
        docs="https://www.backblaze.com/docs/cloud-storage-s3-compatible-api",
        endpoint_template="https://s3.{region}.backblazeb2.com",
        default_region=None,
        addressing_style="virtual",
        capabilities=_caps(_CONSERVATIVE, max_expiry=WEEK, bucket_cors_api=True),
        sdk_checksums="when_required",
    ),
    # Wasabi, https://docs.wasabi.com/docs/what-are-the-service-urls-for-wasabi-s-different-storage-regions :
    # https://s3.<region>.wasabisys.com (us-east-1 is also s3.wasabisys.com). Both styles work and
    # Wasabi recommends path style (https://docs.wasabi.com/docs/rest-api-introduction).
    # Presigned URLs up to 7 days,
    # https://docs.wasabi.com/docs/how-do-i-generate-pre-signed-urls-for-temporary-access-with-wasabi
    # POST policy, checksums, conditional writes, lifecycle and the CORS API: unverified, so off.
    Profile(
        name="wasabi",
        title="Wasabi",
        docs="https://docs.wasabi.com/docs/rest-api-introduction",
        endpoint_template="https://s3.{region}.wasabisys.com",
        default_region="us-east-1",
        addressing_style="path",
        capabilities=_caps(_CONSERVATIVE, max_expiry=WEEK),
        sdk_checksums="when_required",
    ),
    # DigitalOcean Spaces, https://docs.digitalocean.com/reference/api/spaces/ : endpoint
    # https://<region>.digitaloceanspaces.com (nyc3, ams3, sfo3, ...), virtual style. The CORS API
    # is documented there (PutBucketCors); POST policy, checksums, conditional writes and
    # AbortIncompleteMultipartUpload: unverified, so off.
    Profile(
        name="spaces",
        title="DigitalOcean Spaces",
        docs="https://docs.digitalocean.com/reference/api/spaces/",
        endpoint_template="https://{region}.digitaloceanspaces.com",
        default_region=None,
        addressing_style="virtual",
        capabilities=_caps(_CONSERVATIVE, bucket_cors_api=True),
        sdk_checksums="when_required",
    ),
    # Google Cloud Storage's XML API with HMAC keys,
    # https://cloud.google.com/storage/docs/interoperability : https://storage.googleapis.com,
    # region "auto"; V4 signed URLs live at most 7 days
    # (https://cloud.google.com/storage/docs/access-control/signed-urls). XML multipart uploads
    # exist (https://cloud.google.com/storage/docs/multipart-uploads); x-amz-checksum-*,
    # If-None-Match, POST policy with AWS4 fields, S3 lifecycle and CORS calls: unverified, so off.
    Profile(
        name="gcs",
        title="Google Cloud Storage (XML API)",
        docs="https://cloud.google.com/storage/docs/interoperability",
        endpoint_template="https://storage.googleapis.com",
        default_region="auto",
        addressing_style="path",
        capabilities=_caps(_CONSERVATIVE, max_expiry=WEEK),
        sdk_checksums="when_required",
    ),
    # Qencode S3, https://docs.qencode.com/tutorials/media-storage/qencode-s3/using-qencode-s3/ :
    # https://<region>.s3.qencode.com/<bucket>/<path> (path style), regions us-west and
    # eu-central, HTTPS only. Everything beyond PUT and multipart: unverified, so off.
    Profile(
        name="qencode",
        title="Qencode S3",
        docs="https://docs.qencode.com/tutorials/media-storage/qencode-s3/using-qencode-s3/",
        endpoint_template="https://{region}.s3.qencode.com",
        default_region=None,
        addressing_style="path",
        capabilities=_CONSERVATIVE,
        sdk_checksums="when_required",
    ),
    # IBEE Object Storage, https://ibee.ai/docs/infrastructure/object-storage/core-concepts :
    # https://{project_id}.blob.ibeestorage.com (the project id goes in account_id). Its docs
    # describe lifecycle rules that abort stale uploads and bucket CORS, but through the portal;
    # over the S3 API, and the region its SigV4 scope expects: unverified (us-east-1, path style,
    # everything beyond PUT and multipart off).
    Profile(
        name="ibee",
        title="IBEE Object Storage",
        docs="https://ibee.ai/docs/infrastructure/object-storage/core-concepts",
        endpoint_template="https://{account_id}.blob.ibeestorage.com",
        default_region="us-east-1",
        addressing_style="path",
        capabilities=_CONSERVATIVE,
        sdk_checksums="when_required",
        account_id_means="project id",
    ),
    # Any other S3-compatible endpoint: we know nothing, so we refuse nothing and keep the defaults
    # the service always had (virtual style where the bucket allows it, us-east-1). The doctor
    # checks what it can; turn off what the store lacks (upload.methods, multipart.checksums).
    # What it is held to is the S3 API itself, https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html
    Profile(
        name="generic",
        title="Other S3-compatible",
        docs="https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html",
        endpoint_template=None,
        default_region="us-east-1",
        addressing_style="virtual",
        capabilities=_S3_LIKE,
        sdk_checksums="when_required",
        needs_endpoint=True,
    ),
)

PROFILES: Mapping[str, Profile] = MappingProxyType({p.name: p for p in _PROFILES})


class Provided(Protocol):
    """A target, as far as its provider goes (``presign.config.target.Target``)."""

    @property
    def provider(self) -> str: ...


def profile_of(target: Provided) -> Profile:
    return PROFILES[target.provider]
