"""Plain HTTP with the standard library: what a browser or ``curl`` does with a presigned URL.

The doctor sends its probes here rather than through botocore, so that what it tests is the URL
and headers users get. Redirects are not followed (S3 answers a wrong region with 301, which is
the finding), and an HTTP error is an answer, not an exception. Only the S3 error ``Code`` and
``Message`` are read from an error body; the rest (which can echo the string to sign) is dropped.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from presign.doctor.ports import HTTP_TIMEOUT_SECONDS, HttpAnswer

TIMEOUT_SECONDS = HTTP_TIMEOUT_SECONDS


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> HttpAnswer:
    if not url.startswith(("https://", "http://")):
        return HttpAnswer(0, reason="not an http(s) URL")
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))  # noqa: S310 - http(s) only, checked above
    try:
        with _OPENER.open(request, timeout=min(timeout, TIMEOUT_SECONDS)) as response:
            return HttpAnswer(
                response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
            )
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpAnswer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        return HttpAnswer(0, reason=str(reason))
