"""Cold start of each function as shipped, against a naive baseline measured in the same run.

What one sample is: a fresh Python 3.11 process that imports the handler module and serves its
first request (a sample event from events/, with a valid token), timed from just before the
process is spawned until the response arrives. Interpreter teardown is not counted (Lambda keeps
the process). N samples per variant, interleaved in a shuffled order each round so a noisy
neighbour hurts every variant alike; the figure is the median.

Deployments, each measured for uploads and downloads (meta reads no configuration):
  default            what template.yaml and samconfig.toml set up: the configuration in an SSM
                     parameter (PresignConfigParameter), the HS256 secret in Secrets Manager, both
                     read at cold start from a moto server on 127.0.0.1 (local.servers.MotoServer).
  env                the configuration inline (PresignConfig) and the secret in an environment
                     variable: what a cold start costs with no AWS reads at all.

Variants, for each route:
  candidate          `.aws-sam/build/<Function>` + `.aws-sam/build/PresignLayer/python`, i.e. the
                     output of `sam build` (our makefiles: lean imports, unchecked-hash bytecode).
  baseline           benchmarks/baseline/app.py, naive (everything created at import, the
                     configuration and secret read with boto3 clients where the deployment keeps
                     them), shipped the way a plain `sam build` ships it: dependencies vendored
                     next to the handler with `pip install --no-compile` (the layer's lock as
                     constraints, so the same versions), no .pyc anywhere.
  baseline+pyc       the same baseline with bytecode compiled like ours, so the gain from lean
                     imports shows apart from the gain from shipping bytecode.

How Lambda's runtime is emulated (honestly, and the same way for every variant):
  - `python3.11 -I -S -B`: no site-packages at all (-S), no PYTHON* variables or cwd on sys.path
    (-I), no bytecode written (-B; the Lambda filesystem is read-only). PYTHONDONTWRITEBYTECODE=1
    is set as well, for anyone reading the environment.
  - sys.path = [code dir, layer dir, runtime dir] + the standard library, in Lambda's order
    (/var/task, /opt/python, then the runtime's own packages).
  - The runtime dir, `.aws-sam/bench-runtime`, holds only what the python3.11 runtime provides:
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

Usage: python benchmarks/bench_coldstart.py [--runs N] [--no-build]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from local.cfn import load_template  # noqa: E402 - needs ROOT on sys.path
from local.emulator import TemplateResolver  # noqa: E402
from local.servers import MotoServer, ServerError  # noqa: E402
from local.tables import STACK_NAME, create_tables  # noqa: E402

BUILD = ROOT / ".aws-sam" / "build"
LAYER_SITE = BUILD / "PresignLayer" / "python"
BASELINE_SRC = ROOT / "benchmarks" / "baseline"
BASELINE_DIR = ROOT / ".aws-sam" / "bench-baseline"
RUNTIME_DIR = ROOT / ".aws-sam" / "bench-runtime"
EVENTS_DIR = ROOT / ".aws-sam" / "bench-events"
LAYER_MAKEFILE = ROOT / "layers" / "presign" / "Makefile"
LAYER_LOCK = ROOT / "layers" / "presign" / "requirements.lock"

RUNS = 15
TARGET_RATIO = 0.60
MARKER = "@@coldstart@@ "
# What the python3.11 Lambda runtime provides besides the standard library.
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")

ISSUER = "https://auth.bench.invalid/"
AUDIENCE = "presign-api"
JWT_SECRET = "bench-secret-" + "x" * 40  # HS256 wants at least 32 bytes
SUB = "user-123"
REGION = "us-east-1"
TABLE = f"{STACK_NAME}-RateLimitTable"  # as local.tables names template.yaml's table
CONFIG_PARAMETER = "/presign/bench/config"  # samconfig.toml's shape: /presign/<env>/config
JWT_SECRET_NAME = "presign/bench/jwt"
TABLES = {"RateLimitTable": TABLE, "UploadsTable": f"{STACK_NAME}-UploadsTable"}


class BenchError(RuntimeError):
    """The benchmark cannot run (no sam, no Python 3.11, a wrong answer): say why, then stop."""


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


# --- building what is measured ------------------------------------------------------------------


def _python311() -> str:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if not found:
        raise BenchError("bench_coldstart needs Python 3.11 (the Lambda runtime's bytecode format)")
    return found


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for base in paths:
        files = [base] if base.is_file() else base.rglob("*")
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                newest = max(newest, path.stat().st_mtime)
    return newest


def _sources() -> list[Path]:
    functions = {case.function for case in CASES + MORE_CASES}
    template = load_template()
    dirs = [ROOT / template["Resources"][name]["Properties"]["CodeUri"] for name in functions]
    return [ROOT / "template.yaml", ROOT / "layers" / "presign", *dirs]


def _sam() -> str | None:
    for candidate in (os.environ.get("SAM"), str(ROOT / ".venv-sam" / "bin" / "sam"), shutil.which("sam")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def ensure_candidate(build: bool = True) -> None:
    """Run `sam build` when the build output is missing or older than its sources."""
    functions = {case.function for case in CASES + MORE_CASES}
    needed = [LAYER_SITE, *(BUILD / name for name in functions)]
    built_at = (BUILD / "template.yaml").stat().st_mtime if (BUILD / "template.yaml").exists() else 0.0
    fresh = all(p.exists() for p in needed) and built_at >= _newest_mtime(_sources())
    if fresh or not build:
        if not all(p.exists() for p in needed):
            raise BenchError("no sam build output in .aws-sam/build: run without --no-build")
        return
    sam = _sam()
    if sam is None:
        raise BenchError("sam not found (set SAM=/path/to/sam or `make build`)")
    print("bench_coldstart: sam build (output missing or stale) ...", file=sys.stderr)
    done = subprocess.run([sam, "build", "--parallel"], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BenchError(f"sam build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _stamp_ok(directory: Path, stamp: str) -> bool:
    marker = directory / ".bench-stamp"
    return marker.exists() and marker.read_text(encoding="utf-8") == stamp


def _write_stamp(directory: Path, stamp: str) -> None:
    (directory / ".bench-stamp").write_text(stamp, encoding="utf-8")


def _platform_args() -> list[str]:
    # The same wheels as the layer: read the platform from its Makefile rather than repeat it.
    for line in LAYER_MAKEFILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("LAMBDA_PLATFORM"):
            platform = line.split("=", 1)[1].strip()
            break
    else:
        raise BenchError(f"no LAMBDA_PLATFORM in {LAYER_MAKEFILE}")
    return ["--only-binary=:all:", "--platform", platform, "--implementation", "cp", "--python-version", "3.11"]  # fmt: skip


def _compile(python: str, directory: Path) -> None:
    flags = ["-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    subprocess.run([python, "-m", "compileall", *flags, str(directory)], check=True)


def ensure_baseline(python: str) -> tuple[Path, Path]:
    """The baseline without bytecode (as a plain `sam build` ships it) and with it."""
    sources = sorted(p for p in BASELINE_SRC.iterdir() if p.is_file() and p.suffix in (".py", ".txt"))
    stamp = json.dumps(
        {p.name: p.read_text(encoding="utf-8") for p in [*sources, LAYER_LOCK]} | {"args": _platform_args()}
    )
    plain, compiled = BASELINE_DIR / "plain", BASELINE_DIR / "compiled"
    if _stamp_ok(BASELINE_DIR, stamp) and plain.is_dir() and compiled.is_dir():
        return plain, compiled
    print("bench_coldstart: building the baseline ...", file=sys.stderr)
    shutil.rmtree(BASELINE_DIR, ignore_errors=True)
    plain.mkdir(parents=True)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-conflicts",
         "--root-user-action=ignore", "--no-compile", *_platform_args(), "--target", str(plain),
         "--requirement", str(BASELINE_SRC / "requirements.txt"), "--constraint", str(LAYER_LOCK)],
        check=True,
    )  # fmt: skip
    shutil.copy2(BASELINE_SRC / "app.py", plain / "app.py")
    for cache in list(plain.rglob("__pycache__")):
        shutil.rmtree(cache)
    shutil.copytree(plain, compiled)
    _compile(python, compiled)
    _write_stamp(BASELINE_DIR, stamp)
    return plain, compiled


def ensure_runtime(python: str) -> Path:
    """boto3 and its dependencies, as the python3.11 Lambda runtime provides them."""
    dists = [importlib.metadata.distribution(name) for name in RUNTIME_DISTRIBUTIONS]
    stamp = json.dumps({d.metadata["Name"]: d.version for d in dists})
    if _stamp_ok(RUNTIME_DIR, stamp):
        return RUNTIME_DIR
    shutil.rmtree(RUNTIME_DIR, ignore_errors=True)
    RUNTIME_DIR.mkdir(parents=True)
    for dist in dists:
        for file in dist.files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue  # console scripts; bytecode is compiled below
            source = Path(str(dist.locate_file(file)))
            target = RUNTIME_DIR / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # The runtime's files keep their mtimes, so its (default, timestamp) bytecode stays valid.
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", str(RUNTIME_DIR)], check=True)
    _write_stamp(RUNTIME_DIR, stamp)
    return RUNTIME_DIR


# --- the environment and the requests -----------------------------------------------------------


def _token() -> str:
    import jwt

    now = int(time.time())
    claims = {"sub": SUB, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    claims["scope"] = "presign/uploads presign/downloads"
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def _settings(secret: dict[str, str]) -> str:
    return json.dumps(
        {
            "default_target": "main",
            "targets": {"main": {"region": REGION, "bucket": "presign-bench-uploads"}},
            "auth": {"issuer": ISSUER, "audience": AUDIENCE, "secrets": [secret]},
        }
    )


ENV_SECRET = {"source": "env", "name": "PRESIGN_BENCH_JWT_SECRET"}


def _resolve(value: Any, params: dict[str, str], conditions: dict[str, bool]) -> Any:
    """The few intrinsics the template's environment variables use."""
    if isinstance(value, dict):
        if "Ref" in value:
            return params.get(value["Ref"], TABLES.get(value["Ref"]))
        if "Fn::If" in value:
            name, yes, no = value["Fn::If"]
            return _resolve(yes if conditions[name] else no, params, conditions)
    return value


def function_env(function: str, home: Path, deployment: str) -> dict[str, str]:
    template = load_template()
    if deployment == "default":
        params = {"PresignConfig": "", "PresignConfigParameter": CONFIG_PARAMETER, "LogLevel": "INFO"}
    else:
        params = {"PresignConfig": _settings(ENV_SECRET), "PresignConfigParameter": "", "LogLevel": "INFO"}
    conditions = {"HasConfigParameter": deployment == "default", "UseJwtAuthorizer": False}
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    props = template["Resources"][function]["Properties"]
    variables.update(props.get("Environment", {}).get("Variables", {}))
    resolved = {k: _resolve(v, params, conditions) for k, v in variables.items()}
    memory = props.get("MemorySize", template["Globals"]["Function"]["MemorySize"])
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": str(home),  # an empty home: no ~/.aws of the developer's
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # Lambda hands the role's temporary credentials over in these variables.
        "AWS_ACCESS_KEY_ID": "ASIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PRESIGN_BENCH_JWT_SECRET": JWT_SECRET,
    }
    env.update({k: str(v) for k, v in resolved.items() if v is not None})
    return env


def write_events(token: str, cases: tuple[Case, ...]) -> dict[str, Path]:
    EVENTS_DIR.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in cases:
        event = json.loads((ROOT / "events" / case.event).read_text(encoding="utf-8"))
        if "authorization" in event["headers"]:
            event["headers"]["authorization"] = f"Bearer {token}"
        path = EVENTS_DIR / case.event
        path.write_text(json.dumps(event), encoding="utf-8")
        paths[case.event] = path
    return paths


def _client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(  # type: ignore[call-overload]  # the service is a variable
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )


@contextlib.contextmanager
def aws_services() -> Iterator[str]:
    """A moto server on 127.0.0.1 holding what the default deployment reads, and the table."""
    try:
        server = MotoServer().start()
    except ServerError as exc:
        raise BenchError(f"no moto server: {exc}") from exc
    try:
        endpoint = server.endpoint_url
        doc = load_template()
        # The same table make dev and the tests create, from template.yaml's own properties.
        assert create_tables(doc, TemplateResolver(doc), endpoint)["RateLimitTable"] == TABLE
        # The template's default deployment: the document in SSM names the secret by ARN.
        arn = _client("secretsmanager", endpoint).create_secret(
            Name=JWT_SECRET_NAME, SecretString=JWT_SECRET
        )["ARN"]
        document = _settings({"source": "secretsmanager", "secret_id": arn})
        _client("ssm", endpoint).put_parameter(Name=CONFIG_PARAMETER, Type="String", Value=document)
        yield endpoint
    finally:
        server.stop()


def _table_items(endpoint: str) -> int:
    return int(_client("dynamodb", endpoint).scan(TableName=TABLE, Select="COUNT")["Count"])


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


def run(runs: int = RUNS, build: bool = True, all_routes: bool = False) -> list[dict[str, Any]]:
    cases = CASES + MORE_CASES if all_routes else CASES
    python = _python311()
    ensure_candidate(build)
    plain, compiled = ensure_baseline(python)
    runtime = ensure_runtime(python)
    events = write_events(_token(), cases)
    home = Path(tempfile.mkdtemp(prefix="bench-home-"))

    def paths(case: Case, variant: str) -> list[Path]:
        if variant == "candidate":
            return [BUILD / case.function, LAYER_SITE, runtime]
        return [plain if variant == "baseline" else compiled, runtime]

    samples: dict[tuple[Case, str], list[Sample]] = {(c, v): [] for c in cases for v in VARIANTS}
    try:
        with aws_services() as endpoint:
            envs = {(c, v): function_env(c.function, home, c.deployment) for c in cases for v in VARIANTS}
            for (case, variant), env in envs.items():
                if variant != "candidate" and case.deployment == "env":
                    # The naive handler serves every route and reads its configuration at import.
                    env.setdefault("PRESIGN_CONFIG", _settings(ENV_SECRET))
                for service in ("DYNAMODB", "SECRETS_MANAGER", "SSM"):
                    env[f"AWS_ENDPOINT_URL_{service}"] = endpoint

            def measure(case: Case, variant: str) -> Sample:
                event, env = events[case.event], envs[(case, variant)]
                return cold_start(python, paths(case, variant), event, case.function, env)

            # Warm-up, not counted: fills the page cache and checks every variant answers right.
            for case in cases:
                _check(case, "candidate", measure(case, "candidate"))
            if _table_items(endpoint):
                for env in envs.values():
                    env["BENCH_BASELINE_RATE_LIMIT"] = "1"  # the candidate writes; so does the baseline
            for case in cases:
                for variant in VARIANTS[1:]:
                    _check(case, variant, measure(case, variant))

            order = [(c, v) for c in cases for v in VARIANTS]
            rng = random.Random(20251122)
            for _ in range(runs):
                rng.shuffle(order)
                for case, variant in order:
                    sample = measure(case, variant)
                    if sample.status != case.status:
                        _check(case, variant, sample)
                    samples[(case, variant)].append(sample)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    rows = []
    for case in cases:
        med = {v: statistics.median(s.total_ms for s in samples[(case, v)]) for v in VARIANTS}
        cand = samples[(case, "candidate")]
        ratio = med["candidate"] / med["baseline"]
        rows.append(
            {
                "name": f"cold start {case.function} ({case.route})",
                "deployment": case.deployment,
                "value_ms": round(med["candidate"], 1),
                "baseline": "naive handler, no bytecode (a plain sam build)",
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
        f"{'function':<18} {'route':<19} {'config':<7} {'ours':>7} {'import':>7} {'1st req':>7} │ "
        f"{'naive':>7} {'ratio':>6}  │ {'naive+pyc':>9} {'ratio':>6}"
    )
    print(head)
    print("─" * len(head))
    for row in rows:
        function, route = row["name"].removeprefix("cold start ").split(" (", 1)
        mark = "ok" if row["ok"] else "MISS"
        print(
            f"{function:<18} {route.rstrip(')'):<19} {row['deployment']:<7} {row['value_ms']:>7.1f} "
            f"{row['candidate_import_ms']:>7.1f} "
            f"{row['candidate_first_request_ms']:>7.1f} │ {row['baseline_ms']:>7.1f} {row['ratio']:>6.2f} {mark:<4}│ "
            f"{row['baseline_pyc_ms']:>9.1f} {row['ratio_both_bytecode']:>6.2f}"
        )
    print(
        "\nours = sam build output (lean imports + shipped bytecode); naive = benchmarks/baseline as a plain\n"
        f"sam build ships it (no .pyc), target ratio <= {TARGET_RATIO:.2f}; naive+pyc = the same with bytecode,\n"
        "so that ratio is the gain from lean imports alone. import / 1st req split our median.\n"
        "config: default = configuration in SSM and the HS256 secret in Secrets Manager (as the template\n"
        "deploys it; moto on 127.0.0.1), env = both in environment variables."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"samples per variant (default {RUNS})")
    parser.add_argument("--no-build", action="store_true", help="use .aws-sam/build as it is")
    parser.add_argument("--all-routes", action="store_true", help="also GET /openapi.json")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON lines")
    args = parser.parse_args(argv)
    if args.runs < RUNS:
        print(f"bench_coldstart: fewer than {RUNS} runs; medians will be noisy", file=sys.stderr)
    started = time.monotonic()
    try:
        rows = run(args.runs, build=not args.no_build, all_routes=args.all_routes)
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
