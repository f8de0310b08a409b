"""The ``cleanup`` section of the service configuration (all optional)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from presign.limits import DAY

HOUR = 3600


class CleanupSettings(BaseModel):
    """How long cleanup waits before it acts, how far back it looks, and when it stops.

    ``grace``: a pending upload is stale this long after its URL (a multipart one: its lifetime)
    expired. ``max_age``: a multipart upload the storage lists under the service's prefixes is an
    orphan, when no pending record claims it, once it is this old (the margin covers the moment
    between CreateMultipartUpload and the record's write). ``share_grace``: an expired, revoked or
    used-up share is removed this long after it stopped working (default: ``shares.retention``, the
    time owners see it in their list). ``lookback_days``: how many days of the indexes a run reads
    (older items are DynamoDB TTL's). ``time_margin``: a run stops this many seconds before the
    Lambda's timeout. ``concurrency``: items worked at once.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    grace: int = Field(default=HOUR, ge=0, le=30 * DAY, description="seconds")
    max_age: int = Field(default=2 * DAY, ge=HOUR, le=365 * DAY, description="seconds")
    share_grace: int | None = Field(default=None, ge=0, le=3650 * DAY, description="seconds")
    lookback_days: int = Field(default=10, ge=1, le=400)
    time_margin: float = Field(default=10.0, ge=0.5, le=600, description="seconds")
    # Items worked at once (each is a few calls, mostly waiting on the network). The storage's
    # client pool holds 10 connections (presign.adapters.s3_control): more would only queue.
    concurrency: int = Field(default=8, ge=1, le=10)
