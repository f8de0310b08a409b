"""The defaults a page shows are the code's: docs/rate-limits.md's example was once stale (issue 26)."""

from __future__ import annotations

import json
import re

from local.cfn import ROOT
from presign.config.ratelimit import ActionLimits


def test_rate_limits_page_shows_every_default_action_limit() -> None:
    page = (ROOT / "docs" / "rate-limits.md").read_text("utf-8")
    block = re.search(r"```json\n(\"rate_limits\": \{.*?\n\})\n```", page, re.S)
    assert block is not None, "docs/rate-limits.md lost its rate_limits example"
    shown = json.loads("{" + block.group(1) + "}")["rate_limits"]["actions"]
    defaults = ActionLimits().model_dump()
    assert shown == defaults, f"docs/rate-limits.md shows {shown}, the code's defaults are {defaults}"
