"""Issuing download URLs for one or many keys, each confined to the caller's prefix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from presign.auth import Principal
from presign.clock import isoformat_z
from presign.config import Target
from presign.contentdisposition import content_disposition
from presign.errors import AuthorizationError, InvalidRequest, PresignError
from presign.expiry import choose_expiry
from presign.keys import normalize_key, require_within, user_prefix
from presign.models import DownloadItem, DownloadsRequest, DownloadsResponse, ItemError
from presign.signing_context import SigningContext

Spend = Callable[[int], None]


def _check(raw: str, prefix: str) -> tuple[str | None, PresignError | None]:
    """The normalized key, or why it is refused."""
    try:
        key = normalize_key(raw)
        require_within(key, prefix)
    except PresignError as refusal:
        return None, refusal
    return key, None


def issue_download_urls(
    request: DownloadsRequest,
    *,
    principal: Principal,
    target: Target,
    signing: SigningContext,
    spend: Spend,
) -> DownloadsResponse:
    """Sign a GET for every acceptable key; refused keys carry an error instead of a URL.

    Every key is checked before anything is signed, and ``spend`` is charged one unit per URL
    that will be signed. When no key is acceptable the whole request is refused.
    """
    if len(request.key_list()) > target.download.max_keys:
        raise InvalidRequest(f"at most {target.download.max_keys} keys per request for this target")
    prefix = user_prefix(target.key_prefix, principal)
    checked = [(raw, *_check(raw, prefix)) for raw in request.key_list()]

    signable = sum(1 for _, key, _ in checked if key is not None)
    if signable == 0:
        first = next(err for _, _, err in checked if err is not None)
        if all(isinstance(err, AuthorizationError) for _, _, err in checked):
            raise AuthorizationError("no requested key is inside your namespace")
        raise first

    now = signing.now()
    expires_in = choose_expiry(
        request.expires_in,
        default=target.download.default_expiry,
        maximum=target.download.max_expiry,
        now=now,
        credentials_expire_at=signing.credentials_expire_at,
    )
    spend(signable)

    query: dict[str, str] = {}
    if request.content_type:
        query["response-content-type"] = request.content_type
    expires_at = isoformat_z(now + timedelta(seconds=expires_in))
    presign = signing.presigner.presign
    items: list[DownloadItem] = []
    for raw, key, refusal in checked:
        if refusal is not None or key is None:
            error = ItemError(code=refusal.code, message=refusal.message) if refusal else None
            items.append(DownloadItem(key=raw, error=error))
            continue
        if request.disposition:
            filename = request.filename or key.rsplit("/", 1)[-1]
            query["response-content-disposition"] = content_disposition(request.disposition, filename)
        url = presign("GET", target.bucket, key, now=now, expires_in=expires_in, query=query)
        items.append(DownloadItem(key=key, url=url, expires_at=expires_at))
    return DownloadsResponse(items=items, expires_in=expires_in)
