"""The installed ``presign`` command against `make dev`: uploads, downloads, JSON, the progress
bar on a terminal and not in a pipe, the other commands and the exit codes."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from local.proxy_control import ProxyControl
from tests.clients.conftest import BIG_SIZE, PRESIGN, Caller, part_puts

pytestmark = pytest.mark.realserver


def assert_completed(
    record: dict[str, object], caller: Caller, name: str, size: int, parts: int | None
) -> None:
    assert record["status"] == "complete" and record["size"] == size, record
    assert str(record["key"]).startswith(f"users/{caller.sub}/") and str(record["key"]).endswith(name), record
    etag = str(record["etag"]).strip('"')
    assert etag.endswith(f"-{parts}") if parts else "-" not in etag, record
    assert set(record) == {"upload_id", "key", "size", "content_type", "etag", "status"}, record


@pytest.mark.parametrize(("size", "parts"), [(1234, None), (BIG_SIZE, 3)], ids=["small", "11MiB-in-parts"])
def test_upload_json_prints_the_completed_record_and_get_brings_the_same_bytes_back(
    caller: Caller,
    proxy: ProxyControl,
    make_file: Callable[[str, int], Path],
    tmp_path: Path,
    size: int,
    parts: int | None,
) -> None:
    # Given a file, small or in parts
    source = make_file("data.bin", size)

    # When it is uploaded with --json, then downloaded by key and by upload id
    upload = caller.run("upload", str(source), "--json").ok()
    completed = upload.document()
    by_key = caller.run("get", completed["key"], "-o", str(tmp_path / "by-key.bin")).ok()
    by_id = caller.run("get", completed["upload_id"], "-o", str(tmp_path / "by-id.bin"), "--json").ok()

    # Then stdout was exactly the completed record, the service agrees, and the bytes came back
    assert_completed(completed, caller, "data.bin", size, parts)
    status = caller.api("GET", f"/uploads/{completed['upload_id']}").json()
    assert (status["status"], status["etag"]) == ("complete", completed["etag"]), status
    assert (tmp_path / "by-key.bin").read_bytes() == source.read_bytes()
    assert (tmp_path / "by-id.bin").read_bytes() == source.read_bytes()
    assert by_id.document() == {"key": completed["key"], "path": str(tmp_path / "by-id.bin"), "size": size}
    assert by_key.stdout.startswith(str(tmp_path / "by-key.bin")), by_key.stdout
    # in parallel parts, each PUT once; no progress bar and no notes in a pipe
    if parts:
        sent = sorted(e.part_number or 0 for e in part_puts(proxy, completed["upload_id"]))
        assert sent == [1, 2, 3], sent
    assert upload.stderr == "", upload.stderr
    # and a completed upload leaves no resume record behind
    assert caller.records() == []


def test_the_progress_bar_is_drawn_on_a_terminal_and_absent_in_a_pipe(
    caller: Caller, proxy: ProxyControl, make_file: Callable[[str, int], Path]
) -> None:
    # Given a multipart file whose parts take a moment each (one at a time, each answer delayed)
    source = make_file("bar.bin", BIG_SIZE)
    proxy.set_faults(
        [{"action": "delay", "seconds": 0.5, "method": "PUT", "query": "partNumber", "times": None}]
    )

    # When presign uploads it on a pseudo-terminal (stdout and stderr both the terminal)
    screen, code = run_on_terminal([str(PRESIGN), "upload", str(source), "--concurrency", "1"], caller.env())
    # and again with stdout and stderr piped
    piped = caller.run("upload", str(make_file("piped.bin", BIG_SIZE)), "--concurrency", "1")

    # Then the terminal saw tqdm's bar: name, percentage, bytes of the total, rate and ETA,
    # redrawn in place (carriage returns), ending at 100 %
    assert code == 0, screen
    assert "bar.bin:" in screen and "100%|" in screen, screen
    assert "11.0M/11.0M" in screen and "B/s]" in screen and "<" in screen, screen
    assert screen.count("\r") >= 3, screen
    # and values in between: after each delayed answer, the next part's first block redraws it
    between = {int(p) for p in re.findall(r"(\d+)%\|", screen)} - {0, 100}
    assert between, screen
    # and the pipe saw none of it: the result line on stdout, nothing on stderr
    piped.ok()
    assert "\r" not in piped.stdout + piped.stderr and "%|" not in piped.stderr, piped
    assert piped.stderr == "" and piped.stdout.startswith("complete  users/"), piped


def run_on_terminal(argv: list[str], env: dict[str, str], timeout: float = 90) -> tuple[str, int]:
    """Run ``argv`` with a pseudo-terminal as stdin, stdout and stderr; all it wrote, and its exit."""
    controller, terminal = pty.openpty()
    # A window of 120 x 30, as a terminal emulator sets it (a bare pty says 0 x 0)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    proc = subprocess.Popen(argv, stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    data = os.read(controller, 65536)
                except OSError:  # EIO: the terminal's other end closed
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    return b"".join(chunks).decode("utf-8", "replace"), code


def test_share_ls_and_rm(caller: Caller, make_file: Callable[[str, int], Path]) -> None:
    # Given an upload made with --share (a link for two downloads, behind a password)
    source = make_file("notes.txt", 100)
    options = ["--json", "--share", "--max-downloads", "2", "--password", "-"]
    completed = caller.run("upload", str(source), *options, stdin="a long passphrase\n").ok().document()
    # When the caller lists, shares again by upload id, and removes it
    listed = caller.run("ls", "--json").ok().document()
    again = caller.run("share", completed["upload_id"]).ok()
    removed = caller.run("rm", completed["upload_id"], "--json").ok().document()
    after = caller.run("ls", "--status", "complete", "--json").ok().document()

    # Then the share came with the record, the list had it, rm removed it
    share = completed["share"]
    assert share["max_downloads"] == 2 and share["password_protected"] is True, share
    assert share["url"].startswith(caller.stack.base_url + "/s/"), share
    assert [i["upload_id"] for i in listed["items"]] == [completed["upload_id"]], listed
    assert again.stdout.startswith(caller.stack.base_url + "/s/") and again.stdout.count("\n") == 1, again
    assert removed == {"upload_id": completed["upload_id"], "removed": True}
    assert after["items"] == [], after
    status = caller.api("GET", f"/uploads/{completed['upload_id']}")
    assert status.status_code == 410 or status.json()["status"] == "deleted", status.text


def test_exit_codes_say_what_went_wrong(
    caller: Caller, make_file: Callable[[str, int], Path], tmp_path: Path
) -> None:
    source = make_file("x.txt", 10)
    no_config = caller.run("ls", env={"PATH": os.environ["PATH"], "HOME": str(caller.home)})
    bad_token = caller.run("ls", env=caller.env(PRESIGN_TOKEN="not-a-token"))
    unknown = caller.run("get", "01unknownuploadid000000000", "-o", str(tmp_path / "x"))
    refused = caller.run("upload", str(source), "--content-type", "text/html")
    nothing = caller.run("resume")
    missing_file = caller.run("upload", str(tmp_path / "no-such-file"))

    assert no_config.code == 2 and "PRESIGN_URL" in no_config.stderr, no_config
    assert bad_token.code == 3 and "invalid_token" in bad_token.stderr, bad_token
    assert unknown.code == 5 and "not_found" in unknown.stderr, unknown
    assert refused.code == 4 and "unsupported_content_type" in refused.stderr, refused
    assert nothing.code == 5 and "nothing to resume" in nothing.stderr, nothing
    assert missing_file.code == 1 and "no-such-file" in missing_file.stderr, missing_file
    # a failure prints its error on stderr and nothing on stdout, --json or not
    assert all(r.stdout == "" for r in (no_config, bad_token, unknown, refused, nothing, missing_file))
    # and the token never appears in what the command printed
    assert caller.token not in "".join(r.stderr for r in (bad_token, unknown, refused))


def test_an_empty_file_a_refused_guess_and_an_unwritable_state_dir(
    caller: Caller, make_file: Callable[[str, int], Path], tmp_path: Path
) -> None:
    # Given an empty file, a file whose name makes a type the dev target refuses (text/html),
    # and a state directory that cannot be made (its parent is a file)
    empty = make_file("empty.txt", 0)
    page = make_file("page.html", 300)
    blocked = make_file("not-a-directory", 1)

    # When each is uploaded
    got_empty = caller.run("upload", str(empty), "--json").ok().document()
    refused = caller.run("upload", str(page), "--json")
    no_state = caller.run(
        "upload",
        str(make_file("anyway.txt", 10)),
        "--json",
        env=caller.env(PRESIGN_STATE_DIR=str(blocked / "state")),
    ).ok()

    # Then the empty file completed with size 0; the page was refused (exit 4) with what to do;
    # and the upload without a place for its resume record went through, saying it cannot resume
    assert (got_empty["status"], got_empty["size"]) == ("complete", 0), got_empty
    assert refused.code == 4 and "unsupported_content_type" in refused.stderr, refused
    assert "guessed from the file's name: give one with --content-type" in refused.stderr, refused
    assert refused.stdout == "" and caller.records() == [], refused  # nothing to resume
    assert no_state.document()["status"] == "complete"
    assert "cannot keep a resume record" in no_state.stderr and "will not resume" in no_state.stderr, no_state
