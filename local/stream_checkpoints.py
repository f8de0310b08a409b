"""Where a stream consumer is: the last handled sequence number of each shard.

``local.streams.StreamPoller`` writes a shard's checkpoint only after the records up to it were
handled, so a consumer that restarts from it delivers again what it may not have finished.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Protocol


class Checkpoints(Protocol):
    """The last handled sequence number of each shard."""

    def get(self, shard_id: str) -> str | None: ...

    def put(self, shard_id: str, sequence_number: str) -> None: ...


class MemoryCheckpoints:
    def __init__(self) -> None:
        self.positions: dict[str, str] = {}

    def get(self, shard_id: str) -> str | None:
        return self.positions.get(shard_id)

    def put(self, shard_id: str, sequence_number: str) -> None:
        self.positions[shard_id] = sequence_number


class FileCheckpoints:
    """``{shard id: sequence number}`` in one JSON file, replaced whole (old or new, never half)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.positions: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def get(self, shard_id: str) -> str | None:
        return self.positions.get(shard_id)

    def put(self, shard_id: str, sequence_number: str) -> None:
        positions = {**self.positions, shard_id: sequence_number}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(positions, fh)
            fh.flush()
            os.fsync(fh.fileno())
        Path(temporary).replace(self.path)
        self.positions = positions
