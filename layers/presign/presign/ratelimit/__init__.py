"""Per-user rate limits: GCRA in DynamoDB, one conditional UpdateItem per request in the common case.

* ``gcra``: the algorithm, pure integer arithmetic;
* ``store``: the port to storage; ``presign.adapters.dynamodb_ratelimit`` implements it;
* ``limiter``: ``RateLimiter`` / ``Decision``, the algorithm over the store;
* ``spending``: ``Spending``, one request's spending, the only way a route spends.

The ``rate_limits`` configuration (``Limit`` per action, overrides, byte quota) is
``presign.config.ratelimit``; the limiter over its table is built by ``presign.bootstrap``.
See docs/rate-limits.md.
"""
