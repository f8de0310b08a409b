"""``presign_client.Client`` used as a library against `make dev`: a file object with metadata,
an upload stopped through its ``stop`` event and continued by ``upload`` of the same path in a
new ``Client`` (counted at the storage), and typed errors."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest

from local.proxy_control import ProxyControl
from presign_client import Client, Interrupted, NotFoundError
from tests.clients.conftest import BIG_SIZE, Caller, part_puts

pytestmark = pytest.mark.realserver
PART = 5 * 1024 * 1024


def test_a_file_object_with_metadata_uploads_lists_and_downloads(caller: Caller, tmp_path: Path) -> None:
    data = os.urandom(3000)
    with Client(caller.stack.base_url, lambda: caller.token, state_dir=caller.state_dir) as client:
        completed = client.upload(io.BytesIO(data), filename="report.pdf", metadata={"team": "blue"})
        client.download(completed["key"], tmp_path / "back.pdf")
        status = client.status(completed["upload_id"])
        listed = [u["upload_id"] for u in client.iter_uploads(status="complete")]

    assert completed["status"] == "complete" and completed["content_type"] == "application/pdf", completed
    assert (tmp_path / "back.pdf").read_bytes() == data
    assert status["metadata"] == {"team": "blue"} and status["filename"] == "report.pdf", status
    assert listed == [completed["upload_id"]], listed
    assert caller.records() == []  # a file object keeps no resume record


def test_stop_interrupts_and_the_same_path_continues_the_same_upload(
    caller: Caller, proxy: ProxyControl, tmp_path: Path
) -> None:
    # Given an 11 MiB file sent one part at a time, and a stop event set once part 1 is sent
    source = tmp_path / "movie.bin"
    source.write_bytes(os.urandom(BIG_SIZE))
    stop = threading.Event()

    def on_progress(sent: int, total: int) -> None:
        if sent >= PART:
            stop.set()

    with Client(caller.stack.base_url, caller.token, state_dir=caller.state_dir, concurrency=1) as client:
        with pytest.raises(Interrupted) as interrupted:
            client.upload(source, on_progress=on_progress, stop=stop)
        upload_id = interrupted.value.upload_id
        assert upload_id and [r.upload_id for r in client.interrupted()] == [upload_id]
    stored = [
        p["part_number"] for p in caller.api("GET", f"/uploads/{upload_id}").json()["multipart"]["parts"]
    ]
    since = len(proxy.log())

    # When a new Client uploads the same path
    with Client(caller.stack.base_url, caller.token, state_dir=caller.state_dir) as client:
        completed = client.upload(source)

    # Then it completed that same upload, sending only the parts the storage lacked
    assert completed["upload_id"] == upload_id and completed["status"] == "complete", completed
    sent = sorted(e.part_number or 0 for e in part_puts(proxy, upload_id, since))
    assert stored == [1] and sent == [2, 3], (stored, sent)
    assert caller.records() == []


def test_errors_are_typed_with_the_contracts_code(caller: Caller) -> None:
    with (
        Client(caller.stack.base_url, caller.token, resume=False) as client,
        pytest.raises(NotFoundError) as error,
    ):
        client.status("01nosuchupload0000000000000")
    assert (error.value.status, error.value.code, error.value.known_code) == (404, "not_found", True)
