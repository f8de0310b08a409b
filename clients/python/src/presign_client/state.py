"""Resume records: what an interrupted upload needs to go on, in a small file per upload.

Where: ``$PRESIGN_STATE_DIR``, else ``$XDG_STATE_HOME/presign``, else ``~/.local/state/presign``
(``%LOCALAPPDATA%\\presign`` on Windows): a fixed per-user place, whatever the working directory.
Files are ``uploads/<digest>.json``, readable by their owner only.

What: the upload id, the file's path and fingerprint, the ``Idempotency-Key`` and the exact
create body (a single PUT's URL can only be had again by replaying its create), the plan, and
the parts known stored with their ETags. **Never a URL, a token or a signature**: the API's
base URL and the caller are kept only as a digest (``scope``), which finds a record again
without saying where it points. The parts that count on resume are those
``GET /uploads/{id}`` reports; the record's own list only says how far the last run got.

A record is written before the first request (so a create whose answer was lost is replayed
with the same key), kept through interruptions and crashes, and deleted only when the upload
completes, is found gone, or is cancelled (``Client.delete``, ``presign rm``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 1


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("PRESIGN_STATE_DIR"):
        return Path(env["PRESIGN_STATE_DIR"])
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):  # pragma: no cover - Windows
        return Path(env["LOCALAPPDATA"]) / "presign"
    if env.get("XDG_STATE_HOME"):
        return Path(env["XDG_STATE_HOME"]) / "presign"
    return Path.home() / ".local" / "state" / "presign"


def token_subject(token: str) -> str:
    """The ``sub`` of a JWT, read without checking it (only to tell callers' records apart); ""
    for a token that is not a JWT."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return ""
    return str(claims.get("sub", "")) if isinstance(claims, dict) else ""


def scope_of(base_url: str, subject: str) -> str:
    """A digest of the API and the caller: records of another API or caller never match."""
    return hashlib.sha256(f"{base_url.rstrip('/')}\0{subject}".encode()).hexdigest()


@dataclass
class ResumeRecord:
    scope: str
    fingerprint: str
    path: str
    size: int
    idempotency_key: str
    #: The create's exact body: a replay with another body would be refused (422).
    request: dict[str, Any]
    upload_id: str | None = None
    multipart: bool | None = None
    part_size: int | None = None
    part_count: int | None = None
    #: Part number (as a string: JSON) -> ETag, for the parts this client saw stored.
    parts: dict[str, str] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    format: int = FORMAT

    @property
    def filename(self) -> str:
        return str(self.request.get("filename", ""))


class ResumeStore:
    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(directory) if directory is not None else state_dir()
        self.directory = self.root / "uploads"
        self._lock = threading.Lock()

    def _file(self, scope: str, fingerprint: str) -> Path:
        name = hashlib.sha256(f"{scope}:{fingerprint}".encode()).hexdigest()[:40]
        return self.directory / f"{name}.json"

    def find(self, scope: str, fingerprint: str) -> ResumeRecord | None:
        record = _read(self._file(scope, fingerprint))
        return record if record is not None and record.scope == scope else None

    def by_upload_id(self, scope: str, upload_id: str) -> ResumeRecord | None:
        return next((r for r in self.all(scope) if r.upload_id == upload_id), None)

    def all(self, scope: str) -> list[ResumeRecord]:
        """This API's and caller's records, newest first."""
        records = [r for r in map(_read, self._files()) if r is not None and r.scope == scope]
        return sorted(records, key=lambda r: r.created_at, reverse=True)

    def save(self, record: ResumeRecord) -> None:
        """Atomically (a crash leaves the old record or the new one, never half of one)."""
        with self._lock:
            # Owner only: what a user uploads, and from where, is nobody else's business.
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.directory.mkdir(exist_ok=True, mode=0o700)
            target = self._file(record.scope, record.fingerprint)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(asdict(record), out, sort_keys=True)
                Path(tmp).replace(target)
            except BaseException:
                with contextlib.suppress(OSError):
                    Path(tmp).unlink()
                raise

    def delete(self, record: ResumeRecord) -> None:
        with self._lock, contextlib.suppress(FileNotFoundError):
            self._file(record.scope, record.fingerprint).unlink()

    def _files(self) -> Iterator[Path]:
        if self.directory.is_dir():
            yield from self.directory.glob("*.json")


def _read(path: Path) -> ResumeRecord | None:
    try:
        raw = json.loads(path.read_text("utf-8"))
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            return None
        return ResumeRecord(**raw)
    except (OSError, ValueError, TypeError):
        return None  # missing, half-written by another version, or not ours: not resumable
