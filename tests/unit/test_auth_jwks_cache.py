"""The JWKS cache policy: refetch throttling, rotation, outages, with an injected clock and fetcher."""

from __future__ import annotations

import random
import string
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from presign.auth.jwks import JwksCache, parse_jwks
from presign.errors import AuthenticationError, DependencyUnavailable
from tests.support.jwt_keys import FakeJwksEndpoint, FrozenClock, b64url, ec_key, jwks, public_jwk, rsa_key

ALGS = ("RS256", "PS256", "ES256")


def cache(endpoint: FakeJwksEndpoint, clock: FrozenClock, **policy: Any) -> JwksCache:
    return JwksCache(endpoint, algorithms=ALGS, clock=clock, **policy)


def random_kid(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(4, 40)))


def unknown(jwks_cache: JwksCache, kid: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        jwks_cache.key(kid, "RS256")
    return caught.value.reason


def test_keys_are_cached() -> None:
    # Given
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "a")))
    clock = FrozenClock()
    keys = cache(endpoint, clock)

    # When
    for _ in range(100):
        keys.key("a", "RS256")
        clock.advance(2)

    # Then: one fetch, then another once the set is older than max_age (300 s)
    assert endpoint.fetches == 1
    clock.advance(101)
    keys.key("a", "RS256")
    assert endpoint.fetches == 2


def test_a_thousand_random_kids_cause_at_most_one_fetch() -> None:
    # Given: a warm cache, past the refetch interval
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "a")))
    clock = FrozenClock()
    keys = cache(endpoint, clock)
    keys.key("a", "RS256")
    clock.advance(31)
    rng = random.Random(8725)

    # When
    reasons = {unknown(keys, random_kid(rng)) for _ in range(1000)}

    # Then
    assert reasons == {"unknown_kid"}
    assert endpoint.fetches == 2  # the warm-up, and a single refetch for the first unknown kid


def test_a_thousand_random_kids_from_many_threads_cause_at_most_one_fetch() -> None:
    # Given: a slow endpoint, so that threads pile up while the refetch is in flight
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "a")), delay=0.05)
    clock = FrozenClock()
    keys = cache(endpoint, clock)
    keys.key("a", "RS256")
    clock.advance(31)
    kids = [random_kid(random.Random(seed)) for seed in range(1000)]

    # When
    with ThreadPoolExecutor(max_workers=32) as pool:
        reasons = set(pool.map(lambda kid: unknown(keys, kid), kids))
        known = list(pool.map(lambda _: keys.key("a", "RS256").key_id, range(200)))

    # Then
    assert reasons == {"unknown_kid"}
    assert set(known) == {"a"}
    assert endpoint.fetches == 2


def test_a_cold_cache_filled_by_many_threads_fetches_once() -> None:
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "a")), delay=0.05)
    keys = cache(endpoint, FrozenClock())

    with ThreadPoolExecutor(max_workers=32) as pool:
        found = set(pool.map(lambda _: keys.key("a", "RS256").key_id, range(300)))

    assert found == {"a"}
    assert endpoint.fetches == 1


def test_unknown_kids_refetch_at_most_once_per_interval() -> None:
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "a")))
    clock = FrozenClock()
    keys = cache(endpoint, clock)
    keys.key("a", "RS256")

    for second in range(0, 121):
        unknown(keys, f"nope-{second}")
        clock.advance(1)

    # t=0 warm-up, then refetches at t=30, 60, 90, 120
    assert endpoint.fetches == 5


def test_a_rotated_key_is_picked_up_on_first_use() -> None:
    # Given: a warm cache that knows key "old"
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "old")))
    clock = FrozenClock()
    keys = cache(endpoint, clock)
    keys.key("old", "RS256")
    clock.advance(45)

    # When: the provider publishes "new" and a token names it
    endpoint.document = jwks(public_jwk(rsa_key(), "old"), public_jwk(rsa_key("next"), "new"))

    # Then: no redeploy, no wait for max_age
    assert keys.key("new", "RS256").key_id == "new"
    assert endpoint.fetches == 2


def test_a_key_removed_by_the_provider_stops_working_after_max_age() -> None:
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "old"), public_jwk(rsa_key("next"), "new")))
    clock = FrozenClock()
    keys = cache(endpoint, clock, max_age=300)
    keys.key("old", "RS256")

    endpoint.document = jwks(public_jwk(rsa_key("next"), "new"))
    clock.advance(299)
    assert keys.key("old", "RS256").key_id == "old"
    clock.advance(1)
    assert unknown(keys, "old") == "unknown_kid"


def test_endpoint_down_with_a_warm_cache_keeps_known_keys_working() -> None:
    # Given: a warm cache, then an outage that outlasts max_age
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "a")))
    clock = FrozenClock()
    keys = cache(endpoint, clock, max_age=300)
    keys.key("a", "RS256")
    endpoint.down = True

    # When: an hour of requests
    for _ in range(360):
        clock.advance(10)
        assert keys.key("a", "RS256").key_id == "a"

    # Then: known keys kept working; refresh attempts stayed 30 s apart
    assert 1 < endpoint.fetches <= 1 + 3600 // 30


def test_unknown_kid_while_the_endpoint_is_down_is_a_dependency_failure() -> None:
    # We cannot tell an unknown key from a rotated one we failed to fetch: 503, not 401.
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "a")))
    clock = FrozenClock()
    keys = cache(endpoint, clock)
    keys.key("a", "RS256")
    clock.advance(31)
    endpoint.down = True

    with pytest.raises(DependencyUnavailable) as caught:
        keys.key("rotated", "RS256")
    assert 1 <= caught.value.retry_after <= 30
    assert keys.key("a", "RS256").key_id == "a"

    endpoint.down = False
    clock.advance(30)
    assert unknown(keys, "rotated") == "unknown_kid"


def test_cold_cache_with_the_endpoint_down_is_a_dependency_failure() -> None:
    # Given
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "a")))
    endpoint.down = True
    clock = FrozenClock()
    keys = cache(endpoint, clock, cold_retry_interval=5)

    # When / Then: 503 with Retry-After, and retries at most every 5 s
    with pytest.raises(DependencyUnavailable) as caught:
        keys.key("a", "RS256")
    assert caught.value.retry_after == 5
    with pytest.raises(DependencyUnavailable):
        keys.key("a", "RS256")
    assert endpoint.fetches == 1
    assert keys.warm_up() is False

    # ... and recovers once the endpoint is back
    endpoint.down = False
    clock.advance(5)
    assert keys.key("a", "RS256").key_id == "a"
    assert endpoint.fetches == 2


def test_a_known_kid_never_waits_for_a_refresh_in_flight() -> None:
    # Given: a stale set and a refresh holding the lock
    endpoint = FakeJwksEndpoint(jwks(public_jwk(rsa_key(), "a")))
    clock = FrozenClock()
    keys = cache(endpoint, clock)
    keys.key("a", "RS256")
    clock.advance(301)

    # When: another thread is fetching
    assert keys._lock.acquire(timeout=1)
    try:
        found = keys.key("a", "RS256")
    finally:
        keys._lock.release()

    # Then: served from the stale set, without a fetch of its own
    assert found.key_id == "a"
    assert endpoint.fetches == 1


@pytest.mark.parametrize(
    "document",
    [{}, {"keys": "nope"}, {"keys": []}, {"keys": [{"kty": "oct", "kid": "h", "k": b64url(b"k" * 32)}]}, []],
    ids=["empty", "keys-not-list", "no-keys", "only-symmetric", "not-an-object"],
)
def test_a_jwks_without_usable_keys_counts_as_a_failed_fetch(document: Any) -> None:
    endpoint = FakeJwksEndpoint(document)

    with pytest.raises(DependencyUnavailable):
        cache(endpoint, FrozenClock()).key("h", "RS256")


def test_parse_skips_keys_that_cannot_verify_our_tokens() -> None:
    good_rsa = public_jwk(rsa_key(), "rsa")
    document = jwks(
        good_rsa,
        public_jwk(ec_key(), "ec"),
        public_jwk(rsa_key("small", 1024), "rsa-1024"),
        {**public_jwk(rsa_key(), "enc"), "use": "enc"},
        {**good_rsa, "kid": "private", "d": "AQAB"},
        {**public_jwk(ec_key(), "p384"), "crv": "P-384"},
        {"kty": "oct", "kid": "hmac", "k": b64url(b"k" * 32)},
        {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64url(b"x" * 32)},
        {**good_rsa, "kid": ""},
        {**good_rsa, "kid": None},
        {**good_rsa, "kid": "rs-pinned", "alg": "RS256"},
        {**good_rsa, "kid": "hs-pinned", "alg": "HS256"},
        {**good_rsa, "kid": "broken", "n": "!!!"},
        "not a jwk",  # type: ignore[arg-type]
    )

    keys = parse_jwks(document, ALGS)

    assert {kid: sorted(algs) for kid, algs in keys.items()} == {
        "rsa": ["PS256", "RS256"],
        "ec": ["ES256"],
        "rs-pinned": ["RS256"],
    }
    assert parse_jwks(document, ["RS256"]).keys() == {"rsa", "rs-pinned"}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=8,
)
_jwk_like = st.fixed_dictionaries(
    {
        "kid": st.text(max_size=4) | st.integers(),
        "kty": st.sampled_from(["RSA", "EC", "oct", "OKP", 1, None]),
    },
    optional={
        "crv": st.sampled_from(["P-256", "P-384", "Ed25519", ["P-256"], None]),
        "alg": st.sampled_from(["RS256", "ES256", "HS256", ["RS256"], 3]),
        "n": _json | st.just(public_jwk(rsa_key(), "x")["n"]),
        "e": _json | st.just("AQAB"),
        "x": _json,
        "y": _json,
        "use": st.sampled_from(["sig", "enc", 7]),
    },
)


@settings(max_examples=120, deadline=None)
@given(document=st.one_of(_json, st.fixed_dictionaries({"keys": st.lists(_jwk_like | _json, max_size=4)})))
def test_any_jwks_document_parses_or_counts_as_a_failed_fetch(document: Any) -> None:
    try:
        keys = parse_jwks(document, ALGS)
    except DependencyUnavailable:
        return
    assert all(isinstance(kid, str) and kid for kid in keys)
