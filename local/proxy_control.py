"""The ``/__proxy/`` API of a storage proxy running in another process (``make dev --storage-proxy``)."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from local.storage_proxy import CONTROL, Exchange, Fault


class ProxyControl:
    """The ``/__proxy/`` API of a proxy running in another process (``make dev --storage-proxy``)."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")

    def _call(self, method: str, what: str, body: Any = None) -> Any:
        parsed = urllib.parse.urlsplit(self.endpoint_url)
        conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, CONTROL + what, body=data, headers={"Content-Type": "application/json"})
            answer = conn.getresponse()
            payload = answer.read()
            if answer.status >= 300:
                raise RuntimeError(f"proxy control {method} {what}: {answer.status} {payload[:200]!r}")
            return json.loads(payload) if payload else None
        finally:
            conn.close()

    def log(self, since: int = 0) -> list[Exchange]:
        return [Exchange(**raw) for raw in self._call("GET", f"log?since={since}")]

    def clear(self) -> None:
        self._call("DELETE", "log")

    def set_faults(self, faults: Sequence[Fault | Mapping[str, Any]]) -> None:
        self._call("PUT", "faults", [asdict(f) if isinstance(f, Fault) else dict(f) for f in faults])
