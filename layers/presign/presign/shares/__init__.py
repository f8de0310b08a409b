"""Share links: expiring, count-limited, optionally password-protected, revocable.

* ``ids``: share ids (192 random bits from ``secrets``) and the handle the store keys them by
  (a SHA-256 of the id: the store never holds an id, and the public link is the only place one
  appears);
* ``settings``: the ``shares`` section of the configuration and each target's ``share`` policy;
* ``records``: the share, its status and the rules every write follows (which are conditional,
  and why that makes counting exact);
* ``passwords``: Argon2id hashing and verification (argon2-cffi, imported only when needed);
* ``store``: the port to the shares table (``presign.adapters.dynamodb_shares`` implements it);
* ``service``: the routes' logic: create, list, get, revoke (owner) and open (public);
* ``page``: the minimal HTML password form a browser gets;
* ``wiring``: building it all from the runtime at cold start.

Nothing here imports boto3 or reads the environment.
"""
