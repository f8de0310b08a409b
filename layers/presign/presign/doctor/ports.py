"""What the doctor needs of the world, and the answers it reads: a plain HTTP request (``Send``,
what a browser or ``curl`` does with a presigned URL) and the bucket-level S3 calls
(``Inspector``). ``presign.adapters.plain_http`` and ``presign.adapters.s3_doctor`` implement
them; ``presign.bootstrap.doctor`` hands them over; tests use fakes. A refusal is an answer, never
an exception: for the doctor it is the finding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# How long a probe request (plain HTTP) and a bucket-level call may wait, uncapped: the time
# budget (``presign.doctor.budget``) caps both by the time left. The storage's is the service's S3
# client's ((1 s to connect + 3 s to read) x 3 attempts, ``presign.adapters.s3_control``), which
# ``presign.bootstrap.doctor`` hands over (a unit test holds the two equal).
HTTP_TIMEOUT_SECONDS = 10.0
STORAGE_TIMEOUT_SECONDS = 12.0
_CODE = re.compile(rb"<Code>([^<]{1,128})</Code>")
_MESSAGE = re.compile(rb"<Message>([^<]{0,512})</Message>")


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A plain HTTP answer. Only the S3 error ``Code`` and ``Message`` are read from an error
    body; the rest (which can echo the string to sign) is never shown."""

    status: int  # 0: nothing answered (``reason`` says why)
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    body: bytes = b""
    reason: str = ""

    @property
    def code(self) -> str:
        found = _CODE.search(self.body) if self.status >= 300 else None
        return found.group(1).decode("utf-8", "replace") if found else ""

    @property
    def message(self) -> str:
        found = _MESSAGE.search(self.body) if self.status >= 300 else None
        return found.group(1).decode("utf-8", "replace") if found else ""

    def brief(self) -> str:
        """``HTTP 403 SignatureDoesNotMatch: ...`` (never the URL)."""
        if self.status == 0:
            return f"no answer ({self.reason})"
        detail = ": ".join(p for p in (self.code, self.message) if p)
        return f"HTTP {self.status}" + (f" {detail}" if detail else "")


@dataclass(frozen=True, slots=True)
class StorageAnswer:
    """A bucket-level call's answer: status, S3 error code, message, and the parsed payload."""

    status: int  # HTTP status; 0 when nothing answered
    code: str = ""  # the S3 error code, "" on success
    message: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def brief(self) -> str:
        if self.status == 0:
            return f"no answer ({self.code}: {self.message})"
        detail = ": ".join(p for p in (self.code, self.message) if p and p != str(self.status))
        return f"HTTP {self.status}" + (f" {detail}" if detail else "")


class Send(Protocol):
    def __call__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = ...,
        body: bytes | None = ...,
        timeout: float = ...,
    ) -> HttpAnswer: ...


class Inspector(Protocol):
    """One target's bucket, as the doctor sees it with the credentials it was given."""

    def checksum_settings(self) -> tuple[str, str]: ...
    def head_bucket(self) -> StorageAnswer: ...
    def get_object(self, key: str) -> StorageAnswer: ...
    def put_object(self, key: str, body: bytes) -> StorageAnswer: ...
    def cors(self) -> StorageAnswer: ...
    def lifecycle(self) -> StorageAnswer: ...
    def notifications(self) -> StorageAnswer: ...
    def start_multipart(self, key: str, content_type: str) -> StorageAnswer: ...
    def list_parts(self, key: str, upload_id: str) -> StorageAnswer: ...
    def abort_multipart(self, key: str, upload_id: str) -> StorageAnswer: ...
    def delete(self, key: str) -> StorageAnswer: ...
    def sdk_default_put(self, key: str, body: bytes) -> StorageAnswer: ...
    def capped(self, seconds: float) -> Inspector: ...
