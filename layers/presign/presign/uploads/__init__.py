"""Everything about an upload, from its URL to its end, split by job.

* ``schemas``: the routes' request and response bodies (pure models);
* ``records``: the upload record and its status state machine (which transitions exist, and why
  each one is a conditional write); ``ids``: time-ordered upload ids;
* ``kinds``: a target's named upload policy applied to a request;
* ``issue``: one upload's URLs (the checks, the server-made key, the signed PUT, POST or parts);
* ``idempotency``: Idempotency-Key claims, fingerprints and their rules;
* ``verification``: a HEAD result compared with the record;
* ``ports``: the records table, the storage and the targets, as the service needs them;
* ``ledger``, ``grant``, ``replay``, ``parts``, ``complete``, ``service``: the routes' logic,
  job by job, and ``service.Uploads``, the facade the handlers call;
* ``multipart``: part URLs, presigned multipart requests, and the parts' checks.

Nothing here imports boto3, reads the environment or knows HTTP: ``presign.adapters`` do the
talking, ``presign.bootstrap`` builds the service with them, ``presign.http`` serves it.
"""
