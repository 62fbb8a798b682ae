"""Which URLs a webhook may post to: absolute http(s), no credentials, never the gateway itself.

A webhook pointing at the gateway would have PilotGraph post its own events to its own API (a
loop at best, a request forged with the gateway's network position at worst), so the gateway's
own origins are refused: the hosts it serves (``PILOTGRAPH_BASE_DOMAIN`` and its subdomains,
``PILOTGRAPH_PUBLIC_HOSTS``) and its own listener (host and port of ``pilotgraph serve``, with
the loopback and unspecified addresses read as the same machine).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rollout.errors import InvalidWebhookUrl

MAX_URL = 2000
# names of this machine, compared with the listener (a comparison, not a bind)
LOCAL = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})  # noqa: S104


@dataclass(frozen=True, slots=True)
class OwnOrigins:
    """Where the gateway itself answers."""

    hosts: Collection[str] = ()  # served names: any port, subdomains included
    listeners: Collection[tuple[str, int]] = field(default=())  # (host, port) it binds

    def covers(self, host: str, port: int) -> bool:
        if any(host == h or host.endswith("." + h) for h in self.hosts):
            return True
        return any(
            port == p and (host == h or (host in LOCAL and h in LOCAL)) for h, p in self.listeners
        )


def check(url: str, own: OwnOrigins) -> str:
    """``url`` trimmed, or InvalidWebhookUrl saying why it cannot receive webhooks."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise InvalidWebhookUrl(f"A webhook URL is 1 to {MAX_URL} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhookUrl(f"Not a URL: {exc}.") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidWebhookUrl("A webhook URL must start with http:// or https://.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise InvalidWebhookUrl("A webhook URL must name a host.")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("Put no credentials in a webhook URL; the signature is its proof.")
    if own.covers(host, port or (443 if parts.scheme == "https" else 80)):
        raise InvalidWebhookUrl("A webhook cannot point at this gateway itself.")
    return url
