"""The Python client's rules, each on its own: retry timing, progress that never goes back, the
resume store, typed errors from the contract's codes, exit codes, and the API call's
``Idempotency-Key`` kept across retries (against a small real HTTP server on loopback)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local import client_codes
from presign_client import cli, errors
from presign_client.api import Api
from presign_client.codes import KNOWN_CODES
from presign_client.progress import Progress
from presign_client.retry import CAP, Retry, backoff
from presign_client.state import ResumeRecord, ResumeStore, scope_of, state_dir, token_subject
from presign_client.storage import EXPIRED
from presign_client.terminal import Reporter

# -------------------------------------------------------------------------------------- retries


@given(
    attempt=st.integers(1, 50),
    retry_after=st.none() | st.floats(0, 3600),
    growing=st.booleans(),
    r=st.floats(0, 1, exclude_max=True),
)
def test_a_wait_is_never_shorter_than_retry_after_and_its_jitter_is_capped(
    attempt: int, retry_after: float | None, growing: bool, r: float
) -> None:
    wait = backoff(attempt, retry_after, growing=growing, rand=lambda: r)
    base = retry_after or 0.0
    assert base <= wait <= base + (CAP if growing else 1.0)


def test_retries_are_bounded_by_time_not_by_a_count() -> None:
    # Given a clock that moves only by the waits, and 60 s of patience
    now = [0.0]

    def run(retry_after: float) -> int:
        now[0] = 0.0
        retry = Retry(60, clock=lambda: now[0], rand=lambda: 0.0)
        attempts = 0
        while (wait := retry.next(retry_after, growing=False)) is not None:
            now[0] += wait
            attempts += 1
        return attempts

    # Then the number of retries is whatever fits in the time: many short ones, few long ones
    assert (run(1), run(10), run(61)) == (60, 6, 0)


# ------------------------------------------------------------------------------------- progress


def test_progress_never_goes_back_nor_counts_a_retried_byte_twice() -> None:
    # Given two parts of 100 bytes, one of which fails half way and is sent again
    seen: list[int] = []
    progress = Progress(200, lambda sent, total: seen.append(sent))
    first, other = progress.attempt(1), progress.attempt(2)
    first.add(50)
    other.add(100)
    progress.done(2, 100)
    retry = progress.attempt(1)  # part 1 again, from its first byte
    retry.add(30)
    retry.add(70)
    progress.done(1, 100)

    # Then every report is larger than the last and the total is reached exactly once
    assert seen == [50, 150, 200], seen
    assert progress.sent == 200


def test_parts_found_stored_on_resume_start_the_bar_where_they_end() -> None:
    seen: list[int] = []
    progress = Progress(300, lambda sent, total: seen.append(sent))
    progress.done(1, 100)
    progress.done(2, 100)
    progress.attempt(3).add(100)
    assert seen == [100, 200, 300]


# ---------------------------------------------------------------------------------- resume store


def test_the_state_directory_is_the_users_not_the_working_directorys(tmp_path: Path) -> None:
    assert state_dir({"PRESIGN_STATE_DIR": "/x", "XDG_STATE_HOME": "/y"}) == Path("/x")
    assert state_dir({"XDG_STATE_HOME": "/y"}) == Path("/y/presign")
    assert state_dir({}) == Path.home() / ".local" / "state" / "presign"


def test_a_record_is_found_by_its_scope_only_and_written_whole(tmp_path: Path) -> None:
    store = ResumeStore(tmp_path)
    mine, theirs = scope_of("https://api.example", "alice"), scope_of("https://api.example", "bob")
    record = ResumeRecord(
        scope=mine,
        fingerprint="f" * 64,
        path="/data/a.bin",
        size=3,
        idempotency_key="k",
        request={"filename": "a.bin", "content_type": "application/octet-stream", "size": 3},
        upload_id="01abc",
    )
    store.save(record)
    assert store.find(mine, "f" * 64) == record
    assert store.find(theirs, "f" * 64) is None and store.all(theirs) == []
    assert store.by_upload_id(mine, "01abc") == record
    assert [p.name.endswith(".json") for p in (tmp_path / "uploads").iterdir()] == [True]  # no temp left
    text = next((tmp_path / "uploads").iterdir()).read_text()
    assert "api.example" not in text and "alice" not in text, text
    store.delete(record)
    assert store.all(mine) == []


def test_the_token_subject_is_read_without_keeping_the_token() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"  # {"sub": "alice"}
    assert token_subject(token) == "alice"
    assert token_subject("opaque-token") == ""


# --------------------------------------------------------------------------------------- errors


def test_the_clients_codes_are_generated_from_the_contract_and_current() -> None:
    # Every code the service's exception classes carry is typed by the client (and the file
    # make clients checks is what the generator writes today)
    server = client_codes.codes_in_errors_module(client_codes.ERRORS.read_text("utf-8"))
    assert server <= KNOWN_CODES, server - KNOWN_CODES
    assert set(client_codes.ANNOUNCED) <= KNOWN_CODES
    assert client_codes.main(["--check"]) == 0


def test_an_openapi_enum_is_read_when_the_document_publishes_one() -> None:
    document = {"components": {"schemas": {"ErrorBody": {"properties": {"code": {"enum": ["a_code"]}}}}}}
    assert client_codes.codes_in_openapi(document) == {"a_code"}
    assert client_codes.codes_in_openapi({}) == set()


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (401, {"error": {"code": "invalid_token", "message": "no"}}, errors.AuthError, "invalid_token"),
        (404, {"error": {"code": "not_found", "message": "no"}}, errors.NotFoundError, "not_found"),
        (410, {"error": {"code": "upload_aborted", "message": "no"}}, errors.GoneError, "upload_aborted"),
        (422, {"error": {"code": "a_future_code", "message": "no"}}, errors.BadRequestError, "a_future_code"),
        (429, {"message": "Too Many Requests"}, errors.RateLimitedError, "http_429"),  # API Gateway's own
        (503, None, errors.UnavailableError, "http_503"),
    ],
)
def test_api_errors_are_typed_by_status_and_keep_the_contracts_code(
    status: int, body: Any, kind: type[errors.ApiError], code: str
) -> None:
    error = errors.api_error(status, body, fallback="reason")
    assert type(error) is kind and error.code == code and error.status == status
    assert error.known_code == (code in KNOWN_CODES)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (cli.UsageError("x"), 2),
        (errors.AuthError(403, "forbidden", "x"), 3),
        (errors.BadRequestError(422, "upload_mismatch", "x"), 4),
        (errors.ConflictError(409, "upload_not_pending", "x"), 4),
        (errors.UploadRejected("u", ["size"]), 4),
        (errors.NotFoundError(404, "not_found", "x"), 5),
        (errors.GoneError(410, "upload_gone", "x"), 5),
        (errors.ResumeError("x"), 5),
        (errors.StorageError("GET", 404, "NoSuchKey"), 5),
        (errors.RateLimitedError(429, "rate_limited", "x"), 6),
        (errors.UnavailableError(503, "dependency_unavailable", "x"), 6),
        (errors.NetworkError("x"), 6),
        (errors.StorageError("PUT", 403, "AccessDenied"), 1),
        (errors.Interrupted("u"), 130),
        (KeyboardInterrupt(), 130),
    ],
)
def test_exit_codes(exc: BaseException, code: int) -> None:
    assert cli.exit_code(exc) == code


def test_the_storages_expired_refusal_is_recognised() -> None:
    body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    assert EXPIRED.search(body) and not EXPIRED.search(b"<Code>SignatureDoesNotMatch</Code>")


# ------------------------------------------------------------------------------------- terminal


def test_no_bar_and_one_json_document_when_not_on_a_terminal() -> None:
    out, err = io.StringIO(), io.StringIO()
    reporter = Reporter(json_output=True, progress=True, stdout=out, stderr=err)
    with reporter.bar("x", 10) as callback:
        assert callback is None
    reporter.note("a retry")
    reporter.result({"a": 1}, "text")
    assert out.getvalue() == '{"a": 1}\n' and err.getvalue() == "presign: a retry\n"


# ------------------------------------------------------------------ the API call over real HTTP


class _Flaky(BaseHTTPRequestHandler):
    """Drops the first request's connection, answers 503 (Retry-After 0) to the second, 201 to
    the third; remembers every Idempotency-Key it was sent."""

    keys: ClassVar[list[str | None]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.keys.append(self.headers.get("Idempotency-Key"))
        if len(self.keys) == 1:
            self.close_connection = True
            self.connection.shutdown(2)  # no answer at all
            return
        status, body = (
            (503, {"error": {"code": "dependency_unavailable", "message": "down"}})
            if len(self.keys) == 2
            else (201, {"upload_id": "u1"})
        )
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def flaky() -> Iterator[str]:
    _Flaky.keys = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_create_keeps_its_idempotency_key_through_a_lost_answer_and_a_503(flaky: str) -> None:
    notes: list[str] = []
    api = Api(flaky, "token", patience=30, on_retry=notes.append)
    answer = api.call("POST", "/uploads", {"size": 1}, idempotency_key="the-key")
    assert answer == {"upload_id": "u1"}
    assert _Flaky.keys == ["the-key"] * 3, _Flaky.keys
    assert len(notes) == 2 and "no answer" in notes[0] and "503 dependency_unavailable" in notes[1], notes


def test_a_share_is_not_sent_again_after_its_answer_was_lost(flaky: str) -> None:
    api = Api(flaky, "token", patience=30)
    with pytest.raises(errors.NetworkError):
        api.call("POST", "/shares", {"key": "k"}, resend_without_answer=False)
    assert len(_Flaky.keys) == 1  # a second link would have been made


def test_the_docs_exit_code_table_is_the_commands() -> None:
    doc = (client_codes.ROOT / "docs" / "clients.md").read_text("utf-8")
    section = doc.split("## Python client and CLI", 1)[1].split("\n## ", 1)[0]
    table = section.split("**Exit codes**", 1)[1].split("\n\n", 2)[1]
    documented = {
        int(line.split("|")[1]) for line in table.splitlines() if line.startswith("| ") and line[2].isdigit()
    }
    constants = {
        cli.OK,
        cli.FAILED,
        cli.USAGE,
        cli.AUTH,
        cli.REFUSED,
        cli.NOT_FOUND,
        cli.UNAVAILABLE,
        cli.INTERRUPTED,
    }
    assert documented == constants, (documented, constants)


def test_the_common_options_go_before_or_after_the_command() -> None:
    parser = cli._parser()
    before = parser.parse_args(["--url", "http://a", "--json", "upload", "f"])
    after = parser.parse_args(["upload", "f", "--url", "http://a", "--json"])
    neither = parser.parse_args(["upload", "f"])
    assert (before.url, before.json) == (after.url, after.json) == ("http://a", True)
    assert neither.json is False and neither.patience == 120.0


class _PartsApi:
    """An in-memory /parts: answers a URL per asked part, naming the call it came from."""

    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    def call(self, method: str, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        self.asked.append(list(body["part_numbers"]))
        call = len(self.asked)
        return {
            "parts": [{"part_number": n, "url": f"u{call}-{n}", "headers": {}} for n in body["part_numbers"]]
        }


def test_part_urls_come_100_at_a_time_and_an_expired_batch_is_renewed_together() -> None:
    from presign_client.parts import PartUrls

    api = _PartsApi()
    first = [{"part_number": n, "url": f"first-{n}", "headers": {}} for n in range(1, 101)]
    urls = PartUrls(api, "up", list(range(1, 251)), first)  # type: ignore[arg-type]  (a fake Api)

    assert urls.get(1).url == "first-1" and api.asked == []
    assert urls.get(101).url == "u1-101" and api.asked == [list(range(101, 201))]
    urls.get(201)
    assert api.asked[-1] == list(range(201, 251))
    urls.get(2)
    # part 2's URL (from the create's answer) expired: it is renewed with the parts of that
    # answer not yet started (3..100), in one call
    assert urls.renew(2).url == "u3-2"
    assert api.asked[-1] == [2, *range(3, 101)]
    assert urls.get(3).url == "u3-3"
