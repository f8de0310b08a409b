"""One request's spending against a caller's (or a visitor's) rate limits: the only way any route
spends, and what the response's ``RateLimit-*`` headers are made from.

A ``Spending`` is made per request for one subject (a caller's ``Owner.subject``, or a visitor's
``ip:<address>``) and the action its route spends (``upload_status``, ``share_manage``, ...); each
spend goes to the lane of the target it turns out to concern, or the default target's when none
does (a listing, a share's owner routes, public visits). It remembers the last decision, so the
answer carries the budget that request left. Without a limiter (``rate_limits.enabled: false``)
nothing is counted and there are no headers.
"""

from __future__ import annotations

from presign.ratelimit.limiter import Decision, RateLimiter


class Spending:
    def __init__(
        self, limiter: RateLimiter | None, subject: str, *, action: str, default_target: str
    ) -> None:
        self._limiter = limiter
        self._subject = subject
        self._action = action
        self._default = default_target
        self._decision: Decision | None = None

    def spend(self, target: str | None = None, cost: int = 1, *, action: str | None = None) -> None:
        """``cost`` units (one per URL signed) of the route's action, or of ``action``, on
        ``target``'s lane (None: the default target's); raises ``RateLimited``."""
        if self._limiter is not None:
            self._decision = self._limiter.acquire(
                subject=self._subject,
                action=action or self._action,
                target=target or self._default,
                cost=cost,
            )

    def upload(self, target: str, nbytes: int) -> None:
        """One upload: a unit of the ``upload`` budget and ``nbytes`` of the daily quota, in one write."""
        if self._limiter is not None:
            self._decision = self._limiter.acquire_upload(subject=self._subject, target=target, nbytes=nbytes)

    def headers(self) -> dict[str, str]:
        """``RateLimit-*`` for the response (none when nothing was checked)."""
        return self._decision.headers() if self._decision is not None else {}
