"""Idempotency-Key: safe retries of ``POST /uploads`` and ``POST /uploads/{id}/complete``.

The rules (issue 8), and how they hold:

* **Scoped per caller.** A claim's key is ``i#<owner digest>#<sha256(key)>``: two callers sending
  one key touch two items. The key itself is never stored, only its digest.
* **Same key, same request: the same upload.** The claim names the upload id it was made for.
  A retry finds the claim, then the record, and signs again for that id and key (the same
  signing time as the first answer, so the same URL, valid until the same moment); a stored URL
  would be a stored credential.
* **Same key, another request: 422 ``idempotency_key_reused``.** The claim holds a fingerprint,
  SHA-256 over the route and the validated body (field order, whitespace and defaults do not
  count; the resolved target does).
* **Kept 24 hours** (the claim's TTL); after that the key is free again.
* **A retry never spends the rate limit twice.** The claim is one conditional write made after
  the request's own checks and *before* spending: of N concurrent requests with one key exactly
  one wins it and spends; the others spend nothing.
* **A replay costs what it does** (issue 17). It answers from the record and repeats no storage
  call (no HEAD, no ListParts, no CreateMultipartUpload). What it signs anew it pays for: a
  multipart upload's part URLs, one ``upload_parts`` unit each; a single upload's URL is the
  first answer's, signed again, and costs nothing. A ``/complete`` claim is released when its
  request fails, so a claim found by a replay is one that succeeded (answered from the completed
  record) or one still running (409); a retry after a failure does the work, and pays, again.

**Concurrent losers.** A loser whose winner has not written the record yet waits for it briefly
(a few reads, ``AWAIT_RECORD_DELAYS``) and then answers the same upload; if the record is still not
there, it answers 409 ``idempotency_in_progress`` with ``Retry-After: 1``, and the client retries.

**A winner that failed.** If the winner is refused (rate limit, a policy check made after the
claim) or fails (DynamoDB down), it deletes its claim on the way out, so the retry starts afresh.
If it died before it could (a Lambda timeout), the claim stays without a record; once it is
``STALE_CLAIM_SECONDS`` old, one retry takes it over with a conditional write and tries again,
under the same upload id (the record's own conditional write makes a duplicate impossible). Only
that retry can spend the rate limit a second time, and only because the first one may not have.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from presign.errors import InvalidRequest

WINDOW_SECONDS = 86_400
STALE_CLAIM_SECONDS = 30  # well past the functions' 6 s timeout
AWAIT_RECORD_DELAYS = (0.02, 0.05, 0.1, 0.2)
# Printable ASCII without spaces at the ends; UUIDs, ULIDs and most client libraries' keys fit.
_KEY = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,253}[\x21-\x7e]$|^[\x21-\x7e]$")


@dataclass(frozen=True, slots=True)
class Claim:
    """One caller's use of one key: for which request (``fingerprint``), which upload, and when."""

    owner: str
    key_digest: str
    fingerprint: str
    upload_id: str
    claimed_at: int


def key_digest(key: str) -> str:
    """The digest a key is stored under; raises ``InvalidRequest`` for a malformed header."""
    if not _KEY.match(key):
        raise InvalidRequest("Idempotency-Key must be 1-255 printable ASCII characters")
    return hashlib.sha256(key.encode()).hexdigest()


def fingerprint(route: str, body: Mapping[str, Any]) -> str:
    canonical = json.dumps({"route": route, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
