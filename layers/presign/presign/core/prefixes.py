"""Key prefix templates: the storage namespace each caller owns, and why two cannot meet.

A template is a run of segments, each followed by ``/``: a literal (``users``) or exactly one
placeholder (``{sub}``, ``{tenant}``) standing for one claim. Nothing else: no format spec or
conversion (``{sub:.3}`` gave ``alice`` and ``alicex`` one prefix), no placeholder inside a
segment (``{tenant}-{sub}`` is ``a-b-c`` for two different callers), no escaped braces, no claim
twice. Claim values are single safe segments (``Principal.path_segment``), and literals must be
too, so every expansion is a run of non-empty, slash-free segments, each followed by ``/``.

Invariant, and why the overlap check is exact: two callers share a key only if one's prefix is a
string prefix of the other's. For strings of slash-terminated, slash-free segments that holds
iff the shorter's segments equal the longer's first segments, one for one (the slashes must line
up). So two templates can overlap iff, position by position over the shorter one, each pair is
equal literals or involves a placeholder: a placeholder can take any literal's value (literals
and claims obey one rule), two placeholders the same value, and since no claim appears twice in
a template no position constrains another. ``tests/unit/test_key_prefix.py`` checks this
against a brute-force oracle that expands templates and compares the strings.

Pure and dependency-free, so both the configuration (at cold start) and ``presign.core.keys`` (per
request) use the same parser.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

# One key segment: what a claim value may be (Principal.path_segment) and what a literal must be.
# It starts with a letter or digit, so it is never "." or "..", and needs no escaping in a URL.
SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@|:+=~-]{0,127}")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_BRACED = re.compile(r"\{[^{}]*\}")
# The value that fills a placeholder matched against another placeholder in an overlap example.
_ANY = "x"


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A placeholder segment: the value of one claim."""

    name: str


Segment = str | Placeholder


@dataclass(frozen=True, slots=True)
class PrefixTemplate:
    text: str
    segments: tuple[Segment, ...]

    @staticmethod
    def parse(text: str) -> PrefixTemplate:
        """Parse and check a template; ``ValueError`` says what is wrong with it."""
        return _parse(text)

    @property
    def claims(self) -> frozenset[str]:
        return frozenset(s.name for s in self.segments if isinstance(s, Placeholder))

    def expand(self, values: Mapping[str, str]) -> str:
        """The prefix for these claim values; each must already be one safe segment."""
        parts = []
        for segment in self.segments:
            if isinstance(segment, Placeholder):
                value = values[segment.name]
                # Principal.path_segment guarantees this; a value that is not one segment must
                # never become a prefix, whoever forgot to check it.
                if not SAFE_SEGMENT.fullmatch(value):
                    raise ValueError(f"the value of {{{segment.name}}} is not one safe key segment")
                parts.append(value)
            else:
                parts.append(segment)
        return "".join(f"{part}/" for part in parts)

    def claims_of(self, key: str) -> dict[str, str] | None:
        """The claim values of the expansion ``key`` lies strictly under; None if under none.

        The inverse of ``expand``: a key the service made gives back the values its prefix was
        made of (``tenants/acme/users/42/...`` of ``tenants/{tenant}/users/{sub}/`` gives
        ``{"tenant": "acme", "sub": "42"}``).
        """
        parts = key.split("/")
        if not "/".join(parts[len(self.segments) :]):
            return None  # the prefix itself, or shorter than it
        values: dict[str, str] = {}
        for segment, part in zip(self.segments, parts, strict=False):
            if isinstance(segment, Placeholder):
                if not SAFE_SEGMENT.fullmatch(part):
                    return None
                values[segment.name] = part
            elif segment != part:
                return None
        return values

    def overlaps(self, other: PrefixTemplate) -> bool:
        """Whether some expansion of one is a prefix of (or equal to) some expansion of the other."""
        return self.overlap_example(other) is not None

    def overlap_example(self, other: PrefixTemplate) -> tuple[str, str] | None:
        """Two expansions, of ``self`` and of ``other``, one a prefix of the other; None if none exist."""
        mine: dict[str, str] = {}
        theirs: dict[str, str] = {}
        for a, b in zip(self.segments, other.segments, strict=False):
            if isinstance(a, Placeholder) and isinstance(b, Placeholder):
                mine[a.name] = theirs[b.name] = _ANY
            elif isinstance(a, Placeholder):
                mine[a.name] = str(b)
            elif isinstance(b, Placeholder):
                theirs[b.name] = a
            elif a != b:
                return None
        # Claims past the shorter template's end take any value.
        mine.update({name: _ANY for name in self.claims - mine.keys()})
        theirs.update({name: _ANY for name in other.claims - theirs.keys()})
        return self.expand(mine), other.expand(theirs)


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> PrefixTemplate:
    if not text.endswith("/") or text.startswith("/"):
        raise ValueError("must end with '/' and not start with '/'")
    segments: list[Segment] = []
    for raw in text[:-1].split("/"):
        segments.append(_segment(raw))
    claims = [s.name for s in segments if isinstance(s, Placeholder)]
    if "sub" not in claims:
        raise ValueError("must contain {sub}, so each caller is confined to their own prefix")
    repeated = sorted({name for name in claims if claims.count(name) > 1})
    if repeated:
        raise ValueError(f"names a claim more than once: {repeated}")
    return PrefixTemplate(text=text, segments=tuple(segments))


def _segment(raw: str) -> Segment:
    if "{" not in raw and "}" not in raw:
        if not SAFE_SEGMENT.fullmatch(raw):
            raise ValueError(
                f"segment {raw!r} is not a plain key segment (1-128 of A-Z a-z 0-9 . _ @ | : + = ~ -, "
                "starting with a letter or digit; no empty, '.' or '..' segments)"
            )
        return raw
    match = _PLACEHOLDER.fullmatch(raw)
    if match:
        return Placeholder(match.group(1))
    if _BRACED.fullmatch(raw) and re.search(r"[:!.\[]", raw):
        raise ValueError(
            f"segment {raw!r}: a placeholder takes no format spec, conversion, attribute or index "
            "(write {sub}, not {sub:.3} or {sub!r})"
        )
    raise ValueError(
        f"segment {raw!r}: a placeholder must be a whole segment on its own, such as /{{tenant}}/, "
        "a claim name in plain braces; no braces anywhere else"
    )
