"""Matching a declared Content-Type against a policy's patterns (``image/*``, ``*/*``, exact)."""

from __future__ import annotations

from collections.abc import Iterable


def media_type(content_type: str) -> str:
    """The ``type/subtype`` part, lower-cased, without parameters such as ``; charset=utf-8``."""
    return content_type.split(";", 1)[0].strip().lower()


def is_allowed(content_type: str, patterns: Iterable[str]) -> bool:
    kind = media_type(content_type)
    major, slash, minor = kind.partition("/")
    if not (major and slash and minor):
        return False
    for pattern in patterns:
        if pattern in ("*/*", kind):
            return True
        if pattern.endswith("/*") and pattern[:-2] == major:
            return True
    return False
