"""The owner's share routes: POST /shares, GET /shares, GET and DELETE /shares/{share_id}.

Creating a share HEADs the object (boto3, imported on the first creation, never at cold start)
and, for a password, hashes it with Argon2id (argon2-cffi, imported likewise). Listing, reading
and revoking need only DynamoDB.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign.runtime import Budget
from presign.shares.models import CreateShareRequest, CreateShareResponse, ShareInfo, ShareList
from presign.shares.wiring import audit_log, build_shares, object_stores
from presign.web import NO_STORE, Api, json_response, link, openapi_responses

logger = Logger()
metrics = Metrics()
# The API's own host: the public link is built on it when no public_base_url is configured.
api = Api(logger, metrics, reads=("requestContext.domainName",))
app = api.app
resolve = api.handler()
for route in ("POST /shares", "GET /shares", "GET /shares/{share_id}", "DELETE /shares/{share_id}"):
    api.protect(route, action="share")
shares = build_shares(
    api.runtime,
    audit=audit_log(logger.info, lambda: str(app.current_event.request_context.request_id or "")),
    with_uploads=True,
)
objects = object_stores(api.runtime)


def _public_base_url() -> str:
    configured = api.runtime.settings.shares.public_base_url
    if configured:
        return configured
    # The API's own host, as the request reached it. Plain http only for a local emulator.
    host = app.current_event.request_context.domain_name  # the gate made sure it is there
    loopback = host.split(":")[0] in ("127.0.0.1", "localhost") or host.startswith("[::1]")
    return f"{'http' if loopback else 'https'}://{host}"


class _Manage:
    """Spends the caller's ``share_manage`` budget once, and remembers it for the headers."""

    def __init__(self, subject: str) -> None:
        self.budget: Budget = api.runtime.budget(subject, api.runtime.settings.default_target)

    def __call__(self) -> None:
        self.budget.spend("share_manage")


# Where a new share leads: its handle to the owner's routes, its id to the public link.
SHARE_LINKS = {
    "GetShare": link("/shares/{share_id}", "get", share_id="handle"),
    "RevokeShare": link("/shares/{share_id}", "delete", share_id="handle"),
    "OpenLink": link("/s/{share_id}", "get", share_id="share_id"),
}


@app.post(
    "/shares",
    responses=openapi_responses(201, CreateShareResponse, "the share link, shown once", links=SHARE_LINKS),
)
def create_share(request: CreateShareRequest) -> Any:
    principal = api.principal()
    target_name, target = api.runtime.target(request.target)
    budget = api.runtime.budget(api.runtime.owner(principal).subject, target_name)
    created = shares.create(
        request,
        principal=principal,
        target_name=target_name,
        target=target,
        objects=objects,
        spend=lambda: budget.spend("share"),
        base_url=_public_base_url(),
    )
    logger.append_keys(share=created.handle)
    metrics.add_metric(name="SharesCreated", unit=MetricUnit.Count, value=1)
    # Not exclude_none: max_downloads is null for an unlimited share, and says so.
    return json_response(created.model_dump(mode="json"), status=201, headers=budget.headers())


@app.get("/shares", responses=openapi_responses(200, ShareList, "the caller's shares, newest first"))
def list_shares(
    limit: Annotated[int, Query(ge=1, le=100, description="at most this many items")] = 20,
    cursor: Annotated[str | None, Query(max_length=256, description="from the previous page")] = None,
) -> Any:
    owner = api.runtime.owner(api.principal())
    spend = _Manage(owner.subject)
    page = shares.list(owner.digest, limit=limit, cursor=cursor, spend=spend)
    return json_response(page.model_dump(mode="json"), headers=spend.budget.headers())


@app.get("/shares/<share_id>", responses=openapi_responses(200, ShareInfo, "one of the caller's shares"))
def get_share(share_id: str) -> Any:
    owner = api.runtime.owner(api.principal())
    spend = _Manage(owner.subject)
    info = shares.get(owner.digest, share_id, spend=spend)
    return json_response(info.model_dump(mode="json"), headers=spend.budget.headers())


@app.delete("/shares/<share_id>", responses=openapi_responses(204, None, "revoked, at once"))
def revoke_share(share_id: str) -> Any:
    owner = api.runtime.owner(api.principal())
    spend = _Manage(owner.subject)
    revoked = shares.revoke(owner.digest, share_id, spend=spend)
    logger.append_keys(share=revoked.handle)
    metrics.add_metric(name="SharesRevoked", unit=MetricUnit.Count, value=1)
    return Response(status_code=204, headers={**NO_STORE, **spend.budget.headers()})


# clear_state: keys appended for one caller must not label the next invocation's lines.
# log_event=False, explicitly: otherwise POWERTOOLS_LOGGER_LOG_EVENT=true would log every event,
# bearer token and share passwords included.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context)
