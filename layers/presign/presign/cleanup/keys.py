"""Which storage keys are the service's own: the only ones the storage sweep may touch.

The service makes every upload key itself (``presign.core.keys.upload_key``):
``{prefix}{kind prefix?}{yyyy}/{mm}/{dd}/{upload_id}/{filename}``, where the prefix is the
target's template filled with the caller's claims. The sweep lists under the template's static
part (``users/`` of ``users/{sub}/``) and touches a key only if it matches that whole shape; the
match also gives the claim values of the prefix (``sub``, and ``tenant`` in
``tenants/{tenant}/users/{sub}/``: every target's template names every namespace claim) and the
upload id, so the record that may claim the upload is one ``GetItem`` away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from presign.config.target import Target
from presign.core.owners import owner_digest
from presign.core.prefixes import SAFE_SEGMENT, Placeholder, PrefixTemplate
from presign.uploads.ids import ALPHABET, LENGTH


@dataclass(frozen=True, slots=True)
class ServiceKey:
    claims: Mapping[str, str]  # the values the key's prefix was made of
    upload_id: str

    @property
    def sub(self) -> str:
        return self.claims["sub"]

    @property
    def owner(self) -> str:
        """The owner digest of the records that may name this upload (``Namespace.owner``)."""
        return owner_digest(self.claims)


@dataclass(frozen=True, slots=True)
class ServiceKeys:
    static_prefix: str  # what ListMultipartUploads is given as Prefix
    pattern: re.Pattern[str]

    @staticmethod
    def of(target: Target) -> ServiceKeys:
        template = PrefixTemplate.parse(target.key_prefix)
        static: list[str] = []
        for segment in template.segments:
            if isinstance(segment, Placeholder):
                break
            static.append(segment)
        parts = []
        for segment in template.segments:
            if isinstance(segment, Placeholder):
                parts.append(f"(?P<c_{segment.name}>{SAFE_SEGMENT.pattern})/")
            else:
                parts.append(re.escape(segment) + "/")
        kinds = sorted(
            {k.key_prefix for k in target.upload.kinds.values() if k.key_prefix}, key=len, reverse=True
        )
        kind = f"(?:{'|'.join(re.escape(k) for k in kinds)})?" if kinds else ""
        day = r"[0-9]{4}/[0-9]{2}/[0-9]{2}/"
        upload_id = f"(?P<upload_id>[{ALPHABET}]{{{LENGTH}}})/"
        pattern = re.compile("".join(parts) + kind + day + upload_id + r"[^/]+")
        return ServiceKeys(static_prefix="".join(f"{s}/" for s in static), pattern=pattern)

    def parse(self, key: str) -> ServiceKey | None:
        """The caller and upload of a key the service made; None for any other key."""
        match = self.pattern.fullmatch(key)
        if match is None:
            return None
        claims = {name[2:]: value for name, value in match.groupdict().items() if name.startswith("c_")}
        return ServiceKey(claims=claims, upload_id=match.group("upload_id"))
