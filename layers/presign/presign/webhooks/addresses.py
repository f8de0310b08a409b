"""Which addresses a webhook may never reach: the SSRF rules, as pure functions of one address.

A webhook URL is chosen by whoever configures the deployment, but the name in it resolves to
whatever its DNS says at the moment of delivery. A delivery that reached 169.254.169.254 would
hand the function's credentials to the endpoint's owner; one that reached 10.x or 127.0.0.1 would
turn presign into a probe of the private network. So every resolved address is judged here, and
the sender connects only to an address that passed (``presign.adapters.webhook_http``).

**Explicit tables, not ``ipaddress.is_global``.** Python 3.11.7's ``is_global`` calls
``::127.0.0.1``, ``64:ff9b::7f00:1``, ``fec0::1`` and every multicast address global (later
patch releases changed some of these). A security rule must not move with the interpreter's
patch level, so the ranges are listed here from IANA's special-purpose registries, and the tests
compare them with ``is_global`` only where the two are known to agree.

**IPv6 is an allow-list.** Only global unicast (``2000::/3``) may be reached, minus the ranges
listed below; the two forms that carry an IPv4 address a host can be reached through
(IPv4-mapped ``::ffff:a.b.c.d`` and NAT64 ``64:ff9b::/96``) and the tunnels that embed one
(6to4 ``2002::/16``, Teredo ``2001::/32``) are judged by the IPv4 address they embed, so
``::ffff:127.0.0.1`` and ``64:ff9b::7f00:1`` are loopback and ``64:ff9b::8.8.8.8`` is not.

**CGNAT (100.64.0.0/10) is refused**: an AWS VPC may use it as a secondary CIDR, so on Lambda it
can be as private as 10.0.0.0/8.

``allow_loopback`` (``make dev`` and tests only) lets 127.0.0.0/8 and ``::1`` through (and their
mapped forms), nothing else: a dev receiver listens on loopback, a private network stays closed.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

#: The cloud metadata services: named so that a refusal says what it protected.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

# (network, reason): IANA IPv4 special-purpose registry, plus multicast and 240/4.
_V4_FORBIDDEN: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "unspecified"),  # "this network"; 0.0.0.0 reaches the local host on Linux
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared"),  # CGNAT
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link_local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),  # benchmarking
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # includes 255.255.255.255
    )
)

_GLOBAL_UNICAST = IPv6Network("2000::/3")
_MAPPED = IPv6Network("::ffff:0:0/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_TEREDO = IPv6Network("2001::/32")
_SIX_TO_FOUR = IPv6Network("2002::/16")
# Inside 2000::/3 but not reachable hosts (Teredo and 6to4 are judged by what they embed).
_V6_FORBIDDEN_GLOBAL: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("2001::/23", "reserved"),  # IETF protocol assignments (ORCHID, benchmarking, AMT, ...)
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
    )
)
# Outside 2000::/3: named for the refusal's message only (everything there is refused).
_V6_NAMED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "private"),  # local-use NAT64 (RFC 8215)
        ("100::/64", "reserved"),  # discard-only
        ("fc00::/7", "private"),  # unique local, fd00:ec2::254 among them
        ("fe80::/10", "link_local"),
        ("fec0::/10", "private"),  # deprecated site-local
        ("ff00::/8", "multicast"),
    )
)


def forbidden_reason(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why a delivery may not connect to ``address`` (``"loopback"``, ``"private"``,
    ``"metadata"``, ...), or ``None`` when it may."""
    if address in METADATA_ADDRESSES:
        return "metadata"
    embedded = embedded_ipv4(address)
    if embedded is not None:
        return _v4_reason(embedded, allow_loopback=allow_loopback)
    if isinstance(address, IPv4Address):
        return _v4_reason(address, allow_loopback=allow_loopback)
    if address.teredo is not None:
        server, client = address.teredo
        return _v4_reason(server, allow_loopback=False) or _v4_reason(client, allow_loopback=False)
    if address in _GLOBAL_UNICAST:
        return next((reason for net, reason in _V6_FORBIDDEN_GLOBAL if address in net), None)
    if allow_loopback and address == IPv6Address("::1"):
        return None
    return next((reason for net, reason in _V6_NAMED if address in net), "reserved")


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address a packet to ``address`` really goes to, for the forms that embed one:
    IPv4-mapped, NAT64 (well-known prefix) and 6to4. (Teredo embeds two; see ``forbidden_reason``.)"""
    if isinstance(address, IPv4Address):
        return None
    if address in _MAPPED or address in _NAT64:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


def parse_address(text: str) -> IPAddress:
    """An address as ``getaddrinfo`` gives it (an IPv6 one may carry a ``%scope``)."""
    return ipaddress.ip_address(text.partition("%")[0])


def _v4_reason(address: IPv4Address, *, allow_loopback: bool) -> str | None:
    if address in METADATA_ADDRESSES:
        return "metadata"
    for net, reason in _V4_FORBIDDEN:
        if address in net:
            return None if reason == "loopback" and allow_loopback else reason
    return None
