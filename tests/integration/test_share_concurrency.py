"""Exact counting under concurrency, against ``local.servers.MotoServer`` over HTTP.

The server applies one request at a time, which is DynamoDB's per-item atomicity (a bare moto
server would make these tests pass or fail by chance; see test_ratelimit_concurrency.py). Each
thread is its own container (its own handler module, client and connection pool), all released
together by a barrier.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.servers import MotoServer
from tests.integration.conftest import Client
from tests.support.functions import load_function
from tests.support.shares import (
    BUCKET,
    Stack,
    body,
    make_stack,
    moto_with_bucket,
    s3,
    share_document,
    stack_env,
)

THREADS = 20
REPETITIONS = 20
MAX_DOWNLOADS = 3


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_bucket()


@pytest.fixture(scope="module")
def deployment(moto: MotoServer) -> Iterator[tuple[Stack, list[Stack]]]:
    """One owner's function and THREADS public containers, made once for every repetition."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        document = share_document(moto.endpoint_url)
        stack = make_stack(moto, monkeypatch, document)
        env = stack_env(moto, document)
        containers = [
            Stack(stack.owner_fn, Client(load_function("links", monkeypatch, env))) for _ in range(THREADS)
        ]
        yield stack, containers


def all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None for r in results), "a thread did not finish"
    return results


def new_share(stack: Stack, moto: MotoServer, **options: Any) -> dict[str, Any]:
    alice = stack.owner()
    key = alice.key()
    s3(moto).put_object(Bucket=BUCKET, Key=key, Body=b"shared bytes", ContentType="application/pdf")
    return alice.share(key, **options)


@pytest.mark.parametrize("repetition", range(REPETITIONS))
def test_twenty_visitors_of_a_three_download_link_get_exactly_three_urls(
    deployment: tuple[Stack, list[Stack]], moto: MotoServer, repetition: int
) -> None:
    # Given a link that allows three downloads, and twenty containers
    stack, containers = deployment
    share = new_share(stack, moto, max_downloads=MAX_DOWNLOADS)

    # When twenty visitors open it at once
    answers = all_at_once([lambda c=c: c.visit(share["share_id"]) for c in containers])  # type: ignore[misc]

    # Then exactly three get a URL and seventeen a 410 that says the link is used up
    statuses = sorted(a["statusCode"] for a in answers)
    assert statuses == [302] * MAX_DOWNLOADS + [410] * (THREADS - MAX_DOWNLOADS), statuses
    refused = {body(a)["error"]["code"] for a in answers if a["statusCode"] == 410}
    assert refused == {"share_exhausted"}, refused
    # And the share says three were used
    info = body(stack.owner().get(share["handle"]))
    assert (info["downloads_used"], info["downloads_remaining"], info["status"]) == (3, 0, "exhausted"), info


@pytest.mark.parametrize("max_downloads", [None, 1000], ids=["unlimited", "count-limited"])
@pytest.mark.parametrize("repetition", range(5))
def test_no_url_is_handed_out_after_the_revocation_answered(
    deployment: tuple[Stack, list[Stack]], moto: MotoServer, max_downloads: int | None, repetition: int
) -> None:
    # Given a link, twenty visitors that keep opening it, and its owner revoking it meanwhile
    stack, containers = deployment
    share = new_share(stack, moto, max_downloads=max_downloads)
    revoked = threading.Event()
    answered_at: list[float] = []

    def revoke() -> list[tuple[float, int]]:
        response = stack.owner().revoke(share["handle"])
        answered_at.append(time.monotonic())
        revoked.set()
        assert response["statusCode"] == 204, response["body"]
        return []

    def visit(container: Stack) -> list[tuple[float, int]]:
        seen: list[tuple[float, int]] = []
        # Until the revocation has answered, then once more: some visits surely start after it.
        while True:
            last = revoked.is_set()
            started = time.monotonic()
            response = container.visit(share["share_id"])
            seen.append((started, response["statusCode"]))
            if last or len(seen) > 50:
                return seen

    results = all_at_once([revoke] + [lambda c=c: visit(c) for c in containers])  # type: ignore[misc]

    # Then every visit that started after the revocation's answer got 410, none a URL
    (cut,) = answered_at
    visits = [v for seen in results[1:] for v in seen]
    after = [status for started, status in visits if started > cut]
    assert after and set(after) == {410}, (len(after), sorted(set(after)))
    assert {status for _, status in visits} <= {302, 410}, visits
