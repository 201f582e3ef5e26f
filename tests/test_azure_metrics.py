"""The Azure Monitor metrics source through the real azure-mgmt-monitor client, over HTTPS, against the local ARM
metrics endpoint (tests/support/metrics_server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.monitor import MonitorManagementClient
from support.azure_client import TransportSleeps
from support.credentials import StaticTokenCredential
from support.metrics_server import GRAIN_S, MetricsServer, Stored

from diagnostics import deadline
from diagnostics.azure.metrics import AzureMetricsSource
from diagnostics.azure.metrics_query import any_of, odata_string
from diagnostics.traffic.model import Metric
from diagnostics.tunnels import Tunnel

SUB = "5d2f7a91-3c48-4e0b-b6a2-9f1e8c7d4a30"
GW1 = f"/subscriptions/{SUB}/resourceGroups/RG-NET/providers/Microsoft.Network/virtualNetworkGateways/VPNGW01"
GW2 = f"/subscriptions/{SUB}/resourceGroups/RG-NET/providers/Microsoft.Network/virtualNetworkGateways/VPNGW02"
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
TUNNEL_NAMES = ("TunnelAverageBandwidth", "TunnelIngressBytes", "TunnelEgressBytes", "TunnelIngressPackets",
                "TunnelEgressPackets", "TunnelIngressPacketDropTSMismatch", "TunnelEgressPacketDropTSMismatch",
                "TunnelIngressPacketDropCount", "TunnelEgressPacketDropCount")


def tunnel(name: str, gateway: str, ip: str, **extra: str) -> Tunnel:
    return Tunnel(name, azure_gateway=gateway, azure_remote_ip=ip, azure_resource_group="RG-NET",
                  azure_subscription=SUB, extra=extra)


def every_5_min(value: float, skip: tuple[int, ...] = ()) -> tuple[tuple[float, float], ...]:
    base = START.timestamp()
    return tuple((base + i * GRAIN_S, value) for i in range(12) if i not in skip)


def tunnel_series(ip: str, connection: str, bytes_in: float, bytes_out: float, ts_drops: float = 0) -> list[Stored]:
    dims = {"ConnectionName": connection, "RemoteIP": ip, "Instance": "GatewayTenantWorker_IN_0"}
    values = {"TunnelIngressBytes": bytes_in, "TunnelEgressBytes": bytes_out, "TunnelIngressPackets": bytes_in / 700,
              "TunnelEgressPackets": bytes_out / 700, "TunnelIngressPacketDropTSMismatch": ts_drops,
              "TunnelEgressPacketDropTSMismatch": 0, "TunnelIngressPacketDropCount": 0,
              "TunnelEgressPacketDropCount": 0, "TunnelAverageBandwidth": (bytes_in + bytes_out) / GRAIN_S}
    return [Stored(name, dims, every_5_min(value)) for name, value in values.items()]


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    with MetricsServer({
        GW1: [*tunnel_series("203.0.113.10", "cn-paris", 1000, 3000),
              *tunnel_series("203.0.113.20", "cn-lyon", 0, 5000, ts_drops=40),
              Stored("BgpPeerStatus", {"BgpPeerAddress": "10.1.0.254", "Instance": "IN_0"}, every_5_min(1)),
              Stored("BgpRoutesLearned", {"BgpPeerAddress": "10.1.0.254", "Instance": "IN_0"}, every_5_min(0)),
              Stored("BgpRoutesAdvertised", {"BgpPeerAddress": "10.1.0.254", "Instance": "IN_0"}, every_5_min(2)),
              Stored("BgpPeerStatus", {"BgpPeerAddress": "10.9.9.9", "Instance": "IN_0"}, every_5_min(1))],
        GW2: tunnel_series("198.51.100.40", "cn-berlin", 700, 700),
    }) as running:
        yield running


@pytest.fixture
def source(server: MetricsServer, azure_sleeps: TransportSleeps) -> Iterator[AzureMetricsSource]:
    azure_sleeps.watch(server)
    made = AzureMetricsSource(credential=StaticTokenCredential(server.token), endpoint=server.endpoint,
                              connection_verify=server.ca_path)
    yield made
    made.close()


PARIS = tunnel("paris", "VPNGW01", "203.0.113.10", bgp_peer_ip="10.1.0.254")
LYON = tunnel("lyon", "VPNGW01", "203.0.113.20")
BERLIN = tunnel("berlin", "VPNGW02", "198.51.100.40")


def test_one_call_per_gateway_carries_every_tunnel_metric_of_every_tunnel_split_by_remote_ip(
        server: MetricsServer, source: AzureMetricsSource):
    traffic = source.read([LYON, BERLIN], START, END, 300)
    assert len(server.requests) == 2
    gw1 = next(r for r in server.requests if "VPNGW01" in r.path)
    assert gw1.query["metricnames"].split(",") == list(TUNNEL_NAMES)
    assert gw1.query["$filter"] == "RemoteIP eq '203.0.113.20'"
    assert gw1.query["interval"] == "PT5M" and gw1.query["timespan"] == "2026-11-22T09:00:00Z/2026-11-22T10:00:00Z"
    assert traffic["lyon"].get(Metric.BYTES_OUT).total == 12 * 5000
    assert traffic["lyon"].get(Metric.BYTES_IN).total == 0
    assert traffic["lyon"].get(Metric.TS_DROPS_IN).total == 12 * 40
    assert traffic["berlin"].get(Metric.BYTES_IN).total == 12 * 700
    assert traffic["lyon"].queries[0].backend == "azure-monitor-metrics"
    assert not traffic["lyon"].failures and not traffic["berlin"].failures


def test_two_tunnels_of_one_gateway_share_its_one_call(server: MetricsServer, source: AzureMetricsSource):
    traffic = source.read([tunnel("paris", "VPNGW01", "203.0.113.10"), LYON], START, END, 300)
    assert len(server.requests) == 1
    assert server.requests[0].query["$filter"] == "RemoteIP eq '203.0.113.10' or RemoteIP eq '203.0.113.20'"
    assert traffic["paris"].get(Metric.BYTES_IN).total == 12 * 1000
    assert traffic["lyon"].get(Metric.BYTES_IN).total == 0


def test_bgp_metrics_come_from_a_second_call_split_by_the_peer_only_when_the_tunnel_names_its_peer(
        server: MetricsServer, source: AzureMetricsSource):
    traffic = source.read([PARIS], START, END, 300)["paris"]
    assert len(server.requests) == 2
    bgp = server.requests[1].query
    assert bgp["metricnames"] == "BgpPeerStatus,BgpRoutesAdvertised,BgpRoutesLearned"
    assert bgp["$filter"] == "BgpPeerAddress eq '10.1.0.254'"
    assert traffic.get(Metric.BGP_PEER_UP).points[0][1] == 1
    assert traffic.get(Metric.ROUTES_LEARNED).total == 0 and traffic.get(Metric.ROUTES_ADVERTISED).total == 24
    assert traffic.get(Metric.BGP_PEER_UP).dimension == "10.1.0.254"


def test_the_service_refuses_one_filter_over_tunnel_and_bgp_metrics_so_they_are_never_mixed(
        server: MetricsServer):
    client = MonitorManagementClient(StaticTokenCredential(server.token), SUB, base_url=server.endpoint,
                                     connection_verify=server.ca_path,
                                     credential_scopes=[f"{server.endpoint}/.default"])
    with pytest.raises(HttpResponseError) as refused:
        client.metrics.list(GW1.lstrip("/"), timespan="2026-11-22T09:00:00Z/2026-11-22T10:00:00Z", interval="PT5M",
                            metricnames="TunnelIngressBytes,BgpPeerStatus", aggregation="total",
                            filter="RemoteIP eq '203.0.113.10'")
    client.close()
    assert refused.value.status_code == 400
    assert "does not support requested dimension combination" in str(refused.value)


def test_a_quote_in_a_remote_ip_reaches_the_filter_doubled_and_matches_nothing_else(
        server: MetricsServer, source: AzureMetricsSource):
    sneaky = tunnel("sneaky", "VPNGW01", "x' or RemoteIP eq '203.0.113.10")
    traffic = source.read([sneaky], START, END, 300)["sneaky"]
    assert server.requests[0].query["$filter"] == "RemoteIP eq 'x'' or RemoteIP eq ''203.0.113.10'"
    assert traffic.get(Metric.BYTES_IN) is None and not traffic.failures  # the literal matched no tunnel
    assert traffic.notes == ["Azure Monitor has no tunnel metrics of VPNGW01 for RemoteIP x' or RemoteIP eq "
                             "'203.0.113.10 in this window; check the tunnel's azure_remote_ip."]
    assert odata_string("o'brien") == "'o''brien'"
    assert any_of("RemoteIP", ["b", "a", "b"]) == "RemoteIP eq 'a' or RemoteIP eq 'b'"


def test_an_interval_the_service_returned_no_value_for_is_absent_not_zero(azure_sleeps: TransportSleeps):
    dims = {"RemoteIP": "203.0.113.10", "ConnectionName": "cn-paris", "Instance": "IN_0"}
    with MetricsServer({GW1: [Stored("TunnelIngressBytes", dims, every_5_min(500, skip=(3, 4, 5)))]}) as server:
        source = AzureMetricsSource(credential=StaticTokenCredential(server.token), endpoint=server.endpoint,
                                    connection_verify=server.ca_path)
        series = source.read([tunnel("paris", "VPNGW01", "203.0.113.10")], START, END, 300)["paris"]
        source.close()
    points = series.get(Metric.BYTES_IN).points
    assert len(points) == 9 and START.timestamp() + 3 * GRAIN_S not in [t for t, _ in points]


def test_a_coarser_interval_uses_the_next_grain_the_service_serves_and_sums_totals(
        server: MetricsServer, source: AzureMetricsSource):
    traffic = source.read([BERLIN], START, END, 3600)["berlin"]
    assert server.requests[0].query["interval"] == "PT1H"
    assert traffic.get(Metric.BYTES_IN).points == ((START.timestamp(), 12 * 700.0),)


def test_missing_monitoring_reader_role_is_one_line_in_failures_not_an_exception(
        server: MetricsServer, source: AzureMetricsSource):
    server.deny()
    traffic = source.read([LYON], START, END, 300)["lyon"]
    assert not traffic.readable
    assert traffic.failures == [
        "Azure Monitor tunnel metrics of VPNGW01: the identity may not read them (HTTP 403 AuthorizationFailed): grant "
        "it the Monitoring Reader role on the gateway or its resource group."]
    assert len(server.requests) == 1  # a 403 is not retried


def test_throttling_is_retried_after_the_retry_after_it_asks_for(
        server: MetricsServer, source: AzureMetricsSource, azure_sleeps: TransportSleeps):
    server.throttle(2, retry_after=3)
    traffic = source.read([LYON], START, END, 300)["lyon"]
    assert traffic.get(Metric.BYTES_OUT).total == 12 * 5000 and not traffic.failures
    assert [w.seconds for w in azure_sleeps.waits] == [3, 3]
    assert len(server.requests) == 3


def test_an_endpoint_that_keeps_failing_degrades_to_one_line_after_the_retries(
        server: MetricsServer, source: AzureMetricsSource):
    server.fail(10, status=500)
    traffic = source.read([LYON, BERLIN], START, END, 300)
    assert traffic["lyon"].failures == ["Azure Monitor tunnel metrics of VPNGW01: Azure Monitor failed with HTTP 500 "
                                        "(still after 4 retries)."]
    assert len(traffic["berlin"].failures) == 1 and not traffic["berlin"].readable


def test_an_unreachable_endpoint_is_one_line(azure_sleeps: TransportSleeps):
    source = AzureMetricsSource(credential=StaticTokenCredential(), endpoint="https://127.0.0.1:9", retry_total=0)
    traffic = source.read([LYON], START, END, 300)["lyon"]
    assert traffic.failures == ["Azure Monitor tunnel metrics of VPNGW01: cannot reach https://127.0.0.1:9; check the "
                                "network, the proxy and [azure] arm_endpoint."]


def test_the_token_is_asked_for_the_configured_arm_endpoint(server: MetricsServer):
    credential = StaticTokenCredential(server.token)
    source = AzureMetricsSource(credential=credential, endpoint=server.endpoint, connection_verify=server.ca_path)
    source.read([BERLIN], START, END, 300)
    source.close()
    assert credential.scopes == [(f"{server.endpoint}/.default",)]
    assert server.requests[0].auth_valid


def test_a_gateway_known_only_from_log_rows_resource_id_is_covered(server: MetricsServer,
                                                                    source: AzureMetricsSource):
    bare = Tunnel("berlin", azure_gateway="VPNGW02", azure_remote_ip="198.51.100.40")
    assert not source.covers(bare)
    source.learn([GW2.upper()])
    assert source.covers(bare)
    assert source.read([bare], START, END, 300)["berlin"].get(Metric.BYTES_IN).total == 12 * 700


def test_a_configured_gateway_id_wins_over_the_parts(server: MetricsServer, source: AzureMetricsSource):
    moved = tunnel("berlin", "VPNGW01", "198.51.100.40", azure_gateway_id=GW2.lstrip("/"))
    assert source.read([moved], START, END, 300)["berlin"].get(Metric.BYTES_IN).total == 12 * 700
    assert "VPNGW02" in server.requests[0].path


def test_a_question_out_of_time_gets_one_line_and_no_call(server: MetricsServer, source: AzureMetricsSource):
    with deadline.within(0):
        traffic = source.read([LYON, BERLIN], START, END, 300)  # two gateways: read side by side, each in time
    assert server.requests == []
    for name in ("lyon", "berlin"):
        assert len(traffic[name].failures) == 1 and "did not answer within the question's" in traffic[name].failures[0]
