"""The address a request came from, believing X-Forwarded-For only from our own proxies."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    # Cached per settings value, so override_settings(TRUSTED_PROXIES=...) takes effect.
    networks = []
    for proxy in proxies:
        try:
            # strict=False: "10.0.0.1/8" means the network 10.0.0.0/8; a bare IP is a /32 or /128.
            networks.append(ipaddress.ip_network(proxy.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES: {proxy!r} is not an IP address or CIDR") from None
    return tuple(networks)


def _ip_parse(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; compare and report them as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _ip_is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    # `in` is False across IP versions, so IPv4 and IPv6 entries can be mixed freely.
    return any(address in network for network in networks)


def client_ip(request) -> str | None:
    """A Django request's client address (see client_ip_of)."""
    return client_ip_of(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def client_ip_of(peer_address: str, forwarded_for: str) -> str | None:
    """The peer's address, or, when that peer is a trusted proxy, the nearest untrusted
    X-Forwarded-For hop; None when the peer's address is not an IP address (a Unix socket, a test
    without one).

    Each proxy appends the address it received the request from, so only the right end of
    X-Forwarded-For is written by proxies we trust; anything further left may come from the client.
    """
    peer = _ip_parse(peer_address)
    if peer is None:
        return None
    networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if not _ip_is_trusted(peer, networks):
        # An untrusted peer's X-Forwarded-For is whatever it chose to send: never read it.
        return str(peer)

    nearest = peer
    for entry in reversed(forwarded_for.split(",")):
        if not entry.strip():
            continue
        address = _ip_parse(entry)
        if address is None:
            # A trusted proxy wrote something we cannot read; entries left of it are unvouched
            # for, so stop at the last hop we know rather than guess.
            return str(peer)
        if not _ip_is_trusted(address, networks):
            return str(address)
        nearest = address
    # Every hop is one of our proxies: the request started at the leftmost of them.
    return str(nearest)
