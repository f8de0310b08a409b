"""Upload kinds through the real uploads handler: each bound refused with its status, and inside it
accepted, the key under the kind's sub-prefix and the URL within the kind's expiry."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from presign.config import uploads as kinds
from presign.config.settings import parse_settings
from presign.errors import ConfigurationError
from presign.limits import MAX_OBJECT_BYTES, MAX_PRESIGN_EXPIRY, MAX_SINGLE_PUT_BYTES
from tests.integration.conftest import Client
from tests.support.functions import settings_document

AVATAR = {
    "content_types": ["image/png", "image/jpeg"],
    "min_size": 100,
    "max_size": 2000,
    "key_prefix": "avatars/",
    "extensions": ["png", "jpg", "jpeg"],
    "max_expiry": 300,
}
DOCUMENT = {
    "content_types": ["application/pdf"],
    "key_prefix": "docs/2026/",
    "extensions": {"pdf": ["application/pdf"]},
}
GOOD = {"filename": "me.png", "content_type": "image/png", "size": 500, "kind": "avatar"}


@pytest.fixture
def uploads(make_client: Callable[..., Client]) -> Client:
    document = settings_document(
        upload={
            "content_types": ["image/*", "application/pdf", "text/plain"],
            "max_size": 10_000,
            "kinds": {"avatar": AVATAR, "document": DOCUMENT},
        }
    )
    return make_client("uploads", document)


def answer(uploads: Client, **changes: Any) -> tuple[int, dict[str, Any]]:
    response = uploads.post("/uploads", {**GOOD, **changes})
    return response["statusCode"], json.loads(response["body"])


def test_inside_every_bound_is_accepted_under_the_sub_prefix(uploads: Client) -> None:
    status, grant = answer(uploads, expires_in=3600)

    assert status == 201, grant
    assert grant["key"].startswith("users/alice/avatars/") and grant["key"].endswith("/me.png"), grant["key"]
    assert grant["expires_in"] == 300  # the kind's own maximum, not the target's 3600


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"content_type": "image/gif", "filename": "me.gif"}, 415, "unsupported_content_type"),
        ({"size": 99}, 422, "payload_too_small"),
        ({"size": 2001}, 413, "payload_too_large"),
        ({"filename": "me.gif"}, 415, "unsupported_content_type"),
        ({"filename": "virus.exe"}, 415, "unsupported_content_type"),
        ({"filename": "me.jpg"}, 415, "unsupported_content_type"),  # .jpg says jpeg, the body says png
        ({"filename": "no-extension"}, 415, "unsupported_content_type"),
        ({"kind": "poster"}, 404, "unknown_kind"),
    ],
    ids=[
        "type",
        "below-min",
        "above-max",
        "extension",
        "exe-as-png",
        "extension-disagrees",
        "no-extension",
        "unknown-kind",
    ],
)
def test_each_bound_is_refused_with_its_status(
    uploads: Client, changes: dict[str, Any], status: int, code: str
) -> None:
    got, answer_body = answer(uploads, **changes)
    assert got == status, answer_body
    assert answer_body["error"]["code"] == code


@pytest.mark.parametrize(("size", "status"), [(100, 201), (2000, 201)])
def test_the_size_bounds_are_inclusive(uploads: Client, size: int, status: int) -> None:
    assert answer(uploads, size=size)[0] == status


def test_an_explicit_extension_mapping_and_a_deeper_sub_prefix(uploads: Client) -> None:
    status, grant = answer(
        uploads, kind="document", filename="Report.PDF", content_type="application/pdf", size=5
    )
    assert status == 201, grant
    assert grant["key"].startswith("users/alice/docs/2026/"), grant["key"]


def test_without_a_kind_the_targets_policy_applies(uploads: Client) -> None:
    status, grant = answer(uploads, kind=None, filename="virus.exe", size=5000)
    assert status == 201, grant  # the target itself checks no extensions and allows 10 000 bytes
    assert "/avatars/" not in grant["key"]


def _config(kind: dict[str, Any]) -> str:
    document = settings_document(upload={"kinds": {"k": kind}})
    return json.dumps(document)


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ({"key_prefix": "../escape/"}, "key_prefix"),
        ({"key_prefix": "a/../b/"}, "key_prefix"),
        ({"key_prefix": "a//"}, "key_prefix"),
        ({"key_prefix": "/abs/"}, "key_prefix"),
        ({"key_prefix": "{sub}/"}, "key_prefix"),
        ({"key_prefix": "no-slash"}, "key_prefix"),
        ({"extensions": ["zzz-unknown"]}, "extensions"),
        ({"extensions": []}, "extensions"),
        ({"min_size": 10, "max_size": 5}, "min_size"),
        ({"content_types": ["not a type"]}, "content_types"),
        ({"max_size": MAX_OBJECT_BYTES + 1}, "max_size"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_bad_kind_stops_the_cold_start_naming_the_field(kind: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        parse_settings(_config(kind))


def test_a_bad_kind_name_is_refused() -> None:
    document = settings_document(upload={"kinds": {"Bad Name": {}}})
    with pytest.raises(ConfigurationError, match="kind names"):
        parse_settings(json.dumps(document))


def test_the_kinds_module_repeats_the_configs_limits_exactly() -> None:
    # A kind's bounds are S3's own (presign.limits), one copy: the configuration imports them.
    assert (kinds.MAX_OBJECT_BYTES, kinds.MAX_PRESIGN_EXPIRY) == (MAX_OBJECT_BYTES, MAX_PRESIGN_EXPIRY)


def test_a_kind_above_5_gib_needs_a_target_that_can_go_multipart() -> None:
    big = {"max_size": MAX_SINGLE_PUT_BYTES + 1}
    assert parse_settings(_config(big)).targets["main"].upload.kinds["k"].max_size == MAX_SINGLE_PUT_BYTES + 1
    document = settings_document(upload={"multipart": False, "kinds": {"doc": big}})
    with pytest.raises(ConfigurationError, match=r"kinds\.doc\.max_size above 5 GiB needs multipart"):
        parse_settings(json.dumps(document))
