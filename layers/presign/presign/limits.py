"""The S3 and SigV4 facts the service is held to: one copy each, imported wherever one is needed.

They are the storage protocol's own limits, not this deployment's choices (those are in
``presign.config``); a provider may allow less (``presign.config.providers``), never more.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
"""

from __future__ import annotations

MiB = 1024**2
DAY = 86_400

#: S3's largest object, 5 TiB.
MAX_OBJECT_BYTES = 5 * 1024**4
#: The most one PUT (or POST form) carries, 5 GiB; larger objects need multipart.
MAX_SINGLE_PUT_BYTES = 5 * 1024**3
#: SigV4 presigned URLs are valid for at most seven days, whatever the signer asks for.
MAX_PRESIGN_EXPIRY = 7 * DAY
#: Every multipart part but the last is at least 5 MiB, and at most 5 GiB.
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * 1024**3
#: Part numbers run from 1 to 10,000.
MAX_PARTS = 10_000
#: A key is at most 1024 bytes of UTF-8 (so at most 1024 characters).
MAX_KEY_BYTES = 1024
MAX_KEY_CHARS = 1024
#: S3's limit for all user metadata (x-amz-meta-*) of an object together.
MAX_METADATA_BYTES = 2048

# Not S3's, but one copy as well: how many part URLs one request may ask for (and POST /uploads
# answers). 100 URLs are ~60 KB, far below Lambda's 6 MB response limit, and a client uploads a
# few parts at a time anyway.
MAX_PART_URLS_PER_REQUEST = 100
