"""Mint a dev token (HS256) the local stack accepts.

    python -m local.token --sub alice [--ttl 3600] [--scope "uploads downloads"] [--claim tenant=acme]

``--claim NAME=VALUE`` (repeatable) adds a claim, such as the ``{tenant}`` of a key prefix
``tenants/{tenant}/users/{sub}/`` (``make dev PREFIX=...``); ``make token SUB=42 TENANT=acme``.

The secret, issuer and audience come from, in order: the flags; the environment
(``PRESIGN_JWT_SECRET``, and ``PRESIGN_CONFIG``'s auth section); the file a running ``make dev``
writes (``.local/dev.json``); the dev defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt

ROOT = Path(__file__).resolve().parent.parent
DEV_STATE = ROOT / ".local" / "dev.json"  # written by local/dev.py while it runs
DEV_ISSUER = "https://dev.presign.local"
DEV_AUDIENCE = "presign-local"
SECRET_VAR = "PRESIGN_JWT_SECRET"
MIN_SECRET_BYTES = 32  # what the service's verifier insists on
# What mint_token writes itself: a --claim may not replace them (an "exp" of 2099 is not a claim).
RESERVED_CLAIMS = frozenset(("sub", "iss", "aud", "iat", "nbf", "exp", "jti", "scope"))


def mint_token(
    sub: str,
    *,
    secret: str,
    issuer: str = DEV_ISSUER,
    audience: str = DEV_AUDIENCE,
    ttl: int = 3600,
    scope: str | None = None,
    claims: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> str:
    """An HS256 JWT with sub, iss, aud, iat, nbf, exp, jti (and scope when given)."""
    if not sub:
        raise ValueError("sub must not be empty")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"the HS256 secret must be at least {MIN_SECRET_BYTES} bytes")
    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {
        "sub": sub,
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl),
        "jti": uuid.uuid4().hex,
    }
    if scope:
        payload["scope"] = scope
    payload.update(claims or {})
    return jwt.encode(payload, secret, algorithm="HS256")


def parse_claims(pairs: list[str] | None) -> dict[str, str]:
    """``["tenant=acme", ...]`` as claims; ``ValueError`` for a pair without ``=`` or a reserved name."""
    claims: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--claim {pair!r}: write NAME=VALUE, e.g. tenant=acme")
        if name in RESERVED_CLAIMS:
            raise ValueError(f"--claim {name}: set by the token itself (use --sub, --ttl, --scope)")
        claims[name] = value
    return claims


def _dev_state() -> dict[str, Any]:
    try:
        data = json.loads(DEV_STATE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _config_auth(environ: Mapping[str, str]) -> dict[str, Any]:
    try:
        doc = json.loads(environ.get("PRESIGN_CONFIG", "") or "{}")
    except ValueError:
        return {}
    auth = doc.get("auth") if isinstance(doc, dict) else None
    return auth if isinstance(auth, dict) else {}


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="python -m local.token", description="Mint a dev token (HS256).")
    parser.add_argument("--sub", required=True, help="the principal, e.g. alice")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (default 3600)")
    parser.add_argument("--scope", default=None, help='space-separated scopes, e.g. "uploads downloads"')
    parser.add_argument("--secret", default=None, help=f"default: ${SECRET_VAR}, else the running make dev's")
    parser.add_argument("--issuer", default=None)
    parser.add_argument("--audience", default=None)
    parser.add_argument(
        "--claim", action="append", metavar="NAME=VALUE",
        help="another claim, e.g. tenant=acme for a key prefix tenants/{tenant}/users/{sub}/ (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        extra = parse_claims(args.claim)
    except ValueError as exc:
        print(f"token: {exc}", file=sys.stderr)
        return 2

    state = _dev_state()
    auth = _config_auth(env)
    if state.get("mode") == "oidc" and not args.secret:
        # make dev AUTH=oidc: sign with its local issuer's current RSA key.
        from local.oidc import mint_rs256

        claims = {**extra, **({"scope": args.scope} if args.scope else {})}
        print(
            mint_rs256(
                args.sub, key=state["private_key_pem"], kid=state["kid"], issuer=state["issuer"],
                audience=state["audience"], ttl=args.ttl, **claims,
            )
        )  # fmt: skip
        return 0
    secret = args.secret or env.get(SECRET_VAR) or state.get("jwt_secret")
    if not secret:
        print(
            f"no secret: set {SECRET_VAR}, pass --secret, or start `make dev` (it writes {DEV_STATE})",
            file=sys.stderr,
        )
        return 2
    issuer = args.issuer or auth.get("issuer") or state.get("issuer") or DEV_ISSUER
    audience = args.audience or auth.get("audience") or state.get("audience") or DEV_AUDIENCE
    try:
        token = mint_token(
            args.sub,
            secret=str(secret),
            issuer=issuer,
            audience=audience,
            ttl=args.ttl,
            scope=args.scope,
            claims=extra,
        )
    except ValueError as exc:
        print(f"token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
