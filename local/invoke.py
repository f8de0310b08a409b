"""Invoke a function of the running `make dev` stack that no HTTP route reaches (the cleanup).

    python -m local.invoke CleanupFunction --payload '{"dry_run": true}'

Reads the stack's address from its state file (``local.token.DEV_STATE``, written by
``python -m local.dev``), POSTs the payload to the emulator's Invoke endpoint (Lambda's API, as
``sam local start-lambda`` serves it) and prints the function's answer. For the cleanup it also
prints the counts as a table. Exit status 1 when the function failed or refused the payload.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local.token import DEV_STATE


def invoke(base_url: str, function: str, payload: Any, *, timeout: float = 900) -> tuple[bool, Any]:
    """(whether the function succeeded, its answer)."""
    request = urllib.request.Request(
        f"{base_url}/2015-03-31/functions/{function}/invocations",
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            failed = answer.headers.get("x-amz-function-error") is not None
            return not failed, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return False, json.loads(exc.read() or b"null")


def counts_table(answer: dict[str, Any]) -> str:
    """The cleanup's counts, one row per target and one column per kind that is not all zero."""
    targets: dict[str, dict[str, int]] = answer.get("targets", {})
    totals: dict[str, int] = answer.get("totals", {})
    kinds = [kind for kind, n in totals.items() if n] or list(totals)[:1]
    rows = [["target", *kinds]] + [[name, *(str(c.get(k, 0)) for k in kinds)] for name, c in targets.items()]
    rows.append(["total", *(str(totals.get(k, 0)) for k in kinds)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    mode = "dry run: nothing changed" if answer.get("dry_run") else "done"
    early = "; stopped early (the next run continues)" if answer.get("stopped_early") else ""
    return "\n".join([*lines, f"({mode}{early})"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("function", help="the function's logical id, e.g. CleanupFunction")
    parser.add_argument("--payload", default="{}", help="the event, as JSON (default {})")
    parser.add_argument("--state-file", type=Path, default=DEV_STATE, help="the running stack's state file")
    args = parser.parse_args(argv)
    try:
        payload = json.loads(args.payload)
    except ValueError:
        print(f"--payload is not JSON: {args.payload!r}", file=sys.stderr)
        return 2
    try:
        state = json.loads(args.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"no running stack ({args.state_file} is missing): start one with `make dev`", file=sys.stderr)
        return 1
    try:
        ok, answer = invoke(str(state["base_url"]), args.function, payload)
    except OSError as exc:
        print(
            f"the stack at {state.get('base_url')} does not answer ({exc}): is `make dev` running?",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(answer, indent=2))
    if ok and isinstance(answer, dict) and "totals" in answer:
        print(counts_table(answer))
    return 0 if ok and not (isinstance(answer, dict) and "error" in answer) else 1


if __name__ == "__main__":
    sys.exit(main())
