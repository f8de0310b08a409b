"""What checkov asks of template.yaml (`make lint` runs it), held by tests of its own.

Access logs that leak nothing: a share link's id is its secret and travels in the path
(/s/{share_id}), a token in the Authorization header, so the format names the route's template
($context.routeKey) and never the path, the query string or a header. Point-in-time recovery where
the data is worth restoring. Every check the template opts out of says why, on its resource.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from local.cfn import ROOT, load_template
from tests.infra.test_template_invokers import _transform

# Everything the access log may hold. Anything else added to the format fails here until it is
# judged and listed: $context.path, $request.*, headers, query strings never are.
ACCESS_LOG_VARIABLES = {
    "$context.requestId",
    "$context.requestTime",
    "$context.identity.sourceIp",
    "$context.httpMethod",
    "$context.routeKey",
    "$context.status",
    "$context.protocol",
    "$context.responseLength",
    "$context.responseLatency",
    "$context.integrationLatency",
    "$context.integrationErrorMessage",
    "$context.error.message",
    "$context.authorizer.error",
}
TABLES_WORTH_RESTORING = ("UploadsTable", "SharesTable")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _access_log_format(template: dict[str, Any]) -> str:
    fmt = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    assert isinstance(fmt, str), fmt
    return fmt


def _skips(resource: dict[str, Any]) -> dict[str, str]:
    entries = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    return {entry["id"]: entry.get("comment", "") for entry in entries}


def test_the_http_api_writes_access_logs_to_a_log_group_of_the_stack(template: dict[str, Any]) -> None:
    settings = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]
    group = template["Resources"]["HttpApiAccessLogGroup"]

    assert settings["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}, settings
    assert group["Type"] == "AWS::Logs::LogGroup"
    # Like every log group here: it expires, and it goes away with the stack.
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, group
    assert group["DeletionPolicy"] == "Delete", group


def test_the_access_log_names_the_route_and_never_the_path_query_or_headers(template: dict[str, Any]) -> None:
    fmt = _access_log_format(template)
    variables = set(re.findall(r"\$[A-Za-z][\w.]*", fmt))

    # One JSON object a line (CloudWatch Logs Insights parses it), the route by its template.
    assert json.loads(fmt)["route"] == "$context.routeKey", fmt
    assert variables <= ACCESS_LOG_VARIABLES, sorted(variables - ACCESS_LOG_VARIABLES)
    for leak in ("$context.path", "$request", "querystring", "authorization", "header", "cookie"):
        assert leak not in fmt.lower(), f"{leak} in the access log format: {fmt}"


def test_the_default_stage_carries_the_access_log_after_sams_transform() -> None:
    # SAM moves AccessLogSettings onto the $default stage it creates: check it arrives there whole.
    transformed = _transform({})
    stages = [r for r in transformed["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]

    assert len(stages) == 1, stages
    settings = stages[0]["Properties"]["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}, settings
    assert settings["Format"] == _access_log_format(load_template())


@pytest.mark.parametrize("name", TABLES_WORTH_RESTORING)
def test_tables_whose_data_matters_have_point_in_time_recovery(template: dict[str, Any], name: str) -> None:
    props = template["Resources"][name]["Properties"]

    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, props


def test_every_other_table_says_why_it_has_no_point_in_time_recovery(template: dict[str, Any]) -> None:
    tables = {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    others = set(tables) - set(TABLES_WORTH_RESTORING)

    assert others == {"RateLimitTable", "WebhookDeliveriesTable"}, others
    for name in others:
        assert "PointInTimeRecoverySpecification" not in tables[name]["Properties"], name
        assert "CKV_AWS_28" in _skips(tables[name]), f"{name}: no backups, and no reason given"


def test_every_check_the_template_opts_out_of_has_a_one_line_reason(template: dict[str, Any]) -> None:
    skipped = {name: _skips(res) for name, res in template["Resources"].items() if _skips(res)}

    assert skipped, "no checkov skips at all: then make lint's checkov run shows every finding"
    for name, skips in skipped.items():
        for check, comment in skips.items():
            assert re.fullmatch(r"CKV2?_AWS_\d+", check), (name, check)
            assert len(comment.split()) >= 6 and "\n" not in comment, f"{name} {check}: {comment!r}"


def test_make_lint_runs_checkov_offline_over_the_template_from_its_own_venv() -> None:
    plan = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/bin/.installed", "lint"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next((line for line in plan.splitlines() if "bin/checkov " in line), "")

    assert line.startswith(".venv-checkov/bin/checkov "), plan
    # Without --skip-download it calls out to the network (and prints a traceback offline).
    for flag in ("--skip-download", "--framework cloudformation", "-f template.yaml"):
        assert flag in line, line
