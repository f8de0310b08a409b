"""How long a URL may live: the policy's default and maximum, SigV4's seven days, and the signing
credentials' own expiry (a URL signed with temporary credentials dies with them)."""

from __future__ import annotations

from datetime import datetime

from presign.errors import DependencyUnavailable
from presign.limits import MAX_PRESIGN_EXPIRY

# Leave the client a moment of slack before temporary credentials lapse.
CREDENTIAL_SAFETY_MARGIN = 60


def choose_expiry(
    requested: int | None,
    *,
    default: int,
    maximum: int,
    now: datetime,
    credentials_expire_at: datetime | None,
) -> int:
    """Seconds the URL will be valid: requested (or default), never above any cap. Never silent:
    the caller reports the result as ``expires_in`` / ``expires_at``."""
    seconds = min(requested or default, maximum, MAX_PRESIGN_EXPIRY)
    if credentials_expire_at is not None:
        remaining = int((credentials_expire_at - now).total_seconds()) - CREDENTIAL_SAFETY_MARGIN
        if remaining <= 0:
            raise DependencyUnavailable("signing credentials are about to expire; retry shortly")
        seconds = min(seconds, remaining)
    return max(1, seconds)
