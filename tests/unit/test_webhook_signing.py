"""Our Standard Webhooks signatures, judged by the ``standardwebhooks`` library (the oracle).

The library verifies against the real clock (its tolerance is a fixed five minutes and has no
clock to inject), so every header here is signed at ``datetime.now()`` unless a test is about
an old one.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from presign.errors import ConfigurationError
from presign.webhooks.signing import (
    SigningSecret,
    generate_secret,
    message_body,
    signature_headers,
)

OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()
EVENT_TIME = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
DATA = {"upload_id": "u_123", "key": "users/alice/a b é.png", "size": 5, "metadata": {"x": "y"}}


def now() -> datetime:
    return datetime.now(UTC)


def body() -> bytes:
    return message_body("upload.completed", EVENT_TIME, DATA)


def test_one_secret_verifies_with_the_library_and_the_body_is_type_timestamp_data() -> None:
    # Given one secret
    headers = signature_headers("evt_1", body(), [SigningSecret.parse(NEW)], now())

    # When the library verifies the delivery
    parsed = Webhook(NEW).verify(body(), headers)

    # Then it is accepted, and the body is the Standard Webhooks envelope
    assert parsed == {"type": "upload.completed", "timestamp": "2026-05-01T12:00:00Z", "data": DATA}
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-signature"].startswith("v1,"), headers


def test_a_rotated_pair_carries_both_signatures_and_each_secret_alone_verifies() -> None:
    # Given an endpoint in the middle of a rotation: new and old secret
    headers = signature_headers("evt_2", body(), [SigningSecret.parse(NEW), SigningSecret.parse(OLD)], now())
    signatures = headers["webhook-signature"].split(" ")

    # Then there are two signatures, and a receiver holding either secret verifies
    assert len(signatures) == 2 and len(set(signatures)) == 2, signatures
    Webhook(NEW).verify(body(), headers)
    Webhook(OLD).verify(body(), headers)
    # and each signature is that secret's alone
    for secret, signature in ((NEW, signatures[0]), (OLD, signatures[1])):
        Webhook(secret).verify(body(), {**headers, "webhook-signature": signature})
    with pytest.raises(WebhookVerificationError):
        Webhook(NEW).verify(body(), {**headers, "webhook-signature": signatures[1]})


def test_a_retry_signed_minutes_later_verifies_where_the_first_attempts_headers_no_longer_would() -> None:
    # Given the first attempt, signed ten minutes ago, and a retry signed now, same id and body
    secret = [SigningSecret.parse(NEW)]
    first = signature_headers("evt_3", body(), secret, now() - timedelta(minutes=10))
    retry = signature_headers("evt_3", body(), secret, now())

    # Then the old headers are refused (too old) and the retry's are accepted
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(NEW).verify(body(), first)
    assert Webhook(NEW).verify(body(), retry)["type"] == "upload.completed"
    assert retry["webhook-id"] == first["webhook-id"] == "evt_3"
    assert int(retry["webhook-timestamp"]) - int(first["webhook-timestamp"]) >= 599, (first, retry)


@pytest.mark.parametrize("part", ["body", "id", "timestamp", "secret"])
def test_anything_tampered_fails_verification(part: str) -> None:
    headers = signature_headers("evt_4", body(), [SigningSecret.parse(NEW)], now())
    sent = body()
    verifier = Webhook(NEW)
    if part == "body":
        sent = sent.replace(b'"size":5', b'"size":6')
    elif part == "id":
        headers["webhook-id"] = "evt_5"
    elif part == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    else:
        verifier = Webhook(OLD)

    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verifier.verify(sent, headers)


def test_the_body_is_compact_ascii_json_made_once() -> None:
    made = body()
    assert made == body(), "the same event must serialise to the same bytes"
    assert made == (
        b'{"type":"upload.completed","timestamp":"2026-05-01T12:00:00Z","data":{"upload_id":"u_123",'
        b'"key":"users/alice/a b \\u00e9.png","size":5,"metadata":{"x":"y"}}}'
    ), made
    assert json.loads(made)["data"]["key"] == "users/alice/a b é.png"


@settings(max_examples=200, deadline=None)
@given(
    message_id=st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="."),
        min_size=1,
        max_size=255,
    ),
    data=st.dictionaries(
        st.text(max_size=10),
        st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.none()),
        max_size=5,
    ),
    event_type=st.sampled_from(["upload.completed", "upload.deleted", "share.created"]),
    key=st.binary(min_size=24, max_size=64),
)
def test_property_the_library_signs_exactly_what_we_sign(
    message_id: str, data: dict[str, object], event_type: str, key: bytes
) -> None:
    secret_text = "whsec_" + base64.b64encode(key).decode()
    made = message_body(event_type, EVENT_TIME, data)
    moment = now()

    headers = signature_headers(message_id, made, [SigningSecret.parse(secret_text)], moment)

    library = Webhook(secret_text)
    assert headers["webhook-signature"] == library.sign(message_id, moment, made)
    assert library.verify(made, headers)["data"] == data


@pytest.mark.parametrize(
    "bad",
    [
        "no-prefix",
        "whsec_",
        "whsec_!!!!" + "A" * 40,  # the library would drop the '!' and sign with another key
        "whsec_" + base64.b64encode(b"x" * 23).decode(),  # shorter than the spec's 24 bytes
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
        "whsec_" + base64.b64encode(b"x" * 32).decode().rstrip("="),
    ],
)
def test_a_malformed_secret_is_a_configuration_error_that_does_not_echo_it(bad: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SigningSecret.parse(bad)
    secret_part = bad.removeprefix("whsec_")
    assert not secret_part or secret_part[:8] not in caught.value.message, caught.value.message


def test_the_library_is_lenient_where_we_are_strict() -> None:
    # Given a secret with a stray character (a copy-paste accident)
    good = "whsec_" + base64.b64encode(b"k" * 32).decode()
    typo = good[:10] + "!" + good[10:]

    # Then the library quietly accepts it, and we refuse to sign with it
    Webhook(typo)
    with pytest.raises(ConfigurationError):
        SigningSecret.parse(typo)


def test_a_secret_never_shows_in_a_repr() -> None:
    secret = SigningSecret.parse(NEW)
    assert "bm5u" not in repr(secret) and "nnnn" not in repr(secret), repr(secret)


@pytest.mark.parametrize("message_id", ["", "a.b", "evt 1", "evt\r\nx", "é", "x" * 256])
def test_an_id_that_cannot_be_a_header_or_holds_the_separator_is_refused(message_id: str) -> None:
    with pytest.raises(ValueError, match="webhook-id"):
        signature_headers(message_id, body(), [SigningSecret.parse(NEW)], now())


def test_no_secret_no_signature() -> None:
    with pytest.raises(ConfigurationError):
        signature_headers("evt_6", body(), [], now())


def test_a_generated_secret_is_32_random_bytes_the_library_accepts() -> None:
    first, second = generate_secret(), generate_secret()
    assert first != second
    assert len(SigningSecret.parse(first).key) == 32
    Webhook(first).verify(body(), signature_headers("evt_7", body(), [SigningSecret.parse(first)], now()))
    assert generate_secret(lambda n: b"\0" * n) == "whsec_" + "A" * 43 + "="
