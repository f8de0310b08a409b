"""Resume, proven by counting what reached the storage (the proxy's log): ``presign`` killed in
the middle of an upload, then ``presign resume`` (or the same ``presign upload`` again) sends only
what the storage lacks and completes the same upload; Ctrl-C keeps the record; only ``presign rm``
deletes. The resume record never holds a URL, a token or a signature."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.proxy_control import ProxyControl
from tests.clients.conftest import BIG_SIZE, Caller, part_puts, wait_until

pytestmark = pytest.mark.realserver


def one_record(caller: Caller, *, with_upload_id: bool = True) -> dict[str, Any]:
    records = caller.records()
    assert len(records) == 1, records
    record: dict[str, Any] = json.loads(records[0].read_text())
    assert not with_upload_id or record["upload_id"], record
    return record


def assert_no_secrets(caller: Caller, text: str) -> None:
    for secret in (
        caller.stack.base_url,
        caller.stack.state["storage_proxy"],
        caller.token,
        "http",
        "X-Amz",
        "Signature",
        "Credential",
    ):
        assert secret not in text, f"{secret!r} in the resume record: {text}"


def upload_id_recorded(caller: Caller) -> str | None:
    """The upload id of the one resume record, once the create has been answered."""
    records = caller.records()
    return json.loads(records[0].read_text()).get("upload_id") if len(records) == 1 else None


def stored_parts(caller: Caller, upload_id: str) -> list[int]:
    status = caller.api("GET", f"/uploads/{upload_id}").json()
    return [p["part_number"] for p in (status.get("multipart") or {}).get("parts") or []]


def test_killed_mid_upload_presign_resume_sends_only_the_missing_parts(
    caller: Caller, proxy: ProxyControl, make_file: Callable[[str, int], Path], tmp_path: Path
) -> None:
    # Given presign sending an 11 MiB file in parts, one at a time, whose second part is
    # stored but answered only 30 s later, and its resume record in $XDG_STATE_HOME/presign
    source = make_file("resumable.bin", BIG_SIZE)
    part = {"method": "PUT", "query": "partNumber", "times": 1}
    proxy.set_faults([{"action": "delay", "seconds": 0, **part}, {"action": "delay", "seconds": 30, **part}])
    env = caller.env(XDG_STATE_HOME=str(tmp_path / "xdg"))
    del env["PRESIGN_STATE_DIR"]
    proc = caller.start("upload", str(source), "--json", "--concurrency", "1", env=env)
    try:
        # When the storage holds parts 1 and 2 (the service's ListParts says so), it is killed
        state = tmp_path / "xdg" / "presign" / "uploads"
        upload_id = wait_until(
            lambda: next((json.loads(p.read_text())["upload_id"] for p in state.glob("*.json")), None),
            "a resume record with an upload id",
        )
        wait_until(lambda: stored_parts(caller, upload_id) == [1, 2], "parts 1 and 2 stored")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    proxy.set_faults([])
    killed_at = len(proxy.log())
    record_file = next(state.glob("*.json"))
    record_text = record_file.read_text()
    modes = (record_file.stat().st_mode, state.stat().st_mode, state.parent.stat().st_mode)

    # and presign resume runs in a new process
    run = caller.run("resume", "--json", env=env).ok()

    # Then the resume sent part 3 only, and completed the same upload
    completed = run.document()
    resumed = [(e.part_number, e.status) for e in part_puts(proxy, upload_id, killed_at)]
    assert resumed == [(3, 200)], resumed
    assert completed["upload_id"] == upload_id and completed["status"] == "complete", completed
    assert completed["etag"].strip('"').endswith("-3"), completed
    copy = tmp_path / "copy.bin"
    caller.run("get", upload_id, "-o", str(copy), env=env).ok()
    assert copy.read_bytes() == source.read_bytes()
    # the record had what a resume needs and nothing it must not have; it is gone now
    record = json.loads(record_text)
    assert (record["upload_id"], record["path"], record["size"]) == (upload_id, str(source), BIG_SIZE), record
    assert record["parts"].keys() == {"1"}, record  # part 2's answer never came: ListParts told
    assert_no_secrets(caller, record_text)
    assert all(mode & 0o077 == 0 for mode in modes), [oct(m) for m in modes]  # the owner's only
    assert not record_file.exists()


def test_ctrl_c_keeps_the_record_and_the_same_upload_command_continues_it(
    caller: Caller, proxy: ProxyControl, make_file: Callable[[str, int], Path]
) -> None:
    # Given presign sending a file in parts, whose first part's answer is slow
    source = make_file("interrupted.bin", BIG_SIZE)
    proxy.set_faults([{"action": "delay", "seconds": 30, "method": "PUT", "query": "partNumber", "times": 1}])
    proc = caller.start("upload", str(source), "--json", "--concurrency", "1")
    try:
        upload_id = wait_until(lambda: upload_id_recorded(caller), "an upload id")
        wait_until(lambda: stored_parts(caller, upload_id) == [1], "part 1 stored")
        # When the user presses Ctrl-C
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    proxy.set_faults([])

    # Then presign stopped at once (before the storage had even answered part 1) with 130,
    # said how to go on, printed no result, and deleted nothing
    answered = [e for e in part_puts(proxy, upload_id) if e.part_number == 1]
    assert answered == [], answered
    assert proc.returncode == 130, (stdout, stderr)
    assert f"interrupted; resume with: presign resume {upload_id}" in stderr, stderr
    assert stdout == "", stdout
    assert caller.api("GET", f"/uploads/{upload_id}").json()["status"] == "pending"
    # and the same command again continues that upload, sending only what the storage lacks
    since = len(proxy.log())
    completed = caller.run("upload", str(source), "--json").ok().document()
    assert completed["upload_id"] == upload_id, completed
    sent = sorted(e.part_number or 0 for e in part_puts(proxy, upload_id, since))
    assert sent == [2, 3], sent
    assert caller.records() == []


def test_a_single_put_interrupted_resumes_by_replaying_its_create(
    caller: Caller, proxy: ProxyControl, make_file: Callable[[str, int], Path]
) -> None:
    # Given presign sending a small file (one PUT), which the storage answers 503 with
    # Retry-After 60: presign says so and waits, and is killed while it waits
    source = make_file("single.txt", 4096)
    proxy.set_faults(
        [{"action": "status", "status": 503, "retry_after": 60, "method": "PUT", "path": r"single\.txt$"}]
    )
    proc = caller.start("upload", str(source), "--json")
    try:
        assert proc.stderr is not None
        note = proc.stderr.readline()
        assert "PUT: 503 SlowDown from the storage, Retry-After 60" in note, note
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    proxy.set_faults([])
    record = one_record(caller)
    assert_no_secrets(caller, json.dumps(record))
    since = len(proxy.log())

    # When presign resume runs
    completed = caller.run("resume", record["upload_id"], "--json").ok().document()

    # Then it replayed the create with the same Idempotency-Key and body (the same upload, whose
    # URL still lives), sent the one PUT, and completed that upload
    puts = [e for e in proxy.log(since) if e.method == "PUT"]
    assert [(e.path.endswith("/single.txt"), e.status) for e in puts] == [(True, 200)], puts
    assert completed["upload_id"] == record["upload_id"] and completed["status"] == "complete", completed
    listed = caller.api("GET", "/uploads").json()["items"]
    assert [i["upload_id"] for i in listed] == [record["upload_id"]], listed  # no second upload
    assert caller.records() == []


def test_presign_rm_cancels_an_interrupted_upload_and_forgets_its_record(
    caller: Caller, proxy: ProxyControl, make_file: Callable[[str, int], Path]
) -> None:
    # Given an upload interrupted after its first part
    source = make_file("cancelled.bin", BIG_SIZE)
    proxy.set_faults([{"action": "delay", "seconds": 30, "method": "PUT", "query": "partNumber", "times": 1}])
    proc = caller.start("upload", str(source), "--concurrency", "1")
    try:
        upload_id = wait_until(lambda: upload_id_recorded(caller), "an upload id")
        wait_until(lambda: stored_parts(caller, upload_id) == [1], "part 1 stored")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    proxy.set_faults([])
    assert proc.returncode == 130

    # When the user removes it
    caller.run("rm", upload_id).ok()

    # Then the upload is aborted, the record is gone, and there is nothing left to resume
    status = caller.api("GET", f"/uploads/{upload_id}")
    assert status.status_code == 410 or status.json()["status"] == "aborted", status.text
    assert caller.records() == []
    again = caller.run("resume", upload_id)
    assert again.code == 5 and "no interrupted upload" in again.stderr, again


def test_an_upload_deleted_elsewhere_is_not_made_again_and_says_so(
    caller: Caller, proxy: ProxyControl, make_file: Callable[[str, int], Path]
) -> None:
    # Given an upload interrupted after its first part, then deleted from another device
    source = make_file("deleted-elsewhere.bin", BIG_SIZE)
    proxy.set_faults([{"action": "delay", "seconds": 30, "method": "PUT", "query": "partNumber", "times": 1}])
    proc = caller.start("upload", str(source), "--concurrency", "1")
    try:
        upload_id = wait_until(lambda: upload_id_recorded(caller), "an upload id")
        wait_until(lambda: stored_parts(caller, upload_id) == [1], "part 1 stored")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    proxy.set_faults([])
    deleted = caller.api("DELETE", f"/uploads/{upload_id}")
    assert deleted.status_code == 204, deleted.text

    # When the same file is uploaded again
    again = caller.run("upload", str(source))

    # Then it is not silently made again: exit 5 (gone) naming the API's 410, and no record left
    assert again.code == 5 and "upload_aborted" in again.stderr, again
    listed = caller.api("GET", "/uploads").json()["items"]
    assert [i["upload_id"] for i in listed] == [upload_id], listed
    assert caller.records() == []
    # And once more, it is a new upload
    fresh = caller.run("upload", str(source), "--json").ok().document()
    assert fresh["upload_id"] != upload_id and fresh["status"] == "complete", fresh
