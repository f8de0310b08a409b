"""Webhooks: the event stream delivered to the owner's HTTPS endpoints, per Standard Webhooks.

Pure domain code (standard library, ``presign.errors``, ``presign.clock``, pydantic for the
endpoint model); the sender that touches the network is ``presign.adapters.webhook_http``.

* ``signing``: the body, the ``webhook-*`` headers, ``whsec_`` secrets (rotation: sign with all).
* ``schedule``: the retry schedule, ``Retry-After``, 410, disabling endpoints, SQS arithmetic.
* ``endpoints``: the endpoint configuration (URL rules, event-type patterns, secret references).
* ``addresses``: which IP addresses a delivery may never connect to (the SSRF rules).
"""
