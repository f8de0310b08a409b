"""A static file server for ``examples/``: the demo app, the Uppy example and the API reference.

``make dev`` serves them from an origin of their own (another port), so every request the pages
make to the API is cross-origin and goes through CORS exactly as it would from a deployed SPA.
Bound to 127.0.0.1 only; no directory listings; nothing outside the served folder; a request
whose ``Host`` is not this server's own (``127.0.0.1:<port>``, ``localhost:<port>``) is refused,
so a page on another site cannot read these files through a name it points at 127.0.0.1.
"""

from __future__ import annotations

import mimetypes
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from local.cfn import ROOT
from local.servers import local_hosts

EXAMPLES = ROOT / "examples"

# Browsers refuse JavaScript modules served with any type but a JavaScript one.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/json", ".map")


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        address = self.server.server_address
        assert isinstance(address, tuple)  # an (address, port) socket: bound to 127.0.0.1
        if (self.headers.get("Host") or "").lower() not in local_hosts(int(address[1])):
            self.send_error(403, "not a Host this server answers")
            return False
        return True

    def list_directory(self, path: Any) -> None:
        self.send_error(404, "no listings")
        return None

    def end_headers(self) -> None:
        # The pages change while someone works on them: never serve a stale module.
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


class StaticServer:
    """Serves ``directory`` on http://127.0.0.1:``port`` (0: any free port) until closed."""

    def __init__(self, directory: Path = EXAMPLES, port: int = 0) -> None:
        self.directory = directory.resolve()
        self._httpd = ThreadingHTTPServer(
            ("127.0.0.1", port), partial(_Handler, directory=str(self.directory))
        )
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="static", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StaticServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
