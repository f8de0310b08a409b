"""The command line: ``python -m presign.doctor [--config FILE|-] [--target NAME] [--origin URL]
[--budget SECONDS]``.

The configuration is the service's own document: ``--config`` (a file, or ``-`` for stdin), else
``PRESIGN_CONFIG`` / ``PRESIGN_CONFIG_PARAMETER`` as the functions read it. Credentials come from
where each target says (the environment, Secrets Manager, SSM, the role): run it in a shell that
holds what the function would. Browser origins for the CORS check: ``--origin`` (repeatable), else
``PRESIGN_ALLOWED_ORIGINS`` (comma-separated, as the template's ``AllowedOrigins``).
``--budget`` bounds the whole run (``presign.doctor.budget``; the probes' clean-up keeps its share).
The command is an entry point, like a function module: it builds the doctor's ports through the
composition root (``presign.bootstrap.doctor``).
Exit status: 0 when nothing failed, 1 when a check failed, 2 when the configuration is unusable,
3 when the budget ran out before every check ran (and none failed).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from presign.bootstrap import load_settings
from presign.bootstrap.doctor import build_doctor
from presign.clock import Clock, system_clock
from presign.config.providers import profile_of
from presign.config.settings import Settings, parse_settings
from presign.doctor.budget import DEFAULT_BUDGET_SECONDS, Monotonic, TimeBudget
from presign.doctor.report import Finding, Status, exit_status, render, stopped_early
from presign.doctor.schemas import ORIGINS_VAR, allowed_origins
from presign.errors import PresignError


def _settings(config: str | None, environ: Mapping[str, str], stdin: TextIO) -> Settings:
    if config is None:
        return load_settings(environ)
    if config == "-":
        return parse_settings(stdin.read())
    return parse_settings(Path(config).read_text(encoding="utf-8"))


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str],
    out: TextIO = sys.stdout,
    stdin: TextIO = sys.stdin,
    clock: Clock = system_clock,
    monotonic: Monotonic = time.monotonic,
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m presign.doctor", description="Check every target of a presign configuration."
    )
    parser.add_argument("--config", help="the configuration document (a file, or - for stdin); "
                        "default: PRESIGN_CONFIG or PRESIGN_CONFIG_PARAMETER")  # fmt: skip
    parser.add_argument("--target", help="check only this target")
    parser.add_argument("--origin", action="append", default=None,
                        help=f"a browser origin the CORS rule must allow (repeatable; default ${ORIGINS_VAR})")  # fmt: skip
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_SECONDS, metavar="SECONDS",
                        help="stop starting checks when this run has lasted this long, less the time "
                        f"kept for deleting the probes (default {DEFAULT_BUDGET_SECONDS:g})")  # fmt: skip
    args = parser.parse_args(argv)
    if args.budget < 0:
        print("presign doctor: --budget must be a number of seconds, 0 or more", file=out)
        return 2
    try:
        settings = _settings(args.config, environ, stdin)
    except (PresignError, OSError) as exc:
        print(f"presign doctor: {getattr(exc, 'message', exc)}", file=out)
        return 2
    if args.target is not None and args.target not in settings.targets:
        print(f"presign doctor: no target {args.target!r} (targets: {', '.join(settings.targets)})", file=out)
        return 2
    origins = args.origin or allowed_origins(environ)
    doctor = build_doctor(settings, environ, clock=clock)
    budget = TimeBudget(args.budget, monotonic=monotonic)  # started once the configuration is read
    findings: list[Finding] = []
    for name, target in settings.targets.items():
        if args.target is not None and name != args.target:
            continue
        where = target.endpoint_url or f"AWS S3 {target.region}"
        title = profile_of(target).title
        print(f"target {name} ({title}): bucket {target.bucket} at {where}", file=out, flush=True)
        found = doctor.check_target(name, target, origins=origins, budget=budget)
        for finding in found:
            print(render(finding), file=out, flush=True)
        findings += found
    counts = {s: sum(1 for f in findings if f.status is s) for s in Status}
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    if stopped_early(findings):
        summary += f"; stopped early: the time budget ({budget.describe()}) ran out"
    print(f"presign doctor: {summary}", file=out)
    return exit_status(findings)
