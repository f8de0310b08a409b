"""The pieces of share links on their own: ids and handles, the form gate, passwords, settings."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import ValidationError

from presign import errors
from presign.config.shares import Argon2Parameters, ShareSettings
from presign.http.gate import form_body, is_form_media_type
from presign.shares.ids import ID_BYTES, handle_from_path, handle_of, is_handle, is_share_id, new_share_id
from presign.shares.links import client_key
from presign.shares.passwords import PasswordHasher, parameters_of


def test_a_share_id_carries_192_random_bits_and_its_handle_does_not_reveal_it() -> None:
    ids = {new_share_id() for _ in range(1000)}
    assert len(ids) == 1000 and ID_BYTES * 8 >= 128
    share_id = ids.pop()
    assert is_share_id(share_id) and len(share_id) == 32, share_id
    handle = handle_of(share_id)
    assert is_handle(handle) and share_id not in handle and handle == handle_of(share_id)
    # The owner routes take either; nothing else
    assert handle_from_path(share_id) == handle_from_path(handle) == handle
    for other in ("", "x", share_id[:-1], handle.upper(), handle + "0", "../" + share_id):
        assert handle_from_path(other) is None, other


def _form(raw: str, *, b64: bool = False) -> dict[str, Any]:
    body = base64.b64encode(raw.encode("latin-1")).decode() if b64 else raw
    return {"body": body, "isBase64Encoded": b64, "headers": {}}


@pytest.mark.parametrize("b64", [False, True])
def test_a_form_becomes_the_json_object_of_its_one_field(b64: bool) -> None:
    text = form_body(_form("password=open+sesame%20%C3%A9%26", b64=b64), 1024, frozenset({"password"}))
    assert text is not None and json.loads(text) == {"password": "open sesame é&"}


@pytest.mark.parametrize(
    "raw",
    ["password=a&password=b", "password=a&x=1", "x=1", "password=%FF", "password", "=a", "password=a&&"],
)
def test_a_form_with_anything_but_its_fields_once_is_400(raw: str) -> None:
    with pytest.raises(errors.InvalidRequest):
        form_body(_form(raw), 1024, frozenset({"password"}))


def test_a_form_over_the_limit_is_413() -> None:
    with pytest.raises(errors.PayloadTooLarge):
        form_body(_form("password=" + "a" * 100), 50, frozenset({"password"}))


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("application/x-www-form-urlencoded", True),
        ("Application/X-WWW-Form-Urlencoded; charset=UTF-8", True),
        ("application/x-www-form-urlencoded; charset=iso-8859-1", False),
        ("multipart/form-data; boundary=x", False),
        ("text/plain", False),
        (None, False),
    ],
)
def test_only_a_utf8_urlencoded_form_is_a_form(value: str | None, ok: bool) -> None:
    assert is_form_media_type(value) is ok


def test_a_password_is_hashed_with_argon2id_and_checked_normalized() -> None:
    hasher = PasswordHasher(Argon2Parameters())
    encoded = hasher.hash("ﬁne password")  # the "ﬁ" ligature: NFKC makes it "fi"
    found = parameters_of(encoded)
    assert (found.variant, found.memory_kib, found.time_cost, found.parallelism) == ("argon2id", 19456, 2, 1)
    assert hasher.verify(encoded, "fine password") and hasher.verify(encoded, "ﬁne password")
    assert not hasher.verify(encoded, "fine passwort")
    # Only Argon2id is a hash we accept: an argon2i (or anything else) stored value never verifies
    assert not hasher.verify(encoded.replace("$argon2id$", "$argon2i$"), "fine password")
    assert not hasher.verify("not a hash", "fine password")
    hasher.verify_nothing("anything")  # the unknown share's work, with no answer


@pytest.mark.parametrize("weaker", [{"memory_kib": 19455}, {"time_cost": 1}, {"parallelism": 0}])
def test_argon2_below_owasps_minimum_stops_the_cold_start(weaker: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        Argon2Parameters(**weaker)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://files.example.com", True),
        ("https://files.example.com/base/", True),
        ("http://127.0.0.1:8080", True),
        ("http://files.example.com", False),
        ("https://user:pw@files.example.com", False),
        ("https://files.example.com/?x=1", False),
        ("files.example.com", False),
    ],
)
def test_the_public_base_url_is_an_https_origin_or_path(url: str, ok: bool) -> None:
    if ok:
        assert ShareSettings(public_base_url=url).public_base_url == url.rstrip("/")
    else:
        with pytest.raises(ValidationError):
            ShareSettings(public_base_url=url)


def test_the_url_a_link_hands_out_lives_at_most_60_seconds() -> None:
    with pytest.raises(ValidationError):
        ShareSettings(url_expiry=61)


@pytest.mark.parametrize(
    ("source", "client"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("not an address", "not an address"),
        ("", "unknown"),
    ],
)
def test_a_client_is_an_ipv4_address_or_an_ipv6_64(source: str, client: str) -> None:
    assert client_key(source) == client


def test_a_store_that_is_down_is_503_and_audited_as_unavailable() -> None:
    from datetime import UTC, datetime

    from presign.shares.links import AuditEvent
    from presign.shares.service import Shares

    class Down:
        def get(self, handle: str) -> None:
            raise errors.DependencyUnavailable("the shares table is unreachable", retry_after=2)

    class NoLimits:
        def access(self, client: str) -> None:
            return None

        def password(self, client: str, handle: str) -> None:
            return None

    events: list[AuditEvent] = []
    shares = Shares(Down(), ShareSettings(), clock=lambda: datetime.now(UTC), audit=events.append)  # type: ignore[arg-type]
    with pytest.raises(errors.DependencyUnavailable):
        shares.open(
            new_share_id(),
            password=None,
            client="192.0.2.1",
            limits=NoLimits(),
            objects=lambda _: None,  # type: ignore[arg-type,return-value]
            signer=lambda _: None,  # type: ignore[arg-type,return-value]
        )
    assert [(e.action, e.outcome) for e in events] == [("open", "unavailable")], events
