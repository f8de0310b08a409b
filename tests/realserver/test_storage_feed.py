"""``make dev``'s storage events (``local.storage_feed``) from a real SeaweedFS: what S3 would announce,
once, in order, across restarts of the feed and of SeaweedFS.

Absence is proven without sleeping: the feed delivers in the filer's order, so after the operation
that must not be announced, a marker object is written; when the marker's event arrives, anything
the operation produced would have arrived before it.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.servers import SeaweedFS
from local.storage_feed import StorageFeed, filer_address
from presign.storage_events.notifications import Source, parse_notification

pytestmark = pytest.mark.realserver

ACCESS_KEY = "presign-feed"
SECRET_KEY = "feed-secret-0123456789abcdef0123"
BUCKET = "feed-events"
WAIT = 30.0  # seconds an expected event may take on a loaded machine (it takes milliseconds)


class Inbox:
    """What the feed delivered, in order."""

    def __init__(self) -> None:
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue()

    def deliver(self, event: dict[str, Any]) -> None:
        self.queue.put(event)

    def until(self, key: str) -> list[dict[str, Any]]:
        """Every event up to and including the first for ``key``."""
        got: list[dict[str, Any]] = []
        while True:
            try:
                event = self.queue.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"no event for {key!r} within {WAIT:g} s; got {keys(got)}") from None
            got.append(event)
            if event["detail"]["object"]["key"] == key:
                return got


def keys(events: list[dict[str, Any]]) -> list[str]:
    return [e["detail"]["object"]["key"] for e in events]


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    workdir: Path = tmp_path_factory.mktemp("feed-seaweedfs")
    with SeaweedFS(workdir, access_key=ACCESS_KEY, secret_key=SECRET_KEY, buckets=[BUCKET]) as server:
        yield server


@pytest.fixture
def s3(storage: SeaweedFS) -> Any:
    return storage.client()


@pytest.fixture
def prefix() -> str:
    return f"feed/{uuid.uuid4().hex[:8]}/"


@pytest.fixture
def start_feed(tmp_path: Path) -> Iterator[Callable[..., StorageFeed]]:
    """Start a feed (the same cursor file each time within a test); all are stopped at the end."""
    feeds: list[StorageFeed] = []

    def start(filer: Callable[[], str], deliver: Callable[[dict[str, Any]], object]) -> StorageFeed:
        feed = StorageFeed(
            bucket=BUCKET,
            filer=filer,
            cursor_path=tmp_path / "cursor",
            deliver=deliver,
            log_path=tmp_path / "tail.log",
        )
        feeds.append(feed.start())
        return feed

    yield start
    for feed in feeds:
        feed.stop()


@pytest.fixture
def inbox(storage: SeaweedFS, start_feed: Callable[..., StorageFeed]) -> Inbox:
    inbox = Inbox()
    start_feed(lambda: filer_address(storage), inbox.deliver)
    return inbox


def marker(s3: Any, prefix: str, name: str = "marker") -> str:
    key = f"{prefix}{name}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"")
    return key


def test_a_put_is_one_event_that_the_parser_reads_back(s3: Any, inbox: Inbox, prefix: str) -> None:
    # Given a PUT with a type
    key = f"{prefix}photo.png"
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=b"\x89PNG....", ContentType="image/png")["ETag"]
    # When its event arrives
    (event,) = inbox.until(key)
    # Then it is S3's EventBridge "Object Created" with what the storage holds
    assert event["detail"]["object"] | {"sequencer": "-"} == {
        "key": key,
        "size": 8,
        "etag": etag.strip('"'),
        "content-type": "image/png",
        "sequencer": "-",
    }
    (parsed,) = parse_notification(event)
    assert (parsed.source, parsed.bucket, parsed.key, parsed.reason) == (Source.DEV, BUCKET, key, "PutObject")


def test_a_presigned_post_is_one_event(s3: Any, inbox: Inbox, prefix: str) -> None:
    key = f"{prefix}form upload.txt"
    form = s3.generate_presigned_post(BUCKET, key, Fields={"Content-Type": "text/plain"}, ExpiresIn=60)
    answer = requests.post(form["url"], data=form["fields"], files={"file": ("x", b"posted")}, timeout=10)
    assert answer.status_code in (200, 204), answer.text
    (event,) = inbox.until(key)
    assert (event["detail"]["object"]["size"], event["detail"]["object"]["content-type"]) == (6, "text/plain")


def test_an_overwrite_is_a_second_event_with_the_new_etag(s3: Any, inbox: Inbox, prefix: str) -> None:
    key = f"{prefix}twice.txt"
    first = s3.put_object(Bucket=BUCKET, Key=key, Body=b"first")["ETag"].strip('"')
    second = s3.put_object(Bucket=BUCKET, Key=key, Body=b"second!")["ETag"].strip('"')
    events = inbox.until(marker(s3, prefix))
    assert [(k, e["detail"]["object"]["etag"]) for k, e in zip(keys(events), events, strict=True)][:2] == [
        (key, first),
        (key, second),
    ], keys(events)
    assert len(events) == 3, keys(events)


def test_tagging_changes_no_bytes_and_is_no_event(s3: Any, inbox: Inbox, prefix: str) -> None:
    key = f"{prefix}tagged.txt"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3.put_object_tagging(Bucket=BUCKET, Key=key, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    end = marker(s3, prefix)
    assert keys(inbox.until(end)) == [key, end]


def test_a_multipart_upload_is_one_event_at_its_completion(s3: Any, inbox: Inbox, prefix: str) -> None:
    # Given a multipart upload of two parts: its parts are staged under .uploads/, no event each
    key = f"{prefix}big (1).bin"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType="application/pdf")["UploadId"]
    sizes = (5 * 1024 * 1024, 1000)
    parts = [
        {"PartNumber": n, "ETag": s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=n, Body=b"p" * size)["ETag"]}
        for n, size in enumerate(sizes, start=1)
    ]  # fmt: skip
    # When it is completed at the storage
    etag = s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )["ETag"]
    end = marker(s3, prefix)
    # Then exactly one event tells of it, as S3's CompleteMultipartUpload
    events = inbox.until(end)
    assert keys(events) == [key, end]
    assert events[0]["detail"]["reason"] == "CompleteMultipartUpload"
    assert events[0]["detail"]["object"]["etag"] == etag.strip('"')
    assert events[0]["detail"]["object"]["size"] == sum(sizes)


def test_a_delete_is_no_event(s3: Any, inbox: Inbox, prefix: str) -> None:
    key = f"{prefix}gone.txt"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3.delete_object(Bucket=BUCKET, Key=key)
    end = marker(s3, prefix)
    assert keys(inbox.until(end)) == [key, end]


@pytest.mark.parametrize(
    "name",
    [
        "my file (1).png",
        "a+b=c@d|e:f~g/résumé é 日本 (final).pdf",
        "100% done +plus+ a=b.txt",
        "%41 is not A, %2F is not a slash.bin",
    ],
)
def test_awkward_keys_arrive_raw(s3: Any, inbox: Inbox, prefix: str, name: str) -> None:
    key = f"{prefix}{name}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    (event,) = inbox.until(key)
    (parsed,) = parse_notification(event)
    assert (parsed.key, parsed.candidates) == (key, (key,))


def test_a_new_feed_resumes_from_the_cursor_without_duplicates(
    storage: SeaweedFS, s3: Any, start_feed: Callable[..., StorageFeed], prefix: str
) -> None:
    # Given a feed that delivered one object, then stopped
    first = Inbox()
    feed = start_feed(lambda: filer_address(storage), first.deliver)
    before = f"{prefix}before.txt"
    s3.put_object(Bucket=BUCKET, Key=before, Body=b"1")
    (delivered,) = first.until(before)
    feed.stop()
    assert feed.cursor == int(delivered["detail"]["object"]["sequencer"], 16)
    # When an object is written while no feed runs, and a feed starts again from the same cursor
    during = f"{prefix}while-stopped.txt"
    s3.put_object(Bucket=BUCKET, Key=during, Body=b"2")
    second = Inbox()
    start_feed(lambda: filer_address(storage), second.deliver)
    end = marker(s3, prefix)
    # Then it gets what it missed, once, and nothing it had (the margin's replay is dropped)
    assert keys(second.until(end)) == [during, end]


def test_a_failing_receiver_gets_the_same_event_again(
    storage: SeaweedFS, s3: Any, start_feed: Callable[..., StorageFeed], prefix: str
) -> None:
    inbox = Inbox()
    failures: list[str] = []

    def flaky(event: dict[str, Any]) -> None:
        if not failures:
            failures.append(event["id"])
            raise RuntimeError("the function failed once")
        inbox.deliver(event)

    start_feed(lambda: filer_address(storage), flaky)
    key = f"{prefix}retried.txt"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    (event,) = inbox.until(key)
    assert failures == [event["id"]]  # the same event (same id) came back


def test_the_cursor_names_an_event_only_after_its_callback_returned(
    storage: SeaweedFS, s3: Any, start_feed: Callable[..., StorageFeed], prefix: str, tmp_path: Path
) -> None:
    # At least once: were the cursor written first, a crash in the callback would lose the event.
    inbox = Inbox()
    seen: list[tuple[int, int]] = []  # (cursor on disk during the callback, the event's tsNs)

    def deliver(event: dict[str, Any]) -> None:
        seen.append((int((tmp_path / "cursor").read_text()), int(event["detail"]["object"]["sequencer"], 16)))
        inbox.deliver(event)

    start_feed(lambda: filer_address(storage), deliver)
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}a.txt", Body=b"a")
    inbox.until(marker(s3, prefix))
    assert len(seen) == 2 and all(cursor < ts for cursor, ts in seen), seen


def test_a_seaweedfs_restart_loses_no_object(
    tmp_path: Path, start_feed: Callable[..., StorageFeed], prefix: str
) -> None:
    # Given a SeaweedFS of its own and a feed that reads the server's address at each start
    workdir = tmp_path / "restarted"
    server = SeaweedFS(workdir, access_key=ACCESS_KEY, secret_key=SECRET_KEY, buckets=[BUCKET]).start()
    current = {"server": server}
    connect = threading.Event()  # held while the test wants the feed unable to reach the filer
    connect.set()

    def address() -> str:
        assert connect.wait(WAIT), "the test never let the feed connect"
        return filer_address(current["server"])

    inbox = Inbox()
    try:
        feed = start_feed(address, inbox.deliver)
        before = f"{prefix}before.txt"
        server.client().put_object(Bucket=BUCKET, Key=before, Body=b"1")
        assert keys(inbox.until(before)) == [before]
        # When SeaweedFS stops (the tail exits), comes back on other ports over the same data,
        # and an object is written before the feed can see it
        connect.clear()
        server.stop()
        server = SeaweedFS(workdir, access_key=ACCESS_KEY, secret_key=SECRET_KEY, buckets=[BUCKET]).start()
        current["server"] = server
        during = f"{prefix}while-down.txt"
        server.client().put_object(Bucket=BUCKET, Key=during, Body=b"2")
        connect.set()
        end = marker(server.client(), prefix)
        # Then the restarted tail delivers it, and nothing twice
        assert keys(inbox.until(end)) == [during, end]
        assert feed.tails_started >= 2
    finally:
        connect.set()
        current["server"].stop()
