"""The one cursor codec (``presign.core.cursor``): both listings' cursors, as they were made before
the codec existed, still decode; a cursor of one listing or one owner is refused by another."""

from __future__ import annotations

import base64
import hashlib

import pytest

from presign.core.cursor import SHARES, UPLOADS, CursorCodec
from presign.errors import InvalidCursor
from presign.shares.service import decode_cursor as decode_share_cursor
from presign.uploads.service import decode_cursor as decode_upload_cursor

UPLOAD_ID = "01k0b7m3q8r9s4t5v6w7x8y9za"


def _old_upload_cursor(owner: str, status: str | None, last: str) -> str:
    """GET /uploads' cursor as presign.lifecycle.cursor wrote it before the codec."""
    tag = hashlib.sha256(f"cursor:{owner}".encode()).hexdigest()[:16]
    return base64.urlsafe_b64encode(f"{tag}.{status or ''}.{last}".encode()).decode().rstrip("=")


def _old_share_cursor(owner: str, last: str) -> str:
    """GET /shares' cursor as presign.shares.service wrote it before the codec."""
    tag = hashlib.sha256(f"share-cursor:{owner}".encode()).hexdigest()[:16]
    return base64.urlsafe_b64encode(f"{tag}.{last}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("status", [None, "pending", "complete"])
def test_an_uploads_cursor_made_before_the_codec_still_decodes(status: str | None) -> None:
    old = _old_upload_cursor("owner-a", status, UPLOAD_ID)

    assert decode_upload_cursor(old, "owner-a", status) == UPLOAD_ID
    assert UPLOADS.encode("owner-a", status or "", UPLOAD_ID) == old


def test_a_shares_cursor_made_before_the_codec_still_decodes() -> None:
    last = "1790000000000#" + "a" * 40
    old = _old_share_cursor("owner-a", last)

    assert decode_share_cursor(old, "owner-a") == last
    assert SHARES.encode("owner-a", last) == old


def test_a_cursor_of_one_listing_or_owner_means_nothing_to_another() -> None:
    upload_cursor = _old_upload_cursor("owner-a", None, UPLOAD_ID)
    share_cursor = _old_share_cursor("owner-a", "1790000000000#" + "a" * 40)

    with pytest.raises(InvalidCursor):
        decode_share_cursor(upload_cursor, "owner-a")
    with pytest.raises(InvalidCursor):
        decode_upload_cursor(share_cursor, "owner-a", None)
    with pytest.raises(InvalidCursor):
        decode_upload_cursor(upload_cursor, "owner-b", None)


def test_the_codec_bounds_the_length_before_decoding() -> None:
    codec = CursorCodec("ns", max_chars=8)

    with pytest.raises(InvalidCursor):
        codec.decode("a" * 9, "owner", fields=1, valid=lambda found: True)
