"""Opaque pagination cursors for ``GET /uploads``, bound to the caller.

A cursor is base64url of ``<owner tag>.<status filter>.<last upload id>``. The listing Query
always runs on the caller's own partition, so a forged cursor could at most start the caller's
own list somewhere else; the tag still refuses another caller's cursor (422 ``invalid_cursor``),
so a cursor that leaked never means anything to anyone else, and a cursor from a listing with
another status filter is refused too rather than silently skipping items.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from presign.errors import InvalidCursor
from presign.lifecycle.ids import is_upload_id

MAX_CURSOR_CHARS = 128


def _tag(owner: str) -> str:
    return hashlib.sha256(f"cursor:{owner}".encode()).hexdigest()[:16]


def encode_cursor(owner: str, status: str | None, last_upload_id: str) -> str:
    raw = f"{_tag(owner)}.{status or ''}.{last_upload_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, owner: str, status: str | None) -> str:
    """The upload id to continue after; raises ``InvalidCursor`` for anything not ours."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("the cursor is not valid for this listing")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not valid for this listing") from None
    tag, _, rest = raw.partition(".")
    filtered, _, upload_id = rest.partition(".")
    if tag != _tag(owner) or filtered != (status or "") or not is_upload_id(upload_id):
        raise InvalidCursor("the cursor is not valid for this listing")
    return upload_id
