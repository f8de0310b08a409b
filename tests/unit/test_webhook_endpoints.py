"""The endpoint configuration: URL rules, event-type patterns, secret references, the dev flag."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from presign.webhooks.endpoints import WebhookEndpoint, endpoints_for, matches, parse_settings

SECRET = {"secret_id": "presign/webhooks/billing"}


def endpoint(**overrides: Any) -> dict[str, Any]:
    return {"id": "billing", "url": "https://hooks.example.com/presign", "events": ["upload.*"],
            "secrets": [SECRET], **overrides}  # fmt: skip


def parse(*endpoints: dict[str, Any], allow_loopback: bool = False) -> tuple[WebhookEndpoint, ...]:
    return parse_settings({"endpoints": list(endpoints)}, allow_loopback=allow_loopback).endpoints


def test_a_valid_endpoint_with_a_rotation_pair() -> None:
    (parsed,) = parse(endpoint(secrets=[SECRET, {**SECRET, "version_stage": "AWSPREVIOUS"}]))
    assert parsed.enabled and [s.version_stage for s in parsed.secrets] == ["AWSCURRENT", "AWSPREVIOUS"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/", "must use https"),
        ("https://user:pw@hooks.example.com/", "user name or password"),
        ("https://@hooks.example.com/", "user name or password"),
        ("https://hooks.example.com/#x", "fragment"),
        ("https://hooks.example.com/#", "fragment"),
        ("https://localhost/", "this machine"),
        ("https://api.localhost/", "this machine"),
        ("https://127.0.0.1/", "this machine"),
        ("https://[::1]/", "this machine"),
        ("https://10.0.0.1/", "private address"),
        ("https://169.254.169.254/", "metadata address"),
        # Python 3.13 judges the mapped form loopback itself (3.11 did not): refused either way.
        ("https://[::ffff:127.0.0.1]/", "this machine"),
        ("https://[::ffff:10.0.0.1]/", "private address"),
        ("https://0.0.0.0/", "unspecified address"),
        ("https://hooks.example.com:99999/", "valid host and port"),
        ("https://hooks.example.com/a\nb", "control characters"),
        ("hooks.example.com/x", "absolute https"),
        ("javascript:alert(1)", "absolute https"),
    ],
)
def test_urls_that_are_refused_and_why(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(endpoint(url=url))
    # What the settings loader shows (presign.config: field path and message, never the input)
    messages = " ".join(error["msg"] for error in caught.value.errors())
    assert message in messages, messages
    assert "hooks.example.com" not in messages, "the URL is never echoed"


def test_the_error_never_shows_the_url_even_with_a_token_in_it() -> None:
    with pytest.raises(ValidationError) as caught:
        parse(endpoint(url="http://hooks.example.com/T0KEN-abc123"))
    messages = caught.value.json(include_input=False, include_url=False)
    assert "must use https" in messages and "T0KEN" not in messages, messages


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8123/webhooks", "http://localhost:8123/", "http://[::1]:9/x"]
)
def test_plain_http_loopback_only_with_the_dev_flag(url: str) -> None:
    with pytest.raises(ValidationError):
        parse(endpoint(url=url))
    (parsed,) = parse(endpoint(url=url), allow_loopback=True)
    assert parsed.url == url


def test_the_dev_flag_does_not_open_other_private_addresses_or_plain_http_elsewhere() -> None:
    for url in ("http://10.0.0.1/", "https://169.254.169.254/", "http://hooks.example.com/"):
        with pytest.raises(ValidationError):
            parse(endpoint(url=url), allow_loopback=True)


def test_the_url_is_not_in_the_repr() -> None:
    (parsed,) = parse(endpoint(url="https://hooks.example.com/T0KEN"))
    assert "T0KEN" not in repr(parsed), repr(parsed)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"events": []}, "at least 1"),
        ({"events": ["upload"]}, "not an event type"),
        ({"events": ["upload.**"]}, "not an event type"),
        ({"events": ["*.completed"]}, "not an event type"),
        ({"secrets": []}, "at least 1"),
        ({"secrets": [SECRET, SECRET, SECRET]}, "at most 2"),
        ({"secrets": [{"secret_id": "has space"}]}, "secret name or ARN"),
        ({"secrets": [{"secret_id": "x", "version_stage": "a b"}]}, "version stage"),
        ({"id": "Billing!"}, "pattern"),
        ({"colour": "blue"}, "Extra inputs"),
    ],
)
def test_other_fields_are_checked(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse(endpoint(**overrides))


def test_ids_are_unique() -> None:
    with pytest.raises(ValidationError, match="unique: billing"):
        parse(endpoint(), endpoint())


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("*", "share.accessed", True),
        ("upload.*", "upload.completed", True),
        ("upload.*", "uploads.completed", False),
        ("upload.*", "share.created", False),
        ("upload.completed", "upload.completed", True),
        ("upload.completed", "upload.completed_x", False),
    ],
)
def test_patterns(pattern: str, event_type: str, expected: bool) -> None:
    assert matches(pattern, event_type) is expected


def test_the_fan_out_picks_enabled_endpoints_that_want_the_type_in_order() -> None:
    endpoints = parse(
        endpoint(id="a", events=["upload.*"]),
        endpoint(id="b", events=["share.created", "upload.deleted"]),
        endpoint(id="c", events=["*"], enabled=False),
        endpoint(id="d", events=["*"]),
    )
    assert [e.id for e in endpoints_for("upload.deleted", endpoints)] == ["a", "b", "d"]
    assert [e.id for e in endpoints_for("share.revoked", endpoints)] == ["d"]
