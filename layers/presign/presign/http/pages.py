"""The HTML pages a share link serves browsers (no script at all): a password form, or why the
link gives nothing; and how the link's routes document them.

A visitor's browser asks for ``text/html``; a protected link then answers this page instead of
the JSON ``password_required``, and the form POSTs the password back to the same address as
``application/x-www-form-urlencoded``. The answer to that POST is the same 302 to the storage as
for an unprotected link, so the file downloads without a line of script.

Every header is as strict as the page allows: ``Content-Security-Policy`` lets nothing load or
run (``default-src 'none'``), its one stylesheet is allowed by hash, the form may post only to
this origin and be redirected only to the storage's (``form-action``, which browsers apply to
the redirect too), no page may frame it; ``Referrer-Policy: no-referrer`` keeps the link (whose
path is the secret) out of the storage's logs; ``X-Robots-Tag: noindex`` keeps it out of search
engines.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from presign.http.openapi import cache_control

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:10vh auto;padding:0 1rem;color:#222}"
    "h1{font-size:1.25rem;overflow-wrap:anywhere}p.e{color:#a00}"
    "input,button{font:inherit;padding:.4rem .6rem;margin:.25rem 0}label{display:block}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

# Headers every page and every redirect of a share link carries.
LINK_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


def csp(storage_origin: str | None) -> str:
    form_action = f"'self' {storage_origin}" if storage_origin else "'self'"
    return (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action {form_action}; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


def page_headers(storage_origin: str | None) -> dict[str, str]:
    return {
        **LINK_HEADERS,
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": csp(storage_origin),
        "X-Frame-Options": "DENY",
    }


# What the form calls the file. Never its name: until the password is accepted, the page tells a
# visitor (or whoever holds a leaked link) nothing about what is behind it.
NEUTRAL_TITLE = "Protected file"


def password_page(*, problem: str | None = None) -> str:
    """The form (no ``action``: it posts to the page's own address). ``problem``: a wrong password,
    a lock; shown above the form. It names no file (``NEUTRAL_TITLE``)."""
    notice = f'<p class="e" role="alert">{html.escape(problem)}</p>' if problem else ""
    return (
        "<!doctype html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex,nofollow">'
        f"<title>Password required</title><style>{_STYLE}</style></head><body>"
        f"<h1>{NEUTRAL_TITLE}</h1><p>This file is protected by a password.</p>{notice}"
        '<form method="post"><label for="password">Password</label>'
        '<input id="password" name="password" type="password" required autofocus '
        'autocomplete="current-password" maxlength="1024">'
        '<button type="submit">Download</button></form></body></html>'
    )


def message_page(title: str, message: str) -> str:
    """Why a link gives nothing (expired, revoked, used up, ...), for a browser."""
    return (
        "<!doctype html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex,nofollow">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )


HTML = {"text/html": {"schema": {"type": "string"}}}


def documented(description: str, *, html: bool = True, retry: bool = False) -> dict[str, Any]:
    """A refusal of a page route, as the OpenAPI document states it: the JSON error, or the page."""
    from presign.core.schemas import ErrorResponse  # only the routes that document a model pay for it

    headers = cache_control()
    if retry:
        headers["Retry-After"] = {
            "description": "seconds to wait",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    content = {"application/json": {"model": ErrorResponse}, **(HTML if html else {})}
    return {"description": description, "headers": headers, "content": content}
