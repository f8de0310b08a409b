"""The public share links: GET /s/{share_id} and POST /s/{share_id}. No token, ever.

An unprotected link answers 302 to a presigned GET of at most 60 seconds; a protected one answers
401 ``password_required`` (a browser, asking for HTML, gets a password form instead), and the
password comes back in a POST body, as JSON or as the form, never in the query string (a
``?password=`` is ignored). ``Accept: application/json`` gets ``{url, expires_at}`` instead of
the redirect. A browser gets its refusals as small HTML pages, with the same status.

This function has no authenticator and its role may read no token secret: it reads and
conditionally updates share items, HEADs and signs GETs under the configured prefixes.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response

from presign import errors
from presign.bootstrap.runtime import build_api
from presign.bootstrap.shares import VisitorLimits, build_shares, share_objects, share_signer
from presign.http.api import json_response
from presign.http.openapi import cache_control
from presign.http.pages import HTML, LINK_HEADERS, documented, message_page, page_headers, password_page
from presign.http.problems import describe
from presign.shares.schemas import OpenShareRequest, ShareGrant

logger = Logger()
metrics = Metrics()
# The visitor's address: the per-client limits count it (``_open``).
api = build_api(logger, metrics, public=True, reads=("requestContext.http.sourceIp",))
app = api.app
shares = build_shares(api.runtime, logger, metrics)
objects = share_objects(api.runtime)
sign_for = share_signer(api.runtime)
limits = VisitorLimits(api.runtime)

RESPONSES: dict[int, Any] = {
    200: {
        "description": "with Accept: application/json, the URL itself; for a browser (Accept: text/html), the password form",
        "headers": cache_control(),
        "content": {"application/json": {"model": ShareGrant}, **HTML},
    },
    302: {
        "description": "to a presigned GET of the file, valid for at most 60 seconds",
        "content": {},  # no body: an empty content, or Powertools documents the return type
        "headers": {
            **cache_control(),
            "Location": {"description": "the presigned GET", "required": True, "schema": {"type": "string"}},
        },
    },
    400: documented("a body that is not JSON or the form, or without a password"),
    401: documented("password_required (none sent) or password_invalid"),
    404: documented("no such link"),
    410: documented("share_expired, share_revoked, share_exhausted (used up) or share_object_gone"),
    413: documented("a body over the limit", html=False),
    415: documented("a body that is neither application/json nor a form", html=False),
    422: documented("the share's disposition is one its target no longer allows"),
    429: documented("too many requests from this address, or share_locked after wrong passwords", retry=True),
    503: documented("a dependency is down", retry=True),
}


def _accepts(media: str) -> bool:
    """Whether the request's Accept names ``media`` itself (not through */*) with q > 0."""
    for item in (app.current_event.headers.get("accept") or "").split(","):
        kind, *parameters = (part.strip() for part in item.split(";"))
        if kind.lower() != media:
            continue
        quality = next((p.split("=", 1)[1] for p in parameters if p.lower().startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            return True
    return False


def _storage_origin(target_name: str) -> str:
    target, signing = sign_for(target_name)
    return shares.storage_origin(target, signing)


def _granted(url: str, expires_at: str) -> Response[str]:
    if _accepts("application/json") and not _accepts("text/html"):
        return json_response(ShareGrant(url=url, expires_at=expires_at), headers=LINK_HEADERS)
    return Response(status_code=302, headers={**LINK_HEADERS, "Location": url})


def _browser_refusal(share_id: str, exc: errors.PresignError) -> Response[str]:
    """The refusal as a page: the same status, code and headers as the JSON one (``describe``)."""
    status, _, message, headers = describe(exc)
    origin = None
    if isinstance(exc, errors.PasswordError | errors.ShareLocked):
        share = shares.peek(share_id)
        if share is not None:
            origin = _storage_origin(share.target)  # the form may be redirected there
        problem = None if isinstance(exc, errors.PasswordRequired) else message
        body = password_page(problem=problem)  # names nothing before the password is accepted
        # The form itself is what a browser asked for: 200; a wrong password keeps its 401.
        if isinstance(exc, errors.PasswordRequired):
            status = 200  # type: ignore[assignment]
    else:
        body = message_page("This link gives nothing", message)
    return Response(status_code=int(status), body=body, headers={**page_headers(origin), **headers})


def _open(share_id: str, password: str | None) -> Response[str]:
    source = app.current_event.request_context.http.source_ip  # the gate made sure it is there
    try:
        grant = shares.open(
            share_id, password=password, client=source, limits=limits, objects=objects, signer=sign_for
        )
    except errors.PresignError as exc:
        if _accepts("text/html") and describe(exc)[0] < 500:
            return _browser_refusal(share_id, exc)
        raise
    return _granted(grant.url, grant.expires_at)


@api.get("/s/{share_id}", responses=RESPONSES)
def open_link(share_id: str) -> Any:
    # A ?password= is never read: query strings end up in logs, histories and Referer headers.
    return _open(share_id, None)


@api.post("/s/{share_id}", responses=RESPONSES, form=("password",))
def open_protected_link(share_id: str, request: OpenShareRequest) -> Any:
    return _open(share_id, request.password)


# The event carries the link's id in its path and the password in its body: the handler's stack
# never logs it (``presign.http.api.lambda_handler``).
handler = api.lambda_handler()
