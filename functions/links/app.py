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
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign import errors
from presign.models import ErrorResponse
from presign.shares.models import OpenShareRequest, ShareGrant
from presign.shares.page import LINK_HEADERS, message_page, page_headers, password_page
from presign.shares.service import AuditEvent, Grant, client_key
from presign.shares.wiring import RuntimeLimits, audit_log, build_shares, object_stores, signer
from presign.web import Api, cache_control, describe, json_response

logger = Logger()
metrics = Metrics()
# The visitor's address: the per-client limits count it (``_open``).
api = Api(logger, metrics, public=True, reads=("requestContext.http.sourceIp",))
app = api.app
resolve = api.handler()
api.accept_form("POST /s/{share_id}", fields=("password",))
_log_audit = audit_log(logger.info, lambda: str(app.current_event.request_context.request_id or ""))


def _audit(event: AuditEvent) -> None:
    _log_audit(event)
    if event.action == "open":
        # One metric per outcome: a wave of wrong passwords and a viral link look different.
        with single_metric(
            name="ShareAccess", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
        ) as metric:
            metric.add_dimension(name="outcome", value=event.outcome)


shares = build_shares(api.runtime, audit=_audit)
objects = object_stores(api.runtime)
sign_for = signer(api.runtime)
limits = RuntimeLimits(api.runtime)

_ERROR = {"application/json": {"model": ErrorResponse}}
_HTML = {"text/html": {"schema": {"type": "string"}}}


def _documented(description: str, *, html: bool = True, retry: bool = False) -> dict[str, Any]:
    headers = cache_control()
    if retry:
        headers["Retry-After"] = {
            "description": "seconds to wait",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    content = {**_ERROR, **(_HTML if html else {})}
    return {"description": description, "headers": headers, "content": content}


RESPONSES: dict[int, Any] = {
    200: {
        "description": "with Accept: application/json, the URL itself; for a browser (Accept: text/html), the password form",
        "headers": cache_control(),
        "content": {"application/json": {"model": ShareGrant}, **_HTML},
    },
    302: {
        "description": "to a presigned GET of the file, valid for at most 60 seconds",
        "content": {},  # no body: an empty content, or Powertools documents the return type
        "headers": {
            **cache_control(),
            "Location": {"description": "the presigned GET", "required": True, "schema": {"type": "string"}},
        },
    },
    400: _documented("a body that is not JSON or the form, or without a password"),
    401: _documented("password_required (none sent) or password_invalid"),
    404: _documented("no such link"),
    410: _documented("share_expired, share_revoked, share_exhausted (used up) or share_object_gone"),
    413: _documented("a body over the limit", html=False),
    415: _documented("a body that is neither application/json nor a form", html=False),
    422: _documented("the share's disposition is one its target no longer allows"),
    429: _documented(
        "too many requests from this address, or share_locked after wrong passwords", retry=True
    ),
    503: _documented("a dependency is down", retry=True),
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


def _granted(grant: Grant) -> Response[str]:
    if _accepts("application/json") and not _accepts("text/html"):
        return json_response(ShareGrant(url=grant.url, expires_at=grant.expires_at), headers=LINK_HEADERS)
    return Response(status_code=302, headers={**LINK_HEADERS, "Location": grant.url})


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
    context = app.current_event.request_context
    client = client_key(context.http.source_ip)  # the gate made sure it is there
    try:
        grant = shares.open(
            share_id, password=password, client=client, limits=limits, objects=objects, signer=sign_for
        )
    except errors.PresignError as exc:
        if _accepts("text/html") and describe(exc)[0] < 500:
            return _browser_refusal(share_id, exc)
        raise
    return _granted(grant)


@app.get("/s/<share_id>", responses=RESPONSES)
def open_link(share_id: str) -> Any:
    # A ?password= is never read: query strings end up in logs, histories and Referer headers.
    return _open(share_id, None)


@app.post("/s/<share_id>", responses=RESPONSES)
def open_protected_link(share_id: str, request: OpenShareRequest) -> Any:
    return _open(share_id, request.password)


# log_event=False, explicitly: the event carries the link's id in its path and the password in
# its body; neither may reach a log line.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context)
