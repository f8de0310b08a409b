"""Share links judged by a real SeaweedFS (with an identities file) and a moto server.

The owner's function HEADs the object in SeaweedFS; every link's URL is fetched from SeaweedFS,
which checks its signature and its expiry.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local.servers import MotoServer, SeaweedFS
from tests.realserver.conftest import ACCESS_KEY, BUCKET, SECRET_KEY
from tests.support.clock import ManualClock
from tests.support.lifecycle import moto_with_tables
from tests.support.shares import Stack, body, make_stack, share_document

pytestmark = pytest.mark.realserver
CONTENT = b"%PDF-1.7\nthe quarterly numbers\n" * 40
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def stack(seaweed: SeaweedFS, moto: MotoServer, monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> Stack:
    document = share_document(seaweed.endpoint_url, bucket=BUCKET)
    return make_stack(
        moto, monkeypatch, document, links_clock=clock, access_key=ACCESS_KEY, secret_key=SECRET_KEY
    )


@pytest.fixture
def admin(seaweed: SeaweedFS) -> Any:
    return seaweed.client(
        request_checksum_calculation="when_required", response_checksum_validation="when_required"
    )


def shared(
    stack: Stack, admin: Any, name: str = "Q3 report.pdf", **options: Any
) -> tuple[str, dict[str, Any]]:
    alice = stack.owner()
    key = alice.key(name.replace(" ", "_"))
    admin.put_object(Bucket=BUCKET, Key=key, Body=CONTENT, ContentType="application/pdf")
    return key, alice.share(key, **options)


def follow(response: dict[str, Any]) -> requests.Response:
    assert response["statusCode"] == 302, (response["statusCode"], response.get("body"))
    return requests.get(response["headers"]["Location"], timeout=10)


def test_following_the_redirect_gets_the_same_bytes_with_the_shares_disposition(
    stack: Stack, admin: Any
) -> None:
    _, created = shared(stack, admin, filename="Q3 Größe.pdf", max_downloads=2)

    fetched = follow(stack.visit(created["share_id"]))

    assert fetched.status_code == 200, fetched.text
    assert fetched.content == CONTENT
    assert fetched.headers["Content-Disposition"] == (
        "attachment; filename=\"Q3 Groe.pdf\"; filename*=UTF-8''Q3%20Gr%C3%B6%C3%9Fe.pdf"
    ), fetched.headers
    assert fetched.headers["Cache-Control"] == "private, no-store"


def test_a_protected_link_with_the_right_password_gets_the_bytes(stack: Stack, admin: Any) -> None:
    _, created = shared(stack, admin, password=PASSWORD)
    assert stack.visit(created["share_id"])["statusCode"] == 401
    fetched = follow(stack.visit(created["share_id"], method="POST", form={"password": PASSWORD}))
    assert fetched.status_code == 200 and fetched.content == CONTENT


def test_the_url_dies_within_60_seconds(stack: Stack, admin: Any, clock: ManualClock) -> None:
    _, created = shared(stack, admin)
    real_now = clock.now

    # Given a URL signed 50 s ago: SeaweedFS still serves it
    clock.now = real_now - timedelta(seconds=50)
    young = stack.visit(created["share_id"])
    assert parse_qs(urlsplit(young["headers"]["Location"]).query)["X-Amz-Expires"] == ["60"]
    assert follow(young).status_code == 200

    # When it was signed 61 s ago: SeaweedFS refuses it
    clock.now = real_now - timedelta(seconds=61)
    old = follow(stack.visit(created["share_id"]))
    assert old.status_code == 403, (old.status_code, old.text)


def test_an_object_deleted_after_sharing_is_410(stack: Stack, admin: Any) -> None:
    key, created = shared(stack, admin, max_downloads=5)
    assert follow(stack.visit(created["share_id"])).status_code == 200

    admin.delete_object(Bucket=BUCKET, Key=key)

    response = stack.visit(created["share_id"])
    assert response["statusCode"] == 410 and body(response)["error"]["code"] == "share_object_gone", response
    info = body(stack.owner().get(created["handle"]))
    assert info["downloads_used"] == 1, info


def test_sharing_a_key_with_nothing_stored_is_404(stack: Stack) -> None:
    alice = stack.owner()
    response = alice.create({"key": alice.key("nothing.pdf")})
    assert response["statusCode"] == 404 and body(response)["error"]["code"] == "object_not_found", response
