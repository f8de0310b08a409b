"""`make dev PREFIX=...` and `make token ... TENANT=...` (issue 17): a prefix template for the
dev stack, checked before anything starts, and dev tokens with the claims it names."""

from __future__ import annotations

import jwt
import pytest

from local.dev import main as dev_main
from local.dev_config import DEV_PREFIX, dev_config, prefix_claims
from local.token import main as token_main

SECRET = "t" * 48


def minted(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert token_main(argv, environ={"PRESIGN_JWT_SECRET": SECRET}) == 0
    printed = capsys.readouterr().out.strip()
    return dict(jwt.decode(printed, SECRET, algorithms=["HS256"], options={"verify_aud": False}))


def test_a_token_carries_the_claims_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    claims = minted(["--sub", "42", "--claim", "tenant=acme", "--claim", "org=a=b"], capsys)
    assert (claims["sub"], claims["tenant"], claims["org"]) == ("42", "acme", "a=b"), claims


@pytest.mark.parametrize(
    ("claim", "says"),
    [("tenant", "NAME=VALUE"), ("=acme", "NAME=VALUE"), ("exp=4102444800", "set by the token itself"),
     ("sub=bob", "set by the token itself")],
)  # fmt: skip
def test_a_claim_that_is_no_pair_or_that_the_token_sets_is_refused(
    claim: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert token_main(["--sub", "42", "--claim", claim], environ={"PRESIGN_JWT_SECRET": SECRET}) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and says in captured.err, captured


def test_the_dev_prefix_names_its_claims() -> None:
    assert prefix_claims(DEV_PREFIX) == []
    assert prefix_claims("tenants/{tenant}/users/{sub}/") == ["tenant"]
    assert prefix_claims("{org}/{tenant}/{sub}/") == ["org", "tenant"]
    config = dev_config("http://127.0.0.1:9", key_prefix="tenants/{tenant}/users/{sub}/")
    assert config["targets"]["local"]["key_prefix"] == "tenants/{tenant}/users/{sub}/"
    assert dev_config("http://127.0.0.1:9")["targets"]["local"]["key_prefix"] == "users/{sub}/"


@pytest.mark.parametrize("prefix", ["tenants/{tenant}/", "users/{sub}", "{tenant}-{sub}/"])
def test_make_dev_refuses_a_prefix_the_service_would_refuse_before_starting_anything(
    prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dev_main(["--port", "0", "--state-file", "", "--prefix", prefix]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"make dev: --prefix {prefix!r}: "), out
    assert "presign is running" not in out
