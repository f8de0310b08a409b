"""The ``upload_records`` section of the service configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DAY = 86_400


class UploadRecordSettings(BaseModel):
    """Where upload records live and how long they are kept.

    ``enabled`` is off only on purpose (a local run or a test without a table): then POST /uploads
    signs without writing a record, refuses an Idempotency-Key, and the lifecycle routes' function
    does not start. A deployment sets the table (``PRESIGN_UPLOADS_TABLE``) and keeps it on.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    # Normally from PRESIGN_UPLOADS_TABLE (read by the wiring, not here).
    table_name: str | None = Field(default=None, min_length=3, max_length=255)
    # A pending record outlives its URL by this much before DynamoDB's TTL may delete it, so the
    # cleanup job (which finds stale pending uploads through the table's pending index) has time
    # to delete an object that arrived but was never completed.
    pending_retention: int = Field(default=7 * DAY, ge=3600, le=365 * DAY, description="seconds")
    # Rejected, aborted, expired and deleted records: kept this long for their owner to see.
    closed_retention: int = Field(default=30 * DAY, ge=3600, le=3650 * DAY, description="seconds")
    # Completed records: kept as long as the object (None), or this many seconds.
    completed_retention: int | None = Field(default=None, ge=DAY, le=3650 * DAY, description="seconds")
    # Completion's HEAD is retried when it finds nothing: some S3-compatible stores are not
    # read-after-write consistent for HEAD. ``head_attempts`` HEADs, waiting ``head_retry_delay``
    # seconds before the second and twice as long before each later one.
    head_attempts: int = Field(default=3, ge=1, le=5)
    head_retry_delay: float = Field(default=0.15, ge=0, le=2)
