"""The cleanup's pure parts: which keys are the service's, the index days a window spans, what an
invocation may ask, and what a run counts when a storage is down. No servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from presign.adapters.dynamodb_cleanup import days
from presign.auth.principal import Principal
from presign.cleanup.keys import ServiceKeys
from presign.cleanup.runner import Cleanup
from presign.cleanup.schemas import cleanup_request
from presign.config.cleanup import CleanupSettings
from presign.config.target import Target
from presign.config.uploads import UploadRecordSettings
from presign.core.keys import upload_key, user_prefix
from presign.core.owners import Namespace
from presign.core.prefixes import SAFE_SEGMENT
from presign.errors import InvalidRequest, UnknownTarget, UploadGone
from presign.uploads.ids import new_upload_id
from presign.uploads.records import Multipart, UploadRecord
from presign.uploads.service import Uploads
from presign.uploads.verification import ObjectFacts
from tests.support.memory import MemoryRecords
from tests.support.memory_cleanup import MemoryCleanupRecords, NoShares, SweepObjects
from tests.support.spending import free


def target(key_prefix: str = "users/{sub}/", **kinds: str) -> Target:
    return Target.model_validate(
        {
            "region": "us-east-1",
            "bucket": "b-test",
            "credentials": {"source": "env"},
            "key_prefix": key_prefix,
            "upload": {"kinds": {name: {"key_prefix": prefix} for name, prefix in kinds.items()}},
        }
    )


# -- the service's own keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "static"),
    [("users/{sub}/", "users/"), ("t/{tenant}/{sub}/", "t/"), ("{sub}/", ""), ("a/b/{sub}/x/", "a/b/")],
)
def test_the_sweep_lists_under_the_static_part_of_the_template(template: str, static: str) -> None:
    assert ServiceKeys.of(target(template)).static_prefix == static


@settings(max_examples=200, deadline=None)
@given(
    sub=st.from_regex(SAFE_SEGMENT, fullmatch=True),
    tenant=st.from_regex(SAFE_SEGMENT, fullmatch=True),
    filename=st.text(min_size=1, max_size=40),
    kind=st.sampled_from([None, "avatar", "doc"]),
    when=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)),
)
def test_every_key_the_service_makes_parses_back_to_its_caller_and_upload(
    sub: str, tenant: str, filename: str, kind: str | None, when: datetime
) -> None:
    # Given a target with kinds, and a key made exactly as POST /uploads makes it (the oracle)
    shaped = target("t/{tenant}/{sub}/", avatar="avatars/", doc="docs/2026/")
    principal = Principal(sub=sub, claims={"tenant": tenant})
    prefix = user_prefix(shaped.key_prefix, principal) + (
        shaped.upload.kinds[kind].key_prefix if kind else ""
    )
    upload_id = new_upload_id(when, lambda n: b"\x07" * n)
    key = upload_key(prefix, upload_id=upload_id, filename=filename, now=when)

    # When the sweep reads it / Then it is the service's, the caller's and that upload's
    parsed = ServiceKeys.of(shaped).parse(key)
    assert parsed is not None, key
    assert (parsed.sub, parsed.upload_id) == (sub, upload_id)
    assert key.startswith(ServiceKeys.of(shaped).static_prefix)
    # and the owner it rebuilds from the key's claims is the one the caller's records have
    assert parsed.claims == {"sub": sub, "tenant": tenant}
    assert parsed.owner == Namespace(frozenset(("sub", "tenant"))).owner(principal).digest


@pytest.mark.parametrize(
    "key",
    [
        "users/alice/handmade.bin",
        "users/alice/2026/01/01/not-an-upload-id/x.bin",
        "users/alice/2026/01/01/01m8sv3x0m7wnbz5rgrtk5xxh3/",
        "users/alice/2026/01/01/01m8sv3x0m7wnbz5rgrtk5xxh3/a/b.bin",
        "users/alice/bob/2026/01/01/01m8sv3x0m7wnbz5rgrtk5xxh3/x.bin",
        "other/alice/2026/01/01/01m8sv3x0m7wnbz5rgrtk5xxh3/x.bin",
        "users/2026/01/01/01m8sv3x0m7wnbz5rgrtk5xxh3/x.bin",
        "users/alice/2026/1/01/01m8sv3x0m7wnbz5rgrtk5xxh3/x.bin",
        "users/alice/2026/01/01/01M8SV3X0M7WNBZ5RGRTK5XXH3/x.bin",
    ],
)
def test_no_other_key_is_the_services(key: str) -> None:
    assert ServiceKeys.of(target()).parse(key) is None


# -- index days ---------------------------------------------------------------------------------


@given(since=st.integers(0, 4_000_000_000), span=st.integers(0, 40 * 86_400), moment=st.floats(0, 1))
def test_the_days_of_a_window_hold_every_moment_in_it(since: int, span: int, moment: float) -> None:
    before = since + span
    found = days(since, before)
    assert found == sorted(found) and len(found) == len(set(found))
    if span == 0:
        assert found == []
        return
    t = min(before - 1, since + int(span * moment))
    assert datetime.fromtimestamp(t, UTC).strftime("%Y%m%d") in found


# -- invocations --------------------------------------------------------------------------------


KNOWN = {"main": object(), "eu": object()}
SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def test_a_scheduled_event_is_a_full_run_and_a_manual_one_may_narrow_it() -> None:
    assert cleanup_request(SCHEDULED, KNOWN).model_dump() == {"dry_run": False, "targets": None}
    assert cleanup_request({}, KNOWN).dry_run is False
    asked = cleanup_request({"dry_run": True, "targets": ["eu"]}, KNOWN)
    assert (asked.dry_run, asked.targets) == (True, ["eu"])


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ([], InvalidRequest),
        ({"dry_run": "yes"}, InvalidRequest),
        ({"dryrun": True}, InvalidRequest),
        ({"targets": []}, InvalidRequest),
        ({"targets": "main"}, InvalidRequest),
        ({"targets": ["nowhere"]}, UnknownTarget),
    ],
)
def test_anything_else_is_refused_by_name(event: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        cleanup_request(event, KNOWN)


# -- a run, with a storage down, and a completion after the fence -------------------------------

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
T = int(NOW.timestamp())


def _stale(upload_id: str, target_name: str) -> UploadRecord:
    return UploadRecord(
        owner="o" * 32, upload_id=upload_id, target=target_name, key=f"users/alice/2030/01/01/{upload_id}/f",
        method="PUT", size=1, content_type="text/plain", status="pending", created_at=T - 7200,
        expires_at=T - 7000, updated_at=T - 7200,
    )  # fmt: skip


def test_a_storage_that_is_down_is_counted_and_the_other_targets_still_cleaned() -> None:
    # Given a stale upload on each of two targets, and the first target's storage down
    table = MemoryRecords()
    storages = {"down": SweepObjects(), "up": SweepObjects()}
    storages["down"].down = True
    for i, name in enumerate(storages):
        record = _stale(new_upload_id(NOW - timedelta(hours=2), lambda n, i=i: bytes([i + 1]) * n), name)
        table.records[(record.owner, record.upload_id)] = record
    warnings: list[tuple[str, dict[str, Any]]] = []
    cleanup = Cleanup(
        CleanupSettings(concurrency=1),
        targets={"down": target(), "up": target()},
        records=MemoryCleanupRecords(table),
        shares=NoShares(),
        storage=storages.__getitem__,
        clock=lambda: NOW,
        closed_retention=86_400,
        share_grace=86_400,
        warn=lambda message, keys: warnings.append((message, dict(keys))),
    )

    # When it runs
    report = cleanup.run(dry_run=False, remaining_ms=lambda: 10**9).as_dict()

    # Then the failures are counted and logged (the item, the sweep's listing), and the rest is done
    assert report["targets"]["down"]["errors"] == 2, report
    assert report["targets"]["up"]["single_expired"] == 1 and report["targets"]["up"]["errors"] == 0, report
    assert {keys["error"] for _, keys in warnings} == {"DependencyUnavailable"}
    statuses = {r.target: r.status for r in table.records.values()}
    assert statuses == {"down": "pending", "up": "expired"}


def test_a_completion_after_the_fence_answers_gone_and_confirms_nothing() -> None:
    # Given a stale upload whose object arrived, fenced by a cleanup run that has not deleted it yet
    table = MemoryRecords()
    objects = SweepObjects()
    record = _stale(new_upload_id(NOW - timedelta(hours=2), lambda n: b"\x01" * n), "main")
    table.records[(record.owner, record.upload_id)] = record
    objects.objects[record.key] = ObjectFacts(size=1, content_type="text/plain", etag='"e"')
    assert (
        table.fence(record.owner, record.upload_id, now=T, lease_until=T + 60, expired_before=T) is not None
    )

    # When the client completes it / Then 410, and the record is still the cleanup's to expire
    lifecycle = Uploads(table, UploadRecordSettings(head_attempts=1), clock=lambda: NOW, sleep=lambda _: None)
    with pytest.raises(UploadGone):
        lifecycle.complete(record.owner, record.upload_id, objects=lambda _: objects, spending=free())
    assert table.records[(record.owner, record.upload_id)].status == "pending"
    # and even a write that raced past the check cannot say complete
    done = table.records[(record.owner, record.upload_id)].moved(
        "complete", now=T, etag='"e"', completed_at=T
    )
    assert table.transition(done, expected="pending", ttl=None) is False


def test_the_sweep_finds_the_record_of_a_tenants_upload_and_leaves_it() -> None:
    # Given a multipart upload of sub 42 of acme, under tenants/{tenant}/users/{sub}/, begun three
    # days ago with a lifetime that has not ended, and its record (keyed by sub and tenant)
    shaped = target("tenants/{tenant}/users/{sub}/")
    principal = Principal(sub="42", claims={"tenant": "acme"})
    objects = SweepObjects()
    upload_id = new_upload_id(NOW - timedelta(days=3), lambda n: b"\x05" * n)
    key = upload_key(
        user_prefix(shaped.key_prefix, principal), upload_id=upload_id, filename="big.bin", now=NOW
    )
    storage_id = objects.start_multipart(key, content_type="video/mp4", metadata={}, checksums=False)
    objects.initiated[storage_id] = T - 3 * 86_400
    table = MemoryRecords()
    record = UploadRecord(
        owner=Namespace(frozenset(("sub", "tenant"))).owner(principal).digest, upload_id=upload_id,
        target="main", key=key, method="PUT", size=12 * 1024**2, content_type="video/mp4",
        status="pending", created_at=T - 3 * 86_400, expires_at=T + 86_400, updated_at=T - 3 * 86_400,
        multipart=Multipart(storage_upload_id=storage_id, part_size=5 * 1024**2),
    )  # fmt: skip
    table.records[(record.owner, record.upload_id)] = record

    # When the cleanup sweeps the storage
    report = Cleanup(
        CleanupSettings(concurrency=1),
        targets={"main": shaped},
        records=MemoryCleanupRecords(table),
        shares=NoShares(),
        storage=lambda _: objects,
        clock=lambda: NOW,
        closed_retention=86_400,
        share_grace=86_400,
        warn=lambda message, keys: None,
    ).run(dry_run=False, remaining_ms=lambda: 10**9)

    # Then the record named the upload (read back from the key: sub and tenant), nothing was aborted
    assert report.as_dict()["targets"]["main"]["orphans_aborted"] == 0, report.as_dict()
    assert storage_id in objects.uploads
