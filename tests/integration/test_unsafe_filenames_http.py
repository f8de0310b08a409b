"""A ``filename`` cannot change what a file is (issue 17, item 4), through the real handlers:
``POST /downloads`` refuses it per item, ``POST /shares`` at creation, both with 422
``unsafe_filename``; a name that keeps the key's extension (or takes the signed type's) is served.
The rules themselves, and every trick: tests/unit/test_filenames.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from local.servers import MotoServer
from presign.adapters.dynamodb_shares import share_pk
from presign.shares.ids import handle_of
from tests.integration.conftest import Client
from tests.support.shares import (
    BUCKET,
    SHARES_TABLE,
    Stack,
    body,
    dynamodb,
    make_stack,
    moto_with_bucket,
    s3,
    share_document,
)

DAY = "users/alice/2026/11/22/01K0ABCDEF"
NOTES = f"{DAY}/notes.txt"
CAT = f"{DAY}/cat.png"
TRICKS = [
    pytest.param("Invoice.html", id="active"),
    pytest.param("Invoice.exe", id="executable"),
    pytest.param("Invoice", id="no-extension"),
    pytest.param("notes.txt.html", id="double-extension"),
    pytest.param("Invoice.HtMl", id="case"),
    pytest.param("Invoice.html.", id="trailing-dot"),
    pytest.param("Invoice.html  ", id="trailing-spaces"),
    pytest.param("Invoice.txt\x00.html", id="nul"),
    pytest.param("Invoice.txt\u202ehtml", id="rtl-override"),
    pytest.param("Invoice\uff0ehtml", id="fullwidth-dot"),
]


def error_of(response: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(response["body"])["error"])


def assert_unsafe(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 422, (response["statusCode"], response["body"])
    error = error_of(response)
    assert error["code"] == "unsafe_filename" and set(error) == {"code", "message", "request_id"}, error


def disposition_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["response-content-disposition"][0]


# -- POST /downloads -------------------------------------------------------------------------------


@pytest.fixture
def downloads(make_client: Callable[..., Client]) -> Client:
    return make_client("downloads")


@pytest.mark.parametrize("filename", TRICKS)
def test_a_download_under_a_name_that_changes_the_file_is_422(downloads: Client, filename: str) -> None:
    # Given one key, a checked text file, and a name that would make it something else
    response = downloads.post("/downloads", {"keys": NOTES, "filename": filename})
    # Then nothing is signed: its one item is refused, so the request is
    assert_unsafe(response)
    assert "X-Amz" not in response["body"]


def test_a_download_refuses_the_name_per_item(downloads: Client) -> None:
    # Given a PNG and a text file asked for under one name ending in .png
    response = downloads.post("/downloads", {"keys": [CAT, NOTES], "filename": "Holiday.png"})

    # Then the PNG is signed under that name, and the text file's item carries the refusal
    assert response["statusCode"] == 200, response["body"]
    png, txt = body(response)["items"]
    assert disposition_of(png["url"]) == 'attachment; filename="Holiday.png"', png
    assert "url" not in txt or txt["url"] is None, txt
    assert txt["error"]["code"] == "unsafe_filename" and ".txt" in txt["error"]["message"], txt


def test_a_download_name_may_take_the_signed_types_extension(downloads: Client) -> None:
    # Given the PNG served as text/plain (a type the default target accepts)
    answer = downloads.post("/downloads", {"keys": CAT, "content_type": "text/plain", "filename": "cat.txt"})
    assert answer["statusCode"] == 200, answer["body"]
    assert disposition_of(body(answer)["items"][0]["url"]) == 'attachment; filename="cat.txt"'
    # But not one of its unsafe ones (Python's table maps .bat to text/plain)
    assert_unsafe(
        downloads.post("/downloads", {"keys": CAT, "content_type": "text/plain", "filename": "cat.bat"})
    )


def test_a_key_whose_own_extension_is_active_keeps_it_as_an_attachment(downloads: Client) -> None:
    # Given a key that is an HTML file (its kind allowed it at upload)
    response = downloads.post("/downloads", {"keys": f"{DAY}/page.html", "filename": "Copy of page.html"})

    # Then the name may keep .html: it is saved as an attachment, with no type of ours
    assert response["statusCode"] == 200, response["body"]
    query = parse_qs(urlsplit(body(response)["items"][0]["url"]).query)
    assert query["response-content-disposition"] == ['attachment; filename="Copy of page.html"'], query
    assert "response-content-type" not in query, query
    # And not another active one
    assert_unsafe(downloads.post("/downloads", {"keys": f"{DAY}/page.html", "filename": "page.svg"}))


# -- POST /shares ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_bucket()


@pytest.fixture
def stack(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return make_stack(moto, monkeypatch, share_document(moto.endpoint_url))


def stored(moto: MotoServer, key: str, content_type: str = "text/plain") -> str:
    s3(moto).put_object(Bucket=BUCKET, Key=key, Body=b"checked", ContentType=content_type)
    return key


@pytest.mark.parametrize("filename", TRICKS)
def test_a_share_under_a_name_that_changes_the_file_is_422_and_not_made(
    stack: Stack, moto: MotoServer, filename: str
) -> None:
    # Given alice's checked notes.txt
    alice = stack.owner()
    key = stored(moto, alice.key("notes.txt"))

    # When she shares it under a name that would make it something else
    response = alice.create({"key": key, "filename": filename})

    # Then it is refused, and no share exists
    assert_unsafe(response)
    listed = body(alice.list())["items"]
    assert [s for s in listed if s["key"] == key] == [], listed


def test_a_share_that_keeps_the_extension_is_served_under_its_name(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key("notes.txt")), filename="Q3 notes.TXT")
    location = stack.visit(created["share_id"])["headers"]["Location"]
    assert disposition_of(location) == 'attachment; filename="Q3 notes.TXT"', location


def test_an_inline_share_may_take_its_stored_types_extension(stack: Stack, moto: MotoServer) -> None:
    # Given a JPEG stored as photo.jpeg
    alice = stack.owner()
    key = stored(moto, alice.key("photo.jpeg"), "image/jpeg")

    # Then inline (which signs image/jpeg) may name it .jpg; an attachment signs no type: .jpeg only
    created = alice.share(key, disposition="inline", filename="Holiday.jpg")
    location = stack.visit(created["share_id"])["headers"]["Location"]
    assert disposition_of(location) == 'inline; filename="Holiday.jpg"', location
    assert_unsafe(alice.create({"key": key, "filename": "Holiday.jpg"}))


def test_a_share_of_an_active_key_may_keep_its_extension(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    key = stored(moto, alice.key("page.html"), "text/html")
    created = alice.share(key, filename="Copy.html")
    query = parse_qs(urlsplit(stack.visit(created["share_id"])["headers"]["Location"]).query)
    assert query["response-content-disposition"] == ['attachment; filename="Copy.html"'], query
    assert "response-content-type" not in query, query


def test_a_share_stored_with_an_unsafe_name_is_served_under_the_keys(stack: Stack, moto: MotoServer) -> None:
    # Given a share made before the rule, whose stored name is Invoice.html (written as it was)
    alice = stack.owner()
    key = stored(moto, alice.key("notes.txt"))
    created = alice.share(key, filename="Invoice.txt")
    dynamodb(moto).update_item(
        TableName=SHARES_TABLE,
        Key={"pk": {"S": share_pk(handle_of(created["share_id"]))}},
        UpdateExpression="SET filename = :name",
        ExpressionAttributeValues={":name": {"S": "Invoice.html"}},
    )

    # When a visitor opens it
    location = stack.visit(created["share_id"])["headers"]["Location"]

    # Then the link still works, under the key's own name
    assert disposition_of(location) == 'attachment; filename="notes.txt"', location
