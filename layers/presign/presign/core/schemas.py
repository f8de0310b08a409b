"""The contract's shared vocabulary: the patterns, field types and error bodies every feature's
request and response bodies (``uploads.schemas``, ``downloads.schemas``, ``shares.schemas``) use.

One source of truth for each rule below: the validator enforces the pattern with re.fullmatch, and
the OpenAPI document publishes the same string as a JSON Schema "pattern". Each is anchored with
^...$ and written in the common subset of Python's and ECMA-262's regular expressions, so a
client generator or fuzzer reads exactly the rule the server applies.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from presign.limits import MAX_METADATA_BYTES, MAX_OBJECT_BYTES, MAX_PRESIGN_EXPIRY

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
# backslashes or control characters; a trailing "/" is allowed. Applied per key to downloads and shares.
_KEY_CHAR = r"[^/\\\x00-\x1f\x7f-\x9f]"
_KEY_CHAR_NOT_DOT = r"[^./\\\x00-\x1f\x7f-\x9f]"
_SEGMENT = rf"(?:{_KEY_CHAR_NOT_DOT}{_KEY_CHAR}*|\.{_KEY_CHAR_NOT_DOT}{_KEY_CHAR}*|\.\.{_KEY_CHAR}+)"
KEY_PATTERN = rf"^{_SEGMENT}(?:/{_SEGMENT})*/?$"

MAX_METADATA_ENTRIES = 10

_CONTENT_TYPE = re.compile(CONTENT_TYPE_PATTERN)
_CHECKSUM_SHA256 = re.compile(CHECKSUM_SHA256_PATTERN)
_META_KEY = re.compile(METADATA_KEY_PATTERN)
_META_VALUE = re.compile(METADATA_VALUE_PATTERN)
KEY = re.compile(KEY_PATTERN)


class StrictInput(BaseModel):
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
ObjectSize = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_OBJECT_BYTES,
        description="exact size in bytes (0 for an empty file); the URL only accepts this many",
    ),
    AS_JSON_INTEGER,
]


def _metadata(value: dict[str, str]) -> dict[str, str]:
    total = 0
    for key, item in value.items():
        if not _META_KEY.fullmatch(key):
            raise ValueError("metadata keys are 1-64 of a-z, 0-9 and '-', starting with a letter or digit")
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


# User metadata, sent back as x-amz-meta-* on download: signed into the PUT (or pinned by the POST
# policy), so only what storage returns exactly as sent.
Metadata = Annotated[
    dict[str, str],
    Field(
        max_length=MAX_METADATA_ENTRIES,
        description=(
            "sent back as x-amz-meta-* on download; values are printable ASCII without leading or "
            f"trailing spaces, keys and values {MAX_METADATA_BYTES} bytes in total"
        ),
        json_schema_extra={
            "propertyNames": {"pattern": METADATA_KEY_PATTERN},
            "additionalProperties": {"type": "string", "pattern": METADATA_VALUE_PATTERN},
        },
    ),
    AfterValidator(_metadata),
]


# A ``code`` field with this description gets the enum of every code a response can carry when
# the document is made (``make openapi``, local/openapi.py asks the one error map,
# ``presign.http.problems.error_codes``): a new error class is in the contract once the document is
# regenerated, and these models never import the HTTP layer above them.
ERROR_CODE_DESCRIPTION = "what went wrong, for programs: one of the enum, which may grow"


class ItemError(BaseModel):
    code: str = Field(description=ERROR_CODE_DESCRIPTION)
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description=ERROR_CODE_DESCRIPTION)
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    error: ErrorBody
