"""Tunnels discovered from EC2 `describe_vpn_connections`: connection ids, Name tags, both outside IPs, and the
log groups the tunnels publish to.

Outside IPs come from `Options.TunnelOptions[].OutsideIpAddress`, else `VgwTelemetry[].OutsideIpAddress`; the
log group from `TunnelOptions[].LogOptions.CloudWatchLogOptions.LogGroupArn` when logging is enabled
(docs/sources.md#aws-tunnel-options). moto returns none of these (docs/sources.md#aws-test-emulator), so with moto
discovery yields ids and names only and the outside IPs are learned from the stream names.

An endpoint that answers with something else than EC2's XML (a proxy's HTML page) makes discovery fail in one
sentence that says what came back, as any other failure does; under a question's deadline the client's timeouts and
retries end with it (`diagnostics.aws.cloudwatch.stop_at_deadline`).

Configured tunnels win: a discovered connection that a `[[tunnels]]` entry already names only fills in what the
entry left out (outside IPs: optional, discovered when omitted, docs/configuration.md).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoRegionError
from botocore.parsers import ResponseParserError

from diagnostics import deadline, replies
from diagnostics.aws.cloudwatch import DENIED, DeadlineReached, client_config, make_session, stop_at_deadline
from diagnostics.model import SourceError
from diagnostics.tunnels import Tunnel


@dataclass(frozen=True)
class DiscoveredConnection:
    connection_id: str
    name: str  # the Name tag, or "" when untagged
    outside_ips: tuple[str, ...]
    state: str
    log_groups: tuple[str, ...] = ()  # tunnel activity log groups (names, from the ARNs)
    bgp_log_groups: tuple[str, ...] = ()


def group_name(arn: str) -> str:
    """`arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/vpn:*` -> `/aws/vendedlogs/vpn`."""
    if ":log-group:" not in arn:
        return arn
    return arn.split(":log-group:", 1)[1].removesuffix(":*")


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def parse_connection(item: dict[str, Any]) -> DiscoveredConnection:
    tags = {t.get("Key"): t.get("Value", "") for t in item.get("Tags", [])}
    options = item.get("Options") or {}
    tunnels = options.get("TunnelOptions") or []
    ips = [t.get("OutsideIpAddress", "") for t in tunnels]
    ips += [t.get("OutsideIpAddress", "") for t in item.get("VgwTelemetry") or []]
    logs = [(t.get("LogOptions") or {}).get("CloudWatchLogOptions") or {} for t in tunnels]
    return DiscoveredConnection(
        connection_id=item["VpnConnectionId"],
        name=str(tags.get("Name") or ""),
        outside_ips=_unique(ips),
        state=str(item.get("State", "")),
        log_groups=_unique(group_name(o.get("LogGroupArn", "")) for o in logs if o.get("LogEnabled")),
        bgp_log_groups=_unique(group_name(o.get("BgpLogGroupArn", "")) for o in logs if o.get("BgpLogEnabled")),
    )


def discover_connections(ec2: Any) -> list[DiscoveredConnection]:
    """Every VPN connection of the client's region that is not deleted. Raises SourceError in one sentence."""
    call = "EC2 describe_vpn_connections"
    try:
        response = ec2.describe_vpn_connections()
    except ResponseParserError as exc:
        # botocore words it "Unable to parse response (…), invalid XML received…:\n<the body>"
        raise SourceError(_not_ec2(ec2, replies.describe(str(exc).partition("\n")[2], expected="XML"))) from None
    except DeadlineReached:
        raise SourceError(deadline.missed(call)) from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in DENIED:
            raise SourceError("EC2 describe_vpn_connections: access denied; grant ec2:DescribeVpnConnections to "
                              "list the VPN connections, or configure the tunnels in [[tunnels]].") from None
        raise SourceError(f"EC2 describe_vpn_connections failed ({code or 'error'}); tunnels are not "
                          "discovered.") from None
    except BotoCoreError as exc:
        raise SourceError(f"EC2 describe_vpn_connections failed ({type(exc).__name__}); tunnels are not "
                          "discovered.") from None
    content_type = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("content-type", "")
    if "VpnConnections" not in response and "xml" not in content_type:  # well-formed HTML parses, to nothing
        raise SourceError(_not_ec2(ec2, replies.describe(None, content_type, expected="XML")))
    found = [parse_connection(item) for item in response.get("VpnConnections", [])]
    return [c for c in found if c.state not in ("deleted", "deleting")]


def _not_ec2(ec2: Any, what: str) -> str:
    return (f"EC2 describe_vpn_connections at {ec2.meta.endpoint_url} answered with {what}, not an EC2 reply"
            f"{replies.proxy_hint(what)}; check AWS_ENDPOINT_URL and the proxy settings; tunnels are not discovered.")


def discover(region: str = "", profile: str = "", endpoint_url: str | None = None) -> list[DiscoveredConnection]:
    try:
        left = deadline.remaining()
        client = stop_at_deadline(make_session(region, profile).client(
            "ec2", config=client_config(3, left), endpoint_url=endpoint_url), left)
    except NoRegionError:
        raise SourceError("EC2 describe_vpn_connections: no AWS region is set; set [aws] region (or the "
                          "AWS_DEFAULT_REGION environment variable, or a profile's region).") from None
    return discover_connections(client)


_NAME_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def tunnel_name(found: DiscoveredConnection) -> str:
    """A Name tag as people would type it (`DC 1 / Frankfurt` -> `DC-1-Frankfurt`), else the connection id."""
    cleaned = _NAME_SAFE.sub("-", found.name).strip("-")
    return cleaned or found.connection_id


def merge_discovered(configured: Sequence[Tunnel], found: Iterable[DiscoveredConnection]) -> list[Tunnel]:
    """Configured tunnels (completed with discovered outside IPs) followed by the tunnels only discovery knows."""
    by_id = {f.connection_id.lower(): f for f in found}
    out: list[Tunnel] = []
    taken = {n.lower() for t in configured for n in (t.name, *t.aliases)}
    for tunnel in configured:
        match = by_id.pop(tunnel.aws_vpn_connection.lower(), None) if tunnel.aws_vpn_connection else None
        if match and not tunnel.aws_outside_ips and match.outside_ips:
            tunnel = dataclasses.replace(tunnel, aws_outside_ips=match.outside_ips)
        if match and match.log_groups and "aws_log_group" not in tunnel.extra:
            tunnel = dataclasses.replace(tunnel, extra={**tunnel.extra, "aws_log_group": match.log_groups[0]})
        out.append(tunnel)
    for found_one in by_id.values():
        name = tunnel_name(found_one)
        if name.lower() in taken:
            name = found_one.connection_id
        taken.add(name.lower())
        extra: dict[str, Any] = {"discovered": "ec2 describe_vpn_connections"}
        if found_one.log_groups:
            extra["aws_log_group"] = found_one.log_groups[0]
        out.append(Tunnel(name=name, aws_vpn_connection=found_one.connection_id,
                          aws_outside_ips=found_one.outside_ips, extra=extra))
    return out
