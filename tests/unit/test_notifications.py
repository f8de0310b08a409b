"""Object-created notifications from every source read back to the key as stored.

Our keys hold spaces, parentheses, Unicode and claim values with ``+ = @ | : ~``; each source
spells them its own way (``presign.storage_events.notifications``). Every test encodes a known key as the source
does, parses the event, and compares with the original.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from local.storage_feed import DEV_SOURCE, object_created_event
from presign.cleanup.keys import ServiceKeys
from presign.config.target import Target
from presign.core.prefixes import SAFE_SEGMENT
from presign.errors import InvalidRequest
from presign.storage_events.notifications import ObjectCreated, Source, parse_notification
from presign.uploads.ids import ALPHABET
from tests.support.storage_events import (
    eventbridge,
    go_query_escape,
    minio_webhook,
    r2,
    s3_direct,
    s3_record,
    s3_url_encode,
)

UPLOAD_ID = "01hzyx5q3m0000000000000000"
AWKWARD_KEYS = [
    f"users/alice/2026/05/01/{UPLOAD_ID}/my file (1).png",
    f"users/a+b=c@d|e:f~g/2026/05/01/{UPLOAD_ID}/résumé é 日本 (final).pdf",
    f"tenants/t=1/users/x@y.z|k:v~w+q/2026/05/01/{UPLOAD_ID}/100% done +plus+ a=b.txt",
    f"users/bob/2026/05/01/{UPLOAD_ID}/%41 is not A, %2F is not a slash, %E9 is not é.bin",
    f"users/bob/2026/05/01/{UPLOAD_ID}/a+b.txt",
]


def dev(key: str) -> dict[str, Any]:
    return object_created_event(
        bucket="bucket-1", key=key, size=5, etag="abc", content_type="text/plain", ts_ns=1, reason="PutObject"
    )


# Each source with how it spells a key on the wire, and whether it names the key exactly
# (False: S3 through EventBridge, where the caller matches against the candidates).
SPELLINGS: dict[str, tuple[Callable[[str], dict[str, Any]], bool]] = {
    "eventbridge, raw (as moto sends it)": (eventbridge, False),
    "eventbridge, url-encoded": (lambda k: eventbridge(s3_url_encode(k)), False),
    "eventbridge, url-encoded with slashes": (lambda k: eventbridge(quote_plus(k)), False),
    "s3 direct": (lambda k: s3_direct(s3_url_encode(k)), True),
    "s3 direct, slashes encoded (moto)": (lambda k: s3_direct(quote_plus(k)), True),
    "minio webhook": (lambda k: minio_webhook(go_query_escape(k), raw_key=k), True),
    "r2 via queues": (r2, True),
    "make dev feed": (dev, True),
}


def only(event: dict[str, Any]) -> ObjectCreated:
    created = parse_notification(event)
    assert len(created) == 1, created
    return created[0]


def assert_names(event: dict[str, Any], key: str, exact: bool) -> None:
    parsed = only(event)
    assert parsed.key_matches(key), (key, parsed.candidates)
    if exact:
        assert (parsed.key, parsed.candidates) == (key, (key,))
    else:
        assert parsed.candidates[0] == event["detail"]["object"]["key"]  # the raw value first


@pytest.mark.parametrize("key", AWKWARD_KEYS)
@pytest.mark.parametrize("source", list(SPELLINGS))
def test_awkward_keys_read_back_from_every_source(source: str, key: str) -> None:
    # Given the key as the source spells it / When parsed / Then it names the original key
    encode, exact = SPELLINGS[source]
    assert_names(encode(key), key, exact)


_KEY_CHARS = st.one_of(
    st.sampled_from(list(" +%/()=@|:~éü日本")),
    st.characters(blacklist_categories=("Cs",)),  # any code point UTF-8 can carry
)


@settings(max_examples=300, deadline=None)
@given(key=st.text(_KEY_CHARS, min_size=1, max_size=60), source=st.sampled_from(list(SPELLINGS)))
@example(key="a+b", source="eventbridge, raw (as moto sends it)")
@example(key="%E9", source="s3 direct")
def test_any_key_survives_its_sources_encoding(key: str, source: str) -> None:
    encode, exact = SPELLINGS[source]
    assert_names(encode(key), key, exact)


def test_eventbridge_offers_both_spellings_and_no_other() -> None:
    # A raw "+" and an encoded space look alike: the event cannot say, so both are candidates.
    parsed = only(eventbridge("x/a+b%28.txt"))
    assert parsed.candidates == ("x/a+b%28.txt", "x/a b(.txt")
    assert parsed.key == "x/a+b%28.txt"
    assert not parsed.key_matches("x/a+b(.txt")  # never a mix of the two
    # Escapes that are not UTF-8 decode to no key at all (never a U+FFFD-patched one).
    assert only(eventbridge("x/%E9.txt")).candidates == ("x/%E9.txt",)


def test_direct_notifications_are_decoded_so_a_raw_plus_would_be_misread() -> None:
    # Why the decoding is per source: S3 and MinIO always encode, so "+" there is a space.
    assert only(s3_direct("a+b.txt")).key == "a b.txt"
    assert only(minio_webhook("users%2Fa%2Bb+c.txt")).key == "users/a+b c.txt"
    # R2 and the dev feed deliver keys raw: a "+" is a "+".
    assert only(r2("a+b%20.txt")).key == "a+b%20.txt"
    assert only(dev("a+b%20.txt")).key == "a+b%20.txt"


# -- the record an event leads to -----------------------------------------------------------------

# The parser the storage events function finds records with (the cleanup's sweep uses it too).
_SERVICE_KEYS = ServiceKeys.of(
    Target.model_validate(
        {"bucket": "b-test", "credentials": {"source": "env"}, "key_prefix": "users/{sub}/"}
    )
)
_CLAIM = SAFE_SEGMENT.pattern
_IDS = ALPHABET


@settings(max_examples=300, deadline=None)
@given(
    claim=st.from_regex(_CLAIM, fullmatch=True),
    upload_id=st.text(_IDS, min_size=26, max_size=26),
    filename=st.text(
        st.one_of(
            st.sampled_from(list(" +%()é日")),
            st.characters(blacklist_categories=("Cs",), blacklist_characters="/"),
        ),
        min_size=1,
        max_size=30,
    ),
    spelling=st.sampled_from(["raw", "encoded", "encoded with slashes"]),
)
def test_every_candidate_that_parses_names_the_same_owner_and_upload(
    claim: str, upload_id: str, filename: str, spelling: str
) -> None:
    # Given a key of the service's shape, sent through EventBridge in one of its possible spellings
    key = f"users/{claim}/2026/05/01/{upload_id}/{filename}"
    wire = {"raw": key, "encoded": s3_url_encode(key), "encoded with slashes": quote_plus(key)}[spelling]
    # When each candidate is parsed as the completion's lookup does
    parsed = [k for c in only(eventbridge(wire)).candidates if (k := _SERVICE_KEYS.parse(c))]
    # Then at least one parses, and all that parse name one record: the lookup is unambiguous
    assert parsed, (wire, key)
    assert {(k.sub, k.upload_id) for k in parsed} == {(claim, upload_id)}


# -- what each source tells besides the key -------------------------------------------------------


def test_the_fields_of_each_source() -> None:
    assert only(eventbridge("k", bucket="b1", reason="CompleteMultipartUpload", size=7)) == ObjectCreated(
        source=Source.EVENTBRIDGE,
        bucket="b1",
        key="k",
        candidates=("k",),
        reason="CompleteMultipartUpload",
        size=7,
        etag="b1946ac92492d2347c6235b4d2611184",
        sequencer="617f08299329d189",
        time="2021-11-12T00:00:00Z",
    )
    direct = only(s3_direct("k", event_name="ObjectCreated:Post", etag='"quoted"'))
    assert (direct.source, direct.reason, direct.etag, direct.sequencer, direct.time) == (
        Source.S3, "Post", "quoted", "0055AED6DCD90281E5", "2024-01-01T00:00:00.000Z"
    )  # fmt: skip
    minio = only(minio_webhook("k", event_name="s3:ObjectCreated:CompleteMultipartUpload"))
    assert (minio.source, minio.reason, minio.bucket) == (Source.MINIO, "CompleteMultipartUpload", "bucket-1")
    cloudflare = only(r2("k", action="CopyObject"))
    assert (cloudflare.source, cloudflare.reason, cloudflare.size, cloudflare.sequencer, cloudflare.time) == (
        Source.R2, "CopyObject", 65536, None, "2024-05-24T19:36:44.379Z"
    )  # fmt: skip
    feed = only(
        object_created_event(
            bucket="b", key="k", size=0, etag=None, content_type=None, ts_ns=255, reason="PutObject"
        )
    )
    assert (feed.source, feed.size, feed.etag, feed.sequencer) == (Source.DEV, 0, None, "00000000000000FF")
    assert DEV_SOURCE == Source.DEV


def test_moto_spells_the_eventbridge_etag_eTag() -> None:
    event = eventbridge("k")
    event["detail"]["object"]["eTag"] = event["detail"]["object"].pop("etag")
    assert only(event).etag == "b1946ac92492d2347c6235b4d2611184"


def test_every_record_of_a_direct_notification_counts_and_only_creations() -> None:
    event = {
        "Records": [
            s3_record("a", event_name="ObjectCreated:Put"),
            s3_record("b", event_name="ObjectRemoved:Delete"),
            s3_record("c", event_name="ObjectCreated:CompleteMultipartUpload"),
            {"eventSource": "aws:sqs", "body": "{}"},
        ]
    }
    assert [c.key for c in parse_notification(event)] == ["a", "c"]


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            eventbridge("k", detail_type="Object Deleted", reason="DeleteObject"), id="eventbridge delete"
        ),
        pytest.param(eventbridge("k", detail_type="Object Tags Added"), id="eventbridge tags"),
        pytest.param(eventbridge("k", source="com.example"), id="eventbridge other source"),
        pytest.param(s3_direct("k", event_name="ObjectRemoved:Delete"), id="s3 delete"),
        pytest.param(s3_direct("k", event_name="ObjectRestore:Completed"), id="s3 restore"),
        pytest.param(minio_webhook("k", event_name="s3:ObjectRemoved:Delete"), id="minio delete"),
        pytest.param(minio_webhook("k", event_name="s3:ObjectCreated:PutTagging"), id="minio tagging"),
        pytest.param(minio_webhook("k", event_name="s3:ObjectCreated:PutRetention"), id="minio retention"),
        pytest.param(r2("k", action="DeleteObject"), id="r2 delete"),
        pytest.param(r2("k", action="LifecycleDeletion"), id="r2 lifecycle"),
        pytest.param({}, id="empty"),
        pytest.param({"dry_run": True}, id="cleanup invocation"),
        pytest.param({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, id="schedule"),
        pytest.param({"version": "2.0", "routeKey": "GET /health", "rawPath": "/health"}, id="http api"),
        pytest.param({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}, id="s3 test event"),
        pytest.param({"Records": []}, id="no records"),
    ],
)
def test_deletes_and_unknown_shapes_are_ignored(event: dict[str, Any]) -> None:
    assert parse_notification(event) == []


def _without(event: dict[str, Any], *path: str | int) -> dict[str, Any]:
    node: Any = event
    for name in path[:-1]:
        node = node[name]
    del node[path[-1]]
    return event


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(["not", "an", "object"], id="not an object"),
        pytest.param(_without(eventbridge("k"), "detail", "object", "key"), id="eventbridge no key"),
        pytest.param(eventbridge(""), id="eventbridge empty key"),
        pytest.param(_without(eventbridge("k"), "detail", "bucket"), id="eventbridge no bucket"),
        pytest.param(eventbridge("k", size="5"), id="eventbridge size as text"),
        pytest.param(eventbridge("k", size=-1), id="eventbridge negative size"),
        pytest.param(eventbridge("k", size=True), id="eventbridge size true"),
        pytest.param({**eventbridge("k"), "detail": "x"}, id="eventbridge detail not an object"),
        pytest.param({"Records": {"0": {}}}, id="records not a list"),
        pytest.param({"Records": ["x"]}, id="record not an object"),
        pytest.param(_without(s3_direct("k"), "Records", 0, "s3"), id="s3 no s3"),
        pytest.param(_without(s3_direct("k"), "Records", 0, "eventName"), id="s3 no event name"),
        pytest.param(s3_direct("%E9.txt"), id="s3 key not utf-8"),
        pytest.param(minio_webhook("a%FF"), id="minio key not utf-8"),
        pytest.param(r2("k") | {"object": {"size": 1}}, id="r2 no key"),
        pytest.param(r2("k") | {"bucket": 7}, id="r2 bucket not text"),
    ],
)
def test_a_malformed_notification_is_a_clear_error(event: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_notification(event)
    assert caught.value.code == "invalid_request"
