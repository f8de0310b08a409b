"""Object keys: made by the server for uploads, checked strictly for downloads.

A caller owns exactly the keys under their prefix (by default ``users/{sub}/``). Everything here is
pure: no I/O, no clock, no randomness of its own (they are passed in), so it is easy to test.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from presign.auth.principal import Principal, owner_subject
from presign.errors import AuthorizationError, InvalidRequest, UnsafeKey
from presign.prefixes import PrefixTemplate
from presign.ratelimit.limiter import subject_digest

if TYPE_CHECKING:
    from presign.config import Settings

MAX_KEY_BYTES = 1024
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


def user_prefix(template: str, principal: Principal) -> str:
    """Fill the prefix template from the caller's claims, each value one safe path segment.

    ``Principal.path_segment`` refuses anything else (a ``sub`` of "alice/x" would otherwise
    let "alice" read "alice/x"'s keys). The template is never a format string: ``{sub:.3}``
    would give "alice" and "alicex" one prefix (``presign.prefixes`` says what a template is).
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
    # First what the published pattern (models.KEY_PATTERN) refuses too: 400.
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


@dataclass(frozen=True, slots=True)
class Owner:
    """A caller as what they own knows them (``Namespace.owner``)."""

    #: What the rate limiter counts (it hashes it into its item keys itself).
    subject: str
    #: What upload records, shares, Idempotency-Key claims and cursors are keyed by.
    digest: str


@dataclass(frozen=True, slots=True)
class Namespace:
    """Who owns what: the deployment's namespace claims and each target's key prefix template.

    An owner is ``sub`` plus every other claim the prefixes name (``Principal.owner_subject``):
    with ``tenants/{tenant}/users/{sub}/``, sub 42 of acme and sub 42 of globex are two owners, as
    their storage is two prefixes. The configuration makes every target's template name all of
    these claims, so the owner can also be read back from any key the service made (``holds``,
    the cleanup's sweep).
    """

    claims: frozenset[str] = frozenset(("sub",))
    #: Each target's ``key_prefix``, by name. Empty (tests): no key is checked against one.
    templates: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def of(settings: Settings) -> Namespace:
        templates = {name: target.key_prefix for name, target in settings.targets.items()}
        return Namespace(settings.namespace_claims, templates)

    def owner(self, principal: Principal) -> Owner:
        """The caller's identity; ``AuthorizationError`` (403) if the token lacks a namespace claim."""
        subject = principal.owner_subject(self.claims)
        return Owner(subject=subject, digest=subject_digest(subject))

    def holds(self, owner: str, target: str, key: str) -> bool:
        """Whether ``key`` on ``target`` lies under the prefix of the owner whose digest is ``owner``.

        Defence in depth for every record and share found by an id: it is the caller's only if
        its key is under the caller's prefix as the target is configured now. A target no
        longer configured is left to the route, which answers that (410).
        """
        template = self.templates.get(target)
        if template is None:
            return True
        values = PrefixTemplate.parse(template).claims_of(key)
        return values is not None and owner_digest(values) == owner


def owner_digest(values: Mapping[str, str]) -> str:
    """The owner of a prefix made of these claim values (read back from a key)."""
    return subject_digest(owner_subject(values))
