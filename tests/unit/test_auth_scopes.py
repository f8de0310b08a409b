"""Scopes per action (``scope`` and ``scp``), and claims as key-prefix path segments."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presign.auth import Authenticator, Principal, build_authenticator
from presign.auth.claims import scopes
from presign.config.auth import AuthSettings
from presign.config.secrets import SecretRef
from presign.errors import AuthorizationError, InsufficientScope
from tests.support.jwt_keys import AUDIENCE, ISSUER, SECRET, FrozenClock, bearer, claims, sign


def build(required: dict[str, list[str]]) -> Authenticator:
    settings = AuthSettings.model_validate(
        {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "secrets": [{"source": "env", "name": "JWT"}],
            "required_scopes": required,
        }
    )

    def resolve(ref: SecretRef) -> str:
        return SECRET

    return build_authenticator(settings, resolve, clock=FrozenClock())


def principal_with(auth: Authenticator, **extra: Any) -> Principal:
    return auth.authenticate(authorization=bearer(sign(claims(**extra), SECRET, "HS256")))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"scope": "files:read files:write"}, {"files:read", "files:write"}),
        ({"scope": "  files:read\tfiles:write  "}, {"files:read", "files:write"}),
        ({"scp": ["files:read", "files:write"]}, {"files:read", "files:write"}),
        ({"scp": "files:read files:write"}, {"files:read", "files:write"}),
        ({"scope": "openid", "scp": ["files:read"]}, {"openid", "files:read"}),
        ({"scp": ["files:read", 7, None, "", "two words"]}, {"files:read"}),
        ({"scope": 7}, set()),
        ({}, set()),
    ],
)
def test_scopes_are_read_from_scope_and_scp(extra: dict[str, Any], expected: set[str]) -> None:
    assert principal_with(build({}), **extra).scopes == expected


def test_gateway_renders_scp_lists_in_brackets() -> None:
    assert scopes({"scp": "[files:read files:write]"}, from_gateway=True) == {"files:read", "files:write"}
    assert scopes({"scp": "files:read"}, from_gateway=True) == {"files:read"}
    # Outside gateway mode brackets are not special: such a token simply lacks the scope.
    assert scopes({"scp": "[files:read]"}) == {"[files:read]"}


def test_an_action_needs_every_scope_it_lists() -> None:
    # Given
    auth = build({"upload": ["files:write", "files:upload"], "download": ["files:read"]})
    caller = principal_with(auth, scope="files:write files:read")

    # When / Then
    auth.require_scopes(caller, "download")
    auth.require_scopes(caller, "share")  # nothing required
    with pytest.raises(InsufficientScope) as caught:
        auth.require_scopes(caller, "upload")
    assert caught.value.code == "insufficient_scope"
    assert caught.value.details == {"scope": "files:upload files:write"}


def test_scopes_via_scp_satisfy_requirements_too() -> None:
    auth = build({"share": ["files:share"]})

    auth.require_scopes(principal_with(auth, scp=["files:share"]), "share")
    with pytest.raises(InsufficientScope):
        auth.require_scopes(principal_with(auth, scp=["files:read"]), "share")


def test_insufficient_scope_is_a_403_kind_of_error_not_a_401() -> None:
    assert issubclass(InsufficientScope, AuthorizationError)


def test_an_unknown_action_is_a_programming_error() -> None:
    auth = build({})

    with pytest.raises(ValueError, match="delete"):
        auth.require_scopes(principal_with(auth), "delete")


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", "alice"),
        ("sub", "auth0|5fe435b5cbbc85006b071eba"),
        ("tenant", "acme-42"),
        ("tenant", 42),
        ("sub", "1f8e6d2a-0b7c-4e8f-9a1d-2c3b4a5d6e7f"),
        ("email", "a.b+c@example.com"),
    ],
)
def test_safe_claim_values_become_path_segments(claim: str, value: Any) -> None:
    sub = value if claim == "sub" else "alice"
    principal = Principal(sub=sub, claims={"sub": sub, claim: value})

    assert principal.path_segment(claim) == str(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        ".",
        "..",
        "../admin",
        "a/b",
        "a\\b",
        ".hidden",
        "-rf",
        "a b",
        "a\nb",
        "a\x00b",
        "é",
        "%2e%2e",
        "x" * 129,
        True,
        None,
        4.5,
        ["acme"],
        {"t": 1},
    ],
)
def test_unsafe_claim_values_are_refused_when_used(value: Any) -> None:
    principal = Principal(sub="alice", claims={"tenant": value})

    with pytest.raises(AuthorizationError):
        principal.path_segment("tenant")


def test_path_values_cover_every_placeholder() -> None:
    principal = Principal(sub="alice", claims={"tenant": "acme"})

    assert principal.path_values({"sub", "tenant"}) == {"sub": "alice", "tenant": "acme"}
    with pytest.raises(AuthorizationError):
        principal.path_values({"sub", "org"})


@given(st.text(max_size=200))
def test_no_accepted_segment_can_escape_its_prefix(value: str) -> None:
    try:
        segment = Principal(sub="alice", claims={"tenant": value}).path_segment("tenant")
    except AuthorizationError:
        return
    assert "/" not in segment and "\\" not in segment
    assert segment not in {".", ".."} and not segment.startswith(".")
    assert segment.isascii() and segment.isprintable() and " " not in segment
