"""Share links through the real handlers: the owner's function and the public one, against a moto
server over HTTP (DynamoDB with template.yaml's tables; S3 for the HEADs; moto does not judge
signatures, tests/realserver/test_shares.py has SeaweedFS do that)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from local.servers import MotoServer
from presign.adapters.dynamodb_shares import share_pk
from presign.core.contentdisposition import content_disposition
from presign.shares.ids import handle_of
from presign.shares.passwords import parameters_of
from tests.integration.test_log_context import Logs
from tests.support.clock import ManualClock
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

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_bucket()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def stack(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> Stack:
    document = share_document(moto.endpoint_url, lockout_after=3, lockout_seconds=600)
    return make_stack(moto, monkeypatch, document, links_clock=clock)


def stored(
    moto: MotoServer, key: str, data: bytes = b"%PDF-1.7 shared\n", content_type: str = "application/pdf"
) -> str:
    s3(moto).put_object(Bucket=BUCKET, Key=key, Body=data, ContentType=content_type)
    return key


def raw_item(moto: MotoServer, share_id: str) -> dict[str, Any]:
    answer = dynamodb(moto).get_item(
        TableName=SHARES_TABLE, Key={"pk": {"S": share_pk(handle_of(share_id))}}, ConsistentRead=True
    )
    item: dict[str, Any] = answer["Item"]
    return item


def error_code(response: dict[str, Any]) -> str:
    return str(body(response)["error"]["code"])


def location(response: dict[str, Any]) -> dict[str, list[str]]:
    assert response["statusCode"] == 302, (response["statusCode"], response.get("body"))
    return parse_qs(urlsplit(response["headers"]["Location"]).query)


# --- POST /shares ---------------------------------------------------------------------------------


def test_a_share_is_201_with_a_link_whose_id_the_table_never_holds(stack: Stack, moto: MotoServer) -> None:
    # Given an object in alice's namespace
    alice = stack.owner()
    key = stored(moto, alice.key())

    # When she shares it
    created = alice.share(key, max_downloads=3, expires_in=3600)

    # Then the answer carries the link, built on the configured public base URL
    share_id = created["share_id"]
    assert len(share_id) == 32 and created["url"] == f"https://files.example.test/s/{share_id}", created
    assert created["max_downloads"] == 3 and created["password_protected"] is False
    assert created["size"] == len(b"%PDF-1.7 shared\n") and created["content_type"] == "application/pdf"
    # And the stored item is keyed by the handle and holds the id nowhere
    item = raw_item(moto, share_id)
    assert item["pk"]["S"] == f"s#{created['handle']}"
    assert share_id not in json.dumps(item), item


def test_an_unlimited_share_says_max_downloads_null(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key()))
    assert created["max_downloads"] is None, created


def test_a_key_outside_the_namespace_is_403(stack: Stack, moto: MotoServer) -> None:
    bobs = stored(moto, stack.owner("bob").key())
    response = stack.owner("alice").create({"key": bobs})
    assert response["statusCode"] == 403 and error_code(response) == "forbidden", response["body"]


def test_a_key_without_an_object_is_404(stack: Stack) -> None:
    alice = stack.owner()
    response = alice.create({"key": alice.key("never-uploaded.pdf")})
    assert response["statusCode"] == 404 and error_code(response) == "object_not_found", response["body"]


@pytest.mark.parametrize(("password", "why"), [("short", "at least 8"), ("x" * 129, "at most 128")])
def test_a_password_too_short_or_too_long_is_refused_at_creation(
    stack: Stack, moto: MotoServer, password: str, why: str
) -> None:
    alice = stack.owner()
    response = alice.create({"key": stored(moto, alice.key()), "password": password})
    assert response["statusCode"] == 422, response["body"]
    assert error_code(response) == "password_policy" and why in body(response)["error"]["message"]


def test_expiry_is_capped_by_the_targets_share_policy(
    stack: Stack, moto: MotoServer, clock: ManualClock
) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key()), expires_in=365 * 86_400)
    item = raw_item(moto, created["share_id"])
    lifetime = int(item["expires_at"]["N"]) - int(item["created_ms"]["N"]) // 1000
    assert lifetime == 30 * 86_400, created  # share.max_expiry's default


def test_inline_needs_a_passive_type_the_target_shows_inline(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    html_key = stored(moto, alice.key("page.html"), b"<script>alert(1)</script>", "text/html")
    png_key = stored(moto, alice.key("cat.png"), b"\x89PNG", "image/png")

    refused = alice.create({"key": html_key, "disposition": "inline"})
    assert refused["statusCode"] == 415, refused["body"]  # active: never inline
    assert alice.create({"key": html_key})["statusCode"] == 201  # attachment: saved, never rendered
    assert alice.create({"key": png_key, "disposition": "inline"})["statusCode"] == 201


def test_the_key_of_a_pending_upload_cannot_be_shared(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.conftest import Client
    from tests.support.functions import load_function
    from tests.support.lifecycle import with_records
    from tests.support.shares import stack_env

    # Given upload records on, and an upload that was granted but never completed
    document = with_records(share_document(moto.endpoint_url))
    document["targets"]["main"]["upload"] = {"content_types": ["application/pdf"]}
    stack = make_stack(moto, monkeypatch, document)
    uploads = Client(load_function("uploads", monkeypatch, stack_env(moto, document)))
    alice = stack.owner()
    grant = body(
        uploads.post(
            "/uploads",
            {"filename": "a.pdf", "content_type": "application/pdf", "size": 4},
            bearer=alice.bearer,
        )
    )
    stored(moto, grant["key"], b"%PDF")  # even with the bytes there

    # When it is shared before its completion
    response = alice.create({"key": grant["key"]})

    # Then 409: only a complete upload is shared
    assert response["statusCode"] == 409 and error_code(response) == "upload_not_complete", response["body"]


# --- owner routes -----------------------------------------------------------------------------------


def test_the_list_is_newest_first_paginated_and_counts_downloads(stack: Stack, moto: MotoServer) -> None:
    owner = stack.owner(f"lister-{uuid.uuid4().hex[:8]}")
    made = [owner.share(stored(moto, owner.key(f"f{i}.pdf")), max_downloads=2) for i in range(5)]
    assert location(stack.visit(made[0]["share_id"]))  # one download of the oldest

    handles: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        response = owner.list(limit="2", **({"cursor": cursor} if cursor else {}))
        assert response["statusCode"] == 200, response["body"]
        page = body(response)
        assert len(page["items"]) <= 2
        handles += [item["handle"] for item in page["items"]]
        pages += 1
        cursor = page.get("cursor")
        if not cursor:
            break
    assert handles == [m["handle"] for m in reversed(made)], handles
    assert pages == 3
    oldest = body(owner.get(made[0]["handle"]))
    assert (oldest["downloads_used"], oldest["downloads_remaining"], oldest["status"]) == (1, 1, "active")
    assert "share_id" not in oldest and made[0]["share_id"] not in json.dumps(oldest)


def test_a_cursor_of_another_owner_is_refused(stack: Stack, moto: MotoServer) -> None:
    owner = stack.owner(f"c-{uuid.uuid4().hex[:8]}")
    for i in range(2):
        owner.share(stored(moto, owner.key(f"f{i}.pdf")))
    cursor = body(owner.list(limit="1"))["cursor"]
    response = stack.owner("mallory").list(cursor=cursor)
    assert response["statusCode"] == 422 and error_code(response) == "invalid_cursor", response["body"]


def test_another_users_share_is_404_on_every_owner_route(stack: Stack, moto: MotoServer) -> None:
    alice, bob = stack.owner(), stack.owner("bob")
    created = alice.share(stored(moto, alice.key()))
    for reference in (created["share_id"], created["handle"]):
        for response in (bob.get(reference), bob.revoke(reference)):
            assert response["statusCode"] == 404 and error_code(response) == "not_found", response["body"]
    # And the share is still alice's and active
    assert body(alice.get(created["handle"]))["status"] == "active"
    assert body(alice.get(created["share_id"]))["handle"] == created["handle"]


def test_a_revocation_is_204_and_the_link_is_410_at_once(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key()))
    location(stack.visit(created["share_id"]))

    assert alice.revoke(created["handle"])["statusCode"] == 204
    after = stack.visit(created["share_id"])
    assert after["statusCode"] == 410 and error_code(after) == "share_revoked", after["body"]
    assert body(alice.get(created["handle"]))["status"] == "revoked"
    assert alice.revoke(created["share_id"])["statusCode"] == 204  # again: still revoked


# --- GET /s/{share_id} --------------------------------------------------------------------------------


def test_an_open_link_redirects_to_a_60_second_get_with_the_shares_disposition(
    stack: Stack, moto: MotoServer
) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key("q3.pdf")), filename="Bericht Größe.pdf")

    response = stack.visit(created["share_id"])

    query = location(response)
    assert query["X-Amz-Expires"] == ["60"], query
    # The disposition POST /downloads would sign for this name (sanitized, RFC 8187 filename*)
    assert query["response-content-disposition"] == [content_disposition("attachment", "Bericht Größe.pdf")]
    assert "filename*=UTF-8''Bericht%20Gr%C3%B6%C3%9Fe.pdf" in query["response-content-disposition"][0]
    assert query["response-cache-control"] == ["private, no-store"]
    assert query["response-content-encoding"] == ["identity"]
    assert "response-content-type" not in query  # an attachment: saved whatever its type
    headers = response["headers"]
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer", headers
    assert headers["X-Robots-Tag"].startswith("noindex")


def test_an_inline_share_signs_the_type_it_found(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key("cat.png"), b"\x89PNG", "image/png"), disposition="inline")
    query = location(stack.visit(created["share_id"]))
    assert query["response-content-type"] == ["image/png"], query
    assert query["response-content-disposition"] == ['inline; filename="cat.png"'], query


def test_accept_json_gets_the_url_and_its_expiry(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key()))
    response = stack.visit(created["share_id"], accept="application/json")
    assert response["statusCode"] == 200, response["body"]
    granted = body(response)
    assert set(granted) == {"url", "expires_at"} and "X-Amz-Signature=" in granted["url"], granted


@pytest.mark.parametrize("share_id", ["nope", "A" * 32, "0" * 40, "x" * 64])
def test_an_unknown_link_is_404(stack: Stack, share_id: str) -> None:
    for response in (stack.visit(share_id), stack.visit(share_id, method="POST", password=PASSWORD)):
        assert response["statusCode"] == 404 and error_code(response) == "not_found", response["body"]


def test_a_handle_is_not_a_link(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key()))
    response = stack.visit(created["handle"])
    assert response["statusCode"] == 404, response["body"]


def test_an_expired_link_is_410_share_expired(stack: Stack, moto: MotoServer, clock: ManualClock) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key()), expires_in=120, max_downloads=5)
    location(stack.visit(created["share_id"]))

    # The share's expiry was set by the owner's (real) clock, the link's clock started earlier:
    # past that expiry, not 121 s after the fixture (a busy machine made that 302).
    clock.now = datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00")) + timedelta(seconds=1)

    response = stack.visit(created["share_id"])
    assert response["statusCode"] == 410 and error_code(response) == "share_expired", response["body"]
    assert body(alice.get(created["handle"]))["downloads_used"] == 1


def test_a_used_up_link_is_410_share_exhausted(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    created = alice.share(stored(moto, alice.key()), max_downloads=2)
    answers = [stack.visit(created["share_id"])["statusCode"] for _ in range(4)]
    assert answers == [302, 302, 410, 410], answers
    response = stack.visit(created["share_id"])
    assert error_code(response) == "share_exhausted"
    info = body(alice.get(created["handle"]))
    assert (info["status"], info["downloads_used"], info["downloads_remaining"]) == ("exhausted", 2, 0)


def test_an_object_deleted_after_sharing_is_410_and_spends_nothing(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    key = stored(moto, alice.key())
    created = alice.share(key, max_downloads=3)
    s3(moto).delete_object(Bucket=BUCKET, Key=key)

    response = stack.visit(created["share_id"])

    assert response["statusCode"] == 410 and error_code(response) == "share_object_gone", response["body"]
    assert body(alice.get(created["handle"]))["downloads_used"] == 0


# --- passwords ------------------------------------------------------------------------------------------


@pytest.fixture
def protected(stack: Stack, moto: MotoServer) -> dict[str, Any]:
    alice = stack.owner()
    return alice.share(stored(moto, alice.key("secret.pdf")), password=PASSWORD, max_downloads=5)


def test_the_right_password_as_json_or_as_a_form_redirects(stack: Stack, protected: dict[str, Any]) -> None:
    location(stack.visit(protected["share_id"], method="POST", password=PASSWORD))
    location(stack.visit(protected["share_id"], method="POST", form={"password": PASSWORD}))
    as_json = stack.visit(protected["share_id"], method="POST", password=PASSWORD, accept="application/json")
    assert as_json["statusCode"] == 200 and "url" in body(as_json), as_json["body"]


def test_no_password_is_401_password_required(stack: Stack, protected: dict[str, Any]) -> None:
    response = stack.visit(protected["share_id"])
    assert response["statusCode"] == 401 and error_code(response) == "password_required", response["body"]
    assert "WWW-Authenticate" not in response["headers"]  # not a bearer token


def test_a_wrong_password_is_401_and_spends_nothing(stack: Stack, protected: dict[str, Any]) -> None:
    alice = stack.owner()
    response = stack.visit(protected["share_id"], method="POST", password="wrong password")
    assert response["statusCode"] == 401 and error_code(response) == "password_invalid", response["body"]
    assert body(alice.get(protected["handle"]))["downloads_used"] == 0


def test_a_password_in_the_query_string_is_ignored(stack: Stack, protected: dict[str, Any]) -> None:
    response = stack.visit(protected["share_id"], query={"password": PASSWORD})
    assert response["statusCode"] == 401 and error_code(response) == "password_required", response["body"]
    posted = stack.visit(protected["share_id"], method="POST", query={"password": PASSWORD})
    assert posted["statusCode"] == 400, posted["body"]  # the body must carry it


def test_after_n_wrong_passwords_the_share_is_locked_429_with_retry_after(
    stack: Stack, protected: dict[str, Any], clock: ManualClock
) -> None:
    # Given lockout_after = 3 (the stack's configuration)
    wrong = [stack.visit(protected["share_id"], method="POST", password=f"wrong {i}!!") for i in range(3)]
    assert [r["statusCode"] for r in wrong] == [401, 401, 401], [r["body"] for r in wrong]

    # Then even the right password is refused while the lock lasts
    locked = stack.visit(protected["share_id"], method="POST", password=PASSWORD)
    assert locked["statusCode"] == 429 and error_code(locked) == "share_locked", locked["body"]
    assert 1 <= int(locked["headers"]["Retry-After"]) <= 600, locked["headers"]

    # And once it is over, the right password works again
    clock.advance(601)
    location(stack.visit(protected["share_id"], method="POST", password=PASSWORD))


def test_the_stored_hash_is_argon2id_with_at_least_owasps_parameters(
    moto: MotoServer, protected: dict[str, Any]
) -> None:
    encoded = raw_item(moto, protected["share_id"])["password_hash"]["S"]
    found = parameters_of(encoded)
    assert (found.variant, found.version) == ("argon2id", 19), encoded
    assert found.memory_kib >= 19 * 1024 and found.time_cost >= 2 and found.parallelism == 1, found
    assert PASSWORD not in encoded


def test_no_log_line_holds_the_password_its_hash_or_the_link(
    stack: Stack, moto: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given both functions' log handlers captured (and whatever reaches stdout: metrics)
    logs = [
        Logs(module.logger.registered_handler, capsys)
        for module in (stack.owner_fn.module, stack.links_fn.module)
    ]
    try:
        alice = stack.owner()
        created = alice.share(stored(moto, alice.key()), password=PASSWORD)
        stack.visit(created["share_id"], method="POST", password="a wrong password")
        stack.visit(created["share_id"], method="POST", form={"password": PASSWORD})
        stack.visit(created["share_id"], query={"password": PASSWORD})
        taken = [log.take() for log in logs]
    finally:
        for log in logs:
            log.close()
    encoded = raw_item(moto, created["share_id"])["password_hash"]["S"]

    lines = [line for parsed, _ in taken for line in parsed]
    logged = "".join(text for _, text in taken)
    audits = [line for line in lines if line.get("message") == "share audit"]
    # Then every access is one audit line, naming the share by its handle...
    assert [a["outcome"] for a in audits] == ["created", "password_invalid", "granted", "password_required"]
    assert all(a["share"] == created["handle"] and a["request_id"] for a in audits), audits
    assert all(a["client_ip"] == "198.51.100.7" for a in audits[1:]), audits
    # ...and nothing written holds the password, its hash, the link's id or a signature
    secrets_ = (
        PASSWORD,
        "a wrong password",
        encoded,
        encoded.split("$")[-1],
        created["share_id"],
        "X-Amz-Signature",
    )
    for secret in secrets_:
        assert secret not in logged, secret


# --- the HTML form ----------------------------------------------------------------------------------------


def test_a_browser_gets_a_password_form_without_script(stack: Stack, protected: dict[str, Any]) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = stack.visit(protected["share_id"], accept=accept)

    assert response["statusCode"] == 200, response["body"]
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp, csp
    assert (
        f"form-action 'self' {urlsplit(stack.links_fn.module.api.runtime.settings.targets['main'].endpoint_url).geturl()}"
        in csp
    )
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Robots-Tag"].startswith("noindex")
    page = response["body"]
    assert '<form method="post">' in page and 'name="password"' in page and "<script" not in page
    assert "secret.pdf" not in page  # the page names nothing (next test)

    wrong = stack.visit(protected["share_id"], method="POST", form={"password": "nope nope"}, accept=accept)
    assert wrong["statusCode"] == 401 and "not right" in wrong["body"] and "<form" in wrong["body"]
    right = stack.visit(protected["share_id"], method="POST", form={"password": PASSWORD}, accept=accept)
    location(right)


def test_the_password_pages_never_name_the_file_before_the_password(stack: Stack, moto: MotoServer) -> None:
    # Given protected shares of a file whose names say what it is: its key, and a name to save as
    alice = stack.owner()
    key = stored(moto, alice.key("Acme-Q3-layoffs-draft.pdf"))
    by_key = alice.share(key, password=PASSWORD)
    by_name = alice.share(key, password=PASSWORD, filename="Merger plan for Globex.pdf")
    revealing = ("Acme", "layoffs", "Merger", "Globex", key.rsplit("/", 2)[-2])
    accept = "text/html"

    for share in (by_key, by_name):
        # When a browser asks for the link, sends a wrong password, and then hits the lock
        form = stack.visit(share["share_id"], accept=accept)
        wrong = stack.visit(
            share["share_id"], method="POST", form={"password": "not it at all"}, accept=accept
        )
        for i in range(2):  # lockout_after = 3
            stack.visit(share["share_id"], method="POST", form={"password": f"nope {i} nope"}, accept=accept)
        locked = stack.visit(share["share_id"], method="POST", form={"password": PASSWORD}, accept=accept)

        # Then each page is the neutral form, and none names the file, its key or its folder
        assert (form["statusCode"], wrong["statusCode"], locked["statusCode"]) == (200, 401, 429), (
            form["body"],
            wrong["body"],
            locked["body"],
        )
        for page in (form["body"], wrong["body"], locked["body"]):
            assert "<form" in page and "<title>Password required</title>" in page, page
            assert not [word for word in revealing if word in page], page


@pytest.mark.parametrize(
    "raw",
    ["password=a&password=b", "password=x&other=1", "password=%ff%fe", "pass%3Dword", "password"],
)
def test_a_form_with_anything_but_one_password_is_400(
    stack: Stack, protected: dict[str, Any], raw: str
) -> None:
    response = stack.visit(
        protected["share_id"], method="POST", raw_body=raw, content_type="application/x-www-form-urlencoded"
    )
    assert response["statusCode"] == 400 and error_code(response) == "invalid_request", (
        raw,
        response["body"],
    )


def test_only_the_link_route_takes_a_form(stack: Stack, moto: MotoServer) -> None:
    alice = stack.owner()
    event_body = f"key={alice.key()}"
    response = stack.owner_fn.post(
        "/shares", None, bearer=alice.bearer, raw_body=event_body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert response["statusCode"] == 415, response["body"]
    text = stack.visit("A" * 32, method="POST", raw_body="password=x", content_type="text/plain")
    assert text["statusCode"] == 415, text["body"]


# --- rate limits ----------------------------------------------------------------------------------------


@pytest.fixture
def limited(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Stack:
    document = share_document(moto.endpoint_url)
    one_an_hour = {"rate": 1, "period": 3600}
    document["rate_limits"] = {
        "actions": {
            "share_access": {**one_an_hour, "burst": 2},
            "share_password": {**one_an_hour, "burst": 2},
        }
    }
    return make_stack(moto, monkeypatch, document)


def test_visits_are_limited_per_client_address_and_an_ipv6_64_is_one_client(
    limited: Stack, moto: MotoServer
) -> None:
    alice = limited.owner(f"rl-{uuid.uuid4().hex[:8]}")
    created = alice.share(stored(moto, alice.key()))
    net = f"2001:db8:{uuid.uuid4().int % 65536:x}:1"
    first, second, third = (limited.visit(created["share_id"], source_ip=f"{net}::{n}") for n in (1, 2, 3))

    assert [first["statusCode"], second["statusCode"]] == [302, 302]
    assert third["statusCode"] == 429 and error_code(third) == "rate_limited", third["body"]
    assert int(third["headers"]["Retry-After"]) >= 1
    # Another client is not held back
    other = limited.visit(created["share_id"], source_ip=f"2001:db8:{uuid.uuid4().int % 65536:x}:2::1")
    assert other["statusCode"] == 302, other["body"]


def test_password_attempts_are_limited_per_share_whatever_the_address(
    limited: Stack, moto: MotoServer
) -> None:
    alice = limited.owner(f"rl-{uuid.uuid4().hex[:8]}")
    created = alice.share(stored(moto, alice.key()), password=PASSWORD)
    answers = [
        limited.visit(created["share_id"], method="POST", password="guess guess", source_ip=f"203.0.113.{n}")
        for n in range(1, 4)
    ]
    assert [a["statusCode"] for a in answers] == [401, 401, 429], [a["body"] for a in answers]
    assert error_code(answers[2]) == "rate_limited"
