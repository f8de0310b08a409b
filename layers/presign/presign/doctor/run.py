"""``Doctor``: every target of a configuration checked end to end, through its ports.

For each target, one finding per check (PASS / WARN / FAIL / SKIP, ``presign.doctor.report``),
with the fix for each failure: this machine's clock against the server's, the credentials, a
presigned PUT, GET, HEAD, POST form and DELETE of a probe object, a multipart create-part-abort,
the bucket's CORS rule, its lifecycle rule for abandoned multipart uploads, and the checksum
settings (``presign.doctor.checks``; ``docs/doctor.md`` says what each means and how to fix it).
One ``TimeBudget`` bounds the whole run, every target included.

The ports (where credentials come from, the bucket-level calls, plain HTTP) are handed over by
``presign.bootstrap.doctor``, for the ``python -m presign.doctor`` command and for the cleanup
function's ``{"doctor": true}`` invocation alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from presign.clock import Clock
from presign.config.providers import Profile, profile_of
from presign.config.settings import Settings
from presign.config.target import Target
from presign.doctor.budget import TimeBudget
from presign.doctor.checks import CHECKS, TargetDoctor
from presign.doctor.ports import STORAGE_TIMEOUT_SECONDS, Inspector, Send
from presign.doctor.probe import credential_source
from presign.doctor.report import Finding, Status, stopped_early
from presign.errors import PresignError
from presign.signing.sigv4 import S3Presigner, SigningCredentials

Credentials = Callable[[Target], SigningCredentials]  # raises PresignError when they cannot be read
Inspectors = Callable[[Target, SigningCredentials], Inspector]

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


def _presigner(target: Target, credentials: SigningCredentials) -> S3Presigner:
    return S3Presigner(
        credentials=credentials,
        region=target.region,
        endpoint_url=target.endpoint_url,
        addressing_style=target.addressing_style,
    )


class Doctor:
    def __init__(
        self,
        settings: Settings,
        *,
        credentials: Credentials,
        inspectors: Inspectors,
        send: Send,
        clock: Clock,
        storage_timeout: float = STORAGE_TIMEOUT_SECONDS,
    ) -> None:
        self.settings = settings
        self._credentials = credentials
        self._inspectors = inspectors
        self._send = send
        self._clock = clock
        self._storage_timeout = storage_timeout

    def check_target(
        self, name: str, target: Target, *, origins: Sequence[str] = (), budget: TimeBudget | None = None
    ) -> list[Finding]:
        budget = budget if budget is not None else TimeBudget.unlimited()
        profile = profile_of(target)
        try:
            credentials = self._credentials(target)
        except PresignError as exc:
            # The clock needs no credentials; everything else does.
            placeholder = SigningCredentials(access_key_id="-", secret_access_key="-")  # noqa: S106
            inspector = self._inspectors(target, placeholder)  # never called: only the clock is checked
            doctor = self._doctor(name, target, placeholder, inspector, budget=budget)
            failed = Finding(
                name,
                "credentials",
                Status.FAIL,
                f"cannot read the signing credentials: {exc.message}",
                f"make {credential_source(target)} available to this shell",
            )
            skipped = [Finding(name, c, Status.SKIP, "skipped: the credentials check failed") for c in CHECKS]
            return [doctor.run_check("clock"), failed, *skipped]
        doctor = self._doctor(
            name,
            target,
            credentials,
            self._inspectors(target, credentials),
            origins=tuple(origins),
            checksums=profile.capabilities.checksum_sha256,
            sdk_checksums=profile.sdk_checksums,
            provider_note=capability_notes(profile),
            budget=budget,
        )
        return doctor.run()

    def _doctor(
        self, name: str, target: Target, credentials: SigningCredentials, inspector: Inspector, **options: Any
    ) -> TargetDoctor:
        return TargetDoctor(
            name,
            target,
            _presigner(target, credentials),
            inspector,
            self._send,
            self._clock,
            storage_timeout=self._storage_timeout,
            **options,
        )

    def check(
        self, *, only: str | None = None, origins: Sequence[str] = (), budget: TimeBudget | None = None
    ) -> list[Finding]:
        """Every target's checks (``only``: one target's), under one deadline for them all."""
        budget = budget if budget is not None else TimeBudget.unlimited()
        findings: list[Finding] = []
        for name, target in self.settings.targets.items():
            if only is None or name == only:
                findings += self.check_target(name, target, origins=origins, budget=budget)
        return findings

    def answer(self, *, only: str | None, origins: Sequence[str], remaining_ms: int) -> dict[str, object]:
        """The checks inside a Lambda invocation, as its answer: the invocation's own time left
        bounds the run (less a margin for answering), so the probes' clean-up is never cut off."""
        budget = TimeBudget.from_remaining_ms(remaining_ms)
        return as_document(self.check(only=only, origins=origins, budget=budget))


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
