"""Real local servers for the e2e tests; every one is stopped at teardown and checked gone."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.cfn import TEMPLATE, load_template
from local.dev_config import dev_config, template_environment
from local.gateway.server import Emulator
from local.gateway.template import TemplateResolver
from local.servers import MotoServer, SeaweedFS, aws_env, free_ports
from local.tables import create_tables
from local.token import mint_token
from tests.e2e.devstack import DevStack, run_dev

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"
ACCESS_KEY = "presign-e2e"
SECRET_KEY = "e2e-secret-key-0123456789abcdefghij"
BUCKET = "presign-e2e"


def process_gone(pid: int) -> bool:
    """True if no process (not even a zombie) has this pid and no process group is led by it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        return False
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def assert_stopped(server: SeaweedFS | MotoServer, pid: int | None) -> None:
    assert pid is not None
    assert not server.running
    assert process_gone(pid), f"{server.name} pid {pid} (or its process group) is still alive"


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    (s3_port,) = free_ports(1)  # a given S3 port; every other port is chosen by SeaweedFS()
    server = SeaweedFS(
        tmp_path_factory.mktemp("e2e-seaweedfs"),
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        buckets=[BUCKET],
        s3_port=s3_port,
    )
    assert server.endpoint_url == f"http://127.0.0.1:{s3_port}"
    with server:
        pid = server.pid
        yield server
    assert_stopped(server, pid)
    server.stop()  # idempotent


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    with server:
        pid = server.pid
        yield server
    assert_stopped(server, pid)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(FIXTURE_TEMPLATE, quiet=True) as api:
        yield api


@dataclass(frozen=True)
class Stack:
    """template.yaml's own routes and functions in the emulator, over SeaweedFS (checking
    signatures) and a moto server, wired as `make dev` wires them."""

    base_url: str
    jwt_secret: str

    def token(self, sub: str = "alice", ttl: int = 3600) -> str:
        return mint_token(sub, secret=self.jwt_secret, ttl=ttl)


@pytest.fixture(scope="module")
def stack_config(seaweed: SeaweedFS) -> dict[str, Any]:
    """The service configuration of ``stack``: `make dev`'s; a test module may override it."""
    return dev_config(seaweed.endpoint_url, bucket=BUCKET)


@pytest.fixture(scope="module")
def stack_jwt_secret() -> str:
    """The HS256 secret of ``stack``'s tokens; a test module may override it."""
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="module")
def stack(stack_config: dict[str, Any], stack_jwt_secret: str) -> Iterator[Stack]:
    from presign.adapters.dynamodb import table_client

    jwt_secret = stack_jwt_secret
    # A moto server of its own: the template's table, and rate-limit counts no other module spent.
    with MotoServer() as moto, pytest.MonkeyPatch.context() as env:
        doc = load_template(TEMPLATE)
        tables = create_tables(doc, TemplateResolver(doc), moto.endpoint_url)
        template_env, _ = template_environment(doc, TemplateResolver(doc, physical_ids=tables))
        variables = {
            **template_env,
            **aws_env(moto.endpoint_url),
            "PRESIGN_CONFIG": json.dumps(stack_config),
            "PRESIGN_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "PRESIGN_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "PRESIGN_JWT_SECRET": jwt_secret,
            "POWERTOOLS_METRICS_NAMESPACE": "presign-e2e",
        }
        for name, value in variables.items():
            env.setenv(name, value)
        # Exactly one configuration source, and S3 goes to the target's endpoint only.
        for name in ("PRESIGN_CONFIG_PARAMETER", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
            env.delenv(name, raising=False)
        table_client.cache_clear()  # the client reads the environment once
        try:
            with Emulator(TEMPLATE, quiet=True) as api:
                yield Stack(base_url=api.base_url, jwt_secret=jwt_secret)
        finally:
            table_client.cache_clear()


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """The real `make dev` (template.yaml, SeaweedFS with identities, moto_server, the examples/
    origin), started as a user starts it, once for the browser tests (each uses a sub of its own)."""
    with run_dev(tmp_path_factory.mktemp("dev")) as running:
        yield running


@pytest.fixture(scope="session")
def proxied_dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`make dev STORAGE_PROXY=1`: the storage proxy between clients and SeaweedFS (URLs name it),
    once for the tests that count and break what reaches the storage (each uses a sub of its own)."""
    with run_dev(tmp_path_factory.mktemp("dev-proxy"), "--storage-proxy") as running:
        yield running
