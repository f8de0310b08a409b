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
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from local.banner import demo_app_url, demo_commands, example_pages, rel
from local.cfn import ROOT, TEMPLATE, load_template
from local.dev_config import (
    BUCKET,
    DEFAULT_PORT,
    DEFAULT_WEB_PORT,
    DEMO_CLAIM_VALUE,
    DEV_PREFIX,
    DOCTOR_ENV,
    REMOVED_ON_EXIT,
    dev_config,
    page_origins,
    prefix_claims,
    set_bucket_cors,
    set_bucket_lifecycle,
    template_environment,
)
from local.dev_events import BUS_NAME, Bus, running
from local.dev_webhooks import TABLE as WEBHOOKS_TABLE
from local.dev_webhooks import Webhooks
from local.gateway.server import Emulator
from local.gateway.template import EmulatorError, TemplateResolver
from local.invoke import invoke
from local.oidc import LocalIssuer
from local.servers import MotoServer, SeaweedFS, ServerError, aws_env, port_is_free
from local.static import EXAMPLES, StaticServer
from local.storage_feed import StorageFeed, filer_address
from local.storage_proxy import StorageProxy
from local.tables import create_tables
from local.token import DEV_AUDIENCE, DEV_ISSUER, DEV_STATE, mint_token

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


def deliver_storage_event(base_url: str, event: dict[str, Any]) -> None:
    """One object-created event to StorageEventsFunction, as EventBridge invokes it; a failure
    raises, so the feed tries again (and keeps its cursor)."""
    ok, answer = invoke(base_url, "StorageEventsFunction", event, timeout=60)
    if not ok:
        raise RuntimeError(f"StorageEventsFunction failed: {answer}")


def storage_events_sweep(base_url: str) -> str:
    """``{"sweep": true}`` once: the counts, in words, for the banner."""
    ok, answer = invoke(base_url, "StorageEventsFunction", {"sweep": True}, timeout=120)
    if not ok or not isinstance(answer, dict):
        return f"failed ({answer})"
    return ", ".join(f"{n} {what}" for what, n in sorted(answer.items())) or "nothing pending"


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
    parser.add_argument(
        "--webhook-url", default=os.environ.get("WEBHOOK_URL") or None,
        help="one more webhook endpoint (every event; loopback allowed here only); its whsec_ secret is printed",
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
            bus = Bus.create(moto.endpoint_url)  # before the functions load: the publisher reads it
            webhooks = Webhooks(moto.endpoint_url, data_dir, extra_url=args.webhook_url)
            if WEBHOOKS_TABLE in tables:  # a template without webhooks (tests' fixtures) runs without
                webhooks.prepare(_say, tables[WEBHOOKS_TABLE])
            template_env, env_warnings = template_environment(doc, TemplateResolver(doc, physical_ids=tables))
            env = {
                **template_env,
                **aws_env(moto.endpoint_url),
                **bus.env(),
                **webhooks.env,
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
            # Storage events as AWS delivers them (docs/storage-events.md): first one completion
            # sweep of pending uploads (what the event log of a killed SeaweedFS lost), then
            # SeaweedFS's feed, each object created to StorageEventsFunction.
            sweep = "off (the template has no StorageEventsFunction)"
            if "StorageEventsFunction" in emulator.api.invocable:
                sweep = storage_events_sweep(emulator.base_url)
                stack.enter_context(
                    StorageFeed(
                        bucket=BUCKET,
                        filer=lambda: filer_address(s3),
                        cursor_path=data_dir / "storage-feed.cursor",
                        log_path=data_dir / "storage-feed.log",
                        deliver=lambda event: deliver_storage_event(emulator.base_url, event),
                    )
                )
            events_log = stack.enter_context(
                running(bus, doc=doc, tables=tables, base_url=emulator.base_url, data_dir=data_dir, say=_say)
            )
            if webhooks.receiver is not None:
                stack.enter_context(webhooks.running(emulator.base_url))
        except (ServerError, EmulatorError, OSError) as exc:
            _say(f"make dev: {exc}")
            return 1
        except ValueError as exc:  # WEBHOOK_URL refused (its message never repeats the URL)
            _say(f"make dev: WEBHOOK_URL: {str(exc).splitlines()[-1].strip()}")
            return 1
        except KeyboardInterrupt:
            return 130

        if stop.is_set():  # Ctrl-C while starting: skip the banner, tear down
            return 130
        base_url = emulator.base_url
        if state_file is not None:
            state: dict[str, Any] = {
                "pid": os.getpid(),
                "base_url": base_url,
                "web_url": web.base_url,
                "events_log": str(events_log),  # every event the bus delivered, one JSON per line
                "webhooks_log": str(webhooks.log_path),  # every verified webhook attempt, one JSON per line
                # what `make webhooks` (python -m local.webhooks) runs the operator's command with
                "webhooks_env": {**webhooks.env, **aws_env(moto.endpoint_url)},
            }
            if proxy is not None:
                state["storage_proxy"] = proxy.endpoint_url
            if webhooks.receiver is not None:  # its /__receiver/ control routes (the soak's events fault)
                state["webhooks_receiver"] = webhooks.receiver.url
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
        _say(
            f"  events (EventBridge, moto server)   bus {BUS_NAME}; each one printed and in {rel(events_log)}"
        )
        if webhooks.receiver is not None:  # the template has webhooks
            url = webhooks.receiver.url
            _say(f"  webhooks (standardwebhooks receiver) {url}; in {rel(webhooks.log_path)}")
        if webhooks.extra_secret is not None:
            _say(
                "  webhook endpoint `extra` (WEBHOOK_URL), every event; its signing secret on the next line:"
            )
            _say(webhooks.extra_secret)
        removed = REMOVED_ON_EXIT if own_data_dir else ""
        _say(f"  data                                {rel(data_dir)} {removed}")
        _say(f"  examples/ (another origin: CORS)    {web.base_url}")
        width = max(36, *(len(r.route_key) + 1 for r in emulator.routes))
        for route in emulator.routes:
            _say(f"  {route.route_key:{width}}-> {route.function}")
        for function in emulator.api.invocable:
            note = {
                "CleanupFunction": "(no route: `make cleanup`)",
                "StorageEventsFunction": "(no route: events)",
            }
            _say(f"  {note.get(function, '(no route)'):{width}}-> {function}")
        _say(f"  storage events (SeaweedFS's feed)   -> StorageEventsFunction; sweep at start: {sweep}")
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
