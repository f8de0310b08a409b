"""The bucket's own settings: its CORS rule (read through the API, or asked as a browser asks), its
lifecycle rule for abandoned multipart uploads, and the checksums the storage verifies."""

from __future__ import annotations

import json

from presign.doctor import cors
from presign.doctor.probe import PROBE_TYPE, Probing, sha256_b64, static_prefix
from presign.doctor.report import Finding, Status
from presign.uploads.issue import put_headers

# Lifecycle rules whose filter has tags never apply to incomplete uploads (they carry no tags).
LIFECYCLE_DAYS_EXAMPLE = 2


class BucketChecks(Probing):
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
                "response_checksum_validation from the provider profile (presign.config.providers)",
            )
        notes = [f"presign's S3 client computes checksums {wanted!r}"]
        if self.checksums:
            body = b"presign doctor checksum probe\n"
            key = self._key("checksum.txt")
            headers = put_headers(
                content_type=PROBE_TYPE,
                size=len(body),
                metadata={},
                checksum_sha256=sha256_b64(b"other bytes"),
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
