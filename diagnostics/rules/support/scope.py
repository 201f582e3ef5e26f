"""Whether a row of the whole gateway is about one tunnel: a configuration change and a BGP peer.

A VPN gateway logs its configuration changes (GatewayDiagnosticLog) and its BGP sessions (RouteDiagnosticLog) for
all its connections at once, without the remoteIP_s that ties a TunnelDiagnosticLog row to one tunnel. A rule that
reads such a row for one tunnel first asks whose it is; these helpers answer from the row and the tunnel's other
rows, never from a guess.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from diagnostics.azure.ike import parse_traffic_selectors
from diagnostics.model import Event, EventKind
from diagnostics.tunnels import Tunnel

#: "Set connection configuration for cn-vpngw01-paris …", "Set gateway configuration succeeded: local network gateway
#: lng-lyon address space updated": the connection or local network gateway a change names (a local network gateway
#: is one site's, so its change re-negotiates that site's connection only).
_CONNECTION_NAMED = re.compile(
    r"(?:connection(?: configuration)? (?:for|of)|local network gateway) ['\"]?([A-Za-z0-9][\w.-]*)", re.I)


def concerns_tunnel(change: Event, tunnel: Tunnel) -> bool | None:
    """Whether a configuration change row is about this tunnel's connection: True, False (another connection's), or
    None when it names no connection (a real row may carry no Message; the endpoint columns are not always there)."""
    endpoint = change.remote_ip or change.get("configuration_RemoteTunnelEndpoint_s")
    if endpoint and tunnel.azure_remote_ip:
        return endpoint == tunnel.azure_remote_ip
    named = _CONNECTION_NAMED.search(change.message)
    if named is None:
        return None
    words = _words(named.group(1))
    known = [_words(n) for n in (tunnel.name, *tunnel.aliases, str(tunnel.extra.get("azure_connection", ""))) if n]
    # A name of several words ("paris-dc") is this tunnel's when they come in a row ("cn-vpngw01-paris-dc").
    return any(words[i:i + len(k)] == k for k in known if k for i in range(len(words) - len(k) + 1))


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


_PEER = re.compile(r"\bpeer\s+([0-9A-Fa-f][0-9A-Fa-f.:]*[0-9A-Fa-f])")


def bgp_peer(event: Event) -> str:
    """The peer address a RouteDiagnosticLog row names ("BGP peer 10.1.0.254 disconnected"), or ""."""
    found = _PEER.search(event.message)
    return found.group(1) if found else ""


def names_peer(message: str, peer: str) -> bool:
    """The message names exactly this address (10.1.0.25 is not 10.1.0.254)."""
    return re.search(rf"(^|[^0-9A-Fa-f.:]){re.escape(peer)}($|[^0-9A-Fa-f.:])", message) is not None


def within_selectors(address: str, rows: Iterable[Event]) -> bool:
    """The address lies inside a traffic selector of these IKE rows (the tunnel's own negotiations), any-to-any
    selectors left out: a route-based tunnel's 0.0.0.0/0 covers every address and so tells nothing."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    read: set[str] = set()  # every retry logs the same selectors under another SESSION_ID: each text read once
    for row in rows:
        text = row.message
        if row.kind is not EventKind.IKE or "Traffic Selector" not in text:
            continue
        if text[49:50] == "}" and text.startswith("SESSION_ID :{"):
            text = text[50:]
        if text in read:
            continue
        read.add(text)
        selectors = parse_traffic_selectors(text)
        if selectors is None:
            continue
        for r in (*selectors.initiator, *selectors.responder):
            try:
                start, end = ipaddress.ip_address(r.start), ipaddress.ip_address(r.end)
            except ValueError:
                continue
            whole = int(start) == 0 and int(end) == (1 << start.max_prefixlen) - 1
            if not whole and start.version == ip.version and start <= ip <= end:
                return True
    return False
