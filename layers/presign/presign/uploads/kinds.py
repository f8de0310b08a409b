"""Applying an upload kind to a request: the checks only a kind makes, and the target as it shapes it.

A kind is a named upload policy of a target (``presign.config.uploads.UploadKind`` says what it
holds and why); a request names one with ``kind``.
"""

from __future__ import annotations

from presign.config.target import Target
from presign.core.mediatypes import extension_of, is_allowed, media_type
from presign.errors import PayloadTooLarge, PayloadTooSmall, UnknownKind, UnsupportedContentType
from presign.uploads.schemas import CreateUploadRequest


def apply_kind(target: Target, request: CreateUploadRequest) -> Target:
    """The target as the request's kind shapes it, after the checks only a kind makes.

    Without a kind, the target itself. With one: its minimum size and filename extension are
    checked here (413/415/422 like the target's own checks); its content types, maximum size,
    expiries and sub-prefix become the target's for this request, so ``create_upload`` checks and
    signs exactly as for any target.
    """
    if request.kind is None:
        return target
    kind = target.upload.kinds.get(request.kind)
    if kind is None:
        raise UnknownKind("this target defines no such upload kind")
    if request.size < kind.min_size:
        raise PayloadTooSmall(f"this kind needs at least {kind.min_size} bytes")
    if kind.max_size is not None and request.size > kind.max_size:
        raise PayloadTooLarge(f"size exceeds this kind's maximum of {kind.max_size} bytes")
    content_types = kind.content_types or target.upload.content_types
    if not is_allowed(request.content_type, content_types):
        raise UnsupportedContentType("this content type is not accepted for this kind")
    if kind.extensions is not None:
        ext = extension_of(request.filename)
        allowed = kind.extensions.get(ext)
        if allowed is None:
            raise UnsupportedContentType("this filename extension is not accepted for this kind")
        if not is_allowed(media_type(request.content_type), allowed):
            raise UnsupportedContentType("the filename extension does not agree with the content type")
    policy = target.upload.model_copy(
        update={
            "content_types": content_types,
            "max_size": kind.max_size or target.upload.max_size,
            "default_expiry": kind.default_expiry or target.upload.default_expiry,
            "max_expiry": kind.max_expiry or target.upload.max_expiry,
        }
    )
    # Both parts are validated: the target's template and a kind's plain segments make a template.
    return target.model_copy(update={"upload": policy, "key_prefix": target.key_prefix + kind.key_prefix})
