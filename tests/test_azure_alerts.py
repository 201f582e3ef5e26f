"""Azure Monitor common-schema alerts read and mapped to tunnels (diagnostics/azure/alerts.py), with the payloads of
tests/test_slack_alerts.py and a registry like a real configuration's."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from test_slack_alerts import GATEWAY_ID, log_alert, metric_alert

from diagnostics.azure.alerts import AlertError, alert_tunnels, read_alert
from diagnostics.tunnels import Tunnel, TunnelRegistry

REGISTRY = TunnelRegistry([
    Tunnel("paris", ("branch-paris",), azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10"),
    Tunnel("lyon", ("branch-lyon",), azure_gateway="VPNGW01", azure_remote_ip="203.0.113.20"),
    Tunnel.from_mapping({"name": "nice", "azure_gateway": "VPNGW01", "azure_remote_ip": "203.0.113.30",
                         "azure_connection": "VPNGW01-to-cote-azur"}),
    Tunnel("berlin", azure_gateway="VPNGW02", azure_remote_ip="198.51.100.40"),
    Tunnel("dc1", aws_vpn_connection="vpn-0123456789abcdef0"),
])


def names(tunnels):
    return [t.name for t in tunnels]


def test_a_metric_alert_is_read_with_its_times_window_and_dimensions():
    alert = read_alert(metric_alert("Resolved"))
    assert (alert.condition, alert.resolved, alert.signal, alert.severity) == ("Resolved", True, "Metric", "Sev2")
    assert alert.fired_at == datetime(2026, 11, 21, 14, 7, 10, 520481, tzinfo=UTC)
    assert alert.window_start == datetime(2026, 11, 21, 14, 2, tzinfo=UTC)
    assert alert.metrics == ("TunnelAverageBandwidth",) and alert.gateways == ["VPNGW01"]
    assert alert.remote_ips == ["203.0.113.10"] and alert.connections == ["cn-vpngw01-paris"]


@pytest.mark.parametrize(("dimensions", "expected"), [
    ((("RemoteIP", "203.0.113.20"),), ["lyon"]),
    ((("ConnectionName", "branch-lyon"),), ["lyon"]),  # an alias
    ((("ConnectionName", "VPNGW01-to-cote-azur"),), ["nice"]),  # the tunnel's azure_connection
    ((("ConnectionName", "cn-vpngw01-paris"),), ["paris"]),  # the one tunnel name inside it
    ((("ConnectionName", "cn-vpngw01-paris"), ("ConnectionName", "cn-vpngw01-lyon")), ["paris", "lyon"]),
    ((), ["paris", "lyon", "nice"]),  # the gateway's every tunnel
    ((("RemoteIP", "192.0.2.99"),), []),  # a device no tunnel has
])
def test_a_gateway_alert_is_narrowed_by_its_dimensions(dimensions, expected):
    assert names(alert_tunnels(read_alert(metric_alert(dimensions=dimensions)), REGISTRY)) == expected


def test_an_alert_on_another_gateway_or_naming_nothing_maps_to_no_tunnel():
    other = read_alert(metric_alert(dimensions=(), target=GATEWAY_ID.replace("VPNGW01", "VPNGW09")))
    assert alert_tunnels(other, REGISTRY) == [] and other.gateways == ["VPNGW09"]
    workspace = json.loads(log_alert())
    workspace["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = []
    assert alert_tunnels(read_alert(json.dumps(workspace)), REGISTRY) == []


def test_a_log_search_alert_maps_through_its_resource_and_remote_ip_columns():
    alert = read_alert(log_alert())
    assert alert.signal == "Log" and alert.gateways == ["VPNGW01"]
    assert names(alert_tunnels(alert, REGISTRY)) == ["paris"]


@pytest.mark.parametrize(("body", "message"), [
    (b"\x00not json", "the body is not JSON"),
    (b"[1, 2]", "not a common alert schema payload"),
    (json.dumps({"schemaId": "AzureMonitorMetricAlert", "data": {}}).encode(), "not a common alert schema payload"),
    (json.dumps({"schemaId": "azureMonitorCommonAlertSchema", "data": []}).encode(), "no data.essentials"),
    (json.dumps({"schemaId": "azureMonitorCommonAlertSchema",
                 "data": {"essentials": {"alertId": "x", "monitorCondition": "Acknowledged",
                                         "firedDateTime": "2026-11-21T14:07:10Z"}}}).encode(),
     r"monitorCondition \(Fired or Resolved\)"),
])
def test_what_is_not_a_common_schema_alert_is_refused_in_one_line(body, message):
    with pytest.raises(AlertError, match=message) as refused:
        read_alert(body)
    assert "\n" not in str(refused.value)
