"""``make webhooks ARGS='log'``: the operator's command (``python -m presign.webhooks``) against
the running ``make dev`` stack, with the environment its state file records (its queues, its
delivery log, its endpoints, moto_server's endpoints). On AWS, run ``python -m presign.webhooks``
with the delivery function's environment and your credentials (docs/events.md)."""

from __future__ import annotations

import json
import os
import sys

from local.token import DEV_STATE


def main(argv: list[str] | None = None) -> int:
    try:
        state = json.loads(DEV_STATE.read_text(encoding="utf-8"))
        env = dict(state["webhooks_env"])
    except (OSError, ValueError, KeyError):
        print(f"no running stack ({DEV_STATE} is missing or old): start one with `make dev`", file=sys.stderr)
        return 1
    os.environ.update(env)
    from presign.webhooks.cli import main as operate

    return operate(argv, {**os.environ, **env})


if __name__ == "__main__":
    sys.exit(main())
