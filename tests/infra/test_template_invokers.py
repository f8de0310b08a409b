"""Who may invoke the functions: this HTTP API, and nobody else.

In gateway mode a function trusts the claims in its event, so whoever can invoke it directly can
be any user (docs/authentication.md, "Gateway mode: who may invoke the functions"). The grants
that matter are the ones CloudFormation receives, so these tests read the template after SAM's
transform, not as written: SAM turns each HttpApi event into an AWS::Lambda::Permission.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

import pytest

from local.cfn import ROOT, TEMPLATE, load_template

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
TRANSFORM = ROOT / "tests" / "support" / "sam_transform.py"
API_ARN_PREFIX = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/"
GATEWAY = {"EnableJwtAuthorizer": "true", "JwtIssuer": "https://issuer.example/", "JwtAudience": "presign"}


def _transform(parameters: dict[str, str]) -> dict[str, Any]:
    if not SAM_PYTHON.exists():
        pytest.fail(
            f"{SAM_PYTHON} is missing: these tests need the SAM CLI virtualenv (make test creates it)"
        )
    # The project's PYTHONPATH would put our packages in front of the SAM CLI's.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(SAM_PYTHON), str(TRANSFORM), str(TEMPLATE), json.dumps(parameters)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    transformed: dict[str, Any] = json.loads(done.stdout)
    return transformed


@pytest.fixture(scope="module", params=[{}, GATEWAY], ids=["functions-verify-tokens", "gateway-authorizer"])
def transformed(request: pytest.FixtureRequest) -> dict[str, Any]:
    parameters: dict[str, str] = request.param
    return _transform(parameters)


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res.get("Type") == kind}


def _function_of(permission: dict[str, Any]) -> str:
    target = permission["Properties"]["FunctionName"]
    if isinstance(target, dict) and set(target) == {"Ref"}:
        return str(target["Ref"])
    if isinstance(target, dict) and set(target) == {"Fn::GetAtt"}:
        return str(target["Fn::GetAtt"][0])
    raise AssertionError(f"a permission for a function outside this template: {permission}")


def test_every_invoke_permission_is_for_this_api_alone(transformed: dict[str, Any]) -> None:
    functions = _of_type(transformed, "AWS::Lambda::Function")
    permissions = _of_type(transformed, "AWS::Lambda::Permission")
    api = transformed["Resources"]["HttpApi"]
    assert api["Type"] == "AWS::ApiGatewayV2::Api", api
    assert permissions, "no invoke permissions at all: API Gateway could not call the functions"

    for name, permission in permissions.items():
        props = permission["Properties"]
        if _function_of(permission) in ("CleanupFunction", "StorageEventsFunction"):
            # Their one invoker: their own rule (EventBridge: the schedule, S3's Object Created
            # events), nothing on the API.
            rule = props["SourceArn"]["Fn::GetAtt"][0]
            assert props["Principal"] == "events.amazonaws.com", (name, props)
            assert props["SourceArn"] == {"Fn::GetAtt": [rule, "Arn"]}, (name, props)
            assert transformed["Resources"][rule]["Type"] == "AWS::Events::Rule", (name, rule)
            continue
        # Given a permission SAM generated / Then it lets API Gateway invoke one of our functions...
        assert _function_of(permission) in functions, (name, props)
        assert props["Action"] == "lambda:InvokeFunction", (name, props)
        assert props["Principal"] == "apigateway.amazonaws.com", (name, props)
        assert not {"FunctionUrlAuthType", "PrincipalOrgID", "EventSourceToken"} & set(props), (name, props)
        # ...and only on behalf of this API: its execute-api ARN, any stage, one of its routes
        source = props.get("SourceArn")
        assert isinstance(source, dict) and set(source) == {"Fn::Sub"}, (name, source)
        pattern, variables = source["Fn::Sub"]
        assert pattern.startswith(API_ARN_PREFIX), (name, pattern)
        assert variables["__ApiId__"] == {"Ref": "HttpApi"}, (name, variables)


def _grant_for(event: dict[str, Any]) -> str:
    """The route part of the SourceArn SAM grants for an HttpApi event as written."""
    if "Path" not in event:
        return "*/*"  # the $default route (no Path, no Method): every method on every path
    # SAM writes each {path_parameter} of the route as "*" in the execute-api ARN.
    return f"*/{event['Method'].upper()}{re.sub(r'{[^}/]+}', '*', event['Path'])}"


def test_every_api_function_can_be_reached_and_only_through_its_routes(transformed: dict[str, Any]) -> None:
    granted: dict[str, set[str]] = {}
    for permission in _of_type(transformed, "AWS::Lambda::Permission").values():
        source = permission["Properties"].get("SourceArn")
        if not (isinstance(source, dict) and "Fn::Sub" in source):
            continue  # not an API grant: test_every_invoke_permission_is_for_this_api_alone fails on it
        pattern, variables = source["Fn::Sub"]
        route = pattern.removeprefix(API_ARN_PREFIX).replace("${__Stage__}", variables["__Stage__"])
        granted.setdefault(_function_of(permission), set()).add(route)

    # Given each function's HttpApi events as written / Then each has a grant naming that route
    for name, function in _of_type(load_template(), "AWS::Serverless::Function").items():
        routes = {
            _grant_for(e["Properties"])
            for e in function["Properties"].get("Events", {}).values()
            if e["Type"] == "HttpApi"
        }
        covered = {r for r in routes if r in granted.get(name, set()) or "*/*" in granted.get(name, set())}
        assert covered == routes, (name, routes, granted.get(name))


def test_no_function_has_a_url_or_another_invoker(transformed: dict[str, Any]) -> None:
    raw = load_template()
    # Not in the template as written: no URL config, no hand-made permissions or URLs
    assert "FunctionUrlConfig" not in raw.get("Globals", {}).get("Function", {})
    for name, function in _of_type(raw, "AWS::Serverless::Function").items():
        assert "FunctionUrlConfig" not in function["Properties"], name
    handmade = {
        n for n, r in raw["Resources"].items() if r["Type"] in ("AWS::Lambda::Permission", "AWS::Lambda::Url")
    }
    assert not handmade, handmade
    # Nor after the transform
    assert not _of_type(transformed, "AWS::Lambda::Url")
    kinds = {r["Type"] for r in transformed["Resources"].values()}
    assert "AWS::Lambda::EventSourceMapping" not in kinds, kinds
    # One EventInvokeConfig, the storage events function's: retries and an on-failure queue for
    # the asynchronous invocations its rule makes; it adds no invoker.
    configs = _of_type(transformed, "AWS::Lambda::EventInvokeConfig")
    assert [c["Properties"]["FunctionName"] for c in configs.values()] == [{"Ref": "StorageEventsFunction"}]
