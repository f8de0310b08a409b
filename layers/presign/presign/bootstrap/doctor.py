"""The doctor's ports: the targets' credentials as the functions resolve them, boto3 for the
bucket-level calls, and plain HTTP for the probes (``presign.doctor.ports``)."""

from __future__ import annotations

from collections.abc import Mapping

from presign.clock import Clock, system_clock
from presign.config.settings import Settings
from presign.config.target import Target
from presign.doctor.ports import Inspector
from presign.doctor.run import Doctor
from presign.signing.sigv4 import SigningCredentials


def build_doctor(settings: Settings, environ: Mapping[str, str], *, clock: Clock = system_clock) -> Doctor:
    from presign.adapters.credentials import resolve_credentials
    from presign.adapters.plain_http import send
    from presign.adapters.s3_doctor import TIMEOUT_SECONDS, BucketInspector

    def credentials(target: Target) -> SigningCredentials:
        return resolve_credentials(target.credentials, environ)

    def inspector(target: Target, signing: SigningCredentials) -> Inspector:
        return BucketInspector(target, signing)

    return Doctor(
        settings,
        credentials=credentials,
        inspectors=inspector,
        send=send,
        clock=clock,
        storage_timeout=TIMEOUT_SECONDS,
    )
