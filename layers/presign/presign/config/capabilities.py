"""What a target may ask of its provider (``presign.config.providers``): the defaults a profile fills
in (``fill_defaults``), and what a request needs of it (``require``: 422
``unsupported_by_provider``). What a target's configuration asks that its provider cannot do stops
the cold start, with the field named (``presign.config.settings.refusals``).

The profiles are read through ``presign.config.providers`` at each call, never copied here.
"""

from __future__ import annotations

from typing import Any, Literal

from presign.config import providers
from presign.config.providers import Provided
from presign.errors import UnsupportedByProvider

# -- defaults -------------------------------------------------------------------------------------


def fill_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A target's raw settings with what its profile supplies and the target leaves out.

    Runs before validation (``Target``'s "before" validator), so a value the target gives, even one
    the profile would refuse, is the target's own and reaches ``refusals`` as given.
    """
    data = dict(data)
    provider = data.get("provider")
    if provider is None:
        provider = data["provider"] = "aws" if data.get("endpoint_url") is None else "generic"
    profile = providers.PROFILES.get(provider) if isinstance(provider, str) else None
    if profile is None:
        return data  # validation names the unknown provider
    if "region" not in data and profile.default_region is not None:
        data["region"] = profile.default_region
    if "addressing_style" not in data:
        data["addressing_style"] = profile.addressing_style
    if data.get("endpoint_url") is None and profile.endpoint_template is not None:
        values = {name: data.get(name) for name in profile.placeholders()}
        # Checked like the fields they come from (region's pattern, account_id's), so that a
        # template never builds a URL out of a value validation would refuse.
        if all(isinstance(v, str) and _safe_label(v) for v in values.values()):
            data["endpoint_url"] = profile.endpoint_template.format(**values)
    caps = profile.capabilities
    upload = data.get("upload", {})
    if isinstance(upload, dict):
        upload = dict(upload)
        if "methods" not in upload and not caps.post_uploads:
            upload["methods"] = ["PUT"]
        multipart = upload.get("multipart", {})
        if multipart is True:  # the shorthand for {"enabled": true}: the rest is still the profile's
            multipart = {"enabled": True}
            upload["multipart"] = multipart
        if isinstance(multipart, dict) and "checksums" not in multipart and not caps.checksum_sha256:
            upload["multipart"] = {**multipart, "checksums": False}
        if isinstance(multipart, dict) and "enabled" not in multipart and not caps.multipart:
            upload["multipart"] = {**upload.get("multipart", multipart), "enabled": False}
        data["upload"] = upload
    return data


def _safe_label(value: str) -> bool:
    return 1 <= len(value) <= 63 and all(c.isascii() and (c.isalnum() or c == "-") for c in value)


# -- requests -------------------------------------------------------------------------------------

Capability = Literal["post_uploads", "multipart", "checksum_sha256", "conditional_writes"]
_NEEDS: dict[str, str] = {
    "post_uploads": "POST (form) uploads",
    "multipart": "multipart uploads",
    "checksum_sha256": "SHA-256 checksums (x-amz-checksum-sha256)",
    "conditional_writes": "conditional writes (If-None-Match), which this target's no_overwrite needs",
}


def require(target: Provided, capability: Capability) -> None:
    """Raise ``UnsupportedByProvider`` (422) unless the target's provider can do ``capability``."""
    profile = providers.profile_of(target)
    if not getattr(profile.capabilities, capability):
        raise UnsupportedByProvider(
            f"this target's storage ({profile.title}) does not support {_NEEDS[capability]}",
            details={"provider": profile.name, "capability": capability},
        )


def max_expiry(target: Provided) -> int:
    return providers.profile_of(target).capabilities.max_expiry
