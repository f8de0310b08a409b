"""``make bench``: run every benchmark and print one table of ratios against same-run baselines.

Each module's ``run()`` returns rows; a row's ``ratio`` compares it with a baseline measured in the
same run, because these machines are shared and absolute timings wander.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "presign"), str(ROOT)]

SUITES = (
    "bench_signing",
    "bench_batch",
    "bench_auth",
    "bench_ratelimit",
    "bench_lifecycle",
    "bench_multipart",
    "bench_shares",
    "bench_cdn",
    "bench_cleanup",
    "bench_storage_events",
    "bench_storage_feed",
    "bench_coldstart",
    "bench_client",
    "bench_clients_js",
)


def _fmt(value: Any) -> str:
    # Three significant digits: enough for a ratio on a noisy machine, and readable.
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _rows(result: Any) -> list[dict[str, Any]]:
    if isinstance(result, dict):
        return [{"name": name, "value": value} for name, value in result.items()]
    return list(result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("suites", nargs="*", default=list(SUITES), help=f"any of {', '.join(SUITES)}")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument(
        "--runtimes", help="bench_coldstart only: these Python versions side by side, e.g. 3.11,3.13"
    )  # fmt: skip
    args = parser.parse_args()
    # `coldstart` for `bench_coldstart`, and so on.
    suites = [s if s.startswith("bench_") else f"bench_{s}" for s in args.suites]
    if unknown := sorted(set(suites) - set(SUITES)):
        parser.error(f"no such suite: {', '.join(unknown)}")
    failed = False
    for suite in suites:
        started = time.perf_counter()
        print(f"\n== {suite}", flush=True)
        module = importlib.import_module(f"benchmarks.{suite}")
        try:
            if args.runtimes and suite == "bench_coldstart":
                rows = _rows(module.run(versions=module._versions(args.runtimes)))
            else:
                rows = _rows(module.run())
        except Exception as exc:  # noqa: BLE001 - report every suite, then fail once
            print(f"   FAILED: {type(exc).__name__}: {exc}")
            failed = True
            continue
        for row in rows:
            if args.json:
                print(json.dumps({"suite": suite, **row}, ensure_ascii=False))
                continue
            details = ", ".join(f"{k}={_fmt(v)}" for k, v in row.items() if k != "name")
            print(f"   {row.get('name', '?')}: {details}")
        print(f"   ({time.perf_counter() - started:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
