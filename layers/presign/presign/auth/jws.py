"""Signature and registered-claim checks with PyJWT, its exceptions mapped to our reasons.

Only the HS256 and OIDC verifiers import this module: importing PyJWT loads ``cryptography``
(about 50 ms of a cold start), which gateway mode does not need.

Two checks PyJWT makes are ours instead: the time claims, because PyJWT reads the system clock
(ours is injected) and accepts ``"exp": "1700000000"``; and, for Cognito access tokens, the
audience (``client_id`` when ``aud`` is absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

from presign.auth import claims as checks
from presign.auth.reasons import Reason, refuse

if TYPE_CHECKING:
    from jwt.algorithms import AllowedPublicKeys
    from jwt.types import Options


@dataclass(frozen=True, slots=True)
class ClaimRules:
    issuer: str
    audience: str
    leeway: int
    accept_client_id: bool = False
    max_lifetime: int | None = None  # seconds between iat and exp; iat required when set
    options: Options = field(init=False, repr=False)

    def __post_init__(self) -> None:
        options: Options = {
            "require": ["exp", "iss", "sub"] + ([] if self.accept_client_id else ["aud"]),
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
            "verify_aud": not self.accept_client_id,
            "enforce_minimum_key_length": True,
        }
        object.__setattr__(self, "options", options)


# Most specific first: InvalidSignatureError is a DecodeError, and so on.
_REASONS: tuple[tuple[type[jwt.PyJWTError], Reason], ...] = (
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidAlgorithmError, "alg_not_allowed"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.InvalidIssuerError, "bad_issuer"),
    (jwt.InvalidAudienceError, "bad_audience"),
    (InvalidSubjectError, "bad_claim"),
    (InvalidJTIError, "bad_claim"),
    (jwt.DecodeError, "malformed"),
)


def reason_for(exc: jwt.PyJWTError) -> Reason:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "malformed"


def decode(
    token: str,
    key: AllowedPublicKeys | jwt.PyJWK | bytes,
    algorithm: str,
    rules: ClaimRules,
    *,
    now: float,
) -> dict[str, Any]:
    """Verify ``token`` with ``key`` for exactly ``algorithm``, then every claim rule.

    ``jwt.InvalidSignatureError`` propagates unchanged, so a caller holding several keys (HS256
    rotation) can try the next; every other failure is an ``AuthenticationError`` with a reason.
    """
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=None if rules.accept_client_id else rules.audience,
            issuer=rules.issuer,
            options=rules.options,
        )
    except jwt.InvalidSignatureError:
        raise
    except jwt.PyJWTError as exc:
        raise refuse(reason_for(exc)) from None
    check_claims(payload, rules, now=now)
    return payload


def check_claims(payload: Mapping[str, Any], rules: ClaimRules, *, now: float) -> None:
    checks.check_times(payload, now=now, leeway=rules.leeway, max_lifetime=rules.max_lifetime)
    checks.subject(payload)
    if rules.accept_client_id:
        checks.check_audience(payload, rules.audience, accept_client_id=True)
