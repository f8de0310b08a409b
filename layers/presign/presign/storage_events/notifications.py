"""Object-created notifications from every storage presign meets, read into one shape.

A notification only says "look at this upload": the completion that follows reads the record's
own object (HEAD, first bytes) and never trusts a size, an ETag or a key from an event. Each
source spells the object key its own way, and our keys hold spaces, parentheses, Unicode and
claim values with ``+ = @ | : ~``, so the decoding is per source:

- S3 through EventBridge (``aws.s3``): ``detail.object.key``; spelling undocumented (raw, or
  ``quote_plus``-ed: see below).
- S3 direct notifications (``aws:s3``): ``Records[].s3.object.key``, URL-encoded with ``+`` for
  a space ("red flower.jpg" becomes "red+flower.jpg").
- MinIO webhooks (``minio:s3``): ``Records[].s3.object.key``, Go's ``url.QueryEscape``, so ``/``
  arrives as ``%2F`` too; ``unquote_plus`` reads both.
- Cloudflare R2 event notifications, through a Queue (``cloudflare.r2``): ``object.key``, raw.
  UNVERIFIED: Cloudflare documents no encoding ("the key (or name) of the object").
- The ``make dev`` feed (``presign.dev-storage``, ``local/storage_feed.py``): S3's EventBridge
  shape with the key raw, as SeaweedFS's filer stores it.

The EventBridge case cannot be decided from the event: AWS documents no encoding, its own
Powertools ``unquote_plus``-es the key, moto sends it raw. ``unquote_plus`` of a raw key with a
``+`` corrupts it, and leaving an encoded key alone misses ``(`` as ``%28``. So such an event
carries both spellings in ``candidates`` (the raw value first) and the caller accepts whichever
one a record names (``key_matches``). That is safe because a service key's upload id (lower-case
Crockford base32) and claim values (``presign.core.prefixes.SAFE_SEGMENT``: no ``%``, no space) read
the same in either spelling or fail to parse in the wrong one, so every candidate that parses
leads to the same record; and because the completion then verifies the RECORD's key, an event
whose other candidate happened to match could at worst cause one needless verification.

How a caller finds the record without a Scan: for each candidate, ``ServiceKeys.parse``
(``presign.cleanup.keys``) gives the owner's claim values and the upload id; one ``GetItem``
by (owner digest, upload id); proceed iff ``event.key_matches(record.key)``. A key that parses
to nothing, or names no record, is left untouched (it may be another deployment's).

Deletes and every other kind of event are ignored: ``parse_notification`` returns only object
creations (PUT, POST, copy, multipart completion; MinIO's tagging, retention and legal-hold
"created" events change no bytes and are ignored as well). A shape no source sends is ignored
too (an empty list), so a stray invocation does nothing; an event that claims to be one of these
sources but lacks what that source always sends raises ``InvalidRequest``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote_plus

from presign.errors import InvalidRequest


class Source(StrEnum):
    EVENTBRIDGE = "aws.s3"
    S3 = "aws:s3"
    MINIO = "minio:s3"
    R2 = "cloudflare.r2"
    DEV = "presign.dev-storage"


#: The EventBridge ``detail-type`` of a creation (S3's and the dev feed's).
OBJECT_CREATED = "Object Created"
# S3 and MinIO name what created the object after "ObjectCreated:"; these four write bytes.
_CREATING = frozenset({"Put", "Post", "Copy", "CompleteMultipartUpload"})
_R2_CREATING = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload"})


@dataclass(frozen=True, slots=True)
class ObjectCreated:
    """One object that a storage says was created (or overwritten)."""

    #: Who sent it (``Source``).
    source: Source
    bucket: str
    #: The key as stored where the source's spelling is known; for S3 through EventBridge, the
    #: value exactly as delivered (see ``candidates``).
    key: str
    #: Every key this event may name, ``key`` first: one, except for S3 through EventBridge,
    #: where ``unquote_plus(key)`` follows when it differs.
    candidates: tuple[str, ...]
    #: The operation in the source's own words (``PutObject``, ``Post``, ``CompleteMultipartUpload``,
    #: ...): for logs only, nothing may depend on it.
    reason: str
    size: int | None = None
    etag: str | None = None  # without quotes
    #: S3's ordering token for events on one key (hex, compare after left-padding); the dev feed's
    #: is its ``tsNs`` as 16 hex digits. None where the source has none (R2).
    sequencer: str | None = None
    time: str | None = None  # ISO 8601, as the source wrote it

    def key_matches(self, record_key: str) -> bool:
        """Whether this event may be about the object at ``record_key`` (a record's own key)."""
        return record_key in self.candidates


def parse_notification(event: object) -> list[ObjectCreated]:
    """The object creations an invocation tells of; ``[]`` for deletes and unknown shapes.

    Raises ``InvalidRequest`` for an event that is recognisably one source's but malformed.
    """
    if not isinstance(event, Mapping):
        raise InvalidRequest("a storage notification is a JSON object")
    if "detail-type" in event and "detail" in event:
        return _eventbridge(event)
    if "Records" in event:
        return _records(event["Records"])
    if isinstance(event.get("action"), str) and "object" in event and "bucket" in event:
        return _r2(event)
    return []


def _eventbridge(event: Mapping[str, object]) -> list[ObjectCreated]:
    source = event.get("source")
    if source not in (Source.EVENTBRIDGE, Source.DEV) or event["detail-type"] != OBJECT_CREATED:
        return []
    detail = _object(event["detail"], "detail")
    obj = _object(detail.get("object"), "detail.object")
    raw = _text(obj.get("key"), "detail.object.key")
    if source == Source.DEV:
        candidates: tuple[str, ...] = (raw,)
    else:
        decoded = _unquote_plus(raw)
        candidates = (raw,) if decoded is None or decoded == raw else (raw, decoded)
    # moto (5.2.5) writes "eTag" in EventBridge events; AWS documents "etag".
    etag = obj.get("etag", obj.get("eTag"))
    return [
        ObjectCreated(
            source=Source(str(source)),
            bucket=_text(_object(detail.get("bucket"), "detail.bucket").get("name"), "detail.bucket.name"),
            key=raw,
            candidates=candidates,
            reason=_optional_text(detail.get("reason"), "detail.reason") or OBJECT_CREATED,
            size=_size(obj.get("size"), "detail.object.size"),
            etag=_etag(etag, "detail.object.etag"),
            sequencer=_optional_text(obj.get("sequencer"), "detail.object.sequencer"),
            time=_optional_text(event.get("time"), "time"),
        )
    ]


def _records(records: object) -> list[ObjectCreated]:
    if not isinstance(records, list):
        raise InvalidRequest("Records must be a list")
    created = []
    for index, record in enumerate(records):
        where = f"Records[{index}]"
        record = _object(record, where)
        source = record.get("eventSource")
        if source not in (Source.S3, Source.MINIO):
            continue  # SQS, SNS, DynamoDB ... records: not a storage's
        name = _text(record.get("eventName"), f"{where}.eventName")
        # S3: "ObjectCreated:Put"; MinIO: "s3:ObjectCreated:Put".
        kind, _, reason = name.removeprefix("s3:").partition(":")
        if kind != "ObjectCreated" or reason not in _CREATING:
            continue
        s3 = _object(record.get("s3"), f"{where}.s3")
        obj = _object(s3.get("object"), f"{where}.s3.object")
        encoded = _text(obj.get("key"), f"{where}.s3.object.key")
        # Both are URL-encoded with "+" for a space (MinIO encodes "/" as well): one decoding.
        key = _unquote_plus(encoded)
        if not key:
            raise InvalidRequest(f"{where}.s3.object.key is not a URL-encoded UTF-8 key")
        created.append(
            ObjectCreated(
                source=Source(str(source)),
                bucket=_text(
                    _object(s3.get("bucket"), f"{where}.s3.bucket").get("name"), f"{where}.s3.bucket.name"
                ),
                key=key,
                candidates=(key,),
                reason=reason,
                size=_size(obj.get("size"), f"{where}.s3.object.size"),
                etag=_etag(obj.get("eTag"), f"{where}.s3.object.eTag"),
                sequencer=_optional_text(obj.get("sequencer"), f"{where}.s3.object.sequencer"),
                time=_optional_text(record.get("eventTime"), f"{where}.eventTime"),
            )
        )
    return created


def _r2(event: Mapping[str, object]) -> list[ObjectCreated]:
    action = event["action"]
    if action not in _R2_CREATING:
        return []  # DeleteObject, LifecycleDeletion
    obj = _object(event["object"], "object")
    key = _text(obj.get("key"), "object.key")
    return [
        ObjectCreated(
            source=Source.R2,
            bucket=_text(event["bucket"], "bucket"),
            key=key,
            candidates=(key,),
            reason=str(action),
            size=_size(obj.get("size"), "object.size"),
            etag=_etag(obj.get("eTag"), "object.eTag"),
            time=_optional_text(event.get("eventTime"), "eventTime"),
        )
    ]


def _unquote_plus(value: str) -> str | None:
    """``unquote_plus``, or None when the escapes are not UTF-8 (never a U+FFFD-patched key)."""
    try:
        return unquote_plus(value, errors="strict")
    except UnicodeDecodeError:
        return None


def _object(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"{where} must be an object")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{where} must be a non-empty string")
    return value


def _optional_text(value: object, where: str) -> str | None:
    return None if value is None else _text(value, where)


def _size(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"{where} must be a whole number of bytes")
    return value


def _etag(value: object, where: str) -> str | None:
    text = _optional_text(value, where)
    return None if text is None else text.strip('"')
