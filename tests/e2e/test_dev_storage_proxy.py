"""`make dev STORAGE_PROXY=1`: the service signs for the proxy, the storage still judges, tests count."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from local.proxy_control import ProxyControl
from tests.e2e.devstack import DevStack, run_dev


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with run_dev(tmp_path_factory.mktemp("dev-proxy"), "--storage-proxy") as running:
        yield running


def test_an_upload_through_the_proxy_is_counted_and_completes(stack: DevStack) -> None:
    # Given make dev with the proxy in front of SeaweedFS
    proxy = ProxyControl(stack.state["storage_proxy"])
    auth = {"Authorization": f"Bearer {stack.token('proxy-user')}"}
    body = b"counted bytes\n"
    grant = requests.post(f"{stack.base_url}/uploads", headers=auth, timeout=30,
                          json={"filename": "c.txt", "content_type": "text/plain", "size": len(body)})  # fmt: skip
    assert grant.status_code == 201, grant.text
    url = grant.json()["url"]
    # When the client PUTs to the URL it was given
    assert url.startswith(stack.state["storage_proxy"] + "/"), "the URL must name the proxy"
    put = requests.put(url, data=body, headers=grant.json()["headers"], timeout=30)
    done = requests.post(
        f"{stack.base_url}/uploads/{grant.json()['upload_id']}/complete", headers=auth, json={}, timeout=30
    )
    # Then the storage accepted it, the service verified it, and the proxy saw exactly one PUT
    assert put.status_code == 200, put.text
    assert done.status_code == 200 and done.json()["status"] == "complete", done.text
    puts = [e for e in proxy.log() if e.method == "PUT"]
    assert [(e.path.endswith("/c.txt"), e.bytes_in, e.status) for e in puts] == [(True, len(body), 200)], puts
    assert "proxy" in stack.banner, stack.banner


def test_the_banner_names_the_proxy(stack: DevStack) -> None:
    assert any(line.strip().startswith("storage proxy") for line in stack.lines), stack.banner
