"""``python -m benchmarks.capacity``: the capacity model's simulations and tables (docs/capacity.md).

Deterministic (every random stream is seeded) and quick (a few seconds). ``--moto`` adds the
limiter-item cross-check against ``local.servers.MotoServer`` (real threads and wall-clock time:
~20 s, and not deterministic). ``--json`` prints one JSON object per row instead of tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Mapping

from benchmarks.capacity import limiter_item, model, s3_prefixes, share_counter, thresholds
from benchmarks.capacity.limits import READ_ON, Q


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _table(title: str, rows: Iterable[Mapping[str, object]], as_json: bool) -> None:
    rows = list(rows)
    if as_json:
        for row in rows:
            print(json.dumps({"section": title, **row}, default=str))
        return
    print(f"\n== {title}")
    if not rows:
        return
    columns = list(rows[0])
    cells = [[_fmt(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


def _load_rows() -> list[dict[str, object]]:
    levels = {f"{rps // 1000}k rps": model.at_load(float(rps)) for rps in (1_000, 10_000, 100_000)}
    lines = [
        ("busiest route rps (route throttle 50)", "busiest_route_rps"),
        ("Lambda concurrency, API (quota 1,000)", "lambda_concurrency"),
        ("quota needed for the 10x RPS rule", "quota_for_rps_rule"),
        ("cold starts in the second after a deploy", "cold_starts_on_deploy_s"),
        ("rate-limit table WRU/s (40,000; new 4,000)", "limiter_wru"),
        ("uploads table WRU/s", "uploads_wru"),
        ("uploads table RRU/s", "uploads_rru"),
        ("shares table WRU/s (items + by_owner)", "shares_wru"),
        ("pending index WRU/s per key (1,000)", "pending_key_wru"),
        ("pending shards for <= 50% of a partition", "pending_shards_needed"),
        ("events/s (issue 22)", "events"),
        ("PutEvents calls/s, 10 entries each", "putevents_calls"),
        ("S3 Object Created/s into EventBridge (issue 21)", "s3_object_created"),
        ("webhook deliveries/s, 2 endpoints (issue 23)", "webhook_deliveries"),
        ("webhook sender concurrency at 250 ms", "webhook_concurrency"),
        ("S3 PUT/s", "s3_put"),
        ("S3 GET+HEAD/s", "s3_get_head"),
        ("S3 partitions needed, PUT / GET", "s3_partitions"),
    ]
    rows = []
    for label, key in lines:
        row: dict[str, object] = {"what": label}
        for name, level in levels.items():
            if key == "s3_partitions":
                row[name] = f"{level['s3_put_partitions']} / {level['s3_get_partitions']}"
            else:
                row[name] = level[key]
        rows.append(row)
    functions = levels["100k rps"]["functions"]
    for fn in functions:
        row = {"what": f"  {fn}: rps / concurrency"}
        for name, level in levels.items():
            n, c = level["functions"][fn]
            row[name] = f"{n:,.0f} / {c:,.0f}"
        rows.append(row)
    return rows


def _user_rows() -> list[dict[str, object]]:
    rows = []
    for users in (1_000_000, 100_000_000):
        u = model.for_users(users)
        rows.append(
            {
                "users": users,
                "mean / peak rps": f"{u['mean_rps']:,.0f} / {u['peak_rps']:,.0f}",
                "uploads/day": u["uploads_day"],
                "records GB/year": u["records_gb_year"],
                "cleanup items/day": u["cleanup_items_day"],
                "cleanup capacity/day (defaults)": u["cleanup_capacity_day"],
                "(rate(5 min), 32 at once, 1769 MB)": u["cleanup_capacity_tuned"],
                "limiter items (TTL'd)": u["limiter_items"],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument("--moto", action="store_true", help="also measure the limiter item against moto")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    out = args.json

    sizes = model.typical_items()
    _table("item sizes, from the adapters (bytes; 1 WRU per 1 KB)", [sizes], out)
    _table("where each part saturates, by total requests/s", (
        {"at rps": t.rps, "part": t.part, "limit": t.limit, "what then": t.action}
        for t in thresholds.thresholds()
    ), out)  # fmt: skip
    _table("hot items (independent of the total rate)", (vars(h) for h in thresholds.HOT_ITEMS), out)
    _table("load levels", _load_rows(), out)
    _table("users", _user_rows(), out)
    _table("route durations (ms, model)", (
        {"route": r.name, "function": r.function, "share": r.share, "ms": round(r.duration_ms(), 1)}
        for r in model.ROUTES
    ), out)  # fmt: skip
    _table("(a) a count-limited share at 2,000 visits/s, 60,000 downloads, 200 containers",
           share_counter.rows(share_counter.run()), out)  # fmt: skip
    _table("(b) one user's rate-limit item (default download limit: 20/s, 1,000 at once), 6 s",
           (r.row() for r in limiter_item.run()), out)  # fmt: skip
    _table("(d) S3 partitions and the key layout, 100k rps level", (r.row() for r in s3_prefixes.run()), out)
    if args.moto:
        from benchmarks.capacity import measure_moto

        _table("(b') the limiter item measured against MotoServer (1/s, 10 at once)", measure_moto.run(), out)
    _table(f"published limits (read {READ_ON})", (
        {"what": q.what, "value": q.value, "unit": q.unit, "adjustable": q.adjustable, "source": q.source}
        for q in Q.values()
    ), out)  # fmt: skip
    if not out:
        print(f"\n({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
