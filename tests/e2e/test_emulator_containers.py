"""The emulator's concurrent mode (``Emulator(concurrency=N)``, local/gateway/containers.py), which
``make soak`` runs: each invocation in a worker process of its own, as Lambda runs one container per
concurrent request. Two invocations that each wait for the other meet only if they overlap."""

from __future__ import annotations

import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from local.gateway.server import Emulator
from tests.e2e.conftest import FIXTURE_TEMPLATE

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: python3.13, Handler: app.handler, Timeout: 10}
Resources:
  HttpApi:
    Type: AWS::Serverless::HttpApi
  MeetFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: meet/
      Events:
        Meet:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /meet}
"""
# Marks its own arrival, then waits (a bounded while) for the other's: met only when both run at once.
HANDLER = """\
import os, time
from pathlib import Path

def handler(event, context):
    q = event["queryStringParameters"]
    (Path(q["dir"]) / q["me"]).touch()
    deadline = time.monotonic() + float(q["wait"])
    while time.monotonic() < deadline:
        if (Path(q["dir"]) / q["other"]).exists():
            return {"statusCode": 200, "body": str(os.getpid())}
        time.sleep(0.02)
    return {"statusCode": 409, "body": "alone"}
"""


def meet(tmp_path: Path, concurrency: int, wait: float) -> list[tuple[int, str]]:
    (tmp_path / "meet").mkdir(parents=True)
    (tmp_path / "meet" / "app.py").write_text(textwrap.dedent(HANDLER))
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    with Emulator(tmp_path / "template.yaml", quiet=True, concurrency=concurrency) as api:

        def get(me: str, other: str) -> tuple[int, str]:
            params = {"dir": str(rendezvous), "me": me, "other": other, "wait": str(wait)}
            answer = requests.get(f"{api.base_url}/meet", params=params, timeout=60)
            return answer.status_code, answer.text

        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(get, ["a", "b"], ["b", "a"]))


def test_two_invocations_overlap_in_two_worker_processes(tmp_path: Path) -> None:
    answers = meet(tmp_path, concurrency=2, wait=30)
    assert [status for status, _ in answers] == [200, 200], answers
    assert answers[0][1] != answers[1][1], f"both ran in process {answers[0][1]}"


def test_one_at_a_time_they_never_meet(tmp_path: Path) -> None:
    # The contrast: the in-process emulator serializes invocations, so the first waits alone.
    answers = meet(tmp_path, concurrency=1, wait=1)
    assert sorted(status for status, _ in answers) == [200, 409], answers


def test_a_worker_answers_as_the_in_process_emulator_does() -> None:
    with Emulator(FIXTURE_TEMPLATE, quiet=True, concurrency=2) as api:
        answer = requests.get(f"{api.base_url}/echo?x=1", timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["event"]["rawQueryString"] == "x=1", body
    assert body["context"]["function_name"] and body["layer"], body
