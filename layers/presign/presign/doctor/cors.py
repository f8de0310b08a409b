"""Does the bucket's CORS configuration let the configured browser origins use our URLs?

S3's rule matching, as AWS documents it (AmazonS3/latest/userguide/cors.html, "How Amazon S3
evaluates the CORS configuration"): rules are tried in order; a preflight is answered by the first
rule whose ``AllowedOrigins`` match the ``Origin`` (one ``*`` wildcard allowed), whose
``AllowedMethods`` hold the method and whose ``AllowedHeaders`` match every header the browser
announces (case-insensitively, one ``*`` wildcard allowed). The actual request's answer takes
``ExposeHeaders`` from the first rule matching origin and method. So per origin and method we
need a preflight rule, and the answering rule must expose ``ETag`` (a browser completes a
multipart upload with the ETag of each part's PUT, and reads nothing the rule does not expose).

Which headers a browser announces: the ones our PUT URLs sign that scripts set (``Content-Type``,
``x-amz-meta-*``, ``x-amz-checksum-sha256``, ``If-None-Match`` when overwrites are refused).
``Content-Length`` is signed too, but the browser sets it itself and never announces it. GET and
HEAD URLs carry their overrides in the query and need no request header; a POST form is a
"simple" request without a preflight, whose answer still needs the origin allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A header name standing for every x-amz-meta-* header a request may carry.
META_SAMPLE = "x-amz-meta-name"
EXAMPLE_ORIGIN = "https://app.example.com"


@dataclass(frozen=True, slots=True)
class Needs:
    """What the target's URLs need from the bucket's CORS rule."""

    origins: tuple[str, ...]
    methods: tuple[str, ...]  # GET, HEAD, PUT (+ POST where the target takes POST uploads)
    put_headers: tuple[str, ...]  # lower case
    expose: tuple[str, ...] = ("etag",)


def needs_for(*, origins: Sequence[str], post: bool, checksums: bool, no_overwrite: bool) -> Needs:
    headers = ["content-type", META_SAMPLE]
    if checksums:
        headers.append("x-amz-checksum-sha256")
    if no_overwrite:
        headers.append("if-none-match")
    methods = ("GET", "HEAD", "PUT", "POST") if post else ("GET", "HEAD", "PUT")
    return Needs(origins=tuple(origins), methods=methods, put_headers=tuple(headers))


def _wildcard(pattern: str, value: str, *, fold: bool) -> bool:
    if fold:
        pattern, value = pattern.lower(), value.lower()
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), value) is not None


def _strings(rule: Mapping[str, Any], field: str) -> list[str]:
    value = rule.get(field) or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _matches(rule: Mapping[str, Any], origin: str, method: str) -> bool:
    return any(_wildcard(p, origin, fold=False) for p in _strings(rule, "AllowedOrigins")) and method in {
        m.upper() for m in _strings(rule, "AllowedMethods")
    }


def _allows_headers(rule: Mapping[str, Any], headers: Sequence[str]) -> list[str]:
    """The headers of ``headers`` this rule does not allow."""
    allowed = _strings(rule, "AllowedHeaders")
    return [h for h in headers if not any(_wildcard(p, h, fold=True) for p in allowed)]


def problems(rules: Sequence[Mapping[str, Any]], needs: Needs) -> list[str]:
    """What is missing, one sentence per origin and method; empty when every use is covered."""
    found: list[str] = []
    for origin in needs.origins:
        for method in needs.methods:
            headers = needs.put_headers if method == "PUT" else ()
            answering = next((r for r in rules if _matches(r, origin, method)), None)
            if answering is None:
                found.append(f"{method} from {origin} is not allowed")
                continue
            preflight = next(
                (r for r in rules if _matches(r, origin, method) and not _allows_headers(r, headers)), None
            )
            if preflight is None:
                missing = _allows_headers(answering, headers)
                shown = ["x-amz-meta-*" if h == META_SAMPLE else h for h in missing]
                found.append(f"{method} from {origin}: headers {', '.join(shown)} are not allowed")
            if method in ("PUT", "GET", "HEAD"):
                exposed = {h.lower() for h in _strings(answering, "ExposeHeaders")}
                lacking = [h for h in needs.expose if h not in exposed]
                if lacking:
                    found.append(
                        f"{method} from {origin}: {', '.join(h.upper() for h in lacking)} is not exposed"
                    )
    return _dedupe(found)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def origins_in(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each origin pattern the rules name (a pattern matches itself), for a run given no origins."""
    return _dedupe([o for r in rules for o in _strings(r, "AllowedOrigins")])


def suggested_rule(needs: Needs) -> dict[str, Any]:
    """One rule that covers ``needs``: what to apply when the bucket's does not."""
    headers = ["x-amz-meta-*" if h == META_SAMPLE else h for h in needs.put_headers]
    return {
        "CORSRules": [
            {
                "AllowedOrigins": list(needs.origins) or [EXAMPLE_ORIGIN],
                "AllowedMethods": list(needs.methods),
                "AllowedHeaders": headers,
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 3600,
            }
        ]
    }


def apply_command(bucket: str, needs: Needs, endpoint_url: str | None) -> str:
    rule = json.dumps(suggested_rule(needs), separators=(",", ":"))
    endpoint = f" --endpoint-url {endpoint_url}" if endpoint_url else ""
    return f"aws s3api put-bucket-cors --bucket {bucket}{endpoint} --cors-configuration '{rule}'"
