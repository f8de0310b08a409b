"""make dev's state file holds the stack's S3 secret and JWT secret: owner-only, always."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from local.dev import _write_state


def test_the_state_file_is_owner_only_even_when_an_old_one_was_readable(tmp_path: Path) -> None:
    path = tmp_path / "dev.json"
    path.write_text("{}")
    path.chmod(0o644)  # left by an older make dev, or made by hand

    _write_state(path, {"secret": "s3cr3t"})

    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert json.loads(path.read_text()) == {"secret": "s3cr3t"}


def test_a_new_state_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dev.json"
    _write_state(path, {"secret": "s3cr3t"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
