"""The scheduled cleanup: stale uploads, orphaned multipart uploads, stale shares, old records.

* ``schemas``: what an invocation asks for (a scheduled run, a manual dry run, some targets);
* ``ports``: what cleanup needs of the tables and the storage (adapters implement them);
* ``keys``: which storage keys are the service's own (the sweep touches nothing else);
* ``report``: the counts a run answers, per target and per kind of work, and its metrics;
* ``runner``: the work plan and its time budget.

The ``cleanup`` configuration is ``presign.config.cleanup``; ``presign.bootstrap.cleanup`` builds
the run over its tables and storage. Nothing here knows about HTTP, DynamoDB or botocore.
"""
