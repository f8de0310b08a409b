from datetime import UTC, datetime, timedelta

import pytest

from presign.core.expiry import CREDENTIAL_SAFETY_MARGIN, choose_expiry
from presign.core.mediatypes import is_allowed
from presign.errors import DependencyUnavailable

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_default_when_not_requested() -> None:
    assert choose_expiry(None, default=900, maximum=3600, now=NOW, credentials_expire_at=None) == 900


def test_capped_at_policy_maximum() -> None:
    assert choose_expiry(99_999, default=900, maximum=3600, now=NOW, credentials_expire_at=None) == 3600


def test_never_above_seven_days() -> None:
    assert choose_expiry(10**9, default=900, maximum=10**9, now=NOW, credentials_expire_at=None) == 604800


def test_capped_at_credentials_expiry() -> None:
    expires = NOW + timedelta(seconds=600)
    got = choose_expiry(3600, default=900, maximum=3600, now=NOW, credentials_expire_at=expires)
    assert got == 600 - CREDENTIAL_SAFETY_MARGIN


def test_credentials_about_to_expire_is_a_dependency_problem() -> None:
    with pytest.raises(DependencyUnavailable):
        choose_expiry(60, default=60, maximum=60, now=NOW, credentials_expire_at=NOW + timedelta(seconds=30))


@pytest.mark.parametrize(
    ("content_type", "patterns", "allowed"),
    [
        ("image/png", ["image/*"], True),
        ("IMAGE/PNG", ["image/*"], True),
        ("text/plain; charset=utf-8", ["text/plain"], True),
        ("text/html", ["text/plain", "image/*"], False),
        ("imagex/png", ["image/*"], False),
        ("application/pdf", ["*/*"], True),
        ("image", ["image/*"], False),
    ],
)
def test_content_type_patterns(content_type: str, patterns: list[str], allowed: bool) -> None:
    assert is_allowed(content_type, patterns) is allowed
