"""``Client``: the whole API in calls that do the whole job.

Every call that can be retried is (``api.py``, ``storage.py``); uploads resume (``upload.py``);
nothing here prints. Use it from several threads at once only if each has its own ``Client``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Literal, Self

from presign_client.api import Api, RetryNote, path_of
from presign_client.errors import ApiError, AuthError, NotFoundError, ResumeError
from presign_client.progress import ProgressCallback
from presign_client.retry import DEFAULT_PATIENCE
from presign_client.source import FileObjectSource, PathSource, Source
from presign_client.state import ResumeRecord, ResumeStore, scope_of, token_subject
from presign_client.storage import Storage
from presign_client.upload import Uploader

OCTET_STREAM = "application/octet-stream"
Status = Literal["pending", "complete", "rejected", "aborted", "expired", "deleted"]


class Client:
    """A client of one presign API for one caller.

    ``token`` is the bearer token, or a function that returns a current one (called for each
    request). ``concurrency``: parts sent at once. ``patience``: seconds a failing request is
    retried before its error is raised (time, not a count). ``state_dir``: where resume records
    live (``state.state_dir()`` by default); ``resume=False`` keeps none. ``on_retry`` receives
    a line for each retry (never a URL or a token).
    """

    def __init__(
        self,
        base_url: str,
        token: str | Callable[[], str],
        *,
        concurrency: int = 4,
        patience: float = DEFAULT_PATIENCE,
        state_dir: str | os.PathLike[str] | None = None,
        resume: bool = True,
        on_retry: RetryNote | None = None,
    ) -> None:
        self.api = Api(base_url, token, patience=patience, on_retry=on_retry)
        self.storage = Storage(patience=patience, on_retry=on_retry)
        self.store = ResumeStore(state_dir) if resume else None
        self.concurrency = concurrency

    @property
    def scope(self) -> str:
        return scope_of(self.api.base_url, token_subject(self.api.token()))

    def _uploader(self, concurrency: int | None) -> Uploader:
        return Uploader(
            self.api, self.storage, self.store, self.scope, concurrency=concurrency or self.concurrency
        )

    # -- uploads ---------------------------------------------------------------------------------

    def upload(
        self,
        file: str | os.PathLike[str] | BinaryIO,
        *,
        kind: str | None = None,
        target: str | None = None,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        expires_in: int | None = None,
        multipart: bool | None = None,
        concurrency: int | None = None,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> dict[str, Any]:
        """Upload a file (a path, or a binary file object from its current position) and
        answer the completed record: ``upload_id``, ``key``, ``size``, ``content_type``,
        ``etag``, ``status``. A path whose earlier upload with the same options was interrupted
        continues that upload. ``stop`` (an Event) interrupts: ``Interrupted`` is raised and the
        resume record kept."""
        source: Source
        path: str | None = None
        if isinstance(file, str | os.PathLike):
            source = PathSource(file)
            path = str(source.path)
        else:
            source = FileObjectSource(file, filename)
        try:
            name = filename or source.name
            request: dict[str, Any] = {
                "filename": name,
                "content_type": content_type or mimetypes.guess_type(name)[0] or OCTET_STREAM,
                "size": source.size,
            }
            optional = {
                "kind": kind,
                "target": target,
                "metadata": dict(metadata) if metadata else None,
                "expires_in": expires_in,
                "multipart": multipart,
            }
            request.update({k: v for k, v in optional.items() if v is not None})
            fingerprint = None
            if isinstance(source, PathSource):
                fingerprint = _fingerprint(source.fingerprint(), request)
            return self._uploader(concurrency).upload(
                source, request, fingerprint=fingerprint, path=path, on_progress=on_progress, stop=stop
            )
        finally:
            source.close()

    def interrupted(self) -> list[ResumeRecord]:
        """This API's and caller's interrupted uploads (resume records), newest first."""
        return self.store.all(self.scope) if self.store is not None else []

    def resume(
        self,
        upload: str | ResumeRecord,
        *,
        concurrency: int | None = None,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> dict[str, Any]:
        """Continue an interrupted upload of this machine's: by upload id, or one of
        ``interrupted()`` (whose create may never have been answered: no id yet)."""
        if isinstance(upload, ResumeRecord):
            record: ResumeRecord | None = upload
        else:
            record = self.store.by_upload_id(self.scope, upload) if self.store is not None else None
        if record is None:
            raise ResumeError(f"no interrupted upload {upload} to resume here")
        upload_id = record.upload_id or "(not created yet)"
        try:
            source = PathSource(record.path)
        except OSError as exc:
            raise ResumeError(f"upload {upload_id}: cannot read {record.path}: {exc.strerror}") from None
        try:
            if _fingerprint(source.fingerprint(), record.request) != record.fingerprint:
                raise ResumeError(f"upload {upload_id}: {record.path} changed since the upload began")
            return self._uploader(concurrency).resume(record, source, on_progress=on_progress, stop=stop)
        finally:
            source.close()

    def status(self, upload_id: str) -> dict[str, Any]:
        """``GET /uploads/{id}``: the record (and, while pending in parts, the stored parts)."""
        answer: dict[str, Any] = self.api.call("GET", path_of("uploads", upload_id))
        return answer

    def list(
        self, *, status: Status | None = None, limit: int = 20, cursor: str | None = None
    ) -> dict[str, Any]:
        """One page of the caller's uploads, newest first: ``{"items": [...], "cursor": ...}``."""
        params: dict[str, str | int] = {"limit": limit}
        if status is not None:
            params["status"] = status
        if cursor is not None:
            params["cursor"] = cursor
        answer: dict[str, Any] = self.api.call("GET", "/uploads", params=params)
        return answer

    def iter_uploads(self, *, status: Status | None = None, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every upload of the caller's, page after page."""
        cursor: str | None = None
        while True:
            page = self.list(status=status, limit=page_size, cursor=cursor)
            yield from page["items"]
            cursor = page.get("cursor")
            if not cursor:
                return

    def delete(self, upload_id: str) -> None:
        """Abort a pending upload or delete a completed one, and forget its resume record."""
        record = self.store.by_upload_id(self.scope, upload_id) if self.store is not None else None
        self.api.call("DELETE", path_of("uploads", upload_id))
        if record is not None and self.store is not None:
            self.store.delete(record)

    # -- downloads and shares ------------------------------------------------------------------

    def download_url(
        self,
        key: str,
        *,
        filename: str | None = None,
        disposition: Literal["attachment", "inline"] | None = None,
        expires_in: int | None = None,
    ) -> str:
        """A presigned GET for one of the caller's keys."""
        body: dict[str, Any] = {"keys": [key]}
        for name, value in (("filename", filename), ("disposition", disposition), ("expires_in", expires_in)):
            if value is not None:
                body[name] = value
        item = self.api.call("POST", "/downloads", body)["items"][0]
        error = item.get("error")
        if error:
            code, message = str(error.get("code", "forbidden")), str(error.get("message", ""))
            kind = NotFoundError if "not_found" in code else AuthError if code == "forbidden" else ApiError
            raise kind(404 if kind is NotFoundError else 403, code, message)
        return str(item["url"])

    def download(
        self,
        key: str,
        dest: str | os.PathLike[str],
        *,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Save the object at ``key`` to ``dest`` (whole or not at all); the bytes written."""
        url = self.download_url(key)
        target = Path(dest)
        # Beside the target (so the rename is atomic), made as open() makes files (the umask's
        # mode, not mkstemp's owner-only one).
        tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.part"
        got, total = [0], [-1]  # total -1: the storage did not say

        def count(n: int) -> None:
            got[0] += n
            if on_progress is not None:
                on_progress(got[0], total[0])

        def start(size: int | None) -> None:
            got[0], total[0] = 0, -1 if size is None else size

        try:
            with tmp.open("x+b") as sink:
                written = self.storage.get("GET", url, sink, on_bytes=count, on_start=start, stop=stop)
            tmp.replace(target)
            return written
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def share(
        self,
        key: str,
        *,
        password: str | None = None,
        max_downloads: int | None = None,
        expires_in: int | None = None,
        filename: str | None = None,
    ) -> dict[str, Any]:
        """A share link for one of the caller's keys: ``url`` (shown once), ``handle``, ..."""
        body: dict[str, Any] = {"key": key}
        for name, value in (
            ("password", password),
            ("max_downloads", max_downloads),
            ("expires_in", expires_in),
            ("filename", filename),
        ):
            if value is not None:
                body[name] = value
        # Not resent after a lost answer: that would make a second link.
        answer: dict[str, Any] = self.api.call("POST", "/shares", body, resend_without_answer=False)
        return answer

    def shares(self, *, cursor: str | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = self.api.call(
            "GET", "/shares", params={"cursor": cursor} if cursor else None
        )
        return answer

    def revoke(self, handle: str) -> None:
        self.api.call("DELETE", path_of("shares", handle))

    # -- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        self.api.close()
        self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _fingerprint(file_fingerprint: str, request: Mapping[str, Any]) -> str:
    """The file and the options together: the same file sent with other options is another upload."""
    options = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{file_fingerprint}\n{options}".encode()).hexdigest()
