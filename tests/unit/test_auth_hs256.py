"""HS256 mode: RFC 8725 checks, each refusal with its reason and the same message."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from presign.auth import REASONS, Authenticator, build_authenticator
from presign.auth.claims import MAX_TOKEN_BYTES
from presign.auth.reasons import INVALID_TOKEN_MESSAGE
from presign.config.auth import AuthSettings
from presign.config.secrets import EnvSecret, SecretRef, SecretsManagerSecret
from presign.errors import AuthenticationError, ConfigurationError, DependencyUnavailable
from tests.support.jwt_keys import (
    AUDIENCE,
    ISSUER,
    OLD_SECRET,
    SECRET,
    FrozenClock,
    b64url,
    bearer,
    claims,
    forge,
    public_jwk,
    public_pem,
    rsa_key,
    sign,
)


def build(*secrets: str, leeway: int = 30, clock: FrozenClock | None = None) -> Authenticator:
    values = {f"JWT_{i}": s for i, s in enumerate(secrets or (SECRET,))}
    settings = AuthSettings(
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway_seconds=leeway,
        secrets=[EnvSecret(source="env", name=name) for name in values],
    )

    def resolve(ref: SecretRef) -> str:
        assert isinstance(ref, EnvSecret)
        return values[ref.name]

    return build_authenticator(settings, resolve, clock=clock or FrozenClock())


def refusal(auth: Authenticator, authorization: str | None) -> str:
    with pytest.raises(AuthenticationError) as caught:
        auth.authenticate(authorization=authorization)
    assert caught.value.message == INVALID_TOKEN_MESSAGE, "the message must not say which check failed"
    assert caught.value.reason in REASONS
    return caught.value.reason


def token(secret: str = SECRET, /, **overrides: Any) -> str:
    return sign(claims(**overrides), secret, "HS256")


def test_a_valid_token_yields_the_principal() -> None:
    # Given
    auth = build()

    # When
    principal = auth.authenticate(authorization=bearer(token(scope="files:read files:write", tenant="acme")))

    # Then
    assert principal.sub == "alice"
    assert principal.scopes == {"files:read", "files:write"}
    assert principal.claims["tenant"] == "acme"


@pytest.mark.parametrize("header", ["bearer {t}", "BEARER {t}", "  Bearer   {t}  "])
def test_the_scheme_is_case_insensitive(header: str) -> None:
    assert build().authenticate(authorization=header.format(t=token())).sub == "alice"


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "missing_token"),
        ("", "missing_token"),
        ("   ", "missing_token"),
        ("Bearer", "malformed"),
        ("Basic YWxpY2U6cHc=", "malformed"),
        ("Bearer ab\u00e9.cd.ef", "malformed"),
    ],
)
def test_missing_or_foreign_credentials(authorization: str | None, reason: str) -> None:
    assert refusal(build(), authorization) == reason


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
def test_alg_none_in_any_spelling_is_refused(alg: str) -> None:
    # Given: an unsigned token, with and without a trailing signature segment
    unsigned = forge({"alg": alg, "typ": "JWT"}, claims())

    # Then
    assert refusal(build(), bearer(unsigned)) == "alg_not_allowed"
    assert refusal(build(), bearer(unsigned + "AAAA")) == "alg_not_allowed"


def test_a_header_without_alg_is_refused() -> None:
    assert (
        refusal(build(), bearer(forge({"typ": "JWT"}, claims(), hmac_key=SECRET.encode())))
        == "alg_not_allowed"
    )


@pytest.mark.parametrize("alg", ["HS384", "HS512", "RS256", "ES256", "PS256", "hs256"])
def test_only_hs256_is_accepted(alg: str) -> None:
    forged = forge({"alg": alg, "typ": "JWT"}, claims(), hmac_key=SECRET.encode())

    assert refusal(build(), bearer(forged)) == "alg_not_allowed"


@pytest.mark.parametrize("form", ["pem", "jwk"])
def test_a_public_key_used_as_hmac_secret_does_not_verify(form: str) -> None:
    # Given: the classic confusion attack, an HS256 token keyed with someone's public key
    public = rsa_key()
    key = public_pem(public) if form == "pem" else jwt.utils.force_bytes(str(public_jwk(public, "k1")))

    # When / Then
    assert refusal(build(), bearer(forge({"alg": "HS256"}, claims(), hmac_key=key))) == "bad_signature"


def test_one_flipped_byte_anywhere_breaks_the_signature() -> None:
    # Given
    auth = build()
    good = token()
    header, payload, signature = good.split(".")

    # When: a flipped character in each segment
    flipped_signature = signature[:-3] + ("A" if signature[-3] != "A" else "B") + signature[-2:]
    tampered_payload = b64url(jwt.utils.base64url_decode(payload).replace(b"alice", b"alicf"))

    # Then
    assert refusal(auth, bearer(f"{header}.{payload}.{flipped_signature}")) == "bad_signature"
    assert refusal(auth, bearer(f"{header}.{tampered_payload}.{signature}")) == "bad_signature"


@pytest.mark.parametrize(
    "shape",
    ["{h}.{p}", "{h}", "{h}.{p}.{s}.{s}", "{h}..{s}", ".{p}.{s}", "{h}.{p}.{s}.", "{h}.{p}.{s}!"],
)
def test_wrong_number_or_shape_of_segments_is_malformed(shape: str) -> None:
    h, p, s = token().split(".")

    assert refusal(build(), bearer(shape.format(h=h, p=p, s=s))) == "malformed"


@pytest.mark.parametrize(
    "header_bytes",
    [b"not json", b"[1, 2]", b'"HS256"', b"{" * 5000, b'{"alg": "HS256", "kid": 7}', b"\xff\xfe"],
)
def test_a_header_that_is_not_a_json_object_is_malformed(header_bytes: bytes) -> None:
    _, p, s = token().split(".")

    assert refusal(build(), bearer(f"{b64url(header_bytes)}.{p}.{s}")) == "malformed"


@pytest.mark.parametrize("payload", [b"not json", b"[1]", b'"sub"'])
def test_a_signed_payload_that_is_not_a_json_object_is_malformed(payload: bytes) -> None:
    forged = forge({"alg": "HS256", "typ": "JWT"}, payload, hmac_key=SECRET.encode())

    assert refusal(build(), bearer(forged)) == "malformed"


@pytest.mark.parametrize("crit", [["exp"], ["b64"], ["x-custom"], [], "b64"])
def test_any_crit_header_is_refused(crit: Any) -> None:
    # We implement no JWS extension, so no critical one can be understood (RFC 7515 4.1.11).
    forged = sign(claims(), SECRET, "HS256", crit=crit, b64=True, exp=1)

    assert refusal(build(), bearer(forged)) == "crit"


@pytest.mark.parametrize(
    ("leeway", "exp_offset", "accepted"),
    [(30, -31, False), (30, -30, False), (30, -29, True), (0, 0, False), (0, 1, True), (60, -59, True)],
)
def test_expiry_at_the_leeway_edges(leeway: int, exp_offset: int, accepted: bool) -> None:
    # Given: a frozen clock and a token whose exp sits at the edge
    clock = FrozenClock()
    auth = build(leeway=leeway, clock=clock)
    candidate = token(exp=clock.ts() + exp_offset, iat=clock.ts() - 600)

    # When / Then
    if accepted:
        assert auth.authenticate(authorization=bearer(candidate)).sub == "alice"
    else:
        assert refusal(auth, bearer(candidate)) == "expired"


def test_a_token_expires_as_the_clock_moves() -> None:
    clock = FrozenClock()
    auth = build(leeway=10, clock=clock)
    candidate = token(exp=clock.ts() + 60)

    auth.authenticate(authorization=bearer(candidate))
    clock.advance(69)
    auth.authenticate(authorization=bearer(candidate))
    clock.advance(1)
    assert refusal(auth, bearer(candidate)) == "expired"


@pytest.mark.parametrize(
    ("claim", "offset", "accepted"), [("nbf", 30, True), ("nbf", 31, False), ("iat", 31, False)]
)
def test_nbf_and_iat_in_the_future(claim: str, offset: int, accepted: bool) -> None:
    clock = FrozenClock()
    auth = build(leeway=30, clock=clock)
    candidate = token(**{claim: clock.ts() + offset})

    if accepted:
        auth.authenticate(authorization=bearer(candidate))
    else:
        assert refusal(auth, bearer(candidate)) == "not_yet_valid"


@pytest.mark.parametrize(
    "issuer",
    [ISSUER[:-1], ISSUER + "x", ISSUER.upper(), "https://evil.example/" + ISSUER, ISSUER[:8], " " + ISSUER],
)
def test_the_issuer_must_match_exactly(issuer: str) -> None:
    assert refusal(build(), bearer(token(iss=issuer))) == "bad_issuer"


@pytest.mark.parametrize(
    "aud", ["someone-else", ["someone-else", "another"], AUDIENCE.upper(), AUDIENCE + "-x"]
)
def test_a_foreign_audience_is_refused(aud: Any) -> None:
    assert refusal(build(), bearer(token(aud=aud))) == "bad_audience"


def test_an_audience_array_that_contains_ours_is_accepted() -> None:
    assert (
        build().authenticate(authorization=bearer(token(aud=["https://other.api", AUDIENCE]))).sub == "alice"
    )


@pytest.mark.parametrize("missing", ["exp", "iss", "aud", "sub"])
def test_required_claims(missing: str) -> None:
    assert refusal(build(), bearer(token(**{missing: None}))) == "missing_claim"


def test_an_empty_subject_is_missing() -> None:
    assert refusal(build(), bearer(token(sub=""))) == "missing_claim"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", "1893499200"),
        ("exp", True),
        ("exp", [1893499200]),
        ("exp", {"t": 1}),
        ("nbf", "0"),
        ("iat", False),
        ("sub", 42),
        ("sub", ["alice"]),
        ("aud", 7),
        ("iss", 1),
        ("jti", 5),
    ],
)
def test_claims_of_the_wrong_type(claim: str, value: Any) -> None:
    # PyJWT will not encode some of these; a forger need not use PyJWT.
    forged = forge({"alg": "HS256", "typ": "JWT"}, claims(**{claim: value}), hmac_key=SECRET.encode())

    reason = refusal(build(), bearer(forged))

    assert reason == {"aud": "bad_audience", "iss": "bad_issuer"}.get(claim, "bad_claim")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e999"])
def test_non_finite_expiry_never_means_forever(literal: str) -> None:
    # Python's json accepts NaN and Infinity; a token must not live forever because of them.
    body = f'{{"iss": "{ISSUER}", "aud": "{AUDIENCE}", "sub": "alice", "exp": {literal}}}'.encode()
    forged = forge({"alg": "HS256", "typ": "JWT"}, body, hmac_key=SECRET.encode())

    assert refusal(build(), bearer(forged)) == "bad_claim"


def test_a_fractional_expiry_is_a_valid_numeric_date() -> None:
    clock = FrozenClock()

    assert build(clock=clock).authenticate(authorization=bearer(token(exp=clock.ts() + 10.5))).sub == "alice"


def test_a_token_over_8_kb_is_refused_before_any_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a validly signed token just over the limit, and one just under
    auth = build()
    estimate = (MAX_TOKEN_BYTES - len(token(pad=""))) * 3 // 4
    size = max(n for n in range(estimate - 8, estimate + 8) if len(token(pad="x" * n)) <= MAX_TOKEN_BYTES)
    under, over = token(pad="x" * size), token(pad="x" * (size + 3))
    assert len(under) <= MAX_TOKEN_BYTES < len(over)
    auth.authenticate(authorization=bearer(under))

    # When: PyJWT would fail the test if it were reached
    def no_crypto(*_: Any, **__: Any) -> Any:
        raise AssertionError("cryptography ran on an oversized token")

    monkeypatch.setattr(jwt, "decode", no_crypto)

    # Then
    assert refusal(auth, bearer(over)) == "too_large"
    assert refusal(auth, "Bearer " + "a" * 1_000_000) == "too_large"


def test_rotation_accepts_every_listed_secret_newest_first() -> None:
    # Given: the new secret listed first, the old one still listed
    rotating = build(SECRET, OLD_SECRET)
    after_rotation = build(SECRET)

    # When / Then: tokens signed with either are accepted while both are listed
    assert rotating.authenticate(authorization=bearer(token(SECRET))).sub == "alice"
    assert rotating.authenticate(authorization=bearer(token(OLD_SECRET))).sub == "alice"
    # ... and the old one stops working once it is dropped
    assert refusal(after_rotation, bearer(token(OLD_SECRET))) == "bad_signature"


def test_an_old_secret_does_not_rescue_a_token_that_fails_its_claims() -> None:
    # A token signed with the old secret but expired is "expired", not "bad_signature".
    clock = FrozenClock()

    assert (
        refusal(build(SECRET, OLD_SECRET, clock=clock), bearer(token(OLD_SECRET, exp=clock.ts() - 100)))
        == "expired"
    )


def test_an_unknown_secret_is_a_bad_signature() -> None:
    assert refusal(build(SECRET, OLD_SECRET), bearer(token("z" * 40))) == "bad_signature"


def test_jku_x5u_and_jwk_headers_change_nothing() -> None:
    # Keys come from configuration only; these headers are never read.
    forged = sign(
        claims(),
        SECRET,
        "HS256",
        jku="https://evil.example/jwks",
        x5u="https://evil.example/cert",
        jwk={"kty": "oct"},
    )

    assert build().authenticate(authorization=bearer(forged)).sub == "alice"


def test_claims_on_the_principal_are_read_only() -> None:
    principal = build().authenticate(authorization=bearer(token()))

    with pytest.raises(TypeError):
        principal.claims["sub"] = "mallory"  # type: ignore[index]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.one_of(
        st.binary(max_size=64), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=4)
    ),
    payload=st.binary(max_size=64),
    signature=st.binary(max_size=40),
)
def test_garbage_is_refused_with_a_reason_and_nothing_else(
    header: Any, payload: bytes, signature: bytes
) -> None:
    raw_header = header if isinstance(header, bytes) else jwt.utils.force_bytes(str(header).replace("'", '"'))
    garbage = f"{b64url(raw_header)}.{b64url(payload)}.{b64url(signature)}"

    assert refusal(build(), bearer(garbage)) in REASONS


# --- secrets on a TTL: revocation and rotation reach warm containers ----------------------------

NEW_SECRET = "0123456789abcdef0123456789abcdef-next"


class SecretStore:
    """Secrets Manager as the resolver sees it: a name that is not here is gone (deleted, denied).

    Counts fetches per name (thread-safe). ``down`` makes every fetch fail as a network error
    would; ``gate``, when set, holds a fetch until the test releases it.
    """

    def __init__(self, **values: str) -> None:
        self.values = dict(values)
        self.down = False
        self.fetches: Counter[str] = Counter()
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, ref: SecretRef) -> str:
        assert isinstance(ref, SecretsManagerSecret)
        with self._lock:
            self.fetches[ref.secret_id] += 1
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(timeout=30), "the test never released the fetch"
        if self.down:
            raise DependencyUnavailable("Secrets Manager is unavailable")
        try:
            return self.values[ref.secret_id]
        except KeyError:
            raise ConfigurationError(
                f"secret {ref.secret_id!r} cannot be read (ResourceNotFoundException)"
            ) from None


def from_store(store: SecretStore, *names: str, clock: FrozenClock, **auth: Any) -> Authenticator:
    settings = AuthSettings(
        issuer=ISSUER,
        audience=AUDIENCE,
        secrets=[SecretsManagerSecret(source="secretsmanager", secret_id=name) for name in names],
        **auth,
    )
    return build_authenticator(settings, store, clock=clock)


def fresh_token(clock: FrozenClock, secret: str = SECRET) -> str:
    return bearer(token(secret, iat=clock.ts(), exp=clock.ts() + 7200))


def test_a_secret_removed_from_the_store_stops_verifying_after_the_ttl_not_before() -> None:
    # Given: two secrets in rotation, re-read every 300 s
    clock = FrozenClock()
    store = SecretStore(current=SECRET, previous=OLD_SECRET)
    auth = from_store(store, "current", "previous", clock=clock, secrets_cache_seconds=300)
    assert auth.authenticate(authorization=fresh_token(clock, OLD_SECRET)).sub == "alice"

    # When: the previous secret is deleted (revoked) in the store
    del store.values["previous"]

    # Then: warm, it keeps working until the TTL runs out, and not a second longer
    clock.advance(299)
    assert auth.authenticate(authorization=fresh_token(clock, OLD_SECRET)).sub == "alice"
    clock.advance(1)
    assert refusal(auth, fresh_token(clock, OLD_SECRET)) == "bad_signature"
    # ... while the current secret goes on verifying
    assert auth.authenticate(authorization=fresh_token(clock)).sub == "alice"
    assert store.fetches == {"current": 2, "previous": 2}, store.fetches


def test_a_rotated_secret_is_picked_up_after_the_ttl() -> None:
    # Given
    clock = FrozenClock()
    store = SecretStore(current=SECRET)
    auth = from_store(store, "current", clock=clock, secrets_cache_seconds=60)

    # When: the secret's value is rotated in place (a new AWSCURRENT version)
    store.values["current"] = NEW_SECRET

    # Then: the new value verifies once the TTL has passed; the old value stops verifying
    assert refusal(auth, fresh_token(clock, NEW_SECRET)) == "bad_signature"
    clock.advance(60)
    assert auth.authenticate(authorization=fresh_token(clock, NEW_SECRET)).sub == "alice"
    assert refusal(auth, fresh_token(clock, SECRET)) == "bad_signature"


def test_one_fetch_per_ttl_however_many_threads_ask() -> None:
    # Given: a warm authenticator whose secret has just gone stale, and a fetch that hangs
    clock = FrozenClock()
    store = SecretStore(current=SECRET)
    auth = from_store(store, "current", clock=clock, secrets_cache_seconds=300)
    clock.advance(300)
    store.gate, store.entered = threading.Event(), threading.Event()
    good = fresh_token(clock)

    with ThreadPoolExecutor(1) as first, ThreadPoolExecutor(16) as others:
        refreshing = first.submit(auth.authenticate, authorization=good)
        assert store.entered.wait(timeout=30)
        # When: 64 more requests arrive while that one fetch is under way
        subs = list(others.map(lambda _: auth.authenticate(authorization=good).sub, range(64)))
        # Then: they were served with the secret we have, without waiting for the fetch
        assert not refreshing.done()
        store.gate.set()
        assert refreshing.result(timeout=30).sub == "alice"

    assert subs == ["alice"] * 64
    assert store.fetches == {"current": 2}, store.fetches
    # ... and nothing more is fetched until the next TTL has passed
    for _ in range(50):
        auth.authenticate(authorization=good)
    clock.advance(299)
    auth.authenticate(authorization=good)
    assert store.fetches == {"current": 2}, store.fetches


def test_threads_with_nothing_usable_wait_for_one_fetch() -> None:
    # Given: a store that was down past the grace period (every request answered 503)
    clock = FrozenClock()
    store = SecretStore(current=SECRET)
    auth = from_store(store, "current", clock=clock, secrets_cache_seconds=60, secrets_grace_seconds=60)
    store.down = True
    clock.advance(120)
    with pytest.raises(DependencyUnavailable):
        auth.authenticate(authorization=fresh_token(clock))
    before = store.fetches["current"]

    # When: it is back, and 32 requests arrive at once once the retry interval has passed
    store.down = False
    clock.advance(60)
    with ThreadPoolExecutor(8) as pool:
        subs = list(pool.map(lambda _: auth.authenticate(authorization=fresh_token(clock)).sub, range(32)))

    # Then: one fetch served them all
    assert subs == ["alice"] * 32
    assert store.fetches["current"] == before + 1, store.fetches


def test_a_store_that_is_down_keeps_the_last_secrets_for_the_grace_period_then_fails_closed() -> None:
    # Given: a TTL of 300 s and a grace period of 600 s
    clock = FrozenClock()
    store = SecretStore(current=SECRET)
    auth = from_store(store, "current", clock=clock, secrets_cache_seconds=300, secrets_grace_seconds=600)

    # When: Secrets Manager goes down
    store.down = True

    # Then: the last known secret serves until it is TTL + grace old ...
    clock.advance(899)
    assert auth.authenticate(authorization=fresh_token(clock)).sub == "alice"
    # ... then every request is a 503, never a 401 (the token may well be fine) nor a pass
    clock.advance(1)
    with pytest.raises(DependencyUnavailable) as caught:
        auth.authenticate(authorization=fresh_token(clock))
    assert caught.value.retry_after >= 1
    # ... and a store that is back is used again (after the retry interval)
    store.down = False
    clock.advance(caught.value.retry_after)
    assert auth.authenticate(authorization=fresh_token(clock)).sub == "alice"


def test_a_store_that_is_down_is_not_asked_on_every_request() -> None:
    clock = FrozenClock()
    store = SecretStore(current=SECRET)
    auth = from_store(store, "current", clock=clock, secrets_cache_seconds=300)
    store.down = True
    clock.advance(300)

    for _ in range(20):
        auth.authenticate(authorization=fresh_token(clock))
        clock.advance(0.2)

    # One failed attempt; the next waits for the retry interval, whatever the request rate.
    assert store.fetches == {"current": 2}, store.fetches


def test_a_removed_secret_stays_removed_while_the_store_is_down() -> None:
    clock = FrozenClock()
    store = SecretStore(current=SECRET, previous=OLD_SECRET)
    auth = from_store(store, "current", "previous", clock=clock, secrets_cache_seconds=60)
    del store.values["previous"]
    clock.advance(60)
    assert refusal(auth, fresh_token(clock, OLD_SECRET)) == "bad_signature"

    # When the store goes down, the revoked secret does not come back from the cache
    store.down = True
    clock.advance(60)
    assert refusal(auth, fresh_token(clock, OLD_SECRET)) == "bad_signature"
    assert auth.authenticate(authorization=fresh_token(clock)).sub == "alice"


def test_when_every_secret_is_removed_every_token_is_refused() -> None:
    clock = FrozenClock()
    store = SecretStore(current=SECRET)
    auth = from_store(store, "current", clock=clock, secrets_cache_seconds=60)
    store.values.clear()
    clock.advance(60)

    assert refusal(auth, fresh_token(clock)) == "bad_signature"


def test_an_unusable_new_value_counts_as_removed() -> None:
    # A rotation that stores a short secret must not keep the old value alive, nor accept the new.
    clock = FrozenClock()
    store = SecretStore(current=SECRET)
    auth = from_store(store, "current", clock=clock, secrets_cache_seconds=60)
    store.values["current"] = "too-short"
    clock.advance(60)

    assert refusal(auth, fresh_token(clock)) == "bad_signature"
    short = forge({"alg": "HS256"}, claims(iat=clock.ts(), exp=clock.ts() + 60), hmac_key=b"too-short")
    assert refusal(auth, bearer(short)) == "bad_signature"


def test_secrets_that_cannot_be_read_at_cold_start_still_stop_the_function() -> None:
    store = SecretStore(current=SECRET)

    with pytest.raises(ConfigurationError, match="previous"):
        from_store(store, "current", "previous", clock=FrozenClock())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secrets_cache_seconds", 9),
        ("secrets_cache_seconds", 3601),
        ("secrets_grace_seconds", -1),
        ("secrets_grace_seconds", 3601),
    ],
)
def test_secret_cache_settings_are_bounded(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        AuthSettings(
            issuer=ISSUER, audience=AUDIENCE, secrets=[EnvSecret(source="env", name="JWT")], **{field: value}
        )


def test_secret_cache_settings_belong_to_hs256() -> None:
    with pytest.raises(ValidationError, match="secrets_cache_seconds cannot be used with mode 'oidc'"):
        AuthSettings(
            mode="oidc",
            issuer=ISSUER,
            audience=AUDIENCE,
            jwks_url="https://idp.example.test/jwks",
            secrets_cache_seconds=60,
        )


def test_the_defaults_re_read_secrets_every_five_minutes() -> None:
    settings = AuthSettings(issuer=ISSUER, audience=AUDIENCE, secrets=[EnvSecret(source="env", name="JWT")])

    assert settings.secrets_cache_seconds == 300
    assert settings.secrets_grace_seconds == 900
    assert settings.max_token_lifetime_seconds is None
