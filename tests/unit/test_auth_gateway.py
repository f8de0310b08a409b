"""Gateway mode: claims API Gateway's JWT authorizer has verified, in the shape it really passes them
(every value a string, lists as "[a b]"), and the same decisions as verifying the token ourselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from presign.auth import Authenticator, Principal, build_authenticator
from presign.config.auth import AuthSettings
from presign.config.secrets import SecretRef
from presign.errors import AuthenticationError
from tests.support.jwt_keys import (
    AUDIENCE,
    ISSUER,
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

KID = "rsa-2030-01"


def no_secrets(ref: SecretRef) -> str:
    raise AssertionError("no secrets in this mode")


def gateway(clock: FrozenClock, *, leeway: int = 30, accept_client_id: bool = False) -> Authenticator:
    settings = AuthSettings(
        mode="gateway",
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway_seconds=leeway,
        accept_client_id_as_audience=accept_client_id,
    )
    return build_authenticator(settings, no_secrets, clock=clock)


def oidc(clock: FrozenClock, *, leeway: int = 30, accept_client_id: bool = False) -> Authenticator:
    settings = AuthSettings(
        mode="oidc",
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway_seconds=leeway,
        accept_client_id_as_audience=accept_client_id,
        jwks_url="https://idp.example.test/jwks",
        algorithms=["RS256"],
    )
    return build_authenticator(
        settings, no_secrets, clock=clock, jwks_fetcher=FakeJwksEndpoint(jwks(public_jwk(rsa_key(), KID)))
    )


def refusal(auth: Authenticator, gateway_claims: dict[str, Any] | None) -> str:
    with pytest.raises(AuthenticationError) as caught:
        auth.authenticate(authorization=None, gateway_claims=gateway_claims)
    return caught.value.reason


def test_claims_in_the_real_api_gateway_shape_are_accepted() -> None:
    # Given: what requestContext.authorizer.jwt.claims looks like for an Auth0 access token
    clock = FrozenClock()
    now = clock.ts()
    event_claims = {
        "aud": f"[{AUDIENCE} https://tenant.auth0.com/userinfo]",
        "azp": "FT6TMjfHI2lkxjpAbG5tCjEdiEkyvMCA",
        "exp": str(now + 3600),
        "iat": str(now),
        "iss": ISSUER,
        "scope": "openid files:read files:write",
        "sub": "auth0|5fe435b5cbbc85006b071eba",
    }

    # When
    principal = gateway(clock).authenticate(authorization=None, gateway_claims=event_claims)

    # Then
    assert principal.sub == "auth0|5fe435b5cbbc85006b071eba"
    assert principal.scopes == {"openid", "files:read", "files:write"}
    assert principal.claims["exp"] == str(now + 3600)


def test_the_authorization_header_is_ignored_and_claims_are_required() -> None:
    # A route deployed without the JWT authorizer has no claims: fail closed, whatever the header.
    clock = FrozenClock()
    auth = gateway(clock)
    valid = sign(claims(clock), rsa_key(), "RS256", kid=KID)

    with pytest.raises(AuthenticationError) as caught:
        auth.authenticate(authorization=bearer(valid))
    assert caught.value.reason == "missing_token"
    assert refusal(auth, {}) == "missing_token"
    assert auth.authenticate(
        authorization="Bearer garbage", gateway_claims=as_gateway_claims(claims(clock))
    ).sub


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://another-issuer.example/"}, "bad_issuer"),
        ({"iss": ISSUER.rstrip("/")}, "bad_issuer"),
        ({"aud": "another-api"}, "bad_audience"),
        ({"aud": "[another-api yet-another]"}, "bad_audience"),
        ({"aud": None}, "missing_claim"),
        ({"sub": None}, "missing_claim"),
        ({"sub": ""}, "missing_claim"),
        ({"exp": None}, "missing_claim"),
        ({"exp": "soon"}, "bad_claim"),
        ({"exp": "-5"}, "bad_claim"),
        ({"exp": "1e10"}, "bad_claim"),
        ({"exp": "NaN"}, "bad_claim"),
        ({"exp": "1893499200000000000"}, "bad_claim"),
    ],
)
def test_gateway_claims_are_checked_again(overrides: dict[str, Any], reason: str) -> None:
    clock = FrozenClock()
    event_claims = {k: v for k, v in (as_gateway_claims(claims(clock)) | overrides).items() if v is not None}

    assert refusal(gateway(clock), event_claims) == reason


def test_gateway_expiry_uses_the_same_leeway() -> None:
    clock = FrozenClock()
    auth = gateway(clock, leeway=30)
    event_claims = as_gateway_claims(claims(clock, exp=clock.ts() + 10))

    auth.authenticate(authorization=None, gateway_claims=event_claims)
    clock.advance(39)
    auth.authenticate(authorization=None, gateway_claims=event_claims)
    clock.advance(1)
    assert refusal(auth, event_claims) == "expired"


def test_native_types_are_accepted_too() -> None:
    # The local emulator (or a future API Gateway) may pass JSON types through unchanged.
    clock = FrozenClock()
    principal = gateway(clock).authenticate(
        authorization=None, gateway_claims=claims(clock, aud=["x", AUDIENCE], scp=["files:read"])
    )

    assert principal.scopes == {"files:read"}


def test_cognito_access_token_claims_with_client_id() -> None:
    clock = FrozenClock()
    cognito = as_gateway_claims(
        claims(clock, aud=None, client_id=AUDIENCE, token_use="access", scope="presign/upload")
    )

    assert gateway(clock, accept_client_id=True).authenticate(
        authorization=None, gateway_claims=cognito
    ).scopes == {"presign/upload"}
    assert refusal(gateway(clock), cognito) == "missing_claim"


# --- The same decisions as local verification -------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    payload: dict[str, Any]


def api_gateway_accepts(payload: dict[str, Any], now: int) -> bool:
    """What API Gateway's JWT authorizer decides once the RS256 signature and kid check out
    (docs: iss must match; aud, or client_id when aud is absent, must match; exp after now;
    nbf and iat before now; no leeway)."""

    def number(name: str) -> float | None:
        value = payload.get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    aud = payload.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    audience_ok = AUDIENCE in audiences if "aud" in payload else payload.get("client_id") == AUDIENCE
    exp, nbf, iat = number("exp"), number("nbf"), number("iat")
    return (
        payload.get("iss") == ISSUER
        and audience_ok
        and exp is not None
        and exp > now
        and (nbf is None or nbf <= now)
        and (iat is None or iat <= now)
    )


def table(now: int) -> list[Case]:
    def c(name: str, **overrides: Any) -> Case:
        base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now - 10, "exp": now + 300}
        return Case(name, {k: v for k, v in (base | overrides).items() if v is not None})

    return [
        c("valid"),
        c("aud-array-with-ours", aud=["https://tenant.auth0.com/userinfo", AUDIENCE]),
        c("aud-array-without-ours", aud=["a", "b"]),
        c("foreign-aud", aud="other"),
        c("cognito-access-token", aud=None, client_id=AUDIENCE, token_use="access"),
        c("cognito-foreign-client", aud=None, client_id="other"),
        c("aud-wins-over-client-id", aud="other", client_id=AUDIENCE),
        c("issuer-prefix", iss=ISSUER[:-1]),
        c("issuer-extended", iss=ISSUER + "evil"),
        c("no-sub", sub=None),
        c("empty-sub", sub=""),
        c("no-exp", exp=None),
        c("expired", exp=now - 100),
        c("expires-in-one-second", exp=now + 1),
        c("nbf-past", nbf=now - 5),
        c("nbf-future", nbf=now + 100),
        c("iat-future", iat=now + 100),
        c("scope-string", scope="files:read files:write"),
        c("scp-list", scp=["files:read", "files:write"]),
        c("scp-single", scp=["files:read"]),
        c("scope-and-scp", scope="openid", scp=["files:read"]),
        c("tenant-and-groups", tenant="acme", groups=["admin", "dev"], email_verified=True),
        c("float-exp", exp=now + 60.5),
        c("sub-with-pipe", sub="auth0|5fe435b5cbbc85006b071eba"),
    ]


def decision(auth: Authenticator, **kwargs: Any) -> Principal | str:
    try:
        return auth.authenticate(**kwargs)
    except AuthenticationError as exc:
        return f"refused:{exc.reason}"


def test_gateway_mode_decides_like_local_verification_for_tokens_api_gateway_accepts() -> None:
    # Given: one clock, one configuration, both modes
    clock = FrozenClock()
    now = clock.ts()
    local, behind_gateway = oidc(clock, accept_client_id=True), gateway(clock, accept_client_id=True)
    accepted: dict[str, bool] = {}

    for case in table(now):
        if not api_gateway_accepts(case.payload, now):
            continue
        # When: we verify the token ourselves, and take its claims as API Gateway would pass them
        token = sign(case.payload, rsa_key(), "RS256", kid=KID)
        ours = decision(local, authorization=bearer(token))
        theirs = decision(behind_gateway, authorization=None, gateway_claims=as_gateway_claims(case.payload))

        # Then: the same accept/reject decision, the same subject and scopes
        assert isinstance(ours, str) == isinstance(theirs, str), case.name
        if isinstance(ours, Principal) and isinstance(theirs, Principal):
            assert (ours.sub, ours.scopes) == (theirs.sub, theirs.scopes), case.name
        accepted[case.name] = isinstance(ours, Principal)

    # ... over 14 tokens, two of which both refuse: API Gateway does not require a subject
    assert len(accepted) == 14
    assert {name for name, ok in accepted.items() if not ok} == {"no-sub", "empty-sub"}


def test_the_model_of_api_gateway_refuses_what_it_should() -> None:
    # Guard the table: the cases the comparison skips are exactly the ones API Gateway refuses.
    now = FrozenClock().ts()
    skipped = {case.name for case in table(now) if not api_gateway_accepts(case.payload, now)}

    assert skipped == {
        "aud-array-without-ours", "foreign-aud", "cognito-foreign-client", "aud-wins-over-client-id",
        "issuer-prefix", "issuer-extended", "no-exp", "expired", "nbf-future", "iat-future",
    }  # fmt: skip


def test_known_divergence_a_numeric_sub_is_indistinguishable_behind_the_gateway() -> None:
    # RFC 7519 makes sub a string; locally a number is refused. API Gateway turns 42 into "42",
    # so gateway mode cannot tell. Documented in docs/authentication.md.
    clock = FrozenClock()
    payload = claims(clock, sub=42)

    assert decision(oidc(clock), authorization=bearer(sign(payload, rsa_key(), "RS256", kid=KID))) == (
        "refused:bad_claim"
    )
    assert (
        gateway(clock).authenticate(authorization=None, gateway_claims=as_gateway_claims(payload)).sub == "42"
    )
