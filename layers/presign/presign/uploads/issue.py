"""Issuing one upload's URLs: the policy checks, the server-made key, and the signed PUT, POST or
part PUTs. Pure: the caller's claims, the target, the signer and the clock come in; what the
storage must start (a multipart upload) and what the budget must spend are the caller's, through
``start_multipart`` and ``spend`` (``presign.uploads.grant`` passes them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from presign.clock import isoformat_z
from presign.config.capabilities import max_expiry, require
from presign.config.target import Target, UploadPolicy
from presign.core.expiry import choose_expiry
from presign.core.keys import Claims, upload_key, user_prefix
from presign.core.mediatypes import is_allowed
from presign.core.partplan import plan_parts
from presign.errors import MultipartUnsupported, PayloadTooLarge, Unprocessable, UnsupportedContentType
from presign.limits import MAX_PART_URLS_PER_REQUEST, MAX_SINGLE_PUT_BYTES
from presign.signing.context import SigningContext
from presign.uploads.multipart.urls import sign_parts
from presign.uploads.records import Multipart
from presign.uploads.schemas import CreateUploadRequest, CreateUploadResponse, MultipartGrant

Spend = Callable[[CreateUploadRequest], None]


@dataclass(frozen=True, slots=True)
class MultipartStart:
    """What CreateMultipartUpload binds for the whole object."""

    key: str
    content_type: str
    metadata: dict[str, str]
    checksums: bool


# Starts the multipart upload at the storage and answers the storage's upload id.
StartMultipart = Callable[[MultipartStart], str]


@dataclass(frozen=True, slots=True)
class Issued:
    """An issued upload: the answer, and for a multipart upload what only the record may hold."""

    response: CreateUploadResponse
    multipart: Multipart | None = None
    # Epoch seconds: when the URL dies, or for a multipart upload when its lifetime ends.
    expires_at: int = 0


def put_headers(
    *,
    content_type: str,
    size: int,
    metadata: Mapping[str, str],
    checksum_sha256: str | None,
    no_overwrite: bool,
) -> dict[str, str]:
    """Exactly the headers a single PUT signs, and so the client must send (``presign.doctor``
    sends the same ones, so that it tests what users get)."""
    headers = {"Content-Type": content_type, "Content-Length": str(size)}
    headers.update({f"x-amz-meta-{name}": value for name, value in sorted(metadata.items())})
    if checksum_sha256:
        headers["x-amz-checksum-sha256"] = checksum_sha256
    if no_overwrite:
        headers["If-None-Match"] = "*"
    return headers


PostConditions = list[dict[str, str] | list[str | int]]


def post_form(
    *, content_type: str, size: int, metadata: Mapping[str, str], cache_control: str
) -> tuple[dict[str, str], PostConditions]:
    """The fields a POST form carries and the policy conditions that pin them."""
    # Defence in depth for readers other than our download URLs (which override both anyway):
    # the policy pins what the object is stored with. A PUT cannot pin them without making
    # every browser client send, and every bucket's CORS rule allow, two more headers.
    form = {
        "Content-Type": content_type,
        "Cache-Control": cache_control,
        "Content-Disposition": "attachment",
        **{f"x-amz-meta-{name}": value for name, value in sorted(metadata.items())},
    }
    conditions: PostConditions = [
        ["content-length-range", size, size],
        *({name: value} for name, value in form.items()),
    ]
    return form, conditions


def goes_multipart(request: CreateUploadRequest, policy: UploadPolicy, target: Target | None = None) -> bool:
    """Whether this upload is made in parts; raises when it must be and cannot, or asks and cannot.

    With ``target``, its provider's capabilities are checked too (422 ``unsupported_by_provider``).
    """
    settings = policy.multipart
    if request.multipart is None:
        wanted = request.size > MAX_SINGLE_PUT_BYTES or (
            settings.enabled and request.method == "PUT" and request.size > settings.threshold
        )
    else:
        wanted = request.multipart
    if not wanted:
        if request.size > MAX_SINGLE_PUT_BYTES:
            raise MultipartUnsupported("one PUT or POST carries at most 5 GiB; larger files need multipart")
        if request.part_checksums:
            raise MultipartUnsupported("part_checksums are for multipart uploads; use checksum_sha256")
        return False
    if target is not None:
        require(target, "multipart")
    if not settings.enabled:
        raise MultipartUnsupported("this target does not accept multipart uploads")
    if request.method != "PUT":
        raise MultipartUnsupported(
            "a POST form cannot be sent in parts: use method PUT for multipart (or files up to 5 GiB by POST)"
        )
    if request.checksum_sha256:
        raise MultipartUnsupported(
            "a whole-file checksum_sha256 binds a single PUT; for multipart use part_checksums "
            "(or multipart: false, up to 5 GiB)"
        )
    if request.size == 0:
        raise MultipartUnsupported("an empty file has no parts; send it as a single PUT")
    if request.part_checksums and target is not None:
        require(target, "checksum_sha256")
    if request.part_checksums and not settings.checksums:
        raise MultipartUnsupported("this target's storage does not verify part checksums")
    return True


def create_upload(
    request: CreateUploadRequest,
    *,
    principal: Claims,
    target_name: str,
    target: Target,
    signing: SigningContext,
    upload_id: str,
    spend: Spend,
    start_multipart: StartMultipart | None = None,
) -> Issued:
    """Check the request against the target's policy, spend the caller's budget, then sign.

    ``spend`` runs after every check and before any signing (or storage call), so a refused or
    rate-limited request signs nothing and starts nothing. A multipart upload needs
    ``start_multipart`` (the records do: without them multipart is refused).
    """
    policy = target.upload
    # What the storage cannot do first (the configuration cannot have turned it on: cold start
    # refuses that), then what this target chose not to.
    if request.method == "POST":
        require(target, "post_uploads")
    if request.checksum_sha256:
        require(target, "checksum_sha256")
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
    multipart = goes_multipart(request, policy, target)
    if policy.no_overwrite and request.method == "PUT" and not multipart:
        require(target, "conditional_writes")  # a single PUT signs If-None-Match: *
    if multipart and start_multipart is None:
        raise MultipartUnsupported("multipart uploads need upload records, which this deployment turned off")

    now = signing.now()
    prefix = user_prefix(target.key_prefix, principal)
    key = upload_key(prefix, upload_id=upload_id, filename=request.filename, now=now)
    expires_in = choose_expiry(
        request.expires_in,
        default=policy.default_expiry,
        maximum=min(policy.max_expiry, max_expiry(target)),
        now=now,
        credentials_expire_at=signing.credentials_expire_at,
    )
    if multipart:
        # A part URL never outlives the upload it belongs to.
        expires_in = min(expires_in, policy.multipart.lifetime)
    spend(request)
    url_expires_at = now + timedelta(seconds=expires_in)

    if multipart:
        assert start_multipart is not None
        # No overwrite needs no If-None-Match here: the object is written only by the one
        # CompleteMultipartUpload of this upload, and its key is this upload's own.
        storage_upload_id = start_multipart(
            MultipartStart(
                key=key,
                content_type=request.content_type,
                metadata=dict(sorted(request.metadata.items())),
                checksums=request.part_checksums,
            )
        )
        state = Multipart(
            storage_upload_id=storage_upload_id,
            part_size=plan_parts(request.size, preferred_part_size=policy.multipart.part_size).part_size,
            checksums=request.part_checksums,
        )
        plan = state.plan(request.size)
        deadline = now + timedelta(seconds=policy.multipart.lifetime)
        # With part checksums each URL needs its part's digest, which only /parts receives.
        first = [] if state.checksums else list(range(1, min(plan.part_count, MAX_PART_URLS_PER_REQUEST) + 1))
        parts = sign_parts(
            signing.presigner,
            target.bucket,
            key,
            storage_upload_id=storage_upload_id,
            plan=plan,
            numbers=first,
            checksums=None,
            now=now,
            expires_in=expires_in,
        )
        response = CreateUploadResponse(
            upload_id=upload_id,
            key=key,
            target=target_name,
            method="PUT",
            url="",
            headers={},
            fields={},
            expires_at=isoformat_z(url_expires_at),
            expires_in=expires_in,
            multipart=MultipartGrant(
                part_size=plan.part_size,
                part_count=plan.part_count,
                parts=parts,
                part_checksums=state.checksums,
                expires_at=isoformat_z(deadline),
            ),
        )
        return Issued(response, state, int(deadline.timestamp()))

    headers: dict[str, str] = {}
    fields: dict[str, str] = {}
    if request.method == "PUT":
        headers = put_headers(
            content_type=request.content_type,
            size=request.size,
            metadata=request.metadata,
            checksum_sha256=request.checksum_sha256,
            no_overwrite=policy.no_overwrite,
        )
        url = signing.presigner.presign(
            "PUT", target.bucket, key, now=now, expires_in=expires_in, headers=headers
        )
    else:
        form, conditions = post_form(
            content_type=request.content_type,
            size=request.size,
            metadata=request.metadata,
            cache_control=target.download.cache_control,
        )
        post = signing.presigner.presign_post(
            target.bucket, key, now=now, expires_in=expires_in, fields=form, conditions=conditions
        )
        url, fields = post.url, post.fields

    response = CreateUploadResponse(
        upload_id=upload_id,
        key=key,
        target=target_name,
        method=request.method,
        url=url,
        headers=headers,
        fields=fields,
        expires_at=isoformat_z(url_expires_at),
        expires_in=expires_in,
    )
    return Issued(response, None, int(url_expires_at.timestamp()))


@dataclass(frozen=True, slots=True)
class Issuing:
    """One ``POST /uploads`` as ``create_upload`` signs it: the request, the caller, the target (as
    the request's kind shapes it) and its signer; ``issue`` signs it under an upload id."""

    request: CreateUploadRequest
    principal: Claims
    target_name: str
    target: Target
    signing: SigningContext

    def issue(self, upload_id: str, spend: Spend, start: StartMultipart | None = None) -> Issued:
        return create_upload(
            self.request,
            principal=self.principal,
            target_name=self.target_name,
            target=self.target,
            signing=self.signing,
            upload_id=upload_id,
            spend=spend,
            start_multipart=start,
        )
