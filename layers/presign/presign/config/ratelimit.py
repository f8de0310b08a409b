"""Rate-limit configuration: a ``Limit`` per action, per-target overrides, an optional byte quota.

A ``Limit`` means exactly this (the limiter is GCRA, see ``presign.ratelimit.gcra``):

* ``rate`` units per ``period`` seconds is the sustained rate: one unit every
  ``period / rate`` seconds (the *emission interval*).
* ``burst`` is the bucket's capacity: the most units a caller who has been idle for a while can
  spend at one instant. It is at least 1, and a single request may never cost more than it.
* The bound, checked by ``tests/unit/test_gcra.py``: in any closed window ``[t, t + period]``
  the limiter admits at most ``burst + rate`` units (at most ``burst + rate - 1`` in a half-open
  window of one period). A fixed window, by contrast, admits ``2 * limit`` across its boundary.

The defaults suit a production service with interactive clients (a person picking files, a
gallery loading thumbnails): they stop a script from hammering, not a person from working.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Action = Literal[
    "upload",
    "download",
    "share",
    "share_access",
    "upload_complete",
    "upload_status",
    "upload_list",
    "upload_abort",
    "upload_parts",
    "share_password",
    "share_manage",
]
ACTIONS: tuple[Action, ...] = get_args(Action)
FailureMode = Literal["closed", "open"]

MAX_PERIOD_SECONDS = 7 * 86_400
# 10 TB a day: far beyond any sane quota, and keeps the per-byte interval at 8.6 ns or more,
# so rounding it to a whole picosecond costs at most 0.012 % of the quota.
MAX_UPLOAD_BYTES_PER_DAY = 10**13


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(_Model):
    """``rate`` units per ``period`` seconds sustained, at most ``burst`` at one instant."""

    rate: int = Field(gt=0, le=10**6)
    period: int = Field(gt=0, le=MAX_PERIOD_SECONDS, description="seconds")
    burst: int = Field(gt=0, le=10**6)


class ActionLimits(_Model):
    """One ``Limit`` per action. ``download`` and ``share_access`` count one unit per URL signed."""

    # One upload a second sustained, ten at once (a person dropping a folder of photos).
    upload: Limit = Limit(rate=60, period=60, burst=10)
    # Twenty URLs a second sustained, a thousand at once: one batch of the largest size a
    # request may carry (the configuration refuses a max_keys that no budget could ever admit).
    download: Limit = Limit(rate=1200, period=60, burst=1000)
    # One share every two seconds sustained, ten at once.
    share: Limit = Limit(rate=30, period=60, burst=10)
    # Public share links (presign.shares): visits per client address (an IPv6 /64), over all shares.
    share_access: Limit = Limit(rate=120, period=60, burst=30)
    # The upload lifecycle (presign.uploads): a completion or an abort per upload, as fast as
    # uploads; status polls and list pages somewhat more often.
    upload_complete: Limit = Limit(rate=60, period=60, burst=10)
    upload_status: Limit = Limit(rate=300, period=60, burst=30)
    upload_list: Limit = Limit(rate=120, period=60, burst=20)
    upload_abort: Limit = Limit(rate=60, period=60, burst=10)
    # Part URLs of multipart uploads, one unit per URL: a hundred a second sustained, and a
    # thousand at once (ten requests of the most one may ask for).
    upload_parts: Limit = Limit(rate=6000, period=60, burst=1000)
    # A share's password attempts, counted twice: per client address and per share. Argon2 makes
    # each one cost ~20 ms of CPU, and guessing must stay slow whoever guesses.
    share_password: Limit = Limit(rate=10, period=60, burst=5)
    # The owner's share routes other than creation: list, status, revoke.
    share_manage: Limit = Limit(rate=300, period=60, burst=30)

    def for_action(self, action: Action) -> Limit:
        limit: Limit = getattr(self, action)
        return limit


class RateLimitSettings(_Model):
    """The ``rate_limits`` section of the service configuration.

    ``per_target`` replaces an action's limit for one target (the others keep ``actions``).
    ``upload_bytes_per_day`` is a quota per user over all targets, counted from the declared size:
    it replenishes continuously (``quota`` bytes per 86 400 s, at most ``quota`` at once), so over
    any D days a user uploads at most ``quota * (1 + D)`` bytes.
    """

    # Off only on purpose (a local run without a table); a deployment sets the table and keeps it on.
    enabled: bool = True
    # The table's name normally comes from PRESIGN_RATE_LIMIT_TABLE (read by the wiring, not here).
    table_name: str | None = Field(default=None, min_length=3, max_length=255)
    failure_mode: FailureMode = "closed"
    actions: ActionLimits = Field(default_factory=ActionLimits)
    per_target: dict[str, dict[Action, Limit]] = Field(default_factory=dict)
    upload_bytes_per_day: int | None = Field(default=None, gt=0, le=MAX_UPLOAD_BYTES_PER_DAY)
    # The Retry-After a client is given when DynamoDB is down or throttling (fail closed).
    unavailable_retry_after: int = Field(default=2, ge=1, le=60)

    def limit_for(self, action: Action, target: str) -> Limit:
        override = self.per_target.get(target, {}).get(action)
        return override if override is not None else self.actions.for_action(action)

    def limits_for_action(self, action: Action) -> list[Limit]:
        """Every limit ``action`` can be under, whatever the target (for the item's TTL)."""
        found = [self.actions.for_action(action)]
        found += [by_action[action] for by_action in self.per_target.values() if action in by_action]
        return found
