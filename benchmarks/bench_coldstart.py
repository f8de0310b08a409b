"""Cold start of each function as shipped, against a naive baseline measured in the same run.

What one sample is: a fresh Python process of the runtime's version that imports the handler
module and serves its first request (a sample event from events/, with a valid token), timed from just before the
process is spawned until the response arrives. Interpreter teardown is not counted (Lambda keeps
the process). N samples per variant, interleaved in a shuffled order each round so a noisy
neighbour hurts every variant alike; the figure is the median.

Deployments, each measured for uploads and downloads (meta reads no configuration):
  default            what template.yaml and samconfig.toml set up: the configuration in an SSM
                     parameter (PresignConfigParameter), the HS256 secret in Secrets Manager, both
                     read at cold start from a moto server on 127.0.0.1 (local.servers.MotoServer).
  env                the configuration inline (PresignConfig) and the secret in an environment
                     variable: what a cold start costs with no AWS reads at all.

Runtimes: template.yaml's (python3.X) by default; `--runtimes 3.11,3.13` measures each of these
side by side, every variant built for each (benchmarks/coldstart_build.py), all samples of all
runtimes interleaved, each ratio against the baseline on the same runtime. The code must run on
each: since the move to 3.13 it uses 3.12 syntax (PEP 695 generics), so 3.11 no longer builds;
docs/performance.md has the 3.11 / 3.13 comparison taken before the move.

Variants, for each route:
  candidate          `.aws-sam/build/<Function>` + `.aws-sam/build/PresignLayer/python`, i.e. the
                     output of `sam build` (our makefiles: lean imports, unchecked-hash bytecode);
                     for another runtime than the template's, the same built for that version.
  baseline           benchmarks/baseline/app.py, naive (everything created at import, the
                     configuration and secret read with boto3 clients where the deployment keeps
                     them), shipped the way a plain `sam build` ships it: dependencies vendored
                     next to the handler with `pip install --no-compile` (the layer's lock as
                     constraints, so the same versions), no .pyc anywhere.
  baseline+pyc       the same baseline with bytecode compiled like ours, so the gain from lean
                     imports shows apart from the gain from shipping bytecode.

How Lambda's runtime is emulated (honestly, and the same way for every variant):
  - `python3.X -I -S -B`: no site-packages at all (-S), no PYTHON* variables or cwd on sys.path
    (-I), no bytecode written (-B; the Lambda filesystem is read-only). PYTHONDONTWRITEBYTECODE=1
    is set as well, for anyone reading the environment.
  - sys.path = [code dir, layer dir, runtime dir] + the standard library, in Lambda's order
    (/var/task, /opt/python, then the runtime's own packages).
  - The runtime dir, `.aws-sam/bench-runtime/3.X`, holds only what the python3.X runtime provides:
    boto3 and its dependencies (botocore, s3transfer, jmespath, python-dateutil, six, urllib3),
    copied from this interpreter's environment with their bytecode, as AWS's runtime image has it.
    Nothing else from the development virtualenv is importable, so a dependency missing from the
    layer fails here as it would in Lambda.
  - The environment is Lambda's (function name, region, role credentials in AWS_* variables, the
    function's variables from template.yaml for the deployment's parameters), not this shell's.
  - Not emulated: Lambda's own bootstrap (awslambdaric) and the sandbox start, the same fixed cost
    on every side; and the network distance to SSM / Secrets Manager / DynamoDB (here a loopback
    moto server, reached through AWS_ENDPOINT_URL_SSM / _SECRETS_MANAGER / _DYNAMODB by both sides).
  - If the rate-limit table is in use (a DynamoDB write per request), the baseline makes the same
    write only when the candidate is seen making one.

Usage: python benchmarks/bench_coldstart.py [--runs N] [--no-build] [--runtimes 3.11,3.13]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from benchmarks.coldstart_build import (  # noqa: E402 - needs ROOT on sys.path
    BenchError,
    Runtime,
    ensure_baseline,
    ensure_candidate,
    ensure_runtime,
    runtimes,
)
from benchmarks.coldstart_env import (  # noqa: E402 - needs ROOT on sys.path
    ENV_SECRET,
    aws_services,
    bench_token,
    function_env,
    settings_document,
    table_items,
    write_events,
)

EVENTS_DIR = ROOT / ".aws-sam" / "bench-events"

RUNS = 15
TARGET_RATIO = 0.60
MARKER = "@@coldstart@@ "


@dataclass(frozen=True)
class Case:
    function: str  # logical id in template.yaml
    event: str  # file in events/
    status: int  # the status a correct first response has
    deployment: str = "default"  # where configuration and secret live: "default" (AWS) or "env"

    @property
    def route(self) -> str:
        data = json.loads((ROOT / "events" / self.event).read_text(encoding="utf-8"))
        return str(data["routeKey"])


CASES = (
    Case("UploadsFunction", "uploads_post.json", 201),
    Case("DownloadsFunction", "downloads_post.json", 200),
    # GET /uploads: the lifecycle function's cold start without S3 (boto3 is not imported).
    Case("LifecycleFunction", "uploads_get.json", 200),
    Case("UploadsFunction", "uploads_post.json", 201, "env"),
    Case("DownloadsFunction", "downloads_post.json", 200, "env"),
    Case("MetaFunction", "health_get.json", 200, "env"),  # reads no configuration: one deployment
)
# Also measured with --all-routes (left out by default to keep `make bench` short).
MORE_CASES = (Case("MetaFunction", "openapi_get.json", 200, "env"),)
VARIANTS = ("candidate", "baseline", "baseline+pyc")

# The child: emulate Lambda's import of the handler module and its first invocation.
CHILD = r"""
import sys, time
start = time.perf_counter()
import json
paths, event_path, function_name = json.loads(sys.argv[1])
sys.path[:0] = paths
import app
imported = time.perf_counter()
with open(event_path, encoding="utf-8") as fh:
    event = json.load(fh)

class Context:
    function_name = function_name
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + function_name
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "2025/01/01/[$LATEST]0123456789abcdef"
    def get_remaining_time_in_millis(self):
        return 6000

response = app.handler(event, Context())
done = time.perf_counter()
sys.stderr.write(__MARKER__ + json.dumps({
    "status": response.get("statusCode"),
    "body": response.get("body") or "",
    "import_ms": (imported - start) * 1000,
    "invoke_ms": (done - imported) * 1000,
}) + "\n")
sys.stderr.flush()
""".replace("__MARKER__", repr(MARKER))


# --- measuring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    total_ms: float
    import_ms: float
    invoke_ms: float
    status: int
    body: str


def cold_start(python: str, paths: list[Path], event: Path, function: str, env: dict[str, str]) -> Sample:
    args = json.dumps([[str(p) for p in paths], str(event), function])
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-I", "-S", "-B", "-c", CHILD, args],
        env=env,
        cwd=tempfile.gettempdir(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # the handlers' JSON logs; CloudWatch would take them
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    other: list[str] = []
    for line in proc.stderr:
        if line.startswith(MARKER):
            elapsed = (time.perf_counter() - start) * 1000
            result = json.loads(line[len(MARKER) :])
            proc.stderr.read()
            proc.wait()
            return Sample(elapsed, result["import_ms"], result["invoke_ms"], result["status"], result["body"])
        other.append(line)
    proc.wait()
    raise BenchError(f"{function} with {paths[0]} gave no response:\n{''.join(other[-30:])}")


def _check(case: Case, variant: str, sample: Sample) -> None:
    if sample.status != case.status:
        raise BenchError(
            f"{variant} {case.route}: status {sample.status}, expected {case.status}: {sample.body}"
        )
    if not _answers_right(case.event, json.loads(sample.body)):
        raise BenchError(f"{variant} {case.route}: not the answer a client needs: {sample.body[:300]}")


def _answers_right(event: str, body: dict[str, Any]) -> bool:
    if event == "uploads_post.json":
        return bool(body.get("url"))
    if event == "downloads_post.json":
        items = body.get("items") or []
        return bool(items) and all(item.get("url") for item in items)
    if event == "health_get.json":
        return body.get("status") == "ok"
    if event == "uploads_get.json":
        return isinstance(body.get("items"), list)
    return "/uploads" in body.get("paths", {})


def run(
    runs: int = RUNS, build: bool = True, all_routes: bool = False, versions: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    cases = CASES + MORE_CASES if all_routes else CASES
    measured = runtimes(versions)
    functions = {case.function for case in cases}
    built = {}
    for rt in measured:
        ensure_candidate(rt, functions, build)
        built[rt] = (ensure_runtime(rt), *ensure_baseline(rt))
    events = write_events(bench_token(), [case.event for case in cases])
    home = Path(tempfile.mkdtemp(prefix="bench-home-"))
    keys = [(rt, c, v) for rt in measured for c in cases for v in VARIANTS]

    def paths(rt: Runtime, case: Case, variant: str) -> list[Path]:
        runtime_dir, plain, compiled = built[rt]
        if variant == "candidate":
            return [rt.build_dir / case.function, rt.layer_site, runtime_dir]
        return [plain if variant == "baseline" else compiled, runtime_dir]

    samples: dict[tuple[Runtime, Case, str], list[Sample]] = {key: [] for key in keys}
    try:
        with aws_services() as endpoint:
            envs = {(rt, c, v): function_env(c.function, home, c.deployment, rt.name) for rt, c, v in keys}
            for (_, case, variant), env in envs.items():
                if variant != "candidate" and case.deployment == "env":
                    # The naive handler serves every route and reads its configuration at import.
                    env.setdefault("PRESIGN_CONFIG", settings_document(ENV_SECRET))
                for service in ("DYNAMODB", "SECRETS_MANAGER", "SSM"):
                    env[f"AWS_ENDPOINT_URL_{service}"] = endpoint

            def measure(rt: Runtime, case: Case, variant: str) -> Sample:
                event, env = events[case.event], envs[(rt, case, variant)]
                return cold_start(rt.python, paths(rt, case, variant), event, case.function, env)

            # Warm-up, not counted: fills the page cache and checks every variant answers right.
            for rt, case, variant in keys:
                if variant == "candidate":
                    _check(case, f"{rt.name} candidate", measure(rt, case, variant))
            if table_items(endpoint):
                for env in envs.values():
                    env["BENCH_BASELINE_RATE_LIMIT"] = "1"  # the candidate writes; so does the baseline
            for rt, case, variant in keys:
                if variant != "candidate":
                    _check(case, f"{rt.name} {variant}", measure(rt, case, variant))

            order = list(keys)
            rng = random.Random(20251122)
            for _ in range(runs):
                rng.shuffle(order)
                for rt, case, variant in order:
                    sample = measure(rt, case, variant)
                    if sample.status != case.status:
                        _check(case, f"{rt.name} {variant}", sample)
                    samples[(rt, case, variant)].append(sample)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    rows = []
    for rt in measured:
        for case in cases:
            med = {v: statistics.median(s.total_ms for s in samples[(rt, case, v)]) for v in VARIANTS}
            cand = samples[(rt, case, "candidate")]
            ratio = med["candidate"] / med["baseline"]
            rows.append(
                {
                    "name": f"cold start {case.function} ({case.route})",
                    "runtime": rt.name,
                    "deployment": case.deployment,
                    "value_ms": round(med["candidate"], 1),
                    "baseline": "naive handler, no bytecode (a plain sam build), same runtime",
                    "baseline_ms": round(med["baseline"], 1),
                    "ratio": round(ratio, 3),
                    "target": f"ratio <= {TARGET_RATIO:.2f}",
                    "ok": ratio <= TARGET_RATIO,
                    "baseline_pyc_ms": round(med["baseline+pyc"], 1),
                    "ratio_both_bytecode": round(med["candidate"] / med["baseline+pyc"], 3),
                    "candidate_import_ms": round(statistics.median(s.import_ms for s in cand), 1),
                    "candidate_first_request_ms": round(statistics.median(s.invoke_ms for s in cand), 1),
                    "runs": runs,
                }
            )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    runs = rows[0]["runs"] if rows else 0
    print(f"\nCold start, process start to first response: median of {runs} interleaved runs (ms)\n")
    head = (
        f"{'runtime':<10} {'function':<18} {'route':<19} {'config':<7} {'ours':>7} {'import':>7} {'1st req':>7} │ "
        f"{'naive':>7} {'ratio':>6}  │ {'naive+pyc':>9} {'ratio':>6}"
    )
    print(head)
    print("─" * len(head))
    for row in rows:
        function, route = row["name"].removeprefix("cold start ").split(" (", 1)
        mark = "ok" if row["ok"] else "MISS"
        print(
            f"{row['runtime']:<10} {function:<18} {route.rstrip(')'):<19} {row['deployment']:<7} "
            f"{row['value_ms']:>7.1f} {row['candidate_import_ms']:>7.1f} "
            f"{row['candidate_first_request_ms']:>7.1f} │ {row['baseline_ms']:>7.1f} {row['ratio']:>6.2f} {mark:<4}│ "
            f"{row['baseline_pyc_ms']:>9.1f} {row['ratio_both_bytecode']:>6.2f}"
        )
    print(
        "\nours = sam build output (lean imports + shipped bytecode); naive = benchmarks/baseline as a plain\n"
        f"sam build ships it (no .pyc), target ratio <= {TARGET_RATIO:.2f}; naive+pyc = the same with bytecode,\n"
        "so that ratio is the gain from lean imports alone. import / 1st req split our median. Every ratio\n"
        "is against the naive handler on the same runtime.\n"
        "config: default = configuration in SSM and the HS256 secret in Secrets Manager (as the template\n"
        "deploys it; moto on 127.0.0.1), env = both in environment variables."
    )
    names = list(dict.fromkeys(row["runtime"] for row in rows))
    if len(names) > 1:
        # Each runtime against the first one named: the same function, deployment and variant.
        first = {(r["name"], r["deployment"]): r for r in rows if r["runtime"] == names[0]}
        print(f"\nAgainst {names[0]} (time on that runtime / time on {names[0]}):\n")
        print(f"{'runtime':<10} {'function':<18} {'config':<7} {'ours':>6} {'naive':>6} {'naive+pyc':>9}")
        for row in rows:
            if row["runtime"] == names[0]:
                continue
            other = first[(row["name"], row["deployment"])]
            function = row["name"].removeprefix("cold start ").split(" (", 1)[0]
            print(
                f"{row['runtime']:<10} {function:<18} {row['deployment']:<7} "
                f"{row['value_ms'] / other['value_ms']:>6.2f} {row['baseline_ms'] / other['baseline_ms']:>6.2f} "
                f"{row['baseline_pyc_ms'] / other['baseline_pyc_ms']:>9.2f}"
            )


def _versions(text: str) -> list[str]:
    versions = [v.strip().removeprefix("python") for v in text.split(",") if v.strip()]
    if not versions or not all(re.fullmatch(r"3\.\d+", v) for v in versions):
        raise argparse.ArgumentTypeError(f"Python versions such as 3.11,3.13, not {text!r}")
    return list(dict.fromkeys(versions))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"samples per variant (default {RUNS})")
    parser.add_argument("--no-build", action="store_true", help="use .aws-sam/build as it is")
    parser.add_argument("--all-routes", action="store_true", help="also GET /openapi.json")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON lines")
    parser.add_argument(
        "--runtimes", type=_versions, default=None, help="Python versions side by side, e.g. 3.11,3.13 "
        "(default: template.yaml's runtime)"
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.runs < RUNS:
        print(f"bench_coldstart: fewer than {RUNS} runs; medians will be noisy", file=sys.stderr)
    started = time.monotonic()
    try:
        rows = run(args.runs, build=not args.no_build, all_routes=args.all_routes, versions=args.runtimes)
    except BenchError as exc:
        print(f"bench_coldstart: {exc}", file=sys.stderr)
        return 2
    print(f"bench_coldstart: {time.monotonic() - started:.0f} s", file=sys.stderr)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        print_table(rows)
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
