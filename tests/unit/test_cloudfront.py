"""CloudFront signed URLs (presign.signing.cloudfront): checked against the RSA public key with
``cryptography`` (the signature over the canned policy, its expiry and resource), byte for byte
against botocore's ``CloudFrontSigner``, and through POST /downloads of a target with a CDN."""

from __future__ import annotations

import json
from base64 import b64decode
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from botocore.signers import CloudFrontSigner as BotocoreSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from presign.adapters.cdn_keys import rsa_sha1_signer
from presign.config.settings import parse_settings
from presign.errors import ConfigurationError
from presign.signing.cloudfront import CloudFrontSigner
from presign.signing.sigv4 import S3Presigner, SigningCredentials
from tests.integration.conftest import Client
from tests.support.clock import ManualClock, inject_clock
from tests.support.functions import function_env, load_function, settings_document

DOMAIN = "d111111abcdef8.cloudfront.net"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"
KEY_VAR = "PRESIGN_TEST_CDN_KEY"
EXPIRES = 1_767_290_400


@pytest.fixture(scope="module")
def private_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(private_key: RSAPrivateKey) -> str:
    # The traditional "BEGIN RSA PRIVATE KEY" form that `openssl genrsa` writes and AWS shows.
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def signer(private_key: RSAPrivateKey) -> CloudFrontSigner:
    return CloudFrontSigner(domain=DOMAIN, key_pair_id=KEY_PAIR_ID, sign=rsa_sha1_signer(private_key))


def verify(url: str, public_key: RSAPublicKey) -> dict[str, Any]:
    """What CloudFront checks: the canned policy rebuilt from the URL, minus our three parameters,
    verified against the key group's public key. Returns the policy's statement."""
    resource, sep, signed = url.rpartition("Expires=")
    assert sep and resource[-1] in "?&", url
    resource = resource[:-1]
    params = dict(part.split("=", 1) for part in f"Expires={signed}".split("&"))
    assert list(params) == ["Expires", "Signature", "Key-Pair-Id"], params
    assert params["Key-Pair-Id"] == KEY_PAIR_ID
    expires = int(params["Expires"])
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
    policy = json.dumps({"Statement": [statement]}, separators=(",", ":")).encode()
    signature = b64decode(params["Signature"].translate(str.maketrans("-_~", "+=/")))
    # Raises InvalidSignature when it does not verify.
    public_key.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - CloudFront's
    return statement


def botocore_url(private_key: RSAPrivateKey, key: str, query: dict[str, str], expires: int) -> str:
    """The same URL from botocore: the base URL built with the quoting S3 URLs use."""
    base = f"https://{DOMAIN}/{quote(key.encode(), safe='/~')}"
    if query:
        base += "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query.items())
    oracle = BotocoreSigner(KEY_PAIR_ID, rsa_sha1_signer(private_key))
    return str(oracle.generate_presigned_url(base, date_less_than=datetime.fromtimestamp(expires, UTC)))


# --- the signer -----------------------------------------------------------------------------------


def test_a_signed_url_verifies_with_the_public_key_and_covers_its_query(
    signer: CloudFrontSigner, private_key: RSAPrivateKey
) -> None:
    # Given a key and the overrides a download carries
    query = {
        "response-content-disposition": 'attachment; filename="a b.pdf"',
        "response-cache-control": "private, no-store",
    }

    # When
    url = signer.presign_get("users/alice/a b.pdf", expires=EXPIRES, query=query)

    # Then: the policy names exactly this URL, query included, until EXPIRES
    statement = verify(url, private_key.public_key())
    assert statement["Condition"]["DateLessThan"]["AWS:EpochTime"] == EXPIRES
    assert statement["Resource"] == (
        f"https://{DOMAIN}/users/alice/a%20b.pdf?response-content-disposition=attachment%3B%20filename%3D%22a%20b.pdf%22"
        "&response-cache-control=private%2C%20no-store"
    )
    # ... and a viewer who edits an override holds a URL whose signature no longer verifies
    from cryptography.exceptions import InvalidSignature

    edited = url.replace("attachment", "inline")
    with pytest.raises(InvalidSignature):
        verify(edited, private_key.public_key())


def test_without_a_query_the_signature_starts_the_query(
    signer: CloudFrontSigner, private_key: RSAPrivateKey
) -> None:
    url = signer.presign_get("users/alice/x.png", expires=EXPIRES)
    assert url.startswith(f"https://{DOMAIN}/users/alice/x.png?Expires={EXPIRES}&Signature="), url
    assert url.endswith(f"&Key-Pair-Id={KEY_PAIR_ID}")
    assert verify(url, private_key.public_key())["Resource"] == f"https://{DOMAIN}/users/alice/x.png"


@pytest.mark.parametrize(
    "key",
    ["users/alice/a+b.txt", "users/alice/100%.txt", "users/alice/~tilde~", "users/alice/Grüße ü.png",
     "users/alice/日本語/ファイル.pdf", "users/alice/emoji 🎉.gif", "users/alice/q?a=1&b#c.txt",
     "users/alice/semi;colon,comma'quote\"dq.txt", "users/alice/=-_.!*()@$.bin"],
)  # fmt: skip
def test_awkward_keys_match_botocore_byte_for_byte(
    signer: CloudFrontSigner, private_key: RSAPrivateKey, key: str
) -> None:
    query = {"response-content-disposition": "attachment; filename*=UTF-8''%C3%BC.txt"}
    ours = signer.presign_get(key, expires=EXPIRES, query=query)
    assert ours == botocore_url(private_key, key, query, EXPIRES)
    # The path on the CDN is the path a storage URL has for this key, which S3 decodes to the key.
    storage = S3Presigner(
        credentials=SigningCredentials("AKIDEXAMPLE", "x" * 40), region="us-east-1",
        endpoint_url="https://s3.example.test", addressing_style="virtual",
    ).object_url("bucket", key)  # fmt: skip
    assert urlsplit(ours).path == urlsplit(storage).path


_KEY_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


@settings(max_examples=150, deadline=None)
@given(
    key=st.text(_KEY_CHARS, min_size=1, max_size=80),
    query=st.dictionaries(
        st.sampled_from(
            ["response-content-disposition", "response-content-type", "response-cache-control", "x"]
        ),
        st.text(_KEY_CHARS, max_size=40),
        max_size=4,
    ),
    expires=st.integers(min_value=1, max_value=2**31 - 1),
)
def test_any_key_query_and_expiry_match_botocore(
    signer: CloudFrontSigner, private_key: RSAPrivateKey, key: str, query: dict[str, str], expires: int
) -> None:
    ours = signer.presign_get(key, expires=expires, query=query)
    assert ours == botocore_url(private_key, key, query, expires)
    assert verify(ours, private_key.public_key())["Condition"]["DateLessThan"]["AWS:EpochTime"] == expires


@pytest.mark.parametrize("name", ["Expires", "Signature", "Key-Pair-Id", "Policy", "signature"])
def test_the_query_cannot_carry_cloudfronts_own_parameters(signer: CloudFrontSigner, name: str) -> None:
    with pytest.raises(ValueError, match="Expires, Signature"):
        signer.presign_get("users/alice/x", expires=EXPIRES, query={name: "1"})


# --- configuration --------------------------------------------------------------------------------


def cdn(**fields: Any) -> dict[str, Any]:
    return {
        "domain": DOMAIN,
        "key_pair_id": KEY_PAIR_ID,
        "private_key": {"source": "env", "name": KEY_VAR},
        **fields,
    }


def document(**target: Any) -> str:
    return json.dumps(settings_document(**target))


@pytest.mark.parametrize(
    ("target", "field", "says"),
    [
        ({"cdn": cdn(domain="https://d111.cloudfront.net")}, "targets.main.cdn.domain", "host name"),
        ({"cdn": cdn(domain="d111.cloudfront.net/files")}, "targets.main.cdn.domain", "no scheme, port or path"),
        ({"cdn": cdn(key_pair_id="k2 lower")}, "targets.main.cdn.key_pair_id", "pattern"),
        ({"cdn": cdn(private_key={"source": "s3"})}, "targets.main.cdn.private_key", "tag"),
        ({"cdn": {"domain": DOMAIN, "key_pair_id": KEY_PAIR_ID}}, "targets.main.cdn.private_key", "required"),
        ({"cdn": cdn(cache_control={"avatar": "public, max-age=60"})}, "cdn.cache_control.avatar", "no kind"),
        (
            {"cdn": cdn(cache_control={"avatar": "public, max-age=60"}), "upload": {"kinds": {"avatar": {}}}},
            "cdn.cache_control.avatar",
            "key_prefix of its own",
        ),
        (
            {"cdn": cdn(cache_control={"avatar": "public\nmax-age=60"}),
             "upload": {"kinds": {"avatar": {"key_prefix": "avatars/"}}}},
            "targets.main.cdn.cache_control",
            "Cache-Control directives",
        ),
        ({"cdn": cdn(surprise=1)}, "targets.main.cdn.surprise", "Extra inputs"),
    ],
)  # fmt: skip
def test_a_wrong_cdn_section_stops_the_cold_start_naming_the_field(
    target: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        parse_settings(document(**target))
    assert field in refused.value.message and says in refused.value.message, refused.value.message


def test_cdn_links_may_outlive_role_credentials_but_uploads_may_not() -> None:
    # CloudFront's key does not expire with the role's credentials; the SigV4 uploads still do.
    week = {"credentials": {"source": "role"}, "download": {"max_expiry": 604_800, "default_expiry": 300}}
    assert parse_settings(document(cdn=cdn(), **week)).targets["main"].download.max_expiry == 604_800
    with pytest.raises(ConfigurationError, match=r"targets\.main\.download\.max_expiry"):
        parse_settings(document(**week))
    with pytest.raises(ConfigurationError, match=r"targets\.main\.upload\.max_expiry"):
        parse_settings(document(cdn=cdn(), upload={"max_expiry": 7200}, credentials={"source": "role"}))


# --- POST /downloads through a CDN ----------------------------------------------------------------

KINDS = {
    "avatar": {"key_prefix": "avatars/"},
    "thumb": {"key_prefix": "avatars/thumbs/"},
    "doc": {"key_prefix": "docs/"},
}
PUBLIC = "public, max-age=86400, immutable"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    clock = ManualClock()  # now: the tokens are checked against it too
    inject_clock(monkeypatch, clock)
    return clock


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch, pem: str, clock: ManualClock) -> Callable[..., Client]:
    def make(key_text: str | None = pem, **target: Any) -> Client:
        spec = {"cdn": cdn(cache_control={"avatar": PUBLIC}), "upload": {"kinds": KINDS}, **target}
        env = function_env(settings_document(**spec))
        if key_text is None:
            monkeypatch.delenv(KEY_VAR, raising=False)
        else:
            env[KEY_VAR] = key_text
        return Client(load_function("downloads", monkeypatch, env))

    return make


def _json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def test_downloads_through_a_cdn_are_cloudfront_urls_that_verify(
    downloads: Callable[..., Client], private_key: RSAPrivateKey, clock: ManualClock
) -> None:
    # Given a target behind CloudFront
    client = downloads()
    keys = ["users/alice/2026/12/01/up1/Größe report.pdf", "users/alice/2026/12/01/up2/a+b%.txt"]

    # When
    response = client.post("/downloads", {"keys": keys, "expires_in": 600})

    # Then: CloudFront URLs for the keys' paths, with our overrides signed in, expiring as SigV4 would
    assert response["statusCode"] == 200, response["body"]
    answer = _json(response)
    assert answer["expires_in"] == 600
    now = clock.now.replace(microsecond=0)
    for key, item in zip(keys, answer["items"], strict=True):
        url = item["url"]
        assert url.startswith(f"https://{DOMAIN}/{quote(key, safe='/~')}?"), url
        assert "X-Amz-" not in url
        statement = verify(url, private_key.public_key())
        assert statement["Condition"]["DateLessThan"]["AWS:EpochTime"] == int(
            (now + timedelta(seconds=600)).timestamp()
        )
        assert item["expires_at"] == (now + timedelta(seconds=600)).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = parse_qs(urlsplit(url).query)
        assert query["response-cache-control"] == ["private, no-store"], query
        assert query["response-content-encoding"] == ["identity"]
        assert query["response-content-disposition"][0].startswith("attachment; filename=")


def test_inline_through_a_cdn_signs_the_passive_type(
    downloads: Callable[..., Client], private_key: RSAPrivateKey
) -> None:
    response = downloads().post(
        "/downloads",
        {"keys": "users/alice/2026/12/01/up1/cat.png", "disposition": "inline", "content_type": "image/png"},
    )
    url = _json(response)["items"][0]["url"]
    query = parse_qs(urlsplit(verify(url, private_key.public_key())["Resource"]).query)
    assert query["response-content-type"] == ["image/png"]
    assert query["response-content-disposition"] == ['inline; filename="cat.png"']


def test_an_active_type_stays_refused_through_a_cdn(downloads: Callable[..., Client]) -> None:
    response = downloads().post(
        "/downloads",
        {"keys": "users/alice/2026/12/01/up1/x.html", "disposition": "inline", "content_type": "text/html"},
    )
    assert response["statusCode"] == 415, response["body"]


@pytest.mark.parametrize(
    ("key", "cache_control"),
    [
        ("users/alice/avatars/2026/12/01/up1/me.png", PUBLIC),  # the kind that opted in
        ("users/alice/avatars/thumbs/2026/12/01/up1/me.png", "private, no-store"),  # a longer kind: not in
        ("users/alice/docs/2026/12/01/up1/cv.pdf", "private, no-store"),  # a kind that did not opt in
        ("users/alice/2026/12/01/up1/avatars.png", "private, no-store"),  # no kind
        ("users/alice/avatars/me.png", "private, no-store"),  # not a server-made key
        ("users/alice/avatars/x/2026/12/01/up1/me.png", "private, no-store"),  # nothing's sub-prefix
        ("users/alice/avatars/2026/12/xx/up1/me.png", "private, no-store"),  # not a date
    ],
)
def test_only_the_files_of_a_kind_that_opted_in_may_be_cached(
    downloads: Callable[..., Client], private_key: RSAPrivateKey, key: str, cache_control: str
) -> None:
    response = downloads().post("/downloads", {"keys": key})
    assert response["statusCode"] == 200, response["body"]
    url = _json(response)["items"][0]["url"]
    verify(url, private_key.public_key())
    assert parse_qs(urlsplit(url).query)["response-cache-control"] == [cache_control], url


@pytest.mark.parametrize(
    "key_text",
    [
        None,  # the variable is not set
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode(),  # not RSA
    ],
    ids=["unset", "text", "bad-pem", "ec-key"],
)
def test_a_key_that_cannot_be_loaded_is_503_not_500(
    downloads: Callable[..., Client], key_text: str | None
) -> None:
    # Given a function that started (the key is read on first use, not at cold start)
    client = downloads(key_text=key_text)

    # When
    response = client.post("/downloads", {"keys": "users/alice/2026/12/01/up1/a.txt"})

    # Then: a dependency that is down, with Retry-After, and nothing of the key in the answer
    assert response["statusCode"] == 503, response["body"]
    error = _json(response)["error"]
    assert error["code"] == "dependency_unavailable" and "CDN signing key" in error["message"], error
    assert int(response["headers"]["Retry-After"]) >= 1
    if key_text:
        assert key_text.strip()[:40] not in response["body"]


def test_a_target_without_a_cdn_still_gets_sigv4_urls(downloads: Callable[..., Client]) -> None:
    response = downloads(cdn=None).post("/downloads", {"keys": "users/alice/2026/12/01/up1/a.txt"})
    url = _json(response)["items"][0]["url"]
    assert url.startswith("http://127.0.0.1:9/presign-test/users/alice/") and "X-Amz-Signature=" in url, url


@pytest.mark.parametrize(
    "request_body",
    [
        {"keys": "users/alice/2026/12/01/up1/a b.pdf"},
        {"keys": "users/alice/2026/12/01/up1/cat.png", "disposition": "inline", "content_type": "image/png"},
        {"keys": "users/alice/2026/12/01/up1/r.txt", "filename": "Grüße.txt"},
        {"keys": "users/alice/avatars/2026/12/01/up1/me.png"},
    ],
)
def test_a_cdn_url_carries_exactly_the_overrides_a_storage_url_would(
    downloads: Callable[..., Client], request_body: dict[str, Any]
) -> None:
    # The storage guarantees do not depend on the CDN: same disposition, type, encoding and
    # Cache-Control (a kind that opted in aside, which only a CDN target can have).
    def overrides(client: Client) -> dict[str, list[str]]:
        url = _json(client.post("/downloads", request_body))["items"][0]["url"]
        return {k: v for k, v in parse_qs(urlsplit(url).query).items() if k.startswith("response-")}

    through_cdn = overrides(downloads(cdn=cdn()))
    from_storage = overrides(downloads(cdn=None))
    assert through_cdn == from_storage, (through_cdn, from_storage)


def test_the_example_in_docs_cdn_md_is_a_valid_configuration() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "cdn.md").read_text(encoding="utf-8")
    example = text.split("```json\n", 1)[1].split("```", 1)[0]
    document = settings_document()
    document["targets"] = json.loads("{" + example + "}")["targets"]
    document["default_target"] = "media"
    target = parse_settings(json.dumps(document)).targets["media"]
    assert target.cdn is not None and target.cdn.cache_control == {"avatar": "public, max-age=86400"}


@pytest.mark.parametrize("provider", ["r2", "minio", "wasabi", "b2"])
def test_a_cdn_in_front_of_another_providers_bucket_stops_the_cold_start(provider: str) -> None:
    # Origin access control signs CloudFront's requests to AWS S3 only: another provider's bucket
    # would have to be public for CloudFront to read it, which defeats signed links.
    target = {"provider": provider, "region": "us-east-1", "account_id": "abc123", "cdn": cdn()}
    with pytest.raises(ConfigurationError) as refused:
        parse_settings(document(**target))
    assert "targets.main.cdn" in refused.value.message, refused.value.message
    assert "AWS S3 only" in refused.value.message, refused.value.message


def test_a_cdn_in_front_of_aws_s3_or_a_generic_endpoint_loads() -> None:
    for provider in ("aws", "generic"):
        settings = parse_settings(document(provider=provider, cdn=cdn()))
        assert settings.targets["main"].cdn is not None, provider
