"""S3 control calls (HEAD, DELETE, multipart) through boto3's S3 client, one client per target.

**Imported lazily.** Importing boto3 and building a client costs ~150 ms of a cold start; the
functions serving ``POST /uploads`` and ``POST /downloads`` never call S3 and never import this
module's boto3 (``tests/integration/test_lifecycle_http.py`` checks that in a fresh interpreter).
The lifecycle function imports it on the first request that talks to the storage (a completion, a
delete, the status of a pending multipart upload); the uploads function on its first multipart
creation (CreateMultipartUpload). A single upload's status or a list never does.

**Configured per target**: its endpoint, region and addressing style, and its own credentials
(``presign.adapters.credentials``: the role, a secret, a parameter), resolved per call and cached by
value, so a rotated secret gets a new client. ``request_checksum_calculation`` and
``response_checksum_validation`` are the provider profile's ``sdk_checksums``
(``presign.config.providers``): ``when_required`` everywhere but AWS, since botocore 1.36+ otherwise adds
CRC32 checksums that many S3-compatible stores reject (none of the calls made here carry a body
checksum on AWS either: their operations have no ``httpChecksum`` request algorithm). Short timeouts (1 s to connect, 3 s to read)
and two attempts in standard retry mode keep a sick store from eating Lambda's 6 s.

**Errors**, translated here and nowhere else:

* HEAD 404 is "no object". HEAD 403 is treated the same, with a warning in the log: S3 answers
  403 instead of 404 for a missing object when the caller may not ``s3:ListBucket``, and the
  lifecycle function's role deliberately may not (it may only read, HEAD and delete objects).
  A completion then says ``not_uploaded``, never ``complete``: wrong credentials cannot make a
  record claim anything;
* ``NoSuchUpload`` (a multipart upload completed or aborted) is an outcome: ``list_parts`` answers
  None, ``complete_multipart`` False, ``abort_multipart`` succeeds;
* CompleteMultipartUpload's ``InvalidPart``, ``InvalidPartOrder`` and ``EntityTooSmall`` are
  ``PartsMismatch`` (422): the store refused the list, nothing was completed;
* connection failures, timeouts, 5xx, throttling (``SlowDown``) and any other refusal are
  ``DependencyUnavailable`` (503 with ``Retry-After``), with the cause in ``details["reason"]``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from presign.adapters.credentials import resolve_credentials
from presign.cleanup.ports import StorageUpload
from presign.config.providers import SdkChecksums, profile_of
from presign.config.target import Target
from presign.errors import DependencyUnavailable, PartsMismatch
from presign.signing.sigv4 import SigningCredentials
from presign.uploads.multipart.checks import StoredPart
from presign.uploads.verification import ObjectFacts

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 3.0
MAX_ATTEMPTS = 2
MAX_POOL_CONNECTIONS = 10
RETRY_AFTER_SECONDS = 2
_MISSING = frozenset(("404", "NoSuchKey", "NotFound"))
_NO_UPLOAD = "NoSuchUpload"
_REFUSED_PARTS = frozenset(("InvalidPart", "InvalidPartOrder", "EntityTooSmall"))
# ListParts answers at most 1,000 parts a page on AWS (SeaweedFS up to 10,000 unless asked for
# fewer: asking for 1,000 everywhere makes the real-server test page like AWS); a plan has at
# most 10,000 parts.
PARTS_PER_PAGE = 1000
MAX_LIST_PAGES = 11
# ListMultipartUploads answers at most 1,000 uploads a page (AWS); asked for 1,000 everywhere.
UPLOADS_PER_PAGE = 1000
_log = logging.getLogger(__name__)


# The longest one call of the default client may wait: every attempt connecting and reading
# (botocore's ``max_attempts`` counts retries, so a call makes ``MAX_ATTEMPTS + 1`` attempts).
CALL_TIMEOUT_SECONDS = (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) * (MAX_ATTEMPTS + 1)


def capped_timeouts(connect: float, read: float, cap: float | None) -> tuple[float, float, int]:
    """(connect, read, attempts) whose sum is at most ``cap``: one attempt, a quarter to connect."""
    if cap is None or cap >= connect + read:
        return connect, read, 1
    connect = min(connect, cap / 4)
    return connect, min(read, cap - connect), 1


def make_client(target: Target, credentials: SigningCredentials, *, timeout: float | None = None) -> S3Client:
    """A boto3 S3 client for ``target`` (imports boto3: call it only when S3 must be called).

    ``timeout`` caps one call, connect and read together, by making one attempt only (the doctor's
    time budget, ``presign.doctor.budget``); without it a call may take ``CALL_TIMEOUT_SECONDS``."""
    checksums = profile_of(target).sdk_checksums
    connect, read, _ = capped_timeouts(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, timeout)
    retries: dict[str, Any] = (
        {"max_attempts": MAX_ATTEMPTS, "mode": "standard"}
        if timeout is None
        else {"total_max_attempts": 1, "mode": "standard"}
    )
    return s3_client(
        target,
        credentials,
        connect=connect,
        read=read,
        retries=retries,
        checksums=checksums,
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )


def s3_client(
    target: Target,
    credentials: SigningCredentials,
    *,
    connect: float,
    read: float,
    retries: dict[str, Any],
    checksums: SdkChecksums,
    **config: Any,
) -> S3Client:
    """A boto3 S3 client on the target's endpoint, region and addressing, with these timeouts,
    retries and checksum settings (``request_checksum_calculation`` and the response's alike)."""
    import boto3
    from botocore.config import Config

    client: S3Client = boto3.session.Session().client(
        "s3",
        endpoint_url=target.endpoint_url,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        config=Config(
            region_name=target.region,
            signature_version="s3v4",
            s3={"addressing_style": target.addressing_style},
            connect_timeout=connect,
            read_timeout=read,
            retries=retries,  # type: ignore[arg-type]
            request_checksum_calculation=checksums,
            response_checksum_validation=checksums,
            **config,
        ),
    )
    return client


def _translate(exc: Exception, operation: str) -> DependencyUnavailable:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        reason = str(exc.response.get("Error", {}).get("Code", "ClientError"))
    elif isinstance(exc, BotoCoreError):
        reason = type(exc).__name__
    else:
        reason = type(exc).__name__
    error = DependencyUnavailable(
        f"the storage did not answer the {operation}", retry_after=RETRY_AFTER_SECONDS
    )
    error.details["reason"] = reason
    return error


class S3ObjectStore:
    """``presign.uploads.ports.ObjectStore`` for one target's bucket."""

    def __init__(self, name: str, target: Target, environ: Mapping[str, str]) -> None:
        self.name = name
        self._target = target
        self._environ = environ
        self._lock = threading.Lock()
        self._cached: tuple[SigningCredentials, S3Client] | None = None

    def _client(self) -> S3Client:
        credentials = resolve_credentials(self._target.credentials, self._environ)
        with self._lock:
            if self._cached is None or self._cached[0] != credentials:
                self._cached = (credentials, make_client(self._target, credentials))
            return self._cached[1]

    def head(self, key: str, *, checksum: bool) -> ObjectFacts | None:
        from botocore.exceptions import BotoCoreError, ClientError

        extra: dict[str, Any] = {"ChecksumMode": "ENABLED"} if checksum else {}
        try:
            answer = self._client().head_object(Bucket=self._target.bucket, Key=key, **extra)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                return None
            if code in ("403", "Forbidden", "AccessDenied"):
                _log.warning("HEAD answered 403: a missing object, or credentials that may not read it")
                return None
            raise _translate(exc, "HEAD") from exc
        except BotoCoreError as exc:
            raise _translate(exc, "HEAD") from exc
        return ObjectFacts(
            size=int(answer.get("ContentLength", -1)),
            content_type=answer.get("ContentType"),
            etag=str(answer.get("ETag", "")),
            metadata=dict(answer.get("Metadata", {})),
            checksum_sha256=answer.get("ChecksumSHA256"),
        )

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().delete_object(Bucket=self._target.bucket, Key=key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                return
            raise _translate(exc, "DELETE") from exc
        except BotoCoreError as exc:
            raise _translate(exc, "DELETE") from exc

    def first_bytes(self, key: str, length: int) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client().get_object(
                Bucket=self._target.bucket, Key=key, Range=f"bytes=0-{length - 1}"
            )
            body = answer["Body"]
            try:
                return bytes(body.read(length))
            finally:
                body.close()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                return None
            if code == "InvalidRange":  # an empty object has no byte 0
                return b""
            raise _translate(exc, "GET") from exc
        except BotoCoreError as exc:
            raise _translate(exc, "GET") from exc

    # -- multipart ---------------------------------------------------------------------------

    def start_multipart(
        self, key: str, *, content_type: str, metadata: dict[str, str], checksums: bool
    ) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        extra: dict[str, Any] = {"ChecksumAlgorithm": "SHA256"} if checksums else {}
        try:
            answer = self._client().create_multipart_upload(
                Bucket=self._target.bucket, Key=key, ContentType=content_type, Metadata=metadata, **extra
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, "CreateMultipartUpload") from exc
        upload_id = answer.get("UploadId")
        if not upload_id:
            raise _translate(ValueError("no UploadId"), "CreateMultipartUpload")
        return str(upload_id)

    def list_parts(self, key: str, storage_upload_id: str) -> list[StoredPart] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        parts: list[StoredPart] = []
        marker: Any = None
        for _ in range(MAX_LIST_PAGES):
            extra: dict[str, Any] = {"PartNumberMarker": marker} if marker else {}
            try:
                answer = self._client().list_parts(
                    Bucket=self._target.bucket,
                    Key=key,
                    UploadId=storage_upload_id,
                    MaxParts=PARTS_PER_PAGE,
                    **extra,
                )
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code", "")) == _NO_UPLOAD:
                    return None
                raise _translate(exc, "ListParts") from exc
            except BotoCoreError as exc:
                raise _translate(exc, "ListParts") from exc
            parts.extend(
                StoredPart(
                    part_number=int(part.get("PartNumber", 0)),
                    size=int(part.get("Size", -1)),
                    etag=str(part.get("ETag", "")),
                    checksum_sha256=part.get("ChecksumSHA256"),
                )
                for part in answer.get("Parts", [])
            )
            marker = answer.get("NextPartNumberMarker")
            if not answer.get("IsTruncated") or not marker:
                break
        else:
            raise _translate(ValueError("too many ListParts pages"), "ListParts")
        return parts

    def complete_multipart(self, key: str, storage_upload_id: str, parts: list[StoredPart]) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        listed: list[dict[str, Any]] = [{"PartNumber": part.part_number, "ETag": part.etag} for part in parts]
        for entry, part in zip(listed, parts, strict=True):
            if part.checksum_sha256 is not None:
                entry["ChecksumSHA256"] = part.checksum_sha256
        try:
            self._client().complete_multipart_upload(
                Bucket=self._target.bucket,
                Key=key,
                UploadId=storage_upload_id,
                MultipartUpload={"Parts": listed},  # type: ignore[typeddict-item]
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code == _NO_UPLOAD:
                return False
            if code in _REFUSED_PARTS:
                raise PartsMismatch(f"the storage refused the parts ({code}); nothing was completed") from exc
            raise _translate(exc, "CompleteMultipartUpload") from exc
        except BotoCoreError as exc:
            raise _translate(exc, "CompleteMultipartUpload") from exc
        return True

    def abort_multipart(self, key: str, storage_upload_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().abort_multipart_upload(
                Bucket=self._target.bucket, Key=key, UploadId=storage_upload_id
            )
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in (_NO_UPLOAD, *_MISSING):
                return
            raise _translate(exc, "AbortMultipartUpload") from exc
        except BotoCoreError as exc:
            raise _translate(exc, "AbortMultipartUpload") from exc

    def list_multipart(self, prefix: str) -> Iterator[StorageUpload]:
        """ListMultipartUploads under ``prefix``, every page.

        Each page is continued with exactly the markers it answered: AWS gives ``NextKeyMarker``
        and ``NextUploadIdMarker`` (one key can have many uploads, so a page may end inside one
        key's list); SeaweedFS lists by upload id and gives only ``NextUploadIdMarker`` (a
        ``KeyMarker`` of the last key would skip what sorts before it).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        markers: dict[str, Any] = {}
        while True:
            try:
                answer = self._client().list_multipart_uploads(
                    Bucket=self._target.bucket, Prefix=prefix, MaxUploads=UPLOADS_PER_PAGE, **markers
                )
            except (ClientError, BotoCoreError) as exc:
                raise _translate(exc, "ListMultipartUploads") from exc
            for upload in answer.get("Uploads", []):
                initiated = upload.get("Initiated")
                key, upload_id = upload.get("Key"), upload.get("UploadId")
                if not key or not upload_id or initiated is None:
                    continue
                yield StorageUpload(
                    key=str(key), upload_id=str(upload_id), initiated=int(initiated.timestamp())
                )
            if not answer.get("IsTruncated"):
                return
            following: dict[str, Any] = {
                name: str(value)
                for name, value in (
                    ("KeyMarker", answer.get("NextKeyMarker")),
                    ("UploadIdMarker", answer.get("NextUploadIdMarker")),
                )
                if value
            }
            if not following or following == markers:
                raise _translate(ValueError("ListMultipartUploads did not advance"), "ListMultipartUploads")
            markers = following
