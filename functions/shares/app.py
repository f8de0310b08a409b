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
from aws_lambda_powertools.metrics import MetricUnit

from presign.bootstrap.runtime import build_api
from presign.bootstrap.shares import build_shares, share_objects
from presign.http.api import json_response
from presign.http.openapi import link
from presign.http.problems import NO_STORE
from presign.shares.schemas import CreateShareRequest, CreateShareResponse, ShareInfo, ShareList

logger = Logger()
metrics = Metrics()
# The API's own host: the public link is built on it when no public_base_url is configured.
api = build_api(logger, metrics, reads=("requestContext.domainName",))
app = api.app
shares = build_shares(api.runtime, logger, metrics, with_uploads=True)
objects = share_objects(api.runtime)

# Where a new share leads: its handle to the owner's routes, its id to the public link.
SHARE_LINKS = {
    "GetShare": link("/shares/{share_id}", "get", share_id="handle"),
    "RevokeShare": link("/shares/{share_id}", "delete", share_id="handle"),
    "OpenLink": link("/s/{share_id}", "get", share_id="share_id"),
}


@api.post(
    "/shares",
    scope="share",
    spends="share",
    ok=(201, CreateShareResponse, "the share link, shown once"),
    links=SHARE_LINKS,
)
def create_share(request: CreateShareRequest) -> Any:
    target_name, target = api.target(request.target)
    _, spending = api.caller()
    created = shares.create(
        request,
        principal=api.principal(),
        target_name=target_name,
        target=target,
        objects=objects,
        spending=spending,
        base_url=shares.link_base(app.current_event.request_context.domain_name),  # the gate checked it
    )
    logger.append_keys(share=created.handle)
    metrics.add_metric(name="SharesCreated", unit=MetricUnit.Count, value=1)
    # Not exclude_none: max_downloads is null for an unlimited share, and says so.
    return json_response(created.model_dump(mode="json"), status=201, headers=spending.headers())


@api.get(
    "/shares", scope="share", spends="share_manage", ok=(200, ShareList, "the caller's shares, newest first")
)
def list_shares(
    limit: Annotated[int, Query(ge=1, le=100, description="at most this many items")] = 20,
    cursor: Annotated[str | None, Query(max_length=256, description="from the previous page")] = None,
) -> Any:
    owner, spending = api.caller()
    page = shares.list(owner.digest, limit=limit, cursor=cursor, spending=spending)
    return json_response(page.model_dump(mode="json"), headers=spending.headers())


@api.get(
    "/shares/{share_id}",
    scope="share",
    spends="share_manage",
    ok=(200, ShareInfo, "one of the caller's shares"),
)
def get_share(share_id: str) -> Any:
    owner, spending = api.caller()
    info = shares.get(owner.digest, share_id, spending=spending)
    return json_response(info.model_dump(mode="json"), headers=spending.headers())


@api.delete("/shares/{share_id}", scope="share", spends="share_manage", ok=(204, None, "revoked, at once"))
def revoke_share(share_id: str) -> Any:
    owner, spending = api.caller()
    revoked = shares.revoke(owner.digest, share_id, spending=spending)
    logger.append_keys(share=revoked.handle)
    metrics.add_metric(name="SharesRevoked", unit=MetricUnit.Count, value=1)
    return Response(status_code=204, headers={**NO_STORE, **spending.headers()})


handler = api.lambda_handler()
