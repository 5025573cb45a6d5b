"""The client's address: the one function that login throttling, the public pages' flood
counters and the audit trail ask.

Behind reverse proxies the connection comes from the last proxy; each proxy appends the address
it was reached from to X-Forwarded-For. ``DJANGO_PROXY_COUNT`` says how many of them there are
(settings ``EDS_PROXY_COUNT``): the client is that many entries from the right of the header,
which django-ipware reads. Whatever stands further left was written by the client and is never
believed. Without proxies (0) the header is ignored; with ``DJANGO_TRUSTED_PROXIES`` it is read
only on connections from those addresses.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import cast

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_CACHE_ATTRIBUTE = "_eds_client_ip"
_MISSING = object()


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parsed(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket (::ffff:203.0.113.7) is that IPv4 client.
    mapped = getattr(parsed, "ipv4_mapped", None)
    return mapped or parsed


def from_trusted_proxy(remote_addr: str | None) -> bool:
    """Whether the connection comes from a proxy whose X-Forwarded-For may be read."""
    trusted = tuple(settings.EDS_TRUSTED_PROXIES)
    if not trusted:
        return True
    address = _parsed(remote_addr)
    return address is not None and any(
        address.version == network.version and address in network for network in _networks(trusted)
    )


def _resolve(request: HttpRequest) -> str | None:
    remote = _parsed(request.META.get("REMOTE_ADDR"))
    remote_text = str(remote) if remote is not None else None
    proxies = settings.EDS_PROXY_COUNT
    if proxies <= 0 or not from_trusted_proxy(remote_text):
        return remote_text
    # ipware counts the proxies *listed in the header* (those before the last one): with N
    # proxies in front of us the header holds the client then N-1 proxies' addresses. A header
    # shorter than that (a request that did not pass every proxy) gives nothing: the connection's
    # address is used.
    client, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=proxies - 1,
        request_header_order=("HTTP_X_FORWARDED_FOR",),
        strict=False,
    )
    found = _parsed(client)
    return str(found) if found is not None else remote_text


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for this request (read once per request)."""
    cached = getattr(request, _CACHE_ATTRIBUTE, _MISSING)
    if cached is _MISSING:
        cached = _resolve(request)
        setattr(request, _CACHE_ATTRIBUTE, cached)
    return cast("str | None", cached)
