"""Per-user rate limits: GCRA in DynamoDB, one conditional UpdateItem per request in the common case.

* ``settings``: the ``rate_limits`` configuration (``Limit`` per action, overrides, byte quota).
* ``gcra``: the algorithm, pure integer arithmetic.
* ``store``: the port to storage; ``presign.adapters.dynamodb_ratelimit`` implements it.
* ``limiter``: ``RateLimiter`` / ``Decision`` / ``build_rate_limiter``, what handlers use.

Nothing is imported here, so ``presign.config`` can import the settings without the rest.
See docs/rate-limits.md.
"""
