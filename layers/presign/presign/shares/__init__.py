"""Share links: expiring, count-limited, optionally password-protected, revocable.

* ``ids``: share ids (192 random bits from ``secrets``) and the handle the store keys them by
  (a SHA-256 of the id: the store never holds an id, and the public link is the only place one
  appears);
* ``records``: the share, its status and the rules every write follows (which are conditional,
  and why that makes counting exact);
* ``passwords``: Argon2id hashing and verification (argon2-cffi, imported only when needed);
* ``ports``: the port to the shares table (``presign.adapters.dynamodb_shares`` implements it);
* ``schemas``: the routes' request and response bodies;
* ``links``: the public link's logic (open); ``service``: the owner's routes, and ``Shares``,
  the facade both functions call;
* ``page``: the minimal HTML password form a browser gets.

The ``shares`` configuration is ``presign.config.shares``. Nothing here imports boto3 or reads
the environment.
"""
