"""The probes of objects, as users' URLs make them: a presigned PUT, GET, HEAD, POST form and DELETE
of a probe object, and a multipart create, part PUT and abort."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from presign.core.contentdisposition import content_disposition
from presign.doctor.probe import PROBE_EXPIRY, PROBE_META, PROBE_TYPE, Probing, sha256_b64, static_prefix
from presign.doctor.report import Finding, Status
from presign.downloads.schemas import DownloadsRequest
from presign.downloads.service import response_overrides
from presign.uploads.issue import post_form, put_headers
from presign.uploads.multipart.urls import part_url


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


class ObjectChecks(Probing):
    # The probe object: PUT, then GET, HEAD and DELETE it.
    _probe_body = b"presign doctor probe\n"

    def check_put(self) -> Finding:
        body = self._probe_body
        self._probe_key = key = self._key("probe.txt")
        headers = put_headers(
            content_type=PROBE_TYPE,
            size=len(body),
            metadata=PROBE_META,
            checksum_sha256=sha256_b64(body) if self.checksums else None,
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
