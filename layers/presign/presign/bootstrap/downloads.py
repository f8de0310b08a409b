"""The downloads route's service: the targets' GET signers (through a CDN where one is configured)."""

from __future__ import annotations

from presign.bootstrap.runtime import Runtime
from presign.downloads.service import Downloads


def build_downloads(runtime: Runtime) -> Downloads:
    return Downloads(runtime)
