"""PUTs and GETs to the storage with presigned URLs, retried as S3 clients do.

* exactly the headers the API returned (they are signed) and nothing of ours but the standard
  ones; never the API's token;
* ``403`` whose message is the storage's ``Request has expired``: the URL is renewed (``renew``,
  which asks ``POST /uploads/{id}/parts``) and the part sent again; any other ``403`` is final;
* ``429`` / ``503`` (``SlowDown``) wait ``Retry-After``; ``500`` / ``502`` / ``504`` and no
  answer back off with jitter, all within ``patience`` seconds (``retry.py``);
* no URL ever reaches an error message or a note: they carry signatures.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import requests

from presign_client.api import USER_AGENT, RetryNote, Sessions
from presign_client.errors import Interrupted, NetworkError, StorageError
from presign_client.retry import DEFAULT_PATIENCE, Retry, parse_retry_after
from presign_client.source import Body

TIMEOUT = (10.0, 300.0)
MAX_RENEWALS = 3  # per PUT: fresh URLs that may still be refused as expired (a clock far off)
# What AWS S3, MinIO, SeaweedFS and R2 say in the <Message> of an expired presigned URL's 403.
EXPIRED = re.compile(rb"Request has expired", re.IGNORECASE)
_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")
_NETWORK = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


@dataclass(frozen=True)
class Signed:
    """A presigned request: its URL and the headers signed into it."""

    url: str
    headers: dict[str, str]


class Storage:
    def __init__(
        self,
        *,
        patience: float = DEFAULT_PATIENCE,
        timeout: tuple[float, float] = TIMEOUT,
        on_retry: RetryNote | None = None,
    ) -> None:
        self.patience = patience
        self.timeout = timeout
        self.on_retry = on_retry
        self.sessions = Sessions()

    def put(
        self,
        what: str,
        signed: Signed,
        body: Callable[[], Body],
        *,
        renew: Callable[[], Signed] | None = None,
        stop: threading.Event | None = None,
        upload_id: str | None = None,
    ) -> str:
        """PUT ``body()`` (a fresh body for each attempt); the answer's ETag (may be empty)."""
        retry = Retry(self.patience, stop=stop, upload_id=upload_id)
        renewals = 0
        while True:
            if stop is not None and stop.is_set():
                raise Interrupted(upload_id)
            try:
                answer = self.sessions.get().put(
                    signed.url, data=body(), headers=signed.headers, timeout=self.timeout
                )
            except _NETWORK as exc:
                self._backoff(retry, what, None, f"no answer ({type(exc).__name__})", exc)
                continue
            with answer:
                if answer.ok:
                    return answer.headers.get("ETag", "")
                payload = answer.content[:4096]
            code = _s3_code(payload)
            if answer.status_code == 403 and renew is not None and renewals < MAX_RENEWALS:
                # Expired: renew, as often as that happens (a long pause). Any other 403: renew
                # once (docs/clients.md: a clock off by more than the URL's life looks the same).
                expired = EXPIRED.search(payload) is not None
                if expired or renewals == 0:
                    renewals += 1
                    reason = "an expired URL" if expired else f"the URL ({code or 403})"
                    self._note(f"{what}: the storage refused {reason}: renewed it")
                    signed = renew()
                    continue
            if answer.status_code in (429, 500, 502, 503, 504):
                retry_after = parse_retry_after(answer.headers.get("Retry-After"))
                label = f"{answer.status_code}{f' {code}' if code else ''}"
                self._backoff(retry, what, retry_after, label, StorageError(what, answer.status_code, code))
                continue
            raise StorageError(what, answer.status_code, code)

    def get(
        self,
        what: str,
        url: str,
        sink: BinaryIO,
        *,
        on_bytes: Callable[[int], None] | None = None,
        on_start: Callable[[int | None], None] | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """GET ``url`` into ``sink`` (from its start, again on a retry); the bytes written.
        ``on_start`` gets the size (None: not said) each time an attempt starts receiving."""
        retry = Retry(self.patience, stop=stop)
        while True:
            sink.seek(0)
            sink.truncate()
            written = 0
            try:
                with self.sessions.get().get(url, stream=True, timeout=self.timeout) as answer:
                    if answer.ok:
                        if on_start is not None:
                            length = answer.headers.get("Content-Length", "")
                            on_start(int(length) if length.isdigit() else None)
                        for chunk in _chunks(answer):
                            if stop is not None and stop.is_set():
                                raise Interrupted(None)
                            sink.write(chunk)
                            written += len(chunk)
                            if on_bytes is not None:
                                on_bytes(len(chunk))
                        return written
                    status, payload = answer.status_code, answer.content[:4096]
                    retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            except _NETWORK as exc:
                self._backoff(retry, what, None, f"no answer ({type(exc).__name__})", exc)
                continue
            code = _s3_code(payload)
            if status in (429, 500, 502, 503, 504):
                error = StorageError(what, status, code)
                self._backoff(retry, what, retry_after, f"{status}{f' {code}' if code else ''}", error)
                continue
            raise StorageError(what, status, code)

    def _backoff(
        self, retry: Retry, what: str, retry_after: float | None, label: str, error: Exception
    ) -> None:
        growing = retry_after is None or not label.startswith("429")
        wait = retry.next(retry_after, growing=growing)
        if wait is None:
            if isinstance(error, StorageError):
                raise error
            raise NetworkError(f"{what}: {label}") from error
        if isinstance(error, StorageError):
            after = "none" if retry_after is None else f"{retry_after:g}"
            self._note(f"{what}: {label} from the storage, Retry-After {after}: retrying in {wait:.1f} s")
        else:
            self._note(f"{what}: {label} from the storage: retrying in {wait:.1f} s")
        retry.sleep(wait)

    def _note(self, text: str) -> None:
        if self.on_retry is not None:
            self.on_retry(text)

    def close(self) -> None:
        self.sessions.close()


def _chunks(answer: requests.Response) -> Iterator[bytes]:
    yield from answer.iter_content(1 << 20)


def _s3_code(payload: bytes) -> str | None:
    """S3's ``<Code>`` (``AccessDenied``, ``SlowDown``, ...): a word, never the URL."""
    match = _CODE.search(payload)
    return match.group(1).decode("ascii", "replace") if match else None


__all__ = ["USER_AGENT", "Signed", "Storage"]
