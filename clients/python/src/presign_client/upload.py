"""One upload, start to end: the create (kept in a resume record first), the bytes (one PUT, or
parts in parallel), the completion; and the same from wherever an earlier run stopped.

Resume rules (the TypeScript client keeps the same):

* the record is written before ``POST /uploads``, with the ``Idempotency-Key`` and the exact
  body, so a create whose answer was lost is replayed and answers the same upload;
* a multipart upload asks ``GET /uploads/{id}`` which parts the storage has, and sends only the
  others (their URLs from ``/parts``);
* a single PUT cannot have its URL renewed: it replays its create (same key, same body), which
  answers the same upload and URL while that URL lives;
* an upload found complete is answered as it is; rejected raises ``UploadRejected``; expired or
  unknown means the record is stale: it is dropped, and ``Client.upload`` starts afresh
  (``Client.resume`` of that id raises ``ResumeError``);
* an upload a DELETE ended (``410 upload_aborted`` / ``upload_deleted``: someone stopped it from
  another terminal or device) is never made again behind their back: the record is dropped and
  the ``GoneError`` raised; the same ``upload`` once more starts afresh.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from presign_client.api import Api, path_of
from presign_client.errors import (
    ApiError,
    ConflictError,
    GoneError,
    Interrupted,
    NotFoundError,
    RateLimitedError,
    ResumeError,
    UnavailableError,
    UploadRejected,
)
from presign_client.parts import PartUrls
from presign_client.progress import Progress, ProgressCallback
from presign_client.source import Body, Source
from presign_client.state import ResumeRecord, ResumeStore
from presign_client.storage import Signed, Storage

Completed = dict[str, Any]
STALE = ("aborted", "expired", "deleted")
COMPLETED_FIELDS = ("upload_id", "key", "size", "content_type", "etag", "status")


# What GET /uploads/{id} answers for an upload a DELETE ended (it was pending, or complete).
DELETED = frozenset(("upload_aborted", "upload_deleted"))


class _Halt(threading.Event):
    """Set by the first failure; and set, as far as anyone asks, once the caller's ``stop`` is
    (a part that is about to start, or a body between two blocks, sees it at once)."""

    def __init__(self, stop: threading.Event | None) -> None:
        super().__init__()
        self._stop = stop

    def is_set(self) -> bool:
        return super().is_set() or (self._stop is not None and self._stop.is_set())


class Stale(Exception):
    """The record names an upload that cannot go on (internal: a fresh upload follows)."""


class Uploader:
    def __init__(
        self,
        api: Api,
        storage: Storage,
        store: ResumeStore | None,
        scope: str,
        *,
        concurrency: int = 4,
    ) -> None:
        self.api = api
        self.storage = storage
        self.store = store
        self.scope = scope
        self.concurrency = max(1, concurrency)

    # -- entry points ----------------------------------------------------------------------------

    def upload(
        self,
        source: Source,
        request: dict[str, Any],
        *,
        fingerprint: str | None,
        path: str | None,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> Completed:
        """Continue this file's interrupted upload with these options if there is one, else start."""
        if fingerprint is None:
            self.store = None  # a file object: no path to come back to, so no record
        record = self.store.find(self.scope, fingerprint) if self.store and fingerprint else None
        if record is not None:
            try:
                return self._go(record, source, on_progress, stop)
            except GoneError as exc:
                if exc.code in DELETED:
                    raise  # someone chose to stop it: never made again behind their back
                self._forget(record)  # gone meanwhile (its lifetime ended): start afresh
            except Stale:
                self._forget(record)
        record = ResumeRecord(
            scope=self.scope,
            fingerprint=fingerprint or uuid.uuid4().hex,
            path=path or "",
            size=source.size,
            idempotency_key=str(uuid.uuid4()),
            request=request,
        )
        try:
            return self._go(record, source, on_progress, stop)
        except Stale as exc:
            raise ResumeError(str(exc)) from None

    def resume(
        self,
        record: ResumeRecord,
        source: Source,
        *,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> Completed:
        try:
            return self._go(record, source, on_progress, stop)
        except Stale as exc:
            self._forget(record)
            raise ResumeError(f"upload {record.upload_id} cannot be resumed: {exc}") from None

    # -- the flow --------------------------------------------------------------------------------

    def _go(
        self,
        record: ResumeRecord,
        source: Source,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> Completed:
        progress = Progress(source.size, on_progress)
        status = self._status(record) if record.upload_id is not None else None
        if status is not None and status["status"] == "complete":
            # Completed before the interruption (or by the storage's event): answer it as
            # /complete would, without asking again (a replayed completion with another body
            # would be a reused Idempotency-Key).
            self._forget(record)
            progress.done(0, source.size)
            return {name: status.get(name) for name in COMPLETED_FIELDS}
        if status is not None and status.get("multipart") is not None:
            plan = status["multipart"]
            parts = self._send_parts(record, source, plan, [], _stored_parts(status), progress, stop)
            return self._complete(record, parts, stop)
        if status is not None:  # a single PUT: perhaps stored before the interruption
            try:
                return self._complete(record, None, stop)
            except ConflictError as exc:
                if exc.code != "not_uploaded":
                    raise
        grant = self._create(record, stop)  # a first create, or the replay of one
        if grant.get("multipart") is not None:
            plan = grant["multipart"]
            parts = self._send_parts(record, source, plan, plan["parts"], {}, progress, stop)
            return self._complete(record, parts, stop)
        self._send_single(record, source, grant, progress, stop)
        return self._complete(record, None, stop)

    def _status(self, record: ResumeRecord) -> dict[str, Any]:
        try:
            status: dict[str, Any] = self.api.call("GET", path_of("uploads", str(record.upload_id)))
        except GoneError as exc:
            if exc.code in DELETED:
                self._forget(record)
                raise
            raise Stale(exc.message) from None
        except NotFoundError as exc:
            raise Stale(exc.message) from None
        if status["status"] == "rejected":
            self._forget(record)
            raise UploadRejected(str(record.upload_id), list(status.get("problems") or []))
        if status["status"] in STALE:
            raise Stale(f"it was {status['status']}")
        return status

    def _create(self, record: ResumeRecord, stop: threading.Event | None) -> dict[str, Any]:
        self._save(record)  # before the request: a lost answer is replayed with the same key
        try:
            grant: dict[str, Any] = self.api.call(
                "POST", "/uploads", record.request, idempotency_key=record.idempotency_key, stop=stop
            )
        except (GoneError, ConflictError) as exc:
            if exc.code in ("upload_gone", "upload_not_pending"):
                raise Stale(exc.message) from None  # a replay of an upload whose URL has expired
            self._forget(record)
            raise
        except (RateLimitedError, UnavailableError):
            raise  # not created, or not known to be: the record stays, a resume replays the create
        except ApiError:
            self._forget(record)  # refused: there is nothing to resume
            raise
        record.upload_id = grant["upload_id"]
        plan = grant.get("multipart")
        record.multipart = plan is not None
        if plan is not None:
            record.part_size, record.part_count = plan["part_size"], plan["part_count"]
        self._save(record)
        return grant

    def _send_single(
        self,
        record: ResumeRecord,
        source: Source,
        grant: dict[str, Any],
        progress: Progress,
        stop: threading.Event | None,
    ) -> None:
        upload_id = record.upload_id

        def body() -> Body:
            return Body(source, 0, source.size, progress.attempt(0), stop, upload_id)

        signed = Signed(grant["url"], dict(grant["headers"]))
        self.storage.put("PUT", signed, body, stop=stop, upload_id=upload_id)
        progress.done(0, source.size)

    def _send_parts(
        self,
        record: ResumeRecord,
        source: Source,
        plan: dict[str, Any],
        first_urls: list[dict[str, Any]],
        stored: dict[int, str],
        progress: Progress,
        stop: threading.Event | None,
    ) -> list[dict[str, Any]]:
        upload_id = str(record.upload_id)
        part_size, count = int(plan["part_size"]), int(plan["part_count"])
        if plan.get("part_checksums"):
            raise ResumeError("uploads with part checksums are not supported by this client yet")
        sizes = {n: min(part_size, source.size - (n - 1) * part_size) for n in range(1, count + 1)}
        etags = dict(stored)
        for n in stored:
            progress.done(n, sizes[n])
        missing = [n for n in range(1, count + 1) if n not in stored]
        halt = _Halt(stop)
        urls = PartUrls(self.api, upload_id, missing, first_urls, stop=halt)
        lock = threading.Lock()

        def send(n: int) -> None:
            offset = (n - 1) * part_size

            def body() -> Body:
                return Body(source, offset, sizes[n], progress.attempt(n), halt, upload_id)

            etag = self.storage.put(
                f"part {n}", urls.get(n), body, renew=lambda: urls.renew(n), stop=halt, upload_id=upload_id
            )
            progress.done(n, sizes[n])
            with lock:
                etags[n] = etag
                record.parts[str(n)] = etag
                self._save(record)

        self._run_all(send, missing, halt, stop, upload_id)
        return [{"part_number": n, "etag": etags[n]} for n in range(1, count + 1)]

    def _run_all(
        self,
        send: Callable[[int], None],
        numbers: list[int],
        halt: threading.Event,
        stop: threading.Event | None,
        upload_id: str,
    ) -> None:
        """``send`` each number on ``concurrency`` threads; the first failure stops the rest.

        Daemon threads, not a ThreadPoolExecutor: on Ctrl-C the program must end now, not when
        the storage answers the PUTs in flight (an executor's threads are joined at exit). A
        body being sent stops at its next block (``Body.read`` watches ``halt``).
        """
        queue = list(reversed(numbers))
        errors: list[BaseException] = []
        lock = threading.Lock()

        def work() -> None:
            while not halt.is_set():
                with lock:
                    if not queue:
                        return
                    n = queue.pop()
                try:
                    send(n)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    with lock:
                        errors.append(exc)
                    halt.set()

        workers = [
            threading.Thread(target=work, name=f"presign-part-{i}", daemon=True)
            for i in range(min(self.concurrency, len(numbers)))
        ]
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                while worker.is_alive():
                    if stop is not None and stop.is_set():
                        halt.set()
                    worker.join(0.2)
        except KeyboardInterrupt:  # Ctrl-C in the main thread: stop the parts, keep the record
            halt.set()
            raise
        real = [e for e in errors if not isinstance(e, Interrupted)]
        if real:
            raise real[0]
        if errors or halt.is_set():
            raise Interrupted(upload_id)

    def _complete(
        self, record: ResumeRecord, parts: list[dict[str, Any]] | None, stop: threading.Event | None
    ) -> Completed:
        upload_id = str(record.upload_id)
        if stop is not None and stop.is_set():
            raise Interrupted(upload_id)  # everything may be sent: still, stopping was asked
        body: dict[str, Any] = {"parts": parts} if parts is not None else {}
        try:
            completed: Completed = self.api.call(
                "POST",
                path_of("uploads", upload_id, "complete"),
                body,
                # Its own key: a retry after a lost answer spends the limit once.
                idempotency_key=str(uuid.uuid4()),
                stop=stop,
                upload_id=upload_id,
            )
        except ApiError as exc:
            if exc.code in ("upload_mismatch", "content_mismatch"):
                self._forget(record)
                raise UploadRejected(upload_id, [exc.message]) from exc
            if exc.code == "upload_not_pending":  # rejected by the storage's event, or aborted
                status = self._status(record)
                raise Stale(f"it is {status['status']}") from exc
            raise
        self._forget(record)
        return completed

    def _save(self, record: ResumeRecord) -> None:
        if self.store is None:
            return
        try:
            self.store.save(record)
        except OSError as exc:  # a read-only home, a full disk: upload anyway, without resume
            self.api.note(
                f"cannot keep a resume record in {self.store.directory} ({exc.strerror}):"
                " this upload will not resume after an interruption"
            )
            self.store = None

    def _forget(self, record: ResumeRecord) -> None:
        if self.store is not None:
            self.store.delete(record)


def _stored_parts(status: dict[str, Any] | None) -> dict[int, str]:
    parts = ((status or {}).get("multipart") or {}).get("parts") or []
    return {int(p["part_number"]): str(p["etag"]) for p in parts}
