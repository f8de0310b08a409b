from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from presign.errors import AuthorizationError

# One path segment of an object key: starts with a letter or digit (so never "." or ".."), then
# characters that need no escaping in S3 keys or URLs, plus "|" and "@" for Auth0-style subjects
# ("auth0|5fe4...") and e-mail addresses.
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@|:+=~-]{0,127}")


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller. ``sub`` names their namespace; claims may feed the key prefix.

    In gateway mode the claims are exactly what API Gateway passed: every value is a string
    (``"1700000000"``, ``"[a b]"`` for a list).
    """

    sub: str
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)
    scopes: frozenset[str] = frozenset()

    def path_segment(self, name: str) -> str:
        """The claim ``name`` as one safe key-prefix segment, for templates like ``{tenant}``.

        A claim that is absent, not a string or integer, or would not be a single harmless path
        segment raises ``AuthorizationError``: the caller is authenticated, but their token cannot
        name a storage namespace.
        """
        value = self.sub if name == "sub" else self.claims.get(name)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise AuthorizationError("the token cannot name a storage namespace", details={"claim": name})
        text = str(value)
        if not _SAFE_SEGMENT.fullmatch(text):
            raise AuthorizationError("the token cannot name a storage namespace", details={"claim": name})
        return text

    def path_values(self, names: set[str] | frozenset[str]) -> dict[str, str]:
        """``path_segment`` for every placeholder of a key prefix template."""
        return {name: self.path_segment(name) for name in sorted(names)}

    def owner_subject(self, namespace: frozenset[str]) -> str:
        """Who the caller is to what they own: records, shares, Idempotency-Key claims, cursors
        and rate limits (``owner_subject`` below; ``presign.keys.Namespace.owner`` hashes it).

        ``namespace``: the deployment's namespace claims (``Settings.namespace_claims``), the
        claims every target's key prefix names, so two callers share a subject exactly when they
        share a prefix. A claim the token lacks raises ``AuthorizationError``, as building the
        prefix would.
        """
        if namespace == _SUB_ONLY:
            # The subject as it always was, unchecked as before: no key of a {sub} deployment moves.
            return self.sub
        return owner_subject(self.path_values(namespace))


_SUB_ONLY = frozenset(("sub",))


def owner_subject(values: Mapping[str, str]) -> str:
    """The canonical text of a caller's namespace claims (the values a key prefix was made of).

    Only ``sub``: the sub itself, today's subject, so a ``{sub}`` deployment's digests stay
    byte-identical. More claims: the JSON array of the sorted ``[name, value]`` pairs, which no two
    different sets of pairs share (tenant ``a-b`` with sub ``c`` is ``[["sub","c"],["tenant","a-b"]]``,
    tenant ``a`` with sub ``b-c`` is ``[["sub","b-c"],["tenant","a"]]``).
    """
    if values.keys() == _SUB_ONLY:
        return values["sub"]
    return json.dumps(sorted(values.items()), ensure_ascii=False, separators=(",", ":"))
