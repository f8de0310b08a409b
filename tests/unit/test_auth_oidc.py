"""OIDC mode: RS256 / PS256 / ES256 with keys from a JWKS, algorithms pinned per key (RFC 8725)."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from presign.auth import REASONS, Authenticator, build_authenticator
from presign.auth.reasons import INVALID_TOKEN_MESSAGE
from presign.config.auth import AuthSettings
from presign.config.secrets import SecretRef
from presign.errors import AuthenticationError
from tests.support.jwt_keys import (
    AUDIENCE,
    ISSUER,
    FakeJwksEndpoint,
    FrozenClock,
    b64url,
    bearer,
    claims,
    ec_key,
    forge,
    jwks,
    public_jwk,
    public_pem,
    rsa_key,
    sign,
)

RSA_KID = "rsa-2030-01"
EC_KID = "ec-2030-01"


def no_secrets(ref: SecretRef) -> str:
    raise AssertionError("oidc mode resolves no secrets")


def provider_keys() -> dict[str, Any]:
    return jwks(public_jwk(rsa_key(), RSA_KID), public_jwk(ec_key(), EC_KID))


def build(
    endpoint: FakeJwksEndpoint | None = None,
    *,
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256"),
    clock: FrozenClock | None = None,
    **extra: Any,
) -> Authenticator:
    settings = AuthSettings.model_validate(
        {
            "mode": "oidc",
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "jwks_url": "https://idp.example.test/.well-known/jwks.json",
            "algorithms": list(algorithms),
            **extra,
        }
    )
    return build_authenticator(
        settings,
        no_secrets,
        clock=clock or FrozenClock(),
        jwks_fetcher=endpoint or FakeJwksEndpoint(provider_keys()),
    )


def refusal(auth: Authenticator, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        auth.authenticate(authorization=bearer(token))
    assert caught.value.message == INVALID_TOKEN_MESSAGE
    assert caught.value.reason in REASONS
    return caught.value.reason


@pytest.mark.parametrize(
    ("alg", "kid", "key"),
    [("RS256", RSA_KID, rsa_key), ("PS256", RSA_KID, rsa_key), ("ES256", EC_KID, ec_key)],
)
def test_each_configured_algorithm_verifies(alg: str, kid: str, key: Any) -> None:
    # Given
    auth = build()

    # When
    principal = auth.authenticate(authorization=bearer(sign(claims(scp=["files:read"]), key(), alg, kid=kid)))

    # Then
    assert principal.sub == "alice"
    assert principal.scopes == {"files:read"}


def test_an_algorithm_not_configured_is_refused_before_any_key_is_fetched() -> None:
    endpoint = FakeJwksEndpoint(provider_keys())
    auth = build(endpoint, algorithms=("RS256",))

    assert refusal(auth, sign(claims(), ec_key(), "ES256", kid=EC_KID)) == "alg_not_allowed"
    assert refusal(auth, sign(claims(), rsa_key(), "PS256", kid=RSA_KID)) == "alg_not_allowed"
    assert endpoint.fetches == 0


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(alg: str) -> None:
    endpoint = FakeJwksEndpoint(provider_keys())

    assert refusal(build(endpoint), forge({"alg": alg, "kid": RSA_KID}, claims())) == "alg_not_allowed"
    assert endpoint.fetches == 0


@pytest.mark.parametrize("form", ["pem", "jwk-json", "jwk-n"])
def test_rs256_token_resigned_as_hs256_with_the_public_key_is_refused(form: str) -> None:
    # Given: the provider's public key, as an attacker would find it
    public = {
        "pem": public_pem(rsa_key()),
        "jwk-json": json.dumps(public_jwk(rsa_key(), RSA_KID)).encode(),
        "jwk-n": jwt.utils.base64url_decode(public_jwk(rsa_key(), RSA_KID)["n"]),
    }[form]
    genuine = sign(claims(), rsa_key(), "RS256", kid=RSA_KID)
    _, payload, _ = genuine.split(".")

    # When: the genuine payload re-signed with HMAC keyed by the public key
    resigned = forge(
        {"alg": "HS256", "typ": "JWT", "kid": RSA_KID}, jwt.utils.base64url_decode(payload), hmac_key=public
    )

    # Then
    assert refusal(build(), resigned) == "alg_not_allowed"


def test_a_symmetric_key_in_the_jwks_is_never_used() -> None:
    # Given: a JWKS that (wrongly) publishes an oct key next to the RSA one
    secret = b"k" * 32
    endpoint = FakeJwksEndpoint(
        jwks(public_jwk(rsa_key(), RSA_KID), {"kty": "oct", "kid": "hmac", "k": b64url(secret)})
    )
    auth = build(endpoint)

    # Then: HS256 is refused outright, and an RS256 header naming the oct key finds no RSA key
    assert (
        refusal(auth, forge({"alg": "HS256", "kid": "hmac"}, claims(), hmac_key=secret)) == "alg_not_allowed"
    )
    assert refusal(auth, forge({"alg": "RS256", "kid": "hmac"}, claims(), hmac_key=secret)) == "unknown_kid"


@pytest.mark.parametrize(
    ("alg", "kid", "key"),
    [("RS256", EC_KID, rsa_key), ("ES256", RSA_KID, ec_key), ("PS256", EC_KID, rsa_key)],
    ids=["rsa-alg-on-ec-key", "ec-alg-on-rsa-key", "pss-alg-on-ec-key"],
)
def test_key_type_must_match_the_header_alg(alg: str, kid: str, key: Any) -> None:
    assert refusal(build(), sign(claims(), key(), alg, kid=kid)) == "alg_not_allowed"


def test_a_key_that_declares_its_alg_is_pinned_to_it() -> None:
    # Given: the RSA key published with "alg": "RS256"
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), RSA_KID, alg="RS256")))
    auth = build(endpoint)

    # Then: PS256 with the same key is refused, RS256 accepted
    assert refusal(auth, sign(claims(), rsa_key(), "PS256", kid=RSA_KID)) == "alg_not_allowed"
    assert (
        auth.authenticate(authorization=bearer(sign(claims(), rsa_key(), "RS256", kid=RSA_KID))).sub
        == "alice"
    )


def test_a_token_signed_by_another_key_with_our_kid_is_a_bad_signature() -> None:
    assert refusal(build(), sign(claims(), rsa_key("attacker"), "RS256", kid=RSA_KID)) == "bad_signature"
    assert refusal(build(), sign(claims(), ec_key("attacker"), "ES256", kid=EC_KID)) == "bad_signature"


def test_one_flipped_byte_in_the_signature() -> None:
    header, payload, signature = sign(claims(), rsa_key(), "RS256", kid=RSA_KID).split(".")
    raw = bytearray(jwt.utils.base64url_decode(signature))
    raw[17] ^= 0x01

    assert refusal(build(), f"{header}.{payload}.{b64url(bytes(raw))}") == "bad_signature"


def test_two_segments_only() -> None:
    header, payload, _ = sign(claims(), rsa_key(), "RS256", kid=RSA_KID).split(".")

    assert refusal(build(), f"{header}.{payload}") == "malformed"


@pytest.mark.parametrize(
    "kid",
    [
        "../../../../etc/passwd",
        "/dev/stdin",
        "file:///etc/shadow",
        "' OR '1'='1' --",
        "x'; DROP TABLE keys; --",
        "%00",
        "\u0000",
        "k" * 300,
    ],
    ids=["traversal", "dev", "file-url", "sql-or", "sql-drop", "pct-nul", "nul", "300-chars"],
)
def test_hostile_kids_name_no_key(kid: str) -> None:
    # Given: a warm cache
    endpoint = FakeJwksEndpoint(provider_keys())
    clock = FrozenClock()
    auth = build(endpoint, clock=clock)
    auth.warm_up()

    # When: long past the refetch interval, a hostile kid arrives
    clock.advance(31)
    reason = refusal(auth, sign(claims(), rsa_key(), "RS256", kid=kid))

    # Then: nothing matches; an over-long kid is not even worth a refetch
    assert reason == "unknown_kid"
    assert endpoint.fetches == (1 if len(kid) > 256 else 2)


def test_a_10_kb_kid_is_refused_as_too_large_without_a_fetch() -> None:
    endpoint = FakeJwksEndpoint(provider_keys())

    assert refusal(build(endpoint), sign(claims(), rsa_key(), "RS256", kid="k" * 10_240)) == "too_large"
    assert endpoint.fetches == 0


@pytest.mark.parametrize("kid", [None, 42, ["rsa"], {"kid": RSA_KID}])
def test_a_missing_or_non_string_kid(kid: Any) -> None:
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT"} | ({} if kid is None else {"kid": kid})
    genuine = sign(claims(), rsa_key(), "RS256", kid=RSA_KID)
    forged = ".".join([b64url(json.dumps(header).encode()), *genuine.split(".")[1:]])

    assert refusal(build(), forged) == ("unknown_kid" if kid is None else "malformed")


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c"])
def test_keys_named_inside_the_token_are_never_used(header: str) -> None:
    # Given: an attacker's own key, advertised in the token itself
    attacker = rsa_key("attacker")
    value = {
        "jku": "https://evil.example/jwks.json",
        "x5u": "https://evil.example/cert.pem",
        "jwk": public_jwk(attacker, "evil"),
        "x5c": ["MIIB"],
    }[header]
    endpoint = FakeJwksEndpoint(provider_keys())
    auth = build(endpoint)

    # When: signed by the attacker, under their kid and under ours
    with_their_kid = sign(claims(), attacker, "RS256", kid="evil", **{header: value})
    with_our_kid = sign(claims(), attacker, "RS256", kid=RSA_KID, **{header: value})

    # Then: refused; the only document ever fetched is the configured one
    assert refusal(auth, with_their_kid) == "unknown_kid"
    assert refusal(auth, with_our_kid) == "bad_signature"
    assert endpoint.fetches == 1


def test_genuine_tokens_carrying_jku_are_verified_with_our_keys() -> None:
    genuine = sign(claims(), rsa_key(), "RS256", kid=RSA_KID, jku="https://evil.example/jwks.json")

    assert build().authenticate(authorization=bearer(genuine)).sub == "alice"


def test_crit_is_refused() -> None:
    assert refusal(build(), sign(claims(), rsa_key(), "RS256", kid=RSA_KID, crit=["exp"], exp=1)) == "crit"


def test_claims_are_checked_after_the_signature() -> None:
    clock = FrozenClock()
    auth = build(clock=clock)

    def rs(**overrides: Any) -> str:
        return sign(claims(clock, **overrides), rsa_key(), "RS256", kid=RSA_KID)

    assert refusal(auth, rs(exp=clock.ts() - 31)) == "expired"
    assert refusal(auth, rs(nbf=clock.ts() + 31)) == "not_yet_valid"
    assert refusal(auth, rs(iss=ISSUER.rstrip("/"))) == "bad_issuer"
    assert refusal(auth, rs(aud="another-api")) == "bad_audience"
    assert refusal(auth, rs(sub=None)) == "missing_claim"
    assert refusal(auth, rs(exp="4102444800")) == "bad_claim"
    assert auth.authenticate(authorization=bearer(rs(aud=["account", AUDIENCE]))).sub == "alice"


def test_cognito_access_tokens_with_client_id_instead_of_aud() -> None:
    # Given
    with_flag = build(accept_client_id_as_audience=True)
    access_token = sign(
        claims(aud=None, client_id=AUDIENCE, token_use="access"), rsa_key(), "RS256", kid=RSA_KID
    )

    # Then: accepted only when configured, and aud, when present, still decides
    assert with_flag.authenticate(authorization=bearer(access_token)).sub == "alice"
    assert refusal(build(), access_token) == "missing_claim"
    other = sign(claims(aud=None, client_id="another-client"), rsa_key(), "RS256", kid=RSA_KID)
    assert refusal(with_flag, other) == "missing_claim"
    both = sign(claims(aud="another-api", client_id=AUDIENCE), rsa_key(), "RS256", kid=RSA_KID)
    assert refusal(with_flag, both) == "bad_audience"
