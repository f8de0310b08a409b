import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presign.auth.principal import Principal
from presign.core.keys import (
    MAX_FILENAME_BYTES,
    normalize_key,
    require_within,
    sanitize_filename,
    upload_key,
    user_prefix,
)
from presign.errors import AuthorizationError, InvalidRequest, UnsafeKey

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@given(st.text(max_size=600))
def test_sanitized_filename_is_always_one_safe_segment(name: str) -> None:
    # When
    safe = sanitize_filename(name)

    # Then
    assert safe and safe not in (".", "..")
    assert "/" not in safe and "\\" not in safe
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in safe)
    assert len(safe.encode()) <= MAX_FILENAME_BYTES
    assert unicodedata.normalize("NFC", safe) == safe


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("..", "file"),
        ("", "file"),
        ("a\x00b\r\nc.txt", "a_b_c.txt"),
        ("photo\u202egpj.exe", "photo_gpj.exe"),  # a right-to-left override cannot disguise the name
        ("zero\u200bwidth.png", "zero_width.png"),
        ("fullwidth\uff0fslash.txt", "fullwidth_slash.txt"),
        ("Cafe\u0301.txt", "Café.txt"),  # NFD in, NFC out
        ("  .hidden  ", "hidden"),
    ],
)
def test_sanitize_filename_examples(given: str, expected: str) -> None:
    assert sanitize_filename(given) == expected


def test_long_filename_keeps_its_extension() -> None:
    name = sanitize_filename("ü" * 300 + ".jpeg")
    assert name.endswith(".jpeg")
    assert len(name.encode()) <= MAX_FILENAME_BYTES


def test_upload_key_layout() -> None:
    key = upload_key("users/alice/", upload_id="abc123", filename="My Photo.png", now=NOW)
    assert key == "users/alice/2026/11/22/abc123/My Photo.png"


def test_upload_key_over_1024_bytes_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        upload_key("p/" * 500 + "users/alice/", upload_id="x" * 40, filename="a.txt", now=NOW)


def test_user_prefix_from_claims() -> None:
    principal = Principal(sub="auth0|u1", claims={"tenant": "acme"})
    assert user_prefix("tenants/{tenant}/users/{sub}/", principal) == "tenants/acme/users/auth0|u1/"


@pytest.mark.parametrize("sub", ["alice/x", "..", ".", "", "a\x00", "a\\b", None, "-x", "é"])
def test_user_prefix_refuses_unsafe_claims(sub: object) -> None:
    # A sub such as "alice/x" would otherwise land inside alice's namespace.
    with pytest.raises(AuthorizationError):
        user_prefix("users/{sub}/", Principal(sub=sub))  # type: ignore[arg-type]


def test_user_prefix_refuses_a_missing_claim() -> None:
    with pytest.raises(AuthorizationError):
        user_prefix("tenants/{tenant}/users/{sub}/", Principal(sub="u1"))


@pytest.mark.parametrize(
    "key",
    [
        "users/alice/../bob/secret.txt",
        "users/alice/./x",
        "/users/alice/x",
        "users//alice/x",
        "users/alice/a\x00b",
        "users/alice/a\nb",
        "users/alice/a\\b",
        "",
    ],
)
def test_normalize_key_refuses_ambiguous_keys(key: str) -> None:
    with pytest.raises(InvalidRequest):
        normalize_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "users/alice/\u202ex",  # a bidi override
        "users/alice/a\u200bb",  # zero-width space
        "users/alice/\ue000",  # private use
        "users/alice/\U000e0001",  # a language tag
        "users/alice/a\u2028b",  # line separator
        "users/alice/" + "a" * 1100,
    ],
)
def test_keys_of_the_published_shape_that_cannot_be_signed_are_unsafe_not_malformed(key: str) -> None:
    # 422: the published pattern accepts these; the finer rules no pattern can state refuse them.
    with pytest.raises(UnsafeKey):
        normalize_key(key)


def test_normalize_key_applies_nfc() -> None:
    assert normalize_key("users/alice/Cafe\u0301.txt") == "users/alice/Café.txt"


def test_1024_utf8_bytes_is_the_limit() -> None:
    prefix = "users/alice/"
    assert normalize_key(prefix + "a" * (1024 - len(prefix)))
    with pytest.raises(UnsafeKey):
        normalize_key(prefix + "é" * 507)  # 1014 + 12 bytes


@pytest.mark.parametrize(
    "key", ["users/bob/x.txt", "users/alice", "users/alice/", "users/alicex/y", "users/ALICE/x"]
)
def test_require_within_refuses_other_namespaces(key: str) -> None:
    with pytest.raises(AuthorizationError):
        require_within(key, "users/alice/")


def test_require_within_accepts_own_keys() -> None:
    require_within("users/alice/2026/x.txt", "users/alice/")
