"""``POST /downloads``: presigned GETs for one or many of the caller's keys.

* ``schemas``: the route's request and response bodies;
* ``service``: what the storage answers for each URL (decided by the target's policy, signed into
  the URL) and the batch's signing; ``response_overrides`` and ``cache_control_for`` serve share
  links and the doctor too.
"""
