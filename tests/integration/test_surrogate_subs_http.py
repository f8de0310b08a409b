"""A sub that is not valid Unicode (a lone surrogate survives JSON and PyJWT) is refused, never a
500, by every route that keeps upload records, through the real handlers.

Records are DynamoDB's, in a moto server over HTTP; storage is in memory (SeaweedFS judges real
objects in tests/realserver).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.servers import MotoServer
from tests.integration.conftest import Client
from tests.support.functions import function_env, load_function, settings_document
from tests.support.lifecycle import (
    UPLOADS_TABLE,
    Caller,
    body,
    fresh_sub,
    moto_with_tables,
    point_at,
    with_records,
)
from tests.support.memory import MemoryObjects

UPLOAD = {"filename": "notes.txt", "content_type": "text/plain", "size": 11}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def storage() -> MemoryObjects:
    return MemoryObjects()


@pytest.fixture
def stack(moto: MotoServer, storage: MemoryObjects, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Caller]:
    def make(document: dict[str, Any] | None = None, sub: str = "", **records: Any) -> Caller:
        point_at(moto, monkeypatch)
        env = function_env(with_records(document or settings_document(), **records))
        env["PRESIGN_UPLOADS_TABLE"] = UPLOADS_TABLE
        uploads = Client(load_function("uploads", monkeypatch, env))
        lifecycle = Client(load_function("lifecycle", monkeypatch, env))
        monkeypatch.setattr(lifecycle.module, "objects", lambda target: storage)
        return Caller(uploads, lifecycle, sub=sub or fresh_sub("user"))

    return make


# -- a sub that is not valid Unicode (a lone surrogate survives JSON and PyJWT) ---------------------


def test_a_surrogate_sub_is_refused_not_500_when_records_are_on(stack: Callable[..., Caller]) -> None:
    # issue 7 item 10 made POST /uploads answer 403 for it; the records' owner digest, computed
    # before the namespace check, encoded the sub strictly and raised.
    caller = stack(sub="\ud800")
    response = caller.create(UPLOAD)
    assert response["statusCode"] == 403, response["body"]


@pytest.mark.parametrize("route", ["list", "status", "complete", "delete"])
def test_a_surrogate_sub_never_gets_a_500_from_the_lifecycle_routes(
    stack: Callable[..., Caller], route: str
) -> None:
    caller = stack(sub="\ud800")
    call = getattr(caller, route)
    response = call() if route == "list" else call("0" * 26)
    assert response["statusCode"] < 500, response["body"]
    assert set(body(response)) <= {"items", "cursor", "error"}, response["body"]
