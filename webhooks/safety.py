"""Which URLs an endpoint may have, and which addresses a delivery may connect to.

Two checks, at two times. `url_check` runs when a URL is registered: scheme, shape, and a literal
IP address. `address_allowed` runs when a delivery connects (webhooks/sender.py calls it for every
address a name resolves to, and for a literal IP): a name that resolved to a public address when
it was registered may resolve to 127.0.0.1 or 169.254.169.254 later (DNS rebinding), so only
the address actually connected to counts.

Public means globally routable unicast. Refused: loopback, private (RFC 1918, IPv6 unique local),
link-local (cloud metadata services live there), shared address space (CGNAT, 100.64.0.0/10),
multicast, reserved, unspecified, documentation and benchmarking ranges, and IPv6 addresses that
embed one of those IPv4 addresses (IPv4-mapped, 6to4, NAT64). WEBHOOK_ALLOWED_TARGETS admits
exceptions: host names (exactly, case-insensitively) and networks (CIDR or single addresses).
"""

import functools
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

URL_MAX_LENGTH = 2048
_PLAIN_HTTP_ENVIRONMENTS = {"development", "test"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")

# Not routable on the public internet, whatever the Python version's `is_global` says.
_NEVER_PUBLIC = tuple(ipaddress.ip_network(network) for network in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/8", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10",
    "ff00::/8",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrl(ValueError):
    """A URL an endpoint may not have; the message says why."""


@dataclass(frozen=True)
class AllowedTargets:
    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]


def _host_normalise(host: str) -> str:
    return host.strip().rstrip(".").lower()


@functools.lru_cache(maxsize=4)
def allowed_targets_parse(values: tuple[str, ...]) -> AllowedTargets:
    """WEBHOOK_ALLOWED_TARGETS' entries: each an IP address, a network in CIDR notation, or a host
    name. ImproperlyConfigured for anything else (a typo would otherwise never match)."""
    hosts, networks = set(), []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
            continue
        except ValueError:
            pass
        host = _host_normalise(value)
        if "/" in host or not _HOST_NAME.match(host):
            raise ImproperlyConfigured(
                f"WEBHOOK_ALLOWED_TARGETS: {value!r} is neither a host name nor an IP address or CIDR network"
            )
        hosts.add(host)
    return AllowedTargets(hosts=frozenset(hosts), networks=tuple(networks))


def _allowed_targets() -> AllowedTargets:
    return allowed_targets_parse(tuple(settings.WEBHOOK_ALLOWED_TARGETS))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (IPv4-mapped ::ffff:a.b.c.d, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: IPAddress) -> bool:
    """Globally routable unicast, and (for IPv6) not standing for an IPv4 address that is not."""
    if isinstance(address, ipaddress.IPv6Address):
        address = address if address.scope_id is None else ipaddress.IPv6Address(address.compressed.split("%")[0])
        embedded = _embedded_ipv4(address)
        if embedded is not None and not address_is_public(embedded):
            return False
    if any(address in network for network in _NEVER_PUBLIC if network.version == address.version):
        return False
    return address.is_global and not (
        address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified
    )


def address_allowed(address: IPAddress, *, host: str) -> bool:
    """May a delivery to `host` connect to `address`? Yes if the address is public, or the host or
    the address is listed in WEBHOOK_ALLOWED_TARGETS."""
    if address_is_public(address):
        return True
    targets = _allowed_targets()
    if host and _host_normalise(host) in targets.hosts:
        return True
    candidates = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            address = ipaddress.IPv6Address(address.compressed.split("%")[0])
            candidates.append(address)
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            candidates.append(embedded)
    return any(
        candidate in network
        for candidate in candidates
        for network in targets.networks
        if network.version == candidate.version
    )


def _is_legacy_ipv4(host: str) -> bool:
    """A host the C resolver reads as an IPv4 address although it is not dotted-quad (2130706433,
    0x7f.1, 127.1): refused, as it hides its address from anyone reading the URL."""
    try:
        socket.inet_aton(host)
    except (OSError, ValueError):
        return False
    return True


def url_check(url: str) -> str:
    """The URL, normalised, if an endpoint may have it; UnsafeUrl (saying why) otherwise.

    Absolute http(s) with a host and no credentials; https unless EVA_ENV is development or test
    (where plain http lets a local receiver be tried); a literal IP address must be allowed (see
    `address_allowed`). Host names are checked again at every connection, not here."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl("The URL is empty.")
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise UnsafeUrl(f"The URL is longer than {URL_MAX_LENGTH} characters.")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise UnsafeUrl("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"The URL is not valid: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UnsafeUrl("The URL must start with https://.")
    if scheme == "http" and settings.EVA_ENV not in _PLAIN_HTTP_ENVIRONMENTS:
        raise UnsafeUrl("The URL must use https.")
    if "@" in parts.netloc:
        raise UnsafeUrl("The URL must not contain credentials (user:password@).")
    # The root's trailing dot first: "127.0.0.1." is the address 127.0.0.1 to a resolver, and
    # must be checked as one, not passed as a name.
    host = (parts.hostname or "").removesuffix(".")
    if not host:
        raise UnsafeUrl("The URL has no host.")
    if port == 0:
        raise UnsafeUrl("The URL's port must be between 1 and 65535.")

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
            raise UnsafeUrl("The URL's IPv6 address must not carry a zone (%...).")
        if not address_allowed(address, host=host):
            raise UnsafeUrl("The URL's address is not a public one (private, loopback, link-local, reserved...).")
        netloc_host = f"[{address.compressed}]" if address.version == 6 else address.compressed
    else:
        if _is_legacy_ipv4(host):
            raise UnsafeUrl("Write the URL's IPv4 address as four decimal numbers (a.b.c.d).")
        if host.replace(".", "").isdigit():
            # The sender takes digits and dots for an address and refuses this one at every attempt.
            raise UnsafeUrl("The URL's IPv4 address is not valid.")
        try:
            netloc_host = host.encode("idna").decode("ascii").lower().rstrip(".")
        except UnicodeError:
            raise UnsafeUrl("The URL's host name is not valid.") from None
        if not _HOST_NAME.match(netloc_host):
            raise UnsafeUrl("The URL's host name is not valid.")
    netloc = netloc_host if port in (None, _DEFAULT_PORTS[scheme]) else f"{netloc_host}:{port}"
    normalised = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    if len(normalised) > URL_MAX_LENGTH:
        raise UnsafeUrl(f"The URL is longer than {URL_MAX_LENGTH} characters.")
    return normalised
