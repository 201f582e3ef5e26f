"""Each rule pinned on a fixture of real-format rows (tests/fixtures/rules/), ruff-style: one behaviour a test."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from support.fixture_logs import LYON, PARIS, ask_at

from diagnostics.model import Cause, Confidence


def causes(inv):
    return [f.cause for f in inv.findings]


def test_failover_to_other_instance_within_seconds_is_maintenance_when_upgrade_started():
    inv = ask_at("maintenance_failover.csv", "2026-11-21T14:02:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.MAINTENANCE_FAILOVER
    assert primary.confidence is Confidence.HIGH
    assert "Upgrade gateway started" in primary.explanation
    assert "IN_0" in primary.explanation and "IN_1" in primary.explanation
    # The second failover of the same maintenance, 38 min later, is named.
    assert "14:40:11" in primary.explanation
    texts = [e.text() for e in primary.evidence]
    assert any("HostMaintenanceEvent" in t for t in texts)
    assert any("TunnelDisconnected" in t and "IN_0" in t for t in texts)


def test_second_failover_back_is_recognised_as_the_same_maintenance():
    inv = ask_at("maintenance_failover.csv", "2026-11-21T14:40:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.MAINTENANCE_FAILOVER
    assert "second" in primary.title
    assert "14:02:03" in primary.explanation


def test_other_tunnel_on_same_gateway_gets_its_own_drop():
    inv = ask_at("maintenance_failover.csv", "2026-11-21T14:02:00Z", tunnel=LYON)
    assert [d.down.remote_ip for d in inv.drops] == ["203.0.113.20"]
    assert inv.findings[0].cause is Cause.MAINTENANCE_FAILOVER


def test_drop_on_another_gateway_in_the_same_minute_is_not_blamed():
    inv = ask_at("maintenance_failover.csv", "2026-11-21T14:02:00Z")
    assert inv.drops and all(d.down.gateway.upper() == "VPNGW01" for d in inv.drops)
    assert inv.findings and inv.findings[0].evidence
    for finding in inv.findings:
        assert all(e.gateway.upper() == "VPNGW01" for e in finding.evidence)


def test_instance_switch_without_maintenance_record_is_gateway_failover():
    inv = ask_at("gateway_failover.csv", "2026-11-20T03:12:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.GATEWAY_FAILOVER
    assert primary.confidence is Confidence.MEDIUM
    assert "reset" in primary.explanation
    # The maintenance record belongs to VPNGW02: it must not turn this into maintenance.
    assert Cause.MAINTENANCE_FAILOVER not in causes(inv)


def test_connection_change_just_before_drop_is_config_change():
    inv = ask_at("config_change.csv", "2026-11-21T16:20:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.CONFIG_CHANGE
    assert primary.confidence is Confidence.HIGH
    assert "SetConnectionConfiguration (Success)" in primary.explanation
    assert "SALifetimeSeconds changed" in primary.explanation


def test_configuration_change_of_another_connection_does_not_explain_this_tunnels_drop():
    # lyon's local network gateway and connection were changed (the rows name lng-lyon and cn-vpngw01-lyon); paris
    # dropped 42 s later on DPD.
    inv = ask_at("config_change_other_connection.csv", "2026-11-21T16:20:30Z")
    assert [d.down.remote_ip for d in inv.drops] == ["203.0.113.10"]
    assert inv.findings[0].cause is Cause.DPD_TIMEOUT
    assert Cause.CONFIG_CHANGE not in causes(inv)
    assert not any("lyon" in e.text() for f in inv.findings for e in f.evidence)


def test_configuration_change_naming_this_connection_explains_its_drop():
    inv = ask_at("config_change_other_connection.csv", "2026-11-21T16:20:00Z", tunnel=LYON)
    primary = inv.findings[0]
    assert primary.cause is Cause.CONFIG_CHANGE and primary.confidence is Confidence.HIGH
    assert "SetConnectionConfiguration (Success) was logged on VPNGW01 at 16:19:48" in primary.explanation


def test_same_instance_reconnect_with_dpd_reason_is_dpd_timeout():
    inv = ask_at("dpd_timeout.csv", "2026-11-20T09:15:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.DPD_TIMEOUT
    assert primary.confidence is Confidence.HIGH
    assert "new IKE negotiation" in primary.explanation
    # A configuration change on another gateway 30 s before must not be blamed.
    assert Cause.CONFIG_CHANGE not in causes(inv)


def test_same_instance_reconnect_within_seconds_without_reason_is_probable_dpd_timeout():
    inv = ask_at("dpd_timeout_no_reason.jsonl", "2026-11-18T07:41:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.DPD_TIMEOUT
    assert primary.confidence is Confidence.MEDIUM
    assert "on-premises device" in primary.explanation


def test_peer_reinitiating_while_connected_is_remote_initiated():
    inv = ask_at("remote_initiated.json", "2026-11-19T10:30:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.REMOTE_INITIATED
    assert primary.confidence is Confidence.HIGH
    assert any("[RECEIVED][SA_INIT]" in e.text() for e in primary.evidence)


def test_repeated_drops_in_the_window_are_flapping_with_count_and_pattern():
    inv = ask_at("flapping.csv", "2026-11-22T07:50:00Z", half_width=timedelta(minutes=30))
    primary = inv.findings[0]
    assert primary.cause is Cause.FLAPPING
    assert "5 times" in primary.explanation
    assert "irregular" in primary.explanation
    assert "5 × dpd_timeout" in primary.explanation
    assert len(inv.drops) == 5
    assert inv.findings[1].cause is Cause.DPD_TIMEOUT


def test_long_same_instance_outage_without_reason_is_unknown_with_raw_rows():
    inv = ask_at("unknown.csv", "2026-11-18T22:40:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.UNKNOWN
    assert primary.evidence, "unknown must still show the rows"
    assert "6 min 10 s" in primary.explanation


def test_quiet_window_is_no_drop_found_naming_the_nearest_drop():
    inv = ask_at("dpd_timeout.csv", "2026-11-20T12:00:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.NO_DROP_FOUND
    assert "Nearest drop before: 09:15 UTC on 2026-11-20" in primary.explanation
    assert any("widened" in n for n in inv.notes)


def test_window_entirely_within_ingestion_lag_is_logs_not_ingested():
    inv = ask_at("dpd_timeout.csv", "2026-11-20T09:40:00Z", now="2026-11-20T09:44:00Z",
                 half_width=timedelta(minutes=5))
    assert inv.findings[0].cause is Cause.LOGS_NOT_INGESTED
    assert inv.findings[0].confidence is Confidence.HIGH
    assert "15 minutes" in inv.findings[0].explanation
    assert inv.findings[1].cause is Cause.NO_DROP_FOUND
    assert "Nearest drop before: 09:15 UTC" in inv.findings[1].explanation
    assert not any("widened" in n for n in inv.notes), "a too-recent window is not widened"


def test_window_partly_within_ingestion_lag_answers_from_settled_part_with_caveat():
    inv = ask_at("dpd_timeout.csv", "2026-11-20T09:40:00Z", now="2026-11-20T09:45:00Z")
    assert [f.cause for f in inv.findings] == [Cause.NO_DROP_FOUND, Cause.LOGS_NOT_INGESTED]
    assert inv.findings[1].confidence is Confidence.MEDIUM


def test_workspace_without_remoteip_column_still_finds_the_drop():
    inv = ask_at("no_remoteip_column.csv", "2026-11-21T11:05:00Z")
    assert len(inv.drops) == 1
    assert inv.findings[0].cause is Cause.DPD_TIMEOUT
    assert any("no remote IP" in n for n in inv.notes)


def test_properties_inside_additional_fields_are_read():
    inv = ask_at("additional_fields.json", "2026-11-21T12:10:00Z")
    assert len(inv.drops) == 1, "the other tunnel's disconnect (203.0.113.20) is not paris's"
    assert inv.drops[0].down_instance == "GatewayTenantWorker_IN_0"
    assert inv.findings[0].cause is Cause.REMOTE_INITIATED


def test_tunnel_with_a_wrong_remote_ip_gets_a_hint_naming_the_ips_the_gateway_logged():
    wrong = replace(PARIS, azure_remote_ip="203.0.113.99")
    inv = ask_at("maintenance_failover.csv", "2026-11-21T14:02:00Z", tunnel=wrong)
    assert not inv.drops
    assert any("203.0.113.10, 203.0.113.20 but none for 203.0.113.99" in n for n in inv.notes)


def test_timeline_keeps_ike_rows_only_around_state_changes_but_counts_them_all():
    from diagnostics.azure.parser.rows import make_normaliser
    from diagnostics.azure.timeline import IKE_AFTER, IKE_BEFORE, IKE_EACH_SIDE, TimelineBuilder
    from diagnostics.model import EventKind, Provenance

    columns = ["TimeGenerated", "Category", "OperationName", "Message", "Resource", "instance_s", "remoteIP_s"]

    def ike(ts: float) -> tuple[object, ...]:
        return (ts, "IKEDiagnosticLog", "IKELogEvent",
                f"SESSION_ID :{{x}} Remote 203.0.113.10:500: Local 192.0.2.4:500: [SEND][SA_INIT] {ts}", "VPNGW01",
                "GatewayTenantWorker_IN_0", "")

    down = (10_000.0, "TunnelDiagnosticLog", "TunnelDisconnected", "", "VPNGW01", "GatewayTenantWorker_IN_0",
            "203.0.113.10")
    stream = [ike(float(t)) for t in range(0, 10_000)] + [down] + [ike(float(t)) for t in range(10_001, 20_000)]
    builder = TimelineBuilder(PARIS)
    builder.feed(stream, columns, make_normaliser(columns, Provenance("local", "test", "AzureDiagnostics", "")))
    timeline = builder.build()
    kept = [e.ts for e in timeline.events if e.kind is EventKind.IKE]
    assert timeline.ike_rows == 19_999
    near = [t for t in kept if down[0] - IKE_BEFORE <= t <= down[0] + IKE_AFTER]
    assert len(near) == 2 * IKE_EACH_SIDE
    assert all(down[0] - IKE_BEFORE <= t <= down[0] + IKE_AFTER or t >= 19_950 for t in kept), \
        "only rows near the state change, and the latest few, are kept"


def test_a_change_naming_a_connection_is_this_tunnels_when_its_whole_hyphenated_name_is_in_it():
    from diagnostics.model import Event, EventKind
    from diagnostics.rules.support.scope import concerns_tunnel

    def change(connection: str) -> Event:
        return Event(0.0, "azure", "GatewayDiagnosticLog", EventKind.CONFIG_CHANGE, "SetConnectionConfiguration",
                     "VPNGW01", f"Set connection configuration for {connection} succeeded")

    paris_dc = replace(PARIS, name="paris-dc", aliases=())
    assert concerns_tunnel(change("cn-vpngw01-paris-dc"), paris_dc) is True
    assert concerns_tunnel(change("paris-dc"), paris_dc) is True
    assert concerns_tunnel(change("cn-vpngw01-paris"), paris_dc) is False, "paris alone is another connection"
    assert concerns_tunnel(change("cn-vpngw01-lyon"), PARIS) is False
    assert concerns_tunnel(change("cn-vpngw01-paris"), PARIS) is True
