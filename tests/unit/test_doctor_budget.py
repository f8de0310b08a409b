"""The doctor's time budget, driven by a fake monotonic clock that moves only when a request is made.

The storage here is a stand-in that answers every probe at once and records what it was asked and
with what timeout: what is under test is the doctor's bookkeeping (which checks start, how long a
request may wait, that clean-up runs), not the storage. The same budget against a real SeaweedFS
is tests/realserver/test_doctor.py::test_a_tiny_budget_stops_early_and_leaves_no_probe_behind.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from local.dev_config import dev_config
from presign.adapters import plain_http
from presign.adapters.s3_control import capped_timeouts
from presign.adapters.s3_doctor import TIMEOUT_SECONDS as STORAGE_TIMEOUT
from presign.adapters.s3_doctor import BucketInspector
from presign.config.settings import parse_settings
from presign.doctor.budget import CLEANUP_FLOOR_SECONDS, TimeBudget
from presign.doctor.checks import CHECKS, TargetDoctor
from presign.doctor.cli import main
from presign.doctor.ports import HttpAnswer, StorageAnswer
from presign.doctor.report import STOPPED_EARLY_EXIT, Finding, Status, exit_status, stopped_early
from presign.doctor.run import as_document
from presign.signing.sigv4 import S3Presigner, SigningCredentials

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CONFIG = dev_config("http://127.0.0.1:9", bucket="doctor-budget")
TARGET = parse_settings(json.dumps(CONFIG)).targets["local"]
CREDENTIALS = SigningCredentials(access_key_id="AKIDEXAMPLE", secret_access_key="secret-example")
ALL_CHECKS = ("clock", "credentials", *CHECKS)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Storage:
    """Answers everything at once; each request moves the clock by ``step`` (``slow``: by more)."""

    clock: FakeClock
    budget: TimeBudget | None = None
    step: float = 0.5
    slow: Mapping[str, float] = field(default_factory=dict)
    # (what, timeout, seconds the checks had left when it was sent, cleaning)
    calls: list[tuple[str, float, float, bool]] = field(default_factory=list)

    def _note(self, what: str, timeout: float | None) -> None:
        assert self.budget is not None
        waits = STORAGE_TIMEOUT if timeout is None else timeout  # None: the inspector is uncapped
        self.calls.append((what, waits, self.budget.left(), self.budget.cleaning))
        self.clock.now += self.slow.get(what.split(" ")[0], self.step)

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 10.0,
    ) -> HttpAnswer:
        self._note(f"HTTP-{method}", timeout)
        return HttpAnswer(200, {"date": format_datetime(NOW, usegmt=True), "etag": '"e"'}, b"")

    def inspector(self, timeout: float | None = None) -> FakeInspector:
        return FakeInspector(self, timeout)


@dataclass
class FakeInspector:
    storage: Storage
    timeout: float | None

    def _answer(self, what: str, **data: Any) -> StorageAnswer:
        self.storage._note(what, self.timeout)
        return StorageAnswer(200, data=data)

    def capped(self, seconds: float) -> FakeInspector:
        return FakeInspector(self.storage, seconds)

    def checksum_settings(self) -> tuple[str, str]:
        return ("when_required", "when_required")

    def head_bucket(self) -> StorageAnswer:
        return self._answer("head_bucket")

    def get_object(self, key: str) -> StorageAnswer:
        return self._answer(f"get_object {key}")

    def put_object(self, key: str, body: bytes) -> StorageAnswer:
        return self._answer(f"put_object {key}")

    def cors(self) -> StorageAnswer:
        return self._answer("cors")

    def lifecycle(self) -> StorageAnswer:
        return self._answer("lifecycle")

    def notifications(self) -> StorageAnswer:
        return self._answer("notifications")

    def start_multipart(self, key: str, content_type: str) -> StorageAnswer:
        return self._answer(f"start_multipart {key}", UploadId="upload-1")

    def list_parts(self, key: str, upload_id: str) -> StorageAnswer:
        self.storage._note(f"list_parts {key}", self.timeout)
        return StorageAnswer(404, "NoSuchUpload")

    def abort_multipart(self, key: str, upload_id: str) -> StorageAnswer:
        return self._answer(f"abort_multipart {key} {upload_id}")

    def delete(self, key: str) -> StorageAnswer:
        return self._answer(f"delete {key}")

    def sdk_default_put(self, key: str, body: bytes) -> StorageAnswer:
        return self._answer(f"sdk_default_put {key}")


def run_doctor(storage: Storage, budget: TimeBudget) -> list[Finding]:
    storage.budget = budget
    doctor = TargetDoctor(
        "local",
        TARGET,
        S3Presigner(
            credentials=CREDENTIALS,
            region="us-east-1",
            endpoint_url="http://127.0.0.1:9",
            addressing_style="path",
        ),
        storage.inspector(),
        storage.send,
        lambda: NOW,
        budget=budget,
    )
    return doctor.run()


def test_a_budget_running_out_mid_multipart_skips_the_rest_and_still_cleans_up() -> None:
    # Given: a storage whose CreateMultipartUpload takes 100 s, past the 60 s budget
    clock = FakeClock()
    storage = Storage(clock, slow={"start_multipart": 100.0})

    # When
    findings = run_doctor(storage, TimeBudget(60.0, monotonic=clock, reserve=5.0))

    # Then: the checks before multipart ran; multipart was cut short, the rest never started
    by_check = {f.check: f for f in findings}
    assert [f.check for f in findings] == list(ALL_CHECKS), findings
    ran = ALL_CHECKS[: ALL_CHECKS.index("multipart")]
    assert not any(by_check[c].stopped for c in ran), findings
    assert by_check["multipart"].status is Status.SKIP and by_check["multipart"].stopped, findings
    assert "time budget (60 s) ran out during this check" in by_check["multipart"].message, findings
    for check in ("cors", "lifecycle", "checksums"):
        assert by_check[check].status is Status.SKIP and by_check[check].stopped, by_check[check]
        assert "time budget (60 s) ran out before this check" in by_check[check].message, by_check[check]
    # the part PUT and the abort inside the check were not sent at all: no time was left
    after_start = [c for c in storage.calls if not c[3]][-1]
    assert after_start[0].startswith("start_multipart"), storage.calls
    # clean-up ran anyway: the probe upload aborted and every probe key deleted, each capped
    cleaning = [(what, timeout) for what, timeout, _, cleaning in storage.calls if cleaning]
    assert cleaning[0][0].startswith("abort_multipart ") and cleaning[0][0].endswith(" upload-1"), cleaning
    deleted = {what.split(" ", 1)[1] for what, _ in cleaning if what.startswith("delete ")}
    put = {what.split(" ", 1)[1] for what, *_ in storage.calls if what.startswith(("put_object", "start_"))}
    assert put <= deleted and any(k.endswith("/probe.txt") for k in deleted), (put, deleted)
    assert all(t == CLEANUP_FLOOR_SECONDS for _, t in cleaning), cleaning
    # and the run says it stopped early: never an exit status of 0, never "ok"
    assert stopped_early(findings) and exit_status(findings) != 0, findings
    document = as_document(findings)
    assert document["ok"] is False and document["stopped_early"] is True, document


def test_no_request_waits_longer_than_the_time_left_for_checks() -> None:
    # Given: every request takes 3 s of a 40 s budget, 5 s of it kept for clean-up
    clock = FakeClock()
    storage = Storage(clock, step=3.0)

    # When
    findings = run_doctor(storage, TimeBudget(40.0, monotonic=clock, reserve=5.0))

    # Then: each check request's timeout fits in what was left beyond the reserve when it was sent
    checks = [(what, timeout, left) for what, timeout, left, cleaning in storage.calls if not cleaning]
    for what, timeout, left in checks:
        default = 10.0 if what.startswith("HTTP-") else STORAGE_TIMEOUT
        assert timeout <= min(default, left - 5.0), (what, timeout, left)
    capped = [c for c in checks if c[1] < (10.0 if c[0].startswith("HTTP-") else STORAGE_TIMEOUT)]
    assert capped, checks  # the cap was met, not just never needed
    # clean-up requests may use the reserve, never more than the whole time left (or the floor)
    for what, timeout, left, cleaning in storage.calls:
        if cleaning:
            assert timeout <= max(left, CLEANUP_FLOOR_SECONDS), (what, timeout, left)
    assert stopped_early(findings), findings


def test_a_budget_of_zero_starts_no_check_and_sends_nothing() -> None:
    clock = FakeClock()
    storage = Storage(clock)

    findings = run_doctor(storage, TimeBudget(0.0, monotonic=clock))

    assert [(f.check, f.status, f.stopped) for f in findings] == [(c, Status.SKIP, True) for c in ALL_CHECKS]
    assert storage.calls == [], storage.calls  # no probe was made, so there is nothing to clean up


def test_an_ample_budget_changes_nothing() -> None:
    clock = FakeClock()
    storage = Storage(clock, step=0.01)

    findings = run_doctor(storage, TimeBudget(120.0, monotonic=clock))

    assert not stopped_early(findings), findings
    assert all(t in (10.0, STORAGE_TIMEOUT) for what, t, _, cleaning in storage.calls if not cleaning), (
        storage.calls
    )


def test_the_command_line_with_no_budget_left_says_it_stopped_early_and_exits_3(tmp_path: Any) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG), encoding="utf-8")
    env = {"PRESIGN_S3_ACCESS_KEY_ID": "AKIDEXAMPLE", "PRESIGN_S3_SECRET_ACCESS_KEY": "secret-example"}
    out = io.StringIO()

    code = main(["--config", str(config), "--budget", "0"], environ=env, out=out, monotonic=FakeClock())

    text = out.getvalue()
    assert code == STOPPED_EARLY_EXIT == 3, text
    skipped = [line for line in text.splitlines() if line.startswith("SKIP  local")]
    assert len(skipped) == len(ALL_CHECKS) and all("time budget (0 s) ran out" in s for s in skipped), text
    assert "PASS" not in text and text.splitlines()[-1].endswith(
        "stopped early: the time budget (0 s) ran out"
    ), text


def test_a_negative_budget_is_refused() -> None:
    out = io.StringIO()
    assert main(["--budget", "-1"], environ={}, out=out) == 2, out.getvalue()
    assert "--budget" in out.getvalue(), out.getvalue()


def test_a_failure_outranks_stopping_early_in_the_exit_status() -> None:
    failed = Finding("t", "put", Status.FAIL, "no", "fix it")
    stopped = Finding("t", "get", Status.SKIP, "skipped: budget", stopped=True)
    assert exit_status([failed, stopped]) == 1
    assert exit_status([stopped]) == STOPPED_EARLY_EXIT
    assert exit_status([Finding("t", "get", Status.SKIP, "POST is off")]) == 0


def test_capped_storage_clients_never_wait_longer_than_the_cap() -> None:
    for cap in (0.4, 2.0, 3.9):
        connect, read, attempts = capped_timeouts(1.0, 3.0, cap)
        assert connect + read <= cap and attempts == 1 and connect > 0, (cap, connect, read)
    config = BucketInspector(TARGET, CREDENTIALS).capped(2.0).client.meta.config
    assert config.connect_timeout + config.read_timeout <= 2.0, config
    assert config.retries["total_max_attempts"] == 1, config.retries
    uncapped = BucketInspector(TARGET, CREDENTIALS).client.meta.config
    assert (uncapped.connect_timeout, uncapped.read_timeout) == (1.0, 3.0), uncapped


def test_plain_http_takes_the_smaller_timeout(monkeypatch: Any) -> None:
    seen: list[float] = []

    class Opener:
        def open(self, request: Any, timeout: float) -> Any:
            seen.append(timeout)
            raise OSError("not sent")

    monkeypatch.setattr(plain_http, "_OPENER", Opener())
    plain_http.send("GET", "http://127.0.0.1:9/x", timeout=2.5)
    plain_http.send("GET", "http://127.0.0.1:9/x", timeout=99.0)
    assert seen == [2.5, plain_http.TIMEOUT_SECONDS], seen


# -- the events check (issue 21): EventBridge delivery, AWS S3's alone ---------------------------------


def _events_finding(target_fields: dict[str, Any], answer: StorageAnswer | None) -> Finding:
    clock = FakeClock()
    storage = Storage(clock)
    storage.budget = TimeBudget(600.0, monotonic=clock, reserve=5.0)
    inspector = storage.inspector()
    if answer is not None:
        inspector.notifications = lambda: answer  # type: ignore[method-assign]
    target = TARGET.model_copy(update=target_fields)
    doctor = TargetDoctor(
        "local",
        target,
        S3Presigner(
            credentials=CREDENTIALS, region="us-east-1", endpoint_url=None, addressing_style="virtual"
        ),
        inspector,
        storage.send,
        lambda: NOW,
        budget=storage.budget,
    )
    return doctor.run_check("events")


def test_the_events_check_reports_eventbridge_delivery_on_aws_only() -> None:
    on = _events_finding({"provider": "aws"}, StorageAnswer(200, data={"EventBridgeConfiguration": {}}))
    off = _events_finding({"provider": "aws"}, StorageAnswer(200, data={"TopicConfigurations": []}))
    denied = _events_finding({"provider": "aws"}, StorageAnswer(403, code="AccessDenied"))
    elsewhere = _events_finding({}, None)

    assert (on.status, off.status, denied.status, elsewhere.status) == (
        Status.PASS, Status.WARN, Status.WARN, Status.SKIP), (on, off, denied, elsewhere)  # fmt: skip
    assert "EventBridge delivery is on" in on.message
    assert "off" in off.message and "docs/storage-events.md" in off.fix
    assert "s3:GetBucketNotification" in denied.fix
    assert "not applicable" in elsewhere.message
