"""The soak's outgoing-events fault and invariant (issues 22/23), read by ``local.soak.faults`` and
``local.soak.invariants`` once ``presign.events`` exists.

**The fault** (``down``): the webhook endpoint answers 503 to every delivery for the window, so
deliveries fail through make dev's compressed retry schedule and dead-letter; after the window
the dead-letter queue is replayed with the operator's command (``python -m presign.webhooks replay
--dlq``), as an operator would after an outage. EventBridge itself shares moto_server with
DynamoDB, so it cannot be down alone here: the "DynamoDB paused" fault covers the publisher's side.

**The invariant** (``invariant``): every committed change has exactly one event id delivered,
none extra, on both sinks, counted from the tables themselves rather than from the stream:

* an upload record's ``version`` is the number of its evented changes (1 at creation, +1 per status
  transition), so its delivered events have exactly the sequences ``1..version``, the last of the
  type its status implies;
* a share's sequence is ``1 + downloads`` plus one for each of ``revoked_at`` and ``expired_at``
  (``presign.events.changes``), so its events have exactly the sequences ``1..that``;
* an id is one event: at-least-once may deliver it twice, never as two different things; two ids
  for the same (subject, sequence, type) is an extra;
* every event EventBridge delivered reached the webhook endpoint too (2xx), and nothing else did.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from local.cfn import ROOT
from local.soak.faults import say
from local.soak.invariants import Evidence, Facts
from local.soak.stack import Stack

FAIL_EVERYTHING = 1_000_000  # deliveries refused while the window lasts
# make dev's schedule is 4 attempts 1, 2 and 3 s apart: after this long every delivery that
# started in the window has dead-lettered, and a replay finds them all.
SCHEDULE_SECONDS = 10.0
SETTLE_SECONDS = 90.0  # the most the pipeline may take to drain before the final check
NAME = "every committed change: one event id delivered, on both sinks"
UPLOAD_TYPES = {
    "pending": "upload.created",
    "complete": "upload.completed",
    "rejected": "upload.rejected",
    "expired": "upload.expired",
    "aborted": "upload.deleted",
    "deleted": "upload.deleted",
}


def _receiver(stack: Stack, path: str, body: dict[str, Any] | None = None) -> None:
    origin = urlsplit(stack.state["webhooks_receiver"])._replace(path="").geturl()
    answer = requests.post(f"{origin}/__receiver/{path}", json=body, timeout=10)
    answer.raise_for_status()


def down(stack: Stack, seconds: float) -> None:
    _receiver(stack, "fail", {"count": FAIL_EVERYTHING, "status": 503})
    try:
        time.sleep(seconds)
    finally:
        _receiver(stack, "fail", {"count": 0})
    time.sleep(SCHEDULE_SECONDS)
    say(f"[fault] events down: the webhooks' dead letters replayed: {replay_dead_letters(stack)}")


def replay_dead_letters(stack: Stack) -> str:
    env = {**os.environ, **stack.state["webhooks_env"], "PYTHONPATH": str(ROOT / "layers" / "presign")}
    done = subprocess.run(
        [sys.executable, "-m", "presign.webhooks", "replay", "--dlq", "--max", "10000"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"replay --dlq failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def delivered(stack: Stack) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The events EventBridge delivered, and the events the webhook endpoint accepted (2xx)."""
    bus = _lines(Path(stack.state["events_log"]))
    hooks = [
        line["event"] for line in _lines(Path(stack.state["webhooks_log"])) if 200 <= line["status"] < 300
    ]
    return bus, hooks


def expected(stack: Stack) -> dict[str, tuple[int, str | None]]:
    """Per subject, from the tables: how many evented changes it has, and its last event's type
    (None for a share: its last change may be any of several)."""
    dynamodb = stack.dynamodb()
    found: dict[str, tuple[int, str | None]] = {}
    for table in (stack.table("UploadsTable"), stack.table("SharesTable")):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            for item in page["Items"]:
                sk = item.get("sk", {}).get("S", "")
                if sk.startswith("up#"):
                    version = int(item.get("version", {}).get("N", "0"))
                    status = item["status"]["S"]
                    found[f"upload/{item['upload_id']['S']}"] = (version, UPLOAD_TYPES[status])
                elif item["pk"]["S"].startswith("s#") and "sk" not in item:
                    count = 1 + int(item.get("downloads", {}).get("N", "0"))
                    count += ("revoked_at" in item) + ("expired_at" in item)
                    found[f"share/{item['pk']['S'][2:]}"] = (count, None)
    return found


def violations(
    want: dict[str, tuple[int, str | None]], bus: list[dict[str, Any]], hooks: list[dict[str, Any]]
) -> list[str]:
    found: list[str] = []
    by_id: dict[str, tuple[Any, ...]] = {}
    ids_of: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for event in bus:
        shape = (event["subject"], event["sequence"], event["type"])
        if by_id.setdefault(event["id"], shape) != shape:
            found.append(f"id {event['id']} delivered as {by_id[event['id']]} and as {shape}")
        ids_of[shape].add(event["id"])
    for shape, ids in ids_of.items():
        if len(ids) > 1:
            found.append(f"{shape} delivered under {len(ids)} ids: {sorted(ids)}")
    sequences: dict[str, set[int]] = defaultdict(set)
    last: dict[str, tuple[int, str]] = {}
    for subject, sequence, type_ in ids_of:
        sequences[subject].add(sequence)
        if sequence >= last.get(subject, (0, ""))[0]:
            last[subject] = (sequence, type_)
    for subject, (count, final) in sorted(want.items()):
        if sequences.get(subject, set()) != set(range(1, count + 1)):
            found.append(
                f"{subject}: {count} committed changes, sequences delivered {sorted(sequences.get(subject, set()))}"
            )
        elif final is not None and count and last[subject][1] != final:
            found.append(f"{subject}: its record says {final}, its last event is {last[subject][1]}")
    for subject in sorted(set(sequences) - set(want)):
        found.append(f"{subject}: events delivered for no item in the tables: {sorted(sequences[subject])}")
    bus_ids, hook_ids = set(by_id), {event["id"] for event in hooks}
    if missing := sorted(bus_ids - hook_ids):
        found.append(f"{len(missing)} events on the bus never reached the webhook endpoint: {missing[:5]}")
    if extra := sorted(hook_ids - bus_ids):
        found.append(f"{len(extra)} webhook deliveries of events the bus never had: {extra[:5]}")
    return found


def invariant(facts: Facts) -> Evidence:
    stack = facts.stack
    want = expected(stack)
    # The pipeline drains on its own schedule (stream pollers, the bus tap, the delivery queue):
    # wait until what was delivered stops missing anything, within a bound.
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        bus, hooks = delivered(stack)
        found = violations(want, bus, hooks)
        if not found or time.monotonic() > deadline:
            break
        time.sleep(2)
    evidence = Evidence(NAME, checked=len(want), violations=found)
    evidence.note = (
        f"{len({e['id'] for e in bus})} event ids on the bus, {len(hooks)} webhook deliveries accepted"
    )
    return evidence
