"""``Spending`` for domain tests: one that counts nothing, and the ``Targets`` port over fixed targets."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from presign.config.target import Target
from presign.errors import PresignError, UnknownTarget
from presign.ratelimit.spending import Spending
from presign.signing.context import SigningContext


def free() -> Spending:
    """A spending without a limiter: nothing is counted, no headers (rate limits turned off)."""
    return Spending(None, "test", action="upload", default_target="main")


class StaticTargets:
    """``presign.uploads.ports.Targets`` over fixed targets, every one signed by ``signing``."""

    def __init__(self, targets: Mapping[str, Target], signing: SigningContext) -> None:
        self._targets = dict(targets)
        self._signing = signing

    def target(
        self, name: str | None, missing: Callable[[], PresignError] | None = None
    ) -> tuple[str, Target]:
        chosen = name or "main"
        if chosen not in self._targets:
            raise missing() if missing is not None else UnknownTarget("no such target is configured")
        return chosen, self._targets[chosen]

    def signing(self, name: str, target: Target) -> SigningContext:
        return self._signing
