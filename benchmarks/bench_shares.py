"""Share links' public access path (issue 10).

* ``open a link, records in memory``: ``Shares.open`` in process, the shares store in memory,
  the storage's HEAD answered in memory, the URL signed by our signer; against the baseline of
  signing the same presigned GET alone. The ratio is what the share rules cost on top of signing.
* ``DynamoDB calls per access``: the real adapters (``DynamoDbShareStore``, the rate limiter)
  against a local moto server, every call counted by operation and table: an unlimited link
  reads one item and writes none to it (its one write is the visitor's own rate-limit item); a
  count-limited link adds one conditional write to its item.
* ``password check``: the service's Argon2id verification next to argon2-cffi's own
  ``PasswordHasher.verify`` with the same parameters (m = 19 MiB, t = 2, p = 1).
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from benchmarks.timing import paired_median_us
from presign.auth import Principal
from presign.config.shares import ShareSettings
from presign.config.target import Target
from presign.shares.passwords import PasswordHasher
from presign.shares.schemas import CreateShareRequest
from presign.shares.service import Shares
from presign.signing.context import SigningContext
from presign.signing.sigv4 import S3Presigner, SigningCredentials
from presign.uploads.verification import ObjectFacts

TARGET = Target(bucket="bench-shares", endpoint_url="http://127.0.0.1:9", addressing_style="path")
PASSWORD = "correct horse battery"
OWNER = Principal("bench")


class _Objects:
    def head(self, key: str, *, checksum: bool) -> ObjectFacts | None:
        return ObjectFacts(
            size=4096, content_type="application/pdf", etag='"e"', metadata={}, checksum_sha256=None
        )

    def delete(self, key: str) -> None:
        return None


class _NoLimits:
    def access(self, client: str) -> None:
        return None

    def password(self, client: str, handle: str) -> None:
        return None


def _signing() -> SigningContext:
    presigner = S3Presigner(
        credentials=SigningCredentials("AKIDBENCH", "bench-secret"),
        region="us-east-1",
        endpoint_url=TARGET.endpoint_url,
        addressing_style="path",
    )
    return SigningContext(presigner=presigner, credentials_expire_at=None, clock=lambda: datetime.now(UTC))


def _create(shares: Shares, **options: Any) -> str:
    from tests.support.spending import free

    created = shares.create(
        CreateShareRequest(key="users/bench/2026/q3.pdf", **options),
        principal=OWNER,
        target_name="main",
        target=TARGET,
        objects=lambda _: _Objects(),
        spending=free(),
        base_url="https://links.example",
    )
    return created.share_id


def _in_memory() -> list[dict[str, Any]]:
    from tests.support.memory_shares import MemoryShares

    shares = Shares(MemoryShares(), ShareSettings(), clock=lambda: datetime.now(UTC))
    signing = _signing()
    unlimited = _create(shares)
    limited = _create(shares, max_downloads=1_000_000)

    def opener(share_id: str) -> Any:
        def once() -> object:
            return shares.open(
                share_id,
                password=None,
                client="192.0.2.1",
                limits=_NoLimits(),
                objects=lambda _: _Objects(),  # type: ignore[arg-type,return-value]
                signer=lambda _: (TARGET, signing),
            )

        return once

    query = {
        "response-cache-control": "private, no-store",
        "response-content-encoding": "identity",
        "response-content-disposition": 'attachment; filename="q3.pdf"',
    }

    def sign_alone() -> object:
        return signing.presigner.presign(
            "GET", TARGET.bucket, "users/bench/2026/q3.pdf", now=signing.now(), expires_in=60, query=query
        )

    rows = []
    for label, share_id in (("an unlimited link", unlimited), ("a count-limited link", limited)):
        ours, base = paired_median_us(opener(share_id), sign_alone, iterations=300)
        rows.append(
            {
                "name": f"open {label}, records in memory",
                "value_us": round(ours, 1),
                "baseline": "signing the same presigned GET alone",
                "baseline_us": round(base, 1),
                "ratio": round(ours / base, 2),
            }
        )
    return rows


class _Counting:
    """An AwsJsonClient that counts each call by operation and table."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[tuple[str, str]] = Counter()

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls[(str(payload.get("TableName", "")).rsplit("-", 1)[-1], operation)] += 1
        result: dict[str, Any] = self.inner.call(operation, payload)
        return result


def _dynamodb_calls() -> list[dict[str, Any]]:
    from local.cfn import load_template
    from local.gateway.template import TemplateResolver
    from local.servers import MotoServer, aws_env
    from local.tables import STACK_NAME, create_tables
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_shares import DynamoDbShareStore
    from presign.bootstrap.runtime import build_rate_limiter
    from presign.config.ratelimit import RateLimitSettings
    from presign.ratelimit.spending import Spending

    rows = []
    with MotoServer() as moto:
        saved = dict(os.environ)
        os.environ.update(aws_env(moto.endpoint_url))
        try:
            doc = load_template()
            create_tables(doc, TemplateResolver(doc), moto.endpoint_url)
            table_client.cache_clear()
            client = _Counting(table_client())
            store = DynamoDbShareStore(client, f"{STACK_NAME}-SharesTable")  # type: ignore[arg-type]
            limiter = build_rate_limiter(
                RateLimitSettings(),
                table_name=f"{STACK_NAME}-RateLimitTable",
                client=client,  # type: ignore[arg-type]
            )

            class Limits:
                def access(self, who: str) -> None:
                    Spending(limiter, f"ip:{who}", action="share_access", default_target="main").spend()

                def password(self, who: str, handle: str) -> None:
                    Spending(limiter, f"ip:{who}", action="share_password", default_target="main").spend()
                    Spending(
                        limiter, f"share:{handle}", action="share_password", default_target="main"
                    ).spend()

            shares = Shares(store, ShareSettings(), clock=lambda: datetime.now(UTC))
            signing = _signing()
            cases = {
                "unlimited link": (_create(shares), None),
                "count-limited link": (_create(shares, max_downloads=1000), None),
                "protected link, right password": (_create(shares, password=PASSWORD), PASSWORD),
                "protected link, wrong password": (_create(shares, password=PASSWORD), "not the password"),
                "unknown link": ("x" * 32, None),
            }
            visits = 5  # within every burst: each row shows the calls of an admitted visit
            for label, (share_id, password) in cases.items():
                client.calls.clear()
                for visitor in range(visits):
                    try:
                        shares.open(
                            share_id,
                            password=password,
                            client=f"198.51.100.{visitor}",  # five visitors: five rate-limit items
                            limits=Limits(),
                            objects=lambda _: _Objects(),  # type: ignore[arg-type,return-value]
                            signer=lambda _: (TARGET, signing),
                        )
                    except Exception:  # noqa: BLE001, S112 - refusals are what some cases measure
                        continue
                per = {f"{table}.{op}": n / visits for (table, op), n in sorted(client.calls.items())}
                share_reads = per.get("SharesTable.GetItem", 0.0)
                share_writes = sum(
                    v for k, v in per.items() if k.startswith("SharesTable.") and k != "SharesTable.GetItem"
                )
                limit_writes = per.get("RateLimitTable.UpdateItem", 0.0)
                rows.append(
                    {
                        "name": f"DynamoDB calls per access, {label}",
                        "share_reads": share_reads,
                        "share_writes": share_writes,
                        "rate_limit_writes": limit_writes,
                        "per_client_items": "yes" if limit_writes else "-",
                    }
                )
        finally:
            os.environ.clear()
            os.environ.update(saved)
            table_client.cache_clear()
    return rows


def _password() -> list[dict[str, Any]]:
    import argon2

    settings = ShareSettings()
    ours = PasswordHasher(settings.argon2)
    encoded = ours.hash(PASSWORD)
    theirs = argon2.PasswordHasher(
        time_cost=settings.argon2.time_cost,
        memory_cost=settings.argon2.memory_kib,
        parallelism=settings.argon2.parallelism,
        hash_len=32,
        salt_len=16,
        type=argon2.Type.ID,
    )
    value, base = paired_median_us(
        lambda: ours.verify(encoded, PASSWORD),
        lambda: theirs.verify(encoded, PASSWORD),
        iterations=5,
        repeats=7,
    )
    nothing, _ = paired_median_us(
        lambda: ours.verify_nothing(PASSWORD), lambda: None, iterations=5, repeats=5
    )
    return [
        {
            "name": "password check (Argon2id m=19 MiB t=2 p=1)",
            "value_ms": round(value / 1000, 1),
            "baseline": "argon2-cffi PasswordHasher.verify, same parameters",
            "baseline_ms": round(base / 1000, 1),
            "ratio": round(value / base, 2),
        },
        {
            "name": "unknown link's dummy check (timing parity)",
            "value_ms": round(nothing / 1000, 1),
            "baseline": "the password check",
            "baseline_ms": round(value / 1000, 1),
            "ratio": round(nothing / value, 2),
        },
    ]


def run() -> list[dict[str, Any]]:
    return [*_in_memory(), *_dynamodb_calls(), *_password()]
