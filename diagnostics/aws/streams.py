"""AWS Site-to-Site VPN log stream names: the only place a tunnel log names its VPN connection and outside IP.

docs/sources.md#aws-log-fields: "The log stream file name uses VpnConnectionID and TunnelOutsideIPAddress"; AWS's
own sample splits it as `vpn-<hex>-<a.b.c.d>` and may be followed by a suffix (`-IKE`/`-BGP` are plausible but
unverified), and the BGP `resource_id` joins the two with an underscore. So names are parsed, never assumed.
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


@dataclass(frozen=True)
class StreamName:
    vpn_connection: str
    outside_ip: str
    suffix: str = ""


def parse_stream_name(name: str) -> StreamName | None:
    """`vpn-0123456789abcdef0-52.95.10.1-IKE` -> (vpn-0123456789abcdef0, 52.95.10.1, IKE); None if not a tunnel's."""
    match = STREAM_NAME.match(name.strip())
    if not match:
        return None
    return StreamName(match["vpn"].lower(), match["ip"].lower(), match["rest"] or "")


def is_tunnel_stream(name: str, connection: str, outside_ips: tuple[str, ...] = ()) -> bool:
    """The stream belongs to `connection` (and to one of `outside_ips` when they are known)."""
    parsed = parse_stream_name(name)
    if parsed is None or parsed.vpn_connection != connection.lower():
        return False
    return not outside_ips or parsed.outside_ip in {ip.lower() for ip in outside_ips}
