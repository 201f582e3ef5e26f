"""A question's deadline (diagnostics/deadline.py) reaches the sources: an endpoint that accepts the connection and
never answers fails that source, in one sentence naming it, when the deadline comes, and the other sources still
answer. The endpoints are real sockets on 127.0.0.1 (the local Log Analytics endpoint holding a request, a server that
accepts and never replies); the clients are the production ones. No test measures how long anything took."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.gateway_rows import MAINTENANCE_FAILOVER as ROWS
from support.gateway_rows import REMOTE
from support.moto_server import REGION
from support.raw_endpoints import SilentServer

from diagnostics import deadline
from diagnostics.aws.cloudwatch import CloudWatchLogsSource
from diagnostics.aws.discovery import discover
from diagnostics.aws.sources import TunnelLogRequest
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.model import Cause, SourceError
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.ask import ask

WORKSPACE = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
NOW = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
VPN = "vpn-0123456789abcdef0"
DC1 = Tunnel(name="dc1", azure_gateway="VPNGW01", azure_remote_ip=REMOTE)
#: The same site, linked to an AWS VPN connection.
LINKED = Tunnel(name="dc1", azure_gateway="VPNGW01", azure_remote_ip=REMOTE, aws_vpn_connection=VPN,
                aws_outside_ips=("52.95.10.1", "52.95.10.2"))
DEADLINE_S = 2


def export() -> LocalWorkspace:
    """The same rows as an export someone was sent (`--azure-export`): a local source."""
    workspace = LocalWorkspace(label="export vpngw01.csv", origin="vpngw01.csv")
    workspace.load_rows(ROWS)
    return workspace


def test_a_log_analytics_workspace_that_never_answers_fails_at_the_deadline_and_the_export_answers(
        log_analytics, azure_source):
    server = log_analytics({WORKSPACE: ROWS}, now=lambda: NOW)
    server.hang(workspace=WORKSPACE)
    hanging = azure_source(server, WORKSPACE)
    with deadline.within(DEADLINE_S):
        answer = ask("why did dc1 drop at 02:10", TunnelRegistry([DC1]), Sources(kql=[hanging, export()]), NOW,
                     UTC_ZONE)
    server.wait_held(1)
    inv = answer.investigation
    assert inv is not None and inv.findings[0].cause is Cause.MAINTENANCE_FAILOVER
    (failure,) = inv.failures
    assert failure.startswith(f"Log Analytics workspace {WORKSPACE} did not answer within the question's 2 s "
                              f"deadline (no answer from {server.endpoint})")
    assert "\n" not in failure and len(server.requests) == 1  # the follow-up queries were not sent to it


def test_a_silent_cloudwatch_endpoint_fails_at_the_deadline_and_the_azure_side_answers(aws, monkeypatch):
    with SilentServer() as silent:
        monkeypatch.setenv("AWS_ENDPOINT_URL", silent.endpoint)
        cloudwatch = CloudWatchLogsSource("/aws/vendedlogs/vpn", region=REGION)
        with deadline.within(DEADLINE_S):
            answer = ask("why did dc1 drop at 02:10", TunnelRegistry([LINKED]),
                         Sources(kql=[export()], aws=[cloudwatch]), NOW, UTC_ZONE)
        silent.wait_connections(1)
    inv = answer.investigation
    assert inv is not None and inv.findings[0].cause is Cause.MAINTENANCE_FAILOVER
    (failure,) = inv.failures
    assert failure.startswith("AWS side: CloudWatch Logs")
    assert "did not answer within the question's 2 s deadline" in failure and "\n" not in failure


def test_a_read_whose_deadline_has_passed_does_not_connect(aws, monkeypatch):
    with SilentServer() as silent:
        monkeypatch.setenv("AWS_ENDPOINT_URL", silent.endpoint)
        cloudwatch = CloudWatchLogsSource("/aws/vendedlogs/vpn", region=REGION)
        request = TunnelLogRequest(VPN, (), NOW - timedelta(hours=3), NOW)
        with deadline.within(0), pytest.raises(SourceError, match="did not answer within the question's 0 s"):
            cloudwatch.read_tunnel_logs(request)
        assert silent.connections == 0 and cloudwatch.attempts == 0


def test_discovery_from_a_silent_ec2_endpoint_fails_at_the_deadline(aws, monkeypatch):
    with SilentServer() as silent:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", silent.endpoint)
        with deadline.within(DEADLINE_S), pytest.raises(SourceError) as raised:
            discover(REGION)
        silent.wait_connections(1)
    assert str(raised.value).startswith("EC2 describe_vpn_connections did not answer within the question's 2 s "
                                        "deadline")


def test_the_sentence_names_the_deadline_in_force_the_earlier_of_nested_ones():
    with deadline.within(90), deadline.within(300):
        assert deadline.length() == 90
    with deadline.within(300), deadline.within(90):
        assert deadline.missed("CloudWatch Logs group g").startswith(
            "CloudWatch Logs group g did not answer within the question's 90 s deadline;")
    assert deadline.length() is None and deadline.remaining() is None
