"""The upload lifecycle: what happens to an upload after its URL is handed out.

* ``records``: the upload record and its status state machine (which transitions exist, and why
  each one is a conditional write);
* ``ids``: time-ordered upload ids, so a caller's uploads list newest first by key alone;
* ``kinds``: named upload policies of a target (UploadThing's file routes);
* ``verification``: a HEAD result compared with the record, as pure functions;
* ``idempotency``: Idempotency-Key claims, fingerprints and their rules;
* ``cursor``: opaque, caller-bound pagination cursors;
* ``store``: the ports to the records table and to the storage (adapters implement them);
* ``service``: the routes' logic (begin, complete, status, abort, list);
* ``wiring``: building it all from the runtime at cold start.

Nothing here imports boto3 or reads the environment: ``presign.adapters.dynamodb_uploads`` and
``presign.adapters.s3_control`` do the talking.
"""
