"""A model of the uploads and shares tables for property tests: the writes the stores make, each
as DynamoDB applies it (conditions included), the stream record each leaves, and the events a
committed change must give, written down independently of ``presign.events.changes``."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import strategies as st

from presign.adapters.dynamodb_upload_items import claim_pk
from presign.uploads.records import TRANSITIONS
from tests.support.stream_records import (
    NOW,
    OWNER,
    SHARES_ARN,
    share,
    share_image,
    stream_record,
    upload,
    upload_image,
)

EXPECTED_UPLOAD_TYPE = {
    "complete": "upload.completed",
    "rejected": "upload.rejected",
    "expired": "upload.expired",
    "aborted": "upload.deleted",
    "deleted": "upload.deleted",
}


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "create",
                "move",
                "fence",
                "noop",
                "claim",
                "remove",
                "screate",
                "spend",
                "fail",
                "revoke",
                "expire",
                "restale",
            ]
        ),
        st.integers(0, 1),
        st.sampled_from(["complete", "rejected", "aborted", "expired", "deleted"]),
    ),
    max_size=60,
)


class Table:
    """Items by key; ``records``: the stream; ``expected``: (subject, type) of each event due."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.uploads: dict[int, Any] = {}
        self.shares: dict[int, Any] = {}
        self.records: list[dict[str, Any]] = []
        self.expected: list[tuple[str, str]] = []
        self.clock = NOW

    def write(self, key: str, new: dict[str, Any] | None, arn: str | None = None) -> None:
        old = self.items.get(key)
        name = "REMOVE" if new is None else ("INSERT" if old is None else "MODIFY")
        self.clock += 1
        kwargs: dict[str, Any] = {"old": old, "new": new, "at": self.clock}
        if arn is not None:
            kwargs["arn"] = arn
        self.records.append(stream_record(name, **kwargs))
        if new is None:
            self.items.pop(key, None)
        else:
            self.items[key] = new

    def apply(self, op: str, i: int, target: str) -> None:
        self.clock += 1
        upload_key, share_key = f"u{i}", f"s{i}"
        record = self.uploads.get(i)
        if op == "create" and record is None:
            record = upload(f"01JF{i:022d}", updated_at=self.clock)
            self.uploads[i] = record
            self.write(upload_key, upload_image(record))
            self.expected.append((f"upload/{record.upload_id}", "upload.created"))
        elif op == "move" and record is not None and upload_key in self.items:
            if target in TRANSITIONS[record.status]:  # the store's condition: status = expected
                moved = dataclasses.replace(record, status=target, updated_at=self.clock)
                self.uploads[i] = moved
                self.write(upload_key, {**self.items[upload_key], **upload_image(moved, ttl=self.clock + 9)})
                self.expected.append((f"upload/{record.upload_id}", EXPECTED_UPLOAD_TYPE[target]))
        elif op == "fence" and record is not None and upload_key in self.items and record.status == "pending":
            self.write(upload_key, {**self.items[upload_key], "cleanup_at": n(self.clock)})
        elif op == "noop" and upload_key in self.items:
            self.write(upload_key, dict(self.items[upload_key]))
        elif op == "claim":
            self.write(
                f"i{i}",
                {"pk": s(claim_pk(OWNER, f"{i:064d}")), "sk": s("claim"), "claimed_at": n(self.clock)},
            )
        elif op == "remove" and upload_key in self.items:
            self.write(upload_key, None)
        else:
            self.apply_share(op, i, share_key)

    def apply_share(self, op: str, i: int, key: str) -> None:
        value = self.shares.get(i)
        item = self.items.get(key)
        write = lambda new: self.write(key, new, SHARES_ARN)  # noqa: E731
        if op == "screate" and value is None:
            value = share(f"{i:040x}", max_downloads=2, created_ms=self.clock * 1000)
            self.shares[i] = value
            write(share_image(value))
            self.expected.append((f"share/{value.handle}", "share.created"))
        if value is None or item is None:
            return
        subject = f"share/{value.handle}"
        revoked, marked = "revoked_at" in item, "expired_at" in item
        if op == "spend" and not revoked and not marked and int(item["downloads"]["N"]) < 2:
            spent = int(item["downloads"]["N"]) + 1
            write({**item, "downloads": n(spent), "last_access": s(f"w{self.clock}")})
            self.expected.append((subject, "share.accessed"))
            if spent == 2:
                self.expected.append((subject, "share.exhausted"))
        elif op == "fail":
            write({**item, "failed_attempts": n(int(item["failed_attempts"]["N"]) + 1)})
        elif op == "revoke":  # if_not_exists: a second revocation only moves the TTL
            write({**item, "revoked_at": item.get("revoked_at", n(self.clock)), "ttl": n(self.clock)})
            if not revoked:
                self.expected.append((subject, "share.revoked"))
        elif op == "expire" and not revoked and not marked:
            write({**item, "expired_at": n(self.clock)})
            self.expected.append((subject, "share.expired"))
        elif op == "restale":
            write({**item, "stale_pk": s(f"x#{self.clock}#0"), "stale_sk": s(f"{self.clock}")})
