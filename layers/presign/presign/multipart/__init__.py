"""Multipart uploads: large files in parts, each part its own presigned PUT.

* ``plan``: the part plan, a pure function of the size (S3's limits and R2's equal-parts rule);
* ``parts``: signing one part's URL (its exact Content-Length, optionally its SHA-256);
* ``checks``: what the storage holds compared with the plan and with the client's list;
* ``settings``: a target's ``upload.multipart`` section;
* ``models``: the request and response bodies of the multipart routes.

Nothing here imports boto3 or talks to anything: ``presign.lifecycle.service`` runs the routes and
``presign.adapters.s3_control`` makes the storage calls (create, list parts, complete, abort).
"""
