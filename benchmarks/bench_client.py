"""The ``presign`` command line against `make dev`, next to boto3's ``upload_file``.

What is timed:

* ``cli multipart``: ``presign upload FILE --json`` (the command `make clients` installs into
  ``.venv-client``), a 64 MiB file in make dev's 5 MiB parts, 4 at a time: the whole process,
  start-up and API calls included (create, parts, complete; the API Gateway emulator runs one
  invocation at a time). Baseline: boto3's ``upload_file`` of the same file to the same bucket
  of the same SeaweedFS, with the same part size and concurrency (``TransferConfig``), its
  client made once, from this process;
* ``Client.upload`` in process: the same upload through the library, its ``Client`` made
  once, so the figure is the transfer and the API calls without the process's start-up;
* ``cli start-up``: ``presign --version`` against ``python -c pass`` on the same interpreter
  (what every command pays before its first request);
* ``import requests`` / ``import tqdm``: the client's two dependencies, each imported in a
  fresh interpreter, against the same bare start.

Samples alternate between the two sides, so a noisy neighbour slows both alike. Run as
``python -m benchmarks bench_client`` or through ``make bench``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "layers" / "presign", ROOT, ROOT / "clients" / "python" / "src"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.e2e.devstack import dev_token, run_dev  # noqa: E402

CLIENT_BIN = ROOT / ".venv-client" / "bin"
SIZE = 64 * 1024 * 1024
PART = 5 * 1024 * 1024
CONCURRENCY = 4
REPEATS = 3
STARTS = 15


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _upload_cli(base_url: str, token: str, path: Path, state: Path) -> float:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(state),
        "PRESIGN_URL": base_url,
        "PRESIGN_TOKEN": token,
        "PRESIGN_STATE_DIR": str(state),
    }
    started = time.perf_counter()
    done = subprocess.run(
        [str(CLIENT_BIN / "presign"), "upload", str(path), "--json", "--concurrency", str(CONCURRENCY)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or json.loads(done.stdout)["status"] != "complete":
        raise RuntimeError(f"presign upload failed ({done.returncode}): {done.stderr[-500:]}")
    return seconds


def _upload_library(base_url: str, token: str, path: Path) -> float:
    from presign_client import Client

    with Client(base_url, token, concurrency=CONCURRENCY, resume=False) as client:
        started = time.perf_counter()
        completed = client.upload(path)
        seconds = time.perf_counter() - started
    if completed["status"] != "complete":
        raise RuntimeError(f"Client.upload: {completed}")
    return seconds


def _boto3_uploader(state: dict[str, Any]) -> Any:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    env = state["doctor"]["env"]
    target = json.loads(env["PRESIGN_CONFIG"])["targets"]["local"]
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=target["endpoint_url"],
        region_name=target["region"],
        aws_access_key_id=env["PRESIGN_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["PRESIGN_S3_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )
    config = TransferConfig(
        multipart_threshold=8 * 1024 * 1024, multipart_chunksize=PART, max_concurrency=CONCURRENCY
    )

    def upload(path: Path) -> float:
        started = time.perf_counter()
        client.upload_file(str(path), target["bucket"], f"bench/boto3/{uuid.uuid4().hex}.bin", Config=config)
        return time.perf_counter() - started

    return upload


def _start_ms(argv: list[str]) -> float:
    samples = []
    for _ in range(STARTS):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        samples.append(time.perf_counter() - started)
    return _median_ms(samples)


def _startup_rows() -> list[dict[str, Any]]:
    python = str(CLIENT_BIN / "python")
    bare = _start_ms([python, "-c", "pass"])
    rows = []
    for name, argv in (
        ("cli start-up (presign --version)", [str(CLIENT_BIN / "presign"), "--version"]),
        ("import requests (the HTTP client)", [python, "-c", "import requests"]),
        ("import tqdm (the progress bar, on a terminal only)", [python, "-c", "import tqdm"]),
    ):
        ours = _start_ms(argv)
        rows.append({"name": name, "ms": round(ours, 1), "bare_python_ms": round(bare, 1),
                     "added_ms": round(ours - bare, 1)})  # fmt: skip
    return rows


def run() -> list[dict[str, Any]]:
    if not (CLIENT_BIN / "presign").exists():
        raise RuntimeError(f"{CLIENT_BIN / 'presign'} is missing: run `make clients`")
    rows = _startup_rows()
    with tempfile.TemporaryDirectory(prefix="bench-client-") as tmp:
        work = Path(tmp)
        source = work / "bench.bin"
        source.write_bytes(os.urandom(SIZE))
        with run_dev(work / "dev") as stack:
            boto3_upload = _boto3_uploader(stack.state)
            cli: list[float] = []
            boto: list[float] = []
            lib: list[float] = []
            boto3_upload(source)  # warm-up: the page cache, SeaweedFS's first volume, boto3's imports
            for i in range(REPEATS):
                # A caller of its own each time: make dev's upload limit is 5 at once per caller.
                token = dev_token(stack.state, f"bench-{uuid.uuid4().hex[:8]}")
                cli.append(_upload_cli(stack.base_url, token, source, work / f"state-{i}"))
                boto.append(boto3_upload(source))
                lib.append(_upload_library(stack.base_url, dev_token(stack.state, f"lib-{i}"), source))
    mib = SIZE / (1024 * 1024)
    cli_s, boto_s, lib_s = statistics.median(cli), statistics.median(boto), statistics.median(lib)
    rows.append(
        {
            "name": f"cli multipart upload, {mib:.0f} MiB in 5 MiB parts x{CONCURRENCY} (vs boto3 upload_file)",
            "cli_MiB_s": round(mib / cli_s, 1),
            "boto3_MiB_s": round(mib / boto_s, 1),
            "cli_s": round(cli_s, 2),
            "boto3_s": round(boto_s, 2),
            "ratio": round(cli_s / boto_s, 2),
        }
    )
    rows.append(
        {
            "name": "Client.upload in process, same file (vs boto3 upload_file)",
            "client_MiB_s": round(mib / lib_s, 1),
            "boto3_MiB_s": round(mib / boto_s, 1),
            "ratio": round(lib_s / boto_s, 2),
        }
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
