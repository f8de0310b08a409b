"""``make doctor``: ``python -m presign.doctor`` against the running ``make dev`` stack.

``make dev`` writes what the doctor needs into its state file (``local.token.DEV_STATE``, readable
by its owner only): the service configuration, the S3 keys of its SeaweedFS, and the origin its
example pages are served from (the one the bucket's CORS rule must allow). Nothing of it is
printed; the doctor's lines name variables and fields, never values.

    python -m local.doctor [--state-file FILE] [presign.doctor arguments, e.g. --target local]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from local.token import DEV_STATE
from presign.doctor.cli import main as doctor_main


def _running(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _doctor_state(path: Path) -> dict[str, Any] | None:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    doctor = state.get("doctor") if isinstance(state, dict) else None
    if not isinstance(doctor, dict) or not _running(state.get("pid")):
        return None
    return doctor


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.doctor", description=__doc__.splitlines()[0])
    parser.add_argument("--state-file", type=Path, default=DEV_STATE)
    args, rest = parser.parse_known_args(argv)
    doctor = _doctor_state(args.state_file)
    if doctor is None:
        print(
            f"make doctor: no running `make dev` found ({args.state_file}). Start `make dev` in another "
            "shell, or check any configuration with: python -m presign.doctor --config FILE",
            file=sys.stderr,
        )
        return 2
    base = dict(os.environ if environ is None else environ)
    # Exactly the stack's configuration: not a parameter, an AWS profile or endpoint of this shell.
    for name in ("PRESIGN_CONFIG_PARAMETER", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        base.pop(name, None)
    env = {**base, **{str(k): str(v) for k, v in doctor.get("env", {}).items()}}
    origins = [arg for origin in doctor.get("origins", []) for arg in ("--origin", str(origin))]
    return doctor_main([*origins, *rest], environ=env)


if __name__ == "__main__":
    sys.exit(main())
