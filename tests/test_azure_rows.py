"""AzureDiagnostics rows in every column variant (docs/sources.md#azure-columns, docs/exports.md) become the same
events."""

from __future__ import annotations

import pytest

from diagnostics.azure.parser.rows import RowError, canonical_column, classify, event_from_mapping, parse_time
from diagnostics.model import EventKind, Provenance

PROV = Provenance("local", "test", "AzureDiagnostics")
GW_ID = ("/SUBSCRIPTIONS/5D2F7A91-3C48-4E0B-B6A2-9F1E8C7D4A30/RESOURCEGROUPS/RG-NETWORK-WEU/PROVIDERS/"
         "MICROSOFT.NETWORK/VIRTUALNETWORKGATEWAYS/VPNGW01")


@pytest.mark.parametrize("text", [
    "2026-11-21T14:02:03.120Z", "2026-11-21T14:02:03.1200000Z", "2026-11-21 14:02:03.12",
    "11/21/2026, 2:02:03.120 PM", "2026-11-21T15:02:03.120+01:00", 1795269723.12, 1795269723120,
])
def test_every_time_format_an_export_uses_reads_as_the_same_instant(text):
    assert parse_time(text) == pytest.approx(1795269723.12, abs=1e-3)


def test_unreadable_time_is_a_row_error():
    with pytest.raises(RowError):
        parse_time("yesterday-ish")


def test_portal_time_column_title_and_any_case_map_to_canonical_names():
    assert canonical_column("TimeGenerated [UTC]") == "TimeGenerated"
    assert canonical_column("resource") == "Resource"
    assert canonical_column("REMOTEIP_S") == "remoteIP_s"


def test_tunnel_row_becomes_a_tunnel_down_event_with_its_identifiers():
    event = event_from_mapping({
        "TimeGenerated": "2026-11-21T14:02:03.120Z", "Category": "TunnelDiagnosticLog",
        "OperationName": "TunnelDisconnected", "Resource": "VPNGW01", "instance_s": "GatewayTenantWorker_IN_0",
        "remoteIP_s": "203.0.113.10", "status_s": "Disconnected", "stateChangeReason_s": "StandbyChanged",
    }, PROV)
    assert (event.kind, event.gateway, event.instance, event.remote_ip, event.reason) == (
        EventKind.TUNNEL_DOWN, "VPNGW01", "GatewayTenantWorker_IN_0", "203.0.113.10", "StandbyChanged")
    assert "TunnelDisconnected" in event.text() and "StandbyChanged" in event.text()


def test_missing_resource_is_taken_from_resource_id():
    event = event_from_mapping({"TimeGenerated": "2026-11-21T14:02:03Z", "Category": "GatewayDiagnosticLog",
                                "OperationName": "HostMaintenanceEvent", "ResourceId": GW_ID,
                                "Message": "Upgrade gateway started"}, PROV)
    assert event.gateway == "VPNGW01"
    assert event.kind is EventKind.MAINTENANCE


def test_upgrade_message_marks_maintenance_whatever_the_operation():
    # Maintenance shows as the Message (docs/sources.md#azure-maintenance); which operation carries it is not
    # documented, so any operation counts.
    assert classify("GatewayDiagnosticLog", "SomethingElse", "Upgrade gateway started")[1] is EventKind.MAINTENANCE


def test_row_without_category_is_classified_by_operation_or_ike_envelope():
    assert classify("", "TunnelConnected", "") == ("TunnelDiagnosticLog", EventKind.TUNNEL_UP)
    assert classify("", "", "SESSION_ID :{x} Remote 1.2.3.4:500: Local 5.6.7.8:500: x")[1] is EventKind.IKE


def test_tunnel_row_without_operation_uses_status():
    event = event_from_mapping({"TimeGenerated": "2026-11-21T14:02:03Z", "Category": "TunnelDiagnosticLog",
                                "Resource": "VPNGW01", "status_s": "disconnected"}, PROV)
    assert event.kind is EventKind.TUNNEL_DOWN


@pytest.mark.parametrize("message,remote", [
    # verbatim event texts (docs/sources.md#azure-ike-errors, docs/sources.md#azure-traffic-selectors) inside the
    # envelope of docs/sources.md#azure-ike-log
    ("SESSION_ID :{3baa1cd0-77ec-40e6-b0d6-7ef40b2372a5} Remote 168.62.186.148:500: Local 104.208.38.235:500: "
     "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials are unacceptable",
     "168.62.186.148"),
    ("SESSION_ID :{F71C1B4E-17C2-4028-961B-AA1BED2E6C4D} Remote 203.0.113.10:4500: Local 192.0.2.4:4500: "
     "[RECEIVED]Received IPSec payload: Policy1:Cipher=DESIntegrity=Md5", "203.0.113.10"),
    ("Remote 203.0.113.10:500: Local 192.0.2.4:500: [RECEIVED][SA_AUTH] Received IKE AUTH message", "203.0.113.10"),
    ("IkeCleanupQMNegotiation called with error 13868 and flags a", ""),
])
def test_ike_rows_name_their_peer_from_the_envelope(message, remote):
    event = event_from_mapping({"TimeGenerated": "2026-11-21T14:02:03Z", "Category": "IKEDiagnosticLog",
                                "Resource": "VPNGW01", "Message": message}, PROV)
    assert event.kind is EventKind.IKE
    assert event.remote_ip == remote


def test_properties_in_additional_fields_fill_missing_columns():
    event = event_from_mapping({
        "TimeGenerated": "2026-11-21T14:02:03Z", "Category": "TunnelDiagnosticLog",
        "OperationName": "TunnelConnected", "Resource": "VPNGW01",
        "AdditionalFields": {"instance_s": "GatewayTenantWorker_IN_1", "remoteIP_s": "203.0.113.10"},
    }, PROV)
    assert (event.instance, event.remote_ip) == ("GatewayTenantWorker_IN_1", "203.0.113.10")


def test_p2s_and_route_rows_get_their_own_kinds():
    p2s = event_from_mapping({"TimeGenerated": "2026-11-21T14:02:03Z", "Category": "P2SDiagnosticLog",
                              "OperationName": "P2SLogEvent", "Resource": "VPNGW01",
                              "Message": "[MSG] [default] [OVPN_xxxxxxxx] Connection successful. "
                                         "Username=***tosouser@contoso.com IP=10.0.0.1"}, PROV)
    bgp = event_from_mapping({"TimeGenerated": "2026-11-21T14:02:03Z", "Category": "RouteDiagnosticLog",
                              "OperationName": "BgpDisconnectedEvent", "Resource": "VPNGW01"}, PROV)
    assert p2s.kind is EventKind.P2S and "***tosouser@contoso.com" in p2s.message
    assert bgp.kind is EventKind.BGP_DOWN
