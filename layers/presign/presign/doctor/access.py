"""The checks every other one needs: this machine's clock against the storage's, and the
credentials reaching the bucket. When the credentials fail, every probe after them would fail for
the same reason; the run skips them (SKIP) so the fix stays the first thing read."""

from __future__ import annotations

from presign.doctor.probe import Probing, credential_source, static_prefix
from presign.doctor.report import Finding, Status
from presign.doctor.skew import judge_skew


class AccessChecks(Probing):
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
