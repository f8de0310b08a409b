"""sign_request must produce botocore's SigV4Auth headers byte for byte; botocore is the oracle.

What we found about botocore (1.44) for DynamoDB (an AWS JSON-protocol POST to "/"):

* A real client signs exactly content-type, host, x-amz-date, x-amz-security-token (with a session token)
  and x-amz-target; User-Agent is never signed, amz-sdk-invocation-id / amz-sdk-request are added after
  signing, and no X-Amz-Content-SHA256 header is sent (the payload hash is only in the canonical request).
* The body is always hashed (never UNSIGNED-PAYLOAD), over http and https alike.
* The signed host is lower-cased, without a default port, with brackets around an IPv6 address.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from presign.signing import sigv4
from presign.signing.sigv4 import SigningCredentials, sign_request

ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKENS = [None, "IQoJb3JpZ2luX2VjEFYa+CXVzLWVhc3QtMSJH/MEUCIQ==&x y"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "local"]
ENDPOINTS = [
    "https://dynamodb.eu-west-1.amazonaws.com",
    "https://DynamoDB.us-east-1.amazonaws.com:443/",
    "http://127.0.0.1:8000",
    "http://localhost:4566/",
    "http://[::1]:8000",
    "http://dynamo.internal:80",
    "https://ddb.example.net:8443",
]
OPERATIONS = ["UpdateItem", "GetItem", "PutItem", "DescribeTable", "TransactWriteItems"]
CONTENT_TYPES = ["application/x-amz-json-1.0", "application/x-amz-json-1.1"]
EXAMPLES = settings(max_examples=400, deadline=None, database=None)

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=20
).map(lambda v: f"v{v}")


@contextlib.contextmanager
def _frozen(now: datetime) -> Iterator[None]:
    naive = now.astimezone(UTC).replace(tzinfo=None)  # botocore's clock is naive UTC
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive):
        yield


def _botocore(
    url: str,
    headers: dict[str, str],
    body: bytes,
    region: str,
    token: str | None,
    now: datetime,
    service: str = "dynamodb",
) -> dict[str, str]:
    request = AWSRequest(method="POST", url=url, headers=dict(headers), data=body)
    with _frozen(now):
        SigV4Auth(Credentials(ACCESS_KEY, SECRET, token), service, region).add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


def _ours(
    url: str,
    headers: dict[str, str],
    body: bytes,
    region: str,
    token: str | None,
    now: datetime,
    service: str = "dynamodb",
) -> dict[str, str]:
    return sign_request(
        method="POST",
        url=url,
        headers=headers,
        body=body,
        service=service,
        region=region,
        credentials=SigningCredentials(ACCESS_KEY, SECRET, token),
        now=now,
    )


@EXAMPLES
@given(
    url=st.sampled_from(ENDPOINTS),
    region=st.sampled_from(REGIONS),
    token=st.sampled_from(TOKENS),
    operation=st.sampled_from(OPERATIONS),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=st.binary(max_size=512),
    extra=st.dictionaries(st.sampled_from(["X-Custom", "x-amz-meta-a", "Accept"]), header_values, max_size=2),
    now=moments,
)
def test_headers_equal_botocore_sigv4auth(
    url: str,
    region: str,
    token: str | None,
    operation: str,
    content_type: str,
    body: bytes,
    extra: dict[str, str],
    now: datetime,
) -> None:
    # Given the headers an AWS JSON-protocol client sends, and a frozen clock
    headers = {"Content-Type": content_type, "X-Amz-Target": f"DynamoDB_20120810.{operation}", **extra}
    # When both sign them, then every header is identical, byte for byte and in order
    ours = _ours(url, headers, body, region, token, now)
    theirs = _botocore(url, headers, body, region, token, now)
    assert list(ours.items()) == list(theirs.items())


@EXAMPLES
@given(body=st.binary(max_size=256), hop=st.sampled_from(["User-Agent", "Expect", "Connection"]))
def test_hop_by_hop_headers_are_sent_but_not_signed_as_in_botocore(body: bytes, hop: str) -> None:
    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    headers = {"Content-Type": CONTENT_TYPES[0], hop: "x"}
    ours = _ours(ENDPOINTS[0], headers, body, "eu-west-1", None, now)
    assert ours == _botocore(ENDPOINTS[0], headers, body, "eu-west-1", None, now)
    assert hop.lower() not in ours["Authorization"]


@pytest.mark.parametrize("token", TOKENS)
def test_a_real_boto3_dynamodb_client_signs_the_same_request(token: str | None) -> None:
    # Given what boto3's own DynamoDB client sends for an UpdateItem
    now = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    client = boto3.client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:8000",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 0}),
    )
    sent: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> Any:
        sent.update(
            headers={k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        )
        sent["body"] = request.body
        from botocore.awsrequest import AWSResponse

        return AWSResponse(request.url, 200, {}, None)

    client.meta.events.register("before-send.dynamodb.UpdateItem", capture)
    with _frozen(now), contextlib.suppress(Exception):
        client.update_item(TableName="t", Key={"pk": {"S": "k"}})
    # When we sign the same body with the headers our client sends
    ours = _ours(
        "http://127.0.0.1:8000",
        {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.UpdateItem"},
        sent["body"],
        "eu-west-1",
        token,
        now,
    )
    # Then the signature (and so the set of signed headers) is boto3's
    assert ours["Authorization"] == sent["headers"]["Authorization"]
    assert "X-Amz-Content-SHA256" not in sent["headers"] and "X-Amz-Content-SHA256" not in ours


def test_the_signing_key_is_derived_once_per_day_and_credentials() -> None:
    sigv4._request_signing_key.cache_clear()
    morning = datetime(2031, 1, 1, 8, tzinfo=UTC)
    with mock.patch.object(sigv4, "_derive_signing_key", wraps=sigv4._derive_signing_key) as derive:
        for minutes in range(5):
            _ours(ENDPOINTS[0], {}, b"{}", "eu-west-1", None, morning + timedelta(minutes=minutes))
        _ours(ENDPOINTS[0], {}, b"{}", "eu-west-1", None, morning + timedelta(days=1))
        elsewhere = datetime(2031, 1, 2, 1, tzinfo=timezone(timedelta(hours=2)))  # 2031-01-01T23:00Z
        _ours(ENDPOINTS[0], {}, b"{}", "eu-west-1", None, elsewhere)
    assert derive.call_count == 2


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"headers": {"Authorization": "x"}}, "must not carry"),
        ({"headers": {"x-amz-date": "x"}}, "must not carry"),
        ({"headers": {"Host": "evil"}}, "cannot be signed"),
        ({"url": "http://127.0.0.1:8000/path"}, "unsupported endpoint_url"),
        ({"url": "ftp://127.0.0.1"}, "unsupported endpoint_url"),
        ({"region": "eu west"}, "invalid region"),
        ({"now": datetime(2024, 1, 1)}, "timezone-aware"),
    ],
)
def test_what_cannot_be_signed_is_refused(change: dict[str, Any], error: str) -> None:
    arguments: dict[str, Any] = {
        "method": "POST",
        "url": ENDPOINTS[0],
        "headers": {},
        "body": b"",
        "service": "dynamodb",
        "region": "eu-west-1",
        "credentials": SigningCredentials(ACCESS_KEY, SECRET),
        "now": datetime(2024, 1, 1, tzinfo=UTC),
        **change,
    }
    with pytest.raises(ValueError, match=error):
        sign_request(**arguments)
