"""Webhook endpoints as configuration: where to send, which events, signed with which secrets.

One endpoint::

    {"id": "billing", "url": "https://hooks.example.com/presign",
     "events": ["upload.*", "share.revoked"],
     "secrets": [{"secret_id": "presign/webhooks/billing"},
                 {"secret_id": "presign/webhooks/billing", "version_stage": "AWSPREVIOUS"}],
     "enabled": true}

* ``url``: ``https`` only. Plain ``http`` is accepted for a loopback host (127.0.0.0/8,
  ``[::1]``, ``localhost``) and only when the caller validates with the dev flag
  (``parse_settings(..., allow_loopback=True)``: ``make dev`` and tests). No user name or
  password (they would be sent to the endpoint and logged by proxies), no fragment (never sent,
  so it hides nothing but confuses), no IP literal the sender would refuse anyway
  (``presign.webhooks.addresses``). The URL can hold a token of its own (many receivers work
  that way), so it is never logged or shown: its repr is hidden, and logs name the ``id``.
* ``events``: event types (``upload.completed``), a family (``upload.*``) or everything (``*``).
* ``secrets``: Secrets Manager references whose values are ``whsec_...``, newest first, at
  most two: while a secret rotates, every attempt carries a signature for each, so a receiver
  holding either one verifies (the Standard Webhooks rotation).
* ``enabled``: false keeps the endpoint configured but sends it nothing. The delivery side also
  disables an endpoint on its own (410, or days of failures: ``schedule.EndpointHealth``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from presign.webhooks.addresses import forbidden_reason

#: The validation context key that admits plain-http loopback URLs (dev and tests only).
ALLOW_LOOPBACK = "allow_loopback"
MAX_SECRETS = 2  # the current one and the one being rotated out
_PATTERN = re.compile(r"\*|[a-z][a-z0-9_]*\.(\*|[a-z][a-z0-9_]*)")
_SECRET_ID = re.compile(r"[A-Za-z0-9/_+=.@:\-]{1,2048}")
_VERSION_STAGE = re.compile(r"[A-Za-z0-9_\-]{1,256}")
_LOOPBACK_NAMES = frozenset({"localhost"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Model):
    """A Secrets Manager secret (name or ARN) whose value is a ``whsec_`` secret."""

    secret_id: str
    version_stage: str = "AWSCURRENT"

    @field_validator("secret_id")
    @classmethod
    def _secret_id(cls, value: str) -> str:
        if not _SECRET_ID.fullmatch(value):
            raise ValueError("must be a Secrets Manager secret name or ARN")
        return value

    @field_validator("version_stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        if not _VERSION_STAGE.fullmatch(value):
            raise ValueError("must be a version stage such as AWSCURRENT or AWSPREVIOUS")
        return value


class WebhookEndpoint(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]
    url: Annotated[str, Field(repr=False, max_length=2048)]
    events: Annotated[tuple[str, ...], Field(min_length=1, max_length=64)]
    secrets: Annotated[tuple[SecretRef, ...], Field(min_length=1, max_length=MAX_SECRETS)]
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, url: str, info: ValidationInfo) -> str:
        allow_loopback = bool((info.context or {}).get(ALLOW_LOOPBACK, False))
        check_url(url, allow_loopback=allow_loopback)
        return url

    @field_validator("events")
    @classmethod
    def _events(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            if not _PATTERN.fullmatch(pattern):
                raise ValueError(
                    f"{pattern[:64]!r} is not an event type ('upload.completed'), "
                    "a family ('upload.*') or '*'"
                )
        return patterns

    def wants(self, event_type: str) -> bool:
        return self.enabled and any(matches(pattern, event_type) for pattern in self.events)


def matches(pattern: str, event_type: str) -> bool:
    if pattern == "*" or pattern == event_type:
        return True
    return pattern.endswith(".*") and event_type.startswith(pattern[:-1])


def check_url(url: str, *, allow_loopback: bool = False, judge_host: bool = True) -> None:
    """Raise ``ValueError`` (a message without the URL) unless a delivery may go to ``url``.

    ``judge_host=False`` leaves the host's addresses to the caller: the sender judges every
    address a name resolves to, IP literals included, and says which rule refused it."""
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError("must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError("must be an absolute URL with a valid host and port") from exc
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError("must be an absolute https:// URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("must not carry a user name or password")
    if parts.fragment or url.endswith("#"):
        raise ValueError("must not have a fragment")
    if port == 0:
        raise ValueError("must not name port 0")
    loopback = is_loopback_host(host)
    if parts.scheme == "http" and not (allow_loopback and loopback):
        raise ValueError("must use https (plain http only for a loopback receiver in make dev)")
    if not judge_host:
        return
    if loopback and not allow_loopback:
        raise ValueError("must not point at this machine (loopback is for make dev only)")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return
    reason = forbidden_reason(literal, allow_loopback=allow_loopback)
    if reason is not None:
        raise ValueError(f"must not point at a {reason.replace('_', '-')} address")


def is_loopback_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSettings(_Model):
    """The ``webhooks`` section of the settings: the endpoints, each ``id`` once."""

    endpoints: tuple[WebhookEndpoint, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> WebhookSettings:
        ids = [endpoint.id for endpoint in self.endpoints]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"webhook endpoint ids must be unique: {', '.join(duplicates)}")
        return self


def parse_settings(data: Any, *, allow_loopback: bool = False) -> WebhookSettings:
    """Validate the ``webhooks`` section. Raises pydantic's ``ValidationError`` (the settings
    loader turns it into a ``ConfigurationError``); ``allow_loopback`` is the dev flag."""
    return WebhookSettings.model_validate(data, context={ALLOW_LOOPBACK: allow_loopback})


def endpoints_for(event_type: str, endpoints: Sequence[WebhookEndpoint]) -> list[WebhookEndpoint]:
    """The fan-out: every enabled endpoint that wants ``event_type``, in configuration order."""
    return [endpoint for endpoint in endpoints if endpoint.wants(event_type)]
