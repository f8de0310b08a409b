"""The local stack itself: real SeaweedFS and moto servers, the API Gateway emulator, make dev."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from local.cfn import ROOT
from local.client import field
from local.gateway import events as emulator_module
from local.gateway.events import MAX_BODY_BYTES
from local.gateway.server import Emulator
from local.gateway.template import EmulatorError, TemplateResolver, Unresolved
from local.servers import ManagedProcess, MotoServer, SeaweedFS, ServerError, aws_env
from local.token import main as token_main
from local.token import mint_token
from tests.e2e.conftest import (
    ACCESS_KEY,
    BUCKET,
    FIXTURE_TEMPLATE,
    FIXTURES,
    SECRET_KEY,
    Stack,
    assert_stopped,
    process_gone,
)
from tests.e2e.devstack import LineReader, run_dev

realserver = pytest.mark.realserver


def s3_client(server: SeaweedFS, *, secret: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}),
    )


def listening(pid: int) -> set[tuple[str, int]]:
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        if f"pid={pid}," in line:
            host, _, port = line.split()[3].rpartition(":")
            found.add((host, int(port)))
    return found


# --------------------------------------------------------------------------------------- SeaweedFS


@realserver
def test_seaweedfs_accepts_a_correctly_signed_request(seaweed: SeaweedFS) -> None:
    s3 = s3_client(seaweed, secret=SECRET_KEY)
    s3.put_object(Bucket=BUCKET, Key="signed/ok.txt", Body=b"signed bytes", ContentType="text/plain")
    assert s3.get_object(Bucket=BUCKET, Key="signed/ok.txt")["Body"].read() == b"signed bytes"
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "signed/ok.txt"}, ExpiresIn=60
    )
    assert requests.get(url, timeout=10).content == b"signed bytes"


@realserver
def test_seaweedfs_rejects_a_wrong_secret(seaweed: SeaweedFS) -> None:
    s3_client(seaweed, secret=SECRET_KEY).put_object(Bucket=BUCKET, Key="signed/target.txt", Body=b"x")
    forged = s3_client(seaweed, secret=SECRET_KEY[::-1])
    with pytest.raises(ClientError) as info:
        forged.get_object(Bucket=BUCKET, Key="signed/target.txt")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    # A presigned URL made with the wrong secret, and a good one with its signature altered.
    bad_url = forged.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": "signed/forged.txt"}, ExpiresIn=60
    )
    assert requests.put(bad_url, data=b"forged", timeout=10).status_code == 403
    good_url = s3_client(seaweed, secret=SECRET_KEY).generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "signed/target.txt"}, ExpiresIn=60
    )
    tampered = re.sub(
        r"X-Amz-Signature=([0-9a-f])", lambda m: "X-Amz-Signature=" + "0f"[m[1] == "0"], good_url
    )
    assert tampered != good_url
    assert requests.get(tampered, timeout=10).status_code == 403


@realserver
def test_seaweedfs_rejects_an_unsigned_request(seaweed: SeaweedFS) -> None:
    s3_client(seaweed, secret=SECRET_KEY).put_object(Bucket=BUCKET, Key="signed/private.txt", Body=b"secret")
    base = f"{seaweed.endpoint_url}/{BUCKET}"
    assert requests.get(f"{base}/signed/private.txt", timeout=10).status_code == 403
    assert requests.put(f"{base}/signed/anonymous.txt", data=b"x", timeout=10).status_code == 403
    assert requests.get(f"{base}?list-type=2", timeout=10).status_code == 403


@realserver
def test_seaweedfs_listens_only_on_loopback_and_on_its_chosen_ports(seaweed: SeaweedFS) -> None:
    assert seaweed.pid is not None
    sockets = listening(seaweed.pid)
    assert {host for host, _ in sockets} == {"127.0.0.1"}
    assert {port for _, port in sockets} == set(seaweed.ports.values())
    defaults = {8333, 8888, 9333, 9340, 18333, 18888, 19333, 19340, 23646, 33646, 6060, 7333, 8181, 9101}
    assert not {port for _, port in sockets} & defaults - set(seaweed.ports.values())


@realserver
def test_seaweedfs_identities_file(seaweed: SeaweedFS) -> None:
    identities = json.loads(seaweed.identities_path.read_text())["identities"]
    assert identities == [
        {
            "name": "presign",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
    ]
    assert seaweed.identities_path.stat().st_mode & 0o777 == 0o600


def test_seaweedfs_refuses_bucket_names_weed_would_silently_skip(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid S3 bucket names"):
        SeaweedFS(tmp_path, access_key="a", secret_key="b", buckets=["ab"])


def test_a_given_port_that_is_taken_fails_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = MotoServer(port=taken.getsockname()[1], log_dir=tmp_path)
        with pytest.raises(ServerError, match="already in use"):
            server.start()
    assert not server.running


def test_a_chosen_port_taken_meanwhile_is_chosen_again(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = MotoServer(log_dir=tmp_path)
        server.port = taken.getsockname()[1]  # as if someone grabbed it between choosing and binding
        with server:
            pid = server.pid
            assert server.port != taken.getsockname()[1]
            assert requests.get(f"{server.endpoint_url}/moto-api/data.json", timeout=10).ok
    assert_stopped(server, pid)


class _Failing(ManagedProcess):
    name = "failing server"

    def _command(self) -> list[str]:
        return [sys.executable, "-c", "print('config file not found: /nope'); raise SystemExit(3)"]

    def _wait_ready(self, deadline: float) -> None:
        for _ in range(200):
            self._check_alive()
            time.sleep(0.05)
        raise AssertionError("the child should have exited")


def test_a_server_that_exits_at_start_is_reported_with_its_log(tmp_path: Path) -> None:
    server = _Failing(log_path=tmp_path / "failing.log")
    with pytest.raises(ServerError) as info:
        server.start()
    message = str(info.value)
    assert "failing server exited during startup (exit code 3)" in message
    assert "config file not found: /nope" in message
    assert not server.running


# -------------------------------------------------------------------------------------------- moto


def test_moto_server_serves_dynamodb_to_two_threads_atomically(moto_server: MotoServer) -> None:
    def client() -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=moto_server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    client().create_table(
        TableName="e2e-race",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    rounds = 40
    barrier = threading.Barrier(2)

    def work(_: int) -> int:
        ddb = client()
        won = 0
        for r in range(rounds):
            barrier.wait()  # both threads hit the same new item at once: the racy case
            ddb.update_item(
                TableName="e2e-race",
                Key={"pk": {"S": f"counter#{r}"}},
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            try:
                ddb.put_item(
                    TableName="e2e-race",
                    Item={"pk": {"S": f"claim#{r}"}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                won += 1
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
        return won

    with ThreadPoolExecutor(2) as pool:
        wins = list(pool.map(work, [1, 2]))
    assert sum(wins) == rounds  # exactly one conditional write won each race
    ddb = client()
    counts = {
        ddb.get_item(TableName="e2e-race", Key={"pk": {"S": f"counter#{r}"}})["Item"]["n"]["N"]
        for r in range(rounds)
    }
    assert counts == {"2"}  # no lost update


def test_moto_server_answers_its_own_host_and_no_page(moto_server: MotoServer) -> None:
    # Given the moto server make dev runs, and what boto3 sends it (its Host, no Origin)
    url, port = f"{moto_server.endpoint_url}/moto-api/data.json", moto_server.port
    # When a request names another Host (DNS rebinding), carries an Origin (a page), or is a preflight
    answers = {
        "ours": requests.get(url, timeout=10),
        "localhost": requests.get(url, headers={"Host": f"localhost:{port}"}, timeout=10),
        "rebound": requests.get(url, headers={"Host": "evil.example"}, timeout=10),
        "rebound, our port": requests.get(url, headers={"Host": f"evil.example:{port}"}, timeout=10),
        "a page": requests.get(url, headers={"Origin": "http://evil.example"}, timeout=10),
        "a preflight": requests.options(
            url,
            headers={"Origin": "http://127.0.0.1:8081", "Access-Control-Request-Method": "POST"},
            timeout=10,
        ),
    }
    # Then only its own names without an Origin are served, and no answer carries a CORS header
    got = {name: r.status_code for name, r in answers.items()}
    assert got == {
        "ours": 200,
        "localhost": 200,
        "rebound": 403,
        "rebound, our port": 403,
        "a page": 403,
        "a preflight": 403,
    }, got
    cors = {
        name: [h for h in r.headers if h.lower().startswith("access-control-")] for name, r in answers.items()
    }
    assert all(not headers for headers in cors.values()), cors
    # And an SDK still works (boto3 sends the Host of its endpoint_url and no Origin)
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=moto_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert "TableNames" in ddb.list_tables()


def test_aws_env_sends_dynamodb_secrets_and_ssm_to_moto_but_not_s3(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = aws_env(moto_server.endpoint_url)
    assert "AWS_ENDPOINT_URL" not in env
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    session = boto3.session.Session()
    session.client("secretsmanager").create_secret(Name="e2e/jwt", SecretString="s" * 40)
    assert session.client("secretsmanager").get_secret_value(SecretId="e2e/jwt")["SecretString"] == "s" * 40
    session.client("ssm").put_parameter(Name="/e2e/config", Value="{}", Type="String")
    assert session.client("ssm").get_parameter(Name="/e2e/config")["Parameter"]["Value"] == "{}"
    assert session.client("dynamodb").meta.endpoint_url == moto_server.endpoint_url
    assert session.client("s3").meta.endpoint_url != moto_server.endpoint_url


# ---------------------------------------------------------------------------------------- emulator


def test_routes_come_from_the_template(emulator: Emulator) -> None:
    keys = [r.route_key for r in emulator.routes]
    assert set(keys) >= {
        "GET /echo",
        "POST /uploads/{upload_id}",
        "GET /uploads/{upload_id}/parts/{part}",
        "ANY /files/{proxy+}",
        "GET /files/exact",
        "POST /uploads",
        "POST /downloads",
    }
    assert keys[-1] == "ANY /files/{proxy+}"  # greedy routes match last


def test_a_request_reaches_its_handler_as_a_v2_event(emulator: Emulator) -> None:
    resp = requests.post(
        f"{emulator.base_url}/uploads/up%20load-1?x=1&x=2&empty=",
        data=json.dumps({"a": 1}),
        headers={"Content-Type": "application/json", "Cookie": "a=1; b=2", "User-Agent": "e2e-agent/1"},
        timeout=10,
    )
    assert resp.status_code == 200
    payload = resp.json()
    event = payload["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /uploads/{upload_id}"
    assert event["rawPath"] == "/uploads/up%20load-1"
    assert event["rawQueryString"] == "x=1&x=2&empty="
    assert event["queryStringParameters"] == {"x": "1,2", "empty": ""}
    assert event["pathParameters"] == {"upload_id": "up load-1"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["content-type"] == "application/json"
    assert all(k == k.lower() for k in event["headers"])
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "POST",
        "path": "/uploads/up%20load-1",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "e2e-agent/1",
    }
    assert ctx["routeKey"] == "POST /uploads/{upload_id}"
    assert ctx["stage"] == "$default"
    assert ctx["accountId"].isdigit()
    assert ctx["apiId"]
    assert ctx["domainName"].startswith("127.0.0.1:")
    assert re.fullmatch(r"[0-9a-f-]{36}", ctx["requestId"])
    assert abs(ctx["timeEpoch"] / 1000 - time.time()) < 60
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", ctx["time"])
    assert "authorizer" not in ctx
    assert resp.headers["apigw-requestid"] == ctx["requestId"]
    context = payload["context"]
    assert context["function_name"] == "EchoFunction"
    assert context["memory_limit_in_mb"] == 512  # the function's own, over Globals' 256
    assert context["invoked_function_arn"].endswith(":function:EchoFunction")
    assert re.fullmatch(r"[0-9a-f-]{36}", context["aws_request_id"])
    assert 0 < context["remaining_ms"] <= 5000  # Globals Timeout: 5
    assert payload["layer"] == "fixture-layer"  # the layer's ContentUri is importable
    assert payload["sibling"] == "echo"  # each function sees its own helper.py


def test_duplicate_headers_are_comma_joined_and_response_headers_pass_through(emulator: Emulator) -> None:
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=10) as sock:
        sock.sendall(
            b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Dup: one\r\nX-Dup: two\r\nConnection: close\r\n\r\n"
            % emulator.port
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["event"]["headers"]["x-dup"] == "one,two"
    lines = head.decode().lower().split("\r\n")
    assert "x-function: echo" in lines
    assert {"x-multi: a", "x-multi: b"} <= set(lines)
    assert {"set-cookie: session=abc; path=/", "set-cookie: theme=dark"} <= set(lines)


def test_several_path_parameters_and_greedy_paths(emulator: Emulator) -> None:
    event = requests.get(f"{emulator.base_url}/uploads/u1/parts/7", timeout=10).json()["event"]
    assert event["pathParameters"] == {"upload_id": "u1", "part": "7"}
    assert event["routeKey"] == "GET /uploads/{upload_id}/parts/{part}"
    event = requests.delete(f"{emulator.base_url}/files/a/b/c.txt", timeout=10).json()["event"]
    assert event["routeKey"] == "ANY /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert requests.get(f"{emulator.base_url}/files/exact", timeout=10).text == "exact"  # exact beats greedy


def test_unknown_routes_are_404_like_api_gateway(emulator: Emulator) -> None:
    # Without a $default route, every method (TRACE and extension methods too) gets API
    # Gateway's own 404, not http.server's 501 page.
    for method, path in [
        ("GET", "/nope"), ("DELETE", "/echo"), ("GET", "/uploads"), ("GET", "/"), ("TRACE", "/echo"),
        ("PROPFIND", "/nope"), ("CONNECT", "/echo"),
    ]:  # fmt: skip
        resp = requests.request(method, f"{emulator.base_url}{path}", timeout=10)
        assert resp.status_code == 404, (method, path, resp.status_code, resp.text)
        assert resp.json() == {"message": "Not Found"}, (method, path)


def test_the_emulator_answers_its_own_host_only(emulator: Emulator) -> None:
    # Given a route that answers, When it is asked under the emulator's names and under others
    port = emulator.port

    def status(host: str) -> int:
        return requests.get(f"{emulator.base_url}/plain", headers={"Host": host}, timeout=10).status_code

    got = {host: status(host) for host in (
        f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}",
        "evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1",
    )}  # fmt: skip
    # Then a name of the page's own that resolves to 127.0.0.1 (DNS rebinding) gets nothing
    assert got == {
        f"127.0.0.1:{port}": 200,
        f"localhost:{port}": 200,
        f"LOCALHOST:{port}": 200,
        "evil.example": 403,
        f"evil.example:{port}": 403,
        f"127.0.0.1:{port + 1}": 403,
        "127.0.0.1": 403,
    }, got
    refused = requests.get(
        f"{emulator.base_url}/plain",
        headers={"Host": "evil.example", "Origin": "http://evil.example"},
        timeout=10,
    )
    assert refused.json() == {"message": "Forbidden: not a Host this server answers"}, refused.text
    assert not [h for h in refused.headers if h.lower().startswith("access-control-")], refused.headers


def test_the_access_log_never_shows_a_share_links_id(capfd: pytest.CaptureFixture[str]) -> None:
    # Given the emulator with its access log on (make dev's), and a link's id, a secret
    secret = "Zq8sVf3kLp0-share-id-" + os.urandom(6).hex()
    with Emulator(FIXTURE_TEMPLATE, quiet=False) as api:
        capfd.readouterr()
        # When the link is opened (GET and POST, with a query), and a malformed request names it
        for method in ("GET", "POST"):
            requests.request(method, f"{api.base_url}/s/{secret}?password=x", timeout=10)
        with socket.create_connection(("127.0.0.1", api.port), timeout=10) as raw:
            raw.sendall(f"GET /s/{secret} HTTP/1.1 extra\r\nHost: 127.0.0.1:{api.port}\r\n\r\n".encode())
            raw.recv(4096)
        # (http.server writes a request's line before its answer: all are logged by now)
        logged = capfd.readouterr().err
    # Then the log shows the route, never the id or what followed it
    lines = [line for line in logged.splitlines() if "/s/" in line]
    assert len(lines) >= 3, logged
    assert secret not in logged and "password" not in logged, logged
    assert all("/s/***" in line for line in lines), lines


def test_a_default_route_takes_every_request_no_other_route_matches(tmp_path: Path) -> None:
    # Given an HttpApi event without Path and Method (SAM's $default route) beside a GET route
    template = tmp_path / "template.yaml"
    template.write_text(
        f"""
Transform: AWS::Serverless-2016-10-31
Resources:
  Api: {{Type: AWS::Serverless::HttpApi}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {FIXTURES / "functions" / "echo"}
      Handler: app.handler
      Layers: [!Ref Layer]
      Events:
        Echo: {{Type: HttpApi, Properties: {{ApiId: !Ref Api, Method: GET, Path: /echo}}}}
        Default: {{Type: HttpApi, Properties: {{ApiId: !Ref Api}}}}
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties: {{ContentUri: {FIXTURES / "layer"}}}
"""
    )
    with Emulator(template, quiet=True) as api:
        # Then it is matched last, and any method reaches it as the request was made
        assert [r.route_key for r in api.routes] == ["GET /echo", "$default"]
        for method, path in [
            ("GET", "/nope/deeper"),
            ("TRACE", "/echo"),
            ("PROPFIND", "/"),
            ("POST", "/echo"),
        ]:
            resp = requests.request(method, f"{api.base_url}{path}", timeout=10)
            assert resp.status_code == 200, (method, path, resp.status_code, resp.text)
            event = resp.json()["event"]
            assert event["routeKey"] == event["requestContext"]["routeKey"] == "$default"
            assert (event["requestContext"]["http"]["method"], event["rawPath"]) == (method, path)
            assert "pathParameters" not in event
        assert requests.get(f"{api.base_url}/echo", timeout=10).json()["event"]["routeKey"] == "GET /echo"


@realserver
@pytest.mark.parametrize(
    ("kw", "status", "code"),
    [
        # curl --data-urlencode 'keys=users/alice/a' and curl -F keys=users/alice/a
        ({"data": {"keys": "users/alice/a"}}, 415, "unsupported_media_type"),
        ({"files": {"keys": (None, "users/alice/a")}}, 415, "unsupported_media_type"),
        ({"data": b"--x\r\n", "headers": {"Content-Type": "multipart/form-data"}}, 415, "unsupported_media_type"),
        ({"data": b"\xff", "headers": {"Content-Type": "application/json"}}, 400, "invalid_request"),
        ({"data": '{"keys": "users/alice/\\ud800"}', "headers": {"Content-Type": "application/json"}}, 400, "invalid_request"),
        ({"data": "[" * 100_000 + "]" * 100_000, "headers": {"Content-Type": "application/json"}}, 400, "invalid_request"),
        ({"json": {"keys": "users/alice/a"}}, 200, None),
    ],
    ids=["urlencoded", "multipart", "multipart-without-boundary", "not-utf8", "lone-surrogate", "100k-deep", "json"],
)  # fmt: skip
def test_only_utf8_json_bodies_reach_the_handlers_through_the_stack(
    stack: Stack, kw: dict[str, Any], status: int, code: str | None
) -> None:
    headers = {"Authorization": f"Bearer {stack.token()}", **kw.pop("headers", {})}
    resp = requests.post(f"{stack.base_url}/downloads", headers=headers, timeout=30, **kw)
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["cache-control"] == "no-store", resp.headers
    if code is not None:
        assert resp.json()["error"]["code"] == code, resp.text
        assert "X-Amz" not in resp.text


@realserver
@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/nowhere", 404, None),
        ("POST", "/uploads/", 404, None),
        ("PROPFIND", "/", 404, None),
        ("PUT", "/uploads", 405, "GET, POST"),
        ("PATCH", "/uploads/some-id", 405, "DELETE, GET"),
        ("DELETE", "/downloads", 405, "POST"),
        ("TRACE", "/health", 405, "GET"),
        ("HEAD", "/openapi.json", 405, "GET"),
        ("PUT", "/openapi.json", 405, "GET"),
    ],
)
def test_the_template_answers_unknown_routes_and_methods_in_the_error_shape(
    stack: Stack, method: str, path: str, status: int, allow: str | None
) -> None:
    # When: a request no route of template.yaml takes, with a valid token (it changes nothing)
    resp = requests.request(
        method, f"{stack.base_url}{path}", headers={"Authorization": f"Bearer {stack.token()}"}, timeout=10
    )
    # Then: the meta function's $default route answers, in the contract's shape
    assert resp.status_code == status, (method, path, resp.status_code, resp.text)
    assert resp.headers["cache-control"] == "no-store", resp.headers
    assert resp.headers["content-type"] == "application/json", resp.headers
    assert resp.headers.get("allow") == allow, resp.headers
    if method != "HEAD":
        error = resp.json()["error"]
        assert error["code"] == ("not_found" if status == 404 else "method_not_allowed"), error
        assert error["request_id"] == resp.headers["apigw-requestid"], (error, resp.headers)


def test_bodies_over_10_mb_are_413(emulator: Emulator) -> None:
    resp = requests.post(f"{emulator.base_url}/echo", data=b"x" * (MAX_BODY_BYTES + 1), timeout=30)
    assert resp.status_code == 413
    assert resp.json() == {"message": "Request Entity Too Large"}
    ok = requests.post(f"{emulator.base_url}/echo", data=b"y" * 1_000_000, timeout=30)
    assert ok.status_code == 200


def test_binary_bodies_travel_base64_both_ways(emulator: Emulator) -> None:
    data = bytes(range(256))
    event = requests.post(
        f"{emulator.base_url}/echo",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    ).json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data
    resp = requests.get(f"{emulator.base_url}/binary", timeout=10)
    assert resp.headers["content-type"] == "image/png"
    assert resp.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_results_without_status_code_are_200_json(emulator: Emulator) -> None:
    plain = requests.get(f"{emulator.base_url}/plain", timeout=10)
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/json"
    assert plain.json() == {"hello": "world", "sibling": "shapes"}
    text = requests.get(f"{emulator.base_url}/text", timeout=10)
    assert (text.status_code, text.text) == (200, "just a string")


def test_a_handler_that_raises_is_500_without_internals(
    emulator: Emulator, capfd: pytest.CaptureFixture[str]
) -> None:
    resp = requests.get(f"{emulator.base_url}/boom", timeout=10)
    assert resp.status_code == 500
    assert resp.json() == {"message": "Internal Server Error"}
    assert "hunter2" not in resp.text
    malformed = requests.get(f"{emulator.base_url}/malformed", timeout=10)
    assert malformed.status_code == 500
    assert malformed.json() == {"message": "Internal Server Error"}
    err = capfd.readouterr().err
    assert "RuntimeError: secret internals" in err  # the traceback goes to the log, as in Lambda
    assert "Traceback" in err


def test_cors_preflight_uses_the_template_configuration(emulator: Emulator) -> None:
    resp = requests.options(
        f"{emulator.base_url}/uploads",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert resp.headers["access-control-allow-methods"] == "GET,POST,DELETE"
    assert resp.headers["access-control-allow-headers"] == "authorization,content-type"
    assert resp.headers["access-control-max-age"] == "600"
    assert resp.text == ""
    denied = requests.options(
        f"{emulator.base_url}/uploads",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert denied.status_code == 204
    assert "access-control-allow-origin" not in denied.headers
    actual = requests.get(
        f"{emulator.base_url}/plain", headers={"Origin": "https://app.example.com"}, timeout=10
    )
    assert actual.headers["access-control-allow-origin"] == "https://app.example.com"
    assert actual.headers["access-control-expose-headers"] == "retry-after"


def _mini_template(tmp_path: Path, cors: str = "", code_uri: Path | None = None, extra: str = "") -> Path:
    code = code_uri or FIXTURES / "functions" / "shapes"
    template = tmp_path / "template.yaml"
    template.write_text(
        f"""
Transform: AWS::Serverless-2016-10-31
Parameters:
  Origins: {{Type: CommaDelimitedList}}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties: {{{cors}}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code}
      Handler: app.handler
      Events:
        Plain: {{Type: HttpApi, Properties: {{ApiId: !Ref Api, Method: GET, Path: /plain}}}}
{extra}"""
    )
    return template


def test_without_cors_configuration_localhost_origins_are_allowed(tmp_path: Path) -> None:
    with Emulator(_mini_template(tmp_path), quiet=True) as api:
        ok = requests.options(
            f"{api.base_url}/plain",
            headers={"Origin": "http://127.0.0.1:3000", "Access-Control-Request-Method": "GET"},
            timeout=10,
        )
        assert ok.status_code == 204
        assert ok.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
        other = requests.options(
            f"{api.base_url}/plain",
            headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
            timeout=10,
        )
        assert other.status_code == 404  # no CORS configured: API Gateway routes OPTIONS like any method


def test_cors_origins_from_a_parameter(tmp_path: Path) -> None:
    template = _mini_template(
        tmp_path, cors="CorsConfiguration: {AllowOrigins: !Ref Origins, AllowMethods: [GET]}"
    )
    preflight = {"Origin": "http://localhost:8000", "Access-Control-Request-Method": "GET"}
    with Emulator(template, quiet=True) as api:  # no value for the parameter: localhost is allowed
        resp = requests.options(f"{api.base_url}/plain", headers=preflight, timeout=10)
        assert resp.headers["access-control-allow-origin"] == "http://localhost:8000"
    with Emulator(template, quiet=True, parameters={"Origins": "https://app.example"}) as api:
        resp = requests.options(f"{api.base_url}/plain", headers=preflight, timeout=10)
        assert "access-control-allow-origin" not in resp.headers


def test_a_handler_that_fails_to_import_stops_the_emulator_at_start(tmp_path: Path) -> None:
    code = tmp_path / "broken"
    code.mkdir()
    (code / "app.py").write_text("raise RuntimeError('PRESIGN_CONFIG is missing')\n")
    with pytest.raises(EmulatorError, match="PRESIGN_CONFIG is missing"):
        Emulator(_mini_template(tmp_path, code_uri=code))


def test_the_authorizer_hook_fills_the_request_context(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert emulator_module.authorizer_context({"authorization": "Bearer x"}) is None
    claims = {"jwt": {"claims": {"sub": "alice"}, "scopes": None}}
    monkeypatch.setattr(emulator_module, "authorizer_context", lambda headers: claims)
    assert (
        "authorizer"
        not in requests.get(f"{emulator.base_url}/echo", timeout=10).json()["event"]["requestContext"]
    )
    monkeypatch.setenv("PRESIGN_EMULATOR_JWT_AUTHORIZER", "1")
    event = requests.get(f"{emulator.base_url}/echo", timeout=10).json()["event"]
    assert event["requestContext"]["authorizer"] == claims


def test_concurrent_requests(emulator: Emulator) -> None:
    with ThreadPoolExecutor(8) as pool:
        paths = [f"/uploads/u{i}/parts/{i}" for i in range(32)]
        results = list(pool.map(lambda p: requests.get(emulator.base_url + p, timeout=10).json(), paths))
    assert [r["event"]["rawPath"] for r in results] == paths


def test_invocations_do_not_overlap_unless_asked(emulator: Emulator) -> None:
    # All functions share one process (and Powertools' class-level current_event): one at a time.
    with ThreadPoolExecutor(4) as pool:
        peaks = list(
            pool.map(lambda _: requests.get(f"{emulator.base_url}/slow", timeout=10).json(), range(4))
        )
    assert {p["peak"] for p in peaks} == {1}
    with (
        Emulator(FIXTURE_TEMPLATE, quiet=True, serialize=False) as overlapping,
        ThreadPoolExecutor(4) as pool,
    ):
        peaks = list(
            pool.map(lambda _: requests.get(f"{overlapping.base_url}/slow", timeout=10).json(), range(4))
        )
    assert max(p["peak"] for p in peaks) > 1


def test_template_resolver() -> None:
    doc = {
        "Parameters": {"Name": {"Type": "String", "Default": "x"}, "List": {"Type": "CommaDelimitedList"}},
        "Conditions": {"IsX": {"Fn::Equals": [{"Ref": "Name"}, "x"]}},
    }
    r = TemplateResolver(doc, {"List": "a, b"}, {"Table": "t-1"})
    assert r.resolve({"Ref": "List"}) == ["a", "b"]
    assert r.resolve({"Fn::If": ["IsX", {"Ref": "Table"}, "no"]}) == "t-1"
    assert r.resolve({"Fn::Sub": "${AWS::Region}-${Name}"}) == "us-east-1-x"
    assert r.resolve([{"Ref": "AWS::NoValue"}, "kept"]) == ["kept"]
    with pytest.raises(Unresolved):
        r.resolve({"Fn::GetAtt": ["Table", "Arn"]})


def test_emulator_cli(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.emulator",
            "--port",
            "0",
            "--quiet",
            "--template",
            str(FIXTURE_TEMPLATE),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT}", "PYTHONUNBUFFERED": "1"},
    )
    reader = LineReader(proc)
    try:
        first = reader.readline(30)
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert url, first
        assert requests.get(f"{url[0]}/plain", timeout=10).json()["hello"] == "world"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


# -------------------------------------------------------------------------------- token and client


def test_mint_token_and_cli(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "t" * 48
    claims = jwt.decode(
        mint_token("alice", secret=secret, ttl=60, scope="uploads downloads"),
        secret,
        algorithms=["HS256"],
        audience="presign-local",
        issuer="https://dev.presign.local",
        options={"require": ["exp", "iss", "aud", "sub", "iat"]},
    )
    assert claims["sub"] == "alice"
    assert claims["scope"] == "uploads downloads"
    assert claims["exp"] - claims["iat"] == 60
    assert token_main(["--sub", "bob", "--ttl", "120"], environ={"PRESIGN_JWT_SECRET": secret}) == 0
    printed = capsys.readouterr().out.strip()
    assert jwt.decode(printed, secret, algorithms=["HS256"], audience="presign-local")["sub"] == "bob"
    with pytest.raises(ValueError, match="at least 32 bytes"):
        mint_token("alice", secret="short")


def test_client_field() -> None:
    doc = {"items": [{"key": "k", "url": "http://u"}]}
    assert field(doc, "items.0.url") == "http://u"
    with pytest.raises(KeyError):
        field(doc, "items.0.nope")


# ----------------------------------------------------------------------------------------- make dev


@pytest.fixture
def dev_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], LineReader, list[str]]]:
    with run_dev(tmp_path, "--template", str(FIXTURE_TEMPLATE), data_dir="dev", timeout=40) as stack:
        assert stack.proc is not None and stack.reader is not None
        yield stack.proc, stack.reader, stack.lines


def test_make_dev_runs_the_stack_prints_working_commands_and_stops_cleanly(
    dev_process: tuple[subprocess.Popen[str], LineReader, list[str]], tmp_path: Path
) -> None:
    proc, reader, lines = dev_process
    text = "".join(lines)
    pids = [int(p) for p in re.findall(r"pid (\d+)", text)]
    assert len(pids) == 2, text  # SeaweedFS and moto
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["pid"] == proc.pid
    assert state["base_url"] in text
    # The demo app's address, signed in through the URL's fragment, never its query string
    demo = next(line.strip() for line in lines if "/web/#" in line)
    assert demo.startswith(f"{state['web_url']}/web/#api={state['base_url']}&token=ey"), demo
    assert "?" not in demo, demo

    # The printed commands, verbatim, in a fresh shell in the repo root.
    start = next(i for i, line in enumerate(lines) if line.startswith("export PRESIGN_URL="))
    end = next(i for i, line in enumerate(lines) if "same bytes" in line)
    script = "set -e\n" + "".join(lines[start : end + 1])
    shell = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
    )
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert shell.stdout.rstrip().endswith("same bytes"), shell.stdout
    assert "-> HTTP 200" in shell.stdout

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    assert "stopped." in reader.rest()
    for pid in pids:
        assert process_gone(pid), f"child {pid} outlived make dev"
    assert not (tmp_path / "state.json").exists()


def test_make_dev_says_clearly_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "local.dev", "--port", str(port), "--state-file", ""],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PYTHONPATH": f"{ROOT}"},
        )
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in done.stdout
