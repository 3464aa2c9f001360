"""Who a client is, as every per-client limit counts clients (requests, viewers, open connections).

An address, or the last `X-Forwarded-For` address when a trusted proxy set it; an IPv6 host by
its /64 network: one host is usually given a whole /64, and counted by full address it would be as
many clients as it cares to use addresses.
"""

from __future__ import annotations

import functools
import ipaddress

from starlette.types import Scope


def client_address(scope: Scope, *, trust_forwarded_for: bool) -> str:
    """The client that sent a request: its peer, or the last X-Forwarded-For address when trusted."""
    address = ""
    if trust_forwarded_for:
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                address = value.decode("latin-1").rsplit(",", 1)[-1].strip()
    if not address:
        peer = scope.get("client")
        address = peer[0] if peer else "unknown"
    return client_of(address)


@functools.lru_cache(maxsize=4096)
def client_of(address: str) -> str:
    """The client an address belongs to: an IPv4 address itself, an IPv6 one its /64 network."""
    # Cached: the same few addresses send request after request, and parsing one costs a few µs.
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an address (a proxy's odd header, a test client): counted as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address
