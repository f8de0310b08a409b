"""template.yaml as data: what each function may do, how it is built, and who may call it.

These run without AWS and without the SAM CLI. They fail when someone loosens the template: a
wildcard, an extra action, a function built without bytecode, a public route that stops being
public or a private one that becomes public.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.cfn import ROOT, load_template

NO_VALUE = {"Ref": "AWS::NoValue"}
FUNCTIONS = (
    "UploadsFunction",
    "DownloadsFunction",
    "LifecycleFunction",
    "SharesFunction",
    "LinksFunction",
    "MetaFunction",
    "CleanupFunction",
    "StorageEventsFunction",
)
# Functions no HTTP route reaches: their one event type.
SCHEDULED = {"CleanupFunction": "Schedule", "StorageEventsFunction": "EventBridgeRule"}
# The functions that read the configuration, sign and (but for LinksFunction) verify tokens.
CONFIGURED = ("UploadsFunction", "DownloadsFunction", "LifecycleFunction", "SharesFunction", "LinksFunction")
# An HttpApi event without Path and Method is the API's $default route: whatever no other matches.
DEFAULT_ROUTE = ("ANY", "$default")
PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    DEFAULT_ROUTE,
    # the share links: anyone with the link, no token
    ("GET", "/s/{share_id}"),
    ("POST", "/s/{share_id}"),
}
PRIVATE_ROUTES = {
    ("POST", "/uploads"),
    ("POST", "/downloads"),
    ("POST", "/uploads/{upload_id}/parts"),
    ("POST", "/uploads/{upload_id}/sign"),
    ("POST", "/uploads/{upload_id}/complete"),
    ("GET", "/uploads/{upload_id}"),
    ("DELETE", "/uploads/{upload_id}"),
    ("GET", "/uploads"),
    ("POST", "/shares"),
    ("GET", "/shares"),
    ("GET", "/shares/{share_id}"),
    ("DELETE", "/shares/{share_id}"),
}

# What each function may do, and on what: action -> {the condition its statement sits under (None:
# always) -> the template value its Resource must be}. A grant behind a condition exists only when
# the parameter it names is set, so an unused parameter grants nothing.
TABLE_ARN = {"Fn::GetAtt": ["RateLimitTable", "Arn"]}
UPLOADS_TABLE_ARN = {"Fn::GetAtt": ["UploadsTable", "Arn"]}
SHARES_TABLE_ARN = {"Fn::GetAtt": ["SharesTable", "Arn"]}
SHARES_OWNER_INDEX = {"Fn::Sub": "${SharesTable.Arn}/index/by_owner"}
SSM_CONFIG = {
    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${PresignConfigParameter}"
}
# Every configured function verifies tokens and signs with the targets' credentials.
SECRETS: dict[str, dict[str | None, Any]] = {
    "secretsmanager:GetSecretValue": {
        "HasJwtSecrets": {"Ref": "JwtSecretArns"},
        "HasCredentialSecrets": {"Ref": "CredentialSecretArns"},
    },
    "ssm:GetParameter": {
        "HasConfigParameter": SSM_CONFIG,
        "HasCredentialParameters": {"Ref": "CredentialParameterArns"},
    },
    "kms:Decrypt": {"HasSecretsKmsKeys": {"Ref": "SecretsKmsKeyArns"}},
}
# The functions that sign GET URLs may also read the CloudFront keys of CDN targets; no other may.
CDN_KEYS = {"HasCdnKeySecrets": {"Ref": "CdnKeySecretArns"}}
SECRETS_AND_CDN_KEYS: dict[str, dict[str | None, Any]] = {
    **SECRETS,
    "secretsmanager:GetSecretValue": {**SECRETS["secretsmanager:GetSecretValue"], **CDN_KEYS},
}
UPLOAD_OBJECTS = {None: {"Ref": "S3ObjectArnsForUpload"}}
DOWNLOAD_OBJECTS = {None: {"Ref": "S3ObjectArnsForDownload"}}
DOCTOR_OBJECTS = {"HasDoctorProbeArns": {"Ref": "S3ObjectArnsForDoctor"}}
# The public links and the cleanup never verify a token: no JWT secret.
SECRETS_WITHOUT_TOKENS: dict[str, dict[str | None, Any]] = {
    **SECRETS,
    "secretsmanager:GetSecretValue": {"HasCredentialSecrets": {"Ref": "CredentialSecretArns"}},
}
SECRETS_WITHOUT_TOKENS_AND_CDN_KEYS: dict[str, dict[str | None, Any]] = {
    **SECRETS,
    "secretsmanager:GetSecretValue": {**SECRETS_WITHOUT_TOKENS["secretsmanager:GetSecretValue"], **CDN_KEYS},
}
ALLOWED: dict[str, dict[str, dict[str | None, Any]]] = {
    "UploadsFunction": {
        # also CreateMultipartUpload and the part URLs it signs (UploadPart)
        "s3:PutObject": UPLOAD_OBJECTS,
        **SECRETS,
        # the rate limiter's counters; Idempotency-Key claims
        "dynamodb:UpdateItem": {None: [TABLE_ARN, UPLOADS_TABLE_ARN]},
        "dynamodb:PutItem": {None: UPLOADS_TABLE_ARN},  # a new upload record (conditional)
        "dynamodb:GetItem": {None: UPLOADS_TABLE_ARN},  # a retry finds its upload
    },
    "DownloadsFunction": {
        "s3:GetObject": {None: {"Ref": "S3ObjectArnsForDownload"}},
        **SECRETS_AND_CDN_KEYS,
        "dynamodb:UpdateItem": {None: TABLE_ARN},
    },
    "LifecycleFunction": {
        # HEAD is authorised as s3:GetObject; the function never reads an object's bytes.
        "s3:GetObject": UPLOAD_OBJECTS,
        "s3:DeleteObject": UPLOAD_OBJECTS,
        # multipart: ListParts, CompleteMultipartUpload (as s3:PutObject), AbortMultipartUpload
        "s3:ListMultipartUploadParts": UPLOAD_OBJECTS,
        "s3:PutObject": UPLOAD_OBJECTS,
        "s3:AbortMultipartUpload": UPLOAD_OBJECTS,
        **SECRETS,
        # the rate limiter's counters; status transitions and completion claims
        "dynamodb:UpdateItem": {None: [TABLE_ARN, UPLOADS_TABLE_ARN]},
        "dynamodb:GetItem": {None: UPLOADS_TABLE_ARN},
        "dynamodb:Query": {None: UPLOADS_TABLE_ARN},
    },
    "SharesFunction": {
        # HEAD of the object a share is made for (authorised as s3:GetObject)
        "s3:GetObject": DOWNLOAD_OBJECTS,
        **SECRETS,
        # the rate limiter's counters; a revocation
        "dynamodb:UpdateItem": {None: [TABLE_ARN, SHARES_TABLE_ARN]},
        "dynamodb:PutItem": {None: SHARES_TABLE_ARN},  # a new share (conditional)
        # one share; the upload record of the key being shared
        "dynamodb:GetItem": {None: [SHARES_TABLE_ARN, UPLOADS_TABLE_ARN]},
        "dynamodb:Query": {None: SHARES_OWNER_INDEX},  # the owner's list, and nothing else
    },
    "LinksFunction": {
        # HEAD and the presigned GETs (signed with the role on AWS S3)
        "s3:GetObject": DOWNLOAD_OBJECTS,
        **SECRETS_WITHOUT_TOKENS_AND_CDN_KEYS,
        # the rate limiter's counters; a download spent, a wrong password counted (conditional)
        "dynamodb:UpdateItem": {None: [TABLE_ARN, SHARES_TABLE_ARN]},
        "dynamodb:GetItem": {None: SHARES_TABLE_ARN},
    },
    "MetaFunction": {},
    "CleanupFunction": {
        # the storage sweep: a bucket action (IAM cannot narrow it by the Prefix the code passes)
        "s3:ListBucketMultipartUploads": {None: {"Ref": "S3BucketArnsForCleanup"}},
        # stale uploads completed (HEAD and first bytes, ListParts, CompleteMultipartUpload as
        # PutObject) or rejected; stale and orphaned multipart uploads aborted; and only where
        # S3ObjectArnsForDoctor is set, {"doctor": true}'s probes and bucket rules
        "s3:AbortMultipartUpload": {**UPLOAD_OBJECTS, **DOCTOR_OBJECTS},
        "s3:GetObject": {**UPLOAD_OBJECTS, **DOCTOR_OBJECTS},
        "s3:DeleteObject": {**UPLOAD_OBJECTS, **DOCTOR_OBJECTS},
        "s3:PutObject": {**UPLOAD_OBJECTS, **DOCTOR_OBJECTS},
        "s3:ListMultipartUploadParts": {**UPLOAD_OBJECTS, **DOCTOR_OBJECTS},
        "s3:GetBucketCORS": {"HasDoctorProbeArns": {"Ref": "S3BucketArnsForCleanup"}},
        "s3:GetLifecycleConfiguration": {"HasDoctorProbeArns": {"Ref": "S3BucketArnsForCleanup"}},
        "s3:GetBucketNotification": {"HasDoctorProbeArns": {"Ref": "S3BucketArnsForCleanup"}},
        # the configuration and the targets' stored keys; never a token secret (it verifies none)
        **SECRETS_WITHOUT_TOKENS,
        # the four indexes it reads, and nothing else by Query
        "dynamodb:Query": {
            None: [
                {"Fn::Sub": "${UploadsTable.Arn}/index/pending"},
                {"Fn::Sub": "${UploadsTable.Arn}/index/removable"},
                {"Fn::Sub": "${UploadsTable.Arn}/index/recheck"},
                {"Fn::Sub": "${SharesTable.Arn}/index/stale"},
            ]
        },
        # a record read, fenced, expired (conditional), an orphan's claim; old records, stale shares
        "dynamodb:GetItem": {None: UPLOADS_TABLE_ARN},
        "dynamodb:BatchGetItem": {None: UPLOADS_TABLE_ARN},  # the sweep: which uploads records name
        "dynamodb:UpdateItem": {None: UPLOADS_TABLE_ARN},
        "dynamodb:DeleteItem": {None: [UPLOADS_TABLE_ARN, SHARES_TABLE_ARN]},
    },
    "StorageEventsFunction": {
        # an event's upload: HEAD and first bytes, ListParts and CompleteMultipartUpload
        # (PutObject), the delete of what fails verification; under the upload prefixes only
        "s3:GetObject": UPLOAD_OBJECTS,
        "s3:DeleteObject": UPLOAD_OBJECTS,
        "s3:ListMultipartUploadParts": UPLOAD_OBJECTS,
        "s3:PutObject": UPLOAD_OBJECTS,
        "dynamodb:GetItem": {None: UPLOADS_TABLE_ARN},
        "dynamodb:UpdateItem": {None: UPLOADS_TABLE_ARN},
        "dynamodb:Query": {None: {"Fn::Sub": "${UploadsTable.Arn}/index/pending"}},  # {"sweep": true}
        "sqs:SendMessage": {None: {"Fn::GetAtt": ["StorageEventsFailures", "Arn"]}},
        **SECRETS_WITHOUT_TOKENS,
    },
}
# Each optional grant, and the list parameter that switches it on.
OPTIONAL_GRANTS = {
    "HasJwtSecrets": "JwtSecretArns",
    "HasCredentialSecrets": "CredentialSecretArns",
    "HasCredentialParameters": "CredentialParameterArns",
    "HasSecretsKmsKeys": "SecretsKmsKeyArns",
    "HasCdnKeySecrets": "CdnKeySecretArns",
    "HasDoctorProbeArns": "S3ObjectArnsForDoctor",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def _branches(value: Any, condition: str | None = None) -> Iterator[tuple[str | None, Any]]:
    """Every value an Fn::If may produce (AWS::NoValue dropped), with the condition it sits under."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        name, when_true, when_false = value["Fn::If"]
        yield from _branches(when_true, name)
        yield from _branches(when_false, f"!{name}")
    elif value != NO_VALUE:
        yield condition, value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditional_statements(function: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    statements: list[tuple[str | None, dict[str, Any]]] = []
    for policy in function["Properties"].get("Policies", []):
        for _, document in _branches(policy):
            # Inline statements only: a managed policy or SAM policy template hides its actions
            # and resources from review (and from these tests).
            assert isinstance(document, dict) and "Statement" in document, f"not an inline policy: {document}"
            for entry in document["Statement"]:
                statements.extend(_branches(entry))
    return statements


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    return [stmt for _, stmt in _conditional_statements(function)]


def _actions(function: dict[str, Any]) -> set[str]:
    return {action for stmt in _statements(function) for action in _as_list(stmt["Action"])}


def _events(function: dict[str, Any]) -> dict[str, dict[str, Any]]:
    events: dict[str, dict[str, Any]] = function["Properties"].get("Events", {})
    return events


def _routes(template: dict[str, Any]) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    routes = {}
    for name, function in _resources(template, "AWS::Serverless::Function").items():
        for event in _events(function).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes[(props.get("Method", "ANY").upper(), props.get("Path", "$default"))] = (name, props)
    return routes


def _platform_arch() -> str:
    makefile = (ROOT / "layers" / "presign" / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^LAMBDA_PLATFORM\s*\??=\s*manylinux_2_\d+_(\w+)\s*$", makefile, re.MULTILINE)
    assert match, "layers/presign/Makefile must set LAMBDA_PLATFORM ?= manylinux_2_<glibc>_<arch>"
    return {"aarch64": "arm64"}.get(match.group(1), match.group(1))


# The Lambda runtime: Python 3.13, on Amazon Linux 2023 (3.11's Amazon Linux 2 is out of support).
RUNTIME = "python3.13"
VERSION = RUNTIME.removeprefix("python")
VERSION_TUPLE = "({}, {})".format(*VERSION.split("."))


def _makefile_variable(path: Path, name: str) -> str:
    match = re.search(rf"^{name}\s*[:?]?=\s*(\S+)\s*$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.relative_to(ROOT)}: no {name}"
    return match.group(1)


def test_one_python_everywhere(template: dict[str, Any]) -> None:
    # The runtime, the version every build makefile compiles bytecode for, and the tools' target.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    assert template["Globals"]["Function"]["Runtime"] == RUNTIME
    assert template["Resources"]["PresignLayer"]["Properties"]["CompatibleRuntimes"] == [RUNTIME]
    for makefile in ("Makefile", "layers/presign/Makefile", "functions/function.mk"):
        assert _makefile_variable(ROOT / makefile, "LAMBDA_PYTHON") == VERSION, makefile
    assert pyproject["project"]["requires-python"] == f">={VERSION},<3.{int(VERSION.split('.')[1]) + 1}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + VERSION.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == VERSION


def test_wheels_may_need_no_newer_glibc_than_the_runtimes_os() -> None:
    # python3.13 runs on Amazon Linux 2023, glibc 2.34; the layer's wheels are held to 2.28.
    platform = _makefile_variable(ROOT / "layers" / "presign" / "Makefile", "LAMBDA_PLATFORM")
    glibc_minor = int(platform.split("_")[2])
    plan = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(ROOT / "layers" / "presign"), "wheel-args"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    platforms = [plan[i + 1] for i, arg in enumerate(plan) if arg == "--platform"]

    assert glibc_minor <= 34, platform
    # pip takes --platform literally: every glibc from that one down to manylinux2014 is named.
    arch = platform.split("_", 3)[3]
    assert platforms == [f"manylinux_2_{n}_{arch}" for n in range(glibc_minor, 16, -1)] + [
        f"manylinux2014_{arch}"
    ]


# --- functions and how they are built -----------------------------------------------------------


def test_the_expected_functions_exist(template: dict[str, Any]) -> None:
    # Given the template / When its functions are listed / Then they are exactly ours
    assert set(_resources(template, "AWS::Serverless::Function")) == set(FUNCTIONS)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_uses_the_layer_the_runtime_and_a_makefile_build(
    template: dict[str, Any], name: str
) -> None:
    function = template["Resources"][name]
    props = function["Properties"]
    runtime = props.get("Runtime", template["Globals"]["Function"].get("Runtime"))

    assert runtime == RUNTIME
    assert props["Layers"] == [{"Ref": "PresignLayer"}]
    # A plain `sam build` ships no bytecode: every cold start would compile every module again.
    assert function["Metadata"]["BuildMethod"] == "makefile"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_makefile_builds_its_logical_id_with_unchecked_hash_bytecode(
    template: dict[str, Any], name: str, tmp_path: Path
) -> None:
    # Ask make what `sam build` would run (a dry run, from a scratch folder as sam does).
    makefile = ROOT / template["Resources"][name]["Properties"]["CodeUri"] / "Makefile"
    plan = subprocess.run(
        ["make", "--no-print-directory", "-n", "-f", str(makefile), f"build-{name}", f"ARTIFACTS_DIR={tmp_path}"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    assert "--invalidation-mode unchecked-hash" in plan
    assert VERSION_TUPLE in plan, f"the build must refuse to compile with anything but Python {VERSION}"


def test_layer_is_built_by_its_makefile_for_the_runtime(template: dict[str, Any]) -> None:
    layer = template["Resources"]["PresignLayer"]

    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/presign"
    assert layer["Properties"]["CompatibleRuntimes"] == [RUNTIME]


def test_layer_makefile_ships_unchecked_hash_bytecode_compiled_by_the_runtimes_python(tmp_path: Path) -> None:
    makefile = (ROOT / "layers" / "presign" / "Makefile").read_text(encoding="utf-8")
    plan = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT / "layers" / "presign"), "build-PresignLayer",
         f"ARTIFACTS_DIR={tmp_path}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    assert re.search(r"^build-PresignLayer:", makefile, re.MULTILINE)
    # Timestamp .pyc files are judged stale after unzipping and silently recompiled in memory.
    assert "--invalidation-mode unchecked-hash" in plan
    assert "compileall" in plan
    assert VERSION_TUPLE in plan, "the build must refuse to compile with anything but the runtime's Python"
    # Wheels for Lambda's platform, whatever machine builds the layer.
    for flag in ("--only-binary=:all:", "--platform", "--implementation cp", f"--python-version {VERSION}"):
        assert flag in plan
    assert f'--target "{tmp_path}/python"' in plan


def test_layer_requirements_leave_boto3_to_the_runtime() -> None:
    lines = (ROOT / "layers" / "presign" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    names = {re.split(r"[\[<>=~ ]", line.strip())[0].lower() for line in lines if line.strip()[:1].isalpha()}

    assert {"aws-lambda-powertools", "pydantic", "pyjwt"} <= names
    assert not names & {"boto3", "botocore"}


def test_one_architecture_everywhere(template: dict[str, Any]) -> None:
    # Given the architecture the wheels are downloaded for
    arch = _platform_arch()
    layer = template["Resources"]["PresignLayer"]
    # Then the functions, the layer and its build all agree with it
    assert template["Globals"]["Function"]["Architectures"] == [arch]
    assert layer["Properties"]["CompatibleArchitectures"] == [arch]
    assert layer["Metadata"]["BuildArchitecture"] == arch
    for name in FUNCTIONS:
        assert template["Resources"][name]["Properties"].get("Architectures", [arch]) == [arch]


# --- the API ------------------------------------------------------------------------------------


def test_every_http_event_is_on_our_http_api(template: dict[str, Any]) -> None:
    for name, function in _resources(template, "AWS::Serverless::Function").items():
        for event_name, event in _events(function).items():
            if name in SCHEDULED:
                assert event["Type"] == SCHEDULED[name], f"{name}.{event_name}: only its schedule invokes it"
                continue
            assert event["Type"] == "HttpApi", f"{name}.{event_name}"
            # Without ApiId SAM silently creates a second, implicit API without CORS or auth.
            assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}, f"{name}.{event_name}"


def test_routes_are_exactly_the_contract(template: dict[str, Any]) -> None:
    assert set(_routes(template)) == PUBLIC_ROUTES | PRIVATE_ROUTES


def test_the_meta_function_answers_whatever_no_route_matches(template: dict[str, Any]) -> None:
    # Without a $default route API Gateway answers {"message":"Not Found"} itself: not our error
    # shape, and no Cache-Control: no-store.
    function, props = _routes(template)[DEFAULT_ROUTE]
    assert function == "MetaFunction"
    assert "Path" not in props and "Method" not in props, props
    assert props["PayloadFormatVersion"] == "2.0"


def test_the_openapi_document_lists_exactly_the_template_routes(template: dict[str, Any]) -> None:
    # The $default route answers 405 with Allow from the document's paths: they must be the API's.
    document = json.loads((ROOT / "layers" / "presign" / "presign" / "openapi.json").read_text("utf-8"))
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert documented == set(_routes(template)) - {DEFAULT_ROUTE}


def test_the_gateway_jwt_authorizer_is_the_default_when_enabled(template: dict[str, Any]) -> None:
    auth = template["Resources"]["HttpApi"]["Properties"]["Auth"]
    branches = dict(_branches(auth))

    # Given EnableJwtAuthorizer=true: a JWT authorizer on the Authorization header is the default
    enabled = branches["UseJwtAuthorizer"]
    authorizer = enabled["Authorizers"][enabled["DefaultAuthorizer"]]
    assert authorizer["IdentitySource"] == "$request.header.Authorization"
    assert authorizer["JwtConfiguration"] == {
        "issuer": {"Ref": "JwtIssuer"},
        "audience": {"Ref": "JwtAudience"},
    }
    # Given false: no authorizer at all (the functions verify tokens themselves)
    assert "!UseJwtAuthorizer" not in branches
    assert template["Conditions"]["UseJwtAuthorizer"] == {
        "Fn::Equals": [{"Ref": "EnableJwtAuthorizer"}, "true"]
    }
    # AWS::LanguageExtensions must run first: SAM alone rejects an Fn::If in Auth.
    assert template["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]


def test_public_routes_opt_out_of_the_authorizer(template: dict[str, Any]) -> None:
    routes = _routes(template)
    for route in PUBLIC_ROUTES:
        _, props = routes[route]
        # NONE under the same condition that installs the default authorizer (SAM refuses NONE
        # on an API without one).
        assert dict(_branches(props.get("Auth"))) == {"UseJwtAuthorizer": {"Authorizer": "NONE"}}, route


def test_private_routes_keep_the_default_authorizer(template: dict[str, Any]) -> None:
    routes = _routes(template)
    for route in PRIVATE_ROUTES:
        _, props = routes[route]
        assert "Auth" not in props, f"{route} must not override the API's default authorizer"


def test_cors_allows_the_configured_origins_and_the_bearer_header(template: dict[str, Any]) -> None:
    cors = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]

    assert cors["AllowOrigins"] == {"Ref": "AllowedOrigins"}
    assert {"authorization", "content-type"} <= {h.lower() for h in cors["AllowHeaders"]}
    assert cors.get("AllowCredentials") is not True
    assert isinstance(cors["MaxAge"], int) and cors["MaxAge"] > 0


def test_cors_allows_exactly_the_methods_of_the_routes(template: dict[str, Any]) -> None:
    # Derived from the routes, so a new route's method is allowed once it exists and not before;
    # a catch-all route (ANY, $default) adds no method of its own.
    cors = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    methods = {method for method, _ in _routes(template)} - {"ANY", "OPTIONS"}

    assert sorted(cors["AllowMethods"]) == sorted(methods), cors["AllowMethods"]


@pytest.mark.parametrize(
    ("origin", "ok"),
    [
        ("https://app.example.com", True),
        ("https://app.example.com:8443", True),
        ("https://xn--bcher-kva.example", True),
        ("http://localhost:5173", True),
        ("http://127.0.0.1:8080", True),
        ("https://app.example.com/", False),
        ("https://app.example.com/path", False),
        ("https://app.example.com?x=1", False),
        ("*", False),
        ("https://*.example.com", False),
        ("app.example.com", False),
        ("http://app.example.com", False),  # plain http only for a developer's own machine
        ("https://App.Example.com", False),  # browsers send origins in lower case
        ("https://user@app.example.com", False),
        ("https://app.example.com:99999", False),
        ("javascript://app.example.com", False),
        ("", False),
    ],
)
def test_allowed_origins_are_validated_by_pattern(template: dict[str, Any], origin: str, ok: bool) -> None:
    # CloudFormation applies AllowedPattern to each element of a CommaDelimitedList.
    pattern = template["Parameters"]["AllowedOrigins"]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, origin)) is ok, (origin, pattern)


# --- IAM ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_permissions_are_exactly_the_allowed_ones(template: dict[str, Any], name: str) -> None:
    function = template["Resources"][name]
    assert "Role" not in function["Properties"], "a shared or hand-made role escapes these checks"

    granted: dict[str, dict[str | None, list[Any]]] = {}
    for condition, stmt in _conditional_statements(function):
        assert stmt["Effect"] == "Allow"
        assert "NotAction" not in stmt and "NotResource" not in stmt
        for action in _as_list(stmt["Action"]):
            assert "*" not in action and "?" not in action, f"{name}: wildcard action {action}"
            # One action may appear in two statements (two tables), never on one resource twice.
            already = granted.setdefault(action, {}).setdefault(condition, [])
            resources = _as_list(stmt["Resource"])
            assert not any(r in already for r in resources), f"{name}: {action} granted twice"
            already.extend(resources)

    assert granted == {
        action: {condition: _as_list(resource) for condition, resource in by_condition.items()}
        for action, by_condition in ALLOWED[name].items()
    }


# The S3 calls the layer makes (boto3 method, or a presigned method) and the action each needs.
S3_CALLS = {
    "head_object": "s3:GetObject",  # HEAD is authorised as GetObject
    "delete_object": "s3:DeleteObject",
    "get_object_attributes": "s3:GetObjectAttributes",
    "list_parts": "s3:ListMultipartUploadParts",
    "complete_multipart_upload": "s3:PutObject",  # no action of its own
    "abort_multipart_upload": "s3:AbortMultipartUpload",
    "list_multipart_uploads": "s3:ListBucketMultipartUploads",
    # presign.doctor's probes and the bucket rules it reads (presign.adapters.s3_doctor)
    "put_object": "s3:PutObject",
    "get_object": "s3:GetObject",
    "create_multipart_upload": "s3:PutObject",
    "get_bucket_cors": "s3:GetBucketCORS",
    "get_bucket_lifecycle_configuration": "s3:GetLifecycleConfiguration",
    "get_bucket_notification_configuration": "s3:GetBucketNotification",
}


def test_no_s3_action_is_granted_that_the_code_never_calls(template: dict[str, Any]) -> None:
    # The lifecycle function was granted s3:GetObjectAttributes, which nothing calls: a grant
    # an attacker with the function's role gets for free.
    layer = "\n".join(p.read_text() for p in (ROOT / "layers" / "presign" / "presign").rglob("*.py"))
    called = {action for method, action in S3_CALLS.items() if f".{method}(" in layer}
    for name in ("LifecycleFunction", "CleanupFunction", "StorageEventsFunction"):
        granted = {a for a in ALLOWED[name] if a.startswith("s3:")}
        in_template = {
            action
            for _, stmt in _conditional_statements(template["Resources"][name])
            for action in _as_list(stmt["Action"])
            if action.startswith("s3:")
        }
        assert in_template <= called and granted <= called, (name, in_template, granted, called)


@pytest.mark.parametrize("name", CONFIGURED)
def test_kms_decrypt_only_on_behalf_of_secrets_manager_and_ssm(template: dict[str, Any], name: str) -> None:
    # Given the one statement that may decrypt
    (stmt,) = [s for s in _statements(template["Resources"][name]) if s["Action"] == "kms:Decrypt"]

    # Then: only when Secrets Manager or SSM asks on the function's behalf, never a direct Decrypt
    assert stmt["Condition"] == {
        "StringEquals": {
            "kms:ViaService": [
                {"Fn::Sub": "secretsmanager.${AWS::Region}.${AWS::URLSuffix}"},
                {"Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"},
            ]
        }
    }


@pytest.mark.parametrize(("condition", "parameter"), OPTIONAL_GRANTS.items())
def test_an_optional_grant_exists_only_when_its_parameter_is_set(
    template: dict[str, Any], condition: str, parameter: str
) -> None:
    # Given the defaults, the grant's condition is false: nothing is granted
    params = _parameters(template)
    assert _evaluate(template["Conditions"][condition], params) is False
    assert params[parameter] == [""]  # an unset CommaDelimitedList

    # When the parameter names one or two resources, it is true
    example = PARAMETER_EXAMPLES[parameter]
    assert _evaluate(template["Conditions"][condition], {**params, parameter: [example]}) is True
    assert _evaluate(template["Conditions"][condition], {**params, parameter: [example, example]}) is True


@pytest.mark.parametrize("name", FUNCTIONS)
def test_no_resource_is_a_wildcard(template: dict[str, Any], name: str) -> None:
    for stmt in _statements(template["Resources"][name]):
        for resource in _as_list(stmt["Resource"]):
            if isinstance(resource, str):
                assert "*" not in resource, f"{name}: {resource}"
            elif "Fn::Sub" in resource:
                assert "*" not in json.dumps(resource["Fn::Sub"]), f"{name}: {resource}"
            else:
                assert set(resource) <= {"Ref", "Fn::GetAtt"}, f"{name}: {resource}"


def test_uploads_cannot_read_and_downloads_cannot_write(template: dict[str, Any]) -> None:
    uploads = _actions(template["Resources"]["UploadsFunction"])
    downloads = _actions(template["Resources"]["DownloadsFunction"])

    assert "s3:GetObject" not in uploads
    assert not {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"} & downloads


def test_meta_touches_no_storage_table_secret_or_parameter(template: dict[str, Any]) -> None:
    meta = template["Resources"]["MetaFunction"]
    actions = _actions(meta)

    assert not {a for a in actions if a.split(":")[0] in ("s3", "dynamodb", "secretsmanager", "ssm")}
    assert "PRESIGN_RATE_LIMIT_TABLE" not in meta["Properties"].get("Environment", {}).get("Variables", {})


def test_the_config_parameter_is_readable_only_when_one_is_configured(template: dict[str, Any]) -> None:
    for name in CONFIGURED:
        resources = {
            condition: stmt["Resource"]
            for condition, stmt in _conditional_statements(template["Resources"][name])
            if stmt["Action"] == "ssm:GetParameter"
        }
        assert resources["HasConfigParameter"] == SSM_CONFIG, name


PARAMETER_EXAMPLES = {
    "JwtSecretArns": "arn:aws:secretsmanager:us-east-1:123456789012:secret:presign/jwt-AbCdEf",
    "CredentialSecretArns": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:presign/r2-Zx9Yw8",
    "CredentialParameterArns": "arn:aws:ssm:us-east-1:123456789012:parameter/presign/filebase-keys",
    "SecretsKmsKeyArns": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "CdnKeySecretArns": "arn:aws:secretsmanager:us-east-1:123456789012:secret:presign/cloudfront-Qw3Er4",
    "S3ObjectArnsForDoctor": "arn:aws:s3:::acme-user-files/users/.presign-doctor/*",
}


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        (
            "S3ObjectArnsForUpload",
            ["arn:aws:s3:::my-bucket/users/*", "arn:aws:s3:::my.bucket/tenants/a/users/*"],
            [
                "*",
                "arn:aws:s3:::*",
                "arn:aws:s3:::my-bucket",
                "arn:aws:s3:::my-*/users/*",
                "arn:aws:s3:::my-bucket/*/x",
                "arn:aws:s3:::my-bucket/users/*x",
            ],
        ),
        (
            "S3BucketArnsForCleanup",
            ["arn:aws:s3:::my-bucket", "arn:aws-cn:s3:::my.bucket"],
            [
                "*",
                "arn:aws:s3:::*",
                "arn:aws:s3:::my-*",
                "arn:aws:s3:::my-bucket/users/*",
                "arn:aws:s3:::my-bucket/",
            ],
        ),
        (
            "AlarmTopicArn",
            [
                "",
                "arn:aws:sns:eu-west-1:123456789012:presign-alarms",
                "arn:aws-cn:sns:cn-north-1:123456789012:a.fifo",
            ],
            [
                "*",
                "arn:aws:sns:eu-west-1:123456789012:*",
                "presign-alarms",
                "arn:aws:sqs:eu-west-1:123456789012:q",
            ],
        ),
        (
            "S3ObjectArnsForDownload",
            ["arn:aws:s3:::my-bucket/users/*"],
            ["*", "arn:aws:s3:::*", "arn:aws:s3:::my-bucket"],
        ),
        (
            "JwtSecretArns",
            ["", "arn:aws:secretsmanager:us-east-1:123456789012:secret:presign/jwt-AbCdEf"],
            [
                "*",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:presign/*",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:presign/jwt",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:presign/jwt-??????",
            ],
        ),
        (
            "CredentialSecretArns",
            ["", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:presign/r2-Zx9Yw8"],
            [
                "*",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:*",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:presign/r2",
                "presign/r2",
            ],
        ),
        (
            "CdnKeySecretArns",
            ["", "arn:aws:secretsmanager:us-east-1:123456789012:secret:presign/cloudfront-Qw3Er4"],
            [
                "*",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:presign/cloudfront",
                "presign/cloudfront",
            ],
        ),
        (
            "CredentialParameterArns",
            [
                "",
                "arn:aws:ssm:us-east-1:123456789012:parameter/presign/filebase-keys",
                "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/presign/keys",
            ],
            [
                "*",
                "/presign/filebase-keys",
                "arn:aws:ssm:us-east-1:123456789012:parameter/*",
                "arn:aws:ssm:us-east-1:123456789012:parameter/presign/*",
                "arn:aws:ssm:us-east-1:123456789012:parameter/presign/keys?",
                "arn:aws:ssm:us-east-1:123456789012:parameter",
            ],
        ),
        (
            "SecretsKmsKeyArns",
            [
                "",
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
            ],
            [
                "*",
                "arn:aws:kms:us-east-1:123456789012:key/*",
                "arn:aws:kms:us-east-1:123456789012:alias/aws/ssm",
                "1234abcd-12ab-34cd-56ef-1234567890ab",
            ],
        ),
    ],
)
def test_resource_parameters_refuse_wildcards(
    template: dict[str, Any], parameter: str, good: list[str], bad: list[str]
) -> None:
    # CloudFormation applies AllowedPattern to each element of a CommaDelimitedList.
    pattern = template["Parameters"][parameter]["AllowedPattern"]
    for value in good:
        assert re.fullmatch(pattern, value), value
    for value in bad:
        assert not re.fullmatch(pattern, value), value


# --- configuration ------------------------------------------------------------------------------


def _evaluate(expr: Any, params: dict[str, Any]) -> Any:
    """Just enough of CloudFormation's rule and condition functions to check our Rules and Conditions."""
    if isinstance(expr, dict) and len(expr) == 1:
        ((fn, arg),) = expr.items()
        if fn == "Ref":
            return params[arg]
        if fn == "Condition":
            raise AssertionError("conditions here are written out, not nested")
        args = [_evaluate(a, params) for a in arg]
        if fn == "Fn::Join":
            return args[0].join(args[1])
        if fn == "Fn::EachMemberEquals":
            return all(member == args[1] for member in args[0])
        if fn == "Fn::Equals":
            return args[0] == args[1]
        if fn == "Fn::Not":
            return not args[0]
        if fn == "Fn::Or":
            return any(args)
        if fn == "Fn::And":
            return all(args)
        if fn == "Fn::Contains":
            return args[1] in args[0]
        raise AssertionError(f"{fn} is not allowed in Rules")
    return expr


def _parameters(template: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Parameter values as CloudFormation sees them: defaults, then overrides; lists split."""
    params = {name: p.get("Default", "") for name, p in template["Parameters"].items()}
    params.update(overrides)
    for name, p in template["Parameters"].items():
        if p["Type"] == "CommaDelimitedList" and isinstance(params[name], str):
            params[name] = params[name].split(",")
    return params


def _rules_pass(template: dict[str, Any], **overrides: Any) -> bool:
    params = _parameters(template, **overrides)
    for rule in template["Rules"].values():
        if "RuleCondition" in rule and not _evaluate(rule["RuleCondition"], params):
            continue
        if not all(_evaluate(a["Assert"], params) for a in rule["Assertions"]):
            return False
    return True


@pytest.mark.parametrize(
    ("inline", "parameter", "ok"),
    [
        ("", "", False),
        ('{"targets": {}}', "", True),
        ("", "/presign/config", True),
        ('{"targets": {}}', "/presign/config", False),
    ],
)
def test_exactly_one_configuration_source(
    template: dict[str, Any], inline: str, parameter: str, ok: bool
) -> None:
    assert _rules_pass(template, PresignConfig=inline, PresignConfigParameter=parameter) is ok


def test_the_gateway_authorizer_needs_issuer_and_audience(template: dict[str, Any]) -> None:
    source = {"PresignConfigParameter": "/presign/config"}
    assert _rules_pass(template, EnableJwtAuthorizer="false", **source)
    assert not _rules_pass(template, EnableJwtAuthorizer="true", **source)
    assert not _rules_pass(template, EnableJwtAuthorizer="true", JwtIssuer="https://a/", **source)
    assert _rules_pass(
        template, EnableJwtAuthorizer="true", JwtIssuer="https://a/", JwtAudience="api", **source
    )


def test_hs256_secrets_are_refused_behind_the_gateway_authorizer(template: dict[str, Any]) -> None:
    # API Gateway's JWT authorizer verifies RSA-signed tokens only: an HS256 token never gets through,
    # so a JWT secret with the authorizer on is a mistake, not a grant to hand out.
    source = {"PresignConfigParameter": "/presign/config", "JwtIssuer": "https://a/", "JwtAudience": "api"}
    secret = PARAMETER_EXAMPLES["JwtSecretArns"]
    assert _rules_pass(template, EnableJwtAuthorizer="false", JwtSecretArns=secret, **source)
    assert _rules_pass(template, EnableJwtAuthorizer="true", **source)
    assert not _rules_pass(template, EnableJwtAuthorizer="true", JwtSecretArns=secret, **source)


def _samconfig_overrides() -> dict[str, dict[str, str]]:
    document = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    found = {}
    for env, commands in document.items():
        if isinstance(commands, dict) and "deploy" in commands:
            overrides = commands["deploy"]["parameters"]["parameter_overrides"]
            found[env] = dict(item.split("=", 1) for item in overrides)
    return found


@pytest.mark.parametrize("env", sorted(_samconfig_overrides()))
def test_samconfig_environments_pass_the_templates_own_checks(template: dict[str, Any], env: str) -> None:
    # Given the overrides a `sam deploy --config-env` would send
    overrides = _samconfig_overrides()[env]
    parameters = template["Parameters"]

    # Then: each names a parameter, each value fits its pattern, and the rules pass
    assert set(overrides) <= set(parameters), set(overrides) - set(parameters)
    for name, value in overrides.items():
        pattern = parameters[name].get("AllowedPattern")
        values = value.split(",") if parameters[name]["Type"] == "CommaDelimitedList" else [value]
        for item in values:
            assert pattern is None or re.fullmatch(pattern, item), (name, item)
    missing = {name for name, p in parameters.items() if "Default" not in p} - set(overrides)
    assert not missing, f"{env} leaves required parameters unset: {missing}"
    assert _rules_pass(template, **overrides)


@pytest.mark.parametrize("name", CONFIGURED)
def test_configured_functions_get_one_configuration_source_and_the_table(
    template: dict[str, Any], name: str
) -> None:
    env = template["Resources"][name]["Properties"]["Environment"]["Variables"]

    assert dict(_branches(env["PRESIGN_CONFIG"])) == {"!HasConfigParameter": {"Ref": "PresignConfig"}}
    assert dict(_branches(env["PRESIGN_CONFIG_PARAMETER"])) == {
        "HasConfigParameter": {"Ref": "PresignConfigParameter"}
    }
    assert env["PRESIGN_RATE_LIMIT_TABLE"] == {"Ref": "RateLimitTable"}


# --- the rate-limit table -----------------------------------------------------------------------


def test_rate_limit_table_is_on_demand_with_ttl_and_sse(template: dict[str, Any]) -> None:
    table = template["Resources"]["RateLimitTable"]
    props = table["Properties"]

    assert table["Type"] == "AWS::DynamoDB::Table"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True


# --- the uploads table --------------------------------------------------------------------------


def test_uploads_table_is_on_demand_with_ttl_pitr_and_a_sparse_pending_index(
    template: dict[str, Any],
) -> None:
    table = template["Resources"]["UploadsTable"]
    props = table["Properties"]

    assert props["BillingMode"] == "PAY_PER_REQUEST" and "ProvisionedThroughput" not in props
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    # The only record of who uploaded what: a stack deletion must not take it along.
    assert table["DeletionPolicy"] == "Retain"
    pending, removable, recheck = props["GlobalSecondaryIndexes"]
    assert pending["IndexName"] == "pending"
    assert [k["AttributeName"] for k in pending["KeySchema"]] == ["pending_pk", "pending_sk"]
    # the cleanup job's: records past their retention, by day (what a removal needs, no more)
    assert removable["IndexName"] == "removable"
    assert [k["AttributeName"] for k in removable["KeySchema"]] == ["removable_pk", "removable_sk"]
    assert removable["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["target", "object_key", "status"],
    }
    assert "ProvisionedThroughput" not in pending and "ProvisionedThroughput" not in removable
    # the cleanup's too: completions whose URL could still overwrite the object, by when it dies
    assert recheck["IndexName"] == "recheck"
    assert [k["AttributeName"] for k in recheck["KeySchema"]] == ["recheck_pk", "recheck_sk"]
    assert recheck["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["target"]}


def test_the_uploads_function_reaches_only_record_and_claim_items(template: dict[str, Any]) -> None:
    # Given what the uploads function may do on the uploads table, by action: the partitions
    # (dynamodb:LeadingKeys) each statement allows
    from presign.adapters.dynamodb_upload_items import claim_pk, owner_pk

    reach: dict[str, set[str]] = {}
    for stmt in _statements(template["Resources"]["UploadsFunction"]):
        if UPLOADS_TABLE_ARN not in _as_list(stmt["Resource"]):
            continue
        # Only the one condition: another operator or key could widen or void it
        assert stmt.get("Condition", {}).keys() == {"ForAllValues:StringLike"}, stmt
        assert stmt["Condition"]["ForAllValues:StringLike"].keys() == {"dynamodb:LeadingKeys"}, stmt
        patterns = _as_list(stmt["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"])
        for action in _as_list(stmt["Action"]):
            assert action not in reach, f"{action} on the uploads table in two statements"
            reach[action] = set(patterns)

    # Then records and claims may be put and read; only claims updated (statuses are the
    # lifecycle function's to move)
    assert reach == {
        "dynamodb:PutItem": {"u#*", "i#*"},
        "dynamodb:GetItem": {"u#*", "i#*"},
        "dynamodb:UpdateItem": {"i#*"},
    }
    # And the patterns are the adapter's partitions: a record's matches "u#*" only, a claim's "i#*"
    record, claim = owner_pk("0" * 32), claim_pk("0" * 32, "f" * 64)
    assert [p for p in ("u#*", "i#*") if fnmatch.fnmatchcase(record, p)] == ["u#*"], record
    assert [p for p in ("u#*", "i#*") if fnmatch.fnmatchcase(claim, p)] == ["i#*"], claim


def test_functions_that_record_uploads_know_the_table(template: dict[str, Any]) -> None:
    for name in ("UploadsFunction", "LifecycleFunction"):
        env = template["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert env["PRESIGN_UPLOADS_TABLE"] == {"Ref": "UploadsTable"}, name
    downloads = template["Resources"]["DownloadsFunction"]["Properties"]["Environment"]["Variables"]
    assert "PRESIGN_UPLOADS_TABLE" not in downloads


# --- the shares table ---------------------------------------------------------------------------


def test_shares_table_is_on_demand_with_ttl_pitr_and_an_owner_index_without_password_hashes(
    template: dict[str, Any],
) -> None:
    table = template["Resources"]["SharesTable"]
    props = table["Properties"]

    assert props["BillingMode"] == "PAY_PER_REQUEST" and "ProvisionedThroughput" not in props
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    index, stale = props["GlobalSecondaryIndexes"]
    # the cleanup job's: every share by the day it stops working (keys and the target only)
    assert stale["IndexName"] == "stale"
    assert [k["AttributeName"] for k in stale["KeySchema"]] == ["stale_pk", "stale_sk"]
    assert stale["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["target"]}
    assert index["IndexName"] == "by_owner"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["owner_pk", "owner_sk"]
    # What a listing shows, and never the password hash.
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert "password_hash" not in index["Projection"]["NonKeyAttributes"]
    from presign.adapters.dynamodb_shares import LISTED

    assert set(index["Projection"]["NonKeyAttributes"]) == set(LISTED)


def test_the_share_functions_know_their_tables(template: dict[str, Any]) -> None:
    for name in ("SharesFunction", "LinksFunction"):
        env = template["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert env["PRESIGN_SHARES_TABLE"] == {"Ref": "SharesTable"}, name
    links = template["Resources"]["LinksFunction"]["Properties"]["Environment"]["Variables"]
    assert "PRESIGN_UPLOADS_TABLE" not in links


def test_the_public_links_cannot_write_objects_list_shares_or_read_token_secrets(
    template: dict[str, Any],
) -> None:
    actions = _actions(template["Resources"]["LinksFunction"])

    assert not {"s3:PutObject", "s3:DeleteObject", "dynamodb:PutItem", "dynamodb:Query"} & actions
    assert not {"dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:BatchWriteItem"} & actions
    resources = [
        stmt["Resource"]
        for stmt in _statements(template["Resources"]["LinksFunction"])
        if stmt["Action"] == "secretsmanager:GetSecretValue"
    ]
    assert {"Ref": "JwtSecretArns"} not in resources


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]

    assert "${HttpApi}" in outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert outputs["RateLimitTableName"]["Value"] == {"Ref": "RateLimitTable"}
    assert outputs["UploadsTableName"]["Value"] == {"Ref": "UploadsTable"}
    assert outputs["SharesTableName"]["Value"] == {"Ref": "SharesTable"}
    assert outputs["PresignLayerArn"]["Value"] == {"Ref": "PresignLayer"}


# --- sample events ------------------------------------------------------------------------------


EVENTS = ROOT / "events"


def _event_files() -> list[Path]:
    """The API Gateway events (the cleanup's and the storage events' are EventBridge or manual)."""
    return sorted(p for p in EVENTS.glob("*.json") if not p.name.startswith(("cleanup-", "storage-")))


def _route_of(event: dict[str, Any]) -> tuple[str, str]:
    method, _, path = event["routeKey"].partition(" ")
    return (method, path) if path else DEFAULT_ROUTE


def test_every_route_has_a_sample_event(template: dict[str, Any]) -> None:
    covered = {_route_of(json.loads(p.read_text())) for p in _event_files()}
    assert set(_routes(template)) <= covered


@pytest.mark.parametrize("path", _event_files(), ids=lambda p: p.name)
def test_sample_events_are_http_api_v2_payloads(template: dict[str, Any], path: Path) -> None:
    event = json.loads(path.read_text(encoding="utf-8"))
    method, route = _route_of(event)
    ctx = event["requestContext"]

    assert event["version"] == "2.0"
    assert (method, route) in _routes(template)
    if (method, route) == DEFAULT_ROUTE:
        assert event["rawPath"] == ctx["http"]["path"] and (
            ctx["http"]["method"],
            event["rawPath"],
        ) not in _routes(template)
    else:
        # A route's {parameters} are filled in from pathParameters, as API Gateway does.
        assert event["rawPath"] == ctx["http"]["path"] == route.format(**event.get("pathParameters", {}))
        assert ctx["http"]["method"] == method
    assert ctx["routeKey"] == event["routeKey"]
    assert ctx["requestId"] and ctx["stage"] == "$default" and isinstance(ctx["timeEpoch"], int)
    assert all(name == name.lower() for name in event["headers"])  # HTTP APIs lowercase them
    if "body" in event:
        assert isinstance(event["body"], str) and isinstance(json.loads(event["body"]), dict)
        assert event["headers"]["content-type"] == "application/json"
    if (method, route) in PRIVATE_ROUTES:
        assert event["headers"]["authorization"].startswith("Bearer ")


def test_gateway_authorizer_event_carries_string_claims_and_scopes() -> None:
    event = json.loads((EVENTS / "uploads_post_gateway_authorizer.json").read_text(encoding="utf-8"))
    jwt = event["requestContext"]["authorizer"]["jwt"]

    assert {"sub", "iss", "aud", "exp", "scope"} <= set(jwt["claims"])
    # API Gateway passes every claim as a string, numbers included.
    assert all(isinstance(v, str) for v in jwt["claims"].values())
    assert jwt["scopes"] == jwt["claims"]["scope"].split()


def test_only_the_functions_that_sign_gets_may_read_the_cloudfront_keys(template: dict[str, Any]) -> None:
    # The uploads, lifecycle and shares functions never sign a CDN URL, so a leak of their role
    # must not hand out the key that lets anyone mint download links.
    readers = {
        name
        for name in FUNCTIONS
        for _, stmt in _conditional_statements(template["Resources"][name])
        if {"Ref": "CdnKeySecretArns"} in _as_list(stmt["Resource"])
    }
    assert readers == {"DownloadsFunction", "LinksFunction"}, readers


# --- the cleanup function -----------------------------------------------------------------------


def test_cleanup_runs_on_a_schedule_the_parameter_sets(template: dict[str, Any]) -> None:
    function = template["Resources"]["CleanupFunction"]
    (event,) = _events(function).values()

    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Ref": "CleanupSchedule"}
    parameter = template["Parameters"]["CleanupSchedule"]
    assert parameter["Default"] == "rate(1 hour)"
    for good in ("rate(1 hour)", "rate(15 minutes)", "cron(0 3 * * ? *)"):
        assert re.fullmatch(parameter["AllowedPattern"], good), good
    for bad in ("", "hourly", "rate(0 hours)", "rate(1 fortnight)"):
        assert not re.fullmatch(parameter["AllowedPattern"], bad), bad
    # Its own build and log group; a timeout it has time to stop cleanly before (time_margin).
    assert function["Metadata"]["BuildMethod"] == "makefile"
    assert function["Properties"]["Timeout"] > 60
    env = function["Properties"]["Environment"]["Variables"]
    assert env["PRESIGN_UPLOADS_TABLE"] == {"Ref": "UploadsTable"}
    assert env["PRESIGN_SHARES_TABLE"] == {"Ref": "SharesTable"}
    assert "PRESIGN_RATE_LIMIT_TABLE" not in env  # it serves no caller


def test_cleanup_writes_objects_only_under_the_upload_prefixes_and_creates_no_items(
    template: dict[str, Any],
) -> None:
    actions = _actions(template["Resources"]["CleanupFunction"])

    assert not {"s3:ListBucket", "dynamodb:PutItem", "dynamodb:Scan"} & actions
    # s3:PutObject is what CompleteMultipartUpload needs (a stale upload the cleanup completes):
    # under the upload prefixes, and the doctor's probes where it is let in
    for condition, stmt in _conditional_statements(template["Resources"]["CleanupFunction"]):
        if "s3:PutObject" in _as_list(stmt["Action"]):
            assert (condition, stmt["Resource"]) in (
                ("HasDoctorProbeArns", {"Ref": "S3ObjectArnsForDoctor"}),
                (None, {"Ref": "S3ObjectArnsForUpload"}),
            )
    assert "secretsmanager:GetSecretValue" in actions  # a target's stored keys, not a JWT secret
    for _, stmt in _conditional_statements(template["Resources"]["CleanupFunction"]):
        assert stmt["Resource"] != {"Ref": "JwtSecretArns"}


def test_cleanup_alarms_watch_failed_runs_and_orphans_that_keep_coming(template: dict[str, Any]) -> None:
    from presign.cleanup.report import METRICS

    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    failed = alarms["CleanupFailedAlarm"]["Properties"]
    assert (failed["Namespace"], failed["MetricName"]) == ("AWS/Lambda", "Errors")
    assert failed["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "CleanupFunction"}}]
    assert failed["Threshold"] == 0 and failed["ComparisonOperator"] == "GreaterThanThreshold"

    orphans = alarms["CleanupOrphansGrowingAlarm"]["Properties"]
    assert orphans["MetricName"] == METRICS["orphans_aborted"]
    assert (
        orphans["Namespace"]
        == template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    )
    assert orphans["EvaluationPeriods"] == orphans["DatapointsToAlarm"] > 1


def test_cleanup_alarms_notify_the_topic_only_when_one_is_given(template: dict[str, Any]) -> None:
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    when_set = ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    for name in ("CleanupFailedAlarm", "CleanupOrphansGrowingAlarm"):
        props = alarms[name]["Properties"]
        assert props["AlarmActions"] == {"Fn::If": when_set}, (name, props.get("AlarmActions"))
        assert props["OKActions"] == {"Fn::If": when_set}, (name, props.get("OKActions"))
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert template["Conditions"]["HasAlarmTopic"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]
    }


@pytest.mark.parametrize("path", sorted(EVENTS.glob("cleanup-*.json")), ids=lambda p: p.name)
def test_cleanup_sample_events_are_what_the_handler_accepts(path: Path) -> None:
    from presign.cleanup.schemas import cleanup_request

    event = json.loads(path.read_text(encoding="utf-8"))
    request = cleanup_request(event, {"main": object()})
    assert request.dry_run is (path.name == "cleanup-dry-run.json")


def test_storage_sample_events_are_what_the_storage_events_function_reads() -> None:
    from presign.storage_events.notifications import parse_notification

    key = "users/alice/2026/12/08/01m99k9tfqsmt6e1008zme3g28/my photo (1) é 日本.png"
    for name in ("storage-object-created.json", "storage-object-created-dev.json"):
        created = parse_notification(json.loads((EVENTS / name).read_text(encoding="utf-8")))
        assert len(created) == 1 and created[0].key_matches(key), (name, created)
    assert parse_notification(json.loads((EVENTS / "storage-object-deleted.json").read_text())) == []
    assert json.loads((EVENTS / "storage-sweep.json").read_text()) == {"sweep": True}
