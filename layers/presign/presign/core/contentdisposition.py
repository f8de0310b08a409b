"""Content-Disposition values (RFC 6266) with an RFC 8187 ``filename*`` for non-ASCII names.

The value ends up in a signed ``response-content-disposition`` query parameter and is echoed by
the storage server as a header, so nothing a caller sends may break out of it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal
from urllib.parse import quote

Disposition = Literal["attachment", "inline"]


# Quotes, backslashes and semicolons could end the quoted-string early; controls could end the header.
_NOT_SAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\;]')


# What a name with nothing readable in ASCII is saved as (an extension, if readable, is kept).
_FALLBACK_STEM = "download"


def _ascii_fallback(filename: str) -> str:
    """A visible ASCII name for clients that ignore ``filename*``: never a bare ``.txt``
    (a hidden file) when the stem has no ASCII letters or digits (``صورة.txt`` -> ``download.txt``)."""
    decomposed = unicodedata.normalize("NFKD", filename)
    ascii_only = decomposed.encode("ascii", "ignore").decode()
    safe = _NOT_SAFE_IN_QUOTES.sub("_", ascii_only).strip()
    stem, dot, extension = safe.rpartition(".")
    if not dot:
        stem, extension = safe, ""
    if not any(ch.isalnum() for ch in stem):
        stem = _FALLBACK_STEM
    if not any(ch.isalnum() for ch in extension):
        return stem
    return f"{stem}.{extension}"


def served_names(filename: str) -> tuple[str, str] | None:
    """The names a browser is given for ``filename``: the cleaned name (``filename*``) and its
    visible ASCII fallback (``filename``, for clients that ignore ``filename*``); None when
    nothing visible is left. ``presign.core.filenames`` checks exactly these."""
    if not filename.isprintable():
        # Drop controls, invisible format characters (bidi overrides, zero-width ones) and lone
        # surrogates (which have no UTF-8); keep every visible character.
        filename = "".join(ch for ch in filename if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    filename = filename.replace("/", "_").replace("\\", "_").strip()
    if not filename:
        return None
    return filename, _ascii_fallback(filename)


def content_disposition(disposition: Disposition, filename: str | None) -> str:
    names = served_names(filename) if filename else None
    if names is None:
        return disposition
    filename, fallback = names
    value = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        # RFC 8187 ext-value: UTF-8, percent-encoded attr-chars only.
        value += f"; filename*=UTF-8''{quote(filename, safe='!#$&+-.^_`|~')}"
    return value
