"""HTTP to customers' webhook URLs without becoming a way into our own network (SSRF).

Every hop is checked when it is made, not only when the URL was registered: the host name is
resolved, every address must be public (or inside WEBHOOK_ALLOWED_NETWORKS), and the connection
goes to the address that was checked — a DNS answer that changes between the check and the
connect (rebinding) cannot redirect it. Redirects are followed by hand, each hop checked the same
way, at most WEBHOOK_MAX_REDIRECTS of them."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from photolisting.errors import ApplicationError

BODY_KEPT = 500  # bytes of a receiver's answer kept in the delivery log


class TargetRefused(ApplicationError):
    """The URL (or a hop it redirected to) is not one we may call."""

    code = "invalid_url"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.is_global or settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return True
    return any(ip in ipaddress.ip_network(net) for net in settings.WEBHOOK_ALLOWED_NETWORKS)


def _http_url(url: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused(_("The URL must be http(s)://host/…"))
    return parts


def check_url(url: str) -> None:
    """At registration. Where any address may be called (WEBHOOK_ALLOW_PRIVATE_URLS: make run,
    tests) the host need not resolve yet; every delivery checks again."""
    _http_url(url)
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        checked_address(url)


def checked_address(url: str) -> str:
    """The address to connect to for ``url``, after checking the scheme and every address
    its host resolves to; TargetRefused otherwise."""
    parts = _http_url(url)
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)]
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(_("The host name does not resolve.")) from error
    if not all(_allowed(address) for address in addresses):
        raise TargetRefused(_("Webhook URLs must point to a public address."))
    if parts.scheme != "https" and not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        trusted = all(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)
        if not trusted:  # plain http only inside the networks we were told to trust
            raise TargetRefused(_("Webhook URLs must use https."))
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, **kwargs) -> None:
        super().__init__(host, **kwargs)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, **kwargs) -> None:
        super().__init__(host, context=ssl.create_default_context(), **kwargs)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POSTs ``body`` to ``url``, following redirects hop by hop (each one checked; 307/308
    keep the POST, the others are not followed further). TargetRefused before any connection
    to a refused hop, so nothing from it is ever read; OSError for network failures."""
    for _hop in range(settings.WEBHOOK_MAX_REDIRECTS + 1):
        address = checked_address(url)
        parts = urlsplit(url)
        pinned = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = pinned(parts.hostname, address, port=parts.port, timeout=timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", target, body, headers)
            response = connection.getresponse()
            location = response.getheader("Location")
            if response.status in (307, 308) and location:
                url = urljoin(url, location)
                continue
            return Answer(response.status, response.read(BODY_KEPT).decode("utf-8", "replace"))
        finally:
            connection.close()
    raise TargetRefused(_("Too many redirects."))
