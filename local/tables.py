"""Create template.yaml's DynamoDB tables in moto, from the template's own properties, so the local
stack and the tests cannot drift from what `sam deploy` creates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local.gateway.template import TemplateResolver, Unresolved

STACK_NAME = "presign-local"

_KEY_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


def _table_request(logical_id: str, props: Mapping[str, Any], resolver: TemplateResolver) -> dict[str, Any]:
    try:
        name = str(resolver.resolve(props["TableName"])) if "TableName" in props else None
    except Unresolved:
        name = None
    request: dict[str, Any] = {"TableName": name or f"{STACK_NAME}-{logical_id}"}
    if "PrimaryKey" in props or "KeySchema" not in props:  # AWS::Serverless::SimpleTable
        pk = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        request["AttributeDefinitions"] = [
            {"AttributeName": pk["Name"], "AttributeType": _KEY_TYPES.get(pk.get("Type", "String"), "S")}
        ]
        request["KeySchema"] = [{"AttributeName": pk["Name"], "KeyType": "HASH"}]
        request["BillingMode"] = "PAY_PER_REQUEST"
        return request
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if key in props:
            request[key] = resolver.resolve(props[key])
    stream = props.get("StreamSpecification")
    if isinstance(stream, Mapping) and "StreamViewType" in stream:  # the events' source (docs/events.md)
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": str(resolver.resolve(stream["StreamViewType"])),
        }
    billing = str(resolver.resolve(props.get("BillingMode", "PROVISIONED")))
    request["BillingMode"] = billing
    if billing == "PROVISIONED":
        throughput = props.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        request["ProvisionedThroughput"] = {k: int(v) for k, v in resolver.resolve(throughput).items()}
    return request


def create_tables(
    doc: Mapping[str, Any], resolver: TemplateResolver, endpoint_url: str | None = None
) -> dict[str, str]:
    """Create the template's DynamoDB tables in moto; returns logical id -> table name."""
    import boto3

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    created: dict[str, str] = {}
    for logical_id, res in (doc.get("Resources") or {}).items():
        kind = res.get("Type")
        if kind not in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
            continue
        props = res.get("Properties") or {}
        request = _table_request(logical_id, props, resolver)
        dynamodb.create_table(**request)
        ttl = props.get("TimeToLiveSpecification")
        if isinstance(ttl, dict) and str(resolver.resolve(ttl.get("Enabled", False))).lower() == "true":
            dynamodb.update_time_to_live(
                TableName=request["TableName"],
                TimeToLiveSpecification={"AttributeName": str(ttl["AttributeName"]), "Enabled": True},
            )
        created[logical_id] = request["TableName"]
    return created
