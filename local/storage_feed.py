"""``make dev``'s storage events: SeaweedFS's filer metadata stream, delivered as S3 would.

S3 sends EventBridge an "Object Created" event for every PUT, POST, copy and multipart completion.
SeaweedFS cannot (its S3 API takes PutBucketNotificationConfiguration for a CreateBucket; its
``aws_sqs`` notifier takes no endpoint, so it cannot reach moto), but ``weed filer.meta.tail``
prints every metadata change of its filer as a stream of pretty-printed JSON objects.
``StorageFeed`` runs it as a supervised child for one bucket, keeps the changes S3 would announce,
turns each into S3's EventBridge event (``object_created_event``, with the key raw and a source
of ours that ``presign.storage_events.notifications`` knows) and hands it to a callback, in the filer's order.

Kept: a change whose new entry is a file in the bucket, not under ``.uploads/`` (SeaweedFS stages
multipart parts there; the completion is one creation of the final object), created or updated (an
overwrite is an update). A delete has no new entry; an update that keeps the old chunks changed
only metadata (tagging), for which S3 sends no "Object Created" either.

At least once, in order, resumable: every change has a strictly increasing ``tsNs``; the last one
handled is the cursor, written to a file AFTER the callback returns (a callback that raises is
retried, then the event is logged and skipped, as EventBridge gives up after its retries). The
tail exits (always with 0) when the filer stops or cannot be reached; it is then started again
from the address the ``filer`` callable gives NOW (SeaweedFS may come back on other ports), with
``-timeAgo`` reaching two seconds before the cursor, and changes at or below the cursor are
dropped. A new feed over an existing cursor file does the same, so objects written while the
feed or SeaweedFS was down are still delivered, once.

The gap: the filer holds its newest changes in memory before they reach its log on disk. A
graceful stop writes them; after a SIGKILL of weed, the last minute or so of changes is gone
(spikes.md section 1: a PUT 30 s before the SIGKILL was not replayed, 65 s before it was; the
objects themselves survive). No cursor brings those back. What covers it is a completion sweep of
the pending uploads when the feed starts (issue 20's cleanup completion, wired in phase 2).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from local.servers import HOST, SeaweedFS, find_weed

__all__ = ["DEV_SOURCE", "JsonStream", "StorageFeed", "filer_address", "object_created_event"]

log = logging.getLogger(__name__)

#: ``presign.storage_events.notifications.Source.DEV`` (a test checks they agree). Not ``aws.s3``: EventBridge
#: refuses PutEvents with an ``aws.`` source, and the parser must know this key is raw.
DEV_SOURCE = "presign.dev-storage"
#: How far before the cursor a restarted tail begins: the filer's tsNs and our clock are the same
#: machine's, the margin only has to cover the time between reading the clock and subscribing.
MARGIN_NS = 2_000_000_000
_UPLOADS_DIR = ".uploads/"  # SeaweedFS's multipart staging, inside the bucket
_ETAG = "seaweed-x-amz-etag"
_UPLOAD_ID = "x-seaweedfs-upload-id"  # set on the object a multipart completion made
_EVENT_IDS = uuid.UUID("0b6f6c52-8a43-4f4e-9d8e-5f1d2c7a9e11")  # namespace of the events' ids
_BACKOFF = (0.2, 1.0)  # before starting the tail again: at first, and at most


def filer_address(server: SeaweedFS) -> str:
    """``weed filer.meta.tail -filer=``'s form, ``host:port.grpcPort``, from the server's ports."""
    return f"{HOST}:{server.ports['filer']}.{server.ports['filer.grpc']}"


def object_created_event(
    *,
    bucket: str,
    key: str,
    size: int,
    etag: str | None,
    content_type: str | None,
    ts_ns: int,
    reason: str,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """S3's EventBridge "Object Created" event, with the key raw and this feed's ``source``.

    The id is derived from the change (a redelivery carries the same id, as EventBridge's retries
    do); the sequencer is ``tsNs`` as 16 hex digits, so it orders like S3's. ``content-type`` is
    an addition of ours (MinIO sends one too); S3's event has none.
    """
    when = datetime.fromtimestamp(ts_ns / 1e9, UTC)
    obj: dict[str, Any] = {"key": key, "size": size, "sequencer": f"{ts_ns:016X}"}
    if etag:
        obj["etag"] = etag
    if content_type:
        obj["content-type"] = content_type
    return {
        "version": "0",
        "id": str(uuid.uuid5(_EVENT_IDS, f"{bucket}/{ts_ns}")),
        "detail-type": "Object Created",
        "source": DEV_SOURCE,
        "account": "000000000000",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": str(ts_ns),
            "requester": DEV_SOURCE,
            "reason": reason,
        },
    }


class JsonStream:
    """Whole JSON values out of text that arrives in arbitrary pieces (one value spans many lines).

    A value can only end where a piece ends with ``}``, so decoding is tried only there: a
    pretty-printed object is not re-parsed after each of its lines.
    """

    def __init__(self) -> None:
        self._buffer = ""
        self._decoder = json.JSONDecoder()

    def feed(self, text: str) -> list[Any]:
        self._buffer += text
        values: list[Any] = []
        if not text.rstrip().endswith("}"):
            return values
        while True:
            rest = self._buffer.lstrip()
            if not rest:
                self._buffer = ""
                return values
            try:
                value, end = self._decoder.raw_decode(rest)
            except json.JSONDecodeError:
                self._buffer = rest  # incomplete: wait for more
                return values
            values.append(value)
            self._buffer = rest[end:]


class StorageFeed:
    """One bucket's object creations, from ``weed filer.meta.tail`` to ``deliver``. See the module."""

    def __init__(
        self,
        *,
        bucket: str,
        filer: Callable[[], str],
        cursor_path: Path,
        deliver: Callable[[dict[str, Any]], object],
        weed: str | None = None,
        log_path: Path | None = None,
        attempts: int = 3,
        region: str = "us-east-1",
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """``filer`` gives the filer's current address (``filer_address(server)``); it is called
        each time the tail starts. ``log_path`` receives the tail's stderr."""
        self.bucket = bucket
        self.filer = filer
        self.cursor_path = cursor_path
        self.deliver = deliver
        self.weed = weed or find_weed()
        self.log_path = log_path
        self.attempts = attempts
        self.region = region
        self._clock_ns = clock_ns
        self._root = f"/buckets/{bucket}/"
        self._cursor: int | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        #: How many times the tail was started (the first time included).
        self.tails_started = 0

    # -- lifecycle
    def start(self) -> Self:
        if self._thread is not None:
            return self
        self._cursor = self._read_cursor()
        if self._cursor is None:
            # A first start delivers from now on; saving "now" at once lets a restart of the tail
            # that comes before any event still reach back to this moment.
            self._save_cursor(self._clock_ns())
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"storage-feed-{self.bucket}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the tail and wait for a delivery under way to finish. Idempotent."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None:
            _signal(proc, signal.SIGTERM)  # its stdout ends: the reading thread sees that and returns
        if self._thread is not None:
            if self._thread is not threading.current_thread():  # stop() from inside a callback
                self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def cursor(self) -> int | None:
        """The ``tsNs`` of the last change handled (delivered, skipped or given up on)."""
        return self._cursor

    # -- the supervisor
    def _run(self) -> None:
        backoff = _BACKOFF[0]
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self._tail_once()
            except Exception:  # weed vanished, a log file cannot be written ...: the feed lives on
                log.exception("storage feed: the tail of %s failed; starting it again", self._root)
            if self._stopping.is_set():
                return
            # A tail that ran a while was healthy: start again at once. One that exits at once
            # has no filer to talk to yet (SeaweedFS restarting): back off a little.
            backoff = _BACKOFF[0] if time.monotonic() - started > 5 else min(backoff * 2, _BACKOFF[1])
            self._stopping.wait(backoff)

    def _tail_once(self) -> None:
        address = self.filer()
        cursor = self._cursor if self._cursor is not None else self._clock_ns()
        ago = max(self._clock_ns() - cursor, 0) + MARGIN_NS
        command = [
            self.weed,
            "filer.meta.tail",
            f"-filer={address}",
            f"-pathPrefix={self._root}",
            f"-timeAgo={ago}ns",
        ]
        with contextlib.ExitStack() as stack:
            stderr: IO[bytes] | int = subprocess.DEVNULL
            if self.log_path is not None:
                stderr = stack.enter_context(self.log_path.open("ab"))
            with self._lock:
                if self._stopping.is_set():
                    return
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    text=True,
                    encoding="utf-8",
                    errors="replace",
                    start_new_session=True,  # its own group: stop() takes it down, Ctrl-C does not
                )
                self._proc = proc
                self.tails_started += 1
            try:
                stream = JsonStream()
                assert proc.stdout is not None
                for line in proc.stdout:
                    for change in stream.feed(line):
                        if self._stopping.is_set():
                            return
                        self._handle(change)
            finally:
                _terminate(proc)
                with self._lock:
                    self._proc = None

    def _handle(self, change: Mapping[str, Any]) -> None:
        try:
            ts_ns = int(change["tsNs"])
        except (KeyError, TypeError, ValueError):
            log.warning("storage feed: a change without a tsNs, ignored: %.200r", change)
            return
        if self._cursor is not None and ts_ns <= self._cursor:
            return  # replayed by the margin: handled before
        try:
            event = self.event_for(change)
        except (KeyError, TypeError, ValueError, AttributeError):
            # A shape this weed does not print: skipping it beats stopping every later event.
            log.exception("storage feed: a change it cannot read, skipped: %.200r", change)
            event = None
        if event is not None and not self._deliver(event):
            return  # stopped while retrying: the next start delivers it again
        self._save_cursor(ts_ns)

    def event_for(self, change: Mapping[str, Any]) -> dict[str, Any] | None:
        """The "Object Created" event S3 would send for this filer change, or None."""
        notification = change.get("eventNotification") or {}
        new = notification.get("newEntry")
        if not new or new.get("isDirectory"):
            return None
        old = notification.get("oldEntry")
        if old and _chunks(old) and _chunks(old) == _chunks(new):
            return None  # the same bytes with other metadata (tagging): no creation
        directory = notification.get("newParentPath") or change.get("directory") or ""
        path = f"{directory.rstrip('/')}/{new['name']}"
        if not path.startswith(self._root):
            return None
        key = path[len(self._root) :]
        if key.startswith(_UPLOADS_DIR):
            return None
        attributes = new.get("attributes") or {}
        extended = {name.lower(): value for name, value in (new.get("extended") or {}).items()}
        return object_created_event(
            bucket=self.bucket,
            key=key,
            size=int(attributes.get("fileSize") or 0),
            etag=_etag(extended, attributes),
            content_type=attributes.get("mime") or None,
            ts_ns=int(change["tsNs"]),
            reason="CompleteMultipartUpload" if _UPLOAD_ID in extended else "PutObject",
            region=self.region,
        )

    def _deliver(self, event: dict[str, Any]) -> bool:
        """True once the event is handled: delivered, or given up on after ``attempts``."""
        for attempt in range(1, self.attempts + 1):
            try:
                self.deliver(event)
                return True
            except Exception:  # any failure of the receiver: retry, then give up (logged)
                if attempt == self.attempts:
                    log.exception(
                        "storage feed: giving up on an event after %d attempts (key %r); "
                        "the completion sweep will find the upload",
                        attempt,
                        event["detail"]["object"]["key"],
                    )
                    return True
                if self._stopping.wait(0.1 * attempt):
                    return False
        return True

    # -- the cursor
    def _read_cursor(self) -> int | None:
        try:
            return int(self.cursor_path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    def _save_cursor(self, ts_ns: int) -> None:
        self.cursor_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.cursor_path.with_name(self.cursor_path.name + ".tmp")
        temporary.write_text(str(ts_ns), encoding="ascii")
        temporary.replace(self.cursor_path)  # atomic: a crash leaves the old cursor or the new
        self._cursor = ts_ns


def _chunks(entry: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    # "fileId" is filled in the old entry and empty in the new one for the same chunk: use "fid".
    return [
        (json.dumps(c.get("fid"), sort_keys=True), c.get("offset"), c.get("size"), c.get("modifiedTsNs"))
        for c in entry.get("chunks") or []
    ]


def _etag(extended: Mapping[str, str], attributes: Mapping[str, Any]) -> str | None:
    """The object's S3 ETag: SeaweedFS's extended attribute (base64, as all of them in the
    stream), else the entry's MD5 (base64 of the digest) as hex."""
    try:
        if _ETAG in extended:
            return base64.b64decode(extended[_ETAG]).decode("ascii").strip('"') or None
        if attributes.get("md5"):
            return base64.b64decode(attributes["md5"]).hex()
    except (binascii.Error, UnicodeDecodeError):
        pass
    return None


def _signal(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)  # start_new_session: the tail leads its own group


def _terminate(proc: subprocess.Popen[str]) -> None:
    """End the tail (SIGTERM, then SIGKILL) and close its pipe; only the reading thread calls it."""
    _signal(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        _signal(proc, signal.SIGKILL)
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
