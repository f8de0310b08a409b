"""Media types: matching a declared type against a policy's patterns, and telling active ones apart.

An *active* type is one a browser runs, or renders as a document that can run script, when it
opens the object on the storage origin: HTML and XHTML, XML (every ``+xml`` type, SVG among
them), XSLT, JavaScript under any of its names, multipart and MHTML documents (``x-mixed-replace``
can carry HTML parts), and the legacy plug-in and HTA types. A file of such a type on the bucket's
origin is stored XSS behind a shareable link, so:

* a wildcard pattern (``*/*``, ``image/*``, ``text/*``, ...) never matches an active type; a
  target admits one only by listing it exactly (``image/svg+xml``), and
* no download URL ever names an active type, or shows one inline (``presign.downloads.service``).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable
from functools import cache

# Passive raster images, PDF, audio, video and plain text: safe to show inline on the storage
# origin. The default for what a target accepts and for what it may show inline.
PASSIVE_DEFAULTS: tuple[str, ...] = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "application/pdf",
    "audio/*",
    "video/*",
    "text/plain",
)

_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/jscript",
        "text/livescript",
        "text/vbscript",
        "text/x-component",  # IE behaviours (HTC)
        "application/hta",
        "application/x-shockwave-flash",
        "application/futuresplash",
        "message/rfc822",  # MHTML
        "application/x-mimearchive",
    }
)
# Every JavaScript MIME type of the WHATWG list (text/javascript1.0 ... 1.5, x-ecmascript, ...).
_SCRIPT_MARKERS = ("javascript", "ecmascript")


def media_type(content_type: str) -> str:
    """The ``type/subtype`` part, lower-cased, without parameters such as ``; charset=utf-8``."""
    return content_type.split(";", 1)[0].strip().lower()


def is_active(content_type: str) -> bool:
    """True for a type a browser would run or render as a scriptable document."""
    kind = media_type(content_type)
    major, _, minor = kind.partition("/")
    return (
        kind in _ACTIVE_TYPES
        or minor.endswith("+xml")
        or "html" in minor
        or any(marker in minor for marker in _SCRIPT_MARKERS)
        or major == "multipart"
    )


def is_allowed(content_type: str, patterns: Iterable[str]) -> bool:
    """Whether ``content_type`` matches one of ``patterns`` (lower-case, as the configuration keeps them).

    An exact pattern matches its type; a wildcard matches only passive types (see the module doc).
    """
    kind = media_type(content_type)
    major, slash, minor = kind.partition("/")
    if not (major and slash and minor):
        return False
    wildcards_apply = not is_active(kind)
    for pattern in patterns:
        if pattern == kind:
            return True
        if wildcards_apply and (pattern == "*/*" or (pattern.endswith("/*") and pattern[:-2] == major)):
            return True
    return False


# A pattern of a policy: an exact type or a wildcard (``image/*``, ``*/*``), lower case.
_PATTERN = re.compile(r"^(\*/\*|[a-z0-9][a-z0-9!#$&^_.+\-]*/(\*|[a-z0-9][a-z0-9!#$&^_.+\-]*))$")


def media_patterns(patterns: list[str]) -> list[str]:
    """A configuration's list of types and wildcards, lower-cased; ``ValueError`` names the bad ones."""
    lowered = [p.strip().lower() for p in patterns]
    bad = [p for p in lowered if not _PATTERN.fullmatch(p)]
    if bad:
        raise ValueError(f"not a content type or wildcard pattern: {bad}")
    return lowered


@cache
def builtin_types() -> dict[str, str]:
    """Filename extension (no dot) to media type, from Python's own table only, not the host's
    /etc/mime.types, so the answer is the same everywhere (upload kinds and filenames use it)."""
    table = mimetypes.MimeTypes(filenames=())
    return {ext.lstrip("."): kind for ext, kind in table.types_map[True].items()}


def extension_of(filename: str) -> str:
    """The lower-cased extension of the filename's last segment, without the dot ('' if none)."""
    name = re.split(r"[/\\]", filename)[-1]
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem.strip(". ") else ""
