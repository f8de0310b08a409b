"""What the domain needs to sign for one target: a presigner, its credentials' expiry, a clock,
and for downloads through a CDN, the CloudFront signer that replaces the presigner's GETs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from presign.clock import Clock
from presign.signing.sigv4 import S3Presigner

if TYPE_CHECKING:  # only a target with a CDN loads it (presign.bootstrap.runtime)
    from presign.signing.cloudfront import CloudFrontSigner


@dataclass(frozen=True, slots=True)
class SigningContext:
    presigner: S3Presigner
    credentials_expire_at: datetime | None
    clock: Clock
    # Set for the download and share URLs of a target with a CDN (presign.config.CdnSettings).
    cdn: CloudFrontSigner | None = None

    def now(self) -> datetime:
        # SigV4 dates have one-second resolution; truncating here keeps expires_at exact.
        return self.clock().replace(microsecond=0)

    def presign_get(
        self, bucket: str, key: str, *, now: datetime, expires_in: int, query: Mapping[str, str]
    ) -> str:
        """A GET of ``key`` valid for ``expires_in`` seconds from ``now``: through the CDN when the
        target has one (its own URL and signature, never a SigV4 URL with another host), else from
        the storage endpoint."""
        if self.cdn is not None:
            return self.cdn.presign_get(key, expires=int(now.timestamp()) + expires_in, query=query)
        return self.presigner.presign("GET", bucket, key, now=now, expires_in=expires_in, query=query)

    def download_origin(self, bucket: str) -> str:
        """scheme://host[:port] of the GET URLs: where a share's password form may redirect."""
        if self.cdn is not None:
            return self.cdn.origin
        url = self.presigner.object_url(bucket, "x")
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
