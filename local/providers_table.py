"""``python -m local.providers_table --markdown``: the table of storage providers in docs/providers.md.

Generated from the profiles themselves (``presign.config.providers``), so the documentation cannot
drift from what the service does; ``tests/unit/test_providers.py`` keeps the page current. It
lives here, not in the layer: no function ever prints it.
"""

from __future__ import annotations

import sys

from presign.config.providers import PROFILES
from presign.limits import DAY, MiB


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _duration(seconds: int) -> str:
    return f"{seconds // DAY} d" if seconds % DAY == 0 else f"{seconds} s"


def markdown_table() -> str:
    """The providers and what each supports, as docs/providers.md shows them (a test keeps it current)."""
    head = (
        "| provider | endpoint (default) | region | addressing | POST form | multipart (min part) "
        "| equal parts | URL lifetime | SHA-256 checksums | If-None-Match | abort-multipart lifecycle "
        "| bucket CORS API | SDK checksums |"
    )
    rows = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for p in PROFILES.values():
        c = p.capabilities
        endpoint = f"`{p.endpoint_template}`" if p.endpoint_template else (
            "your `endpoint_url`" if p.needs_endpoint else "regional, from `region`"
        )  # fmt: skip
        region = f"`{p.default_region}`" if p.default_region else "required"
        multipart = f"yes ({c.min_part_size // MiB} MiB)" if c.multipart else "no"
        rows.append(
            f"| [`{p.name}`]({p.docs}) {p.title} | {endpoint} | {region} | {p.addressing_style} "
            f"| {_yes(c.post_uploads)} | {multipart} | {_yes(c.equal_parts)} | {_duration(c.max_expiry)} "
            f"| {_yes(c.checksum_sha256)} | {_yes(c.conditional_writes)} | {_yes(c.lifecycle_abort_multipart)} "
            f"| {_yes(c.bucket_cors_api)} | `{p.sdk_checksums}` |"
        )
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    if argv != ["--markdown"]:
        print("usage: python -m local.providers_table --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
