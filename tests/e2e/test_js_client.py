"""@presign/client (clients/js) from Node against the real `make dev` with its storage proxy:
SeaweedFS judges every signature, the proxy counts every request that reaches it and injects
429/503, and each client action is a Node process of its own, as a user's program runs it.

What is proven here: a small and a multipart file uploaded, completed and downloaded back identical;
429 and 503 (from the storage and from the API) waited out as Retry-After says; an expired part URL
renewed; an upload interrupted with its signal resumed by a new process that sends only the missing
parts, counted by the proxy; a single PUT interrupted mid-body resumed by replaying its create; a
create whose answer is dropped retried into one upload and one unit of the limit; cancel() deleting;
the rest of the API with the contract's error codes.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.dev_config import DEV_UPLOAD_LIMIT
from local.proxy_control import ProxyControl
from local.storage_proxy import Fault, StorageProxy
from tests.e2e.devstack import DevStack
from tests.e2e.jsclient import (
    MiB,
    api,
    driver,
    moto_pid,
    part_puts,
    random_file,
    read_lines,
    require_client_built,
    stored_parts,
    uploads_of,
)

pytestmark = pytest.mark.realserver

BIG = 12 * MiB + 5  # make dev: multipart above 8 MiB in 5 MiB parts: 5 + 5 + 2 MiB and 5 bytes
FOUR_PARTS = 17 * MiB  # 5 + 5 + 5 + 2 MiB


@pytest.fixture(scope="module")
def stack(proxied_dev_stack: DevStack) -> DevStack:
    require_client_built()
    return proxied_dev_stack


@pytest.fixture
def proxy(stack: DevStack) -> Iterator[ProxyControl]:
    control = ProxyControl(stack.state["storage_proxy"])
    control.set_faults([])
    control.clear()
    yield control
    control.set_faults([])


# ---------------------------------------------------------------------------------- the whole flow


@pytest.mark.parametrize(
    ("size", "parts", "in_memory"),
    [(20, None, False), (BIG, 3, False), (BIG, 3, True)],
    ids=["small", "multipart", "multipart-node-file"],
)
def test_a_file_is_uploaded_completed_and_downloaded_back_identical(
    stack: DevStack, proxy: ProxyControl, tmp_path: Path, size: int, parts: int | None, in_memory: bool
) -> None:
    # Given a file, small or above make dev's 8 MiB multipart threshold, as a path or a Node File
    client = driver(stack, tmp_path, "flow")
    path = random_file(tmp_path / "photo.bin", size)

    # When one client.upload() runs, and the key is downloaded back
    run = client.run({"file": str(path), "inMemory": in_memory, "download": str(tmp_path / "back.bin")})

    # Then it completed as one upload (in parts when the server said so), the bytes came back
    # the same, progress only rose to the size, and no resume record is left
    done = run.result
    assert done["status"] == "complete" and done["size"] == size, run
    assert done["key"].startswith(f"users/{client.sub}/") and done["key"].endswith("/photo.bin"), done
    assert done["etag"].strip('"').endswith(f"-{parts}") if parts else "-" not in done["etag"], done
    assert (tmp_path / "back.bin").read_bytes() == path.read_bytes()
    count, rising, last = run.progress
    assert count >= 1 and rising and last == size, run.progress
    assert [e["type"] for e in run.events if e["type"] != "part"] == ["created"], run
    assert sorted(stored_parts(proxy.log())) == list(range(1, (parts or 0) + 1)), part_puts(proxy.log())
    assert client.records() == [], client.records()


def test_part_checksums_are_sent_verified_and_kept_across_a_resume(
    stack: DevStack, proxy: ProxyControl, tmp_path: Path
) -> None:
    # Given an upload with part checksums (SeaweedFS verifies x-amz-checksum-sha256), interrupted
    # after its first part
    client = driver(stack, tmp_path, "checksums")
    path = random_file(tmp_path / "big.bin", BIG)
    plan = {"file": str(path), "options": {"checksums": True, "concurrency": 1}}
    first = client.run({**plan, "abortAfterPart": 1})
    assert first.error["name"] == "AbortError", first
    (record,) = client.records()
    assert [bool(p["checksum_sha256"]) for p in json.loads(record.read_text())["parts"]] == [True], record

    # When a new process uploads the same file
    second = client.run({**plan, "download": str(tmp_path / "back.bin")})

    # Then each part's URL was asked with its checksum (one at a time), the storage accepted them,
    # and the completion named every part's checksum: the same bytes came back
    assert second.result["upload_id"] == first.error["uploadId"], second
    assert [e["partNumbers"] for e in first.of("renewed") + second.of("renewed")] == [[1], [2], [3]], second
    assert sorted(stored_parts(proxy.log())) == [1, 2, 3], part_puts(proxy.log())
    assert (tmp_path / "back.bin").read_bytes() == path.read_bytes()


# ------------------------------------------------------------------------------------------ retries


def test_the_storages_503_and_429_are_waited_out(
    stack: DevStack, proxy: ProxyControl, tmp_path: Path
) -> None:
    # Given a storage that answers the first part PUT 503 and the next 429, each with Retry-After: 1
    proxy.set_faults([
        {"action": "status", "status": 503, "retry_after": 1, "method": "PUT", "query": "partNumber", "times": 1},
        {"action": "status", "status": 429, "retry_after": 1, "method": "PUT", "query": "partNumber", "times": 1},
    ])  # fmt: skip
    client = driver(stack, tmp_path, "storage-busy")
    path = random_file(tmp_path / "big.bin", BIG)

    # When the client uploads in parts
    run = client.run({"file": str(path), "options": {"concurrency": 1}})

    # Then it waited at least Retry-After after each, sent those parts again, and completed
    assert run.result["status"] == "complete", run
    waits = [(e["status"], e["wait"]) for e in run.of("retry")]
    assert [status for status, _ in waits] == [503, 429], run
    assert all(wait >= 1000 for _, wait in waits), waits
    assert part_puts(proxy.log()) == [(1, 503), (1, 429), (1, 200), (2, 200), (3, 200)], part_puts(
        proxy.log()
    )


def test_the_apis_429_is_waited_out_as_retry_after_says(
    stack: DevStack, proxy: ProxyControl, tmp_path: Path
) -> None:
    # Given a caller who has spent make dev's whole burst of uploads
    client = driver(stack, tmp_path, "limited")
    body = {"filename": "x.txt", "content_type": "text/plain", "size": 1}
    for _ in range(DEV_UPLOAD_LIMIT["burst"]):
        assert api(stack, client.sub, "POST", "/uploads", json=body).status_code == 201
    refused = api(stack, client.sub, "POST", "/uploads", json=body)
    assert refused.status_code == 429, refused.text
    path = random_file(tmp_path / "small.txt", 100)

    # When the client asks for another upload
    run = client.run({"file": str(path)})

    # Then it met the 429, waited what Retry-After said, and its retry was admitted
    assert run.result["status"] == "complete", run
    retries = run.of("retry")
    assert retries and all((e["status"], e["code"]) == (429, "rate_limited") for e in retries), run
    assert retries[0]["wait"] >= int(refused.headers["Retry-After"]) * 1000 - 1000, (retries, refused.headers)


def test_the_apis_503_while_dynamodb_is_down_is_waited_out(
    stack: DevStack, proxy: ProxyControl, tmp_path: Path
) -> None:
    # Given make dev's DynamoDB (the moto server) frozen: the service fails closed, 503 with Retry-After
    client = driver(stack, tmp_path, "outage")
    path = random_file(tmp_path / "small.txt", 100)
    pid = moto_pid(stack)
    os.kill(pid, signal.SIGSTOP)
    thawed = False
    try:
        # When the client uploads, and DynamoDB comes back once it has met the 503
        proc = client.start({"file": str(path)})
        lines = read_lines(proc)
        first = next(lines)
        os.kill(pid, signal.SIGCONT)
        thawed = True
        rest = list(lines)
        proc.wait(timeout=120)
    finally:
        if not thawed:
            os.kill(pid, signal.SIGCONT)

    # Then it waited (Retry-After and a backoff) and the retry went through
    assert "event" in first and first["event"]["type"] == "retry", first
    assert (first["event"]["status"], first["event"]["code"]) == (503, "dependency_unavailable"), first
    assert first["event"]["wait"] >= 1000, first
    result = next(line["result"] for line in rest if "result" in line)
    assert result["status"] == "complete", rest


def test_an_expired_part_url_is_renewed(stack: DevStack, proxy: ProxyControl, tmp_path: Path) -> None:
    # Given part URLs that live 1 s, and a storage that keeps the first part waiting 2 s (a 503
    # with Retry-After: 2), so its URL has expired when it is sent again
    proxy.set_faults(
        [{"action": "status", "status": 503, "retry_after": 2, "method": "PUT", "query": "partNumber"}]
    )
    client = driver(stack, tmp_path, "expiry")
    path = random_file(tmp_path / "big.bin", BIG)

    # When the client uploads in parts, one at a time
    run = client.run({"file": str(path), "options": {"concurrency": 1, "expiresIn": 1}})

    # Then the storage refused the expired URL (403), the client renewed it through /parts and
    # completed with fresh URLs
    assert run.result["status"] == "complete", run
    assert run.of("expired") == [{"type": "expired", "uploadId": run.result["upload_id"], "partNumber": 1}], (
        run
    )
    assert run.of("renewed") and run.of("renewed")[0]["partNumbers"][0] == 1, run
    puts = part_puts(proxy.log())
    assert puts[:2] == [(1, 503), (1, 403)] and sorted(stored_parts(proxy.log())) == [1, 2, 3], puts


# ------------------------------------------------------------------------------------------- resume


def test_an_interrupted_upload_resumes_in_a_new_process_and_sends_only_the_missing_parts(
    stack: DevStack, proxy: ProxyControl, tmp_path: Path
) -> None:
    # Given a four-part upload whose signal is aborted once two parts are stored
    client = driver(stack, tmp_path, "resume")
    path = random_file(tmp_path / "video.bin", FOUR_PARTS)
    first = client.run({"file": str(path), "options": {"concurrency": 1}, "abortAfterPart": 2})
    interrupted = first.error
    assert (interrupted["name"], interrupted["uploadId"] is not None) == ("AbortError", True), first
    assert stored_parts(proxy.log()) == [1, 2], part_puts(proxy.log())
    # its resume record holds no URL, token or signature
    (record_file,) = client.records()
    record = record_file.read_text("utf-8")
    assert json.loads(record)["upload_id"] == interrupted["uploadId"], record
    assert "http" not in record and "X-Amz" not in record and client.stack.token(client.sub) not in record, (
        record
    )
    assert oct(record_file.stat().st_mode & 0o777) == "0o600", oct(record_file.stat().st_mode)
    mark = proxy.log()[-1].seq + 1

    # When a new process uploads the same file (default concurrency)
    second = client.run({"file": str(path), "download": str(tmp_path / "back.bin")})

    # Then it continued the same upload: only parts 3 and 4 reached the storage, and it completed
    assert second.result["upload_id"] == interrupted["uploadId"], second
    assert second.of("resumed") == [
        {"type": "resumed", "uploadId": interrupted["uploadId"], "storedParts": [1, 2]}
    ]
    assert sorted(part_puts(proxy.log(since=mark))) == [(3, 200), (4, 200)], part_puts(proxy.log(since=mark))
    assert (tmp_path / "back.bin").read_bytes() == path.read_bytes()
    assert second.progress[1] and second.progress[2] == FOUR_PARTS, second.progress
    assert client.records() == []
    assert [u["upload_id"] for u in uploads_of(stack, client.sub)] == [interrupted["uploadId"]]


def test_a_single_put_interrupted_mid_body_resumes_by_replaying_its_create(
    stack: DevStack, proxy: ProxyControl, tmp_path: Path
) -> None:
    # Given a 6 MiB file (one PUT under make dev's threshold) interrupted after 1 MiB went out
    client = driver(stack, tmp_path, "single")
    size = 6 * MiB
    path = random_file(tmp_path / "scan.pdf", size)
    first = client.run({"file": str(path), "abortAfterBytes": MiB})
    assert first.error["name"] == "AbortError" and first.error["uploadId"], first
    puts = [e for e in proxy.log() if e.method == "PUT"]
    assert [(e.status, e.fault) for e in puts] == [(0, "client_aborted")], puts
    mark = proxy.log()[-1].seq + 1

    # When a new process uploads the same file
    second = client.run({"file": str(path), "download": str(tmp_path / "back.pdf")})

    # Then the replayed create named the same upload (one upload only), one whole PUT was stored
    assert second.result["upload_id"] == first.error["uploadId"], second
    assert second.of("resumed") == [
        {"type": "resumed", "uploadId": first.error["uploadId"], "storedParts": []}
    ]
    puts = [(e.status, e.bytes_in) for e in proxy.log(since=mark) if e.method == "PUT"]
    assert puts == [(200, size)], puts
    assert [u["upload_id"] for u in uploads_of(stack, client.sub)] == [first.error["uploadId"]]
    assert (tmp_path / "back.pdf").read_bytes() == path.read_bytes()


def test_cancel_deletes_the_interrupted_upload_and_its_record(
    stack: DevStack, proxy: ProxyControl, tmp_path: Path
) -> None:
    # Given an upload interrupted after its first part
    client = driver(stack, tmp_path, "cancel")
    path = random_file(tmp_path / "big.bin", BIG)
    first = client.run({"file": str(path), "options": {"concurrency": 1}, "abortAfterPart": 1})
    upload_id = first.error["uploadId"]

    # When another process cancels the same file
    canceled = client.run({"action": "cancel", "file": str(path)})

    # Then the upload is deleted (aborted) and the record is gone; a second cancel finds nothing
    assert canceled.result is True, canceled
    status = api(stack, client.sub, "GET", f"/uploads/{upload_id}")
    assert (status.status_code, status.json().get("status")) in ((200, "aborted"), (410, None)), status.text
    assert client.records() == []
    assert client.run({"action": "cancel", "file": str(path)}).result is False


# -------------------------------------------------------------------------------------- idempotency


def test_a_create_whose_answer_is_dropped_is_retried_into_one_upload_and_one_unit_of_the_limit(
    stack: DevStack, tmp_path: Path
) -> None:
    # Given a proxy in front of the API that forwards the first POST /uploads, then drops its answer
    client = driver(stack, tmp_path, "dropped")
    path = random_file(tmp_path / "note.txt", 64)
    with StorageProxy(stack.base_url, rewrite_host=True) as front:
        front.set_faults([Fault(action="drop", method="POST", path="^/uploads$", times=1)])
        client.base_url = front.endpoint_url

        # When the client uploads through it
        run = client.run({"file": str(path)})
        creates = [(e.status, e.fault) for e in front.log() if (e.method, e.path) == ("POST", "/uploads")]
        dropped_at = next(e.at for e in front.log() if e.fault == "drop")

    # Then the create reached the API twice (the second with the same Idempotency-Key), the client
    # saw no answer once, and one upload exists
    assert run.result["status"] == "complete", run
    assert creates == [(201, "drop"), (201, None)], creates
    assert [(e["status"], e["code"]) for e in run.of("retry")] == [(0, "network")], run
    assert [u["upload_id"] for u in uploads_of(stack, client.sub)] == [run.result["upload_id"]]
    # and one unit of the limit was spent: a probe spends the next one and sees what is left
    probe = api(
        stack,
        client.sub,
        "POST",
        "/uploads",
        json={"filename": "p.txt", "content_type": "text/plain", "size": 1},
    )
    assert probe.status_code == 201, probe.text
    assert int(probe.headers["RateLimit-Remaining"]) in remaining_after(2, time.time() - dropped_at), (
        probe.headers
    )


def remaining_after(spent: int, elapsed: float) -> set[int]:
    """What make dev's upload limit (GCRA: burst 5, one unit back every 6 s) reports as remaining
    after ``spent`` units, the first ``elapsed`` seconds ago (give or take a second of the first
    request's own time): a duplicate spend would show one less."""
    interval = DEV_UPLOAD_LIMIT["period"] / DEV_UPLOAD_LIMIT["rate"]
    burst = DEV_UPLOAD_LIMIT["burst"]
    return {min(burst, burst - spent + int(e // interval)) for e in (elapsed, elapsed + 1)}


# ------------------------------------------------------------------------------------- the rest


def test_the_rest_of_the_api_with_the_contracts_error_codes(stack: DevStack, tmp_path: Path) -> None:
    client = driver(stack, tmp_path, "tour")
    path = random_file(tmp_path / "notes.txt", 300)
    path.write_text("notes for the tour\n")

    out = client.run({"action": "api", "file": str(path)}).result

    assert out["status"]["status"] == "complete" and out["status"]["metadata"] == {"album": "tour"}, out
    assert out["listed"] == [out["status"]["upload_id"]] == out["all"], out
    items = out["downloads"]["items"]
    assert items[0]["url"] and items[1]["error"]["code"] == "forbidden", items
    assert out["bytes"] == "notes for the tour\n", out
    assert out["share"] == {"handle": out["shares"][0], "max_downloads": 2, "url_is_link": True}, out
    assert out["revoked"] == "revoked", out
    errors = out["errors"]
    assert (errors["unknown"]["name"], errors["unknown"]["status"], errors["unknown"]["code"]) == (
        "ApiError",
        404,
        "not_found",
    )
    assert (errors["html"]["status"], errors["html"]["code"]) == (415, "unsupported_content_type"), errors
    assert (errors["outside"]["status"], errors["outside"]["code"]) == (403, "forbidden"), errors
    assert out["deleted"] in ("deleted",) or out["deleted"]["status"] == 410, out
    assert client.records() == [], "a refused create leaves no resume record"
