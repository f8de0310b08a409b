"""The capacity model's simulations and arithmetic: ``python -m benchmarks.capacity``."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
for _path in (_ROOT / "layers" / "presign", _ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
