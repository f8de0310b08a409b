"""``make dev``: the whole service on this machine, with real servers behind it.

Starts SeaweedFS (S3 that verifies signatures, bucket ``presign-dev``), moto's server (DynamoDB,
Secrets Manager, SSM; the template's tables are created in it), sets the environment the handlers
read, and serves the template's routes with the API Gateway emulator on 127.0.0.1:8080. Prints a
dev token and copy-pasteable commands for a round trip, then runs until Ctrl-C / SIGTERM and stops
every server it started.

    python -m local.dev [--port 8080] [--template template.yaml] [--data-dir DIR]
                        [--prefix 'tenants/{tenant}/users/{sub}/']

``--prefix`` (``make dev PREFIX=...``) is the target's key prefix template; the printed token then
carries each claim it names besides ``sub`` with the value ``demo``, and ``make token SUB=42
TENANT=acme`` mints others.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from local.cfn import ROOT, TEMPLATE, load_template
from local.emulator import NO_VALUE, Emulator, EmulatorError, TemplateResolver, Unresolved
from local.oidc import LocalIssuer
from local.servers import MotoServer, SeaweedFS, ServerError, aws_env, port_is_free
from local.static import EXAMPLES, StaticServer
from local.storage_proxy import StorageProxy
from local.tables import create_tables
from local.token import DEV_AUDIENCE, DEV_ISSUER, DEV_STATE, mint_token

BUCKET = "presign-dev"
DEFAULT_PORT = 8080
DEFAULT_WEB_PORT = 8081  # examples/ (demo app, Uppy, API reference): another origin than the API's
REMOVED_ON_EXIT = "(removed on exit)"
# The environment `python -m presign.doctor` needs for the dev target (written to the state file).
DOCTOR_ENV = ("PRESIGN_CONFIG", "PRESIGN_S3_ACCESS_KEY_ID", "PRESIGN_S3_SECRET_ACCESS_KEY")


# Small enough to see a 429 by hand (the demo's last step does).
DEV_UPLOAD_LIMIT = {"rate": 10, "period": 60, "burst": 5}
DEV_PREFIX = "users/{sub}/"
DEMO_CLAIM_VALUE = "demo"  # what the printed token says for each prefix claim besides sub


def prefix_claims(template: str) -> list[str]:
    """The claims besides ``sub`` that a key prefix template names; ``ValueError`` if the service
    would refuse the template (said now rather than at the first request)."""
    if template == DEV_PREFIX:
        return []
    from presign.core.prefixes import PrefixTemplate  # the layer: `make dev` has it on the path

    return sorted(PrefixTemplate.parse(template).claims - {"sub"})


def dev_config(endpoint_url: str, *, bucket: str = BUCKET, key_prefix: str = DEV_PREFIX) -> dict[str, Any]:
    """The service configuration (``PRESIGN_CONFIG``) for the local stack."""
    return {
        "default_target": "local",
        "targets": {
            "local": {
                "endpoint_url": endpoint_url,
                "region": "us-east-1",
                "bucket": bucket,
                "addressing_style": "path",
                "credentials": {"source": "env"},
                "key_prefix": key_prefix,
                "upload": {
                    # Explicit raster types: no SVG, which runs script when opened (issue 7).
                    "content_types": [
                        "image/png",
                        "image/jpeg",
                        "image/gif",
                        "image/webp",
                        "image/avif",
                        "text/plain",
                        "application/pdf",
                        "application/octet-stream",
                    ],
                    "max_size": 104857600,
                    # Above 8 MiB an upload goes in 5 MiB parts (the walk-through shows one).
                    "multipart": {"threshold": 8 * 1024**2, "part_size": 5 * 1024**2},
                },
                "download": {},
            }
        },
        "rate_limits": {"actions": {"upload": DEV_UPLOAD_LIMIT}},
        # No grace locally: `make cleanup` expires an upload as soon as its URL has (docs/cleanup.md).
        "cleanup": {"grace": 0},
        "auth": {
            "issuer": DEV_ISSUER,
            "audience": DEV_AUDIENCE,
            "secrets": [{"source": "env", "name": "PRESIGN_JWT_SECRET"}],
        },
    }


def dev_bucket_cors(origins: Sequence[str]) -> dict[str, Any]:
    """The dev bucket's CORS rule: the pages of ``origins`` (the examples' own, nothing else, as a
    deployment names its SPAs') may send and read presigned requests. A browser reads each part's
    ETag from the PUT's answer only if the rule exposes it (a multipart completion needs them).
    The README shows the same rule for AWS S3, R2 and others."""
    return {
        "CORSRules": [
            {
                "AllowedOrigins": list(origins),
                "AllowedMethods": ["GET", "HEAD", "PUT", "POST", "DELETE"],  # DELETE: Uppy's aborts
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 3600,
            }
        ]
    }


def page_origins(web_url: str) -> list[str]:
    """The origins a page of the examples' server has: the address make dev prints, and the same
    port as ``localhost`` (both names the server answers, local.servers.local_hosts)."""
    return [web_url, web_url.replace("://127.0.0.1:", "://localhost:", 1)]


def set_bucket_cors(s3: SeaweedFS, origins: Sequence[str], bucket: str = BUCKET) -> None:
    """PutBucketCors on the dev bucket (SeaweedFS supports it, and answers preflights with it)."""
    s3.client().put_bucket_cors(Bucket=bucket, CORSConfiguration=dev_bucket_cors(origins))


# Parts of an abandoned multipart upload stay (and are billed) until someone aborts it: the cleanup
# function aborts those it has records of, and this rule has the storage drop any left after a day.
# SeaweedFS stores the rule and answers it back (so `make doctor` can check it, as on AWS S3).
DEV_BUCKET_LIFECYCLE = {
    "Rules": [
        {
            "ID": "presign-abort-incomplete-multipart",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]
}


def set_bucket_lifecycle(s3: SeaweedFS, bucket: str = BUCKET) -> None:
    s3.client().put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=DEV_BUCKET_LIFECYCLE)


# ------------------------------------------------------------------------------------ from template


def template_environment(
    doc: Mapping[str, Any], resolver: TemplateResolver
) -> tuple[dict[str, str], list[str]]:
    """The functions' environment variables the template fixes (Globals merged with each function's),
    as far as they can be known locally. All functions share one process here, so a variable set to
    different values by different functions keeps the first; those are returned as warnings."""
    globals_fn = (doc.get("Globals") or {}).get("Function") or {}
    base = ((globals_fn.get("Environment") or {}).get("Variables")) or {}
    env: dict[str, str] = {}
    warnings: list[str] = []
    for logical_id, res in (doc.get("Resources") or {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        own = (((res.get("Properties") or {}).get("Environment") or {}).get("Variables")) or {}
        for name, raw in {**base, **own}.items():
            try:
                value = resolver.resolve(raw)
            except (Unresolved, LookupError, TypeError, ValueError):
                continue
            if value is NO_VALUE or isinstance(value, (dict, list)):
                continue
            text = str(value).lower() if isinstance(value, bool) else str(value)
            if name in env and env[name] != text:
                warnings.append(f"{name}: {logical_id} wants {text!r}, kept {env[name]!r}")
                continue
            env[name] = text
    return env, warnings


# ------------------------------------------------------------------------------------------- banner


def _rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(ROOT))
    return str(path)


def demo_commands(base_url: str, token: str, demo_dir: Path, python: str = sys.executable) -> list[str]:
    """Shell lines that round-trip a file through the running stack (run them in the repo root)."""
    py = shlex.quote(python)
    d = shlex.quote(_rel(demo_dir))
    hello, grant, grant_dl, back, share = (
        f"{d}/{n}" for n in ("hello.txt", "upload.json", "download.json", "back.txt", "share.json")
    )
    big, big_grant, big_parts, big_dl, big_back = (
        f"{d}/{n}"
        for n in ("big.bin", "big-upload.json", "big-parts.json", "big-download.json", "big-back.bin")
    )
    big_upload = f'"$PRESIGN_URL/uploads/$({py} -m local.client field {big_grant} upload_id)"'
    auth = '-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json"'
    bearer = '-H "Authorization: Bearer $TOKEN"'
    upload = f'"$PRESIGN_URL/uploads/$({py} -m local.client field {grant} upload_id)"'
    return [
        f"export PRESIGN_URL={shlex.quote(base_url)}",
        f"export TOKEN={shlex.quote(token)}",
        f"printf 'hello from presign\\n' > {hello}",
        "# 1. ask for a PUT URL",
        f'curl -sS -X POST "$PRESIGN_URL/uploads" {auth} -d \'{{"filename":"hello.txt",'
        f'"content_type":"text/plain","size":\'"$(wc -c < {hello})"\'}}\' | tee {grant}; echo',
        "# 2. upload with exactly the returned url and headers",
        f"{py} -m local.client upload {grant} {hello}",
        "# 3. tell the service it is there: it HEADs the stored object, checks it and marks it complete",
        f"curl -sS -X POST {upload[:-1]}/complete\" {auth} -d '{{}}'; echo",
        "# 4. your uploads, newest first (?status=pending|complete|..., ?cursor= for the next page)",
        f'curl -sS "$PRESIGN_URL/uploads?limit=5" {bearer}; echo',
        "# 5. ask for a GET URL for that key",
        f'curl -sS -X POST "$PRESIGN_URL/downloads" {auth} -d \'{{"keys":[\''
        f"\"$({py} -m local.client field --json {grant} key)\"']}}' | tee {grant_dl}; echo",
        "# 6. fetch it back and compare",
        f'curl -sS --fail -o {back} "$({py} -m local.client field {grant_dl} items.0.url)"'
        f" && cmp {hello} {back} && echo 'same bytes'",
        *share_commands(py, grant, share, auth),
        "# 11. delete it (204): the object goes; reading it again answers 410 upload_deleted"
        " (GET /uploads?status=deleted still lists it)",
        f"curl -sS -o /dev/null -w 'DELETE -> HTTP %{{http_code}}\\n' -X DELETE {upload} {bearer}",
        f"curl -sS {upload} {bearer}; echo",
        "# 12. a file above 8 MiB goes in 5 MiB parts: each part to its own URL, then one completion",
        f"head -c 12582912 /dev/urandom > {big}",
        f'curl -sS -X POST "$PRESIGN_URL/uploads" {auth} -d \'{{"filename":"big.bin",'
        f'"content_type":"application/octet-stream","size":\'"$(wc -c < {big})"\'}}\' -o {big_grant}',
        f"{py} -m local.client upload {big_grant} {big} --parts {big_parts}",
        f'curl -sS -X POST {big_upload[:-1]}/complete" {auth} -d @{big_parts}; echo',
        f'curl -sS -X POST "$PRESIGN_URL/downloads" {auth} -d \'{{"keys":[\''
        f"\"$({py} -m local.client field --json {big_grant} key)\"']}}' -o {big_dl}",
        f'curl -sS --fail -o {big_back} "$({py} -m local.client field {big_dl} items.0.url)"'
        f" && cmp {big} {big_back} && echo 'same bytes, in parts'",
        f"# 13. go over the upload limit ({DEV_UPLOAD_LIMIT['burst']} at once, "
        f"{DEV_UPLOAD_LIMIT['rate']} a minute): the answers turn to 429 with Retry-After",
        f"for i in $(seq {DEV_UPLOAD_LIMIT['burst'] + 1}); do curl -sS -o /dev/null -D - -X POST "
        f'"$PRESIGN_URL/uploads" {auth} -d \'{{"filename":"x.txt","content_type":"text/plain","size":1}}\' '
        "| grep -iE '^(HTTP|retry-after|ratelimit-remaining)' | tr -d '\\r' | paste -sd ' '; done",
    ]


def signed_in_page(web_url: str, page: str, base_url: str, token: str) -> str:
    """A page of examples/ pointed at this stack and signed in: the API and the token go in the
    URL's fragment, which a browser never sends to any server (a query string would reach the
    static server's and any proxy's logs); the pages drop it from the address bar."""
    fragment = urllib.parse.urlencode({"api": base_url, "token": token}, safe=":/")
    return f"{web_url}/{page}/#{fragment}"


def demo_app_url(web_url: str, base_url: str, token: str) -> str:
    """The demo app (examples/web/), signed in."""
    return signed_in_page(web_url, "web", base_url, token)


def example_pages(web_url: str, base_url: str, token: str) -> list[str]:
    """Banner lines: the Uppy example, the API reference and the React hook's page, pointed at this stack."""
    return [
        f"  Uppy (examples/uppy)           {signed_in_page(web_url, 'uppy', base_url, token)}",
        f"  API reference (Swagger UI)     {signed_in_page(web_url, 'reference', base_url, token)}",
        f"  React hook (examples/react)    {signed_in_page(web_url, 'react', base_url, token)}",
    ]


DEMO_PASSWORD = "open sesame 42"


def share_commands(py: str, grant: str, share: str, auth: str) -> list[str]:
    """The share-link walk-through: a protected link good for two downloads, and its limit."""
    link = f'"$({py} -m local.client field {share} url)"'
    form = f"--data-urlencode {shlex.quote('password=' + DEMO_PASSWORD)}"
    return [
        "# 7. share it: a link with a password, good for two downloads (the link is shown only here)",
        f'curl -sS -X POST "$PRESIGN_URL/shares" {auth} -d \'{{"key":\''
        f'"$({py} -m local.client field --json {grant} key)"\',"max_downloads":2,'
        f'"password":"{DEMO_PASSWORD}"}}\' | tee {share}; echo',
        "# 8. open it without the password: 401 password_required (a browser gets a password form:"
        " open the url in one)",
        f"curl -sS {link}; echo",
        "# 9. with the password, as the browser's form sends it: the file, twice (-L follows the 302)",
        f"for i in 1 2; do curl -sS -L --fail {form} {link}; done",
        "# 10. a third time: 410 share_exhausted, the limit holds",
        f"curl -sS {form} {link}; echo",
    ]


# ---------------------------------------------------------------------------------------------- run


@contextlib.contextmanager
def _signals_to_event(stop: threading.Event) -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _say(text: str = "") -> None:
    print(text, flush=True)


def _write_state(path: Path, state: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the mode above applies only to a new file; this one holds secrets
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=2)


def _remove_state(path: Path) -> None:
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text("utf-8")).get("pid") == os.getpid():
            path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.dev", description="Run presign locally.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="API port (0: any free port)")
    parser.add_argument(
        "--web-port", type=int, default=None,
        help="port of the examples/ pages, another origin so CORS applies "
        f"(default {DEFAULT_WEB_PORT}, or any free port with --port 0; 0: any free port)",
    )  # fmt: skip
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a fresh .local/dev-* dir")
    parser.add_argument(
        "--state-file",
        default=str(DEV_STATE),
        help="where `python -m local.token` finds the secret ('' = none)",
    )
    parser.add_argument(
        "--auth", choices=("hs256", "oidc"), default="hs256",
        help="hs256: a shared secret; oidc: RS256 tokens from a local issuer's JWKS",
    )  # fmt: skip
    parser.add_argument(
        "--prefix", default=DEV_PREFIX,
        help=f"the key prefix template (default {DEV_PREFIX}), e.g. 'tenants/{{tenant}}/users/{{sub}}/'",
    )  # fmt: skip
    parser.add_argument(
        "--storage-proxy", action="store_true",
        help="put a recording, fault-injecting proxy (local/storage_proxy.py) between clients and "
        "SeaweedFS; URLs are signed for it",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        claims: dict[str, Any] = {name: DEMO_CLAIM_VALUE for name in prefix_claims(args.prefix)}
    except ValueError as exc:
        _say(f"make dev: --prefix {args.prefix!r}: {exc}")
        return 1
    if args.web_port is None:
        args.web_port = DEFAULT_WEB_PORT if args.port == DEFAULT_PORT else 0

    for flag, port in (("--port", args.port), ("--web-port", args.web_port)):
        if port and not port_is_free(port):
            _say(
                f"make dev: port {port} on 127.0.0.1 is already in use (another `make dev`?).\n"
                f"Stop that, or pick another: python -m local.dev {flag} {port + 2}  (0 = any free port)"
            )
            return 1
    template = args.template.resolve()
    if not template.is_file():
        _say(f"make dev: no template at {template}")
        return 1

    own_data_dir = args.data_dir is None
    if own_data_dir:
        (ROOT / ".local").mkdir(exist_ok=True)
        data_dir = Path(tempfile.mkdtemp(prefix="dev-", dir=ROOT / ".local"))
    else:
        data_dir = args.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
    state_file = Path(args.state_file) if args.state_file else None
    stop = threading.Event()

    # Signals stay caught until every server is down: a second Ctrl-C cannot cut the teardown short.
    with _signals_to_event(stop), contextlib.ExitStack() as stack:
        if own_data_dir:
            stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        access_key = "presign" + secrets.token_hex(6)
        secret_key = secrets.token_urlsafe(30)
        jwt_secret = secrets.token_urlsafe(48)
        try:
            s3 = stack.enter_context(
                SeaweedFS(
                    data_dir / "seaweedfs", access_key=access_key, secret_key=secret_key, buckets=[BUCKET]
                )
            )
            # First: its origin is the one the bucket's CORS allows (and the doctor checks).
            web = stack.enter_context(StaticServer(EXAMPLES, args.web_port))
            set_bucket_cors(s3, page_origins(web.base_url))
            set_bucket_lifecycle(s3)
            moto = stack.enter_context(MotoServer(log_dir=data_dir / "moto"))
            issuer = stack.enter_context(LocalIssuer()) if args.auth == "oidc" else None
            storage_url = s3.endpoint_url
            proxy = stack.enter_context(StorageProxy(s3.endpoint_url)) if args.storage_proxy else None
            if proxy is not None:
                storage_url = proxy.endpoint_url  # SigV4 signs the Host: URLs must name the proxy
            config = dev_config(storage_url, key_prefix=args.prefix)
            if issuer is not None:
                config["auth"] = issuer.auth_settings()
            doc = load_template(template)
            tables = create_tables(doc, TemplateResolver(doc), moto.endpoint_url)
            template_env, env_warnings = template_environment(doc, TemplateResolver(doc, physical_ids=tables))
            env = {
                **template_env,
                **aws_env(moto.endpoint_url),
                "PRESIGN_CONFIG": json.dumps(config),
                "PRESIGN_S3_ACCESS_KEY_ID": access_key,
                "PRESIGN_S3_SECRET_ACCESS_KEY": secret_key,
                "PRESIGN_JWT_SECRET": jwt_secret,
                "POWERTOOLS_SERVICE_NAME": "presign",
                "POWERTOOLS_METRICS_NAMESPACE": "presign-local",
                "LOG_LEVEL": "INFO",
                # The template sets it from AllowedOrigins for a {"doctor": true} invocation.
                "PRESIGN_ALLOWED_ORIGINS": web.base_url,
            }
            os.environ.pop("PRESIGN_CONFIG_PARAMETER", None)  # exactly one configuration source
            os.environ.pop("AWS_ENDPOINT_URL", None)  # S3 goes to the target's endpoint, nowhere else
            os.environ.pop("AWS_PROFILE", None)
            os.environ.update(env)
            emulator = stack.enter_context(Emulator(template, args.port))
        except (ServerError, EmulatorError, OSError) as exc:
            _say(f"make dev: {exc}")
            return 1
        except KeyboardInterrupt:
            return 130

        if stop.is_set():  # Ctrl-C while starting: skip the banner, tear down
            return 130
        base_url = emulator.base_url
        if state_file is not None:
            state: dict[str, Any] = {"pid": os.getpid(), "base_url": base_url, "web_url": web.base_url}
            if proxy is not None:
                state["storage_proxy"] = proxy.endpoint_url
            # What `make doctor` (local/doctor.py) needs to check this stack's target as the
            # functions see it; the file is readable by its owner only.
            state["doctor"] = {
                "env": {name: env[name] for name in DOCTOR_ENV},
                "origins": [env["PRESIGN_ALLOWED_ORIGINS"]],
            }
            if issuer is None:
                state.update(jwt_secret=jwt_secret, issuer=DEV_ISSUER, audience=DEV_AUDIENCE)
            else:
                state.update(issuer.signing_state())
            _write_state(state_file, state)
            stack.callback(_remove_state, state_file)
        token = (
            mint_token("alice", secret=jwt_secret, ttl=3600, claims=claims)
            if issuer is None
            else issuer.token("alice", **claims)
        )
        demo_dir = data_dir / "demo"
        demo_dir.mkdir(exist_ok=True)

        _say()
        _say(f"presign is running at {base_url}")
        _say(f"  S3 (SeaweedFS, checks signatures)   {s3.endpoint_url}  bucket {BUCKET}  pid {s3.pid}")
        if proxy is not None:
            _say(f"  storage proxy (records, faults)     {proxy.endpoint_url}  -> SeaweedFS; URLs name it")
        _say(f"  DynamoDB/SSM/Secrets (moto server)  {moto.endpoint_url}  pid {moto.pid}")
        _say(f"  tables                              {', '.join(tables.values()) or '-'}")
        removed = REMOVED_ON_EXIT if own_data_dir else ""
        _say(f"  data                                {_rel(data_dir)} {removed}")
        _say(f"  examples/ (another origin: CORS)    {web.base_url}")
        width = max(36, *(len(r.route_key) + 1 for r in emulator.routes))
        for route in emulator.routes:
            _say(f"  {route.route_key:{width}}-> {route.function}")
        for function in emulator.api.invocable:
            _say(
                f"  {'(no route: `make cleanup`)' if function == 'CleanupFunction' else '(no route)':{width}}-> {function}"
            )
        for warning in env_warnings:
            _say(f"  note: environment {warning}")
        _say()
        kind = "HS256" if issuer is None else f"RS256, JWKS at {issuer.jwks_url}"
        who = "".join(f', {name} "{value}"' for name, value in claims.items())
        more = "".join(f" --claim {name}={value}" for name, value in claims.items())
        _say(f"Keys are made under {args.prefix}")
        _say(
            f'A dev token for sub "alice"{who} ({kind}, valid 1 h; another: '
            f"{shlex.quote(sys.executable)} -m local.token --sub bob{more}):"
        )
        _say(token)
        _say()
        _say("The demo app, signed in with that token (it travels in the #fragment, sent to no server):")
        _say(demo_app_url(web.base_url, base_url, token))
        _say()
        _say("In a browser, from another origin (CORS applies as in production):")
        for line in example_pages(web.base_url, base_url, token):
            _say(line)
        _say()
        _say("Try it: paste these in another shell, in the repo root:")
        _say()
        for line in demo_commands(base_url, token, demo_dir):
            _say(line)
        _say()
        if state_file is not None:
            _say("Check the storage end to end (credentials, clock, URLs, CORS, lifecycle): make doctor")
        _say("Ctrl-C stops everything.")

        while not stop.wait(0.5):
            pass
        _say("\nstopping: emulator, moto server, SeaweedFS ...")
    _say("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
