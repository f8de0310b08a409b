"""Schemathesis against the local stack: the API fuzzed from its own GET /openapi.json.

Every operation of the document with every check schemathesis has (server errors, status codes,
content types, response schemas and headers, schema-valid data accepted and invalid data
refused, auth that is really enforced, unsupported methods, missing headers...), up to
MAX_EXAMPLES examples each plus schemathesis' coverage cases, with a fixed seed and
deterministic generation. The stack is template.yaml in the emulator over SeaweedFS (with an
identities file) and a moto server; a valid dev token comes from an auth provider, so
schemathesis also knows what to leave out when it checks that auth is enforced. 429s may come
(every limit but the upload one is `make dev`'s) and must conform like any other answer.

The stateful phase (scenarios that follow the document's links) is test_schemathesis_stateful.py,
on a stack of its own whose limits never answer 429, so its scenarios do not depend on time.

A failure prints schemathesis' own report: the check, the response and a curl line that
reproduces it. The request models publish the patterns they enforce (presign/*/schemas.py), so a
schema-valid body is never refused with 400; that is checked here, with no exceptions listed.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from local.dev_config import dev_config
from local.servers import SeaweedFS
from local.token import mint_token
from presign.limits import MAX_OBJECT_BYTES
from tests.e2e.conftest import BUCKET, Stack
from tests.support.functions import ROOT

pytestmark = pytest.mark.realserver

DOCUMENT_PATH = ROOT / "layers" / "presign" / "presign" / "openapi.json"
OPERATIONS = {
    "POST /uploads",
    "POST /downloads",
    "GET /health",
    "GET /openapi.json",
    "GET /events/schemas/{name}",
    "POST /uploads/{upload_id}/parts",
    "POST /uploads/{upload_id}/sign",
    "POST /uploads/{upload_id}/complete",
    "GET /uploads/{upload_id}",
    "DELETE /uploads/{upload_id}",
    "GET /uploads",
    "POST /shares",
    "GET /shares",
    "GET /shares/{share_id}",
    "DELETE /shares/{share_id}",
    "GET /s/{share_id}",
    "POST /s/{share_id}",
}
SEED = 20261122
MAX_EXAMPLES = 300
# Stateful phase (test_schemathesis_stateful.py): scenarios of at most this many calls.
STATEFUL_STEPS = 6
CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
    "checks": {
        "enabled": True,  # all of them
        # A body over max_body_bytes is 413 before it is parsed (1000 keys of 1024 bytes fit the
        # schema but not the 256 KB limit); the contract documents 413 for exactly that.
        # Schema-valid bodies that a target's policy refuses (size over its maximum, a type it
        # does not take, inline for a type it does not show inline) are documented answers of
        # the deployment, not of the schema. So is 410 for an upload a DELETE ended (the links
        # lead the stateful phase there). A 400 for schema-valid data stays a failure.
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 410, 413, 415, 422, 429, "5xx"]
        },
        "negative_data_rejection": {
            "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]
        },
    },
    # Examples, coverage and fuzzing per operation (test_the_api_conforms_to_its_document), and
    # scenarios that follow the document's links (test_stateful_scenarios_follow_the_links).
    "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
}
JWT_SECRET = secrets.token_urlsafe(48)

ANSWERS: Counter[tuple[str, int]] = Counter()
FAILURES: Counter[str] = Counter()


# The document the meta function serves is this file (the first test checks that the stack
# serves exactly it); loading it at import lets pytest collect one test per operation.
schema = schemathesis.openapi.from_path(DOCUMENT_PATH, config=SchemathesisConfig.from_dict(CONFIG))


@schema.auth()
class DevToken:
    """A valid token for sub alice, as `make dev` prints one."""

    def get(self, case: Case, ctx: Any) -> str:
        return mint_token("alice", secret=JWT_SECRET, ttl=3600)

    def set(self, case: Case, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(scope="module")
def stack_jwt_secret() -> str:
    return JWT_SECRET


@pytest.fixture(scope="module")
def stack_config(seaweed: SeaweedFS) -> dict[str, Any]:
    # `make dev`'s configuration with the widest upload policy a target may have, so that what
    # the document calls valid is not refused by a deployment's choice (413/415/422 of policy).
    config = dev_config(seaweed.endpoint_url, bucket=BUCKET)
    config["targets"]["local"]["upload"] = {"content_types": ["*/*"], "max_size": MAX_OBJECT_BYTES}
    # make dev's upload limit (5 at once) would turn most POST /uploads into 429s. Every other
    # action keeps its limit, so 429s still come and must conform.
    config["rate_limits"] = {"actions": {"upload": {"rate": 6000, "period": 60, "burst": 1000}}}
    return config


def test_the_stack_serves_the_document_under_test(stack: Stack) -> None:
    served = requests.get(f"{stack.base_url}/openapi.json", timeout=10)
    assert served.status_code == 200, served.text
    assert served.json() == json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    assert {f"{m.upper()} {p}" for p, item in served.json()["paths"].items() for m in item} == OPERATIONS


@schema.parametrize()
def test_the_api_conforms_to_its_document(case: Case, stack: Stack) -> None:
    operation = case.operation.label
    response = case.call(base_url=stack.base_url)
    ANSWERS[(operation, response.status_code)] += 1
    try:
        # Checks that send requests of their own (auth left out, other methods) go to the stack.
        case.validate_response(response, transport_kwargs={"base_url": stack.base_url})
    except FailureGroup as group:
        FAILURES.update(f"{operation} {type(f).checks} {f.title}" for f in group.exceptions)
        raise


def test_the_document_links_each_new_resource_to_its_routes() -> None:
    document = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))

    def targets(path: str) -> dict[str, tuple[str, dict[str, str]]]:
        links = document["paths"][path]["post"]["responses"]["201"]["links"]
        return {name: (link["operationRef"], link["parameters"]) for name, link in links.items()}

    assert targets("/uploads") == {
        "GetUpload": ("#/paths/~1uploads~1{upload_id}/get", {"upload_id": "$response.body#/upload_id"}),
        "DeleteUpload": ("#/paths/~1uploads~1{upload_id}/delete", {"upload_id": "$response.body#/upload_id"}),
        "CompleteUpload": (
            "#/paths/~1uploads~1{upload_id}~1complete/post",
            {"upload_id": "$response.body#/upload_id"},
        ),
    }
    assert targets("/shares") == {
        "GetShare": ("#/paths/~1shares~1{share_id}/get", {"share_id": "$response.body#/handle"}),
        "RevokeShare": ("#/paths/~1shares~1{share_id}/delete", {"share_id": "$response.body#/handle"}),
        "OpenLink": ("#/paths/~1s~1{share_id}/get", {"share_id": "$response.body#/share_id"}),
    }
    # Every link leads to an operation of the document
    for path in ("/uploads", "/shares"):
        for ref, _ in targets(path).values():
            where, method = ref.removeprefix("#/paths/").rsplit("/", 1)
            assert method in document["paths"][where.replace("~1", "/").replace("~0", "~")], ref


def test_every_operation_was_exercised() -> None:
    answered = Counter[str]()
    for (operation, _), count in ANSWERS.items():
        answered[operation] += count
    summary = {
        "operations": len(answered),
        "requests": sum(answered.values()),
        "answers": sorted(ANSWERS.items()),
        "failures": dict(FAILURES),
    }
    print(f"schemathesis: {summary}")
    assert set(answered) == OPERATIONS, summary
    assert not [answer for answer in ANSWERS if answer[1] >= 500], summary
    # The two operations with a body get (near) the whole budget, not a handful.
    assert min(answered["POST /uploads"], answered["POST /downloads"]) >= MAX_EXAMPLES // 2, summary
