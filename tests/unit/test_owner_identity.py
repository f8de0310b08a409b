"""The owner identity (issue 17): ``sub`` plus the deployment's namespace claims, one canonical
text, one digest for records, shares, Idempotency-Key claims, cursors and rate limits."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presign.auth.principal import Principal
from presign.config.settings import parse_settings
from presign.core.keys import user_prefix
from presign.core.owners import Namespace, owner_digest, owner_subject, subject_digest
from presign.core.prefixes import SAFE_SEGMENT, PrefixTemplate
from presign.errors import AuthorizationError, ConfigurationError
from presign.ratelimit.limiter import item_key
from tests.support.events import AUDIENCE, ISSUER

TENANTS = Namespace(
    frozenset(("sub", "tenant")),
    {"main": "tenants/{tenant}/users/{sub}/", "archive": "archive/{tenant}/{sub}/"},
)
segments = st.from_regex(SAFE_SEGMENT, fullmatch=True)


# -- the canonical text --------------------------------------------------------------------------


def test_a_claim_cannot_borrow_from_another() -> None:
    # Given tenant a-b with sub c, and tenant a with sub b-c: one string if joined with "-"
    first = Principal(sub="c", claims={"tenant": "a-b"})
    second = Principal(sub="b-c", claims={"tenant": "a"})

    # Then two owners, in the subject the rate limiter counts and in the digest records use
    assert TENANTS.owner(first).subject == '[["sub","c"],["tenant","a-b"]]'
    assert TENANTS.owner(second).subject == '[["sub","b-c"],["tenant","a"]]'
    assert TENANTS.owner(first).digest != TENANTS.owner(second).digest


@given(st.dictionaries(st.sampled_from(["tenant", "org", "team"]), segments), segments)
def test_the_text_is_the_pairs_and_nothing_else(others: dict[str, str], sub: str) -> None:
    # Canonical: decoding it gives back exactly the pairs, so no two sets of pairs share one text
    values = {"sub": sub, **others}
    text = owner_subject(values)
    if others:
        assert dict(json.loads(text)) == values, text
        assert owner_subject(dict(reversed(list(values.items())))) == text  # order does not matter
    else:
        assert text == sub


def test_the_same_sub_in_two_tenants_is_two_owners() -> None:
    acme = Principal(sub="42", claims={"tenant": "acme"})
    globex = Principal(sub="42", claims={"tenant": "globex"})
    assert TENANTS.owner(acme) != TENANTS.owner(globex)
    assert TENANTS.owner(acme) == TENANTS.owner(Principal(sub="42", claims={"tenant": "acme", "x": 1}))


def test_a_claim_value_is_what_the_prefix_is_made_of() -> None:
    # An integer claim and its string make one prefix, so they are one owner
    as_int = Principal(sub="42", claims={"tenant": 7})
    as_str = Principal(sub="42", claims={"tenant": "7"})
    assert user_prefix("tenants/{tenant}/users/{sub}/", as_int) == "tenants/7/users/42/"
    assert TENANTS.owner(as_int) == TENANTS.owner(as_str)


@pytest.mark.parametrize("claims", [{}, {"tenant": "a/b"}, {"tenant": ["acme"]}, {"tenant": True}])
def test_a_token_that_cannot_name_the_namespace_owns_nothing(claims: dict[str, Any]) -> None:
    with pytest.raises(AuthorizationError):
        TENANTS.owner(Principal(sub="42", claims=claims))


# -- a {sub} deployment: no key moves -------------------------------------------------------------


# sha256("alice")[:32], written out: the digest every {sub} deployment has stored until now.
ALICE = "2bd806c97f0e00af1a1fc3328fa763a9"


@pytest.mark.parametrize("sub", ["alice", "auth0|5fe435b5cbbc85006b071eba", "a/b", "é\ud800"])
def test_a_sub_only_owner_is_byte_identical_to_before(sub: str) -> None:
    # Given the default configuration's namespace
    namespace = Namespace.of(parse_settings(json.dumps(_document({"main": "users/{sub}/"}))))
    assert namespace.claims == {"sub"}

    # Then the rate limiter's subject is the sub itself (its item keys stay), and the digest is
    # the sha256 of its UTF-8 (surrogatepass), as subject_digest has always made it
    owner = namespace.owner(Principal(sub=sub, claims={"tenant": "ignored"}))
    assert owner.subject == sub
    assert item_key("upload", owner.subject) == f"rl#upload#{subject_digest(sub)}"
    assert owner.digest == hashlib.sha256(sub.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    assert owner_digest({"sub": sub}) == owner.digest


def test_alices_digest_is_pinned() -> None:
    assert Namespace().owner(Principal(sub="alice")).digest == ALICE
    assert item_key("upload", Namespace().owner(Principal(sub="alice")).subject) == f"rl#upload#{ALICE}"


# -- read back from a key ------------------------------------------------------------------------


@given(segments, segments, st.text(min_size=1, max_size=30).filter(lambda t: "/" not in t))
def test_the_owner_reads_back_from_any_key_under_the_prefix(sub: str, tenant: str, rest: str) -> None:
    principal = Principal(sub=sub, claims={"tenant": tenant})
    owner = TENANTS.owner(principal).digest
    for target, template in TENANTS.templates.items():
        key = user_prefix(template, principal) + "2026/01/01/" + rest
        assert PrefixTemplate.parse(template).claims_of(key) == {"sub": sub, "tenant": tenant}
        assert TENANTS.holds(owner, target, key), key


def test_a_key_outside_the_owners_prefix_is_not_theirs() -> None:
    acme = TENANTS.owner(Principal(sub="42", claims={"tenant": "acme"})).digest
    assert TENANTS.holds(acme, "main", "tenants/acme/users/42/f.txt")
    for key in (
        "tenants/globex/users/42/f.txt",  # another tenant's
        "tenants/acme/users/43/f.txt",  # another user's
        "tenants/acme/users/42/",  # the prefix itself
        "tenants/acme/users/42",
        "people/acme/users/42/f.txt",  # made under a template configured differently before
        "archive/acme/42/f.txt",  # another target's shape
    ):
        assert not TENANTS.holds(acme, "main", key), key
    # A target no longer configured: the route answers that itself (410)
    assert TENANTS.holds(acme, "gone", "anything/at/all")


# -- the configuration ---------------------------------------------------------------------------


def _document(prefixes: dict[str, str]) -> dict[str, Any]:
    return {
        "default_target": next(iter(prefixes)),
        "targets": {
            name: {
                "region": "us-east-1",
                "bucket": f"b-{name}",
                "credentials": {"source": "env"},
                "key_prefix": p,
            }
            for name, p in prefixes.items()
        },
        "auth": {"issuer": ISSUER, "audience": AUDIENCE, "secrets": [{"source": "env", "name": "S"}]},
    }


def test_targets_naming_different_claims_are_refused_at_cold_start() -> None:
    # Given a target whose prefix names {tenant} beside two that do not (on buckets of their own)
    document = _document(
        {"main": "tenants/{tenant}/users/{sub}/", "avatars": "avatars/{sub}/", "docs": "docs/{sub}/"}
    )

    # Then the configuration is refused, naming each target that lacks a claim, and only those
    with pytest.raises(ConfigurationError) as refused:
        parse_settings(json.dumps(document))
    message = refused.value.message
    assert "targets.avatars.key_prefix lacks ['tenant']" in message, message
    assert "targets.docs.key_prefix lacks ['tenant']" in message, message
    assert "targets.main" not in message, message


def test_targets_naming_the_same_claims_make_one_namespace() -> None:
    settings = parse_settings(
        json.dumps(_document({"main": "tenants/{tenant}/users/{sub}/", "archive": "{tenant}/archive/{sub}/"}))
    )
    assert settings.namespace_claims == {"sub", "tenant"}
    assert Namespace.of(settings).templates == {
        "main": "tenants/{tenant}/users/{sub}/",
        "archive": "{tenant}/archive/{sub}/",
    }
