"""This machine's clock against the storage server's ``Date`` header.

SigV4 puts the signing time in every URL; a server refuses one signed more than 15 minutes from
its own clock (``RequestTimeTooSkewed``), and a URL signed by a slow clock dies early. A minute
is already worth fixing (WARN); beyond five the margin left for expiry and travel is thin (FAIL).
The ``Date`` header has one-second resolution, well inside both limits.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from presign.doctor.report import Finding, Status

WARN_SECONDS = 60
FAIL_SECONDS = 300
FIX = (
    "synchronise this machine's clock with NTP (e.g. `timedatectl set-ntp true`, or chrony); "
    "presigned URLs carry the signer's time"
)


def server_time(date_header: str | None) -> datetime | None:
    if not date_header:
        return None
    try:
        parsed = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def judge_skew(target: str, *, local: datetime, date_header: str | None) -> Finding:
    server = server_time(date_header)
    if server is None:
        return Finding(target, "clock", Status.WARN, "the storage answered without a usable Date header")
    skew = (local - server).total_seconds()
    direction = "ahead of" if skew > 0 else "behind"
    text = f"this machine is {abs(skew):.0f} s {direction} the storage server's clock"
    if abs(skew) > FAIL_SECONDS:
        return Finding(target, "clock", Status.FAIL, f"{text} (more than {FAIL_SECONDS} s)", FIX)
    if abs(skew) > WARN_SECONDS:
        return Finding(target, "clock", Status.WARN, f"{text} (more than {WARN_SECONDS} s)", FIX)
    return Finding(target, "clock", Status.PASS, f"{text} (within {WARN_SECONDS} s)")
