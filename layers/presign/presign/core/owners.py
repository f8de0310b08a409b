"""Who owns what: a caller's identity as their records, shares, claims, cursors and limits know it.

The identity itself is the caller's namespace claims, ``sub`` plus every other claim the targets'
key prefixes name (``presign.auth.Principal.owner_subject``): with ``tenants/{tenant}/users/{sub}/``,
sub 42 of acme and sub 42 of globex are two owners, as their storage is two prefixes. Everything
here is pure: the text of that identity (``owner_subject``), its digest (``subject_digest``, which
keys every table), and the ``Namespace`` that reads an owner back from a key the service made.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from presign.core.prefixes import PrefixTemplate

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


def subject_digest(subject: str) -> str:
    """The subject as it appears in keys: 128 bits of SHA-256, no user id stored in clear."""
    # surrogatepass: a lone surrogate survives JSON and PyJWT; hashing it must not be a 500.
    # Every valid string encodes exactly as before, so no existing key moves.
    return hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def owner_digest(values: Mapping[str, str]) -> str:
    """The owner of a prefix made of these claim values (read back from a key)."""
    return subject_digest(owner_subject(values))


class Claimant(Protocol):
    """A caller who can name their namespace (``presign.auth.Principal``)."""

    def owner_subject(self, namespace: frozenset[str]) -> str: ...

    def owner_claims(self, namespace: frozenset[str]) -> dict[str, str]: ...


class Configured(Protocol):
    """What ``Namespace.of`` reads of the configuration (``presign.config.settings.Settings``)."""

    @property
    def namespace_claims(self) -> frozenset[str]: ...

    @property
    def targets(self) -> Mapping[str, _Prefixed]: ...


class _Prefixed(Protocol):
    @property
    def key_prefix(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Owner:
    """A caller as what they own knows them (``Namespace.owner``)."""

    #: What the rate limiter counts (it hashes it into its item keys itself).
    subject: str
    #: What upload records, shares, Idempotency-Key claims and cursors are keyed by.
    digest: str
    #: ``sub`` and the namespace claims, stored (not keyed) on records and shares at creation so
    #: their events can name the user (docs/events.md): the tables hold user ids from then on.
    claims: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Namespace:
    """Who owns what: the deployment's namespace claims and each target's key prefix template.

    The configuration makes every target's template name all of these claims, so the owner can
    also be read back from any key the service made (``holds``, the cleanup's sweep).
    """

    claims: frozenset[str] = _SUB_ONLY
    #: Each target's ``key_prefix``, by name. Empty (tests): no key is checked against one.
    templates: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def of(settings: Configured) -> Namespace:
        templates = {name: target.key_prefix for name, target in settings.targets.items()}
        return Namespace(settings.namespace_claims, templates)

    def owner(self, principal: Claimant) -> Owner:
        """The caller's identity; ``AuthorizationError`` (403) if the token lacks a namespace claim."""
        subject = principal.owner_subject(self.claims)
        return Owner(
            subject=subject, digest=subject_digest(subject), claims=principal.owner_claims(self.claims)
        )

    def holds(self, owner: str, target: str, key: str) -> bool:
        """Whether ``key`` on ``target`` lies under the prefix of the owner whose digest is ``owner``.

        Defence in depth for every record and share found by an id: it is the caller's only if
        its key is under the caller's prefix as the target is configured now. A target no
        longer configured is left to the route, which answers that (410).
        """
        template = self.templates.get(target)
        if template is None:
            return True
        values = PrefixTemplate.parse(template).claims_of(key)
        return values is not None and owner_digest(values) == owner

    def prefix_of(self, target: str, key: str) -> str | None:
        """The owner's prefix ``key`` on ``target`` lies under (what made it), or None when it lies
        under none of the target's template as configured now (or the target is not configured)."""
        template = self.templates.get(target)
        if template is None:
            return None
        parsed = PrefixTemplate.parse(template)
        values = parsed.claims_of(key)
        return parsed.expand(values) if values is not None else None
