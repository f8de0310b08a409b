"""Standard Webhooks signatures: the body, the ``webhook-*`` headers and ``whsec_`` secrets.

The scheme (spec ``standard-webhooks.md``; the ``standardwebhooks`` library is the oracle in
``tests/unit/test_webhook_signing.py``)::

    webhook-id:        the event's stable id (the same on every attempt and replay)
    webhook-timestamp: the attempt's time, integer Unix seconds
    webhook-signature: "v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.".encode() + body)>"
                       once per active secret, space-separated (rotation: old and new at once)

with ``key = base64decode(secret without "whsec_")``. The body is ``{"type", "timestamp",
"data"}`` (``timestamp`` is the event's time, not the attempt's), serialised **once** when the
event is fanned out to an endpoint's queue (``message_body``); every attempt signs those same
bytes again at send time with a fresh ``webhook-timestamp`` (``signature_headers``), because
verifiers refuse a timestamp more than five minutes off and a retry may come a day later.

**Our own 40 lines, not the library, at runtime.** ``standardwebhooks`` 1.3.0 is small (157
lines, 44 KiB installed), has no dependencies and imports in about 30 ms with the standard
library it loads, as this module does, so neither size nor cold start decided it. These did:
(1) it would be a new package in the Lambda layer's hash-pinned lock for two calls to ``hmac``;
(2) its secret parsing is lenient: ``base64.b64decode`` without ``validate`` drops characters
outside the alphabet and it pads whatever is left, so a mistyped secret signs with another key
and every delivery fails verification, silently; here a secret that is not 24-64 bytes of
strict base64 stops the configuration (``ConfigurationError``); (3) it signs one secret per
``Webhook`` object and accepts any id, while a header must carry no ``.`` (the spec), space or
line break; (4) a prepared HMAC per secret (``hmac.copy()``) is a little faster:
``benchmarks/bench_webhooks.py`` measured 1.04-1.1x the library's rate with one secret and
1.2-1.4x with two. The library stays the judge: every test verifies our headers with it, and
the local receiver verifies with it too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from presign.clock import isoformat_z
from presign.errors import ConfigurationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
#: The spec's bounds for a secret's random bytes.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
#: What ``generate_secret`` makes: 32 random bytes, as Svix does.
GENERATED_SECRET_BYTES = 32
#: Visible ASCII without ``.`` (the spec's separator), 1-255 characters: safe in a header.
_MESSAGE_ID = re.compile(r"[!-\-/-~]{1,255}")


@dataclass(frozen=True, slots=True)
class SigningSecret:
    """One ``whsec_`` secret, decoded and ready to sign. Its repr never shows the key."""

    key: bytes = field(repr=False)
    _mac: hmac.HMAC = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not MIN_SECRET_BYTES <= len(self.key) <= MAX_SECRET_BYTES:
            raise ConfigurationError(
                f"a webhook secret must hold {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} random bytes"
            )
        # Keyed once: every signature then copies the prepared inner and outer hash states.
        object.__setattr__(self, "_mac", hmac.new(self.key, digestmod=hashlib.sha256))

    @classmethod
    def parse(cls, text: str) -> SigningSecret:
        """``whsec_<base64>``, strictly: anything else is a configuration error (never echoed)."""
        if not text.startswith(SECRET_PREFIX):
            raise ConfigurationError(f"a webhook secret must start with {SECRET_PREFIX!r}")
        try:
            key = base64.b64decode(text.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error as exc:
            raise ConfigurationError("a webhook secret must be whsec_ followed by base64") from exc
        return cls(key)

    def sign(self, to_sign: bytes) -> str:
        mac = self._mac.copy()
        mac.update(to_sign)
        return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def generate_secret(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A fresh ``whsec_`` secret (for ``make dev`` and for operators who need one)."""
    return SECRET_PREFIX + base64.b64encode(random_bytes(GENERATED_SECRET_BYTES)).decode("ascii")


def message_body(event_type: str, timestamp: datetime, data: Mapping[str, object]) -> bytes:
    """The body every attempt sends: compact ASCII JSON, made once per event and endpoint.

    ASCII (``\\u`` escapes) so that no hop can re-encode it: the signature covers these bytes.
    """
    document = {"type": event_type, "timestamp": isoformat_z(timestamp), "data": data}
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("ascii")


def signature_headers(
    message_id: str, body: bytes, signing_secrets: Sequence[SigningSecret], now: datetime
) -> dict[str, str]:
    """The three headers of one attempt, signed at ``now`` with every active secret."""
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("a webhook-id is 1-255 visible ASCII characters without '.'")
    if not signing_secrets:
        raise ConfigurationError("a webhook endpoint needs at least one signing secret")
    timestamp = str(int(now.timestamp()))  # floor for any moment after 1970, as the library does
    to_sign = f"{message_id}.{timestamp}.".encode("ascii") + body
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": " ".join(secret.sign(to_sign) for secret in signing_secrets),
    }
