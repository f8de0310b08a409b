"""What a download URL makes the storage server answer: decided by the target's policy, never by the
uploader, and never active content inline (issue 7, items 1, 3 and 16).

The storage server's side of it is proven in tests/realserver/test_content_safety.py.
"""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from presign.auth import Principal
from presign.config.target import Target
from presign.downloads.schemas import DownloadsRequest
from presign.downloads.service import issue_download_urls
from presign.errors import PresignError, Unprocessable, UnsafeFilename, UnsupportedContentType
from presign.signing.context import SigningContext
from presign.signing.sigv4 import S3Presigner, SigningCredentials

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
KEY = "users/alice/2026/11/22/abc/cat.png"
ALICE = Principal(sub="alice")


def target(**overrides: Any) -> Target:
    return Target.model_validate(
        {"bucket": "bkt", "endpoint_url": "http://127.0.0.1:9", "addressing_style": "path", **overrides}
    )


def signing() -> SigningContext:
    presigner = S3Presigner(
        credentials=SigningCredentials("AKID", "secret"),
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        addressing_style="path",
    )
    return SigningContext(presigner=presigner, credentials_expire_at=None, clock=lambda: NOW)


def query_of(tgt: Target, **fields: Any) -> dict[str, str]:
    """The signed response-* overrides of the one URL issued for ``fields``."""
    spent: list[int] = []
    result = issue_download_urls(
        DownloadsRequest.model_validate({"keys": [KEY], **fields}),
        principal=ALICE,
        target=tgt,
        signing=signing(),
        spend=spent.append,
    )
    url = result.items[0].url
    assert url is not None and spent == [1], result
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return {k: v for k, v in query.items() if k.startswith("response-")}


def refusal(tgt: Target, **fields: Any) -> PresignError:
    spent: list[int] = []
    with pytest.raises(PresignError) as caught:
        issue_download_urls(
            DownloadsRequest.model_validate({"keys": [KEY], **fields}),
            principal=ALICE,
            target=tgt,
            signing=signing(),
            spend=spent.append,
        )
    assert spent == [], "nothing may be spent (or signed) for a refused request"
    return caught.value


def test_every_url_overrides_what_the_uploader_could_have_stored() -> None:
    # When a caller asks for nothing in particular
    query = query_of(target())

    # Then cache, disposition and encoding come from the policy, not from the stored object
    assert query == {
        "response-cache-control": "private, no-store",
        "response-content-disposition": 'attachment; filename="cat.png"',
        "response-content-encoding": "identity",
    }, query


def test_the_cache_control_override_is_the_targets() -> None:
    query = query_of(target(download={"cache_control": "private, max-age=60"}))
    assert query["response-cache-control"] == "private, max-age=60", query


def test_filename_alone_means_attachment() -> None:
    query = query_of(target(), filename="report.png")
    assert query["response-content-disposition"] == 'attachment; filename="report.png"', query


def test_inline_of_a_passive_override_is_signed_with_its_type() -> None:
    query = query_of(target(), disposition="inline", content_type="image/png")
    assert query["response-content-disposition"] == 'inline; filename="cat.png"', query
    assert query["response-content-type"] == "image/png", query


def test_attachment_with_an_accepted_override() -> None:
    query = query_of(target(), disposition="attachment", content_type="text/plain; charset=utf-8")
    assert query["response-content-type"] == "text/plain; charset=utf-8", query
    assert query["response-content-disposition"].startswith("attachment"), query


def test_inline_without_a_content_type_is_refused() -> None:
    # The stored type is unknown to us (it may be text/html uploaded long ago): inline needs a
    # passive type we sign ourselves.
    error = refusal(target(), disposition="inline")
    assert isinstance(error, Unprocessable), error
    assert "content_type" in error.message, error.message


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript", "application/xml", "text/xml"],
)
@pytest.mark.parametrize("disposition", ["inline", "attachment", None])
def test_an_active_override_is_refused(content_type: str, disposition: str | None) -> None:
    # Even a target that lists the type for uploads cannot have it served as an override.
    tgt = target(upload={"content_types": ["text/plain", content_type]})
    fields: dict[str, Any] = {"content_type": content_type}
    if disposition:
        fields["disposition"] = disposition
    error = refusal(tgt, **fields)
    assert isinstance(error, UnsupportedContentType), error


def test_an_override_must_be_a_type_the_target_accepts_for_uploads() -> None:
    tgt = target(upload={"content_types": ["image/png"]})
    error = refusal(tgt, content_type="application/pdf")
    assert isinstance(error, UnsupportedContentType), error
    assert query_of(tgt, content_type="image/png")["response-content-type"] == "image/png"


def test_inline_only_for_the_targets_inline_types() -> None:
    tgt = target(upload={"content_types": ["application/zip", "image/png"]})
    error = refusal(tgt, disposition="inline", content_type="application/zip")
    assert isinstance(error, Unprocessable), error
    assert "inline" in error.message, error.message
    # The same type as an attachment is fine.
    assert query_of(tgt, content_type="application/zip")["response-content-type"] == "application/zip"


def test_a_target_can_switch_inline_off() -> None:
    error = refusal(target(download={"inline_types": []}), disposition="inline", content_type="image/png")
    assert isinstance(error, Unprocessable), error


def test_non_ascii_filename_has_a_visible_fallback() -> None:
    query = query_of(target(), filename="صورة.png")
    assert query["response-content-disposition"] == (
        "attachment; filename=\"download.png\"; filename*=UTF-8''%D8%B5%D9%88%D8%B1%D8%A9.png"
    ), query


# -- issue 17, item 4: a filename cannot change what a file is -------------------------------------


@pytest.mark.parametrize("filename", ["Invoice.html", "Invoice.exe", "Invoice.txt", "Invoice", "cat.png.svg"])
def test_a_filename_that_changes_what_the_file_is_is_refused(filename: str) -> None:
    # Given the one key, a PNG: the request is refused as that key's item would be
    error = refusal(target(), filename=filename)
    assert isinstance(error, UnsafeFilename) and error.code == "unsafe_filename", error


def test_an_unsafe_filename_is_refused_per_item() -> None:
    # Given a PNG and a text file under one name ending in .png
    notes = "users/alice/2026/11/22/abc/notes.txt"
    spent: list[int] = []
    result = issue_download_urls(
        DownloadsRequest.model_validate({"keys": [KEY, notes], "filename": "Holiday.png"}),
        principal=ALICE,
        target=target(),
        signing=signing(),
        spend=spent.append,
    )

    # Then the PNG is signed, the text file's item carries the refusal, and one URL is spent
    png, txt = result.items
    assert png.url is not None and png.error is None, png
    assert txt.url is None and txt.error is not None and txt.error.code == "unsafe_filename", txt
    assert ".txt" in txt.error.message, txt.error
    assert spent == [1], spent


def test_a_signed_content_type_lends_its_extensions_never_an_unsafe_one() -> None:
    tgt = target(upload={"content_types": ["image/png", "text/plain"]})
    query = query_of(tgt, content_type="text/plain", filename="cat.txt")
    assert query["response-content-disposition"] == 'attachment; filename="cat.txt"', query
    # Python's table maps .bat to text/plain too: an executable all the same
    assert isinstance(refusal(tgt, content_type="text/plain", filename="cat.bat"), UnsafeFilename)


@pytest.mark.parametrize(
    "filename", ["cat.png\u202ehtml", "cat\uff0ehtml", "cat.html.", "cat.HtMl", "cat.png\x00.html"]
)
def test_unicode_and_byte_tricks_are_refused_too(filename: str) -> None:
    assert isinstance(refusal(target(), filename=filename), UnsafeFilename)
