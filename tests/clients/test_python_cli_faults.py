"""The installed ``presign`` command rides out what the contract says to ride out, against
`make dev`: the API's real 429 (its rate limit) and 503 (DynamoDB frozen), the storage's 429 and
503 (``SlowDown``, injected by the proxy), a connection dropped after the storage did the work,
and a part URL that expired before it was used (renewed through ``/parts``)."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from local.proxy_control import ProxyControl
from tests.clients.conftest import BIG_SIZE, Caller, moto_pid, part_puts

pytestmark = pytest.mark.realserver

SMALL = 2048


def test_an_api_429_is_waited_out_as_retry_after_says(
    caller: Caller, make_file: Callable[[str, int], Path]
) -> None:
    # Given a caller who has just spent make dev's upload burst (5 at once)
    body = {"filename": "x.txt", "content_type": "text/plain", "size": 1}
    statuses = [caller.api("POST", "/uploads", json=body).status_code for _ in range(6)]
    assert statuses == [201] * 5 + [429], statuses

    # When presign uploads a file
    run = caller.run("upload", str(make_file("after-429.txt", SMALL)), "--json").ok()

    # Then it met one 429, waited at least Retry-After before the retry, and completed
    waits = re.findall(
        r"POST /uploads: 429 rate_limited, Retry-After (\d+): retrying in ([\d.]+) s", run.stderr
    )
    assert len(waits) == 1 and float(waits[0][1]) >= int(waits[0][0]) >= 1, run.stderr
    assert run.seconds >= int(waits[0][0]), run
    assert run.document()["status"] == "complete"


def test_an_api_503_is_waited_out_while_dynamodb_is_down(
    caller: Caller, make_file: Callable[[str, int], Path]
) -> None:
    # Given make dev's DynamoDB (the moto server) frozen: the service answers 503
    # dependency_unavailable with Retry-After (a real outage, no stub)
    moto = moto_pid(caller.stack)
    os.kill(moto, signal.SIGSTOP)
    thawed = False
    try:
        # When presign asks for an upload, and DynamoDB comes back once presign has met the 503
        proc = caller.start("upload", str(make_file("outage.txt", SMALL)), "--json")
        assert proc.stderr is not None
        first = proc.stderr.readline()
        os.kill(moto, signal.SIGCONT)
        thawed = True
        stdout, rest = proc.communicate(timeout=120)
    finally:
        if not thawed:
            os.kill(moto, signal.SIGCONT)

    # Then it waited at least Retry-After after each 503, and went through to the end. The
    # claim of its Idempotency-Key may have been written before DynamoDB froze and not removed:
    # the same key then answers 409 idempotency_in_progress until the claim is 30 s old, which
    # a retry bounded by time (not by a count) outlasts (docs/clients.md, "Idempotency-Key")
    stderr = first + rest
    assert proc.returncode == 0, stdout + stderr
    waits = re.findall(r"POST /uploads: (\d+) (\w+), Retry-After (\d+): retrying in ([\d.]+) s", stderr)
    assert waits and waits[0][:2] == ("503", "dependency_unavailable"), stderr
    allowed = {("503", "dependency_unavailable"), ("409", "idempotency_in_progress")}
    assert all(w[:2] in allowed for w in waits), stderr
    assert all(float(wait) >= int(after) >= 1 for *_, after, wait in waits), waits
    assert stdout.count("\n") == 1 and '"status": "complete"' in stdout, stdout


def test_the_storages_429_and_503_and_a_dropped_answer_are_ridden_out(
    caller: Caller, proxy: ProxyControl, make_file: Callable[[str, int], Path]
) -> None:
    # Given a storage that answers the first part PUT 503 (Retry-After 1), the next 429
    # (Retry-After 2), and drops the answer of the one after (having stored the part)
    source = make_file("faults.bin", BIG_SIZE)
    since = len(proxy.log())
    part = {"method": "PUT", "query": "partNumber", "times": 1}
    proxy.set_faults(
        [
            {"action": "status", "status": 503, "retry_after": 1, **part},
            {"action": "status", "status": 429, "retry_after": 2, **part},
            {"action": "drop", **part},
        ]
    )

    # When presign uploads the file in parts
    run = caller.run("upload", str(source), "--json").ok()

    # Then each refused part waited at least what Retry-After said, was sent again, and the
    # upload completed with every part stored once
    completed = run.document()
    puts = part_puts(proxy, completed["upload_id"], since)
    by_part: dict[int, list[tuple[int, str | None, float]]] = {}
    for e in puts:
        by_part.setdefault(e.part_number or 0, []).append((e.status, e.fault, e.at))
    faults = sorted((e.fault, e.status) for e in puts if e.fault)
    assert faults == [("drop", 200), ("status", 429), ("status", 503)], puts
    for attempts in by_part.values():
        assert attempts[-1][:2] == (200, None), by_part
        if attempts[0][1] == "status":
            waited = attempts[1][2] - attempts[0][2]
            assert waited >= (2 if attempts[0][0] == 429 else 1), by_part
    assert sorted(by_part) == [1, 2, 3], by_part
    assert "429 SlowDown from the storage, Retry-After 2: retrying in" in run.stderr, run.stderr
    assert "503 SlowDown from the storage, Retry-After 1: retrying in" in run.stderr, run.stderr
    assert "no answer (ConnectionError) from the storage: retrying in" in run.stderr, run.stderr
    assert completed["status"] == "complete" and completed["etag"].strip('"').endswith("-3"), completed


def test_an_expired_part_url_is_renewed_through_parts(
    caller: Caller, proxy: ProxyControl, make_file: Callable[[str, int], Path]
) -> None:
    # Given part URLs that live 2 s, and a first part whose answer comes 4 s after it was
    # stored: when part 2 goes (parts one at a time), its URL has expired, for certain
    source = make_file("expiring.bin", BIG_SIZE)
    since = len(proxy.log())
    proxy.set_faults([{"action": "delay", "seconds": 4, "method": "PUT", "query": "partNumber", "times": 1}])

    # When presign uploads the file
    run = caller.run("upload", str(source), "--json", "--expires-in", "2", "--concurrency", "1").ok()

    # Then the storage refused part 2's URL as expired (403), presign renewed it through
    # POST /uploads/{id}/parts (with part 3's, signed at the same time), and sent it again
    completed = run.document()
    sent = [(e.part_number, e.status) for e in part_puts(proxy, completed["upload_id"], since)]
    assert sent == [(1, 200), (2, 403), (2, 200), (3, 200)], sent
    assert run.stderr.count("the storage refused an expired URL: renewed it") == 1, run.stderr
    assert completed["status"] == "complete", completed
