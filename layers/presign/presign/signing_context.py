"""What the domain needs to sign for one target: a presigner, its credentials' expiry, a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from presign.clock import Clock
from presign.signing.sigv4 import S3Presigner


@dataclass(frozen=True, slots=True)
class SigningContext:
    presigner: S3Presigner
    credentials_expire_at: datetime | None
    clock: Clock

    def now(self) -> datetime:
        # SigV4 dates have one-second resolution; truncating here keeps expires_at exact.
        return self.clock().replace(microsecond=0)
