"""``make soak`` (``python -m local.soak``): see ``local/soak/__init__.py``.

Exit status 0 when every invariant held and every fault was injected; 1 otherwise, with each
violated invariant's evidence printed. The figures never decide it: they depend on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from local.cfn import ROOT
from local.proxy_control import ProxyControl
from local.soak import figures
from local.soak.faults import Faults, Planned, say
from local.soak.flows import StorageFaults
from local.soak.invariants import MAX_EVIDENCE, Evidence, Facts, check
from local.soak.ledger import Ledger
from local.soak.record import Recorder
from local.soak.stack import StackError, running_stack
from local.soak.users import Users


@dataclass(frozen=True)
class Profile:
    seconds: float  # of load
    users: int
    concurrency: int  # invocations at once: make dev's emulator workers, like Lambda containers
    cleanup_every: float
    plan: list[Planned]


PROFILES = {
    # make test's: every fault once, under two minutes with the stack's start and stop.
    "short": Profile(
        55,
        6,
        3,
        20,
        [
            Planned(6, "dynamodb paused", 4),
            Planned(13, "storage slow", 5),
            Planned(21, "storage killed", 2),
            Planned(33, "clock skew", 6),
            Planned(42, "events down", 5),
        ],
    ),
    # make soak's: a few minutes, each fault longer, the two outages twice.
    "default": Profile(
        180,
        10,
        4,
        30,
        [
            Planned(15, "dynamodb paused", 8),
            Planned(35, "storage slow", 10),
            Planned(60, "storage killed", 5),
            Planned(85, "clock skew", 15),
            Planned(110, "dynamodb paused", 6),
            Planned(130, "storage killed", 3),
            Planned(150, "events down", 10),
        ],
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--seconds", type=float, default=None, help="of load (default: the profile's)")
    parser.add_argument("--users", type=int, default=None, help="simulated users (default: the profile's)")
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="invocations at once, each in a worker process (default: the profile's; 1: in make dev's own process)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs, data)")
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    seconds = args.seconds if args.seconds is not None else profile.seconds
    users = args.users if args.users is not None else profile.users
    if args.concurrency is not None:
        profile = dataclasses.replace(profile, concurrency=args.concurrency)
    (ROOT / ".local").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="soak-", dir=ROOT / ".local"))
    say(f"soak: profile {args.profile}, {users} users, {seconds:g} s of load, seed {args.seed}; {work}")
    try:
        return _run(work, profile, seconds, users, args.seed)
    except StackError as exc:
        say(f"soak: {exc}")
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, profile: Profile, seconds: float, count: int, seed: int) -> int:
    started = time.monotonic()
    with running_stack(work, concurrency=profile.concurrency) as stack:
        say(f"soak: make dev is up at {stack.base_url} in {time.monotonic() - started:.1f} s")
        recorder, ledger = Recorder(), Ledger()
        storage = StorageFaults(ProxyControl(stack.proxy_url))
        users = Users(stack, recorder, ledger, storage, count=count, seed=seed)
        t0 = time.time()
        faults = Faults(stack, storage, recorder, t0)
        users.start()
        faults.run_plan(profile.plan)
        faults.run_cleanup_every(profile.cleanup_every)
        time.sleep(max(0.0, t0 + seconds - time.time()))
        say(f"soak: t+{time.time() - t0:.1f}s stopping the users (each finishes its flow)")
        faults.stop()
        users.stop()
        cleanup_at = time.time()
        final = faults.cleanup()
        say(f"soak: t+{time.time() - t0:.1f}s the last cleanup ran; checking the invariants")
        facts = Facts(stack, list(recorder.calls), ledger, faults.windows, cleanup_at, list(recorder.notes))
        results, notes = check(facts)
        _print(facts, results, notes + faults.skipped, faults.reports, t0, seconds, profile.concurrency)
    failed = [ev for ev in results if not ev.ok]
    for ev in failed:
        say(f"\nINVARIANT VIOLATED: {ev.name} ({len(ev.violations)} of {ev.checked}):")
        for line in ev.violations[:MAX_EVIDENCE]:
            say(f"  {line}")
        if len(ev.violations) > MAX_EVIDENCE:
            say(f"  ... and {len(ev.violations) - MAX_EVIDENCE} more")
    for error in faults.errors:
        say(f"\nFAULT NOT INJECTED: {error}")
    if final is None:
        say("\nTHE LAST CLEANUP DID NOT RUN: the object invariants were checked without it")
    ok = not failed and not faults.errors and final is not None
    say(f"\nsoak: {'PASSED' if ok else 'FAILED'} in {time.monotonic() - _START:.0f} s")
    return 0 if ok else 1


def _print(
    facts: Facts,
    results: list[Evidence],
    notes: list[str],
    reports: list[dict[str, object]],
    t0: float,
    seconds: float,
    concurrency: int,
) -> None:
    api = [c for c in facts.calls if c.kind in ("api", "link")]
    say(
        f"\n== Requests ({len(facts.calls)}; {len(api) / seconds:.1f} API requests/s; {figures.latency_label(concurrency)})"
    )
    say(figures.requests_table(facts.calls))
    say("\n== Faults (API 503 and storage failures from each window's start to 5 s after its end)")
    say(figures.faults_table(facts.windows, facts.calls, t0))
    say("\n== The cleanup (invoked by the soak, grace 0; the last run after the users stopped)")
    say(figures.cleanup_table(reports))
    say("\n== Invariants (from the storage and the tables)")
    say(figures.invariants_table(results, notes))
    say(
        f"\n(run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}, "
        f"{platform.machine()}, Python {platform.python_version()})"
    )


_START = time.monotonic()

if __name__ == "__main__":
    sys.exit(main())
