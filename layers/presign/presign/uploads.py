"""Issuing upload URLs: policy checks, the server-made key, and the signed PUT or POST."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from presign.auth import Principal
from presign.clock import isoformat_z
from presign.config import Target
from presign.errors import PayloadTooLarge, Unprocessable, UnsupportedContentType
from presign.expiry import choose_expiry
from presign.keys import upload_key, user_prefix
from presign.mediatypes import is_allowed
from presign.models import CreateUploadRequest, CreateUploadResponse
from presign.signing_context import SigningContext

Spend = Callable[[CreateUploadRequest], None]


def create_upload(
    request: CreateUploadRequest,
    *,
    principal: Principal,
    target_name: str,
    target: Target,
    signing: SigningContext,
    upload_id: str,
    spend: Spend,
) -> CreateUploadResponse:
    """Check the request against the target's policy, spend the caller's budget, then sign.

    ``spend`` runs after every check and before any signing, so a refused or rate-limited
    request signs nothing.
    """
    policy = target.upload
    if request.multipart:
        raise Unprocessable("multipart uploads are not supported yet; send a single PUT or POST")
    if request.method not in policy.methods:
        raise Unprocessable(f"this target does not accept {request.method} uploads")
    if request.method == "POST" and request.checksum_sha256:
        # Refused rather than silently dropped: only a PUT binds the checksum into the signature.
        raise Unprocessable("checksum_sha256 is enforced for PUT uploads only; use method PUT")
    if request.method == "POST" and policy.no_overwrite:
        # A POST policy can be replayed until it expires; only a PUT can sign If-None-Match.
        raise Unprocessable("this target forbids overwrites, which only PUT uploads can enforce")
    if request.size > policy.max_size:
        raise PayloadTooLarge(f"size exceeds this target's maximum of {policy.max_size} bytes")
    if not is_allowed(request.content_type, policy.content_types):
        raise UnsupportedContentType("this content type is not accepted by this target")

    now = signing.now()
    prefix = user_prefix(target.key_prefix, principal)
    key = upload_key(prefix, upload_id=upload_id, filename=request.filename, now=now)
    expires_in = choose_expiry(
        request.expires_in,
        default=policy.default_expiry,
        maximum=policy.max_expiry,
        now=now,
        credentials_expire_at=signing.credentials_expire_at,
    )
    spend(request)

    metadata = {f"x-amz-meta-{name}": value for name, value in sorted(request.metadata.items())}
    headers: dict[str, str] = {}
    fields: dict[str, str] = {}
    if request.method == "PUT":
        headers = {"Content-Type": request.content_type, "Content-Length": str(request.size), **metadata}
        if request.checksum_sha256:
            headers["x-amz-checksum-sha256"] = request.checksum_sha256
        if policy.no_overwrite:
            headers["If-None-Match"] = "*"
        url = signing.presigner.presign(
            "PUT", target.bucket, key, now=now, expires_in=expires_in, headers=headers
        )
    else:
        # Defence in depth for readers other than our download URLs (which override both anyway):
        # the policy pins what the object is stored with. A PUT cannot pin them without making
        # every browser client send, and every bucket's CORS rule allow, two more headers.
        form = {
            "Content-Type": request.content_type,
            "Cache-Control": target.download.cache_control,
            "Content-Disposition": "attachment",
            **metadata,
        }
        conditions: list[dict[str, str] | list[str | int]] = [
            ["content-length-range", request.size, request.size],
            *({name: value} for name, value in form.items()),
        ]
        post = signing.presigner.presign_post(
            target.bucket, key, now=now, expires_in=expires_in, fields=form, conditions=conditions
        )
        url, fields = post.url, post.fields

    return CreateUploadResponse(
        upload_id=upload_id,
        key=key,
        target=target_name,
        method=request.method,
        url=url,
        headers=headers,
        fields=fields,
        expires_at=isoformat_z(now + timedelta(seconds=expires_in)),
        expires_in=expires_in,
    )
