"""The ``shares`` section of the configuration, and each target's ``share`` policy."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from presign.limits import DAY

# OWASP's Password Storage Cheat Sheet, the minimum configuration for Argon2id:
# m = 19 MiB, t = 2, p = 1. Anything weaker stops the cold start.
ARGON2_MIN_MEMORY_KIB = 19 * 1024
ARGON2_MIN_TIME_COST = 2
# A link's presigned GET lives at most this long: it is handed to one visitor, now.
MAX_URL_EXPIRY = 60
_LOOPBACK = frozenset(("127.0.0.1", "localhost", "::1"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SharePolicy(_Model):
    """How long a target's share links may live (the link, not the URL it hands out)."""

    default_expiry: int = Field(default=7 * DAY, gt=0, le=365 * DAY, description="seconds")
    max_expiry: int = Field(default=30 * DAY, gt=0, le=365 * DAY, description="seconds")

    @model_validator(mode="after")
    def _pair(self) -> SharePolicy:
        if self.default_expiry > self.max_expiry:
            raise ValueError(
                f"default_expiry ({self.default_expiry}) is above max_expiry ({self.max_expiry})"
            )
        return self


class Argon2Parameters(_Model):
    """Argon2id's cost: memory in KiB, passes, lanes. Never below OWASP's minimum."""

    memory_kib: int = Field(default=ARGON2_MIN_MEMORY_KIB, ge=ARGON2_MIN_MEMORY_KIB, le=1024 * 1024)
    time_cost: int = Field(default=ARGON2_MIN_TIME_COST, ge=ARGON2_MIN_TIME_COST, le=10)
    parallelism: int = Field(default=1, ge=1, le=8)


class ShareSettings(_Model):
    """Share links (``presign.shares``). ``enabled: false`` only for a local run without a table."""

    enabled: bool = True
    # Normally from PRESIGN_SHARES_TABLE (read by the wiring, not here).
    table_name: str | None = Field(default=None, min_length=3, max_length=255)
    # Where the public links point: "https://files.example.com" makes
    # "https://files.example.com/s/{share_id}". Without it, the API's own host (as the request
    # reached it) is used.
    public_base_url: str | None = None
    # The presigned GET a link answers with: short, it is for the visitor being redirected now.
    url_expiry: int = Field(default=MAX_URL_EXPIRY, ge=5, le=MAX_URL_EXPIRY, description="seconds")
    password_min_length: int = Field(default=8, ge=4, le=64)
    password_max_length: int = Field(default=128, ge=8, le=1024)
    argon2: Argon2Parameters = Field(default_factory=Argon2Parameters)
    # After this many wrong passwords a share is locked for lockout_seconds (429, Retry-After).
    lockout_after: int = Field(default=10, ge=1, le=1000)
    lockout_seconds: int = Field(default=900, ge=1, le=DAY)
    # A share outlives its expiry (or revocation) this long, for its owner to see, before TTL.
    retention: int = Field(default=30 * DAY, ge=3600, le=3650 * DAY, description="seconds")

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an absolute https:// URL without query or fragment")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            raise ValueError("must use https (plain http only for 127.0.0.1 / localhost)")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _lengths(self) -> ShareSettings:
        if self.password_min_length > self.password_max_length:
            raise ValueError("password_min_length is above password_max_length")
        return self
