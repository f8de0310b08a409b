"""Key prefix templates: one caller, one namespace, and no two namespaces that can meet.

Three ways a template used to let two callers share keys, each refused at cold start now:
a format spec or conversion (``users/{sub:.3}/`` gave ``alice`` and ``alicex`` one prefix), a
placeholder that is not a whole segment (``users/{tenant}-{sub}/``: tenant ``a-b`` + sub ``c`` and
tenant ``a`` + sub ``b-c`` meet), and two targets on one bucket whose expansions can overlap
(``{sub}/`` beside ``users/{sub}/``: the caller whose sub is ``users`` owns everyone's files).
The overlap check is proven against a brute-force oracle that compares expanded strings.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from presign.auth.principal import Principal
from presign.config.settings import parse_settings
from presign.core.keys import user_prefix
from presign.core.prefixes import PrefixTemplate
from presign.errors import AuthorizationError, ConfigurationError

AUTH = {"issuer": "https://i", "audience": "a", "secrets": [{"source": "env", "name": "S"}]}


def document(*targets: dict[str, Any]) -> str:
    """Targets named t0, t1, ...; all on bucket ``shared`` of one endpoint unless they say otherwise."""
    named = {
        f"t{i}": {"endpoint_url": "http://127.0.0.1:8333", "bucket": "shared", **target}
        for i, target in enumerate(targets)
    }
    return json.dumps({"default_target": "t0", "targets": named, "auth": AUTH})


def refusal(raw: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(raw)
    return caught.value.message


# --- one template ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "users/{sub:.3}/",  # a format spec: alice and alicex would share "users/ali/"
        "users/{sub:>20}/",
        "users/{sub!r}/",  # a conversion
        "users/{sub!s}/",
        "users/{sub.real}/",  # attribute and index access
        "users/{sub[0]}/",
        "users/{tenant}-{sub}/",  # not whole segments: "a-b"+"c" and "a"+"b-c" meet
        "users/x{sub}/",
        "users/{sub}x/",
        "users/{{sub}}/{sub}/",  # escaped braces: a literal "{sub}" segment
        "users/{sub}/{{x}}/",
        "users/{sub}/}/",
        "users/{/{sub}/",
        "users/{}/{sub}/",  # positional fields
        "users/{0}/{sub}/",
        "users/{ sub }/",
        "users/{sub}/{sub}/",  # the same claim twice
        "users//{sub}/",  # empty, dot and unsafe literal segments
        "users/../{sub}/",
        "./{sub}/",
        "users/a b/{sub}/",
        "users\\x/{sub}/",
        "users/{sub}",
        "/users/{sub}/",
        "",
        "shared/",
    ],
)
def test_a_template_that_could_merge_namespaces_is_refused(template: str) -> None:
    # Given a target whose key_prefix is not one whole, plain placeholder per claim segment
    # When the configuration is read / Then it is refused, naming the field
    message = refusal(document({"key_prefix": template}))
    assert "targets.t0.key_prefix" in message, message


@pytest.mark.parametrize(
    "template",
    ["users/{sub}/", "{sub}/", "tenants/{tenant}/users/{sub}/", "v2/{sub}/files/", "a.b/u_1/{sub}/"],
)
def test_whole_segment_templates_are_accepted(template: str) -> None:
    settings_ = parse_settings(document({"key_prefix": template}))
    assert settings_.targets["t0"].key_prefix == template


def test_format_spec_message_says_why() -> None:
    message = refusal(document({"key_prefix": "users/{sub:.3}/"}))
    assert "format spec" in message, message


def test_partial_segment_message_says_why() -> None:
    message = refusal(document({"key_prefix": "users/{tenant}-{sub}/"}))
    assert "whole" in message, message


@given(st.text(max_size=12))
@example("users")
@example("..")
@example("a/b")
@example("x" * 129)
def test_literal_segments_follow_the_rule_for_claim_values(text: str) -> None:
    # A literal segment is allowed exactly when a claim with that value could fill a placeholder,
    # so "a placeholder matches any one segment" covers every literal the overlap check meets.
    try:
        Principal(sub=text).path_segment("sub")
        claim_ok = True
    except AuthorizationError:
        claim_ok = False
    try:
        # One segment, not several: "a/b" is two literals, each fine, but not one value.
        literal_ok = len(PrefixTemplate.parse(f"{text}/{{sub}}/").segments) == 2
    except ValueError:
        literal_ok = False
    assert literal_ok == claim_ok, (text, literal_ok, claim_ok)


# --- what user_prefix builds ------------------------------------------------------------------


_CLAIMS = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none(), st.lists(st.text()))


@given(sub=st.text(max_size=20), tenant=_CLAIMS)
@example(sub="alice/../bob", tenant="acme")
@example(sub="alice", tenant="../..")
@example(sub="alice", tenant="{sub}")
def test_user_prefix_is_the_template_with_one_safe_segment_per_placeholder(sub: str, tenant: Any) -> None:
    # Given any claims at all
    principal = Principal(sub=sub, claims={"tenant": tenant})
    # When the prefix is built
    try:
        prefix = user_prefix("tenants/{tenant}/users/{sub}/", principal)
    except AuthorizationError:
        return  # a token that cannot name a namespace gets 403, never a prefix
    # Then it has exactly the template's segments, the literals unchanged, each value one segment
    segments = prefix.split("/")
    assert segments[-1] == "" and len(segments) == 5, prefix
    assert segments[0] == "tenants" and segments[2] == "users", prefix
    assert segments[1] == str(tenant) and segments[3] == sub, prefix
    for value in (segments[1], segments[3]):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@|:+=~-]{0,127}", value), prefix


def test_user_prefix_never_interprets_a_template_as_a_format_string() -> None:
    # Even a template that skipped the configuration check is not handed to str.format.
    with pytest.raises(ValueError, match="format spec"):
        user_prefix("users/{sub:.3}/", Principal(sub="alicex"))


# --- two targets on one bucket --------------------------------------------------------------


def test_flat_beside_users_is_refused_with_an_example() -> None:
    # Given {sub}/ beside users/{sub}/ on one bucket: the caller "users" would own every user's files
    message = refusal(document({"key_prefix": "users/{sub}/"}, {"key_prefix": "{sub}/"}))
    # Then the later target is named, with the one it overlaps and how
    assert "targets.t1.key_prefix" in message and "targets.t0.key_prefix" in message, message
    assert "'users/'" in message, message


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"key_prefix": "users/{sub}/"}, {"key_prefix": "users/{sub}/"}),
        ({"key_prefix": "users/{sub}/"}, {"key_prefix": "users/{sub}/avatars/"}),
        ({"key_prefix": "{tenant}/{sub}/"}, {"key_prefix": "users/{sub}/"}),
        ({"key_prefix": "users/{sub}/"}, {"key_prefix": "{org}/{tenant}/{sub}/"}),
        # AWS S3 (no endpoint): bucket names are global, whatever region a target names
        (
            {"endpoint_url": None, "region": "eu-west-1"},
            {"endpoint_url": None, "region": "us-east-1"},
        ),
        ({"endpoint_url": None}, {"endpoint_url": "https://s3.eu-west-1.amazonaws.com"}),
        # one host, spelled differently
        ({"endpoint_url": "http://LOCALHOST:9000"}, {"endpoint_url": "http://localhost:9000/"}),
        ({"addressing_style": "path"}, {"addressing_style": "virtual"}),
    ],
)
def test_overlapping_targets_on_one_bucket_are_refused(first: dict[str, Any], second: dict[str, Any]) -> None:
    message = refusal(document(first, second))
    assert "targets.t1.key_prefix" in message, message


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"key_prefix": "users/{sub}/"}, {"key_prefix": "avatars/{sub}/"}),
        ({"key_prefix": "users/{tenant}/{sub}/"}, {"key_prefix": "tenants/{tenant}/users/{sub}/"}),
        ({"key_prefix": "a/{sub}/x/"}, {"key_prefix": "a/{sub}/y/"}),
        ({}, {"bucket": "other-bucket"}),
        ({}, {"endpoint_url": "http://127.0.0.2:8333"}),
        ({"endpoint_url": None}, {"endpoint_url": "https://acct.r2.cloudflarestorage.com"}),
    ],
)
def test_disjoint_targets_are_accepted(first: dict[str, Any], second: dict[str, Any]) -> None:
    assert set(parse_settings(document(first, second)).targets) == {"t0", "t1"}


# --- the overlap check against a brute-force oracle -----------------------------------------

# Literals include one that is a string prefix of another ("a", "ab"), so the oracle, which
# compares strings, also checks that '/' keeps segments from running into each other.
_LITERALS = ["a", "ab", "users"]
_PLACEHOLDERS = ["tenant", "org"]
# Every literal, plus one value no literal has: enough to realise any segment-wise match.
_VALUES = [*_LITERALS, "zz"]


def _claims_once(segments: list[str]) -> bool:
    claims = [s for s in segments if s.startswith("{")]
    return len(claims) == len(set(claims))


@st.composite
def templates(draw: st.DrawFn) -> str:
    """Whole-segment templates of up to four segments, {sub} among them, no claim twice."""
    segment = st.sampled_from(_LITERALS + [f"{{{p}}}" for p in _PLACEHOLDERS])
    others = draw(st.lists(segment, max_size=3).filter(_claims_once))
    at = draw(st.integers(0, len(others)))
    return "/".join([*others[:at], "{sub}", *others[at:]]) + "/"


def _expansions(template: str) -> set[str]:
    names = re.findall(r"\{(\w+)\}", template)
    found = set()
    for values in itertools.product(_VALUES, repeat=len(names)):
        text = template
        for name, value in zip(names, values, strict=True):
            text = text.replace(f"{{{name}}}", value)
        found.add(text)
    return found


def oracle_overlap(a: str, b: str) -> bool:
    """Some key lies under an expansion of each: one expansion is a string prefix of the other."""
    return any(x.startswith(y) or y.startswith(x) for x in _expansions(a) for y in _expansions(b))


@settings(max_examples=400, deadline=None)
@given(templates(), templates())
@example("{sub}/", "users/{sub}/")
@example("a/{sub}/", "ab/{sub}/")
@example("{sub}/a/", "{sub}/ab/")
def test_overlap_check_agrees_with_the_oracle(a: str, b: str) -> None:
    expected = oracle_overlap(a, b)
    # The check itself, both ways round
    assert PrefixTemplate.parse(a).overlaps(PrefixTemplate.parse(b)) is expected, (a, b, expected)
    assert PrefixTemplate.parse(b).overlaps(PrefixTemplate.parse(a)) is expected, (a, b, expected)
    # And what a deployment sees: the configuration is refused exactly when they can overlap
    # (or, checked after that, when they name different claims: one namespace for all targets)
    raw = document({"key_prefix": a}, {"key_prefix": b})
    if expected:
        assert "targets.t1.key_prefix" in refusal(raw), (a, b)
    elif PrefixTemplate.parse(a).claims != PrefixTemplate.parse(b).claims:
        assert "must name every claim" in refusal(raw), (a, b)
    else:
        assert set(parse_settings(raw).targets) == {"t0", "t1"}, (a, b)


@settings(max_examples=200, deadline=None)
@given(templates(), templates())
def test_the_example_in_the_message_is_a_real_overlap(a: str, b: str) -> None:
    witness = PrefixTemplate.parse(a).overlap_example(PrefixTemplate.parse(b))
    if witness is None:
        assert not oracle_overlap(a, b), (a, b)
        return
    # Given the two expansions the check names
    ours, theirs = witness
    # Then each is an expansion of its template, and one is a prefix of the other
    assert re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(a)), ours), (a, ours)
    assert re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(b)), theirs), (b, theirs)
    assert ours.startswith(theirs) or theirs.startswith(ours), (ours, theirs)
