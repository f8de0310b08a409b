"""``make dev`` for the soak: started in a child process (``local.soak.devserver``), with its
storage proxy, its banner and state file read for the addresses, keys and process ids the faults
and the invariants need.

The storage server is killed and restarted by the soak itself: ``restart_storage`` reads the
running ``weed``'s command line, directory and environment from ``/proc``, kills its process group,
and starts the same command again, so it listens on the same S3 port (URLs are signed for
host:port) over the same data directory. The soak stops that new process at the end; ``make dev``
stops what it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.cfn import ROOT
from local.soak.devserver import SKEW_FILE_VAR
from local.token import mint_token

BANNER_END = "Ctrl-C stops everything."
_S3_LINE = re.compile(r"S3 \(SeaweedFS.*?(http://\S+)\s+bucket (\S+)\s+pid (\d+)")
_MOTO_LINE = re.compile(r"\(moto server\)\s+(http://\S+)\s+pid (\d+)")


class StackError(RuntimeError):
    pass


@dataclass
class Stack:
    """A running ``make dev``: where everything is."""

    base_url: str
    proxy_url: str
    s3_url: str
    bucket: str
    moto_url: str
    moto_pid: int
    storage_pid: int
    state: dict[str, Any]
    data_dir: Path
    skew_file: Path
    restarted: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def config(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.state["doctor"]["env"]["PRESIGN_CONFIG"])
        return parsed

    def token(self, sub: str) -> str:
        return str(
            mint_token(
                sub,
                secret=self.state["jwt_secret"],
                issuer=self.state["issuer"],
                audience=self.state["audience"],
                ttl=4 * 3600,
            )
        )

    def s3(self) -> Any:
        """boto3 S3 straight to SeaweedFS (not through the proxy), with the stack's keys."""
        import boto3
        from botocore.config import Config

        env = self.state["doctor"]["env"]
        return boto3.client(
            "s3",
            endpoint_url=self.s3_url,
            region_name="us-east-1",
            aws_access_key_id=env["PRESIGN_S3_ACCESS_KEY_ID"],
            aws_secret_access_key=env["PRESIGN_S3_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}),
        )

    def dynamodb(self) -> Any:
        import boto3

        return boto3.client(
            "dynamodb",
            endpoint_url=self.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def table(self, logical_id: str) -> str:
        names = [n for n in self.dynamodb().list_tables()["TableNames"] if n.endswith(logical_id)]
        if len(names) != 1:
            raise StackError(f"no single table named *{logical_id} in moto: {names}")
        return str(names[0])

    # -- faults ----------------------------------------------------------------------------
    def set_skew(self, seconds: float) -> None:
        self.skew_file.write_text(f"{seconds}\n", "utf-8")

    def restart_storage(self, down_for: float) -> float:
        """Kill SeaweedFS (SIGKILL, its whole group), wait ``down_for`` seconds, start the same
        command again and wait until it answers; the seconds it took to answer again."""
        pid = self.storage_pid
        proc = Path(f"/proc/{pid}")
        argv = [a.decode() for a in (proc / "cmdline").read_bytes().split(b"\0") if a]
        cwd = (proc / "cwd").readlink()
        env = dict(
            line.decode().split("=", 1)
            for line in (proc / "environ").read_bytes().split(b"\0")
            if b"=" in line
        )
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        time.sleep(down_for)
        started = time.monotonic()
        log = (self.data_dir / f"weed-restart-{len(self.restarted) + 1}.log").open("ab")
        new = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.restarted.append(new)
        self.storage_pid = new.pid
        s3 = self.s3()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if new.poll() is not None:
                raise StackError(f"SeaweedFS exited on restart ({new.returncode}); see {log.name}")
            try:
                s3.head_bucket(Bucket=self.bucket)
                return time.monotonic() - started
            except Exception:  # noqa: BLE001 - not up yet, whatever it says
                time.sleep(0.2)
        raise StackError("SeaweedFS did not answer within 60 s of its restart")

    def stop_restarted(self) -> None:
        for proc in self.restarted:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextlib.contextmanager
def running_stack(work: Path, *, concurrency: int = 1, timeout: float = 90) -> Iterator[Stack]:
    """``make dev --storage-proxy`` on free ports over ``work``, ``concurrency`` invocations at once;
    SIGINT (then SIGKILL) at the end."""
    work.mkdir(parents=True, exist_ok=True)
    state_file, skew_file = work / "state.json", work / "skew"
    skew_file.write_text("0\n", "utf-8")
    command = [
        sys.executable,
        "-m",
        "local.soak.devserver",
        "--port",
        "0",
        "--storage-proxy",
        "--data-dir",
        str(work / "data"),
        "--state-file",
        str(state_file),
        "--concurrency",
        str(concurrency),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}/layers/presign:{ROOT}",
        "PYTHONUNBUFFERED": "1",
        SKEW_FILE_VAR: str(skew_file),
        "LOG_LEVEL": "WARNING",
    }
    log = (work / "dev.log").open("w")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    stack: Stack | None = None
    try:
        stack = _wait_for_banner(proc, work, state_file, skew_file, timeout)
        yield stack
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if stack is not None:
            stack.stop_restarted()
        log.close()


def _wait_for_banner(
    proc: subprocess.Popen[bytes], work: Path, state_file: Path, skew_file: Path, timeout: float
) -> Stack:
    deadline = time.monotonic() + timeout
    banner = ""
    while BANNER_END not in banner:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise StackError(f"make dev did not start:\n{(work / 'dev.log').read_text()[-3000:]}")
        time.sleep(0.3)
        banner = (work / "dev.log").read_text()
    s3, moto = _S3_LINE.search(banner), _MOTO_LINE.search(banner)
    if s3 is None or moto is None:
        raise StackError(f"make dev's banner names no SeaweedFS or moto pid:\n{banner[:3000]}")
    state = json.loads(state_file.read_text("utf-8"))
    return Stack(
        base_url=state["base_url"],
        proxy_url=state["storage_proxy"],
        s3_url=s3.group(1),
        bucket=s3.group(2),
        moto_url=moto.group(1),
        moto_pid=int(moto.group(2)),
        storage_pid=int(s3.group(3)),
        state=state,
        data_dir=work / "data",
        skew_file=skew_file,
    )
