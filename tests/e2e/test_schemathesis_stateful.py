"""Schemathesis' stateful phase against the local stack: scenarios of calls chained by the
document's links (POST /uploads -> GET, DELETE and /complete of the new upload; POST /shares ->
its owner's routes and its public link), with every check, the stateful ones too: a resource a
DELETE answered 2xx for must not be read back as if it were there (use_after_free), one just
created must be found (availability).

On a stack of its own whose every limit is roomy. Hypothesis explores a state machine by
replaying choices, and a scenario's next choices depend on which answers were 2xx (a link is
followed only from one): with make dev's limits, whether a call answers 429 depends on how long
the run took, so the exploration, and what it covered, changed with the machine's load
(test_schemathesis.py checks that 429s conform). Then a walk along the same links, one call at a
time, each answer checked by schemathesis: the stateful behaviour the links promise, whatever the
exploration covered.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import hypothesis
import pytest
import requests
from schemathesis import Case
from schemathesis.core.failures import FailureGroup

from local.dev_config import dev_config
from local.servers import SeaweedFS
from local.token import mint_token
from presign.config.ratelimit import ACTIONS
from presign.limits import MAX_OBJECT_BYTES
from tests.e2e.conftest import BUCKET, Stack

# The document, its configuration and the dev token it authenticates with are that module's.
from tests.e2e.test_schemathesis import JWT_SECRET, schema

pytestmark = pytest.mark.realserver

SCENARIOS = 100
STEPS = 6
ROOMY = {"rate": 60_000, "period": 60, "burst": 10_000}


@pytest.fixture(scope="module")
def stack_jwt_secret() -> str:
    return JWT_SECRET


@pytest.fixture(scope="module")
def stack_config(seaweed: SeaweedFS) -> dict[str, Any]:
    config = dev_config(seaweed.endpoint_url, bucket=BUCKET)
    config["targets"]["local"]["upload"] = {"content_types": ["*/*"], "max_size": MAX_OBJECT_BYTES}
    config["rate_limits"] = {"actions": dict.fromkeys(ACTIONS, ROOMY)}
    return config


def test_stateful_scenarios_follow_the_links(stack: Stack) -> None:
    answers: Counter[tuple[str, int]] = Counter()
    chains: Counter[tuple[str, str]] = Counter()

    class Scenarios(schema.as_state_machine()):  # type: ignore[misc, valid-type]
        previous: str | None = None

        def setup(self) -> None:
            self.previous = None

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"base_url": stack.base_url}

        def after_call(self, response: Any, case: Case) -> None:
            super().after_call(response, case)
            operation = case.operation.label
            answers[(operation, response.status_code)] += 1
            if self.previous is not None:
                chains[(self.previous, f"{operation} {response.status_code}")] += 1
            self.previous = f"{operation} {response.status_code}"

    Scenarios.run(
        settings=hypothesis.settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
    summary = {"answers": sorted(answers.items()), "chains": len(chains)}
    print(f"schemathesis stateful: {summary}")
    assert not [answer for answer in answers if answer[1] >= 500], summary
    # Uploads were created and a link was followed from one to a route of that upload
    assert answers[("POST /uploads", 201)] > 0, summary
    followed = {after for before, after in chains if before == "POST /uploads 201"}
    assert any(after.split()[1] == "/uploads/{upload_id}" for after in followed), sorted(chains)


def _checked(stack: Stack, path: str, method: str, response: requests.Response, **parameters: Any) -> None:
    """The answer as schemathesis judges it for that operation (status, schema, headers...)."""
    case = schema[path][method].Case(**parameters)
    try:
        case.validate_response(response, transport_kwargs={"base_url": stack.base_url})
    except FailureGroup as group:
        raise AssertionError(f"{method} {path}: {[f.title for f in group.exceptions]}") from group


def test_the_links_of_a_new_upload_lead_to_it_until_it_is_deleted(stack: Stack) -> None:
    auth = {"Authorization": f"Bearer {mint_token('alice', secret=JWT_SECRET, ttl=600)}"}
    created = requests.post(
        f"{stack.base_url}/uploads",
        json={"filename": "links.txt", "content_type": "text/plain", "size": 5},
        headers=auth,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    upload_id = created.json()["upload_id"]  # GetUpload / DeleteUpload: $response.body#/upload_id
    path = "/uploads/{upload_id}"
    walk = []
    for method, expected in (("GET", 200), ("DELETE", 204), ("GET", 410)):
        answer = requests.request(method, f"{stack.base_url}/uploads/{upload_id}", headers=auth, timeout=30)
        walk.append((method, answer.status_code, answer.text[:200]))
        assert answer.status_code == expected, walk
        _checked(stack, path, method, answer, path_parameters={"upload_id": upload_id}, headers=auth)
    assert walk[2][2].startswith('{"error": {"code": "upload_aborted"'), walk


def test_the_links_of_a_new_share_lead_to_it_until_it_is_revoked(stack: Stack, seaweed: SeaweedFS) -> None:
    auth = {"Authorization": f"Bearer {mint_token('alice', secret=JWT_SECRET, ttl=600)}"}
    key = "users/alice/links/shared.txt"
    seaweed.client().put_object(Bucket=BUCKET, Key=key, Body=b"shared", ContentType="text/plain")
    created = requests.post(f"{stack.base_url}/shares", json={"key": key}, headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    handle, share_id = created.json()["handle"], created.json()["share_id"]
    walk = []

    def call(method: str, url: str, **kwargs: Any) -> requests.Response:
        answer = requests.request(method, url, timeout=30, allow_redirects=False, **kwargs)
        walk.append((method, url.removeprefix(stack.base_url), answer.status_code))
        return answer

    owner = call("GET", f"{stack.base_url}/shares/{handle}", headers=auth)  # GetShare: #/handle
    assert owner.status_code == 200, walk
    _checked(stack, "/shares/{share_id}", "GET", owner, path_parameters={"share_id": handle}, headers=auth)
    opened = call("GET", f"{stack.base_url}/s/{share_id}")  # OpenLink: #/share_id
    assert opened.status_code == 302, walk
    _checked(stack, "/s/{share_id}", "GET", opened, path_parameters={"share_id": share_id})
    revoked = call("DELETE", f"{stack.base_url}/shares/{handle}", headers=auth)  # RevokeShare
    assert revoked.status_code == 204, walk
    again = call("GET", f"{stack.base_url}/s/{share_id}")
    assert again.status_code == 410, walk
    _checked(stack, "/s/{share_id}", "GET", again, path_parameters={"share_id": share_id})
