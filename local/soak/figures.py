"""The run's figures, printed as plain tables: requests by kind and outcome with latency per route,
what each fault cost, the cleanup's counts and the invariants' counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from local.soak.faults import Window
from local.soak.invariants import SETTLE_SECONDS, Evidence
from local.soak.record import Call


def latency_label(concurrency: int) -> str:
    if concurrency <= 1:
        return "latency on make dev's emulator, one invocation at a time (it measures the queue too)"
    return (
        f"latency on make dev's emulator, {concurrency} invocations at once, a worker process each "
        "like Lambda's containers (more wait for one: the queue is in the figures)"
    )


def table(rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _pct(sorted_ms: list[float], p: float) -> str:
    if not sorted_ms:
        return "-"
    return f"{sorted_ms[min(len(sorted_ms) - 1, int(p * len(sorted_ms)))]:.0f}"


def requests_table(calls: list[Call]) -> str:
    by_route: dict[tuple[str, str], list[Call]] = defaultdict(list)
    for call in calls:
        by_route[(call.kind, call.route)].append(call)
    rows: list[list[object]] = [
        [
            "kind",
            "route",
            "n",
            "2xx/3xx",
            "4xx",
            "429",
            "503",
            "5xx other",
            "no answer",
            "p50 ms",
            "p95 ms",
            "p99 ms",
        ]
    ]
    for (kind, route), group in sorted(by_route.items()):
        ms = sorted(c.seconds * 1000 for c in group if c.status)
        rows.append(
            [
                kind,
                route,
                len(group),
                sum(1 for c in group if 200 <= c.status < 400),
                sum(1 for c in group if 400 <= c.status < 500 and c.status != 429),
                sum(1 for c in group if c.status == 429),
                sum(1 for c in group if c.status == 503),
                sum(1 for c in group if c.status >= 500 and c.status != 503),
                sum(1 for c in group if c.status == 0),
                _pct(ms, 0.50),
                _pct(ms, 0.95),
                _pct(ms, 0.99),
            ]
        )
    return table(rows)


def faults_table(windows: list[Window], calls: list[Call], t0: float) -> str:
    rows: list[list[object]] = [
        ["fault", "start s", "end s", "API 503", "storage failed", "recovered after s", "detail"]
    ]
    for w in sorted(windows, key=lambda w: w.start):
        inside = [c for c in calls if c.started <= w.end + SETTLE_SECONDS and c.ended >= w.start]
        api_503 = sum(1 for c in inside if c.kind in ("api", "link") and c.status == 503)
        storage = sum(
            1
            for c in inside
            if c.kind == "storage" and (c.status == 0 or c.status >= 400) and "dropped" not in c.route
        )
        after = [c.ended for c in calls if c.kind == "api" and 200 <= c.status < 300 and c.started >= w.end]
        recovered = f"{min(after) - w.end:.1f}" if after else "-"
        rows.append(
            [w.name, f"{w.start - t0:.1f}", f"{w.end - t0:.1f}", api_503, storage, recovered, w.detail]
        )
    return table(rows)


def invariants_table(results: list[Evidence], notes: list[str]) -> str:
    rows: list[list[object]] = [["invariant", "checked", "violations", ""]]
    for ev in results:
        rows.append([ev.name, ev.checked, len(ev.violations), "ok" if ev.ok else "FAILED"])
    notes = [f"{ev.name}: {ev.note}" for ev in results if ev.note] + notes
    return "\n".join([table(rows), *notes])


def cleanup_table(reports: list[dict[str, object]]) -> str:
    totals: dict[str, int] = defaultdict(int)
    for report in reports:
        for name, n in dict(report.get("totals", {}) or {}).items():  # type: ignore[call-overload]
            totals[str(name)] += int(n)
    if not totals:
        return "(no cleanup run answered)"
    return table([[f"summed over {len(reports)} runs", "count"], *sorted(totals.items())])
