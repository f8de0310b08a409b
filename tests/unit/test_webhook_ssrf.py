"""The webhook sender cannot be turned against us: every address rule, judged without a network.

The sender is given a stub resolver, so a name can "resolve" to 169.254.169.254 here; the
refusals happen before any socket exists (``_connect`` is replaced by one that fails the test).
The real connections (TLS to the checked address, redirects, caps, rebinding against a live
server) are in ``tests/integration/test_webhook_http.py``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presign.adapters import webhook_http
from presign.adapters.webhook_http import WebhookSender
from presign.webhooks.addresses import embedded_ipv4, forbidden_reason
from tests.support.webhook_servers import resolver_of

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "link_local"),  # the ECS task metadata endpoint
    ("fd00:ec2::254", "metadata"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address judged, not bound
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "metadata"),
    ("::ffff:10.1.2.3", "private"),
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
    ("64:ff9b:1::a00:1", "private"),  # local-use NAT64
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:c0a8:101::1", "private"),  # 6to4 of 192.168.1.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1
    ("::127.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
    ("100.64.0.1", "shared"),  # CGNAT: may be a VPC's secondary CIDR
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("fe80::1", "link_local"),
    ("fc00::1", "private"),
    ("fec0::1", "private"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.1", "documentation"),
    ("2001:db8::1", "documentation"),
    ("198.18.0.1", "reserved"),
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
           "2002:808:808::1", "2a00:1450:4001::200e"]  # fmt: skip


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_each_forbidden_address_is_refused_with_its_reason(address: str, reason: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1"])
def test_dev_allows_loopback(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address), allow_loopback=True) is None


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "169.254.169.254", "fd00:ec2::254", "0.0.0.0", "::", "192.168.0.1", "fe80::1"],  # noqa: S104
)
def test_dev_allows_nothing_but_loopback(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address), allow_loopback=True) is not None


@given(st.integers(0, 2**32 - 1))
def test_property_an_ipv4_address_is_judged_alike_in_every_form_that_embeds_it(value: int) -> None:
    v4 = ipaddress.IPv4Address(value)
    forms = [
        ipaddress.IPv6Address((0xFFFF << 32) | value),  # ::ffff:a.b.c.d
        ipaddress.IPv6Address((0x64FF9B << 96) | value),  # 64:ff9b::a.b.c.d
        ipaddress.IPv6Address((0x2002 << 112) | (value << 80) | 1),  # 2002:aabb:ccdd::1
    ]
    for form in forms:
        assert embedded_ipv4(form) == v4
        assert forbidden_reason(form) == forbidden_reason(v4), (form, v4)


# Where Python's own table is right (it is our oracle there): 192.0.0.0/24 and 192.88.99.0/24
# are refused whole here, while Python 3.11.7 calls parts of them global; multicast it calls
# global too, and no webhook is multicast.
_OWN_CALLS = [ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("192.88.99.0/24")]


@given(st.integers(0, 2**32 - 1))
def test_property_ipv4_rules_agree_with_pythons_is_global(value: int) -> None:
    v4 = ipaddress.IPv4Address(value)
    if any(v4 in net for net in _OWN_CALLS):
        assert forbidden_reason(v4) is not None
        return
    assert (forbidden_reason(v4) is not None) == (not v4.is_global or v4.is_multicast), v4


@given(st.integers(0, 2**128 - 1))
def test_property_ipv6_outside_global_unicast_is_refused_unless_it_embeds_a_public_ipv4(value: int) -> None:
    v6 = ipaddress.IPv6Address(value)
    embedded = embedded_ipv4(v6)
    if embedded is not None:
        assert forbidden_reason(v6) == forbidden_reason(embedded)
    elif v6 not in ipaddress.ip_network("2000::/3"):
        assert forbidden_reason(v6) is not None, v6
    if not v6.is_global and embedded is None and v6.teredo is None:
        assert forbidden_reason(v6) is not None, v6


# ---------------------------------------------------------------------------------- the sender


@pytest.fixture(autouse=True)
def _no_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse_to_connect(*args: object) -> None:
        raise AssertionError("a refused delivery must not open a socket")

    monkeypatch.setattr(webhook_http, "_connect", refuse_to_connect)
    yield


def send(
    url: str, *answers: list[str], allow_loopback: bool = False
) -> tuple[webhook_http.WebhookResponse, list[str]]:
    resolve, asked = resolver_of(*answers)
    response = WebhookSender(resolver=resolve, allow_loopback=allow_loopback).send(url, b"{}", {})
    return response, asked


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_a_name_resolving_to_a_forbidden_address_is_refused_before_any_connection(
    address: str, reason: str
) -> None:
    response, asked = send("https://hooks.example.com/in", [address])
    assert (response.status, response.error, response.refused) == (None, "refused_address", reason), response
    assert asked == ["hooks.example.com"]


def test_one_private_address_among_public_ones_refuses_the_name() -> None:
    response, asked = send("https://hooks.example.com/in", ["8.8.8.8", "2606:4700::1111", "10.0.0.7"])
    assert (response.error, response.refused) == ("refused_address", "private"), response
    assert len(asked) == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/", "loopback"),
        ("https://10.1.2.3/", "private"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::1]:8443/", "loopback"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://[64:ff9b::7f00:1]/", "loopback"),
        ("https://[fd00:ec2::254]/", "metadata"),
    ],
)
def test_ip_literal_urls_are_judged_like_resolved_names(url: str, reason: str) -> None:
    # Given the real resolver: a literal "resolves" to itself without any DNS
    response = WebhookSender().send(url, b"{}", {})
    assert (response.error, response.refused) == ("refused_address", reason), response


def test_localhost_is_refused_outside_dev_through_the_real_resolver() -> None:
    response = WebhookSender().send("https://localhost:9/", b"{}", {})
    assert (response.error, response.refused) == ("refused_address", "loopback"), response


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",  # plain http outside dev
        "https://user:pass@hooks.example.com/in",
        "https://hooks.example.com/in#frag",
        "ftp://hooks.example.com/",
        "https:///nohost",
        "https://hooks.example.com:0/",
        "https://hooks.example.com/a b",
    ],
)
def test_a_url_of_the_wrong_form_is_refused_before_resolution(url: str) -> None:
    response, asked = send(url, ["8.8.8.8"])
    assert response.error == "invalid_url" and asked == [], (response, asked)


def test_plain_http_to_loopback_needs_the_dev_switch() -> None:
    response, _ = send("http://127.0.0.1:9/", ["127.0.0.1"])
    assert response.error == "invalid_url"


def test_a_name_that_does_not_resolve_is_a_dns_failure() -> None:
    response, asked = send("https://hooks.example.com/", [])
    assert response.error == "dns" and asked == ["hooks.example.com"]
