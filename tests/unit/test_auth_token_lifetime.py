"""``max_token_lifetime_seconds``: a token whose ``exp - iat`` is longer is refused, in every mode.

A leaked long-lived token (a backend that mints HS256 tokens for a week, an IdP set to 24 h) is
good until it expires; this bounds that window whatever the issuer does. With the limit set,
``iat`` becomes required: without it the lifetime is unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from presign.auth import REASONS, Authenticator, build_authenticator
from presign.config.auth import AuthSettings
from presign.config.secrets import EnvSecret, SecretRef
from presign.errors import AuthenticationError
from tests.support.jwt_keys import (
    AUDIENCE,
    ISSUER,
    SECRET,
    FakeJwksEndpoint,
    FrozenClock,
    as_gateway_claims,
    bearer,
    claims,
    jwks,
    public_jwk,
    rsa_key,
    sign,
)

KID = "rsa-lifetime"
Present = Callable[[Authenticator, dict[str, Any]], str]


def _resolve(ref: SecretRef) -> str:
    return SECRET


def _build(mode: str, clock: FrozenClock, **auth: Any) -> Authenticator:
    extra: dict[str, Any] = {
        "hs256": {"secrets": [EnvSecret(source="env", name="JWT")]},
        "oidc": {"jwks_url": "https://idp.example.test/jwks"},
        "gateway": {},
    }[mode]
    settings = AuthSettings(mode=mode, issuer=ISSUER, audience=AUDIENCE, **extra, **auth)  # type: ignore[arg-type]
    return build_authenticator(
        settings, _resolve, clock=clock, jwks_fetcher=FakeJwksEndpoint(jwks(public_jwk(rsa_key(), KID)))
    )


def _authenticate(mode: str, auth: Authenticator, payload: dict[str, Any]) -> str:
    if mode == "gateway":
        return auth.authenticate(authorization=None, gateway_claims=as_gateway_claims(payload)).sub
    if mode == "oidc":
        return auth.authenticate(authorization=bearer(sign(payload, rsa_key(), "RS256", kid=KID))).sub
    return auth.authenticate(authorization=bearer(sign(payload, SECRET, "HS256"))).sub


def _reason(mode: str, auth: Authenticator, payload: dict[str, Any]) -> str:
    with pytest.raises(AuthenticationError) as caught:
        _authenticate(mode, auth, payload)
    assert caught.value.reason in REASONS
    return caught.value.reason


MODES = ["hs256", "oidc", "gateway"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("lifetime", "accepted"), [(3600, True), (3601, False), (7 * 86_400, False)])
def test_a_token_may_live_at_most_the_maximum(mode: str, lifetime: int, accepted: bool) -> None:
    # Given: at most one hour between iat and exp
    clock = FrozenClock()
    auth = _build(mode, clock, max_token_lifetime_seconds=3600)
    payload = claims(clock, iat=clock.ts() - 10, exp=clock.ts() - 10 + lifetime)

    # When / Then
    if accepted:
        assert _authenticate(mode, auth, payload) == "alice"
    else:
        assert _reason(mode, auth, payload) == "lifetime_too_long"


@pytest.mark.parametrize("mode", MODES)
def test_with_a_maximum_iat_is_required(mode: str) -> None:
    clock = FrozenClock()
    auth = _build(mode, clock, max_token_lifetime_seconds=3600)

    assert _reason(mode, auth, claims(clock, iat=None)) == "missing_claim"


@pytest.mark.parametrize("mode", MODES)
def test_without_a_maximum_iat_stays_optional_and_any_lifetime_is_accepted(mode: str) -> None:
    clock = FrozenClock()
    auth = _build(mode, clock)

    assert _authenticate(mode, auth, claims(clock, iat=None)) == "alice"
    assert _authenticate(mode, auth, claims(clock, exp=clock.ts() + 30 * 86_400)) == "alice"


@pytest.mark.parametrize("value", [0, 59, 604_801])
def test_the_maximum_is_bounded(value: int) -> None:
    with pytest.raises(ValidationError, match="max_token_lifetime_seconds"):
        AuthSettings(
            issuer=ISSUER,
            audience=AUDIENCE,
            secrets=[EnvSecret(source="env", name="JWT")],
            max_token_lifetime_seconds=value,
        )
