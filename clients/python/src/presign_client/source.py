"""What is uploaded: a file by path (read at offsets, so parts go up in parallel without a
lock) or a binary file object (read under a lock), and the body of one PUT cut out of it.

A body is a file-like object with ``__len__``: ``requests`` then sends exactly that many bytes
with a ``Content-Length`` (a presigned PUT is signed for its length; a chunked body would be
refused), reading it block by block as the socket takes it, and each block read is counted as
progress.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import BinaryIO, Protocol

from presign_client.errors import Interrupted
from presign_client.progress import Attempt

FINGERPRINT_SAMPLE = 64 * 1024  # bytes read from each end of a file for its fingerprint


class Source(Protocol):
    name: str
    size: int

    def read_at(self, offset: int, count: int) -> bytes: ...

    def close(self) -> None: ...


class PathSource:
    """A regular file, opened once; ``os.pread`` reads at an offset without moving a shared
    position, so threads need no lock (elsewhere, a lock and ``seek``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).resolve()
        self.name = self.path.name
        self._file = self.path.open("rb")
        stat = os.fstat(self._file.fileno())
        self.size = stat.st_size
        self.mtime_ns = stat.st_mtime_ns
        self._lock = threading.Lock()

    def read_at(self, offset: int, count: int) -> bytes:
        if hasattr(os, "pread"):
            return os.pread(self._file.fileno(), count, offset)
        with self._lock:  # pragma: no cover - Windows
            self._file.seek(offset)
            return self._file.read(count)

    def fingerprint(self) -> str:
        """Size, modification time and a digest of both ends: a changed file does not resume."""
        digest = hashlib.sha256(f"{self.size}:{self.mtime_ns}:".encode())
        digest.update(self.read_at(0, FINGERPRINT_SAMPLE))
        digest.update(self.read_at(max(0, self.size - FINGERPRINT_SAMPLE), FINGERPRINT_SAMPLE))
        return digest.hexdigest()

    def close(self) -> None:
        self._file.close()


class FileObjectSource:
    """A binary file object, from its current position to its end (it must be seekable)."""

    def __init__(self, file: BinaryIO, name: str | None = None) -> None:
        self._file = file
        self._lock = threading.Lock()
        self._start = file.tell()
        self.size = file.seek(0, os.SEEK_END) - self._start
        file.seek(self._start)
        raw_name = name or getattr(file, "name", None)
        self.name = Path(raw_name).name if isinstance(raw_name, str) and raw_name else "upload.bin"

    def read_at(self, offset: int, count: int) -> bytes:
        with self._lock:
            self._file.seek(self._start + offset)
            return self._file.read(count)

    def close(self) -> None:
        pass  # the caller's file: the caller closes it


class Body:
    """``length`` bytes of ``source`` from ``offset``, as a file-like body for one attempt."""

    def __init__(
        self,
        source: Source,
        offset: int,
        length: int,
        attempt: Attempt | None = None,
        stop: threading.Event | None = None,
        upload_id: str | None = None,
    ) -> None:
        self._source = source
        self._offset = offset
        self._left = length
        self._length = length
        self._attempt = attempt
        self._stop = stop
        self._upload_id = upload_id

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        count = self._left if size is None or size < 0 else min(size, self._left)
        if count <= 0:
            return b""  # all sent: the answer is worth waiting for, even when stopping
        if self._stop is not None and self._stop.is_set():
            raise Interrupted(self._upload_id)
        data = self._source.read_at(self._offset, count)
        if not data:
            raise OSError("the file got shorter while it was being uploaded")
        self._offset += len(data)
        self._left -= len(data)
        if self._attempt is not None:
            self._attempt.add(len(data))
        return data
