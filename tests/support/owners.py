"""Owners as the default configuration (``users/{sub}/``) knows them."""

from __future__ import annotations

from presign.auth import Principal
from presign.core.owners import Namespace


def owner_of(principal: Principal) -> str:
    """The digest that keys a ``{sub}``-only deployment's records and shares of ``principal``."""
    return Namespace().owner(principal).digest
