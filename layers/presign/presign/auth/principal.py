from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller. ``sub`` names their namespace; claims may feed the key prefix."""

    sub: str
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)
    scopes: frozenset[str] = frozenset()
