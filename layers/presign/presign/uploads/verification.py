"""Completion's check: the storage's HEAD of the object compared with the upload record.

Pure functions: ``differences`` names every field that differs, in words a client can act on.
The comparison is exact (size to the byte, the content type as declared, metadata as a whole)
because the URL bound each of them: an object that differs was not uploaded with that URL as
issued, or was replaced since.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from presign.uploads.records import UploadRecord


@dataclass(frozen=True, slots=True)
class ObjectFacts:
    """What a HEAD says about a stored object (``checksum_sha256`` only when the store has one)."""

    size: int
    content_type: str | None
    etag: str
    metadata: dict[str, str] = field(default_factory=dict)
    checksum_sha256: str | None = None


def _same_content_type(declared: str, stored: str | None) -> bool:
    if stored is None:
        return False

    # Media types are case-insensitive and spaces around ';' are not significant; anything else is.
    def canonical(value: str) -> str:
        return ";".join(part.strip() for part in value.split(";")).lower()

    return canonical(declared) == canonical(stored)


def differences(record: UploadRecord, facts: ObjectFacts) -> list[str]:
    """Every way ``facts`` differs from ``record``; empty when the object is what was declared."""
    found: list[str] = []
    if facts.size != record.size:
        found.append(f"size: declared {record.size} bytes, stored {facts.size}")
    if not _same_content_type(record.content_type, facts.content_type):
        found.append(f"content_type: declared {record.content_type!r}, stored {facts.content_type!r}")
    declared_meta = {k.lower(): v for k, v in record.metadata.items()}
    stored_meta = {k.lower(): v for k, v in facts.metadata.items()}
    if declared_meta != stored_meta:
        missing = sorted(set(declared_meta) - set(stored_meta))
        extra = sorted(set(stored_meta) - set(declared_meta))
        changed = sorted(
            k for k in set(declared_meta) & set(stored_meta) if declared_meta[k] != stored_meta[k]
        )
        parts = [
            *(f"missing {k!r}" for k in missing),
            *(f"unexpected {k!r}" for k in extra),
            *(f"{k!r} differs" for k in changed),
        ]
        found.append("metadata: " + ", ".join(parts))
    if record.checksum_sha256 is not None and facts.checksum_sha256 != record.checksum_sha256:
        stored = "none" if facts.checksum_sha256 is None else repr(facts.checksum_sha256)
        found.append(f"checksum_sha256: declared {record.checksum_sha256!r}, stored {stored}")
    return found
