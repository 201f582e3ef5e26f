"""AWS Site-to-Site VPN log stream names: the only place a tunnel log names its VPN connection and outside IP.

docs/sources.md#aws-log-fields: "The log stream file name uses VpnConnectionID and TunnelOutsideIPAddress"; AWS's
own sample splits it as `vpn-<hex>-<a.b.c.d>` and may be followed by a suffix (`-IKE`/`-BGP` are plausible but
unverified), and the BGP `resource_id` joins the two with an underscore. So names are parsed, never assumed.

A bare connection id (`vpn-0123456789abcdef0`) also parses, with the outside IP unknown (""): it names the events of a
file that carries no stream name (`aws logs get-log-events` output, log messages copied from the console) once they
are attributed to a connection (diagnostics/aws/attribution.py); such events belong to whichever tunnel is asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: AWS's sample split (docs/sources.md#aws-log-fields) as a regex, widened to IPv6 outside addresses and to `_`
#: (BGP resource ids).
STREAM_NAME = re.compile(
    r"^(?P<vpn>vpn-[0-9a-f]{8,17})[-_](?P<ip>\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]+)(?:[-_.](?P<rest>.+))?$",
    re.I,
)
#: A connection id alone: the stream of events whose tunnel is unknown.
CONNECTION_ONLY = re.compile(r"^(?P<vpn>vpn-[0-9a-f]{8,17})$", re.I)
#: A stream name (or a connection id) inside a longer text, e.g. a file name `get-log-events-vpn-…-52.95.10.1.json`.
STREAM_IN_TEXT = re.compile(
    r"(?<![0-9a-z])(?P<vpn>vpn-[0-9a-f]{8,17})"
    r"(?:[-_](?P<ip>\d{1,3}(?:\.\d{1,3}){3}(?![0-9])|[0-9a-f:]*:[0-9a-f:]+))?", re.I,
)


@dataclass(frozen=True)
class StreamName:
    vpn_connection: str
    outside_ip: str
    suffix: str = ""


def parse_stream_name(name: str) -> StreamName | None:
    """`vpn-0123456789abcdef0-52.95.10.1-IKE` -> (vpn-0123456789abcdef0, 52.95.10.1, IKE); None if not a tunnel's."""
    match = STREAM_NAME.match(name.strip())
    if not match:
        alone = CONNECTION_ONLY.match(name.strip())
        return StreamName(alone["vpn"].lower(), "") if alone else None
    return StreamName(match["vpn"].lower(), match["ip"].lower(), match["rest"] or "")


def stream_in_text(text: str) -> str:
    """The last stream name (or connection id) a text such as a file path holds, `` when it holds none: the file
    `exports/vpn-0123456789abcdef0-52.95.10.1/000000` names its stream in its folder."""
    found = list(STREAM_IN_TEXT.finditer(text))
    if not found:
        return ""
    best = max(found, key=lambda m: (m["ip"] is not None, m.start()))  # a full stream name over a bare id
    return f"{best['vpn']}-{best['ip']}" if best["ip"] else best["vpn"]


def is_tunnel_stream(name: str, connection: str, outside_ips: tuple[str, ...] = ()) -> bool:
    """The stream belongs to `connection` (and to one of `outside_ips` when both are known)."""
    parsed = parse_stream_name(name)
    if parsed is None or parsed.vpn_connection != connection.lower():
        return False
    return not outside_ips or not parsed.outside_ip or parsed.outside_ip in {ip.lower() for ip in outside_ips}
