"""Upload kinds: named upload policies of a target, like UploadThing's file routes.

A target's ``upload.kinds`` maps a name (``avatar``, ``document``) to its own rules; a request
names a ``kind`` and never the rules themselves::

    "kinds": {
      "avatar": {"content_types": ["image/png", "image/jpeg"], "min_size": 1, "max_size": 2097152,
                 "key_prefix": "avatars/", "extensions": ["png", "jpg", "jpeg"], "max_expiry": 300}
    }

Fields a kind leaves out are the target's (content types, maximum size, expiries); methods and
no-overwrite are always the target's. ``key_prefix`` is a sub-prefix inside the caller's
namespace (``users/{sub}/avatars/...``): plain path segments only, so a kind can never point
outside it. ``extensions`` lists the filename extensions the kind accepts; each must agree with
the declared content type (a list uses Python's built-in extension table, a mapping names the
types itself: ``{"heic": ["image/heic"]}``), so ``virus.exe`` sent as ``image/png`` is refused.
"""

from __future__ import annotations

import mimetypes
import re
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from presign.errors import PayloadTooLarge, PayloadTooSmall, UnknownKind, UnsupportedContentType
from presign.mediatypes import is_allowed, media_type

if TYPE_CHECKING:
    from presign.config import Target
    from presign.models import CreateUploadRequest

# presign.config imports this module, so its constants are repeated here (a unit test pins them).
# A kind may allow up to S3's 5 TiB; above 5 GiB the target must allow multipart (config checks).
MAX_OBJECT_BYTES = 5 * 1024**4
MAX_PRESIGN_EXPIRY = 604_800
_KIND_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")
# One key segment: starts with a letter or digit (never "." or ".."), no braces (the prefix joins
# the target's template, where braces are placeholders), nothing that needs escaping in a URL.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
_EXTENSION = re.compile(r"^[a-z0-9][a-z0-9_\-+]{0,15}$")


@cache
def builtin_types() -> dict[str, str]:
    # Python's own table only, not the host's /etc/mime.types, so the answer is the same everywhere.
    table = mimetypes.MimeTypes(filenames=())
    return {ext.lstrip("."): kind for ext, kind in table.types_map[True].items()}


def extension_of(filename: str) -> str:
    """The lower-cased extension of the filename's last segment, without the dot ('' if none)."""
    name = re.split(r"[/\\]", filename)[-1]
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem.strip(". ") else ""


class UploadKind(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    content_types: list[str] | None = Field(default=None, min_length=1)
    min_size: int = Field(default=0, ge=0, le=MAX_OBJECT_BYTES)
    max_size: int | None = Field(default=None, gt=0, le=MAX_OBJECT_BYTES)
    key_prefix: str = ""
    extensions: dict[str, list[str]] | None = None
    default_expiry: int | None = Field(default=None, gt=0, le=MAX_PRESIGN_EXPIRY)
    max_expiry: int | None = Field(default=None, gt=0, le=MAX_PRESIGN_EXPIRY)

    @field_validator("content_types")
    @classmethod
    def _patterns(cls, patterns: list[str] | None) -> list[str] | None:
        if patterns is None:
            return None
        from presign.config import _MIME_PATTERN  # config is loaded by the time a document is validated

        lowered = [p.strip().lower() for p in patterns]
        bad = [p for p in lowered if not _MIME_PATTERN.match(p)]
        if bad:
            raise ValueError(f"not a content type or wildcard pattern: {bad}")
        return lowered

    @field_validator("key_prefix")
    @classmethod
    def _sub_prefix(cls, prefix: str) -> str:
        if prefix == "":
            return prefix
        if not prefix.endswith("/"):
            raise ValueError("must end with '/' (e.g. 'avatars/')")
        segments = prefix[:-1].split("/")
        if any(not _SEGMENT.match(s) for s in segments):
            raise ValueError(
                "must be path segments of letters, digits, '.', '_' and '-', each starting with a "
                "letter or digit (no '..', no empty segments, no leading '/')"
            )
        return prefix

    @field_validator("extensions", mode="before")
    @classmethod
    def _extensions(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            known = builtin_types()
            names = [str(v).lower().lstrip(".") for v in value]
            unknown = sorted(n for n in names if n not in known)
            if unknown:
                raise ValueError(
                    f"no built-in content type for {unknown}; give them as a mapping, "
                    '{"ext": ["type/subtype"]}'
                )
            return {n: [known[n]] for n in names}
        if isinstance(value, dict):
            return {str(k).lower().lstrip("."): v for k, v in value.items()}
        return value

    @field_validator("extensions")
    @classmethod
    def _extension_names(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("must list at least one extension (or be left out)")
        bad = sorted(k for k in value if not _EXTENSION.match(k))
        if bad:
            raise ValueError(f"not filename extensions: {bad}")
        if any(not types for types in value.values()):
            raise ValueError("every extension needs at least one content type")
        return {k: [t.strip().lower() for t in types] for k, types in value.items()}

    @model_validator(mode="after")
    def _bounds(self) -> UploadKind:
        if self.max_size is not None and self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) is above max_size ({self.max_size})")
        if self.default_expiry and self.max_expiry and self.default_expiry > self.max_expiry:
            raise ValueError(
                f"default_expiry ({self.default_expiry}) is above max_expiry ({self.max_expiry})"
            )
        return self


def _names(kinds: dict[str, UploadKind]) -> dict[str, UploadKind]:
    bad = sorted(name for name in kinds if not _KIND_NAME.match(name))
    if bad:
        raise ValueError(f"kind names are 1-32 of a-z, 0-9, '_' and '-', starting with a letter: {bad}")
    return kinds


Kinds = Annotated[dict[str, UploadKind], AfterValidator(_names)]


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
