"""CDN links through the real handlers: the share redirect (GET/POST /s/{id}) of a target behind
CloudFront, its key in Secrets Manager (a moto server, read over HTTP by our own client), a key
that is gone or rotated, and cold starts that load CloudFront signing only where a target has a CDN.

moto cannot judge a CloudFront signature (nothing local can: CloudFront is not emulated), so every
URL is verified here against the key's public half, as tests/unit/test_cloudfront.py explains.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from local.servers import MotoServer
from presign.adapters import aws_parameters
from presign.clock import isoformat_z
from presign.core.contentdisposition import content_disposition
from tests.support.clock import ManualClock
from tests.support.events import http_event, token
from tests.support.shares import BUCKET, Stack, make_stack, moto_with_bucket, s3, share_document
from tests.unit.test_cloudfront import DOMAIN, KEY_PAIR_ID, verify

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_bucket()


def _pem(key: RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def keys() -> tuple[RSAPrivateKey, RSAPrivateKey]:
    return tuple(rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))  # type: ignore[return-value]


def secrets(moto: MotoServer) -> Any:
    return boto3.client(
        "secretsmanager",
        endpoint_url=moto.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Ticks:
    """The secrets cache's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Ticks:
    ticks = Ticks()
    monkeypatch.setattr(aws_parameters, "_cache", aws_parameters.ParameterCache(clock=ticks))
    return ticks


def cdn_stack(
    moto: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    secret_id: str,
    clock: ManualClock | None = None,
    **cdn: Any,
) -> Stack:
    document = share_document(moto.endpoint_url)
    document["targets"]["main"]["cdn"] = {
        "domain": DOMAIN,
        "key_pair_id": KEY_PAIR_ID,
        "private_key": {"source": "secretsmanager", "secret_id": secret_id},
        **cdn,
    }
    document["targets"]["main"]["upload"] = {"kinds": {"avatar": {"key_prefix": "avatars/"}}}
    return make_stack(moto, monkeypatch, document, links_clock=clock or ManualClock())


def stored(moto: MotoServer, key: str) -> str:
    s3(moto).put_object(Bucket=BUCKET, Key=key, Body=b"%PDF-1.7\n", ContentType="application/pdf")
    return key


def test_a_share_link_redirects_to_a_cloudfront_url_signed_with_the_stored_key(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, keys: tuple[RSAPrivateKey, RSAPrivateKey], ticks: Ticks
) -> None:
    # Given a target behind CloudFront whose key is a Secrets Manager secret, and a shared file
    arn = secrets(moto).create_secret(Name="presign/cdn-share", SecretString=_pem(keys[0]))["ARN"]
    clock = ManualClock()
    stack = cdn_stack(moto, monkeypatch, arn, clock)
    alice = stack.owner()
    key = stored(moto, alice.key("q3.pdf"))
    created = alice.share(key, filename="Bericht.pdf")

    # When a visitor opens the link
    response = stack.visit(created["share_id"])

    # Then: a 302 to CloudFront, for the key's path, signed over the share's overrides, 60 s
    assert response["statusCode"] == 302, response.get("body")
    url = response["headers"]["Location"]
    assert url.startswith(f"https://{DOMAIN}/{key}?"), url
    statement = verify(url, keys[0].public_key())
    expires = statement["Condition"]["DateLessThan"]["AWS:EpochTime"]
    query = parse_qs(urlsplit(url).query)
    assert query["response-content-disposition"] == [content_disposition("attachment", "Bericht.pdf")]
    assert query["response-cache-control"] == ["private, no-store"]
    assert expires == int(clock.now.timestamp()) + 60 == int(query["Expires"][0]), (expires, clock.now)
    # ... and the JSON answer carries the same kind of URL, with its expiry
    grant = json.loads(stack.visit(created["share_id"], accept="application/json")["body"])
    verify(grant["url"], keys[0].public_key())
    assert grant["expires_at"] == isoformat_z(clock.now.replace(microsecond=0) + timedelta(seconds=60)), grant


def test_the_password_form_may_redirect_to_the_cdn_origin(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, keys: tuple[RSAPrivateKey, RSAPrivateKey], ticks: Ticks
) -> None:
    # The page's CSP form-action must allow where the 302 after the POST goes: CloudFront.
    arn = secrets(moto).create_secret(Name="presign/cdn-form", SecretString=_pem(keys[0]))["ARN"]
    stack = cdn_stack(moto, monkeypatch, arn)
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key()), password="correct horse battery")

    page = stack.visit(created["share_id"], accept="text/html")
    posted = stack.visit(created["share_id"], method="POST", form={"password": "correct horse battery"})

    assert page["statusCode"] == 200, page.get("body")
    assert f"form-action 'self' https://{DOMAIN};" in page["headers"]["Content-Security-Policy"]
    assert posted["statusCode"] == 302 and posted["headers"]["Location"].startswith(f"https://{DOMAIN}/")


def test_a_shared_file_of_a_kind_that_opted_in_is_signed_with_its_cache_control(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, keys: tuple[RSAPrivateKey, RSAPrivateKey], ticks: Ticks
) -> None:
    arn = secrets(moto).create_secret(Name="presign/cdn-kinds", SecretString=_pem(keys[0]))["ARN"]
    stack = cdn_stack(moto, monkeypatch, arn, cache_control={"avatar": "public, max-age=600"})
    alice = stack.owner()
    avatar = alice.share(stored(moto, "users/alice/avatars/2026/12/01/up1/me.png"))
    other = alice.share(stored(moto, "users/alice/2026/12/01/up2/cv.pdf"))

    avatar_url = stack.visit(avatar["share_id"])["headers"]["Location"]
    other_url = stack.visit(other["share_id"])["headers"]["Location"]

    verify(avatar_url, keys[0].public_key())
    assert parse_qs(urlsplit(avatar_url).query)["response-cache-control"] == ["public, max-age=600"]
    assert parse_qs(urlsplit(other_url).query)["response-cache-control"] == ["private, no-store"]


def test_a_key_secret_that_is_gone_is_503_and_a_rotated_one_signs_after_the_cache_period(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, keys: tuple[RSAPrivateKey, RSAPrivateKey], ticks: Ticks
) -> None:
    # Given a share of a target whose key secret does not exist (yet)
    client = secrets(moto)
    name = "presign/cdn-rotating"
    stack = cdn_stack(moto, monkeypatch, name)
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key()))

    # When it is opened: 503, not 500, with Retry-After, and no download spent on it
    refused = stack.visit(created["share_id"], accept="application/json")
    assert refused["statusCode"] == 503, refused.get("body")
    assert json.loads(refused["body"])["error"]["code"] == "dependency_unavailable"
    assert int(refused["headers"]["Retry-After"]) >= 1

    # When the secret appears, then is rotated: each key signs once the cache period has passed
    client.create_secret(Name=name, SecretString=_pem(keys[0]))
    ticks.now += aws_parameters.CACHE_SECONDS
    first = stack.visit(created["share_id"], accept="application/json")
    assert first["statusCode"] == 200, first.get("body")
    verify(json.loads(first["body"])["url"], keys[0].public_key())

    client.put_secret_value(SecretId=name, SecretString=_pem(keys[1]))
    ticks.now += aws_parameters.CACHE_SECONDS
    second = stack.visit(created["share_id"], accept="application/json")
    verify(json.loads(second["body"])["url"], keys[1].public_key())


# --- cold starts ------------------------------------------------------------------------------------

CHILD = r"""
import json, sys
paths, event = json.loads(sys.argv[1])
sys.path[:0] = paths
watched = ("presign.signing.cloudfront", "presign.adapters.cdn_keys", "cryptography")
report = {}
import app
report["after_import"] = sorted(m for m in watched if m in sys.modules)

class Context:
    function_name = "fn"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    def get_remaining_time_in_millis(self):
        return 6000

response = app.handler(event, Context())
report["after_request"] = sorted(m for m in watched if m in sys.modules)
report["status"] = response["statusCode"]
report["body"] = response["body"]
print(json.dumps(report))
"""


def _cold_start(
    document: dict[str, Any], env: dict[str, str], event: dict[str, Any], tmp: Path
) -> dict[str, Any]:
    paths = [str(ROOT / "functions" / "downloads"), str(ROOT / "layers" / "presign")]
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "AWS_REGION": "us-east-1",
        "PRESIGN_CONFIG": json.dumps(document),
        "PRESIGN_S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "PRESIGN_S3_SECRET_ACCESS_KEY": "x" * 40,
        "POWERTOOLS_SERVICE_NAME": "presign",
        "POWERTOOLS_METRICS_NAMESPACE": "presign-test",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps([paths, event])],
        env=child_env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _gateway_document(**target: Any) -> dict[str, Any]:
    from tests.support.events import AUDIENCE, ISSUER
    from tests.support.functions import settings_document

    document = settings_document(**target)
    document["auth"] = {"mode": "gateway", "issuer": ISSUER, "audience": AUDIENCE}
    return document


def _gateway_event() -> dict[str, Any]:
    from tests.support.events import AUDIENCE, ISSUER

    event = http_event("POST", "/downloads", {"keys": "users/alice/2026/12/01/up1/a.txt"})
    now = int(__import__("time").time())
    claims = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": str(now), "exp": str(now + 300)}
    event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


def test_without_a_cdn_no_function_loads_cloudfront_signing_or_cryptography(tmp_path: Path) -> None:
    # Given gateway mode (no PyJWT, so nothing else loads cryptography) and no CDN
    report = _cold_start(_gateway_document(), {}, _gateway_event(), tmp_path)

    # Then: a SigV4 URL, and neither our CloudFront modules nor cryptography at any point
    assert report["status"] == 200, report
    assert "X-Amz-Signature=" in report["body"]
    assert report["after_import"] == [] and report["after_request"] == [], report


def test_with_a_cdn_cloudfront_signing_loads_on_the_first_download_not_at_import(
    tmp_path: Path, keys: tuple[RSAPrivateKey, RSAPrivateKey]
) -> None:
    cdn = {"domain": DOMAIN, "key_pair_id": KEY_PAIR_ID, "private_key": {"source": "env", "name": "CDN_KEY"}}
    report = _cold_start(_gateway_document(cdn=cdn), {"CDN_KEY": _pem(keys[0])}, _gateway_event(), tmp_path)

    assert report["status"] == 200, report
    url = json.loads(report["body"])["items"][0]["url"]
    verify(url, keys[0].public_key())
    assert report["after_import"] == [], report
    assert set(report["after_request"]) == {
        "presign.signing.cloudfront",
        "presign.adapters.cdn_keys",
        "cryptography",
    }


def test_hs256_tokens_still_work_with_a_cdn_target(
    tmp_path: Path, keys: tuple[RSAPrivateKey, RSAPrivateKey]
) -> None:
    # PyJWT (hs256) loads cryptography itself: a CDN adds only our two small modules.
    from tests.support.events import SECRET
    from tests.support.functions import settings_document

    cdn = {"domain": DOMAIN, "key_pair_id": KEY_PAIR_ID, "private_key": {"source": "env", "name": "CDN_KEY"}}
    event = http_event("POST", "/downloads", {"keys": "users/alice/2026/12/01/up1/a.txt"}, bearer=token())
    env = {"CDN_KEY": _pem(keys[0]), "PRESIGN_TEST_JWT_SECRET": SECRET}
    report = _cold_start(settings_document(cdn=cdn), env, event, tmp_path)
    assert report["status"] == 200, report
    verify(json.loads(report["body"])["items"][0]["url"], keys[0].public_key())
