"""The bucket-level S3 calls of ``presign.doctor`` (its ``Inspector``), through boto3 like every control call.

Each answers a ``StorageAnswer`` (status, S3 error code, message, and the parsed payload) instead
of raising, since for the doctor a refusal is the finding: botocore's errors stop here. The
client is the service's own (``presign.adapters.s3_control.make_client``: same endpoint, region,
addressing and checksum settings), except for ``sdk_default_put``, which on purpose uses
botocore's defaults to find out whether the provider takes the checksums boto3 >= 1.36 adds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from presign.adapters.s3_control import CALL_TIMEOUT_SECONDS, capped_timeouts, make_client, s3_client
from presign.config.target import Target
from presign.doctor.ports import StorageAnswer
from presign.signing.sigv4 import SigningCredentials

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The longest one call may wait, uncapped (``sdk_default_put``'s own client waits less).
TIMEOUT_SECONDS = CALL_TIMEOUT_SECONDS


def _call(operation: Callable[[], Any]) -> StorageAnswer:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = dict(operation())
    except ClientError as exc:
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        return StorageAnswer(
            status=int(meta.get("HTTPStatusCode", 0)),
            code=str(error.get("Code", "")),
            message=str(error.get("Message", "")),
            headers=dict(meta.get("HTTPHeaders", {})),
        )
    except BotoCoreError as exc:
        return StorageAnswer(status=0, code=type(exc).__name__, message=str(exc))
    meta = answer.pop("ResponseMetadata", {})
    return StorageAnswer(
        status=int(meta.get("HTTPStatusCode", 200)), headers=dict(meta.get("HTTPHeaders", {})), data=answer
    )


class BucketInspector:
    """The doctor's view of one target's bucket, with the credentials it was given."""

    def __init__(
        self, target: Target, credentials: SigningCredentials, *, timeout: float | None = None
    ) -> None:
        self._target = target
        self._credentials = credentials
        self._timeout = timeout
        self._client: S3Client | None = None

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = make_client(self._target, self._credentials, timeout=self._timeout)
        return self._client

    def capped(self, seconds: float) -> BucketInspector:
        """The same view, each call (connect and read, one attempt) waiting at most ``seconds``."""
        return BucketInspector(self._target, self._credentials, timeout=seconds)

    def checksum_settings(self) -> tuple[str, str]:
        """(request_checksum_calculation, response_checksum_validation) of the service's client."""
        config = self.client.meta.config
        return (
            str(getattr(config, "request_checksum_calculation", "")),
            str(getattr(config, "response_checksum_validation", "")),
        )

    def head_bucket(self) -> StorageAnswer:
        return _call(lambda: self.client.head_bucket(Bucket=self._target.bucket))

    def get_object(self, key: str) -> StorageAnswer:
        """A GET answers an error code in its body, which a HEAD cannot: the diagnosis of a 403."""
        answer = _call(lambda: self.client.get_object(Bucket=self._target.bucket, Key=key))
        body = answer.data.get("Body")
        if body is not None:
            body.close()
        return answer

    def put_object(self, key: str, body: bytes) -> StorageAnswer:
        return _call(lambda: self.client.put_object(Bucket=self._target.bucket, Key=key, Body=body))

    def cors(self) -> StorageAnswer:
        return _call(lambda: self.client.get_bucket_cors(Bucket=self._target.bucket))

    def lifecycle(self) -> StorageAnswer:
        return _call(lambda: self.client.get_bucket_lifecycle_configuration(Bucket=self._target.bucket))

    def notifications(self) -> StorageAnswer:
        return _call(lambda: self.client.get_bucket_notification_configuration(Bucket=self._target.bucket))

    def start_multipart(self, key: str, content_type: str) -> StorageAnswer:
        return _call(
            lambda: self.client.create_multipart_upload(
                Bucket=self._target.bucket,
                Key=key,
                ContentType=content_type,
            )
        )

    def list_parts(self, key: str, upload_id: str) -> StorageAnswer:
        return _call(lambda: self.client.list_parts(Bucket=self._target.bucket, Key=key, UploadId=upload_id))

    def abort_multipart(self, key: str, upload_id: str) -> StorageAnswer:
        return _call(
            lambda: self.client.abort_multipart_upload(
                Bucket=self._target.bucket, Key=key, UploadId=upload_id
            )
        )

    def delete(self, key: str) -> StorageAnswer:
        return _call(lambda: self.client.delete_object(Bucket=self._target.bucket, Key=key))

    def sdk_default_put(self, key: str, body: bytes) -> StorageAnswer:
        """A PutObject from a client with botocore's checksum defaults (``when_supported``)."""
        connect, read, _ = capped_timeouts(2.0, 5.0, self._timeout)
        client = s3_client(
            self._target,
            self._credentials,
            connect=connect,
            read=read,
            retries={"total_max_attempts": 1},
            checksums="when_supported",
        )
        return _call(lambda: client.put_object(Bucket=self._target.bucket, Key=key, Body=body))
