"""Opaque pagination cursors, bound to the caller and to the listing that made them.

A cursor is base64url (unpadded) of ``<tag>.<field>.<field>...``, where the tag is 64 bits of
``SHA-256(<namespace>:<owner digest>)``. Every listing Query runs on the caller's own partition,
so a forged cursor could at most start the caller's own list somewhere else; the tag still
refuses another caller's cursor (422 ``invalid_cursor``), so a cursor that leaked means nothing to
anyone else, and the namespace keeps one listing's cursor from being read by another.

The two listings' formats, unchanged (cursors handed out before still decode):

* ``GET /uploads``: namespace ``cursor``, fields ``<status filter or "">.<last upload id>``, at
  most 128 characters (a cursor from a listing with another filter is refused, rather than
  silently skipping items);
* ``GET /shares``: namespace ``share-cursor``, one field, the index position of the last share,
  at most 256 characters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from presign.errors import InvalidCursor

_INVALID = "the cursor is not valid for this listing"


@dataclass(frozen=True, slots=True)
class CursorCodec:
    namespace: str
    max_chars: int

    def _tag(self, owner: str) -> str:
        return hashlib.sha256(f"{self.namespace}:{owner}".encode()).hexdigest()[:16]

    def encode(self, owner: str, *fields: str) -> str:
        raw = ".".join((self._tag(owner), *fields)).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(
        self, cursor: str, owner: str, *, fields: int, valid: Callable[[Sequence[str]], bool]
    ) -> list[str]:
        """The ``fields`` fields of ``owner``'s cursor (the last takes the rest of the text);
        ``InvalidCursor`` for anything that is not one, or whose fields ``valid`` refuses."""
        if len(cursor) > self.max_chars:
            raise InvalidCursor(_INVALID)
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidCursor(_INVALID) from None
        tag, *found = raw.split(".", fields)
        found += [""] * (fields - len(found))
        if tag != self._tag(owner) or not valid(found):
            raise InvalidCursor(_INVALID)
        return found


UPLOADS = CursorCodec("cursor", max_chars=128)
SHARES = CursorCodec("share-cursor", max_chars=256)
