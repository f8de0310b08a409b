"""Real local servers for the e2e tests; every one is stopped at teardown and checked gone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.emulator import Emulator
from local.servers import MotoServer, SeaweedFS, free_ports

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
