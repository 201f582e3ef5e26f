"""The Azure side of the daily summary: pushed-down counts, drop details, outages, causes, logging gaps, DST days.

Rows follow docs/sources.md#azure-columns (TunnelDiagnosticLog state changes with instance_s / remoteIP_s /
stateChangeReason_s) and docs/sources.md#azure-ike-log (IKE rows in the `SESSION_ID :{…} Remote ip:500: Local ip:500:`
envelope).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.fixture_logs import BERLIN, LYON, PARIS, REGISTRY

from bot.cli import main
from diagnostics.azure import demo
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.sources import Sources
from diagnostics.summary.azure import build_counts_query
from diagnostics.summary.build import SummaryError, summarize_day
from diagnostics.tunnels import Tunnel, TunnelRegistry, UnknownTunnel
from handlers.render.summary import summary_json, summary_text

PARIS_TZ = ZoneInfo("Europe/Paris")
IN_0, IN_1 = "GatewayTenantWorker_IN_0", "GatewayTenantWorker_IN_1"
GATEWAY_IP = {"VPNGW01": "192.0.2.10", "VPNGW02": "192.0.2.20"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def state(ts: str, tunnel: Tunnel, connected: bool, instance: str = IN_0, reason: str = "") -> dict:
    return {"TimeGenerated": ts, "Category": "TunnelDiagnosticLog",
            "OperationName": "TunnelConnected" if connected else "TunnelDisconnected",
            "Resource": tunnel.azure_gateway, "ResourceGroup": "RG-NETWORK-WEU", "instance_s": instance,
            "remoteIP_s": tunnel.azure_remote_ip, "status_s": "Connected" if connected else "Disconnected",
            "stateChangeReason_s": reason, "Message": ""}


def rekey(ts: str, tunnel: Tunnel) -> dict:
    """A routine child-SA rekey row: what a healthy tunnel logs every few hours (a reconstruction on the grammar of
    docs/sources.md#azure-ike-log: no public row shows a rekey)."""
    local = GATEWAY_IP[tunnel.azure_gateway]
    return {"TimeGenerated": ts, "Category": "IKEDiagnosticLog", "OperationName": "IKELogEvent",
            "Resource": tunnel.azure_gateway, "ResourceGroup": "RG-NETWORK-WEU", "instance_s": IN_0,
            "Message": f"SESSION_ID :{{6f1d2c3b-0a9e-4e57-8c1d-2b3a4c5d6e7f}} Remote {tunnel.azure_remote_ip}:500: "
                       f"Local {local}:500: [SEND][IPSEC] Sending IPSec payload for tunnel Id 0x3"}


def maintenance(ts: str, gateway: str = "VPNGW01") -> dict:
    return {"TimeGenerated": ts, "Category": "GatewayDiagnosticLog", "OperationName": "HostMaintenanceEvent",
            "Resource": gateway, "ResourceGroup": "RG-NETWORK-WEU", "instance_s": IN_0,
            "Message": "Upgrade gateway started"}


def daily_rekeys(tunnel: Tunnel, first: date, days: int) -> list[dict]:
    return [rekey(f"{first + timedelta(days=n)}T{hour:02d}:17:00Z", tunnel)
            for n in range(days) for hour in (3, 11, 19)]


def workspace(rows: list[dict]) -> LocalWorkspace:
    ws = LocalWorkspace(label="test workspace", origin="test")
    ws.load_rows(rows)
    return ws


def sources(rows: list[dict]) -> Sources:
    return Sources(kql=[workspace(rows)])


class Counting:
    """A backend that counts the queries it is sent (the real LocalWorkspace answers them)."""

    def __init__(self, inner: LocalWorkspace):
        self.inner, self.texts = inner, []
        self.backend, self.label, self.origin = inner.backend, inner.label, inner.origin

    def run_kql(self, query, start, end):
        self.texts.append(query)
        return self.inner.run_kql(query, start, end)


# -- the demo week, against what its rows say -------------------------------------------------------------------


DEMO_DAY_NOW = at("2026-11-22T09:00:00Z")


@pytest.fixture(scope="module")
def demo_day(demo_at):
    now = DEMO_DAY_NOW
    ws = demo_at(now)
    azure = [t.name for t in ws.registry if t.azure_gateway]
    summary = summarize_day(ws.registry, ws.sources, date(2026, 11, 21), ZoneInfo("UTC"), now, azure)
    return summary, demo.generate_rows(now)


def outages_from_rows(rows: list[dict], remote_ip: str, day: date) -> list[float]:
    """Independent arithmetic on the raw rows: each disconnect to the next connect, within the day."""
    lo = datetime.combine(day, datetime.min.time(), UTC)
    hi = lo + timedelta(days=1)
    changes = sorted((r["TimeGenerated"], r["OperationName"]) for r in rows
                     if r["Category"] == "TunnelDiagnosticLog" and r.get("remoteIP_s") == remote_ip
                     and lo <= r["TimeGenerated"] < hi)
    out, down = [], None
    for ts, op in changes:
        if op == "TunnelDisconnected" and down is None:
            down = ts
        elif op == "TunnelConnected" and down is not None:
            out.append((ts - down).total_seconds())
            down = None
    return out


def test_maintenance_day_counts_both_failovers_of_each_vpngw01_tunnel(demo_day):
    summary, rows = demo_day
    by_name = {t.name: t for t in summary.tunnels}
    for name, ip in (("paris", "203.0.113.10"), ("lyon", "203.0.113.20"), ("nice", "203.0.113.30")):
        expected = outages_from_rows(rows, ip, date(2026, 11, 21))
        t = by_name[name]
        assert len(expected) == 2 and t.drops == 2
        assert t.causes == {"maintenance_failover": 2}
        assert t.downtime_s == round(sum(expected))
        assert t.longest_outage_s == round(max(expected))
        assert t.uptime_pct == round(100 * (1 - round(sum(expected)) / 86_400), 2)
        assert [m.kind for m in t.markers] == ["maintenance", "maintenance"]


def test_psk_mismatch_outage_is_counted_whole_with_its_negotiation_cause(demo_day):
    summary, rows = demo_day
    madrid = next(t for t in summary.tunnels if t.name == "madrid")
    expected = outages_from_rows(rows, "198.51.100.70", date(2026, 11, 21))
    assert madrid.drops == 1 and madrid.causes == {"psk_mismatch": 1}
    assert madrid.downtime_s == round(expected[0]) and 2_600 < madrid.downtime_s < 2_800  # the 45-minute outage


def test_quiet_tunnels_are_healthy_and_listed_after_the_troubled_ones(demo_day):
    summary, _ = demo_day
    ordered = [t.name for t in summary.ordered()]
    # rome's logs are as quiet, but its metrics say it carried nothing all day: docs/summaries.md#traffic
    healthy = {"hamburg", "munich", "milan", "porto", "seville", "hub-aws"}
    assert set(ordered[-len(healthy):]) == healthy
    quiet = [t for t in summary.tunnels if t.name in healthy]
    assert {t.name for t in quiet} == healthy
    assert all(not t.troubled and t.uptime_pct == 100.0 and not t.no_logs for t in quiet)
    rome = next(t for t in summary.tunnels if t.name == "rome")
    assert rome.uptime_pct == 100.0 and not rome.outages and rome.idle_all_day and rome.troubled
    assert ordered[0] == "madrid"  # the most downtime first


def test_text_summary_groups_causes_and_puts_healthy_tunnels_on_one_line(demo_day):
    summary, _ = demo_day
    text = summary_text(summary)
    assert "paris: 99.97 % up · 2 drops" in text
    assert "2 × maintenance_failover" in text
    healthy = [line for line in text.splitlines() if line.startswith("Healthy")]
    assert len(healthy) == 1 and "hamburg" in healthy[0] and "porto" in healthy[0]


def test_json_summary_keeps_the_contract_keys(demo_day):
    summary, _ = demo_day
    doc = json.loads(json.dumps(summary_json(summary)))
    assert doc["schema"] == 1 and doc["day"] == "2026-11-21" and doc["zone"] == "UTC"
    assert len(doc["tunnels"]) == len(summary.tunnels) > 0
    for t in doc["tunnels"]:
        assert {"name", "drops", "downtime_s", "longest_outage_s", "uptime_pct", "causes", "no_logs"} <= set(t)
        assert isinstance(t["drops"], int) and isinstance(t["downtime_s"], int)
        assert isinstance(t["uptime_pct"], float) and isinstance(t["causes"], dict)


def test_summary_of_every_tunnel_sends_one_counts_query_per_workspace(demo_at):
    now = DEMO_DAY_NOW
    ws = demo_at(now)
    counting = Counting(ws.sources.kql[0])
    azure = [t.name for t in ws.registry if t.azure_gateway]
    summary = summarize_day(ws.registry, Sources(kql=[counting]), date(2026, 11, 21), ZoneInfo("UTC"), now, azure)
    summarizes = [q for q in counting.texts if "| summarize" in q and "by Gateway" in q]
    assert len(summarizes) == 1
    # Details: one query for the troubled gateways, plus the IKE drill-down of an outage with negotiations.
    assert len(counting.texts) <= 2 + sum(1 for t in summary.tunnels if t.downtime_s > 60)
    assert len(summary.tunnels) == len(azure)


# -- outages at the edges of the day -----------------------------------------------------------------------------


def test_outage_carried_over_from_the_evening_before_is_downtime_not_a_drop():
    rows = [*daily_rekeys(PARIS, date(2026, 11, 14), 8),
            state("2026-11-20T22:00:00Z", PARIS, False, reason="DPD timed out"),  # 23:00 Paris time
            state("2026-11-21T00:30:00Z", PARIS, True)]  # 01:30 Paris time
    summary = summarize_day(REGISTRY, sources(rows), date(2026, 11, 21), PARIS_TZ, at("2026-11-22T08:00:00Z"),
                            ["paris"])
    paris = summary.tunnels[0]
    assert paris.drops == 0 and paris.causes == {}
    assert paris.downtime_s == 5_400  # 00:00 -> 01:30 local
    assert paris.outages[0].began_before


def test_tunnel_down_for_days_is_down_from_midnight_until_it_reconnects():
    rows = [*daily_rekeys(LYON, date(2026, 11, 14), 8),
            state("2026-11-18T10:00:00Z", LYON, False, reason="DPD timed out"),
            state("2026-11-21T05:00:00Z", LYON, True)]  # 06:00 Paris time
    summary = summarize_day(REGISTRY, sources(rows), date(2026, 11, 21), PARIS_TZ, at("2026-11-22T08:00:00Z"),
                            ["lyon"])
    lyon = summary.tunnels[0]
    assert lyon.downtime_s == 6 * 3600 and lyon.drops == 0
    assert lyon.uptime_pct == 75.0


def test_drop_still_open_at_the_end_of_the_day_is_ongoing():
    rows = [*daily_rekeys(PARIS, date(2026, 11, 14), 8),
            state("2026-11-21T22:00:00Z", PARIS, False, reason="DPD timed out")]  # 23:00 Paris time
    summary = summarize_day(REGISTRY, sources(rows), date(2026, 11, 21), PARIS_TZ, at("2026-11-22T08:00:00Z"),
                            ["paris"])
    paris = summary.tunnels[0]
    assert paris.drops == 1 and paris.downtime_s == 3_600
    assert paris.outages[-1].ongoing
    assert "still down" in summary_text(summary)


def test_tunnel_without_a_single_row_is_no_logs_not_healthy():
    rows = [*daily_rekeys(PARIS, date(2026, 11, 14), 8), *daily_rekeys(BERLIN, date(2026, 11, 14), 6)]
    summary = summarize_day(REGISTRY, sources(rows), date(2026, 11, 21), PARIS_TZ, at("2026-11-22T08:00:00Z"))
    by_name = {t.name: t for t in summary.tunnels}
    assert by_name["lyon"].no_logs and by_name["berlin"].no_logs  # berlin's logs stopped two days ago
    assert not by_name["paris"].no_logs and not by_name["paris"].troubled
    assert [t.name for t in summary.ordered()][-1] == "paris"
    assert "lyon: no logs at all" in summary_text(summary)


def test_more_drops_than_the_previous_week_say_so():
    rows = [*daily_rekeys(PARIS, date(2026, 11, 14), 8),
            state("2026-11-17T09:00:00Z", PARIS, False, reason="DPD timed out"),
            state("2026-11-17T09:00:20Z", PARIS, True)]
    for minute in (10, 20, 30):
        rows += [state(f"2026-11-21T09:{minute}:00Z", PARIS, False, reason="DPD timed out"),
                 state(f"2026-11-21T09:{minute}:08Z", PARIS, True)]
    summary = summarize_day(REGISTRY, sources(rows), date(2026, 11, 21), PARIS_TZ, at("2026-11-22T08:00:00Z"),
                            ["paris"])
    paris = summary.tunnels[0]
    assert paris.drops == 3 and paris.downtime_s == 24
    assert paris.baseline is not None and paris.baseline.days == 7
    assert paris.baseline.drops == round(1 / 7, 2)
    assert "more than usual" in summary_text(summary)
    assert paris.flapping and paris.causes == {"dpd_timeout": 3}


# -- local days --------------------------------------------------------------------------------------------------


def test_autumn_dst_day_is_25_hours_and_counts_rows_of_both_0230s():
    rows = [*daily_rekeys(PARIS, date(2026, 10, 17), 9),
            # 02:30 CEST (00:30 UTC), then 02:30 CET (01:30 UTC): both on the 25 h local day of 25 October.
            state("2026-10-25T00:30:00Z", PARIS, False, reason="DPD timed out"),
            state("2026-10-25T00:31:00Z", PARIS, True),
            state("2026-10-25T01:30:00Z", PARIS, False, reason="DPD timed out"),
            state("2026-10-25T01:32:00Z", PARIS, True),
            state("2026-10-25T23:30:00Z", PARIS, False, reason="DPD timed out"),  # 00:30 on the 26th: not counted
            state("2026-10-25T23:31:00Z", PARIS, True)]
    summary = summarize_day(REGISTRY, sources(rows), date(2026, 10, 25), PARIS_TZ, at("2026-10-27T08:00:00Z"),
                            ["paris"])
    paris = summary.tunnels[0]
    assert paris.seconds_in_day == 90_000
    assert summary.start == at("2026-10-24T22:00:00Z") and summary.end == at("2026-10-25T23:00:00Z")
    assert paris.drops == 2 and paris.downtime_s == 180
    assert paris.uptime_pct == round(100 * (1 - 180 / 90_000), 2)


def test_spring_dst_day_is_23_hours():
    rows = daily_rekeys(PARIS, date(2026, 3, 21), 9)
    summary = summarize_day(REGISTRY, sources(rows), date(2026, 3, 29), PARIS_TZ, at("2026-03-30T08:00:00Z"),
                            ["paris"])
    assert summary.tunnels[0].seconds_in_day == 82_800
    assert "23 h" in summary_text(summary)


def test_counts_query_cuts_days_at_local_midnight_not_utc():
    bounds = [at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z"), at("2026-10-26T23:00:00Z")]
    text = build_counts_query(["VPNGW01"], bounds)
    assert "TimeGenerated < datetime(2026-10-25T23:00:00Z), 0" in text
    assert "bin(" not in text


def test_today_is_summarised_so_far_and_a_future_day_is_refused():
    now = at("2026-11-21T12:00:00Z")
    rows = daily_rekeys(PARIS, date(2026, 11, 14), 8)
    summary = summarize_day(REGISTRY, sources(rows), date(2026, 11, 21), PARIS_TZ, now, ["paris"])
    assert summary.end == now and summary.tunnels[0].seconds_in_day == 13 * 3600  # 00:00 CET is 23:00 UTC
    with pytest.raises(SummaryError, match="has not begun"):
        summarize_day(REGISTRY, sources(rows), date(2026, 11, 22), PARIS_TZ, now)


def test_unknown_tunnel_in_a_summary_suggests_the_closest_name():
    with pytest.raises(UnknownTunnel, match="paris"):
        summarize_day(REGISTRY, sources([]), date(2026, 11, 21), PARIS_TZ, at("2026-11-22T08:00:00Z"),
                      ["parsi"])


def test_gateway_name_with_a_quote_cannot_widen_the_counts_query():
    evil = Tunnel(name="evil", azure_gateway='VPNGW01") or true or ("', azure_remote_ip="203.0.113.99")
    rows = daily_rekeys(PARIS, date(2026, 11, 14), 8)
    summary = summarize_day(TunnelRegistry([evil]), sources(rows), date(2026, 11, 21), PARIS_TZ,
                            at("2026-11-22T08:00:00Z"))
    assert summary.tunnels[0].no_logs  # paris's rows are not the evil tunnel's


# -- failures and the CLI ---------------------------------------------------------------------------------------


class Failing:
    backend, label, origin = "log-analytics", "Log Analytics workspace 0f1e…", "0f1e"

    def run_kql(self, query, start, end):
        from diagnostics.model import SourceError

        raise SourceError("Log Analytics workspace 0f1e…: throttled (429) after 3 retries; try again in a minute")


def test_failing_workspace_leaves_its_tunnels_unknown_not_healthy():
    summary = summarize_day(REGISTRY, Sources(kql=[Failing()]), date(2026, 11, 21), PARIS_TZ,
                            at("2026-11-22T08:00:00Z"))
    assert summary.tunnels == [] and sorted(summary.unknown) == ["berlin", "lyon", "paris"]
    assert "throttled" in summary.failures[0]
    assert "Unknown (a log source failed" in summary_text(summary)


def test_cli_summary_writes_json_and_a_png(here, capsys):
    png = here / "day.png"
    code = main(["summary", "--day", "2026-11-21", "--now", "2026-11-22T09:00:00Z", "--format", "json",
                 "--png", str(png), "--tunnel", "paris", "--tunnel", "madrid"])
    out = capsys.readouterr()
    assert code == 0, out.err
    doc = json.loads(out.out)
    assert [t["name"] for t in doc["tunnels"]] == ["madrid", "paris"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000


def test_cli_summary_bad_day_is_one_line_with_an_example(here, capsys):
    assert main(["summary", "--day", "21/11/2026", "--now", "2026-11-22T09:00:00Z"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--day 2026-11-21" in err[0]


def test_summary_runs_its_kql_through_the_real_logs_query_client(log_analytics, azure_source):
    """The counts query (extract, case, countif, max of iff) and the details query, over HTTPS to the local Log
    Analytics endpoint: what the bot sends in production is valid KQL for the engine."""
    workspace_id, token = "5b8f0c3e-2d6a-4f1b-9e7c-0a1b2c3d4e5f", "summary-test-token"
    rows = [*daily_rekeys(PARIS, date(2026, 11, 14), 8), *daily_rekeys(LYON, date(2026, 11, 14), 8),
            maintenance("2026-11-21T13:58:10Z"),
            state("2026-11-21T14:02:06Z", PARIS, False, IN_0, "GlobalStandbyChanged"),
            state("2026-11-21T14:02:19Z", PARIS, True, IN_1)]
    server = log_analytics({workspace_id: rows}, token=token, now=lambda: at("2026-11-22T08:00:00Z"))
    source = azure_source(server, workspace_id)
    summary = summarize_day(REGISTRY, Sources(kql=[source]), date(2026, 11, 21), PARIS_TZ,
                            at("2026-11-22T08:00:00Z"), ["paris", "lyon"])
    by_name = {t.name: t for t in summary.tunnels}
    assert summary.failures == []
    assert by_name["paris"].drops == 1 and by_name["paris"].downtime_s == 13
    assert by_name["paris"].causes == {"maintenance_failover": 1}
    assert not by_name["lyon"].troubled and [m.kind for m in by_name["lyon"].markers] == ["maintenance"]
    assert [q.backend for q in summary.queries] == ["log-analytics", "log-analytics"]
