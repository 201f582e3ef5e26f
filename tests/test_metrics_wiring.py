"""Where metrics sources come from: the configuration opens Azure Monitor and CloudWatch next to the log sources, the
demo its in-process ones, and a gateway the configuration does not identify is found in its logs' ResourceId."""

from __future__ import annotations

from datetime import timedelta

from support.credentials import StaticTokenCredential
from support.demo import DEMO_NOW
from support.moto_server import MotoServer

from bot.config import config_from_mapping
from bot.workspace import Workspace, cloud_workspace, demo_workspace
from diagnostics.aws.metrics import CloudWatchMetricsSource
from diagnostics.azure.metrics import AzureMetricsSource, gateway_ids_from_logs
from diagnostics.investigate import investigate
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

CONFIG = {
    "azure": {"workspace_id": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b", "credential": "cli",
              "arm_endpoint": "https://management.usgovcloudapi.net"},
    "aws": {"region": "eu-west-1", "log_group": "/aws/vendedlogs/vpn"},
    "tunnels": [{"name": "paris", "azure_gateway": "VPNGW01", "azure_remote_ip": "203.0.113.10"},
                {"name": "dc1", "aws_vpn_connection": "vpn-0a1b2c3d4e5f60718"}],
}


def test_the_configuration_opens_azure_monitor_and_cloudwatch_metrics_next_to_the_logs(aws: MotoServer):
    workspace = cloud_workspace(config_from_mapping(CONFIG))
    azure, cloudwatch = workspace.sources.metrics
    assert isinstance(azure, AzureMetricsSource) and azure.endpoint == "https://management.usgovcloudapi.net"
    assert isinstance(cloudwatch, CloudWatchMetricsSource) and cloudwatch.region == "eu-west-1"
    assert cloudwatch.covers(workspace.registry.resolve("dc1"))


def test_the_arm_endpoint_defaults_to_the_public_cloud():
    config = config_from_mapping({"azure": {"workspace_id": "x"}, "tunnels": [CONFIG["tunnels"][0]]})
    assert config.azure.arm_endpoint == "https://management.azure.com"


def test_the_demo_workspace_carries_its_metrics_and_a_tunnels_listing_opens_none():
    assert len(demo_workspace(DEMO_NOW).sources.metrics) == 2
    assert demo_workspace(DEMO_NOW, logs=False).sources.metrics == ()


def test_a_gateway_the_config_does_not_identify_is_found_once_in_its_logs_resource_id(demo: Workspace):
    logs = demo.sources.kql[0]
    asked: list[int] = []
    resolve = gateway_ids_from_logs(logs, lambda: DEMO_NOW - timedelta(minutes=5))

    def counted() -> list[str]:
        asked.append(1)
        return resolve()

    source = AzureMetricsSource(credential=StaticTokenCredential(), resolver=counted)
    bare = Tunnel("paris", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10")
    assert source.covers(bare)
    assert source.resource_for(bare).upper().endswith("/VIRTUALNETWORKGATEWAYS/VPNGW01")
    assert source.covers(Tunnel("madrid", azure_gateway="VPNGW04", azure_remote_ip="198.51.100.70"))
    assert not source.covers(Tunnel("ghost", azure_gateway="VPNGW99", azure_remote_ip="198.51.100.99"))
    assert asked == [1]


def test_a_drop_answer_tells_the_metrics_its_gateway_s_resource_id_so_they_need_no_look_up_of_their_own(demo):
    """The tunnel query's summary row carries the gateway's ResourceId: reading the tunnel's metrics after its logs
    costs no second query over a week of the workspace."""
    asked: list[int] = []
    resolve = gateway_ids_from_logs(demo.sources.kql[0], lambda: DEMO_NOW - timedelta(minutes=5))

    def counted() -> list[str]:
        asked.append(1)
        return resolve()

    source = AzureMetricsSource(credential=StaticTokenCredential(), resolver=counted)
    bare = Tunnel("paris", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10")
    at = DEMO_NOW - timedelta(hours=20)
    investigate(bare, at - timedelta(minutes=15), at + timedelta(minutes=15),
                Sources(kql=demo.sources.kql, metrics=[source]), DEMO_NOW, anchor=at)
    assert source.resource_for(bare).upper().endswith("/VIRTUALNETWORKGATEWAYS/VPNGW01")
    assert asked == []
    assert source.covers(Tunnel("madrid", azure_gateway="VPNGW04", azure_remote_ip="198.51.100.70"))
    assert asked == [1]  # another gateway: looked up in the logs, once
