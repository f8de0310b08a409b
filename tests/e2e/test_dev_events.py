"""make dev's events and webhooks (issues 22, 23): the printed walk-through, run in a shell as a
new user would, and every committed change it makes arriving once, through the real pipeline (the
tables' streams on moto_server, the stream pollers, the publisher function, the EventBridge bus, a
rule to a queue), printed by make dev and written to its events log; each event valid against the
schema the meta function serves, none holding a URL, a token or a password; and each one delivered
as a webhook to ``make dev WEBHOOK_URL=...``'s endpoint, verified with ``standardwebhooks`` and the
``whsec_`` secret make dev printed.

One `make dev` for the module (module-scoped): the walk-through runs once.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from standardwebhooks import Webhook

from local.cfn import ROOT
from tests.e2e.devstack import DevStack, run_dev
from tests.support.http_stubs import Reply, StubServer

pytestmark = pytest.mark.realserver

WALK_PASSWORD = "open sesame 42"  # the walk-through's share password (local/banner.py)
printed: list[str] = []  # what make dev printed after its banner, while the walk-through ran
hooks: list[StubServer] = []  # the WEBHOOK_URL endpoint: it records every request it got


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevStack, str, list[dict[str, Any]]]]:
    tmp = tmp_path_factory.mktemp("dev-events")
    with (
        StubServer(lambda seen: Reply(204, b"")) as hook,
        run_dev(tmp, "--webhook-url", f"{hook.endpoint_url}/hook") as stack,
    ):
        hooks.append(hook)
        lines = stack.lines
        start = next(i for i, line in enumerate(lines) if line.startswith("export PRESIGN_URL="))
        end = next(i for i, line in enumerate(lines) if line.startswith("# 13."))
        shell = subprocess.run(
            ["bash", "-c", "set -e\n" + "".join(lines[start:end])],
            cwd=ROOT, capture_output=True, text=True, timeout=180,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp)},
        )  # fmt: skip
        assert shell.returncode == 0, shell.stdout + shell.stderr
        answers = [json.loads(line) for line in shell.stdout.splitlines() if line.startswith("{")]
        grant, big = answers[0], answers[-1]
        log = Path(stack.state["events_log"])
        # The walk-through's changes: the first upload created, completed, shared, the share spent
        # twice (the second its last), the upload deleted; the big one created and completed.
        expected = 9
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (len(_read(log)) < expected or len(hook.seen) < expected):
            time.sleep(0.2)
        time.sleep(1)  # nothing more may come: a duplicate or a phantom would show now
        events = _read(log)
        assert stack.reader is not None
        printed.append(stack.reader.available())
        yield stack, grant["upload_id"] + " " + big["upload_id"], events


def _read(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_each_change_of_the_walk_through_is_one_event_in_commit_order(
    walked: tuple[DevStack, str, list[dict[str, Any]]],
) -> None:
    _, ids, events = walked
    first, big = ids.split()

    def of(subject_id: str) -> list[tuple[str, int]]:
        return [(e["type"], e["sequence"]) for e in events if e["data"].get("upload_id") == subject_id]

    # Then each upload's events are its transitions, once each, in order of their sequence
    assert of(first) == [("upload.created", 1), ("upload.completed", 2), ("upload.deleted", 3)], events
    assert of(big) == [("upload.created", 1), ("upload.completed", 2)], events
    shares = [(e["type"], e["sequence"]) for e in events if e["type"].startswith("share.")]
    # a password-protected, count-limited share: created, two spends, the second its last
    assert shares == [
        ("share.created", 1),
        ("share.accessed", 2),
        ("share.accessed", 3),
        ("share.exhausted", 3),
    ], events
    assert len({e["id"] for e in events}) == len(events) == 9, events
    # And the upload's data names its owner by the claims the record now keeps
    completed = next(e for e in events if e["type"] == "upload.completed")
    assert completed["data"]["owner"]["sub"] == "alice", completed


def test_make_dev_prints_each_event(walked: tuple[DevStack, str, list[dict[str, Any]]]) -> None:
    _, _, events = walked
    text = "".join(printed)
    for event in events:
        assert f"event {event['type']} {event['id']} seq={event['sequence']}" in text, text


def test_every_event_matches_the_schema_served_next_to_openapi(
    walked: tuple[DevStack, str, list[dict[str, Any]]],
) -> None:
    stack, _, events = walked
    for event in events:
        name = f"{event['type']}.v{event['schema_version']}.json"
        with urllib.request.urlopen(f"{stack.base_url}/events/schemas/{name}", timeout=10) as answer:
            schema = json.loads(answer.read())
        jsonschema.Draft202012Validator(schema).validate(event)


def test_no_event_holds_a_url_a_token_or_a_password(
    walked: tuple[DevStack, str, list[dict[str, Any]]],
) -> None:
    stack, _, events = walked
    text = json.dumps(events)
    token = stack.printed_after("A dev token for sub")
    secrets = [token, "eyJhbGci", "X-Amz-Signature", "X-Amz-Credential", "http://", "https://", WALK_PASSWORD]
    found = [secret for secret in secrets if secret in text]
    assert not found, (found, text)


def test_make_dev_webhook_url_gets_every_event_signed_with_the_printed_secret(
    walked: tuple[DevStack, str, list[dict[str, Any]]],
) -> None:
    stack, ids, events = walked
    # Given the secret make dev printed on a line of its own for WEBHOOK_URL's endpoint
    secret = stack.printed_after("  webhook endpoint `extra`")
    assert secret.startswith("whsec_") and " " not in secret, secret
    verifier = Webhook(secret)

    # When every request the endpoint got is verified by the standardwebhooks library
    (hook,) = hooks
    delivered = [verifier.verify(seen.body, dict(seen.headers)) for seen in hook.seen]

    # Then each event arrived, once, as {type, timestamp, data: the event}, with its id as webhook-id
    assert sorted(d["data"]["id"] for d in delivered) == sorted(e["id"] for e in events), delivered
    assert [seen.headers["webhook-id"] for seen in hook.seen] == [d["data"]["id"] for d in delivered]
    first, _big = ids.split()
    mine = [d["type"] for d in delivered if d["data"]["data"].get("upload_id") == first]
    assert "upload.completed" in mine and "upload.deleted" in mine, mine
    text = json.dumps(delivered)
    assert not [s for s in ("http://", "https://", "X-Amz-Signature", "eyJhbGci", WALK_PASSWORD) if s in text]


def test_the_local_receiver_verified_and_logged_each_delivery(
    walked: tuple[DevStack, str, list[dict[str, Any]]],
) -> None:
    stack, _, events = walked
    log = Path(stack.state["webhooks_log"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(_read(log)) < len(events):
        time.sleep(0.2)
    lines = _read(log)
    assert sorted(line["webhook_id"] for line in lines if 200 <= line["status"] < 300) == sorted(
        e["id"] for e in events
    ), lines


def test_an_upload_the_storage_completed_is_upload_completed_at_webhook_url_too(
    walked: tuple[DevStack, str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    # Given the walk-through's step 13 (upload, do NOT call /complete: the storage's event does)
    stack, _, _ = walked
    lines = stack.lines
    start = next(i for i, line in enumerate(lines) if line.startswith("export PRESIGN_URL="))
    step, end = (next(i for i, line in enumerate(lines) if line.startswith(f"# {n}.")) for n in (13, 14))
    shell = subprocess.run(
        ["bash", "-c", "set -e\n" + "".join(lines[start : start + 2] + lines[step:end])],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
    )  # fmt: skip
    assert shell.returncode == 0 and '"status":"complete"' in shell.stdout, shell.stdout + shell.stderr
    upload_id = json.loads(shell.stdout.splitlines()[-1])["upload_id"]

    # When WEBHOOK_URL's endpoint has its events, each verified with the printed secret
    verifier = Webhook(stack.printed_after("  webhook endpoint `extra`"))
    (hook,) = hooks

    def types() -> list[str]:
        delivered = [verifier.verify(seen.body, dict(seen.headers)) for seen in hook.seen]
        return [d["type"] for d in delivered if d["data"]["data"].get("upload_id") == upload_id]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(types()) < 2:
        time.sleep(0.2)

    # Then: created, then completed, by the storage's event alone
    assert types() == ["upload.created", "upload.completed"], types()
