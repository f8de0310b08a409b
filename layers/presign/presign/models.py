"""Request and response bodies of the HTTP API (the contract's field names are fixed).

Handlers validate input with these models (Powertools turns them into the OpenAPI document);
domain functions take them and return the output models.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from presign.config import MAX_PRESIGN_EXPIRY
from presign.multipart.models import MultipartGrant

# One source of truth for each rule below: the validator enforces the pattern with re.fullmatch,
# and the OpenAPI document publishes the same string as a JSON Schema "pattern". Each is anchored
# with ^...$ and written in the common subset of Python's and ECMA-262's regular expressions, so
# a client generator or fuzzer reads exactly the rule the server applies.

# type/subtype with optional parameters, separated by plain spaces only: no CR, LF, TAB or other
# control can reach a signed header or the POST policy.
CONTENT_TYPE_PATTERN = (
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]{0,126}"
    r'(?: *; *[A-Za-z0-9!#$&^_.+\-]+=(?:"[\x20\x21\x23-\x5b\x5d-\x7e]*"|[A-Za-z0-9!#$&^_.+\-]+))*$'
)
# The canonical base64 of 32 bytes: 43 characters, the last carrying 4 bits (so its two low bits
# are zero), then one "=".
CHECKSUM_SHA256_PATTERN = r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$"
METADATA_KEY_PATTERN = r"^[a-z0-9][a-z0-9\-]{0,63}$"
# Printable ASCII that starts and ends with a visible character: storage servers drop empty values
# and trim the ends of the others, so anything else would be signed but not come back as sent.
METADATA_VALUE_PATTERN = r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$"
# What a download key must look like to be signed (besides being under the caller's prefix and at
# most 1024 bytes of UTF-8): "/"-separated segments that are neither empty, "." nor "..", without
# backslashes or control characters; a trailing "/" is allowed. presign.downloads applies it per key.
_KEY_CHAR = r"[^/\\\x00-\x1f\x7f-\x9f]"
_KEY_CHAR_NOT_DOT = r"[^./\\\x00-\x1f\x7f-\x9f]"
_SEGMENT = rf"(?:{_KEY_CHAR_NOT_DOT}{_KEY_CHAR}*|\.{_KEY_CHAR_NOT_DOT}{_KEY_CHAR}*|\.\.{_KEY_CHAR}+)"
KEY_PATTERN = rf"^{_SEGMENT}(?:/{_SEGMENT})*/?$"

MAX_METADATA_BYTES = 2048  # S3's limit for all user metadata together
MAX_METADATA_ENTRIES = 10
MAX_OBJECT_BYTES = 5 * 1024**4  # S3's largest object, 5 TiB
MAX_KEYS_PER_REQUEST = 1000
MAX_KEY_CHARS = 1024  # a key is at most 1024 bytes of UTF-8, so at most 1024 characters

_CONTENT_TYPE = re.compile(CONTENT_TYPE_PATTERN)
_CHECKSUM_SHA256 = re.compile(CHECKSUM_SHA256_PATTERN)
_META_KEY = re.compile(METADATA_KEY_PATTERN)
_META_VALUE = re.compile(METADATA_VALUE_PATTERN)
KEY = re.compile(KEY_PATTERN)


class _Input(BaseModel):
    # Strict: "12" is not a size and 1 is not a filename; clients learn that at once.
    model_config = ConfigDict(extra="forbid", strict=True)


def _content_type(value: str) -> str:
    if not _CONTENT_TYPE.fullmatch(value):
        raise ValueError("must be a media type such as 'image/png', parameters separated by '; '")
    return value


def _checksum(value: str) -> str:
    if not _CHECKSUM_SHA256.fullmatch(value):
        raise ValueError("must be the base64 of a 32-byte SHA-256 digest (44 characters, ending in '=')")
    return value


def _pattern(pattern: str, **extra: Any) -> dict[str, Any]:
    return {"pattern": pattern, **extra}


ContentType = Annotated[
    str,
    Field(
        min_length=3, max_length=255, json_schema_extra=_pattern(CONTENT_TYPE_PATTERN, examples=["image/png"])
    ),
    AfterValidator(_content_type),
]
Checksum = Annotated[
    str,
    Field(
        description="base64 SHA-256 of the content",
        json_schema_extra=_pattern(
            CHECKSUM_SHA256_PATTERN, examples=["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]
        ),
    ),
    AfterValidator(_checksum),
]
# The per-key rules are checked key by key (a refused key of a batch gets an error item), so the
# model itself only bounds the length; the pattern is published for what a key must be to be signed.
DownloadKey = Annotated[
    str,
    Field(
        json_schema_extra=_pattern(
            KEY_PATTERN, maxLength=MAX_KEY_CHARS, examples=["users/alice/2026/11/22/k3J/cat.png"]
        )
    ),
]


def _integral(value: Any) -> Any:
    """``600.0`` is the integer 600 to JSON (and to JSON Schema's ``integer``); ``600.5`` is not.

    The models are strict ("12" is no size), but a client whose JSON encoder writes every number
    as a double must not be refused a body the published schema calls valid.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer as JSON means it: 600 and 600.0, never "600", true or 600.5. The validator comes
# after the bounds, so pydantic still publishes them as JSON Schema's minimum/maximum.
AS_JSON_INTEGER = BeforeValidator(_integral)
ExpiresIn = Annotated[
    int, Field(gt=0, le=MAX_PRESIGN_EXPIRY, description="seconds the URL stays valid"), AS_JSON_INTEGER
]


class CreateUploadRequest(_Input):
    filename: str = Field(min_length=1, max_length=1024)
    content_type: ContentType
    size: Annotated[
        int,
        Field(
            ge=0,
            le=MAX_OBJECT_BYTES,
            description="exact size in bytes (0 for an empty file); the URL only accepts this many",
        ),
        AS_JSON_INTEGER,
    ]
    target: str | None = Field(default=None, min_length=1, max_length=64)
    kind: str | None = Field(default=None, min_length=1, max_length=32, description="a named upload policy")
    method: Literal["PUT", "POST"] = "PUT"
    checksum_sha256: Checksum | None = None
    metadata: dict[str, str] = Field(
        default_factory=dict,
        max_length=MAX_METADATA_ENTRIES,
        description=(
            "sent back as x-amz-meta-* on download; values are printable ASCII without leading or "
            f"trailing spaces, keys and values {MAX_METADATA_BYTES} bytes in total"
        ),
        json_schema_extra={
            "propertyNames": {"pattern": METADATA_KEY_PATTERN},
            "additionalProperties": {"type": "string", "pattern": METADATA_VALUE_PATTERN},
        },
    )
    expires_in: ExpiresIn | None = None
    multipart: bool | None = Field(
        default=None,
        description=(
            "true: upload in parts (PUT only); false: one PUT or POST (at most 5 GiB); left out: in parts "
            "above the target's threshold"
        ),
    )
    part_checksums: bool = Field(
        default=False,
        description="multipart: every part will carry its SHA-256, signed into its URL (ask /parts with them)",
    )

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, str]) -> dict[str, str]:
        total = 0
        for key, item in value.items():
            if not _META_KEY.fullmatch(key):
                raise ValueError(
                    "metadata keys are 1-64 of a-z, 0-9 and '-', starting with a letter or digit"
                )
            if not _META_VALUE.fullmatch(item):
                # The key passed its pattern, so it is safe to name.
                raise ValueError(
                    f"metadata value of {key!r} must be printable ASCII, not empty, and not start or "
                    "end with a space (storage would not return it as sent)"
                )
            total += len(key) + len(item)
        if total > MAX_METADATA_BYTES:
            raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes in total")
        return value


class CreateUploadResponse(BaseModel):
    upload_id: str
    key: str
    target: str
    method: Literal["PUT", "POST"]
    url: str
    headers: dict[str, str] = Field(description="send exactly these headers with the PUT")
    fields: dict[str, str] = Field(description="for POST: form fields to send before the file")
    expires_at: str = Field(description="ISO 8601 UTC")
    expires_in: int
    multipart: MultipartGrant | None = Field(
        default=None,
        description="for a multipart upload (then url is empty): the plan and the first part URLs",
    )


class DownloadsRequest(_Input):
    keys: DownloadKey | Annotated[list[DownloadKey], Field(min_length=1, max_length=MAX_KEYS_PER_REQUEST)] = (
        Field(
            description=(
                "one key or a list of keys, each under the caller's prefix; a key that is refused gets an "
                "error item of its own, unless no key is acceptable (then the request is refused)"
            )
        )
    )
    target: str | None = Field(default=None, min_length=1, max_length=64)
    expires_in: ExpiresIn | None = None
    disposition: Literal["attachment", "inline"] | None = Field(
        default=None,
        description=(
            "attachment (the default) or inline; inline needs content_type, one of the target's inline "
            "types (passive types: raster images, PDF, audio, video, plain text)"
        ),
    )
    filename: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description=(
            "the name to save as; implies attachment unless disposition is inline. It keeps each key's "
            "extension (or takes one of content_type's) and is never active or executable: a key it "
            "does not fit gets the error unsafe_filename (422)"
        ),
    )
    content_type: ContentType | None = Field(
        default=None,
        description=(
            "the type the storage server answers with: one the target accepts for uploads, never an "
            "active type (HTML, SVG, XML, JavaScript)"
        ),
    )

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: str | list[str]) -> str | list[str]:
        # A request-level bound only; every other rule is per key (presign.downloads).
        items = [value] if isinstance(value, str) else value
        if any(len(k) > 4 * MAX_KEY_CHARS for k in items):
            raise ValueError("a key is far too long")
        return value

    def key_list(self) -> list[str]:
        return [self.keys] if isinstance(self.keys, str) else list(self.keys)


def _error_code_enum(schema: dict[str, Any]) -> None:
    # Generated from the exception classes when the document is made (make openapi), so a new
    # error class is in the contract once the document is regenerated; never at cold start.
    from presign.web import error_codes

    schema["enum"] = error_codes()


ERROR_CODE_DESCRIPTION = "what went wrong, for programs: one of the enum, which may grow"


class ItemError(BaseModel):
    code: str = Field(description=ERROR_CODE_DESCRIPTION, json_schema_extra=_error_code_enum)
    message: str


class DownloadItem(BaseModel):
    key: str
    url: str | None = None
    expires_at: str | None = None
    error: ItemError | None = None


class DownloadsResponse(BaseModel):
    items: list[DownloadItem]
    expires_in: int


class ErrorBody(BaseModel):
    code: str = Field(description=ERROR_CODE_DESCRIPTION, json_schema_extra=_error_code_enum)
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    error: ErrorBody
