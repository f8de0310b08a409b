"""The cleanup function against a real SeaweedFS (with identities) and DynamoDB on a moto server.

Uploads are made through the uploads function and stored through the URLs it issued; orphaned
multipart uploads are started with the admin credentials, as a client that lost its record would
leave them. The cleanup function's clock is moved forward by the test (``Runner.at``); its remaining
time is a countdown of checks (``Budget``), so no test waits or measures time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from local.servers import MotoServer, SeaweedFS
from tests.integration.conftest import Client
from tests.realserver.conftest import ACCESS_KEY, SECRET_KEY
from tests.support.cleanup import (
    Runner,
    fresh_bucket,
    fresh_tables,
    in_progress,
    later,
    service_key,
    start_uploads,
)
from tests.support.functions import function_env, load_function, settings_document
from tests.support.lifecycle import UPLOADS_TABLE, Caller, body, moto_with_tables, point_at, with_records
from tests.support.shares import SHARES_TABLE

pytestmark = pytest.mark.realserver
CONTENT = b"never completed\n" * 8
UPLOAD = {"filename": "draft.txt", "content_type": "text/plain", "size": len(CONTENT)}
GRACE = 600
MAX_AGE = 7200
LIFETIME = 3 * 3600  # longer than MAX_AGE: only the record tells the sweep a live upload is claimed
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def admin(seaweed: SeaweedFS) -> Any:
    return seaweed.client(
        request_checksum_calculation="when_required", response_checksum_validation="when_required"
    )


@pytest.fixture
def bucket(admin: Any, moto: MotoServer) -> str:
    fresh_tables(moto)  # each test counts only what it left behind
    return fresh_bucket(admin)


class Stack:
    """One test's service: uploads and lifecycle functions for the caller, the cleanup function."""

    def __init__(self, caller: Caller, cleanup: Runner, admin: Any, bucket: str) -> None:
        self.caller = caller
        self.cleanup = cleanup
        self.admin = admin
        self.bucket = bucket

    def grant(self, **overrides: Any) -> dict[str, Any]:
        response = self.caller.create({**UPLOAD, **overrides})
        assert response["statusCode"] == 201, response["body"]
        return dict(body(response))

    def put(self, granted: dict[str, Any], data: bytes = CONTENT) -> None:
        stored = requests.put(granted["url"], data=data, headers=granted["headers"], timeout=10)
        assert stored.status_code == 200, stored.text

    def status(self, upload_id: str) -> str:
        response = self.caller.status(upload_id)
        assert response["statusCode"] == 200, response["body"]
        return str(body(response)["status"])

    def exists(self, key: str) -> bool:
        try:
            self.admin.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] in ("404", "NoSuchKey"), exc.response
            return False
        return True


@pytest.fixture
def stack(
    seaweed: SeaweedFS,
    moto: MotoServer,
    admin: Any,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Stack:
    point_at(moto, monkeypatch)
    # ``@pytest.mark.completion("client")``: a target that opts out of the server's completion
    marker = request.node.get_closest_marker("completion")
    document = with_records(
        settings_document(
            endpoint_url=seaweed.endpoint_url,
            bucket=bucket,
            upload={
                "content_types": ["text/*", "application/octet-stream", "image/png"],
                "max_size": 64 * MiB,
                "multipart": {"threshold": 32 * MiB, "part_size": 5 * MiB, "lifetime": LIFETIME},
                "completion": marker.args[0] if marker else "server",
            },
        )
    )
    document["cleanup"] = {"grace": GRACE, "max_age": MAX_AGE, "lookback_days": 2}
    env = function_env(document, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    env.update(PRESIGN_UPLOADS_TABLE=UPLOADS_TABLE, PRESIGN_SHARES_TABLE=SHARES_TABLE)
    caller = Caller(
        Client(load_function("uploads", monkeypatch, env)),
        Client(load_function("lifecycle", monkeypatch, env)),
    )
    return Stack(caller, Runner(load_function("cleanup", monkeypatch, env), []), admin, bucket)


def totals(answer: dict[str, Any]) -> dict[str, int]:
    assert "error" not in answer, answer
    return {kind: n for kind, n in answer["totals"].items() if n}


def stale_moment(granted: dict[str, Any]) -> float:
    """Seconds from now until ``granted`` is stale (its expiry plus the grace), plus one."""
    return float(granted["expires_in"]) + GRACE + 1


# -- the storage sweep -------------------------------------------------------------------------


def test_more_than_a_thousand_orphaned_multipart_uploads_are_all_aborted(stack: Stack) -> None:
    # Given 1,050 multipart uploads under the service's prefix that no record knows (ListMultipart-
    # Uploads answers at most 1,000 a page), some sharing one key (so a page can end inside a key)
    keys = [service_key(f"user{i % 7}") for i in range(1_040)]
    keys += [keys[0]] * 10
    started = start_uploads(stack.admin, stack.bucket, keys)
    assert len(in_progress(stack.admin, stack.bucket)) == 1_050

    # When cleanup runs once they are older than max_age
    answer = stack.cleanup.at(later(MAX_AGE + 60))()

    # Then every one is aborted, and counted once
    assert totals(answer) == {"orphans_aborted": 1_050}, answer
    assert answer["stopped_early"] is False
    assert in_progress(stack.admin, stack.bucket) == set(), "orphans left behind"
    assert len(set(started)) == 1_050


def test_multipart_uploads_outside_the_service_prefixes_are_never_touched(stack: Stack) -> None:
    # Given old multipart uploads outside the prefix, and under it but not of the service's shape
    foreign = ["other/2026/01/01/backup.tar", "users/alice/handmade.bin", "users/alice/2026/01/01/not-an-id/x.bin",
               "usersX/alice/2026/01/01/0123456789abcdefghjkmnpqrs/x.bin"]  # fmt: skip
    ours = [service_key("alice"), service_key("bob")]
    start_uploads(stack.admin, stack.bucket, foreign + ours)

    # When cleanup runs long after
    answer = stack.cleanup.at(later(MAX_AGE + 60))()

    # Then only the service's own are aborted
    assert totals(answer) == {"orphans_aborted": 2}, answer
    assert {key for key, _ in in_progress(stack.admin, stack.bucket)} == set(foreign)


def test_a_young_orphan_or_one_a_pending_record_claims_is_left_alone(stack: Stack) -> None:
    # Given a multipart upload of the service, pending within its lifetime, and an orphan
    granted = stack.grant(
        filename="big.bin", content_type="application/octet-stream", size=6 * MiB, multipart=True
    )
    orphan = service_key("carol")
    start_uploads(stack.admin, stack.bucket, [orphan])

    # When cleanup runs while both are younger than max_age: nothing
    assert totals(stack.cleanup.at(later(60))()) == {}

    # When it runs once both are older than max_age, but the record's lifetime has not ended
    answer = stack.cleanup.at(later(MAX_AGE + 60))()

    # Then only the orphan is aborted: the record claims its own storage upload
    assert totals(answer) == {"orphans_aborted": 1}, answer
    assert {key for key, _ in in_progress(stack.admin, stack.bucket)} == {granted["key"]}
    assert stack.status(granted["upload_id"]) == "pending"


# -- stale pending uploads, and what was confirmed ----------------------------------------------


def test_a_stale_upload_whose_object_arrived_is_completed_and_one_that_never_did_expires(
    stack: Stack,
) -> None:
    # Given two uploads never completed: one stored its object through the URL, one did not
    stored = stack.grant()
    stack.put(stored)
    empty = stack.grant()

    # When cleanup runs once both URLs expired longer ago than the grace
    answer = stack.cleanup.at(later(stale_moment(stored)))()

    # Then the stored one is complete, with the same bytes, and the other expired
    assert totals(answer) == {"completed_by_cleanup": 1, "single_expired": 1}, answer
    assert (stack.status(stored["upload_id"]), stack.status(empty["upload_id"])) == ("complete", "expired")
    got = stack.admin.get_object(Bucket=stack.bucket, Key=stored["key"])["Body"].read()
    assert got == CONTENT
    # and the client that never asked hears 200 when it asks now
    assert stack.caller.complete(stored["upload_id"])["statusCode"] == 200
    # and a second run finds nothing more to do
    assert totals(stack.cleanup.at(later(stale_moment(stored) + 1))()) == {}


@pytest.mark.completion("client")
def test_a_target_that_opts_out_loses_the_stale_object_and_expires_as_before(stack: Stack) -> None:
    # Given two uploads never completed: one stored its object through the URL, one did not
    stored = stack.grant()
    stack.put(stored)
    empty = stack.grant()

    # When cleanup runs once both URLs expired longer ago than the grace
    answer = stack.cleanup.at(later(stale_moment(stored)))()

    # Then both are expired and the never-verified object is deleted
    assert totals(answer) == {"single_expired": 2, "objects_deleted": 1}, answer
    assert (stack.status(stored["upload_id"]), stack.status(empty["upload_id"])) == ("expired", "expired")
    assert not stack.exists(stored["key"])
    # and a second run finds nothing more to do
    assert totals(stack.cleanup.at(later(stale_moment(stored) + 1))()) == {}


def _mixed(stack: Stack) -> dict[str, dict[str, Any]]:
    """Complete, pending-in-time and stale uploads (single with and without object, multipart)."""
    uploads = {name: stack.grant(expires_in=60) for name in ("complete", "stale_stored", "stale_empty")}
    uploads["in_time"] = stack.grant(expires_in=3600)
    uploads["multipart"] = stack.grant(
        filename="big.bin", content_type="application/octet-stream", size=6 * MiB, multipart=True
    )
    for name in ("complete", "stale_stored", "in_time"):
        stack.put(uploads[name])
    done = stack.caller.complete(uploads["complete"]["upload_id"])
    assert done["statusCode"] == 200, done["body"]
    return uploads


# Past the stale single uploads' expiry + grace, before the in-time one's and before the
# multipart upload's lifetime; then past everything.
SOON = 60 + GRACE + 5
AFTER_LIFETIME = LIFETIME + GRACE + 5


def test_only_stale_uploads_are_touched_and_every_complete_object_stays(stack: Stack) -> None:
    # Given a mix of complete, pending-in-time and stale uploads
    uploads = _mixed(stack)

    # When cleanup runs past the stale ones' expiry + grace
    answer = stack.cleanup.at(later(SOON))()

    # Then only the stale ones changed: what arrived is complete, what did not expired
    assert totals(answer) == {"completed_by_cleanup": 1, "single_expired": 1}, answer
    statuses = {name: stack.status(u["upload_id"]) for name, u in uploads.items()}
    assert statuses == {"complete": "complete", "stale_stored": "complete", "stale_empty": "expired",
                        "in_time": "pending", "multipart": "pending"}  # fmt: skip
    assert stack.exists(uploads["complete"]["key"]) and stack.exists(uploads["in_time"]["key"])
    assert stack.exists(uploads["stale_stored"]["key"])

    # When it runs again after the multipart upload's lifetime (+ grace), long after all expiries
    answer = stack.cleanup.at(later(AFTER_LIFETIME))()

    # Then the multipart upload is aborted at the storage and expired, the in-time single one too;
    # the complete upload's object is still there
    assert totals(answer) == {"multipart_expired": 1, "completed_by_cleanup": 1}, answer
    assert stack.status(uploads["multipart"]["upload_id"]) == "expired"
    assert stack.status(uploads["in_time"]["upload_id"]) == "complete"
    assert stack.status(uploads["complete"]["upload_id"]) == "complete"
    assert stack.exists(uploads["complete"]["key"])
    assert in_progress(stack.admin, stack.bucket) == set()


def test_a_dry_run_changes_nothing_and_counts_what_the_run_then_does(stack: Stack) -> None:
    # Given a mix, and an orphan
    uploads = _mixed(stack)
    start_uploads(stack.admin, stack.bucket, [service_key("dave")])
    moment = later(AFTER_LIFETIME + MAX_AGE)
    listed = in_progress(stack.admin, stack.bucket)

    # When a dry run looks
    dry = stack.cleanup.at(moment)({"dry_run": True})

    # Then it changed nothing
    assert dry["dry_run"] is True
    assert {name: stack.status(u["upload_id"]) for name, u in uploads.items()} == {
        "complete": "complete", "stale_stored": "pending", "stale_empty": "pending", "in_time": "pending",
        "multipart": "pending"}  # fmt: skip
    assert in_progress(stack.admin, stack.bucket) == listed
    assert stack.exists(uploads["stale_stored"]["key"])

    # When the real run follows, Then it does exactly what the dry run said
    real = stack.cleanup.at(moment)()
    assert real["dry_run"] is False
    assert totals(real) == totals(dry) == {
        "completed_by_cleanup": 2, "single_expired": 1, "multipart_expired": 1, "orphans_aborted": 1}, real  # fmt: skip
    assert real["targets"] == dry["targets"]


def test_a_tiny_time_budget_stops_early_and_the_next_run_finishes(stack: Stack) -> None:
    # Given six stale uploads and an orphan
    granted = [stack.grant(expires_in=60) for _ in range(6)]
    start_uploads(stack.admin, stack.bucket, [service_key("erin")])
    moment = later(SOON + MAX_AGE)

    # When a run may check its remaining time three times only
    first = stack.cleanup.at(moment)(checks=3)

    # Then it stops early, having done part of the work and said so
    assert first["stopped_early"] is True
    done = totals(first).get("single_expired", 0)
    assert 0 < done < 6, first
    assert sum(stack.status(g["upload_id"]) == "expired" for g in granted) == done

    # When the next run has time, Then it does the rest, and nothing twice
    second = stack.cleanup.at(moment)()
    assert second["stopped_early"] is False
    assert totals(second) == {"single_expired": 6 - done, "orphans_aborted": 1}, second
    assert all(stack.status(g["upload_id"]) == "expired" for g in granted)


def test_two_concurrent_runs_end_as_one_and_count_nothing_twice(stack: Stack) -> None:
    # Given stale uploads with and without objects, a stale multipart upload and orphans
    granted = [stack.grant(expires_in=60) for _ in range(8)]
    for g in granted[:4]:
        stack.put(g)
    multipart = stack.grant(
        filename="big.bin", content_type="application/octet-stream", size=6 * MiB, multipart=True
    )
    start_uploads(stack.admin, stack.bucket, [service_key(f"u{i}") for i in range(12)])
    moment = later(AFTER_LIFETIME + MAX_AGE)

    # When two runs go at once
    answers: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        answers.append(stack.cleanup.at(moment)())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then between them they did the work once: the counts add up to one run's
    assert len(answers) == 2
    summed = {kind: sum(a["totals"][kind] for a in answers) for kind in answers[0]["totals"]}
    assert {k: n for k, n in summed.items() if n} == {
        "completed_by_cleanup": 4, "single_expired": 4, "multipart_expired": 1, "orphans_aborted": 12}, answers  # fmt: skip
    assert [stack.status(g["upload_id"]) for g in granted] == ["complete"] * 4 + ["expired"] * 4
    assert stack.status(multipart["upload_id"]) == "expired"
    assert in_progress(stack.admin, stack.bucket) == set()
    assert [stack.exists(g["key"]) for g in granted] == [True] * 4 + [False] * 4


# -- shares and records past their time ---------------------------------------------------------


def test_stale_shares_and_records_past_retention_are_removed_with_what_a_late_upload_left(
    stack: Stack,
) -> None:
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_shares import DynamoDbShareStore
    from presign.shares.records import Share

    # Given shares: expired, revoked, used up, and active (written as the shares function does)
    store = DynamoDbShareStore(table_client(), SHARES_TABLE)
    now = int(later(0).timestamp())

    def share(handle: str, **fields: Any) -> Share:
        made = Share(handle=handle * 40, owner="o" * 32, target="main", key="users/alice/x.txt", size=1,
                     content_type="text/plain", created_ms=now * 1000, expires_at=now + 86_400, filename="",
                     **fields)  # fmt: skip
        assert store.create(made, ttl=made.expires_at + 86_400)
        return made

    share("a", max_downloads=1)
    share("b")
    share("c", max_downloads=5)
    expired = share("d")
    assert store.revoke("b" * 40, owner="o" * 32, now=now, ttl=now + 86_400) is not None
    assert store.spend("a" * 40, now=now).spent
    # and two upload records expired by a first run
    stale = [stack.grant(expires_in=60) for _ in range(2)]
    assert totals(stack.cleanup.at(later(SOON))()) == {"single_expired": 2}
    # ... one of which got an object after all (as a URL still valid after an abort can store one)
    stack.admin.put_object(Bucket=stack.bucket, Key=stale[0]["key"], Body=b"late")

    # When cleanup runs after the share grace (shares.retention, 30 days) past the used-up and
    # revoked ones, before the others' expiry + grace; and after the records' retention (30 days)
    answer = stack.cleanup.at(later(SOON + 30 * 86_400 + 60))()

    # Then those are gone, the late object with its record, and nothing else
    assert totals(answer) == {"shares_removed": 2, "records_removed": 2, "objects_deleted": 1}, answer
    assert not stack.exists(stale[0]["key"])
    assert store.get("a" * 40) is None and store.get("b" * 40) is None
    assert store.get("c" * 40) is not None and store.get(expired.handle) is not None
    assert all(stack.caller.status(g["upload_id"])["statusCode"] == 404 for g in stale)


# -- nothing a client uploaded is lost; what contradicts its type is (issue 20) ---------------------

HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>\n"


def test_a_multipart_upload_whose_parts_all_arrived_is_completed_by_the_cleanup(stack: Stack) -> None:
    # Given a multipart upload whose every part was uploaded, never completed by its client
    content = bytes(range(256)) * (6 * MiB // 256)
    granted = stack.grant(filename="big.bin", content_type="application/octet-stream", size=len(content),
                          multipart=True)  # fmt: skip
    offset = 0
    for part in granted["multipart"]["parts"]:
        chunk = content[offset : offset + part["size"]]
        offset += part["size"]
        stored = requests.put(part["url"], data=chunk, headers=part["headers"], timeout=30)
        assert stored.status_code == 200, stored.text

    # When cleanup runs after the upload's lifetime (+ grace)
    answer = stack.cleanup.at(later(AFTER_LIFETIME))()

    # Then the server completed it from ListParts: the object is the bytes the client sent
    assert totals(answer) == {"completed_by_cleanup": 1}, answer
    assert stack.status(granted["upload_id"]) == "complete"
    assert stack.admin.get_object(Bucket=stack.bucket, Key=granted["key"])["Body"].read() == content
    assert in_progress(stack.admin, stack.bucket) == set()


def _html_as_png(stack: Stack) -> dict[str, Any]:
    """HTML stored through a URL for ``image/png``: the right size, the right Content-Type."""
    granted = stack.grant(filename="cat.png", content_type="image/png", size=len(HTML), expires_in=60)
    assert granted["headers"]["Content-Type"] == "image/png"
    stack.put(granted, HTML)
    assert stack.exists(granted["key"])
    return granted


def test_html_declared_as_png_is_rejected_through_complete_and_its_object_is_gone(stack: Stack) -> None:
    granted = _html_as_png(stack)

    answer = stack.caller.complete(granted["upload_id"])

    assert answer["statusCode"] == 422, answer["body"]
    assert body(answer)["error"]["code"] == "content_mismatch"
    assert stack.status(granted["upload_id"]) == "rejected"
    assert not stack.exists(granted["key"])


def test_html_declared_as_png_is_rejected_by_the_cleanup_and_the_client_hears_the_same(stack: Stack) -> None:
    granted = _html_as_png(stack)

    answer = stack.cleanup.at(later(SOON))()

    assert totals(answer) == {"rejected_by_cleanup": 1}, answer
    assert not stack.exists(granted["key"])
    late = stack.caller.complete(granted["upload_id"])
    assert late["statusCode"] == 422 and body(late)["error"]["code"] == "content_mismatch", late["body"]
    assert "begins as HTML" in body(late)["error"]["message"]


def test_an_object_overwritten_after_completion_is_verified_again_and_deleted(stack: Stack) -> None:
    # Given a PNG completed by its client while its URL is still valid
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * (len(HTML) - 8)
    granted = stack.grant(filename="cat.png", content_type="image/png", size=len(png), expires_in=60)
    stack.put(granted, png)
    assert stack.caller.complete(granted["upload_id"])["statusCode"] == 200
    # When the same URL stores HTML over it (same size, same Content-Type), and no event tells
    stack.put(granted, HTML)

    # Then the cleanup's one re-check after the URL died finds the new ETag and verifies it again
    answer = stack.cleanup.at(later(SOON))()
    assert totals(answer) == {"rejected_by_cleanup": 1}, answer
    assert stack.status(granted["upload_id"]) == "rejected"
    assert not stack.exists(granted["key"])
    # and it checks once: nothing is left to re-check
    assert totals(stack.cleanup.at(later(SOON + 60))()) == {}
