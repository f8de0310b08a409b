"""Multipart uploads: large files in parts, each part its own presigned PUT.

* ``urls``: one part's URL (its exact Content-Length, optionally its SHA-256);
* ``operations``: the other presigned S3 requests on one multipart upload (ListParts, Complete,
  Abort), for clients that send them themselves;
* ``checks``: what the storage holds compared with the plan and with the client's list.

The plan itself is ``presign.core.partplan`` (the configuration checks it too); a target's
``upload.multipart`` section is ``presign.config.uploads.MultipartPolicy``. Nothing here imports
boto3 or talks to anything: ``presign.adapters.s3_control`` makes the storage calls.
"""
