"""The authenticated caller, and the identity their namespace claims make (``presign.core.owners``)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from presign.core.owners import owner_subject
from presign.core.prefixes import SAFE_SEGMENT
from presign.errors import AuthorizationError


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
        # One safe key segment (``SAFE_SEGMENT``): starts with a letter or digit (so never "." or
        # ".."), needs no escaping in S3 keys or URLs; "|" and "@" for "auth0|5fe4..." and e-mails.
        if not SAFE_SEGMENT.fullmatch(text):
            raise AuthorizationError("the token cannot name a storage namespace", details={"claim": name})
        return text

    def path_values(self, names: set[str] | frozenset[str]) -> dict[str, str]:
        """``path_segment`` for every placeholder of a key prefix template."""
        return {name: self.path_segment(name) for name in sorted(names)}

    def owner_subject(self, namespace: frozenset[str]) -> str:
        """Who the caller is to what they own: records, shares, Idempotency-Key claims, cursors
        and rate limits (``presign.core.owners.owner_subject``; ``Namespace.owner`` hashes it).

        ``namespace``: the deployment's namespace claims (``Settings.namespace_claims``), the
        claims every target's key prefix names, so two callers share a subject exactly when they
        share a prefix. A claim the token lacks raises ``AuthorizationError``, as building the
        prefix would.
        """
        if namespace == _SUB_ONLY:
            # The subject as it always was, unchecked as before: no key of a {sub} deployment moves.
            return self.sub
        return owner_subject(self.path_values(namespace))

    def owner_claims(self, namespace: frozenset[str]) -> dict[str, str]:
        """``sub`` and the namespace claims as the key prefix reads them: what events name the owner by."""
        if namespace == _SUB_ONLY:
            return {"sub": self.sub}
        return {"sub": self.sub, **self.path_values(namespace)}

    @property
    def log_id(self) -> str:
        """How logs name the caller: a hash of ``sub``, never the claim (docs/authentication.md)."""
        # surrogatepass: a lone surrogate survives JSON and PyJWT, and must not turn a 403 into a 500.
        return hashlib.sha256(self.sub.encode("utf-8", "surrogatepass")).hexdigest()[:16]


_SUB_ONLY = frozenset(("sub",))
