"""Who is calling: the client's address and scheme, believing proxy headers only from trusted proxies.

Behind Knative's queue-proxy, an ingress or any reverse proxy every request arrives from the proxy's
address, so login limits keyed by the peer address would put the whole world in one bucket. Proxies
append the address they saw to ``X-Forwarded-For``; anyone may also send that header with invented
entries on the left. So the client is found by walking ``X-Forwarded-For`` from the right, skipping
hops that are trusted proxies (``YAFFW_TRUSTED_PROXIES``), and taking the first hop that is not: that
entry was written by a proxy we trust, about a peer it saw. When the peer itself is not a trusted
proxy the headers are ignored entirely (default: nobody is trusted).

Only ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are read (every common proxy and Knative's
queue-proxy write them). ``Forwarded`` (RFC 7239) is deliberately not read: a proxy that only
appends one header would let a client forge the other. Sanic's own forwarded-header handling is
switched off in ``app.create_app`` so that this module is the only authority.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from sanic import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in trusted)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a header entry: ``1.2.3.4``, ``1.2.3.4:567``, ``[::1]:567`` or ``::1``."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket (::ffff:1.2.3.4) is the same client.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, nets: tuple[Network, ...]) -> bool:
    return address is not None and any(address.version == n.version and address in n for n in nets)


def resolve(peer: str, forwarded_for: list[str], trusted: tuple[str, ...]) -> str:
    """The client's address given the socket ``peer``, every ``X-Forwarded-For`` header value in
    order, and the trusted proxy ranges. Pure, for tests.

    An entry that is not an address (``unknown``, garbage) ends the walk at the last trusted hop:
    such requests are then counted together under that proxy rather than under a name the client
    chose.
    """
    nets = _networks(trusted)
    hop = _address(peer)
    current = str(hop) if hop is not None else (peer or "unknown")
    if not _trusted(hop, nets):
        return current
    entries = [e for value in forwarded_for for e in value.split(",") if e.strip()]
    for entry in reversed(entries):
        hop = _address(entry)
        if hop is None:
            return current
        current = str(hop)
        if not _trusted(hop, nets):
            return current
    return current  # every hop is a trusted proxy: the leftmost is the closest thing to a client


def client_address(request: Request) -> str:
    """The address of whoever made ``request`` (see the module docstring)."""
    trusted = request.app.ctx.deps.settings.trusted_proxies
    return resolve(request.ip, request.headers.getall("x-forwarded-for", []), trusted)


def is_https(request: Request) -> bool:
    """True when the client reached us over HTTPS: the socket is TLS, or a trusted proxy says so in
    ``X-Forwarded-Proto`` (the value of the proxy nearest to us, the last one)."""
    if request.conn_info is not None and request.conn_info.ssl:
        return True
    nets = _networks(request.app.ctx.deps.settings.trusted_proxies)
    if not _trusted(_address(request.ip), nets):
        return False
    protos = [p.strip().lower() for v in request.headers.getall("x-forwarded-proto", []) for p in v.split(",")]
    return bool(protos) and protos[-1] == "https"
