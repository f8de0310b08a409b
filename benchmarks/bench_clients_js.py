"""@presign/client (clients/js): its bundle size next to @uppy/aws-s3's and UploadThing's client, and
its multipart throughput against `make dev` next to boto3's ``upload_file`` of the same file.

* ``size``: benchmarks/js/size.mjs bundles what an app imports of each client with esbuild for a
  browser (ES module, minified, tree-shaken, React external) and gzips it at level 9; the
  comparison packages come from benchmarks/js/package-lock.json. Ratio: against @presign/client.
* ``throughput``: a 64 MiB file of random bytes uploaded through the running stack (`make dev`:
  SeaweedFS checking signatures, the API Gateway emulator, moto) by the client from Node
  (benchmarks/js/throughput.mjs: the create, 13 parts of 5 MiB four at a time, the completion, timed
  from the call to the completed record), and by boto3's ``upload_file`` straight to the same
  SeaweedFS with the same part size and concurrency (no API: the floor of what the storage
  takes). Runs alternate, so a noisy neighbour slows both alike. Ratio: against boto3.

Run as ``python benchmarks/bench_clients_js.py``, or through ``make bench`` (which builds the client
and installs benchmarks/js first).
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

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "presign", _ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

HERE = _ROOT / "benchmarks" / "js"
NODE_ENTRY = _ROOT / "clients" / "js" / "dist" / "node.js"
MiB = 1024**2
SIZE = 64 * MiB
PART = 5 * MiB  # make dev's plan for this size
CONCURRENCY = 4
REPEATS = 3


def _require_built() -> None:
    if not NODE_ENTRY.is_file():
        raise RuntimeError("clients/js/dist is missing: run `make clients` (make bench does)")
    if not (HERE / "node_modules" / ".package-lock.json").is_file():
        raise RuntimeError("benchmarks/js/node_modules is missing: `npm ci` there (make bench does)")


def sizes() -> list[dict[str, Any]]:
    done = subprocess.run(
        ["node", str(HERE / "size.mjs")], capture_output=True, text=True, check=True, timeout=300
    )
    measured = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    ours = next(m for m in measured if m["name"] == "@presign/client")
    return [
        {
            "name": f"bundle {m['name']}",
            "min_bytes": m["minified"],
            "gzip_bytes": m["gzipped"],
            "ratio": m["gzipped"] / ours["gzipped"],
        }
        for m in measured
    ]


def _boto3_client(state: dict[str, Any]) -> Any:
    import boto3
    from botocore.config import Config

    env = state["doctor"]["env"]
    target = json.loads(env["PRESIGN_CONFIG"])["targets"]["local"]
    return boto3.session.Session().client(
        "s3",
        region_name=target["region"],
        endpoint_url=target["endpoint_url"],
        aws_access_key_id=env["PRESIGN_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["PRESIGN_S3_SECRET_ACCESS_KEY"],
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    ), target["bucket"]


def throughput() -> list[dict[str, Any]]:
    from boto3.s3.transfer import TransferConfig

    from tests.e2e.devstack import run_dev  # the same `make dev` the e2e tests start

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-clients-js-") as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "video.bin"
        path.write_bytes(os.urandom(SIZE))
        with run_dev(tmp) as stack:
            s3, bucket = _boto3_client(stack.state)
            transfer = TransferConfig(
                multipart_threshold=8 * MiB,
                multipart_chunksize=PART,
                max_concurrency=CONCURRENCY,
                use_threads=True,
            )

            def client_run() -> float:
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": str(tmp),
                    "XDG_STATE_HOME": str(tmp / "state"),
                    "PRESIGN_CLIENT": str(NODE_ENTRY),
                    "PRESIGN_URL": stack.base_url,
                    # a caller per run: make dev's upload limit is 5 at once per sub
                    "TOKEN": stack.token(f"bench-{uuid.uuid4().hex[:8]}"),
                    "FILE": str(path),
                    "CONCURRENCY": str(CONCURRENCY),
                }
                done = subprocess.run(
                    ["node", str(HERE / "throughput.mjs")],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"throughput.mjs: {done.stderr[-500:]}")
                answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
                assert answer["size"] == SIZE, answer
                return float(answer["seconds"])

            def boto3_run() -> float:
                started = time.perf_counter()
                s3.upload_file(str(path), bucket, f"bench/{uuid.uuid4().hex}/video.bin", Config=transfer)
                return time.perf_counter() - started

            client_run()  # warm: the first cold start of each function in the emulator
            boto3_run()
            samples: dict[str, list[float]] = {"client": [], "boto3": []}
            for _ in range(REPEATS):
                samples["client"].append(client_run())
                samples["boto3"].append(boto3_run())
            base = SIZE / MiB / statistics.median(samples["boto3"])
            for name, label in (
                ("client", "@presign/client upload() from Node through make dev"),
                ("boto3", "boto3 upload_file straight to the storage (baseline)"),
            ):
                rate = SIZE / MiB / statistics.median(samples[name])
                rows.append({"name": f"{label}, 64 MiB", "MiB_per_s": rate, "ratio": rate / base})
    return rows


def run() -> list[dict[str, Any]]:
    _require_built()
    return sizes() + throughput()


if __name__ == "__main__":
    for row in run():
        print(row)
