"""Object keys: made by the server for uploads, checked strictly for downloads.

A caller owns exactly the keys under their prefix (by default ``users/{sub}/``). Everything here is
pure: no I/O, no clock, no randomness of its own (they are passed in), so it is easy to test.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Protocol

from presign.core.prefixes import PrefixTemplate
from presign.errors import AuthorizationError, InvalidRequest, UnsafeKey
from presign.limits import MAX_KEY_BYTES

MAX_FILENAME_BYTES = 200
_FALLBACK_NAME = "file"
# Unicode letters and digits stay readable; anything else (slashes of every script, quotes,
# control and format characters such as bidi overrides or zero-width joiners) becomes "_".
_UNSAFE_IN_NAME = re.compile(r"[^\w.\-() ]", re.UNICODE)
_RUNS = re.compile(r"[ _]{2,}")
_DOT_SEGMENTS = frozenset((".", ".."))
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _is_control(ch: str) -> bool:
    # Cc: C0/C1 controls incl. NUL, CR, LF; Cf: invisible format characters (bidi overrides,
    # zero-width) that make a key display as something it is not.
    return unicodedata.category(ch) in ("Cc", "Cf")


def sanitize_filename(filename: str) -> str:
    """A display-safe basename for the key's last segment (the original goes in metadata if needed)."""
    name = unicodedata.normalize("NFC", filename)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join("_" if _is_control(ch) else ch for ch in name)
    name = _UNSAFE_IN_NAME.sub("_", name)
    name = _RUNS.sub("_", name).strip(" ._")
    if not name:
        return _FALLBACK_NAME
    return _truncate_keeping_extension(name, MAX_FILENAME_BYTES)


def _truncate_keeping_extension(name: str, limit: int) -> str:
    if len(name.encode()) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = limit - len(suffix.encode())
    cut = stem.encode()[:budget].decode(errors="ignore")
    return f"{cut}{suffix}"


class Claims(Protocol):
    """A caller's claims as key segments (``presign.auth.Principal``)."""

    def path_values(self, names: frozenset[str]) -> dict[str, str]: ...


def user_prefix(template: str, principal: Claims) -> str:
    """Fill the prefix template from the caller's claims, each value one safe path segment.

    ``Principal.path_segment`` refuses anything else (a ``sub`` of "alice/x" would otherwise
    let "alice" read "alice/x"'s keys). The template is never a format string: ``{sub:.3}``
    would give "alice" and "alicex" one prefix (``presign.core.prefixes`` says what a template is).
    """
    parsed = PrefixTemplate.parse(template)
    return parsed.expand(principal.path_values(parsed.claims))


def upload_key(prefix: str, *, upload_id: str, filename: str, now: datetime) -> str:
    """``{prefix}{yyyy}/{mm}/{dd}/{upload_id}/{filename}``: unique, sortable by day, readable."""
    key = f"{prefix}{now:%Y/%m/%d}/{upload_id}/{sanitize_filename(filename)}"
    if len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidRequest("the resulting key would exceed 1024 bytes; use a shorter prefix or name")
    return key


def normalize_key(key: str) -> str:
    """NFC-normalize a client-given key and refuse anything ambiguous.

    Raises InvalidRequest for what the published key pattern also refuses, UnsafeKey (422) for
    the finer rules it cannot state: UTF-8 length and Unicode categories.
    """
    key = unicodedata.normalize("NFC", key)
    # First what the published pattern (core.schemas.KEY_PATTERN) refuses too: 400.
    if not key:
        raise InvalidRequest("a key must not be empty")
    if "\\" in key or _CONTROLS.search(key):
        raise InvalidRequest("a key must not contain control characters or backslashes")
    if not _DOT_SEGMENTS.isdisjoint(key.split("/")) or key.startswith("/") or "//" in key:
        raise InvalidRequest("a key must not contain '.', '..' or empty segments")
    # Then what no pattern can say: 422.
    if len(key.encode()) > MAX_KEY_BYTES:
        raise UnsafeKey("a key must be at most 1024 bytes of UTF-8")
    # str.isprintable() is False for format characters (Cf: bidi overrides, zero-width),
    # separators other than the space, and unassigned or private-use code points: exactly what
    # must not hide in a key. It runs in C, which matters for 1000-key batches.
    if not key.isprintable():
        raise UnsafeKey("a key must not contain invisible, unassigned or private-use characters")
    return key


def require_within(key: str, prefix: str) -> None:
    """Raise AuthorizationError unless ``key`` (already normalized) is strictly under ``prefix``."""
    if not key.startswith(prefix) or len(key) == len(prefix):
        raise AuthorizationError("the key is outside your namespace")
