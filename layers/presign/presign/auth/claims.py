"""Checks that need no cryptography: token shape and header before a signature is checked, and
claims after. Shared by every mode; imports nothing heavier than the standard library, so gateway
mode never loads PyJWT or ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from presign.auth.reasons import refuse

# RFC 8725 3.x leaves limits to the application; 8 KB holds any token a real provider issues
# (they are 1-2 KB) and keeps parsing and cryptography away from anything larger.
MAX_TOKEN_BYTES: Final = 8 * 1024
# Real key ids are short (a thumbprint, a UUID); a longer one cannot name a key of ours.
MAX_KID_CHARS: Final = 256
# API Gateway hands numeric claims over as strings of digits.
_GATEWAY_NUMBER = re.compile(r"\d{1,12}(\.\d{1,9})?")


@dataclass(frozen=True, slots=True)
class JoseHeader:
    alg: str
    kid: str | None


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; refused before any parsing."""
    if authorization is None or not authorization.strip():
        raise refuse("missing_token")
    if len(authorization) > MAX_TOKEN_BYTES + 64:
        raise refuse("too_large")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not token.isascii():
        raise refuse("malformed")
    if len(token) > MAX_TOKEN_BYTES:
        raise refuse("too_large")
    return token


def _b64url(segment: str) -> bytes:
    return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)


def inspect_header(token: str, allowed_algorithms: Collection[str]) -> JoseHeader:
    """Read the JOSE header, unverified, and refuse what no key of ours could accept.

    ``jku``, ``x5u``, ``jwk`` and ``x5c`` are never read: keys come from configuration only.
    """
    segments = token.split(".")
    if len(segments) != 3 or not segments[0] or not segments[1]:
        raise refuse("malformed")
    try:
        header = json.loads(_b64url(segments[0]))
    except (ValueError, binascii.Error, RecursionError):
        raise refuse("malformed") from None
    if not isinstance(header, dict):
        raise refuse("malformed")
    if "crit" in header:
        # RFC 7515 4.1.11: extensions listed in crit must be understood; we implement none.
        raise refuse("crit")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed_algorithms:
        raise refuse("alg_not_allowed")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise refuse("malformed")
    return JoseHeader(alg=alg, kid=kid)


def numeric_date(claims: Mapping[str, Any], name: str, *, from_gateway: bool = False) -> float | None:
    """A NumericDate claim (RFC 7519 2): a finite JSON number; None when absent.

    PyJWT would take ``"1700000000"`` or ``true`` for a date (it calls ``int()``); we do not,
    except for the digit strings API Gateway makes of every number.
    """
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise refuse("bad_claim")
    if isinstance(value, int | float):
        number = value
    elif from_gateway and isinstance(value, str) and _GATEWAY_NUMBER.fullmatch(value):
        number = float(value)
    else:
        raise refuse("bad_claim")
    try:
        result = float(number)
    except OverflowError:
        raise refuse("bad_claim") from None
    if not math.isfinite(result):
        raise refuse("bad_claim")
    return result


def check_times(
    claims: Mapping[str, Any],
    *,
    now: float,
    leeway: int,
    max_lifetime: int | None = None,
    from_gateway: bool = False,
) -> None:
    """``exp`` required and in the future; ``nbf`` and ``iat``, when present, not in the future.

    With ``max_lifetime``, ``iat`` is required too and ``exp - iat`` may not exceed it: the issuer's
    own statement of how long the token lives, so no leeway applies to it.
    """
    exp = numeric_date(claims, "exp", from_gateway=from_gateway)
    if exp is None:
        raise refuse("missing_claim")
    if exp <= now - leeway:
        raise refuse("expired")
    for name in ("nbf", "iat"):
        moment = numeric_date(claims, name, from_gateway=from_gateway)
        if moment is not None and moment > now + leeway:
            raise refuse("not_yet_valid")
    if max_lifetime is not None:
        iat = numeric_date(claims, "iat", from_gateway=from_gateway)
        if iat is None:
            raise refuse("missing_claim")
        if exp - iat > max_lifetime:
            raise refuse("lifetime_too_long")


def subject(claims: Mapping[str, Any]) -> str:
    sub = claims.get("sub")
    if sub is None or sub == "":
        raise refuse("missing_claim")
    if not isinstance(sub, str):
        raise refuse("bad_claim")
    return sub


def _strings(value: Any, *, from_gateway: bool) -> list[str] | None:
    """A string or list of strings as a list; API Gateway's ``"[a b]"`` rendering of a list too."""
    if isinstance(value, str):
        if from_gateway and value.startswith("[") and value.endswith("]"):
            return value[1:-1].split()
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def check_issuer(claims: Mapping[str, Any], issuer: str) -> None:
    iss = claims.get("iss")
    if iss is None:
        raise refuse("missing_claim")
    if iss != issuer:  # exact: a prefix or a trailing-slash variant is another issuer
        raise refuse("bad_issuer")


def check_audience(
    claims: Mapping[str, Any], audience: str, *, accept_client_id: bool, from_gateway: bool = False
) -> None:
    """``aud`` must contain ours. Like API Gateway, ``client_id`` is read only when ``aud`` is absent."""
    raw = claims.get("aud")
    if raw is None:
        if accept_client_id and claims.get("client_id") == audience:
            return
        raise refuse("missing_claim")
    values = _strings(raw, from_gateway=from_gateway)
    if values is None or audience not in values:
        raise refuse("bad_audience")


def scopes(claims: Mapping[str, Any], *, from_gateway: bool = False) -> frozenset[str]:
    """Scopes from ``scope`` (space-separated, RFC 8693) and ``scp`` (a list, or a string)."""
    found: set[str] = set()
    for name in ("scope", "scp"):
        raw = claims.get(name)
        if isinstance(raw, str):
            if from_gateway and raw.startswith("[") and raw.endswith("]"):
                raw = raw[1:-1]
            found.update(raw.split())
        elif isinstance(raw, list):
            found.update(s for s in raw if isinstance(s, str) and s and not any(c.isspace() for c in s))
    return frozenset(found)
