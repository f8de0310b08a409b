"""``python -m presign.doctor``: check every target of a configuration end to end.

For each target, one line per check (PASS / WARN / FAIL / SKIP, ``presign.doctor.report``), with
the fix for each failure: this machine's clock against the server's, the credentials, a presigned
PUT, GET, HEAD, POST form and DELETE of a probe object, a multipart create-part-abort, the bucket's
CORS rule, its lifecycle rule for abandoned multipart uploads, and the checksum settings.
``presign.doctor.checks`` has the checks; ``docs/doctor.md`` what each means and how to fix it.
One ``presign.doctor.budget.Budget`` bounds the whole run, every target included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from presign.adapters.credentials import resolve_credentials
from presign.adapters.plain_http import send as plain_send
from presign.adapters.s3_doctor import BucketInspector
from presign.clock import Clock, system_clock
from presign.config import Settings, Target
from presign.doctor.budget import Budget
from presign.doctor.checks import CHECKS, Send, TargetDoctor, credential_source
from presign.doctor.report import Finding, Status, stopped_early
from presign.errors import PresignError
from presign.providers import Profile, profile_of
from presign.signing.sigv4 import S3Presigner, SigningCredentials

__all__ = ["Budget", "Finding", "Status", "as_document", "check_settings", "check_target"]


def _presigner(target: Target, credentials: SigningCredentials) -> S3Presigner:
    return S3Presigner(
        credentials=credentials,
        region=target.region,
        endpoint_url=target.endpoint_url,
        addressing_style=target.addressing_style,
    )


# Capabilities a check may find off, as a reader names them.
_CAPABILITY = {
    "post_uploads": "POST form uploads",
    "multipart": "multipart uploads",
    "checksum_sha256": "x-amz-checksum-sha256",
    "lifecycle_abort_multipart": "a lifecycle rule aborting incomplete multipart uploads",
    "bucket_cors_api": "setting CORS through the S3 API (GetBucketCors / PutBucketCors)",
}


def capability_notes(profile: Profile) -> Callable[[str], str | None]:
    def note(capability: str) -> str | None:
        if getattr(profile.capabilities, capability):
            return None
        return f"{_CAPABILITY.get(capability, capability)}: unsupported by {profile.title} ({profile.docs})"

    return note


def check_target(
    name: str,
    target: Target,
    *,
    environ: Mapping[str, str],
    clock: Clock = system_clock,
    origins: Sequence[str] = (),
    send: Send = plain_send,
    budget: Budget | None = None,
) -> list[Finding]:
    budget = budget if budget is not None else Budget.unlimited()
    profile = profile_of(target)
    try:
        credentials = resolve_credentials(target.credentials, environ)
    except PresignError as exc:
        # The clock needs no credentials; everything else does.
        placeholder = SigningCredentials(access_key_id="-", secret_access_key="-")  # noqa: S106
        inspector = BucketInspector(target, placeholder)  # never called: only the clock is checked
        doctor = TargetDoctor(
            name, target, _presigner(target, placeholder), inspector, send, clock, budget=budget
        )
        failed = Finding(
            name,
            "credentials",
            Status.FAIL,
            f"cannot read the signing credentials: {exc.message}",
            f"make {credential_source(target)} available to this shell",
        )
        skipped = [Finding(name, c, Status.SKIP, "skipped: the credentials check failed") for c in CHECKS]
        return [doctor.run_check("clock"), failed, *skipped]
    doctor = TargetDoctor(
        name,
        target,
        _presigner(target, credentials),
        BucketInspector(target, credentials),
        send,
        clock,
        origins=tuple(origins),
        checksums=profile.capabilities.checksum_sha256,
        sdk_checksums=profile.sdk_checksums,
        provider_note=capability_notes(profile),
        budget=budget,
    )
    return doctor.run()


def check_settings(
    settings: Settings,
    *,
    environ: Mapping[str, str],
    only: str | None = None,
    clock: Clock = system_clock,
    origins: Sequence[str] = (),
    send: Send = plain_send,
    budget: Budget | None = None,
) -> list[Finding]:
    budget = budget if budget is not None else Budget.unlimited()  # one deadline for all targets
    findings: list[Finding] = []
    for name, target in settings.targets.items():
        if only is None or name == only:
            findings += check_target(
                name, target, environ=environ, clock=clock, origins=origins, send=send, budget=budget
            )
    return findings


def as_document(findings: Sequence[Finding]) -> dict[str, object]:
    """The findings as JSON, for a function invoked with ``{"doctor": true}`` to return; a run the
    time budget cut short is not ``ok`` (``stopped_early``), since its skipped checks proved nothing."""
    counts = {status.value: sum(1 for f in findings if f.status is status) for status in Status}
    stopped = stopped_early(findings)
    return {
        "doctor": True,
        "ok": counts[Status.FAIL.value] == 0 and not stopped,
        "stopped_early": stopped,
        "counts": counts,
        "findings": [
            {
                "target": f.target,
                "check": f.check,
                "status": f.status.value,
                "message": f.message,
                "fix": f.fix,
                "stopped": f.stopped,
            }
            for f in findings
        ],
    }
