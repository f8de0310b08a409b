"""The published JSON Schemas of the events, one file per type and version (``<type>.v<n>.json``),
built by ``presign.events.schema`` and served next to ``/openapi.json`` by the meta function
(``GET /events/schemas/{name}``)."""

from __future__ import annotations

import re
from importlib import resources

_NAME = re.compile(r"^[a-z]+\.[a-z_]+\.v[1-9][0-9]*\.json$")


def schema_names() -> list[str]:
    """Every published schema file, sorted."""
    return sorted(entry.name for entry in resources.files(__name__).iterdir() if _NAME.match(entry.name))


def schema_text(name: str) -> str | None:
    """The schema file ``name`` (``upload.completed.v1.json``), or None when there is none."""
    if not _NAME.match(name):
        return None
    entry = resources.files(__name__).joinpath(name)
    return entry.read_text(encoding="utf-8") if entry.is_file() else None
