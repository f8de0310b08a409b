"""Issuing download URLs for one or many keys, each confined to the caller's prefix.

What the storage server answers is decided here, by the target's policy, and signed into every
URL as ``response-*`` overrides; the uploader decides nothing:

* A PUT may carry unsigned ``Cache-Control``, ``Content-Disposition`` and ``Content-Encoding``
  headers, and S3-compatible servers store them (a POST form may too, on servers that accept
  fields its policy does not name). So every URL overrides all three: the target's
  ``cache_control``, a disposition of our making, and ``identity``.
* We keep no record of an object's stored type (an old object may be ``text/html`` under any
  name), so we can only vouch for a type we sign ourselves. Hence ``inline`` needs an explicit
  ``content_type`` that is one of the target's passive ``inline_types``, signed as
  ``response-content-type``; without one the request is refused (422) rather than silently
  downgraded. Everything else is an ``attachment``, which browsers save instead of rendering,
  whatever the stored type.
* An overridden ``content_type`` must be a type the target accepts for uploads and never an
  active one (HTML, SVG, XML, JavaScript; ``presign.core.mediatypes``): 415 otherwise, as for an upload.
* A ``filename`` keeps each key's own extension, or takes one of the overridden type's, and
  never an active or executable one (``presign.core.filenames``): that key's item carries 422
  ``unsafe_filename`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from presign.auth import Principal
from presign.clock import isoformat_z
from presign.config.capabilities import max_expiry
from presign.config.target import Target
from presign.core.contentdisposition import Disposition, content_disposition
from presign.core.expiry import choose_expiry
from presign.core.filenames import check_filename
from presign.core.keys import normalize_key, require_within, user_prefix
from presign.core.mediatypes import is_active, is_allowed, media_type
from presign.core.prefixes import PrefixTemplate
from presign.core.schemas import KEY, ItemError
from presign.downloads.schemas import DownloadItem, DownloadsRequest, DownloadsResponse
from presign.errors import (
    AuthorizationError,
    InvalidRequest,
    PresignError,
    Unprocessable,
    UnsupportedContentType,
)
from presign.ratelimit.spending import Spending
from presign.signing.context import SigningContext

Spend = Callable[[int], None]

# RFC 9110 8.4.1: "identity" means no encoding, so a stored "gzip" cannot make a browser or a CDN
# decode (or mangle) the bytes. An empty override would be ignored by the storage server.
NO_ENCODING = "identity"


def _check(raw: str, prefix: str, request: DownloadsRequest) -> tuple[str | None, PresignError | None]:
    """The normalized key, or why it is refused."""
    try:
        key = normalize_key(raw)
        # The published per-key rule (core.schemas.KEY_PATTERN), enforced as published; normalize_key's
        # finer checks (Unicode categories, UTF-8 length) run first for their clearer messages.
        if not KEY.fullmatch(key):
            raise InvalidRequest("a key must be '/'-separated segments, none empty, '.' or '..'")
        require_within(key, prefix)
        if request.filename:
            # Per key: what the filename must keep is each key's own extension.
            check_filename(request.filename, key, request.content_type)
    except PresignError as refusal:
        return None, refusal
    return key, None


def response_overrides(request: DownloadsRequest, target: Target) -> tuple[Disposition, dict[str, str]]:
    """The disposition and the ``response-*`` overrides every URL of this request carries.

    Raises ``UnsupportedContentType`` (415) for an override type the target would not store or
    that is active, and ``Unprocessable`` (422) for inline without a passive type of the target's.
    """
    policy = target.download
    content_type = request.content_type
    # A filename alone means "save as": attachment.
    disposition: Disposition = request.disposition or "attachment"
    if content_type is not None:
        if is_active(content_type):
            raise UnsupportedContentType(
                f"{media_type(content_type)} is never served from the storage origin: it can run script"
            )
        if not is_allowed(content_type, target.upload.content_types):
            raise UnsupportedContentType("content_type must be a type this target accepts for uploads")
    if disposition == "inline":
        if content_type is None:
            raise Unprocessable(
                "inline needs content_type, one of this target's inline types (we do not know the "
                "stored type, so we sign the one we serve)"
            )
        if not is_allowed(content_type, policy.inline_types):
            raise Unprocessable(
                f"this target does not show {media_type(content_type)} inline; use attachment"
            )
    query = {"response-cache-control": policy.cache_control, "response-content-encoding": NO_ENCODING}
    if content_type is not None:
        query["response-content-type"] = content_type
    return disposition, query


# A server-made key after the caller's prefix and a kind's sub-prefix (presign.core.keys.upload_key):
# yyyy/mm/dd/upload_id/filename.
_UPLOAD_KEY_TAIL = 5
_DATE = re.compile(r"\d{4}/\d{2}/\d{2}/")


def cache_control_for(target: Target, key: str) -> str:
    """The ``Cache-Control`` a GET of ``key`` is signed with.

    The target's ``download.cache_control`` (``private, no-store`` unless changed), except through
    a CDN for the files of a kind that opted in (``cdn.cache_control``). A file's kind is where its
    key is: every key is the server's ``{prefix}{kind prefix}{yyyy}/{mm}/{dd}/{upload_id}/{name}``
    and every prefix has as many segments as its template, so what lies between the prefix and the
    last five segments is the kind's sub-prefix, exactly. Anything else is private.
    """
    default = target.download.cache_control
    if target.cdn is None or not target.cdn.cache_control:
        return default
    segments = key.split("/")
    depth = len(PrefixTemplate.parse(target.key_prefix).segments)
    if len(segments) < depth + _UPLOAD_KEY_TAIL + 1:  # no kind prefix at all
        return default
    if not _DATE.fullmatch("".join(f"{s}/" for s in segments[-_UPLOAD_KEY_TAIL:-2])):
        return default
    sub_prefix = "".join(f"{s}/" for s in segments[depth:-_UPLOAD_KEY_TAIL])
    for kind, value in target.cdn.cache_control.items():
        if target.upload.kinds[kind].key_prefix == sub_prefix:
            return value
    return default


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
    disposition, query = response_overrides(request, target)
    prefix = user_prefix(target.key_prefix, principal)
    checked = [(raw, *_check(raw, prefix, request)) for raw in request.key_list()]

    signable = sum(1 for _, key, _ in checked if key is not None)
    if signable == 0:
        first = next(err for _, _, err in checked if err is not None)
        if all(isinstance(err, AuthorizationError) for _, _, err in checked):
            raise AuthorizationError("no requested key is inside your namespace")
        raise first

    now = signing.now()
    maximum = min(target.download.max_expiry, max_expiry(target))
    expires_in = choose_expiry(
        request.expires_in,
        default=target.download.default_expiry,
        maximum=maximum,
        now=now,
        credentials_expire_at=signing.credentials_expire_at,
    )
    spend(signable)

    if request.filename:
        query["response-content-disposition"] = content_disposition(disposition, request.filename)
    expires_at = isoformat_z(now + timedelta(seconds=expires_in))
    presign = signing.presign_get
    cached_kinds = target.cdn is not None and bool(target.cdn.cache_control)
    items: list[DownloadItem] = []
    for raw, key, refusal in checked:
        if refusal is not None or key is None:
            error = ItemError(code=refusal.code, message=refusal.message) if refusal else None
            items.append(DownloadItem(key=raw, error=error))
            continue
        if not request.filename:
            # Named after the key's last segment, which the server made readable at upload.
            query["response-content-disposition"] = content_disposition(disposition, key.rsplit("/", 1)[-1])
        if cached_kinds:
            query["response-cache-control"] = cache_control_for(target, key)
        url = presign(target.bucket, key, now=now, expires_in=expires_in, query=query)
        items.append(DownloadItem(key=key, url=url, expires_at=expires_at))
    return DownloadsResponse(items=items, expires_in=expires_in)


class DownloadSigners(Protocol):
    """What signs a target's GET URLs: through its CDN when it has one (``Runtime``)."""

    def download_signing(self, name: str, target: Target) -> SigningContext: ...


class Downloads:
    """``POST /downloads``, the facade the function module calls."""

    def __init__(self, signers: DownloadSigners) -> None:
        self._signers = signers

    def issue(
        self,
        request: DownloadsRequest,
        *,
        principal: Principal,
        target_name: str,
        target: Target,
        spending: Spending,
    ) -> DownloadsResponse:
        """``issue_download_urls`` on the target's signer; one ``download`` unit per URL signed."""
        signing = self._signers.download_signing(target_name, target)

        def spend(urls: int) -> None:
            spending.spend(target_name, cost=urls)

        return issue_download_urls(request, principal=principal, target=target, signing=signing, spend=spend)
