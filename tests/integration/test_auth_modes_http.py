"""The three authentication modes through the real handlers, as HTTP responses."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import Client
from tests.support.events import AUDIENCE, ISSUER, FakeContext, http_event, token
from tests.support.functions import settings_document

UPLOAD = {"filename": "a.txt", "content_type": "text/plain", "size": 3}


def gateway_document(**auth: Any) -> dict[str, Any]:
    document = settings_document()
    document["auth"] = {"mode": "gateway", "issuer": ISSUER, "audience": AUDIENCE, **auth}
    return document


def gateway_event(claims: dict[str, str] | None) -> dict[str, Any]:
    event = http_event("POST", "/uploads", UPLOAD)
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


def gateway_claims(**overrides: str) -> dict[str, str]:
    now = int(time.time())
    # API Gateway passes every claim as a string, lists as "[a b]".
    claims = {"sub": "carol", "iss": ISSUER, "aud": AUDIENCE, "iat": str(now), "exp": str(now + 300)}
    return {**claims, **overrides}


def test_gateway_mode_reads_the_authorizer_claims(make_client: Callable[..., Client]) -> None:
    client = make_client("uploads", gateway_document())
    response = client.module.handler(gateway_event(gateway_claims()), FakeContext())
    assert response["statusCode"] == 201, response["body"]
    assert json.loads(response["body"])["key"].startswith("users/carol/")


@pytest.mark.parametrize(
    "claims",
    [None, {}, {"iss": ISSUER, "aud": AUDIENCE}, "expired", "foreign_audience"],
)
def test_gateway_mode_fails_closed(make_client: Callable[..., Client], claims: Any) -> None:
    if claims == "expired":
        claims = gateway_claims(exp=str(int(time.time()) - 600))
    elif claims == "foreign_audience":
        claims = gateway_claims(aud="someone-else")
    client = make_client("uploads", gateway_document())
    response = client.module.handler(gateway_event(claims), FakeContext())
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "invalid_token"


def test_missing_scope_is_403_with_the_scope_named(make_client: Callable[..., Client]) -> None:
    document = settings_document()
    document["auth"]["required_scopes"] = {"upload": ["files:write"]}
    client = make_client("uploads", document)

    refused = client.post("/uploads", UPLOAD, bearer=token(scope="files:read"))
    allowed = client.post("/uploads", UPLOAD, bearer=token(scope="files:read files:write"))

    assert refused["statusCode"] == 403
    assert json.loads(refused["body"])["error"]["code"] == "insufficient_scope"
    assert refused["headers"]["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="files:write"'
    assert allowed["statusCode"] == 201


def test_tenant_claim_feeds_the_prefix(make_client: Callable[..., Client]) -> None:
    client = make_client("uploads", settings_document(key_prefix="tenants/{tenant}/users/{sub}/"))
    grant = json.loads(client.post("/uploads", UPLOAD, bearer=token(tenant="acme"))["body"])
    assert grant["key"].startswith("tenants/acme/users/alice/")
    refused = client.post("/uploads", UPLOAD, bearer=token(tenant="../other"))
    assert refused["statusCode"] == 403


def test_oidc_mode_through_the_handler_with_a_local_issuer(
    make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    from local.oidc import LocalIssuer

    offset = timedelta(0)
    monkeypatch.setattr("presign.bootstrap.runtime.system_clock", lambda: datetime.now(UTC) + offset)
    with LocalIssuer() as issuer:
        # Given: a function that trusts the local issuer's JWKS (fetched at cold start)
        document = settings_document()
        document["auth"] = issuer.auth_settings()
        client = make_client("uploads", document)
        fetched_at_cold_start = issuer.requests

        # When: a token signed with the current key, then one with a freshly rotated key
        first = client.post("/uploads", UPLOAD, bearer=issuer.token("dave"))
        issuer.rotate()
        offset = timedelta(seconds=31)  # refetches are at least 30 s apart; a rotation is rarer
        rotated = client.post("/uploads", UPLOAD, bearer=issuer.token("dave", ttl=7200))
        forged = client.post("/uploads", UPLOAD, bearer=token("dave"))  # HS256: not an allowed alg

    # Then
    assert fetched_at_cold_start == 1
    assert first["statusCode"] == 201, first["body"]
    assert json.loads(first["body"])["key"].startswith("users/dave/")
    assert rotated["statusCode"] == 201, rotated["body"]
    assert issuer.requests == 2  # the unknown kid caused exactly one refetch
    assert forged["statusCode"] == 401


def test_the_sample_gateway_event_is_served_in_gateway_mode(make_client: Callable[..., Client]) -> None:
    # The sample for `sam local invoke -e`, exactly as committed.
    from tests.support.functions import ROOT

    event = json.loads((ROOT / "events" / "uploads_post_gateway_authorizer.json").read_text(encoding="utf-8"))
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    document = gateway_document(required_scopes={"upload": ["presign/uploads"]})
    document["auth"].update(issuer=claims["iss"], audience=claims["aud"])
    document["targets"]["main"]["upload"] = {"content_types": ["image/*"]}
    client = make_client("uploads", document)

    response = client.module.handler(event, FakeContext())

    assert response["statusCode"] == 201, response["body"]
    assert json.loads(response["body"])["key"].startswith(f"users/{claims['sub']}/")


def _mutations() -> st.SearchStrategy[str]:
    valid = token()
    mutated = st.tuples(st.integers(0, len(valid) - 1), st.characters(codec="ascii")).map(
        lambda pos_ch: valid[: pos_ch[0]] + pos_ch[1] + valid[pos_ch[0] + 1 :]
    )
    segments = st.lists(st.text(st.characters(codec="ascii"), max_size=40), min_size=1, max_size=5).map(
        ".".join
    )
    return mutated | segments | st.text(max_size=200)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(bearer=_mutations(), scheme=st.sampled_from(["Bearer ", "bearer ", "Basic ", "", "Bearer  "]))
def test_no_token_of_any_shape_yields_a_500(uploads_hs256: Client, bearer: str, scheme: str) -> None:
    event = http_event("POST", "/uploads", UPLOAD, headers={"authorization": scheme + bearer})
    response = uploads_hs256.module.handler(event, FakeContext())
    assert response["statusCode"] in (201, 401), response["body"]
    if response["statusCode"] == 401:
        assert json.loads(response["body"])["error"]["code"] == "invalid_token"
        assert response["headers"]["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def uploads_hs256(make_client: Callable[..., Client]) -> Client:
    return make_client("uploads")
