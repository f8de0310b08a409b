"""Issue 17, item 1: with ``tenants/{tenant}/users/{sub}/``, sub 42 of globex is not sub 42 of acme.

Through the real handlers of the uploads, lifecycle and shares functions; records, claims, shares
and rate limits in template.yaml's tables in a moto server; objects in memory for the lifecycle
(tests/realserver judges real ones) and in moto's S3 for the HEAD a share makes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from local.servers import MotoServer
from presign.uploads.verification import ObjectFacts
from tests.integration.conftest import Client
from tests.support.events import token
from tests.support.functions import load_function, settings_document
from tests.support.lifecycle import UPLOADS_TABLE, Caller, body, point_at, with_records
from tests.support.memory import MemoryObjects
from tests.support.shares import BUCKET, SHARES_TABLE, moto_with_bucket, s3, stack_env

MiB = 1024**2
PREFIX = "tenants/{tenant}/users/{sub}/"
TEXT = {"filename": "notes.txt", "content_type": "text/plain", "size": 11}
BIG = {"filename": "big.mp4", "content_type": "video/mp4", "size": 12 * MiB, "multipart": True}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_bucket()


@dataclass
class Member(Caller):
    """One user of one tenant: a token with ``sub`` and ``tenant``, on the three functions."""

    tenant: str = "acme"
    shares: Client | None = None

    @property
    def bearer(self) -> str:
        return token(self.sub, tenant=self.tenant)

    def of(self, tenant: str) -> Member:
        """The same sub in another tenant."""
        return Member(self.uploads, self.lifecycle, self.sub, tenant, self.shares)

    def on(self, other: Member) -> Member:
        """The same token on another deployment's functions."""
        return Member(other.uploads, other.lifecycle, self.sub, self.tenant, other.shares)

    def _shares(self, method: str, path: str, payload: Any = None, **kw: Any) -> dict[str, Any]:
        assert self.shares is not None
        return self.shares.call(method, path, payload, bearer=self.bearer, **kw)

    def share(self, key: str) -> dict[str, Any]:
        return self._shares("POST", "/shares", {"key": key})

    def share_info(self, share_id: str) -> dict[str, Any]:
        return self._shares("GET", f"/shares/{share_id}", route="/shares/{share_id}")

    def revoke(self, share_id: str) -> dict[str, Any]:
        return self._shares("DELETE", f"/shares/{share_id}", route="/shares/{share_id}")

    def shares_listed(self) -> dict[str, Any]:
        return self._shares("GET", "/shares")


def deployment(prefix: str = PREFIX, **document: Any) -> dict[str, Any]:
    target = {
        "key_prefix": prefix,
        "upload": {
            "content_types": ["text/plain", "video/*"],
            "max_size": 6 * 1024**3,
            "multipart": {"part_size": 5 * MiB},
        },
    }
    doc = with_records(settings_document(endpoint_url="http://127.0.0.1:9", bucket=BUCKET, **target))
    return {**doc, "shares": {"public_base_url": "https://files.example.test"}, **document}


@pytest.fixture
def storage() -> MemoryObjects:
    return MemoryObjects()


@pytest.fixture
def stack(moto: MotoServer, storage: MemoryObjects, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Member]:
    def make(document: dict[str, Any] | None = None, sub: str | None = None) -> Member:
        point_at(moto, monkeypatch)
        doc = document or deployment()
        # The share function HEADs moto's S3; the others talk to the in-memory storage.
        doc["targets"]["main"]["endpoint_url"] = moto.endpoint_url
        env = stack_env(moto, doc)
        uploads = Client(load_function("uploads", monkeypatch, env))
        lifecycle = Client(load_function("lifecycle", monkeypatch, env))
        shares = Client(load_function("shares", monkeypatch, env))
        for client in (uploads, lifecycle):
            monkeypatch.setattr(client.module, "objects", lambda target: storage)
        return Member(uploads, lifecycle, sub or f"u{uuid.uuid4().hex[:12]}", "acme", shares)

    return make


def ok(response: dict[str, Any], status: int = 200) -> Any:
    assert response["statusCode"] == status, (response["statusCode"], response["body"])
    return body(response)


@dataclass
class Owned:
    """What acme's member made: a completed upload, a pending multipart one and a share."""

    done: dict[str, Any]
    multipart: dict[str, Any]
    share_id: str


def make_things(member: Member, storage: MemoryObjects, moto: MotoServer) -> Owned:
    done = ok(member.create(TEXT), 201)
    assert done["key"].startswith(f"tenants/{member.tenant}/users/{member.sub}/"), done["key"]
    storage.objects[done["key"]] = ObjectFacts(size=11, content_type="text/plain", etag='"e"')
    assert ok(member.complete(done["upload_id"]))["status"] == "complete"
    multipart = ok(member.create(BIG), 201)
    s3(moto).put_object(Bucket=BUCKET, Key=done["key"], Body=b"hello acme\n", ContentType="text/plain")
    share_id = ok(member.share(done["key"]), 201)["share_id"]
    return Owned(done, multipart, share_id)


def refused_everywhere(caller: Member, owned: Owned) -> dict[str, int]:
    """Every route that finds a record or share by id, as ``caller``: their statuses (404 wanted)."""
    done, multipart = owned.done["upload_id"], owned.multipart["upload_id"]
    return {
        "GET /uploads/{id}": caller.status(done)["statusCode"],
        "POST /uploads/{id}/complete": caller.complete(done)["statusCode"],
        "POST /uploads/{id}/complete (multipart)": caller.complete(multipart, {"parts": []})["statusCode"],
        "POST /uploads/{id}/parts": caller.renew(multipart, {"part_numbers": [1]})["statusCode"],
        "POST /uploads/{id}/sign": caller.sign(multipart, {"operation": "list_parts"})["statusCode"],
        "DELETE /uploads/{id}": caller.delete(done)["statusCode"],
        "DELETE /uploads/{id} (multipart)": caller.delete(multipart)["statusCode"],
        "GET /shares/{id}": caller.share_info(owned.share_id)["statusCode"],
        "DELETE /shares/{id}": caller.revoke(owned.share_id)["statusCode"],
    }


def test_the_same_sub_in_another_tenant_finds_nothing_of_the_first(
    stack: Callable[..., Member], storage: MemoryObjects, moto: MotoServer
) -> None:
    # Given sub 42's uploads (one complete, one multipart pending) and share in tenant acme
    acme = stack()
    owned = make_things(acme, storage, moto)

    # When the same sub of tenant globex tries every route on them
    globex = acme.of("globex")
    statuses = refused_everywhere(globex, owned)

    # Then each is 404, as for an id that does not exist, and the lists show nothing
    assert statuses == dict.fromkeys(statuses, 404), statuses
    assert ok(globex.list())["items"] == []
    assert ok(globex.shares_listed())["items"] == []

    # And acme's member still has everything, untouched
    assert ok(acme.status(owned.done["upload_id"]))["status"] == "complete"
    assert ok(acme.status(owned.multipart["upload_id"]))["status"] == "pending"
    assert len(ok(acme.list())["items"]) == 2
    assert ok(acme.share_info(owned.share_id))["status"] == "active"
    assert [s["handle"] for s in ok(acme.shares_listed())["items"]] == [
        ok(acme.share_info(owned.share_id))["handle"]
    ]
    assert [u.key for u in storage.uploads.values()] == [owned.multipart["key"]], "it was aborted"


def test_an_idempotency_key_is_each_tenants_own(stack: Callable[..., Member]) -> None:
    # Given an upload acme's member made with an Idempotency-Key
    acme = stack()
    first = ok(acme.create(TEXT, **{"Idempotency-Key": "same-key"}), 201)

    # When globex's member sends the same request with the same key
    again = ok(acme.of("globex").create(TEXT, **{"Idempotency-Key": "same-key"}), 201)

    # Then it is a new upload of their own, not a replay of acme's
    assert again["upload_id"] != first["upload_id"], again
    assert again["key"].startswith(f"tenants/globex/users/{acme.sub}/"), again["key"]
    # and acme's retry still answers acme's upload
    assert ok(acme.create(TEXT, **{"Idempotency-Key": "same-key"}), 201)["upload_id"] == first["upload_id"]


def test_each_tenant_has_its_own_rate_limit(stack: Callable[..., Member]) -> None:
    # Given an upload limit of one, spent by acme's member
    acme = stack(deployment(rate_limits={"actions": {"upload": {"rate": 1, "period": 3600, "burst": 1}}}))
    ok(acme.create(TEXT), 201)
    assert acme.create(TEXT)["statusCode"] == 429

    # Then the same sub in globex still has theirs
    ok(acme.of("globex").create(TEXT), 201)


def test_a_record_or_share_outside_the_callers_prefix_is_404_on_every_route(
    stack: Callable[..., Member], storage: MemoryObjects, moto: MotoServer
) -> None:
    # Given acme's member's uploads and share, made under tenants/{tenant}/users/{sub}/
    before = stack()
    owned = make_things(before, storage, moto)

    # When the deployment's prefix becomes orgs/{tenant}/users/{sub}/ (the same claims, so the
    # same owner, but none of those keys is under the caller's prefix any more)
    after = before.on(stack(deployment("orgs/{tenant}/users/{sub}/"), sub=before.sub))
    statuses = refused_everywhere(after, owned)

    # Then no route reaches them (defence in depth), and the lists leave them out
    assert statuses == dict.fromkeys(statuses, 404), statuses
    assert ok(after.list())["items"] == []
    assert ok(after.shares_listed())["items"] == []
    # while the deployment as it was still serves them
    assert ok(before.status(owned.done["upload_id"]))["status"] == "complete"


def _items(moto: MotoServer, table: str) -> list[dict[str, Any]]:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return list(dynamodb.scan(TableName=table, ConsistentRead=True)["Items"])


def test_records_and_shares_keep_the_owners_claims_and_records_count_their_versions(
    stack: Callable[..., Member], storage: MemoryObjects, moto: MotoServer
) -> None:
    # Given acme's member's completed upload, pending multipart upload and share
    acme = stack()
    owned = make_things(acme, storage, moto)

    # Then each item holds the claims the key prefix was made of (for its events, issue 22)
    claims = {"M": {"sub": {"S": acme.sub}, "tenant": {"S": "acme"}}}
    records = {
        item["upload_id"]["S"]: item
        for item in _items(moto, UPLOADS_TABLE)
        if item["sk"]["S"].startswith("up#") and item.get("owner_claims") == claims
    }
    done, multipart = owned.done["upload_id"], owned.multipart["upload_id"]
    assert set(records) == {done, multipart}, sorted(records)
    # and a version: 1 at creation, one more for each transition (the events' sequence number)
    assert records[multipart]["version"] == {"N": "1"}, records[multipart]
    assert records[done]["version"] == {"N": "2"}, records[done]
    shares = [item for item in _items(moto, SHARES_TABLE) if item.get("owner_claims") == claims]
    assert len(shares) == 1, shares

    # And a delete moves the version on again
    assert acme.delete(done)["statusCode"] == 204
    again = {item["upload_id"]["S"]: item for item in _items(moto, UPLOADS_TABLE) if "upload_id" in item}
    assert again[done]["version"] == {"N": "3"}, again[done]
