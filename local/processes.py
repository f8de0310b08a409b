"""A local server as a managed process: ports picked free at runtime on 127.0.0.1, readiness polled
with a bound (a server that does not come up raises ``ServerError`` quoting the tail of its log),
and ``stop()`` sends SIGTERM to the server's whole process group, waits a few seconds, then
SIGKILLs it. ``local.servers`` builds SeaweedFS and moto on it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Self

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0
STOP_GRACE = 5.0


class ServerError(RuntimeError):
    """A local server failed to start (the message carries the tail of its log)."""


# --------------------------------------------------------------------------------------------- ports


def local_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values a server on 127.0.0.1:``port`` answers: its own names, nothing else.

    A page on another site can point a name it controls at 127.0.0.1 (DNS rebinding) and then
    read the answers as its own origin's; its requests still carry that name in ``Host``. (The
    servers bind 127.0.0.1 only, so ``[::1]`` never reaches them.)
    """
    return frozenset({f"{HOST}:{port}", f"localhost:{port}"})


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if nothing listens on host:port right now (a bind test, as the server will do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, *, host: str = HOST) -> list[int]:
    """``count`` distinct ports that are free right now (all held open together while choosing)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind((host, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def free_port_with_offset(offset: int, avoid: set[int], *, host: str = HOST) -> int:
    """A free port P such that P + offset is free too (SeaweedFS derives some gRPC ports that way)."""
    for _ in range(200):
        (port,) = free_ports(1, host=host)
        if port + offset > 65535:
            # The kernel's ephemeral range sits high; step down into a range where +offset fits.
            port = 20000 + (port % 30000)
        if {port, port + offset} & avoid:
            continue
        if port_is_free(port, host) and port_is_free(port + offset, host):
            return port
    raise ServerError(f"could not find a free port P with P+{offset} free as well")


# ------------------------------------------------------------------------------------------ processes


def _parent_death_signal() -> Callable[[], None] | None:
    """Linux: a preexec function after which the child gets SIGTERM if its parent dies, even by
    SIGKILL, so no server outlives a killed test run. The kernel ties this to the parent *thread*,
    so it is only used when starting from the main thread (whose end is the process's end)."""
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:  # pragma: no cover - runs in the child between fork and exec
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))

    return preexec


class ManagedProcess:
    """A server subprocess in its own process group, logging to a file.

    Subclasses implement ``_command()`` and ``_wait_ready(deadline)``; ``start()`` retries with fresh
    ports (``_choose_ports()``) if a port chosen at runtime was grabbed by someone else meanwhile.
    """

    name = "server"
    startup_attempts = 3

    def __init__(self, *, log_path: Path, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- to override
    def _command(self) -> list[str]:
        raise NotImplementedError

    def _wait_ready(self, deadline: float) -> None:
        raise NotImplementedError

    def _choose_ports(self) -> bool:
        """Pick new runtime ports; False if the ports were given by the caller (no retry then)."""
        return False

    def _fixed_ports(self) -> list[int]:
        """Ports the caller asked for: checked before starting, for a clear message."""
        return []

    def _env(self) -> dict[str, str] | None:
        return None

    def _after_stop(self) -> None:
        return None

    # -- public
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        if self.running:
            return self
        for port in self._fixed_ports():
            if not port_is_free(port):
                raise ServerError(f"{self.name}: port {port} on {HOST} is already in use")
        last: ServerError | None = None
        for attempt in range(self.startup_attempts):
            if attempt and not self._choose_ports():
                break
            try:
                self._spawn()
                self._wait_ready(time.monotonic() + self.startup_timeout)
                return self
            except ServerError as exc:
                last = exc
                self.stop()
                if not PORT_CLASH.search(str(exc)):
                    break  # retrying only helps when a port chosen here was taken meanwhile
            except BaseException:
                self.stop()
                raise
        assert last is not None
        raise last

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM the process group, wait up to ``grace`` seconds, then SIGKILL it. Idempotent."""
        proc = self._proc
        if proc is not None:
            pgid = proc.pid  # start_new_session=True: the child leads its own group
            if proc.poll() is None:
                _killpg(pgid, signal.SIGTERM)
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    _killpg(pgid, signal.SIGKILL)
                    proc.wait(timeout=grace)
            # Anything else still in the group (helpers the server forked) goes too.
            _killpg(pgid, signal.SIGKILL)
            self._proc = None
            self._after_stop()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} pid={self.pid} running={self.running}>"

    # -- helpers
    def _spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log is not None:
            self._log.close()
        self._log = self.log_path.open("wb")  # one log per start: old lines must not look new
        env = self._env()
        self._proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() can take the whole group down
            preexec_fn=_parent_death_signal(),
            env=env,
        )

    def _fail(self, why: str) -> ServerError:
        return ServerError(f"{self.name} {why}; last lines of {self.log_path}:\n{self.log_tail()}")

    def _check_alive(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            code = None if self._proc is None else self._proc.returncode
            raise self._fail(f"exited during startup (exit code {code})")


# How the servers say a port was taken (weed checks its ports first: "Port allocation failed").
PORT_CLASH = re.compile(r"address already in use|port allocation failed", re.IGNORECASE)


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def poll(deadline: float, interval: float = 0.05) -> Iterator[None]:
    """Yield until the deadline, sleeping between tries (growing gently to 0.25 s)."""
    while time.monotonic() < deadline:
        yield
        time.sleep(interval)
        interval = min(interval * 1.5, 0.25)
