"""The checks of one target, in the order a user meets them.

Every probe URL is made by the service's own signer with the service's own headers
(``presign.uploads.put_headers`` / ``post_form``, ``presign.downloads.response_overrides``,
``presign.multipart.parts.part_url``) and sent as plain HTTP (``presign.adapters.plain_http``), so
a PASS means a user's URL works, not that botocore can talk to the bucket. Probe objects live
under ``{static prefix}.presign-doctor/{random}/``: the literal start of the target's key prefix
(inside the function's IAM grants), then a segment no caller's namespace can hold (a claim value
never starts with a dot, ``presign.prefixes.SAFE_SEGMENT``). They are deleted whatever happens.

When the credentials check fails, every probe after it would fail for the same reason; they are
skipped (SKIP) so the fix stays the first thing read.

The run keeps to a time budget (``presign.doctor.budget``): no check starts when too little is
left, every request's timeout is capped by the time left, and a check whose request was cut short
by the budget is a SKIP marked ``stopped`` rather than a FAIL blaming the storage. Clean-up always
runs, in the time kept back for it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from presign.adapters.plain_http import TIMEOUT_SECONDS as HTTP_TIMEOUT
from presign.adapters.plain_http import HttpAnswer
from presign.adapters.s3_doctor import TIMEOUT_SECONDS as STORAGE_TIMEOUT
from presign.adapters.s3_doctor import StorageAnswer
from presign.clock import Clock
from presign.config import (
    EnvCredentials,
    RoleCredentials,
    SecretsManagerCredentials,
    SsmCredentials,
    Target,
)
from presign.contentdisposition import content_disposition
from presign.doctor import cors
from presign.doctor.budget import Budget
from presign.doctor.report import Finding, Status
from presign.doctor.skew import judge_skew
from presign.downloads import response_overrides
from presign.models import DownloadsRequest
from presign.multipart.parts import part_url
from presign.prefixes import PrefixTemplate
from presign.signing.sigv4 import S3Presigner
from presign.uploads import post_form, put_headers

DOCTOR_SEGMENT = ".presign-doctor"
OUT_OF_TIME = "not sent: the doctor's time budget ran out"
PROBE_EXPIRY = 600
PROBE_TYPE = "text/plain"
PROBE_META = {"presign-doctor": "probe"}
# The checks after clock and credentials, in order; each is TargetDoctor.check_<name>.
CHECKS = ("put", "get", "head", "post", "delete", "multipart", "cors", "lifecycle", "checksums")
# Lifecycle rules whose filter has tags never apply to incomplete uploads (they carry no tags).
LIFECYCLE_DAYS_EXAMPLE = 2


class Send(Protocol):
    def __call__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = ...,
        body: bytes | None = ...,
        timeout: float = ...,
    ) -> HttpAnswer: ...


class Inspector(Protocol):
    def checksum_settings(self) -> tuple[str, str]: ...
    def head_bucket(self) -> StorageAnswer: ...
    def get_object(self, key: str) -> StorageAnswer: ...
    def put_object(self, key: str, body: bytes) -> StorageAnswer: ...
    def cors(self) -> StorageAnswer: ...
    def lifecycle(self) -> StorageAnswer: ...
    def start_multipart(self, key: str, content_type: str) -> StorageAnswer: ...
    def list_parts(self, key: str, upload_id: str) -> StorageAnswer: ...
    def abort_multipart(self, key: str, upload_id: str) -> StorageAnswer: ...
    def delete(self, key: str) -> StorageAnswer: ...
    def sdk_default_put(self, key: str, body: bytes) -> StorageAnswer: ...
    def capped(self, seconds: float) -> Inspector: ...


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


def _sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _form_body(fields: Mapping[str, str], content: bytes, content_type: str) -> tuple[bytes, str]:
    """multipart/form-data as a browser sends a POST upload: the fields, then the file, last."""
    boundary = "presign-doctor-" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="probe.txt"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class TargetDoctor:
    """Runs the checks of one target; ``run`` answers one finding per check."""

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
    # What the provider's profile says boto3 must be told (presign.providers.Profile.sdk_checksums).
    sdk_checksums: str = "when_required"
    # The capability's name (presign.providers.Capabilities) -> why it is off, or None when it is on.
    provider_note: Callable[[str], str | None] = lambda _: None
    # Shared by every target of a run: the deadline is the run's, not each target's.
    budget: Budget = field(default_factory=Budget.unlimited)
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
        timeout = self.budget.timeout(HTTP_TIMEOUT)
        if timeout is None:
            return HttpAnswer(0, reason=OUT_OF_TIME)
        answer = self.send(method, url, headers=headers, body=body, timeout=timeout)
        if answer.status == 0 and timeout < HTTP_TIMEOUT:
            self.budget.cut = True  # no answer within what the budget allowed: not the storage's fault
        return answer

    def _storage(self, call: Callable[[Inspector], StorageAnswer]) -> StorageAnswer:
        """A bucket-level call, on a client whose timeouts fit in the time left."""
        timeout = self.budget.timeout(STORAGE_TIMEOUT)
        if timeout is None:
            return StorageAnswer(0, "OutOfTime", OUT_OF_TIME)
        capped = timeout < STORAGE_TIMEOUT
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

    # ------------------------------------------------------------------------------- checks

    def run(self) -> list[Finding]:
        try:
            findings = [self.run_check("clock"), self.run_check("credentials")]
            if findings[-1].status is Status.FAIL:
                skipped = "skipped: the credentials check failed"
                return findings + [self._finding(check, Status.SKIP, skipped) for check in CHECKS]
            findings += [self.run_check(check) for check in CHECKS]
        finally:
            self.clean_up()
        return findings

    def check_clock(self) -> Finding:
        bucket_url = self.presigner.object_url(self.target.bucket, "")
        answer = self._send("HEAD", bucket_url)
        if answer.status == 0:
            return self._fail(
                "clock",
                f"the storage endpoint did not answer ({answer.reason})",
                f"check targets.{self.name}.endpoint_url and that this machine can reach it",
            )
        return judge_skew(self.name, local=self.clock(), date_header=answer.headers.get("date"))

    def check_credentials(self) -> Finding:
        check, bucket = "credentials", self.target.bucket
        answer = self._storage(lambda i: i.head_bucket())
        if answer.ok:
            return self._finding(check, Status.PASS, f"HeadBucket {bucket}: the credentials reach the bucket")
        if answer.status == 0:
            return self._fail(
                check,
                f"HeadBucket {bucket}: {answer.brief()}",
                f"check targets.{self.name}.endpoint_url and that this machine can reach it",
            )
        region = answer.headers.get("x-amz-bucket-region")
        # AWS names the bucket's region on a 301 (or a 400 when the request was signed for another).
        moved = bool(region) and region != self.target.region
        if (
            moved
            or answer.status == 301
            or answer.code in ("PermanentRedirect", "AuthorizationHeaderMalformed")
        ):
            where = f"the bucket is in {region!r}" if region else "the bucket lives in another region"
            return self._fail(
                check,
                f"HeadBucket {bucket}: {answer.brief()}; {where}",
                f"set targets.{self.name}.region to {region!r}"
                if region
                else f"fix targets.{self.name}.region",
            )
        if answer.status == 404 or answer.code == "NoSuchBucket":
            return self._fail(
                check,
                f"HeadBucket {bucket}: no such bucket at this endpoint",
                f"create bucket {bucket!r}, or fix targets.{self.name}.bucket / endpoint_url / region",
            )
        # A HEAD answer has no body, so no error code: a PUT of a probe says more, and needs only
        # what the service needs (a GET of a missing key is AccessDenied without s3:ListBucket).
        diagnosis = self._storage(lambda i: i.put_object(self._key("credentials.txt"), b"presign doctor\n"))
        source = credential_source(self.target)
        code = diagnosis.code
        if diagnosis.ok:
            return self._finding(
                check,
                Status.WARN,
                f"HeadBucket {bucket} refused ({answer.brief()}) but the credentials can write objects: "
                "they lack s3:ListBucket, which presign does not need",
            )
        if code == "InvalidAccessKeyId":
            return self._fail(
                check,
                f"HeadBucket {bucket}: the endpoint does not know this access key id (InvalidAccessKeyId)",
                f"set an access key id the provider issued for this bucket in {source}",
            )
        if code == "SignatureDoesNotMatch":
            return self._fail(
                check,
                f"HeadBucket {bucket}: the secret does not match the access key (SignatureDoesNotMatch)",
                f"set the secret access key that belongs to this access key id in {source}; if it is "
                f"right, check targets.{self.name}.region ({self.target.region!r}) against the provider's",
            )
        if code == "RequestTimeTooSkewed":
            return self._fail(
                check,
                f"HeadBucket {bucket}: the server refuses this machine's time (RequestTimeTooSkewed)",
                "synchronise this machine's clock with NTP",
            )
        if code in ("AccessDenied", "AllAccessDisabled"):
            prefix = static_prefix(self.target.key_prefix)
            return self._fail(
                check,
                f"HeadBucket {bucket}: the credentials are valid but may not use this bucket (AccessDenied)",
                f"grant the credentials in {source} s3:PutObject, s3:GetObject and s3:DeleteObject on "
                f"{bucket}/{prefix}*",
            )
        return self._fail(
            check,
            f"HeadBucket {bucket}: {answer.brief()}; a GET says {diagnosis.brief()}",
            f"check the credentials in {source} and targets.{self.name}.endpoint_url / region",
        )

    # The probe object: PUT, then GET, HEAD and DELETE it.
    _probe_body = b"presign doctor probe\n"

    def check_put(self) -> Finding:
        body = self._probe_body
        self._probe_key = key = self._key("probe.txt")
        headers = put_headers(
            content_type=PROBE_TYPE,
            size=len(body),
            metadata=PROBE_META,
            checksum_sha256=_sha256_b64(body) if self.checksums else None,
            no_overwrite=self.target.upload.no_overwrite,
        )
        answer = self._send("PUT", self._url("PUT", key, headers=headers), headers=headers, body=body)
        signed = ", ".join(h for h in headers if h != "Content-Length")
        if answer.status != 200:
            fix = self._refusal_fix(answer)
            if answer.status == 501 or answer.code == "NotImplemented":
                fix = (
                    "the provider does not implement a header our PUT signs: turn off "
                    f"targets.{self.name}.upload.no_overwrite (If-None-Match) or checksum_sha256"
                )
            return self._fail("put", f"presigned PUT (signing {signed}): {answer.brief()}", fix)
        self._put_ok = True
        return self._finding("put", Status.PASS, f"presigned PUT stored {key} (signed {signed})")

    def check_get(self) -> Finding:
        if not self._put_ok:
            return self._finding("get", Status.SKIP, "skipped: no probe object (the PUT failed)")
        _, query = response_overrides(DownloadsRequest(keys=[self._probe_key]), self.target)
        query["response-content-disposition"] = content_disposition("attachment", "probe.txt")
        answer = self._send("GET", self._url("GET", self._probe_key, query=query))
        if answer.status != 200:
            return self._fail("get", f"presigned GET: {answer.brief()}", self._refusal_fix(answer))
        if answer.body != self._probe_body:
            return self._fail(
                "get",
                f"presigned GET answered {len(answer.body)} bytes, not the {len(self._probe_body)} stored",
                "check that nothing between here and the storage (a proxy, a CDN) rewrites bodies",
            )
        ignored = [
            header
            for param, header in (
                ("response-content-disposition", "content-disposition"),
                ("response-cache-control", "cache-control"),
            )
            if answer.headers.get(header) != query[param]
        ]
        if ignored:
            return self._fail(
                "get",
                f"presigned GET: the storage ignored the signed overrides of {', '.join(ignored)}",
                "use a provider that honours response-* overrides on presigned GETs: without them a "
                "download cannot be forced to save instead of render",
            )
        return self._finding("get", Status.PASS, "presigned GET read the probe back, with our overrides")

    def check_head(self) -> Finding:
        if not self._put_ok:
            return self._finding("head", Status.SKIP, "skipped: no probe object (the PUT failed)")
        answer = self._send("HEAD", self._url("HEAD", self._probe_key))
        if answer.status != 200:
            return self._fail("head", f"presigned HEAD: {answer.brief()}", self._refusal_fix(answer))
        length = answer.headers.get("content-length")
        meta = answer.headers.get("x-amz-meta-presign-doctor")
        if length != str(len(self._probe_body)) or not answer.headers.get("etag") or meta != "probe":
            return self._fail(
                "head",
                f"presigned HEAD: Content-Length {length}, ETag {answer.headers.get('etag')!r}, "
                f"metadata {meta!r} (expected {len(self._probe_body)}, an ETag, 'probe')",
                "the provider does not keep what a PUT stored: see its documentation on object metadata",
            )
        return self._finding("head", Status.PASS, "presigned HEAD: size, ETag and metadata as stored")

    def check_post(self) -> Finding:
        policy = self.target.upload
        if "POST" not in policy.methods:
            return self._finding(
                "post", Status.SKIP, f"POST uploads are off for this target (upload.methods {policy.methods})"
            )
        unsupported = self.provider_note("post_uploads")
        if unsupported:
            return self._finding("post", Status.SKIP, unsupported)
        key = self._key("post.txt")
        body = b"presign doctor POST probe\n"
        form, conditions = post_form(
            content_type=PROBE_TYPE,
            size=len(body),
            metadata=PROBE_META,
            cache_control=self.target.download.cache_control,
        )
        post = self.presigner.presign_post(
            self.target.bucket,
            key,
            now=self._now(),
            expires_in=PROBE_EXPIRY,
            fields=form,
            conditions=conditions,
        )
        payload, content_type = _form_body(post.fields, body, PROBE_TYPE)
        answer = self._send("POST", post.url, headers={"Content-Type": content_type}, body=payload)
        if answer.status not in (200, 201, 204):
            fix = self._refusal_fix(answer)
            if answer.status == 501 or answer.code == "NotImplemented":
                fix = f'the provider has no POST uploads: set targets.{self.name}.upload.methods to ["PUT"]'
            return self._fail("post", f"presigned POST form: {answer.brief()}", fix)
        stored = self._storage(lambda i: i.get_object(key))
        if not stored.ok:
            return self._fail(
                "post",
                f"presigned POST form answered {answer.status} but nothing was stored ({stored.brief()})",
                f'set targets.{self.name}.upload.methods to ["PUT"]: this provider does not store POST forms',
            )
        return self._finding("post", Status.PASS, f"presigned POST form stored {key} (HTTP {answer.status})")

    def check_delete(self) -> Finding:
        if not self._put_ok:
            return self._finding("delete", Status.SKIP, "skipped: no probe object (the PUT failed)")
        answer = self._send("DELETE", self._url("DELETE", self._probe_key))
        if answer.status not in (200, 204):
            return self._fail("delete", f"presigned DELETE: {answer.brief()}", self._refusal_fix(answer))
        after = self._send("HEAD", self._url("HEAD", self._probe_key))
        # 403 for a missing key when the credentials may not list the bucket (AWS S3).
        if after.status not in (403, 404):
            return self._fail(
                "delete",
                f"presigned DELETE answered {answer.status}, yet the probe is still there ({after.brief()})",
                "the provider acknowledged a delete it did not do: see its documentation on versioning",
            )
        return self._finding(
            "delete", Status.PASS, f"presigned DELETE removed the probe (HTTP {answer.status})"
        )

    def check_multipart(self) -> Finding:
        if not self.target.upload.multipart.enabled:
            return self._finding("multipart", Status.SKIP, "multipart uploads are off for this target")
        unsupported = self.provider_note("multipart")
        if unsupported:
            return self._finding("multipart", Status.SKIP, unsupported)
        key = self._key("multipart.bin")
        started = self._storage(lambda i: i.start_multipart(key, "application/octet-stream"))
        upload_id = str(started.data.get("UploadId", ""))
        if not started.ok or not upload_id:
            return self._fail(
                "multipart",
                f"CreateMultipartUpload: {started.brief()}",
                f"allow s3:PutObject on {self.target.bucket}/{static_prefix(self.target.key_prefix)}*, or "
                f"turn multipart off: targets.{self.name}.upload.multipart false",
            )
        self._uploads.append((key, upload_id))
        part = b"presign doctor part\n"
        url = part_url(
            self.presigner,
            self.target.bucket,
            key,
            storage_upload_id=upload_id,
            part_number=1,
            size=len(part),
            checksum_sha256=None,
            now=self._now(),
            expires_in=PROBE_EXPIRY,
        )
        sent = self._send("PUT", url, headers={"Content-Length": str(len(part))}, body=part)
        aborted = self._storage(lambda i: i.abort_multipart(key, upload_id))
        if sent.status != 200 or not sent.headers.get("etag"):
            return self._fail(
                "multipart",
                f"presigned UploadPart: {sent.brief()}, ETag {sent.headers.get('etag')!r}",
                self._refusal_fix(sent),
            )
        if not aborted.ok:
            return self._fail(
                "multipart",
                f"AbortMultipartUpload: {aborted.brief()}",
                f"allow s3:AbortMultipartUpload on {self.target.bucket}/{static_prefix(self.target.key_prefix)}*",
            )
        gone = self._storage(lambda i: i.list_parts(key, upload_id))
        if gone.ok:
            return self._fail(
                "multipart",
                "AbortMultipartUpload answered success, yet the upload still lists its parts",
                "the provider keeps aborted uploads: rely on the cleanup function and a lifecycle rule",
            )
        self._uploads.remove((key, upload_id))
        return self._finding(
            "multipart", Status.PASS, "CreateMultipartUpload, a presigned part PUT (ETag exposed), abort"
        )

    def cors_needs(self) -> cors.Needs:
        policy = self.target.upload
        return cors.needs_for(
            origins=self.origins,
            post="POST" in policy.methods and not self.provider_note("post_uploads"),
            checksums=self.checksums,
            no_overwrite=policy.no_overwrite,
        )

    def check_cors(self) -> Finding:
        needs = self.cors_needs()
        unsupported = self.provider_note("bucket_cors_api")
        if unsupported:
            return self.check_cors_live(needs, unsupported)
        answer = self._storage(lambda i: i.cors())
        fix = cors.apply_command(self.target.bucket, needs, self.target.endpoint_url)
        if answer.code == "NoSuchCORSConfiguration" or (answer.status == 404 and not answer.code):
            return self._fail("cors", "the bucket has no CORS rule: browsers cannot use our URLs", fix)
        if not answer.ok:
            return self._fail(
                "cors", f"GetBucketCors: {answer.brief()}", f"allow s3:GetBucketCors, or apply: {fix}"
            )
        rules = list(answer.data.get("CORSRules", []))
        if not needs.origins:
            named = cors.origins_in(rules)
            fitting = [o for o in named if not cors.problems(rules, cors.Needs(
                origins=(o,), methods=needs.methods, put_headers=needs.put_headers))]  # fmt: skip
            if not fitting:
                example = cors.Needs(
                    tuple(named[:1]) or (cors.EXAMPLE_ORIGIN,), needs.methods, needs.put_headers
                )
                missing = cors.problems(rules, example)
                return self._fail("cors", "; ".join(missing), fix)
            return self._finding(
                "cors",
                Status.WARN,
                f"the rule covers our methods, headers and ETag for {', '.join(fitting)}; no origins were "
                "given to check (--origin, or PRESIGN_ALLOWED_ORIGINS)",
            )
        missing = cors.problems(rules, needs)
        if missing:
            return self._fail("cors", "; ".join(missing), fix)
        return self._finding(
            "cors",
            Status.PASS,
            f"{', '.join(needs.origins)} may {'/'.join(needs.methods)} with "
            f"{', '.join(h if h != cors.META_SAMPLE else 'x-amz-meta-*' for h in needs.put_headers)}; "
            "ETag exposed",
        )

    def check_cors_live(self, needs: cors.Needs, unsupported: str) -> Finding:
        """Where no API tells the rule (MinIO's CORS is server-wide), ask as a browser does: a
        preflight per origin and method, and an actual GET whose answer must expose ETag."""
        rule = json.dumps(cors.suggested_rule(needs)["CORSRules"][0], separators=(",", ":"))
        fix = f"{unsupported}: configure CORS the provider's way to allow: {rule}"
        if not needs.origins:
            return self._finding(
                "cors", Status.WARN, f"{unsupported}; no origins given to ask about (--origin)", fix
            )
        body = b"presign doctor CORS probe\n"
        key = self._key("cors.txt")
        headers = put_headers(
            content_type=PROBE_TYPE, size=len(body), metadata={}, checksum_sha256=None, no_overwrite=False
        )
        stored = self._send("PUT", self._url("PUT", key, headers=headers), headers=headers, body=body)
        if stored.status != 200:
            return self._fail(
                "cors", f"the CORS probe could not be stored: {stored.brief()}", self._refusal_fix(stored)
            )
        refused: list[str] = []
        for origin in needs.origins:
            for method in needs.methods:
                asked = {"Origin": origin, "Access-Control-Request-Method": method}
                wanted = [
                    h if h != cors.META_SAMPLE else "x-amz-meta-presign-doctor" for h in needs.put_headers
                ]
                if method == "PUT":
                    asked["Access-Control-Request-Headers"] = ",".join(wanted)
                answer = self._send(
                    "OPTIONS", self.presigner.object_url(self.target.bucket, key), headers=asked
                )
                allowed_origin = answer.headers.get("access-control-allow-origin")
                allowed = {
                    h.strip().lower()
                    for h in answer.headers.get("access-control-allow-headers", "").split(",")
                }
                missing = (
                    [h for h in wanted if h not in allowed] if method == "PUT" and "*" not in allowed else []
                )
                if answer.status // 100 != 2 or allowed_origin not in (origin, "*"):
                    refused.append(f"the preflight of {method} from {origin} is refused ({answer.brief()})")
                elif missing:
                    refused.append(
                        f"the preflight of {method} from {origin} does not allow {', '.join(missing)}"
                    )
            got = self._send("GET", self._url("GET", key), headers={"Origin": origin})
            exposed = {
                h.strip().lower() for h in got.headers.get("access-control-expose-headers", "").split(",")
            }
            if got.status != 200 or got.headers.get("access-control-allow-origin") not in (origin, "*"):
                refused.append(f"a GET from {origin} is not allowed to read the answer ({got.brief()})")
            elif "etag" not in exposed:
                refused.append(f"a GET from {origin}: ETag is not exposed")
        if refused:
            return self._fail("cors", "; ".join(refused), fix)
        return self._finding(
            "cors",
            Status.PASS,
            "the provider's CORS cannot be read through the S3 API, so asked as a browser does: "
            f"{', '.join(needs.origins)} may "
            f"{'/'.join(needs.methods)} with our headers, ETag exposed",
        )

    def check_lifecycle(self) -> Finding:
        covers = "the cleanup function aborts stale multipart uploads it has records of"
        prefix = static_prefix(self.target.key_prefix)
        rule = {
            "Rules": [
                {
                    "ID": "presign-abort-incomplete-multipart",
                    "Status": "Enabled",
                    "Filter": {"Prefix": prefix},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": LIFECYCLE_DAYS_EXAMPLE},
                }
            ]
        }
        suggestion = json.dumps(rule, separators=(",", ":"))
        endpoint = f" --endpoint-url {self.target.endpoint_url}" if self.target.endpoint_url else ""
        unsupported = self.provider_note("lifecycle_abort_multipart")
        answer = self._storage(lambda i: i.lifecycle())
        if unsupported:
            # Whatever the bucket holds, the profile does not vouch that the storage acts on it.
            stored = " (the bucket holds lifecycle rules)" if answer.ok and answer.data.get("Rules") else ""
            return self._finding("lifecycle", Status.WARN, f"{unsupported}{stored}; {covers}")
        if answer.status in (501,) or answer.code == "NotImplemented":
            return self._finding(
                "lifecycle", Status.WARN, f"the provider has no lifecycle rules ({answer.brief()}); {covers}"
            )
        if answer.code == "NoSuchLifecycleConfiguration" or (answer.ok and not answer.data.get("Rules")):
            return self._finding(
                "lifecycle",
                Status.WARN,
                f"no lifecycle rule aborts incomplete multipart uploads; {covers}",
                f"for the storage to drop abandoned parts too: aws s3api put-bucket-lifecycle-configuration "
                f"--bucket {self.target.bucket}{endpoint} --lifecycle-configuration '{suggestion}'",
            )
        if not answer.ok:
            return self._finding(
                "lifecycle",
                Status.WARN,
                f"GetBucketLifecycleConfiguration: {answer.brief()}; {covers}",
                "allow s3:GetLifecycleConfiguration to let the doctor check the rule",
            )
        for found in answer.data.get("Rules", []):
            days = (found.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
            flt = found.get("Filter") or {}
            rule_prefix = flt.get("Prefix", found.get("Prefix", "")) if "And" not in flt else None
            if (
                found.get("Status") == "Enabled"
                and days is not None
                and rule_prefix is not None
                and "Tag" not in flt
                and prefix.startswith(rule_prefix)
            ):
                return self._finding(
                    "lifecycle",
                    Status.PASS,
                    f"rule {found.get('ID', '(no id)')!r} aborts incomplete multipart uploads after {days} "
                    f"day(s) under {rule_prefix or 'the whole bucket'!r}",
                )
        return self._finding(
            "lifecycle",
            Status.WARN,
            f"no enabled lifecycle rule aborts incomplete multipart uploads under {prefix!r}; {covers}",
            f"add this rule (keeping your others): {suggestion}",
        )

    def check_checksums(self) -> Finding:
        request, response = self.inspector.checksum_settings()
        wanted = self.sdk_checksums
        if (request, response) != (wanted, wanted):
            return self._fail(
                "checksums",
                f"presign's S3 client sends checksums {request!r} / validates {response!r}, where this "
                f"provider's profile wants {wanted!r}",
                "make presign.adapters.s3_control.make_client take request_checksum_calculation and "
                "response_checksum_validation from the provider profile (presign.providers)",
            )
        notes = [f"presign's S3 client computes checksums {wanted!r}"]
        if self.checksums:
            body = b"presign doctor checksum probe\n"
            key = self._key("checksum.txt")
            headers = put_headers(
                content_type=PROBE_TYPE,
                size=len(body),
                metadata={},
                checksum_sha256=_sha256_b64(b"other bytes"),
                no_overwrite=False,
            )
            answer = self._send("PUT", self._url("PUT", key, headers=headers), headers=headers, body=body)
            if answer.status == 200:
                return self._fail(
                    "checksums",
                    "the storage stored an object whose bytes do not match its signed x-amz-checksum-sha256",
                    "this provider ignores x-amz-checksum-sha256: clients' checksums are not verified; "
                    "refuse checksum_sha256 for this target (multipart part_checksums: upload.multipart."
                    "checksums false)",
                )
            if answer.status != 400:
                # Refused, but not for the checksum: whether it is verified stays unknown.
                return self._finding(
                    "checksums",
                    Status.WARN,
                    f"could not tell whether x-amz-checksum-sha256 is verified: a PUT with a wrong one "
                    f"was refused for another reason ({answer.brief()})",
                    self._refusal_fix(answer),
                )
            notes.append(f"a wrong x-amz-checksum-sha256 is refused ({answer.brief()})")
        unsupported = self.provider_note("checksum_sha256")
        if unsupported:
            notes.append(unsupported)
        default = self._storage(
            lambda i: i.sdk_default_put(self._key("sdk-default.txt"), b"presign doctor sdk probe\n")
        )
        if not default.ok and wanted == "when_supported":
            return self._fail(
                "checksums",
                f"{'; '.join(notes)}; but the storage refuses a PutObject with boto3's default checksums "
                f"({default.brief()})",
                f"this is not the provider its profile describes: set targets.{self.name}.provider to the "
                "right one (or 'generic'), whose client sends checksums only when required",
            )
        if not default.ok:
            notes.append(
                f"the storage refuses boto3's default checksums ({default.brief()}), which presign never "
                "sends; other SDK clients of this bucket need AWS_REQUEST_CHECKSUM_CALCULATION=when_required"
            )
        else:
            notes.append("boto3's default checksums are accepted too")
        return self._finding("checksums", Status.PASS, "; ".join(notes))

    def clean_up(self) -> None:
        """Abort what was started and delete every probe key (a missing key is fine), in the
        budget's reserve: each request is capped by the whole time left, never refused."""
        self.budget.cleaning = True
        try:
            for key, upload_id in self._uploads:
                self._storage(lambda i: i.abort_multipart(key, upload_id))  # noqa: B023 - called at once
            self._uploads.clear()
            for key in dict.fromkeys(self._keys):
                self._storage(lambda i: i.delete(key))  # noqa: B023 - called at once
        finally:
            self.budget.cleaning = False  # the next target's checks keep to the budget again
