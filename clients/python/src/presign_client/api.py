"""The presign API over HTTP: one ``call`` that sends the token, keeps the ``Idempotency-Key``
for every retry, waits as ``Retry-After`` says and turns error answers into typed errors.

The token goes to the API only: the storage has sessions of its own (``storage.py``), so it
never sees it. Sessions are per thread (parts go up from several), and made on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from presign_client import __version__
from presign_client.errors import ApiError, NetworkError, api_error
from presign_client.retry import DEFAULT_PATIENCE, Retry, parse_retry_after

USER_AGENT = f"presign-client/{__version__} (python-requests/{requests.__version__})"
TIMEOUT = (10.0, 120.0)  # connect, read (seconds): the API answers in well under a second

RetryNote = Callable[[str], None]


class Sessions:
    """One ``requests.Session`` per thread (a Session is not documented as thread-safe)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[requests.Session] = []
        self._lock = threading.Lock()

    def get(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
            with self._lock:
                self._all.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            sessions, self._all = self._all, []
        for session in sessions:
            session.close()


def path_of(*segments: str) -> str:
    """``/uploads/{id}/parts`` with each segment quoted (an id is not trusted to be URL-safe)."""
    return "/" + "/".join(quote(s, safe="") for s in segments)


class Api:
    def __init__(
        self,
        base_url: str,
        token: str | Callable[[], str],
        *,
        patience: float = DEFAULT_PATIENCE,
        timeout: tuple[float, float] = TIMEOUT,
        on_retry: RetryNote | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.patience = patience
        self.timeout = timeout
        self.on_retry = on_retry
        self.sessions = Sessions()

    def token(self) -> str:
        return self._token() if callable(self._token) else self._token

    def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, str | int] | None = None,
        idempotency_key: str | None = None,
        resend_without_answer: bool = True,
        stop: threading.Event | None = None,
        upload_id: str | None = None,
    ) -> Any:
        """One API request, retried as the contract says; the decoded answer (None for 204).

        ``resend_without_answer``: whether a request that got no answer may be sent again. True
        for reads, for POST /uploads (its ``Idempotency-Key`` answers the same upload) and the
        other routes that repeat safely; False for POST /shares, which would make a second link
        (it is still retried when the connection was never made).
        """
        retry = Retry(self.patience, stop=stop, upload_id=upload_id)
        while True:
            headers = {"Authorization": f"Bearer {self.token()}"}
            if idempotency_key is not None:
                headers["Idempotency-Key"] = idempotency_key
            try:
                answer = self.sessions.get().request(
                    method,
                    self.base_url + path,
                    json=dict(body) if body is not None else None,
                    params=dict(params) if params else None,
                    headers=headers,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                never_sent = isinstance(exc, requests.ConnectTimeout) or _refused(exc)
                if not (resend_without_answer or never_sent):
                    raise NetworkError(f"{method} {path}: no answer ({type(exc).__name__})") from exc
                wait = retry.next(None, growing=True)
                if wait is None:
                    raise NetworkError(f"{method} {path}: no answer ({type(exc).__name__})") from exc
                self.note(f"{method} {path}: no answer ({type(exc).__name__}): retrying in {wait:.1f} s")
                retry.sleep(wait)
                continue
            if answer.ok:
                return answer.json() if answer.content else None
            error = self._error(answer)
            retryable = error.status in (429, 503) or error.code == "idempotency_in_progress"
            retryable = retryable or (error.status in (502, 504) and resend_without_answer)
            if not retryable:
                raise error
            # 429 and an in-progress claim say when (the claim is taken over once 30 s old: a
            # steady 1 s beat finds that moment); a 503, or no Retry-After at all (API Gateway's
            # own throttling), backs off further with each attempt.
            growing = error.status >= 500 or error.retry_after is None
            wait = retry.next(error.retry_after, growing=growing)
            if wait is None:
                raise error
            self.note(
                f"{method} {path}: {error.status} {error.code}, Retry-After "
                f"{_seconds(error.retry_after)}: retrying in {wait:.1f} s"
            )
            retry.sleep(wait)

    def _error(self, answer: requests.Response) -> ApiError:
        try:
            decoded: Any = answer.json()
        except ValueError:
            decoded = None
        return api_error(
            answer.status_code,
            decoded,
            retry_after=parse_retry_after(answer.headers.get("Retry-After")),
            fallback=answer.reason or "",
        )

    def note(self, text: str) -> None:
        """A line for ``on_retry`` (what happened, never a URL or a token)."""
        if self.on_retry is not None:
            self.on_retry(text)

    def close(self) -> None:
        self.sessions.close()


def _refused(exc: requests.RequestException) -> bool:
    """A connection that was never made (refused, no route, DNS): nothing reached the server."""
    import urllib3.exceptions

    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError)


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"
