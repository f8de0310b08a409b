"""The scheduled cleanup: stale uploads, orphaned multipart uploads, stale shares, old records.

* ``settings``: the ``cleanup`` configuration section;
* ``ports``: what cleanup needs of the tables and the storage (adapters implement them);
* ``keys``: which storage keys are the service's own (the sweep touches nothing else);
* ``report``: the counts a run answers, per target and per kind of work;
* ``runner``: the work plan and its time budget;
* ``wiring``: building it from the environment at cold start.

Nothing here knows about HTTP, DynamoDB or botocore.
"""
