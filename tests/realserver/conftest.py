"""A real SeaweedFS, started WITH an identities file, judges every URL the project produces."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local.servers import SeaweedFS
from tests.integration.conftest import Client
from tests.support.functions import function_env, load_function, settings_document

ACCESS_KEY = "presign-realserver"
SECRET_KEY = "realserver-secret-0123456789abcdef"
BUCKET = "presign-real"


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    workdir: Path = tmp_path_factory.mktemp("seaweedfs")
    # domain_name: virtual-hosted requests ({bucket}.localhost) are served too, not only path-style.
    with SeaweedFS(
        workdir, access_key=ACCESS_KEY, secret_key=SECRET_KEY, buckets=[BUCKET], domain_name="localhost"
    ) as server:
        yield server


@pytest.fixture
def real_client(seaweed: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Client]:
    def make(name: str, **target: Any) -> Client:
        document = settings_document(**{"endpoint_url": seaweed.endpoint_url, "bucket": BUCKET, **target})
        env = function_env(document, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        return Client(load_function(name, monkeypatch, env))

    return make
