"""The base of the doctor's checks of one target: what each probe shares.

Every probe URL is made by the service's own signer with the service's own headers
(``presign.uploads.issue.put_headers`` / ``post_form``, ``presign.downloads.service.response_overrides``,
``presign.uploads.multipart.urls.part_url``) and sent as plain HTTP (the ``Send`` port), so a PASS
means a user's URL works, not that botocore can talk to the bucket. Probe objects live under
``{static prefix}.presign-doctor/{random}/``: the literal start of the target's key prefix (inside
the function's IAM grants), then a segment no caller's namespace can hold (a claim value never
starts with a dot, ``presign.core.prefixes.SAFE_SEGMENT``). They are deleted whatever happens.

The run keeps to a time budget (``presign.doctor.budget``): no check starts when too little is
left, every request's timeout is capped by the time left, and a check whose request was cut short
by the budget is a SKIP marked ``stopped`` rather than a FAIL blaming the storage. Clean-up always
runs, in the time kept back for it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from presign.clock import Clock
from presign.config.secrets import EnvCredentials, RoleCredentials, SecretsManagerCredentials, SsmCredentials
from presign.config.target import Target
from presign.core.prefixes import PrefixTemplate
from presign.doctor.budget import TimeBudget
from presign.doctor.ports import (
    HTTP_TIMEOUT_SECONDS,
    STORAGE_TIMEOUT_SECONDS,
    HttpAnswer,
    Inspector,
    Send,
    StorageAnswer,
)
from presign.doctor.report import Finding, Status
from presign.signing.sigv4 import S3Presigner

DOCTOR_SEGMENT = ".presign-doctor"
OUT_OF_TIME = "not sent: the doctor's time budget ran out"
PROBE_EXPIRY = 600
PROBE_TYPE = "text/plain"
PROBE_META = {"presign-doctor": "probe"}


def static_prefix(key_prefix: str) -> str:
    """The literal segments before the first placeholder: ``users/`` of ``users/{sub}/``."""
    out = ""
    for segment in PrefixTemplate.parse(key_prefix).segments:
        if not isinstance(segment, str):
            break
        out += f"{segment}/"
    return out


def credential_source(target: Target) -> str:
    """Where the target's keys come from, for a fix line (names only, never values)."""
    source = target.credentials
    if isinstance(source, EnvCredentials):
        return f"the environment variables {source.access_key_id_var} / {source.secret_access_key_var}"
    if isinstance(source, SecretsManagerCredentials):
        return f"the Secrets Manager secret {source.secret_id}"
    if isinstance(source, SsmCredentials):
        return f"the SSM parameter {source.parameter}"
    assert isinstance(source, RoleCredentials)
    return "the role's credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE / the instance or function role)"


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass
class Probing:
    """One target's probes: the ports, the time budget, and what the probes left to clean up."""

    name: str
    target: Target
    presigner: S3Presigner
    inspector: Inspector
    send: Send
    clock: Clock
    origins: Sequence[str] = ()
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    # Whether probe PUTs sign x-amz-checksum-sha256, as a client asking for checksum_sha256 gets.
    checksums: bool = True
    # What the provider's profile says boto3 must be told (presign.config.providers.Profile.sdk_checksums).
    sdk_checksums: str = "when_required"
    # The capability's name (presign.config.providers.Capabilities) -> why it is off, or None when it is on.
    provider_note: Callable[[str], str | None] = lambda _: None
    # Shared by every target of a run: the deadline is the run's, not each target's.
    budget: TimeBudget = field(default_factory=TimeBudget.unlimited)
    # How long a bucket-level call of the inspector may wait, uncapped (``doctor.ports``).
    storage_timeout: float = STORAGE_TIMEOUT_SECONDS
    _keys: list[str] = field(default_factory=list, init=False)
    _uploads: list[tuple[str, str]] = field(default_factory=list, init=False)
    _probe_key: str = field(default="", init=False)
    _put_ok: bool = field(default=False, init=False)

    # ----------------------------------------------------------------------------- helpers

    def _key(self, leaf: str) -> str:
        key = f"{static_prefix(self.target.key_prefix)}{DOCTOR_SEGMENT}/{self.token}/{leaf}"
        self._keys.append(key)
        return key

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def _finding(self, check: str, status: Status, message: str, fix: str = "") -> Finding:
        return Finding(self.name, check, status, message, fix)

    def _fail(self, check: str, message: str, fix: str) -> Finding:
        return self._finding(check, Status.FAIL, message, fix)

    def _url(self, method: str, key: str, **kwargs: Any) -> str:
        return self.presigner.presign(
            method, self.target.bucket, key, now=self._now(), expires_in=PROBE_EXPIRY, **kwargs
        )

    def _refusal_fix(self, answer: HttpAnswer) -> str:
        code = answer.code
        if code == "SignatureDoesNotMatch":
            return (
                f"the storage computes another signature for our URL: check targets.{self.name}.region "
                f"({self.target.region!r}) and addressing_style ({self.target.addressing_style!r}) "
                "against the provider's documentation, and that no proxy rewrites the Host header"
            )
        if code == "RequestTimeTooSkewed" or "expired" in answer.message.lower():
            return (
                f"the storage finds the URL expired though it was signed for {PROBE_EXPIRY} s: this "
                "machine's clock is off from the server's (see the clock check; synchronise it with NTP), "
                "or the provider allows shorter-lived URLs than the target's expiry settings"
            )
        if code in ("AccessDenied", "AllAccessDisabled"):
            prefix = static_prefix(self.target.key_prefix)
            return (
                f"let the signing credentials ({credential_source(self.target)}) put, get and delete "
                f"objects under {self.target.bucket}/{prefix}* (s3:PutObject, s3:GetObject, s3:DeleteObject)"
            )
        if answer.status == 0:
            return f"make {self.target.endpoint_url or 'the AWS S3 endpoint'} reachable from here"
        return "see the provider's documentation for this error; the line above is its answer"

    def _send(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> HttpAnswer:
        """A plain HTTP probe whose timeout never outlasts the budget."""
        timeout = self.budget.timeout(HTTP_TIMEOUT_SECONDS)
        if timeout is None:
            return HttpAnswer(0, reason=OUT_OF_TIME)
        answer = self.send(method, url, headers=headers, body=body, timeout=timeout)
        if answer.status == 0 and timeout < HTTP_TIMEOUT_SECONDS:
            self.budget.cut = True  # no answer within what the budget allowed: not the storage's fault
        return answer

    def _storage(self, call: Callable[[Inspector], StorageAnswer]) -> StorageAnswer:
        """A bucket-level call, on a client whose timeouts fit in the time left."""
        timeout = self.budget.timeout(self.storage_timeout)
        if timeout is None:
            return StorageAnswer(0, "OutOfTime", OUT_OF_TIME)
        capped = timeout < self.storage_timeout
        answer = call(self.inspector.capped(timeout) if capped else self.inspector)
        if answer.status == 0 and capped:
            self.budget.cut = True
        return answer

    def _stopped(self, check: str, when: str) -> Finding:
        message = f"skipped: the doctor's time budget ({self.budget.describe()}) ran out {when}"
        return Finding(self.name, check, Status.SKIP, message, stopped=True)

    def run_check(self, check: str) -> Finding:
        """One check if the budget allows it; one cut short by the budget says so (SKIP, stopped)."""
        if not self.budget.can_start_check():
            return self._stopped(check, "before this check")
        self.budget.cut = False
        finding = self._guarded(check)
        if self.budget.cut and finding.status is not Status.PASS:
            return self._stopped(check, "during this check")
        return finding

    def _guarded(self, check: str) -> Finding:
        """One check; a crash is its FAIL line (by type only: a message could carry a URL), so
        the other checks still run and the probes are still cleaned up."""
        try:
            finding: Finding = getattr(self, f"check_{check}")()
        except Exception as exc:  # noqa: BLE001 - reported, never swallowed silently
            return self._fail(
                check,
                f"the check itself failed ({type(exc).__name__})",
                "run it again; if it persists, report it with the provider and this line",
            )
        return finding
