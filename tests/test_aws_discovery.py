"""Tunnels discovered from EC2 describe_vpn_connections: ids and Name tags from moto, outside IPs and log groups
from the fields moto does not emulate (a botocore Stubber; docs/sources.md#aws-tunnel-options for what the API
returns), merged with the configured tunnels."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from support.moto_server import REGION

from diagnostics.aws.discovery import discover, discover_connections, group_name, merge_discovered
from diagnostics.model import SourceError
from diagnostics.tunnels import Tunnel, TunnelRegistry

VPN = "vpn-0123456789abcdef0"


def test_connections_and_name_tags_come_from_ec2(aws):
    tagged, untagged = aws.vpn_connection("DC 9 / Madrid"), aws.vpn_connection()
    found = {c.connection_id: c for c in discover(REGION)}
    assert set(found) == {tagged, untagged}
    assert found[tagged].name == "DC 9 / Madrid" and found[untagged].name == ""
    tunnels = {t.aws_vpn_connection: t for t in merge_discovered([], found.values())}
    assert tunnels[tagged].name == "DC-9-Madrid" and tunnels[untagged].name == untagged
    assert tunnels[tagged].extra["discovered"]


def test_denied_discovery_is_one_sentence(aws):
    aws.fail("DescribeVpnConnections", "UnauthorizedOperation")
    with pytest.raises(SourceError, match=r"access denied; grant ec2:DescribeVpnConnections"):
        discover(REGION)


REAL_SHAPE = {
    "VpnConnections": [{
        "VpnConnectionId": VPN, "State": "available", "Type": "ipsec.1", "CustomerGatewayId": "cgw-0abc",
        "Tags": [{"Key": "Name", "Value": "dc1"}],
        "Options": {"TunnelOptions": [
            {"OutsideIpAddress": "52.95.10.1", "LogOptions": {"CloudWatchLogOptions": {
                "LogEnabled": True, "LogOutputFormat": "json",
                "LogGroupArn": f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/vendedlogs/vpn:*",
                "BgpLogEnabled": True,
                "BgpLogGroupArn": f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/vendedlogs/vpn-bgp:*"}}},
            {"OutsideIpAddress": "52.95.10.2", "LogOptions": {"CloudWatchLogOptions": {"LogEnabled": False}}},
        ]},
        "VgwTelemetry": [{"OutsideIpAddress": "52.95.10.1", "Status": "UP"},
                         {"OutsideIpAddress": "52.95.10.2", "Status": "DOWN"}],
    }, {
        "VpnConnectionId": "vpn-0fedcba9876543210", "State": "deleted", "Type": "ipsec.1",
        "CustomerGatewayId": "cgw-0def",
    }],
}


def stubbed() -> list:
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ec2) as stub:
        stub.add_response("describe_vpn_connections", REAL_SHAPE)
        return discover_connections(ec2)


def test_outside_ips_and_log_groups_come_from_tunnel_options():
    found = stubbed()
    assert len(found) == 1  # deleted connections are not tunnels
    assert found[0].outside_ips == ("52.95.10.1", "52.95.10.2")
    assert found[0].log_groups == ("/aws/vendedlogs/vpn",)
    assert found[0].bgp_log_groups == ("/aws/vendedlogs/vpn-bgp",)


def test_configured_tunnel_is_completed_not_replaced():
    configured = Tunnel(name="frankfurt", aliases=("fra",), aws_vpn_connection=VPN)
    merged = merge_discovered([configured], stubbed())
    assert len(merged) == 1
    assert merged[0].name == "frankfurt" and merged[0].aws_outside_ips == ("52.95.10.1", "52.95.10.2")
    assert merged[0].extra["aws_log_group"] == "/aws/vendedlogs/vpn" and "discovered" not in merged[0].extra
    registry = TunnelRegistry(merged)
    for reference in ("frankfurt", "fra", VPN, "52.95.10.2"):
        assert registry.resolve(reference) is merged[0]


def test_a_discovered_name_taken_by_a_configured_tunnel_falls_back_to_the_id():
    taken = Tunnel(name="dc1", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10")
    merged = merge_discovered([taken], stubbed())
    assert [t.name for t in merged] == ["dc1", VPN]


@pytest.mark.parametrize(("arn", "name"), [
    ("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/vpn:*", "/aws/vendedlogs/vpn"),
    ("arn:aws:logs:eu-west-1:123456789012:log-group:vpns2s/log", "vpns2s/log"),
    ("/aws/vpn/vpn-0123", "/aws/vpn/vpn-0123"),
])
def test_log_group_names_from_arns(arn, name):
    assert group_name(arn) == name
