"""Which content types a target admits, which it may show inline, and which are never served as
an override (issue 7, items 1 and 2)."""

import json
from typing import Any

import pytest

from presign.config.settings import parse_settings
from presign.config.target import DownloadPolicy, UploadPolicy
from presign.core.mediatypes import is_active, is_allowed
from presign.errors import ConfigurationError

ACTIVE = [
    "text/html",
    "TEXT/HTML; charset=utf-8",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "application/rss+xml",
    "application/vnd.foo+xml; charset=utf-8",
    "text/xsl",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "text/ecmascript",
    "application/ecmascript",
    "text/javascript1.5",
    "text/jscript",
    "text/livescript",
    "text/vbscript",
    "multipart/x-mixed-replace",
    "message/rfc822",
    "application/x-shockwave-flash",
    "text/x-component",
    "application/hta",
]
PASSIVE = [
    "image/png",
    "image/jpeg",
    "application/pdf",
    "text/plain",
    "text/csv",
    "video/mp4",
    "audio/mpeg",
    "application/zip",
    "application/json",
    "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
]


def document(**target: Any) -> str:
    return json.dumps(
        {
            "default_target": "main",
            "targets": {"main": {"bucket": "my-bucket", **target}},
            "auth": {"issuer": "https://i", "audience": "a", "secrets": [{"source": "env", "name": "S"}]},
        }
    )


@pytest.mark.parametrize("content_type", ACTIVE)
def test_active_types_are_recognised(content_type: str) -> None:
    assert is_active(content_type), content_type


@pytest.mark.parametrize("content_type", PASSIVE)
def test_passive_types_are_not_active(content_type: str) -> None:
    assert not is_active(content_type), content_type


@pytest.mark.parametrize(
    "wildcard", ["*/*", "image/*", "text/*", "application/*", "multipart/*", "message/*"]
)
@pytest.mark.parametrize("content_type", ACTIVE)
def test_no_wildcard_admits_an_active_type(wildcard: str, content_type: str) -> None:
    assert not is_allowed(content_type, [wildcard]), (content_type, wildcard)


def test_an_active_type_is_admitted_only_when_listed_exactly() -> None:
    assert is_allowed("image/svg+xml", ["image/svg+xml"])
    assert is_allowed("Image/SVG+XML; charset=utf-8", ["image/*", "image/svg+xml"])
    assert not is_allowed("image/svg+xml", ["image/*", "text/html"])


@pytest.mark.parametrize("content_type", PASSIVE)
def test_wildcards_still_admit_passive_types(content_type: str) -> None:
    assert is_allowed(content_type, ["*/*"])
    assert is_allowed(content_type, [content_type.split("/")[0] + "/*"])


def test_default_upload_types_are_explicit_and_passive() -> None:
    # Given the default policy
    policy = UploadPolicy()

    # Then: no wildcard for images, and no SVG, HTML or script
    assert "image/*" not in policy.content_types, policy.content_types
    for raster in ("image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"):
        assert is_allowed(raster, policy.content_types), (raster, policy.content_types)
    for active in ACTIVE:
        assert not is_allowed(active, policy.content_types), (active, policy.content_types)


def test_default_inline_types_are_passive() -> None:
    policy = DownloadPolicy()
    for passive in ("image/png", "image/jpeg", "application/pdf", "text/plain", "video/mp4", "audio/mpeg"):
        assert is_allowed(passive, policy.inline_types), (passive, policy.inline_types)
    for active in ACTIVE:
        assert not is_allowed(active, policy.inline_types), (active, policy.inline_types)
    assert not is_allowed("application/zip", policy.inline_types)


@pytest.mark.parametrize("active", ["image/svg+xml", "text/html", "application/xhtml+xml", "text/javascript"])
def test_an_active_inline_type_stops_the_cold_start(active: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(document(download={"inline_types": ["image/png", active]}))
    message = caught.value.message
    assert "targets.main.download.inline_types" in message and active in message, message


def test_svg_is_an_explicit_opt_in_for_uploads() -> None:
    settings = parse_settings(document(upload={"content_types": ["image/png", "image/svg+xml"]}))
    _, target = settings.target(None)
    assert is_allowed("image/svg+xml", target.upload.content_types)


@pytest.mark.parametrize(
    "value", ["public,max-age=1\r\nx: y", "", " private", "private;", "no-store, ", "a" * 300]
)
def test_cache_control_must_be_a_plain_directive_list(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(document(download={"cache_control": value}))
    assert "targets.main.download.cache_control" in caught.value.message, caught.value.message


def test_cache_control_default_keeps_private_files_out_of_shared_caches() -> None:
    assert DownloadPolicy().cache_control == "private, no-store"
    settings = parse_settings(document(download={"cache_control": "private, max-age=60"}))
    assert settings.target(None)[1].download.cache_control == "private, max-age=60"
