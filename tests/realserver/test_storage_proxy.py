"""The storage proxy the client tests count and break uploads through (local/storage_proxy.py).

SeaweedFS, started with identities, still judges every URL: a URL signed for the proxy's address
passes through it unchanged, and the proxy's record never holds a signature.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.proxy_control import ProxyControl
from local.servers import SeaweedFS
from local.storage_proxy import Fault, StorageProxy
from tests.realserver.conftest import BUCKET

pytestmark = pytest.mark.realserver


@pytest.fixture
def proxy(seaweed: SeaweedFS) -> Iterator[StorageProxy]:
    with StorageProxy(seaweed.endpoint_url) as running:
        yield running


def _s3_through(proxy: StorageProxy, seaweed: SeaweedFS) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=proxy.endpoint_url,
        aws_access_key_id=seaweed.access_key,
        aws_secret_access_key=seaweed.secret_key,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def _put_url(s3: Any, key: str, **params: Any) -> str:
    return str(
        s3.generate_presigned_url(
            "put_object", Params={"Bucket": BUCKET, "Key": key, **params}, ExpiresIn=300
        )
    )


def test_a_url_signed_for_the_proxy_is_accepted_and_recorded_without_its_signature(
    proxy: StorageProxy, seaweed: SeaweedFS
) -> None:
    # Given a PUT URL signed for the proxy's address
    s3 = _s3_through(proxy, seaweed)
    url = _put_url(s3, "proxy/a.txt")
    # When it is used through the proxy, then read back from SeaweedFS directly
    put = requests.put(url, data=b"hello", timeout=30)
    stored = seaweed.client().get_object(Bucket=BUCKET, Key="proxy/a.txt")["Body"].read()
    # Then the storage accepted the signature, and the record names the request but no credential
    assert put.status_code == 200, put.text
    assert stored == b"hello"
    (exchange,) = [e for e in proxy.log() if e.method == "PUT"]
    assert (exchange.path, exchange.status, exchange.bytes_in) == (f"/{BUCKET}/proxy/a.txt", 200, 5)
    assert not any(name.lower().startswith("x-amz") for name in exchange.query), exchange.query


def test_a_tampered_signature_is_still_refused_by_the_storage(
    proxy: StorageProxy, seaweed: SeaweedFS
) -> None:
    url = _put_url(_s3_through(proxy, seaweed), "proxy/b.txt")
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    query["X-Amz-Signature"] = ["0" * 64]
    forged = parts._replace(query=urllib.parse.urlencode(query, doseq=True)).geturl()
    answer = requests.put(forged, data=b"x", timeout=30)
    assert answer.status_code == 403, answer.text


def test_status_faults_answer_instead_of_the_storage_then_stop(
    proxy: StorageProxy, seaweed: SeaweedFS
) -> None:
    url = _put_url(_s3_through(proxy, seaweed), "proxy/c.txt")
    proxy.set_faults([Fault("status", method="PUT", status=503, retry_after=2, times=1)])
    first = requests.put(url, data=b"one", timeout=30)
    second = requests.put(url, data=b"two", timeout=30)
    assert (first.status_code, first.headers.get("Retry-After")) == (503, "2"), first.text
    assert second.status_code == 200, second.text
    assert [(e.status, e.fault) for e in proxy.log() if e.method == "PUT"] == [(503, "status"), (200, None)]


def test_a_dropped_answer_did_the_work_but_the_client_hears_nothing(
    proxy: StorageProxy, seaweed: SeaweedFS
) -> None:
    url = _put_url(_s3_through(proxy, seaweed), "proxy/d.txt")
    proxy.set_faults([Fault("drop", method="PUT")])
    with pytest.raises(requests.ConnectionError):
        requests.put(url, data=b"landed", timeout=30)
    assert seaweed.client().get_object(Bucket=BUCKET, Key="proxy/d.txt")["Body"].read() == b"landed"


def test_a_reset_reaches_nothing(proxy: StorageProxy, seaweed: SeaweedFS) -> None:
    url = _put_url(_s3_through(proxy, seaweed), "proxy/e.txt")
    proxy.set_faults([Fault("reset", method="PUT")])
    with pytest.raises(requests.ConnectionError):
        requests.put(url, data=b"lost", timeout=30)
    listed = seaweed.client().list_objects_v2(Bucket=BUCKET, Prefix="proxy/e.txt")
    assert listed.get("KeyCount", 0) == 0, listed


def test_another_process_controls_it_over_http(proxy: StorageProxy, seaweed: SeaweedFS) -> None:
    control = ProxyControl(proxy.endpoint_url)
    control.set_faults([{"action": "status", "method": "PUT", "status": 429, "times": 1}])
    url = _put_url(_s3_through(proxy, seaweed), "proxy/f.txt")
    assert requests.put(url, data=b"f", timeout=30).status_code == 429
    assert requests.put(url, data=b"f", timeout=30).status_code == 200
    assert [e.status for e in control.log() if e.method == "PUT"] == [429, 200]
    control.clear()
    assert control.log() == []


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1:1"])
def test_a_host_that_is_not_the_proxys_is_refused(proxy: StorageProxy, host: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/__proxy/log", headers={"Host": host})
    assert conn.getresponse().status == 421
    conn.close()
