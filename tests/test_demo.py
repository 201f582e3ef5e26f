"""The built-in demo workspace: deterministic, rebased on `now`, and telling the stories it claims to."""

from __future__ import annotations

import ipaddress
import itertools
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from diagnostics.demo import (
    DEMO_TIMEZONE,
    DEMO_TUNNELS,
    IN_0,
    IN_1,
    Scenario,
    generate_rows,
    scenarios,
)
from diagnostics.tunnels import Tunnel

NOW = datetime(2025, 3, 12, 15, 30, 12, 345678, tzinfo=UTC)
CAUSE_CODES = {
    "maintenance_failover", "gateway_failover", "config_change", "dpd_timeout", "remote_initiated",
    "psk_mismatch", "ike_proposal_mismatch", "traffic_selector_mismatch", "peer_unreachable",
    "bgp_session_down", "rekey_collision", "flapping", "no_drop_found", "logs_not_ingested", "unknown",
}
COMMON_COLUMNS = {
    "TimeGenerated", "TenantId", "SourceSystem", "Type", "Category", "OperationName", "Level", "Resource",
    "ResourceGroup", "SubscriptionId", "ResourceId", "ResourceProvider", "ResourceType",
}
IKE_ENVELOPE = re.compile(
    r"^SESSION_ID :\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\} "
    r"Remote (?P<remote>[\d.]+):500: Local (?P<local>[\d.]+):500: (?P<event>.+)$"
)
Row = dict[str, Any]


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return generate_rows(NOW)


@pytest.fixture(scope="module")
def story() -> list[Scenario]:
    return scenarios(NOW)


def tunnel_cfg(name: str) -> dict[str, Any]:
    return next(t for t in DEMO_TUNNELS if t["name"] == name)


def gateway_tunnels(gateway: str) -> list[dict[str, Any]]:
    return [t for t in DEMO_TUNNELS if t["azure_gateway"] == gateway]


def tunnel_events(rows: list[Row], name: str) -> list[Row]:
    ip = tunnel_cfg(name)["azure_remote_ip"]
    return [r for r in rows if r["Category"] == "TunnelDiagnosticLog" and r["remoteIP_s"] == ip]


def drops(rows: list[Row], name: str) -> list[tuple[Row, Row]]:
    """(TunnelDisconnected, the next TunnelConnected) pairs of one tunnel."""
    events, pairs = tunnel_events(rows, name), []
    for i, row in enumerate(events):
        if row["OperationName"] == "TunnelDisconnected":
            up = next(e for e in events[i + 1:] if e["OperationName"] == "TunnelConnected")
            pairs.append((row, up))
    return pairs


def drop_at(rows: list[Row], name: str, at: datetime) -> tuple[Row, Row]:
    return next(pair for pair in drops(rows, name) if pair[0]["TimeGenerated"] == at)


def the(story: list[Scenario], cause: str, tunnel: str | None = None) -> Scenario:
    return next(s for s in story if s.cause == cause and (tunnel is None or s.tunnel == tunnel))


def gateway_rows(rows: list[Row], gateway: str, operation: str | None = None) -> list[Row]:
    return [
        r for r in rows
        if r["Category"] == "GatewayDiagnosticLog" and r["Resource"] == gateway
        and (operation is None or r["OperationName"] == operation)
    ]


def ike_events(rows: list[Row], name: str) -> list[tuple[datetime, str, str]]:
    """(time, instance, event text) of the IKE rows whose Remote is the tunnel's device."""
    ip, found = tunnel_cfg(name)["azure_remote_ip"], []
    for r in rows:
        if r["Category"] == "IKEDiagnosticLog":
            m = IKE_ENVELOPE.match(r["Message"])
            if m and m["remote"] == ip:
                found.append((r["TimeGenerated"], r["instance_s"], m["event"]))
    return found


def seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


# ------------------------------------------------------------------------------------ determinism and window


def test_same_now_gives_identical_rows():
    first, second = generate_rows(NOW), generate_rows(NOW)
    assert repr(first) == repr(second)
    assert repr(scenarios(NOW)) == repr(scenarios(NOW))


def test_same_instant_in_another_zone_gives_identical_rows():
    paris_time = NOW.astimezone(ZoneInfo("Europe/Paris"))
    assert paris_time.utcoffset() != timedelta(0)
    assert repr(generate_rows(paris_time)) == repr(generate_rows(NOW))


@pytest.mark.parametrize("days", [1, 3, 7])
def test_moving_now_by_whole_days_shifts_every_row_by_the_same_delta(rows: list[Row], days: int):
    delta = timedelta(days=days)
    moved = generate_rows(NOW + delta)
    assert len(moved) == len(rows)
    for old, new in zip(rows, moved, strict=True):
        assert new["TimeGenerated"] - old["TimeGenerated"] == delta
        assert {k: v for k, v in new.items() if k != "TimeGenerated"} == {
            k: v for k, v in old.items() if k != "TimeGenerated"
        }
    assert [s.at - delta for s in scenarios(NOW + delta)] == [s.at for s in scenarios(NOW)]


@pytest.mark.parametrize("now", [
    NOW,
    datetime(2025, 3, 13, 0, 4, 0, tzinfo=UTC),
    datetime(2025, 3, 13, 2, 59, 59, 999999, tzinfo=UTC),
    datetime(2025, 3, 13, 23, 59, 0, tzinfo=UTC),
])
def test_rows_stay_inside_the_week_and_behind_the_ingestion_lag(now: datetime):
    rows = generate_rows(now)
    assert rows
    assert max(r["TimeGenerated"] for r in rows) <= now - timedelta(minutes=2)
    assert min(r["TimeGenerated"] for r in rows) >= now - timedelta(days=7)
    for s in scenarios(now):
        assert now - timedelta(days=7) <= s.at <= now - timedelta(hours=1)


def test_rows_are_sorted_oldest_first(rows: list[Row]):
    times = [r["TimeGenerated"] for r in rows]
    assert times == sorted(times)


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_rows(datetime(2025, 3, 12, 15, 30))


def test_generation_is_fast_enough_for_every_cli_call():
    start = time.perf_counter()
    generate_rows(NOW)
    assert time.perf_counter() - start < 2.0


def test_a_week_holds_a_few_thousand_rows_of_every_category(rows: list[Row]):
    categories = {r["Category"] for r in rows}
    assert categories == {
        "GatewayDiagnosticLog", "TunnelDiagnosticLog", "RouteDiagnosticLog", "IKEDiagnosticLog", "P2SDiagnosticLog",
    }
    assert 1000 <= len(rows) <= 10_000


# ------------------------------------------------------------------------------------ row shape


def test_every_row_has_the_azure_diagnostics_columns_and_no_empty_ones(rows: list[Row]):
    for r in rows:
        assert r.keys() >= COMMON_COLUMNS
        assert all(v is not None for v in r.values())
        assert r["TimeGenerated"].utcoffset() == timedelta(0)
        assert r["Type"] == "AzureDiagnostics" and r["SourceSystem"] == "Azure"
        assert r["ResourceProvider"] == "MICROSOFT.NETWORK" and r["ResourceType"] == "VIRTUALNETWORKGATEWAYS"
        assert r["Resource"] == r["Resource"].upper() and r["ResourceGroup"] == r["ResourceGroup"].upper()
        assert r["ResourceId"] == (
            f"/SUBSCRIPTIONS/{r['SubscriptionId'].upper()}/RESOURCEGROUPS/{r['ResourceGroup']}"
            f"/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKGATEWAYS/{r['Resource']}"
        )
        assert r["Level"] in {"Informational", "Warning", "Error"}


def test_tunnel_rows_carry_instance_remote_ip_and_a_matching_status(rows: list[Row]):
    tunnel_rows = [r for r in rows if r["Category"] == "TunnelDiagnosticLog"]
    assert tunnel_rows
    for r in tunnel_rows:
        assert r["instance_s"] in {IN_0, IN_1}
        assert r["status_s"] == r["OperationName"].removeprefix("Tunnel")
        assert isinstance(r["stateChangeReason_s"], str)


def test_only_tunnel_rows_have_a_remote_ip_column(rows: list[Row]):
    assert all(("remoteIP_s" in r) == (r["Category"] == "TunnelDiagnosticLog") for r in rows)


def test_gateway_rows_carry_an_operation_status(rows: list[Row]):
    for r in (r for r in rows if r["Category"] == "GatewayDiagnosticLog"):
        assert r["operationStatus_s"] in {"Success", "InProgress"}
        assert r["instance_s"] in {IN_0, IN_1}
        assert r["Message"]


def test_ike_rows_follow_the_session_envelope_between_a_device_and_its_gateway(rows: list[Row]):
    devices = {(t["azure_gateway"], t["azure_remote_ip"]) for t in DEMO_TUNNELS}
    ike = [r for r in rows if r["Category"] == "IKEDiagnosticLog"]
    assert len(ike) > 500
    for r in ike:
        m = IKE_ENVELOPE.match(r["Message"])
        assert m, r["Message"]
        assert (r["Resource"], m["remote"]) in devices
        assert ipaddress.ip_address(m["local"]) in ipaddress.ip_network("192.0.2.0/24")
        assert r["instance_s"] in {IN_0, IN_1}


def test_each_gateway_speaks_ike_from_one_public_address(rows: list[Row]):
    local_by_gateway: dict[str, set[str]] = {}
    for r in (r for r in rows if r["Category"] == "IKEDiagnosticLog"):
        local_by_gateway.setdefault(r["Resource"], set()).add(IKE_ENVELOPE.match(r["Message"])["local"])
    assert sorted(local_by_gateway) == ["VPNGW01", "VPNGW02"]
    assert all(len(addresses) == 1 for addresses in local_by_gateway.values())
    assert len(set.union(*local_by_gateway.values())) == 2


def test_every_negotiation_has_its_own_session_and_cookies(rows: list[Row]):
    inits = [r["Message"] for r in rows if "rCookie 0x0" in r.get("Message", "")]
    assert len(inits) >= 20
    sessions = [re.search(r"\{(.*?)\}", m)[1] for m in inits]
    cookies = [re.search(r"iCookie (0x[0-9A-F]{16})", m)[1] for m in inits]
    assert len(set(sessions)) == len(sessions)
    assert len(set(cookies)) == len(cookies)


def test_on_premises_devices_use_documentation_ranges_only():
    ranges = [ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("198.51.100.0/24")]
    for t in DEMO_TUNNELS:
        assert any(ipaddress.ip_address(t["azure_remote_ip"]) in net for net in ranges)


# ------------------------------------------------------------------------------------ tunnels


def test_demo_has_at_least_five_tunnels_on_two_gateways():
    assert len(DEMO_TUNNELS) >= 5
    assert len({t["azure_gateway"] for t in DEMO_TUNNELS}) >= 2
    assert DEMO_TIMEZONE == "UTC"


def test_demo_tunnels_are_valid_registry_entries():
    tunnels = [Tunnel.from_mapping(entry) for entry in DEMO_TUNNELS]
    paris = next(t for t in tunnels if t.name == "paris")
    assert paris.azure_gateway == "VPNGW01" and paris.azure_remote_ip == "203.0.113.10"
    assert set(paris.aliases) >= {"branch-paris", "par"}
    assert {t.azure_resource_group for t in tunnels} == {"RG-NETWORK-WEU", "RG-NETWORK-NEU"}


def test_every_demo_tunnel_appears_in_tunnel_rows_with_its_remote_ip(rows: list[Row]):
    for t in DEMO_TUNNELS:
        events = tunnel_events(rows, t["name"])
        assert events, t["name"]
        assert {e["Resource"] for e in events} == {t["azure_gateway"]}
        assert {e["ResourceGroup"] for e in events} == {t["azure_resource_group"]}


def test_every_disconnect_is_followed_by_a_reconnect(rows: list[Row]):
    for t in DEMO_TUNNELS:
        ops = [e["OperationName"] for e in tunnel_events(rows, t["name"])]
        assert ops[0::2] == ["TunnelDisconnected"] * len(ops[0::2])
        assert ops[1::2] == ["TunnelConnected"] * len(ops[0::2])


def test_scenarios_use_design_cause_codes_and_point_at_real_disconnects(rows: list[Row], story: list[Scenario]):
    assert {s.cause for s in story} >= {
        "maintenance_failover", "gateway_failover", "config_change", "dpd_timeout", "remote_initiated",
        "flapping", "unknown", "no_drop_found",
    }
    assert {s.cause for s in story} <= CAUSE_CODES
    for s in story:
        assert s.description and s.at.utcoffset() == timedelta(0)
        if s.cause != "no_drop_found":
            down, _ = drop_at(rows, s.tunnel, s.at)
            assert down["OperationName"] == "TunnelDisconnected"


# ------------------------------------------------------------------------------------ scenarios


def test_maintenance_failover_switches_instance_within_15_s_after_a_maintenance_record(
    rows: list[Row], story: list[Scenario],
):
    yesterday = (NOW - timedelta(days=1)).date()
    for t in gateway_tunnels("VPNGW01"):
        s = the(story, "maintenance_failover", t["name"])
        assert s.at.date() == yesterday and (s.at.hour, s.at.minute) == (14, 2)
        down, up = drop_at(rows, t["name"], s.at)
        assert (down["instance_s"], up["instance_s"]) == (IN_0, IN_1)
        assert 10 <= seconds(down["TimeGenerated"], up["TimeGenerated"]) <= 15
        maintenance = [
            r for r in gateway_rows(rows, "VPNGW01", "HostMaintenanceEvent")
            if timedelta(0) < s.at - r["TimeGenerated"] <= timedelta(minutes=10)
        ]
        assert [r["Message"] for r in maintenance] == ["Upgrade gateway started"]


def test_maintenance_failover_goes_back_30_to_45_minutes_later(rows: list[Row], story: list[Scenario]):
    for t in gateway_tunnels("VPNGW01"):
        s = the(story, "maintenance_failover", t["name"])
        later = [(d, u) for d, u in drops(rows, t["name"]) if d["TimeGenerated"] > s.at]
        back_down, back_up = later[0]
        assert timedelta(minutes=30) <= back_down["TimeGenerated"] - s.at <= timedelta(minutes=45)
        assert (back_down["instance_s"], back_up["instance_s"]) == (IN_1, IN_0)
        assert seconds(back_down["TimeGenerated"], back_up["TimeGenerated"]) <= 15
        assert any(
            timedelta(0) < back_down["TimeGenerated"] - r["TimeGenerated"] <= timedelta(minutes=10)
            for r in gateway_rows(rows, "VPNGW01", "HostMaintenanceEvent")
        )


def test_maintenance_failover_logs_the_primary_change_and_a_reason(rows: list[Row], story: list[Scenario]):
    s = the(story, "maintenance_failover", "paris")
    changes = [
        r for r in gateway_rows(rows, "VPNGW01", "GatewayTenantPrimaryChanged")
        if abs(r["TimeGenerated"] - s.at) < timedelta(hours=1)
    ]
    assert [r["instance_s"] for r in changes] == [IN_1, IN_0]
    down, up = drop_at(rows, "paris", s.at)
    assert "Standby" in down["stateChangeReason_s"] and up["stateChangeReason_s"] == ""


def test_maintenance_reconnect_is_negotiated_on_the_new_instance(rows: list[Row], story: list[Scenario]):
    s = the(story, "maintenance_failover", "lyon")
    down, up = drop_at(rows, "lyon", s.at)
    during = [(i, e) for t, i, e in ike_events(rows, "lyon") if down["TimeGenerated"] < t < up["TimeGenerated"]]
    assert any(e.startswith("[SEND][SA_INIT]") and e.endswith("rCookie 0x0") for _, e in during)
    assert {i for i, _ in during} == {IN_1}


def test_gateway_failover_switches_instance_within_80_s_without_maintenance(
    rows: list[Row], story: list[Scenario],
):
    two_days_ago = (NOW - timedelta(days=2)).date()
    for t in gateway_tunnels("VPNGW02"):
        s = the(story, "gateway_failover", t["name"])
        assert s.at.date() == two_days_ago and (s.at.hour, s.at.minute) == (3, 12)
        down, up = drop_at(rows, t["name"], s.at)
        assert down["instance_s"] != up["instance_s"]
        assert 40 <= seconds(down["TimeGenerated"], up["TimeGenerated"]) <= 80
        others = [d for d, _ in drops(rows, t["name"]) if d is not down]
        assert all(abs(d["TimeGenerated"] - s.at) > timedelta(hours=2) for d in others)
    s = the(story, "gateway_failover")
    assert not [
        r for r in gateway_rows(rows, "VPNGW02")
        if abs(r["TimeGenerated"] - s.at) <= timedelta(hours=2)
        and r["OperationName"] in {"HostMaintenanceEvent", "GatewayTenantPrimaryChanged"}
    ]
    assert not [
        r for r in rows
        if r["Category"] == "GatewayDiagnosticLog" and "Upgrade gateway" in r["Message"]
        and abs(r["TimeGenerated"] - s.at) <= timedelta(hours=2)
    ]


def test_config_change_precedes_berlins_drop_by_30_to_60_s(rows: list[Row], story: list[Scenario]):
    s = the(story, "config_change", "berlin")
    assert s.at.date() == (NOW - timedelta(days=1)).date() and (s.at.hour, s.at.minute) == (16, 20)
    down, up = drop_at(rows, "berlin", s.at)
    assert down["instance_s"] == up["instance_s"]
    assert seconds(down["TimeGenerated"], up["TimeGenerated"]) <= 30
    assert "changed" in down["stateChangeReason_s"]
    changes = [
        r for r in gateway_rows(rows, "VPNGW02", "SetConnectionConfiguration")
        if r["operationStatus_s"] == "Success" and 30 <= seconds(r["TimeGenerated"], s.at) <= 60
    ]
    assert len(changes) == 1
    assert "berlin" in changes[0]["Message"]
    assert changes[0]["configuration_ConnectionTrafficType_s"] == "Internet"


def test_dpd_timeout_reconnects_on_the_same_instance_after_azure_reinitiates(
    rows: list[Row], story: list[Scenario],
):
    s = the(story, "dpd_timeout", "lyon")
    assert s.at.date() == (NOW - timedelta(days=2)).date() and (s.at.hour, s.at.minute) == (9, 15)
    down, up = drop_at(rows, "lyon", s.at)
    assert down["instance_s"] == up["instance_s"]
    assert 5 <= seconds(down["TimeGenerated"], up["TimeGenerated"]) <= 10
    assert down["stateChangeReason_s"] == "DPD timed out"
    during = [e for t, _, e in ike_events(rows, "lyon") if down["TimeGenerated"] < t < up["TimeGenerated"]]
    reinit = [e for e in during if e.startswith("[SEND][SA_INIT]")]
    assert reinit and all(e.endswith("and rCookie 0x0") for e in reinit)
    assert any(e.startswith("[RECEIVED][SA_INIT] Received IKE SA Init response") for e in during)
    assert during[-1].startswith("[RECEIVED]Received IPSec payload")  # the negotiation completes


def test_remote_initiated_drop_follows_a_fresh_sa_init_from_the_device(rows: list[Row], story: list[Scenario]):
    s = the(story, "remote_initiated", "nice")
    assert s.at.date() == (NOW - timedelta(days=3)).date() and (s.at.hour, s.at.minute) == (10, 30)
    down, up = drop_at(rows, "nice", s.at)
    assert down["stateChangeReason_s"] in {"RemoteCrashTriggered", "RemotelyTriggered"}
    assert down["instance_s"] == up["instance_s"]
    assert seconds(down["TimeGenerated"], up["TimeGenerated"]) <= 10
    received = [
        t for t, _, e in ike_events(rows, "nice")
        if re.fullmatch(r"\[RECEIVED\]\[SA_INIT\] Received SA INIT iCookie 0x[0-9A-F]{16} rCookie 0x0", e)
        and timedelta(0) < s.at - t <= timedelta(seconds=2)
    ]
    assert len(received) == 1
    before = [e for e in tunnel_events(rows, "nice") if e["TimeGenerated"] < received[0]]
    assert not before or before[-1]["OperationName"] == "TunnelConnected"  # the tunnel was up


def test_flapping_is_five_to_seven_short_drops_in_40_minutes_on_one_instance(
    rows: list[Row], story: list[Scenario],
):
    s = the(story, "flapping", "hamburg")
    assert timedelta(hours=2, minutes=55) <= NOW - s.at <= timedelta(hours=3, minutes=1)
    burst = [(d, u) for d, u in drops(rows, "hamburg") if timedelta(0) <= d["TimeGenerated"] - s.at]
    assert 5 <= len(burst) <= 7
    assert burst[-1][0]["TimeGenerated"] - s.at <= timedelta(minutes=40)
    assert len({r["instance_s"] for pair in burst for r in pair}) == 1
    assert all(seconds(d["TimeGenerated"], u["TimeGenerated"]) < 30 for d, u in burst)
    assert all(d["stateChangeReason_s"] == "DPD timed out" for d, _ in burst)
    gaps = [round(seconds(a[0]["TimeGenerated"], b[0]["TimeGenerated"])) for a, b in itertools.pairwise(burst)]
    assert max(gaps) > 2 * min(gaps)


def test_unknown_drop_has_no_reason_and_no_gateway_rows_nearby(rows: list[Row], story: list[Scenario]):
    s = the(story, "unknown", "munich")
    assert s.at.date() == (NOW - timedelta(days=4)).date() and (s.at.hour, s.at.minute) == (22, 40)
    down, up = drop_at(rows, "munich", s.at)
    assert (down["instance_s"], up["instance_s"]) == (IN_0, IN_0)
    assert 5 * 60 <= seconds(down["TimeGenerated"], up["TimeGenerated"]) <= 7 * 60
    assert down["stateChangeReason_s"] == ""
    assert not [r for r in gateway_rows(rows, "VPNGW02") if abs(r["TimeGenerated"] - s.at) <= timedelta(hours=2)]


def test_paris_is_quiet_for_the_five_days_before_yesterday(rows: list[Row], story: list[Scenario]):
    s = the(story, "no_drop_found", "paris")
    yesterday_midnight = datetime.combine((NOW - timedelta(days=1)).date(), datetime.min.time(), UTC)
    assert s.at == yesterday_midnight - timedelta(days=5)
    assert not [
        e for e in tunnel_events(rows, "paris")
        if e["OperationName"] == "TunnelDisconnected" and e["TimeGenerated"] < yesterday_midnight
    ]
    assert not [
        r for r in rows
        if r["Category"] == "RouteDiagnosticLog" and r["OperationName"] == "BgpDisconnectedEvent"
        and "10.1.0.254" in r["Message"] and r["TimeGenerated"] < yesterday_midnight
    ]


@pytest.mark.parametrize(
    "now", [NOW, datetime(2025, 3, 13, 2, 0, tzinfo=UTC), datetime(2025, 3, 13, 23, 0, tzinfo=UTC)],
)
def test_no_tunnel_drops_in_the_last_hour(now: datetime):
    recent = [
        r for r in generate_rows(now)
        if r["OperationName"] == "TunnelDisconnected" and now - r["TimeGenerated"] <= timedelta(minutes=60)
    ]
    assert recent == []


# ------------------------------------------------------------------------------------ routes and P2S


def test_bgp_sessions_drop_with_the_bgp_tunnels_only(rows: list[Row]):
    bgp_down = [r for r in rows if r["OperationName"] == "BgpDisconnectedEvent"]
    expected = len(drops(rows, "paris")) + len(drops(rows, "berlin"))
    assert len(bgp_down) == expected > 0
    assert all("10.1.0.254" in r["Message"] or "10.4.0.254" in r["Message"] for r in bgp_down)
    for name, peer in (("paris", "10.1.0.254"), ("berlin", "10.4.0.254")):
        for down, _ in drops(rows, name):
            assert any(
                peer in r["Message"] and timedelta(0) <= r["TimeGenerated"] - down["TimeGenerated"] <= timedelta(
                    seconds=5)
                for r in bgp_down
            )


def test_route_log_has_route_updates_of_both_kinds(rows: list[Row]):
    ops = {r["OperationName"] for r in rows if r["Category"] == "RouteDiagnosticLog"}
    assert ops == {"BgpConnectedEvent", "BgpDisconnectedEvent", "BgpRouteUpdate", "StaticRouteUpdate"}


def test_p2s_logins_appear_daily_on_vpngw01_with_masked_users_and_ips(rows: list[Row]):
    p2s = [r for r in rows if r["Category"] == "P2SDiagnosticLog"]
    assert {r["Resource"] for r in p2s} == {"VPNGW01"}
    assert {r["OperationName"] for r in p2s} == {"P2SLogEvent"}
    assert len({r["TimeGenerated"].date() for r in p2s}) >= 7
    for r in p2s:
        m = re.fullmatch(r"\[MSG\] \[default\] \[OVPN_[0-9a-f]+\] (.+)", r["Message"])
        assert m, r["Message"]
        text = m[1]
        if text.startswith("Connect request received."):
            assert re.fullmatch(r"Connect request received\. IP=0\.\d+\.\d+\.\d+:\d+", text)
        else:
            assert re.search(r"Username=\*\*\*\S+@contoso\.com", text)
    assert any("Connection successful" in r["Message"] for r in p2s)
