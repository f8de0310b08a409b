"""``local.storage_feed`` without a server: the JSON stream decoder and which filer changes become
"Object Created" events. The real stream is judged in tests/realserver/test_storage_feed.py."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.storage_feed import JsonStream, StorageFeed

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.sampled_from('{}[]":,\\ \nab日')),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.dictionaries(st.text(max_size=5), _json_values, max_size=4), max_size=5),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
)
def test_pretty_printed_objects_come_out_whole_however_the_text_is_cut(
    values: list[dict[str, Any]], cuts: list[int]
) -> None:
    # Given objects printed as weed filer.meta.tail prints them: indented, one after the other
    text = "".join(json.dumps(v, indent=2, ensure_ascii=False) + "\n" for v in values)
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    # When the text arrives in pieces cut anywhere
    stream = JsonStream()
    got = [v for a, b in itertools.pairwise(points) for v in stream.feed(text[a:b])]
    # Then every object comes out once, whole, in order
    assert got == values


def entry(
    name: str, *, directory: bool = False, etag: str | None = "abc", **attributes: Any
) -> dict[str, Any]:
    extended = {"Seaweed-X-Amz-ETag": base64.b64encode(etag.encode()).decode()} if etag else {}
    return {
        "name": name,
        "isDirectory": directory,
        "attributes": {"fileSize": "5", "mime": "text/plain", **attributes},
        "chunks": [{"fid": {"volumeId": 1, "fileKey": "3"}, "offset": "0", "size": "5", "modifiedTsNs": "7"}],
        "extended": extended,
    }


def change(directory: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "directory": directory,
        "eventNotification": {"oldEntry": old, "newEntry": new, "newParentPath": directory if new else ""},
        "tsNs": "1796678704519929155",
    }


@pytest.fixture
def feed(tmp_path: Path) -> StorageFeed:
    return StorageFeed(
        bucket="b1", filer=lambda: "unused", cursor_path=tmp_path / "c", deliver=print, weed="weed"
    )


def test_a_created_file_becomes_an_object_created_event(feed: StorageFeed) -> None:
    event = feed.event_for(change("/buckets/b1/users/a b", None, entry("(1) é +.txt")))
    assert event is not None
    assert event["detail"]["object"] == {
        "key": "users/a b/(1) é +.txt",
        "size": 5,
        "etag": "abc",
        "content-type": "text/plain",
        "sequencer": f"{1796678704519929155:016X}",
    }
    assert (event["source"], event["detail-type"], event["detail"]["reason"]) == (
        "presign.dev-storage",
        "Object Created",
        "PutObject",
    )


def test_a_multipart_completion_says_so_and_an_etag_falls_back_to_the_md5(feed: StorageFeed) -> None:
    completed = entry("big.bin", etag=None, md5=base64.b64encode(bytes.fromhex("00ff" * 8)).decode())
    completed["extended"]["X-Seaweedfs-Upload-Id"] = base64.b64encode(b"u1").decode()
    event = feed.event_for(change("/buckets/b1/u", None, completed))
    assert event is not None
    assert (event["detail"]["reason"], event["detail"]["object"]["etag"]) == (
        "CompleteMultipartUpload",
        "00ff" * 8,
    )


@pytest.mark.parametrize(
    "filer_change",
    [
        pytest.param(change("/buckets/b1", None, entry("users", directory=True)), id="directory"),
        pytest.param(change("/buckets/b1/u", entry("a.txt"), None), id="delete"),
        pytest.param(change("/buckets/b1/.uploads/x", None, entry("0001_u.part")), id="multipart part"),
        pytest.param(change("/buckets/b1/.uploads", None, entry("x")), id="multipart staging"),
        pytest.param(change("/buckets/b10/u", None, entry("a.txt")), id="another bucket"),
        pytest.param(change("/buckets/b1/u", entry("a.txt"), entry("a.txt", etag="abc")), id="metadata only"),
    ],
)
def test_what_s3_would_not_announce_is_not_an_event(feed: StorageFeed, filer_change: dict[str, Any]) -> None:
    assert feed.event_for(filer_change) is None


def test_an_overwrite_is_an_event(feed: StorageFeed) -> None:
    old, new = entry("a.txt"), entry("a.txt", etag="def")
    new["chunks"][0]["modifiedTsNs"] = "8"  # new bytes, new chunk
    event = feed.event_for(change("/buckets/b1/u", old, new))
    assert event is not None and event["detail"]["object"]["etag"] == "def"


def test_a_change_it_cannot_read_is_skipped_not_fatal(tmp_path: Path) -> None:
    # One odd line from a future weed must not stop every later event.
    delivered: list[dict[str, Any]] = []
    feed = StorageFeed(
        bucket="b1", filer=lambda: "unused", cursor_path=tmp_path / "c", deliver=delivered.append, weed="weed"
    )
    feed._handle({"eventNotification": {}})  # no tsNs: nothing to resume from, ignored
    odd = change("/buckets/b1/u", None, {"isDirectory": False})  # an entry without a name
    feed._handle(odd)
    assert feed.cursor == int(odd["tsNs"])  # skipped, and not read again after a restart
    good = change("/buckets/b1/u", None, entry("a.txt")) | {"tsNs": str(int(odd["tsNs"]) + 1)}
    feed._handle(good)
    assert [e["detail"]["object"]["key"] for e in delivered] == ["u/a.txt"]
    assert (tmp_path / "c").read_text() == good["tsNs"]
