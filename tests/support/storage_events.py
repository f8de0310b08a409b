"""Object-created (and deleted) notifications as each storage sends them, for tests.

Each builder takes the key ALREADY spelled as that source spells it (see the encoders), so a test
can say exactly which bytes arrive. Shapes: S3's EventBridge and direct notification documents,
MinIO's docs/bucket/notifications, Cloudflare R2's event-notifications page (spikes.md section 2).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

# Go's url.QueryEscape leaves these alone (net/url shouldEscape, encodeQueryComponent).
_GO_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def go_query_escape(key: str) -> str:
    """What MinIO writes in ``s3.object.key``: Go's ``url.QueryEscape`` (space as ``+``, ``/`` as
    ``%2F``, every other byte outside the unreserved set as ``%XX``). Written from Go's rules,
    not with ``quote_plus``, so it is an independent oracle."""
    out = []
    for char in key:
        if char in _GO_UNRESERVED:
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode())
    return "".join(out)


def s3_url_encode(key: str) -> str:
    """S3's direct notifications: "red flower.jpg" becomes "red+flower.jpg" (slashes kept)."""
    return quote_plus(key, safe="/")


def eventbridge(
    key: str,
    *,
    bucket: str = "bucket-1",
    detail_type: str = "Object Created",
    reason: str = "PutObject",
    source: str = "aws.s3",
    size: Any = 5,
    etag: str = "b1946ac92492d2347c6235b4d2611184",
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": source,
        "account": "111122223333",
        "time": "2021-11-12T00:00:00Z",
        "region": "ca-central-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": size,
                "etag": etag,
                "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
                "sequencer": "617f08299329d189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": reason,
        },
    }


def s3_record(
    key: str,
    *,
    bucket: str = "bucket-1",
    event_name: str = "ObjectCreated:Put",
    event_source: str = "aws:s3",
    size: Any = 5,
    etag: str = "b1946ac92492d2347c6235b4d2611184",
) -> dict[str, Any]:
    """One record of a direct notification (S3: ``aws:s3``; MinIO: ``minio:s3``, ``s3:`` names)."""
    return {
        "eventVersion": "2.1",
        "eventSource": event_source,
        "awsRegion": "us-east-1",
        "eventTime": "2024-01-01T00:00:00.000Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "presign",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": key, "size": size, "eTag": etag, "sequencer": "0055AED6DCD90281E5"},
        },
    }


def s3_direct(key: str, **kwargs: Any) -> dict[str, Any]:
    return {"Records": [s3_record(key, **kwargs)]}


def minio_webhook(
    key: str, *, bucket: str = "bucket-1", event_name: str = "s3:ObjectCreated:Put", raw_key: str = ""
) -> dict[str, Any]:
    """MinIO's webhook body: top-level ``Key`` is ``bucket/`` + the unescaped key (``raw_key``)."""
    record = s3_record(key, bucket=bucket, event_name=event_name, event_source="minio:s3")
    record["s3"]["object"]["contentType"] = "image/png"
    return {"EventName": event_name, "Key": f"{bucket}/{raw_key}", "Records": [record]}


def r2(key: str, *, bucket: str = "bucket-1", action: str = "PutObject") -> dict[str, Any]:
    event: dict[str, Any] = {
        "account": "3f4b7e3dcab231cbfdaa90a6a28bd548",
        "action": action,
        "bucket": bucket,
        "object": {"key": key, "size": 65536, "eTag": "c846ff7a18f28c2e262116d6e8719ef0"},
        "eventTime": "2024-05-24T19:36:44.379Z",
    }
    if action == "DeleteObject":
        del event["object"]["size"], event["object"]["eTag"]
    return event
