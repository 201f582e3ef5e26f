"""Watching (issue 16): new drops found from the state changes ingested since a watermark, with the real
LogsQueryClient against the local Log Analytics endpoint (rows become queryable at their `_IngestionTime`), real
boto3 against moto, a real state store; told once each, grouped as an on-call engineer wants them."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.cli import run
from support.demo import DEMO_NOW
from support.fixture_logs import FIXTURES
from support.moto_server import REGION, rebase, seed

from bot.state import StateStore, open_store
from diagnostics.aws.cloudwatch import CloudWatchLogsSource
from diagnostics.aws.exports import read_aws_export
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel
from diagnostics.watch.incidents import flap_series
from diagnostics.watch.poll import poll
from handlers.watch import watch_json, watch_text

WS = "ws-watch"
PARIS = Tunnel(name="paris", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10")
LYON = Tunnel(name="lyon", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.20")
NICE = Tunnel(name="nice", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.30")
BERLIN = Tunnel(name="berlin", azure_gateway="VPNGW02", azure_remote_ip="198.51.100.7")
TUNNELS = [PARIS, LYON, NICE, BERLIN]
T0 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
IN_0, IN_1 = "GatewayTenantWorker_IN_0", "GatewayTenantWorker_IN_1"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def row(moment: datetime, category: str, operation: str, gateway: str = "VPNGW01", ingested: datetime | None = None,
        message: str = "", **columns: str) -> dict[str, str]:
    """An AzureDiagnostics row as the gateway writes it (docs/sources.md#azure-columns), queryable from `ingested`
    (default: at once)."""
    return {"TimeGenerated": z(moment), "Category": category, "OperationName": operation, "Message": message,
            "Level": "Informational", "Resource": gateway, "ResourceGroup": "RG-NETWORK",
            "_IngestionTime": z(ingested or moment), **columns}


def down(moment: datetime, remote: str, instance: str = IN_0, gateway: str = "VPNGW01",
         ingested: datetime | None = None, reason: str = "StandbyChanged") -> dict[str, str]:
    return row(moment, "TunnelDiagnosticLog", "TunnelDisconnected", gateway, ingested, instance_s=instance,
               remoteIP_s=remote, status_s="Disconnected", stateChangeReason_s=reason)


def up(moment: datetime, remote: str, instance: str = IN_1, gateway: str = "VPNGW01",
       ingested: datetime | None = None) -> dict[str, str]:
    return row(moment, "TunnelDiagnosticLog", "TunnelConnected", gateway, ingested, instance_s=instance,
               remoteIP_s=remote, status_s="Connected")


def maintenance(moment: datetime, gateway: str = "VPNGW01") -> dict[str, str]:
    return row(moment, "GatewayDiagnosticLog", "HostMaintenanceEvent", gateway, message="Upgrade gateway started",
               instance_s=IN_0)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def watched(log_analytics, azure_source):
    """`watched(rows)`: (server, sources, clock): the rows in a local workspace behind the real client; the
    server serves a row once the clock reached its ingestion time."""
    def make(rows):
        clock = Clock(at(30))
        server = log_analytics({WS: rows}, now=clock)
        return server, Sources(kql=[azure_source(server, WS)]), clock
    return make


def polled(sources, state, now, owner="poller-1", **options):
    """One poll whose incidents and recoveries are then told (recorded as told, as `vpnbot watch` does)."""
    result = poll(TUNNELS, sources, state, now, owner=owner, since=options.pop("since", at(-5)), **options)
    for incident in result.incidents:
        state.incident_posted(incident, now)
    for incident in result.recovered:
        state.recovery_posted(incident, now)
    return result


def changes_queries(server) -> list[str]:
    return [r.body["query"] for r in server.requests if r.body and "ingestion_time()" in r.body["query"]]


def test_a_failover_back_in_12_s_is_one_incident_with_its_duration_and_cause(watched, state):
    _, sources, clock = watched([maintenance(at(2) - timedelta(seconds=30)), down(at(2), PARIS.azure_remote_ip),
                                 up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)])
    clock.now = at(5)
    result = polled(sources, state, at(5))
    assert [i.to_json() for i in result.incidents] == [{
        "tunnels": ["paris"], "down_at": "2026-12-07T14:02:00Z", "up_at": "2026-12-07T14:02:12Z",
        "cause": "maintenance_failover", "confidence": "high", "flapping": False, "drops": 1}]


def test_one_query_per_workspace_per_poll_using_ingestion_time(watched, state):
    server, sources, clock = watched([down(at(2), PARIS.azure_remote_ip),
                                      up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)])
    clock.now = at(5)
    polled(sources, state, at(5))
    assert len(changes_queries(server)) == 1
    query = changes_queries(server)[0]
    assert "ingestion_time()" in query and "TimeGenerated >" not in query
    before = len(server.requests)
    clock.now = at(6)
    assert polled(sources, state, at(6)).incidents == []
    assert len(server.requests) - before == 1  # nothing new: one query, no investigation


def test_rows_arriving_late_and_out_of_order_across_polls_are_not_lost(watched, state):
    # paris drops at 14:02 but its disconnect row is only queryable at 14:19 (its reconnect arrived at once);
    # lyon drops later, at 14:10, and its rows arrive at once: a watermark on TimeGenerated would pass paris by.
    rows = [down(at(2), PARIS.azure_remote_ip, ingested=at(19)),
            up(at(2) + timedelta(seconds=20), PARIS.azure_remote_ip, ingested=at(3)),
            down(at(10), LYON.azure_remote_ip, instance=IN_1, reason="ConnectionTimeout"),
            up(at(10, ) + timedelta(seconds=40), LYON.azure_remote_ip, instance=IN_1)]
    _, sources, clock = watched(rows)
    told = []
    for minute in (4, 12, 20, 21):
        clock.now = at(minute)
        told.append([(i.tunnels, i.down_at, i.up_at) for i in polled(sources, state, at(minute)).incidents])
    assert told == [[], [(["lyon"], at(10), at(10) + timedelta(seconds=40))],
                    [(["paris"], at(2), at(2) + timedelta(seconds=20))], []]


def test_a_drop_still_settling_is_told_once_it_settled_with_its_reconnect(watched, state):
    _, sources, clock = watched([down(at(10), PARIS.azure_remote_ip),
                                 up(at(10) + timedelta(seconds=75), PARIS.azure_remote_ip)])
    clock.now = at(10.5)  # 30 s after the drop, not back yet
    first = polled(sources, state, at(10.5))
    assert first.incidents == [] and first.waiting == 1
    clock.now = at(12)
    [incident] = polled(sources, state, at(12)).incidents
    assert incident.up_at == at(10) + timedelta(seconds=75)


def test_a_tunnel_still_down_after_the_settle_time_is_told_still_down(watched, state):
    _, sources, clock = watched([down(at(10), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout")])
    clock.now = at(13)
    [incident] = polled(sources, state, at(13)).incidents
    assert incident.tunnels == ["berlin"] and incident.up_at is None and incident.to_json()["up_at"] is None


def test_a_tunnel_told_still_down_is_told_back_once_when_its_reconnect_arrives(watched, state):
    _, sources, clock = watched([down(at(10), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
                                 up(at(25), BERLIN.azure_remote_ip, gateway="VPNGW02")])
    clock.now = at(13)
    [told] = polled(sources, state, at(13)).incidents
    clock.now = at(26)
    back = polled(sources, state, at(26))
    assert back.incidents == [] and [(i.id, i.up_at) for i in back.recovered] == [(told.id, at(25))]
    clock.now = at(27)
    assert polled(sources, state, at(27)).recovered == []


def maintenance_with_two_tunnels_still_down() -> list[dict[str, str]]:
    """VPNGW01's maintenance at 14:02: paris back after 12 s, lyon only at 14:20, nice at 14:40."""
    return [maintenance(at(1) + timedelta(seconds=40)),
            down(at(2), PARIS.azure_remote_ip), up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip),
            down(at(2) + timedelta(seconds=1), LYON.azure_remote_ip), up(at(20), LYON.azure_remote_ip),
            down(at(2) + timedelta(seconds=2), NICE.azure_remote_ip), up(at(40), NICE.azure_remote_ip)]


@pytest.mark.both_stores
def test_a_gateways_incident_with_tunnels_still_down_is_followed_tunnel_by_tunnel(watched, state):
    _, sources, clock = watched(maintenance_with_two_tunnels_still_down())
    seen = []
    for minute in (5, 21, 41, 42):
        clock.now = at(minute)
        seen.append(polled(sources, state, at(minute)))
    (told,) = seen[0].incidents
    assert (told.tunnels, told.up_at, list(told.back)) == (["paris", "lyon", "nice"], None, ["paris"])
    assert watch_text(seen[0], UTC_ZONE) == ("⚠️ paris, lyon and nice dropped together at 14:02:00 UTC: paris back, "
                                             "lyon and nice still down — maintenance failover (high)\n")
    (lyon,) = seen[1].recovered
    assert (lyon.id, lyon.newly_back, lyon.up_at) == (told.id, ["lyon"], None)
    assert watch_text(seen[1], UTC_ZONE) == ("✅ lyon back at 14:20:00 UTC, after 17 min 59 s down — maintenance "
                                             "failover\n")
    (nice,) = seen[2].recovered
    assert (nice.id, nice.newly_back, nice.up_at) == (told.id, ["nice"], at(40))
    assert watch_json(seen[2])["recovered"] == [{**nice.to_json(), "back": {"nice": "2026-12-07T14:40:00Z"}}]
    assert nice.to_json()["up_at"] == "2026-12-07T14:40:00Z"
    assert seen[1].incidents == seen[2].incidents == seen[3].incidents == seen[3].recovered == []
    assert [(r["tunnel"], r["status"]) for r in state.watch_recoveries()] == [("lyon", "posted"), ("nice", "posted")]


@pytest.mark.both_stores
def test_a_flap_series_told_down_is_told_back_by_its_last_reconnect_not_by_an_earlier_one_read_again(watched,
                                                                                                      state):
    # berlin's first reconnect (14:01:30) is ingested late, at 14:06:30: the poll of 14:08 reads it again (the last
    # minutes are re-read), after the series was told "down now".
    _, sources, clock = watched([
        down(at(1), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
        up(at(1) + timedelta(seconds=30), BERLIN.azure_remote_ip, IN_0, gateway="VPNGW02", ingested=at(6.5)),
        down(at(5), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
        up(at(20), BERLIN.azure_remote_ip, IN_0, gateway="VPNGW02")])
    told = []
    for minute in (7, 8, 21):
        clock.now = at(minute)
        told.append(polled(sources, state, at(minute)))
    (series,) = told[0].incidents
    assert (series.flapping, series.drops, series.up_at) == (True, 2, None)
    assert told[1].recovered == [] and told[1].incidents == []
    assert watch_text(told[2], UTC_ZONE).startswith("✅ berlin back at 14:20:00 UTC, after 15 min down — ")


def test_a_recovery_is_told_by_one_of_two_pollers_and_one_left_by_a_crash_after_its_lease(watched, state_url):
    _, sources, clock = watched([down(at(10), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
                                 up(at(25), BERLIN.azure_remote_ip, gateway="VPNGW02")])
    stores = [open_store(state_url), open_store(state_url)]  # two pollers on one store (SQLite, PostgreSQL)
    clock.now = at(13)
    [told] = polled(sources, stores[0], at(13)).incidents
    clock.now = at(26)
    results: dict[int, list] = {}
    start = threading.Barrier(2)

    def run_poller(n: int) -> None:  # both find the reconnect; neither lives to record it as told
        start.wait()
        results[n] = poll(TUNNELS, sources, stores[n], at(26), owner=f"poller-{n}").recovered

    threads = [threading.Thread(target=run_poller, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(len(r) for r in results.values()) == [0, 1]
        clock.now = at(28)
        assert polled(sources, stores[1], at(28), owner="alive").recovered == []  # its lease still holds
        clock.now = at(32)
        taken = polled(sources, stores[1], at(32), owner="alive").recovered
        assert [(i.id, i.newly_back, i.up_at) for i in taken] == [(told.id, ["berlin"], at(25))]
        clock.now = at(40)
        assert polled(sources, stores[0], at(40)).recovered == []
    finally:
        for store in stores:
            store.close()


def test_a_flap_series_is_one_incident_counting_its_drops(watched, state):
    rows = []
    for n in range(5):  # five drops 4 minutes apart, each down 30 s
        rows += [down(at(1 + 4 * n), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
                 up(at(1 + 4 * n) + timedelta(seconds=30), BERLIN.azure_remote_ip, IN_0, gateway="VPNGW02")]
    _, sources, clock = watched(rows)
    clock.now = at(25)
    [incident] = polled(sources, state, at(25)).incidents
    assert incident.tunnels == ["berlin"] and incident.flapping and incident.drops == 5
    assert incident.down_at == at(1) and incident.up_at == at(17) + timedelta(seconds=30)
    assert incident.cause != "flapping"  # the cause of the drops; "flapping" is said by the flag


def test_a_flap_series_going_on_across_polls_stays_one_incident_whose_drops_grow(watched, state):
    # berlin's first drop lasts 40 minutes; two more follow soon after it came back.
    rows = [down(at(0), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
            up(at(40), BERLIN.azure_remote_ip, IN_0, gateway="VPNGW02")]
    for minute in (45, 50):
        rows += [down(at(minute), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
                 up(at(minute) + timedelta(seconds=30), BERLIN.azure_remote_ip, IN_0, gateway="VPNGW02")]
    _, sources, clock = watched(rows)
    clock.now = at(3)
    [first] = polled(sources, state, at(3), since=at(-1)).incidents
    assert first.up_at is None and not first.flapping
    clock.now = at(55)
    [grown] = polled(sources, state, at(55)).incidents
    assert grown.id == first.id and grown.flapping and grown.drops == 3
    assert (grown.down_at, grown.up_at) == (at(0), at(50) + timedelta(seconds=30))


def test_a_maintenance_hitting_three_tunnels_of_a_gateway_is_one_incident_listing_them(watched, state):
    rows = [maintenance(at(1) + timedelta(seconds=40))]
    for i, tunnel in enumerate((PARIS, LYON, NICE)):
        rows += [down(at(2) + timedelta(seconds=i), tunnel.azure_remote_ip),
                 up(at(2) + timedelta(seconds=12 + i), tunnel.azure_remote_ip)]
    rows += [down(at(3), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
             up(at(3) + timedelta(seconds=50), BERLIN.azure_remote_ip, gateway="VPNGW02")]
    _, sources, clock = watched(rows)
    clock.now = at(6)
    incidents = polled(sources, state, at(6)).incidents
    assert [(sorted(i.tunnels), i.cause, i.drops) for i in incidents] == [
        (["lyon", "nice", "paris"], "maintenance_failover", 1), (["berlin"], incidents[1].cause, 1)]
    assert len(state.watch_claims()) == 4  # each drop claimed


def test_a_tunnel_of_the_gateway_whose_rows_arrive_a_poll_later_joins_the_incident_told(watched, state):
    rows = [maintenance(at(1) + timedelta(seconds=40))]
    for i, tunnel in enumerate((PARIS, LYON, NICE)):
        late = at(6) if tunnel is NICE else None
        rows += [down(at(2) + timedelta(seconds=i), tunnel.azure_remote_ip, ingested=late),
                 up(at(2) + timedelta(seconds=12 + i), tunnel.azure_remote_ip, ingested=late)]
    _, sources, clock = watched(rows)
    clock.now = at(5)
    [first] = polled(sources, state, at(5)).incidents
    clock.now = at(7)
    [grown] = polled(sources, state, at(7)).incidents
    assert (sorted(first.tunnels), sorted(grown.tunnels)) == (["lyon", "paris"], ["lyon", "nice", "paris"])
    assert grown.id == first.id and grown.cause == "maintenance_failover"
    assert {row["incident"] for row in state.watch_claims()} == {first.id}  # one message to edit, later in Slack
    clock.now = at(9)
    assert polled(sources, state, at(9)).incidents == []


def test_a_failing_workspace_keeps_its_watermark_and_the_next_poll_tells_the_drop(watched, state):
    server, sources, clock = watched([down(at(2), PARIS.azure_remote_ip),
                                      up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)])
    clock.now = at(5)
    server.fail(1, status=403)
    failed = polled(sources, state, at(5))
    assert failed.incidents == [] and failed.failures
    assert any("its watermark stays" in note for note in failed.notes)
    assert state.watermark(f"azure:{WS}") is None
    clock.now = at(6)
    assert [i.tunnels for i in polled(sources, state, at(6)).incidents] == [["paris"]]


def test_a_restart_between_polls_continues_from_the_stored_watermark(watched, tmp_path):
    rows = [down(at(2), PARIS.azure_remote_ip), up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip),
            down(at(40), LYON.azure_remote_ip, ingested=at(41)),
            up(at(40) + timedelta(seconds=15), LYON.azure_remote_ip, ingested=at(41))]
    _, sources, clock = watched(rows)
    path = tmp_path / "state.db"
    first = StateStore(path)
    clock.now = at(5)
    assert [i.tunnels for i in polled(sources, first, at(5)).incidents] == [["paris"]]
    first.close()
    again = StateStore(path)  # a new process: no --since, the stored watermark decides
    clock.now = at(45)
    result = poll(TUNNELS, sources, again, at(45), owner="poller-2")
    assert [i.tunnels for i in result.incidents] == [["lyon"]]
    assert again.watermark(f"azure:{WS}") == at(43)  # the last 2 minutes are read again next time
    again.close()


def test_after_a_long_stop_it_catches_up_24_hours_and_says_what_it_skipped(watched, state):
    _, sources, clock = watched([down(at(2), PARIS.azure_remote_ip),
                                 up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)])
    state.set_watermark(f"azure:{WS}", at(-3 * 24 * 60), at(-3 * 24 * 60))
    clock.now = at(5)
    result = polled(sources, state, at(5))
    assert [i.tunnels for i in result.incidents] == [["paris"]]
    assert any("skipped the state changes ingested between 2026-12-04T14:00:00Z and 2026-12-06T14:05:00Z" in n
               for n in result.notes)


def test_two_pollers_on_one_database_tell_each_drop_once(watched, state_url):
    _, sources, clock = watched([maintenance(at(1)), down(at(2), PARIS.azure_remote_ip),
                                 up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)])
    clock.now = at(5)
    path = state_url
    stores = [StateStore(path), StateStore(path)]
    results: dict[int, list] = {}
    start = threading.Barrier(2)

    def run_poller(n: int) -> None:
        start.wait()
        results[n] = polled(sources, stores[n], at(5), owner=f"poller-{n}").incidents

    threads = [threading.Thread(target=run_poller, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results.values()) == [0, 1]
    for store in stores:
        store.close()


@pytest.mark.both_stores
def test_a_claim_left_by_a_crash_before_posting_is_told_after_its_lease(watched, state):
    _, sources, clock = watched([down(at(2), PARIS.azure_remote_ip),
                                 up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)])
    clock.now = at(5)
    crashed = poll(TUNNELS, sources, state, at(5), owner="dead", since=at(-5))
    assert [i.tunnels for i in crashed.incidents] == [["paris"]]  # claimed, never recorded as posted
    clock.now = at(6)
    assert polled(sources, state, at(6), owner="alive").incidents == []  # the lease still holds
    clock.now = at(11)
    taken = polled(sources, state, at(11), owner="alive").incidents
    assert [(i.tunnels, i.down_at, i.cause) for i in taken] == [(["paris"], at(2), crashed.incidents[0].cause)]
    clock.now = at(20)
    assert polled(sources, state, at(20), owner="alive").incidents == []


def test_an_aws_dpd_drop_is_found_with_filter_log_events_and_told_once(aws, state):
    group = "/aws/vendedlogs/vpn"
    dc1 = Tunnel(name="dc1", aws_vpn_connection="vpn-0123456789abcdef0",
                 aws_outside_ips=("52.95.10.1", "52.95.10.2"))
    records = read_aws_export(FIXTURES / "aws" / "dpd_timeout.json").records
    now_ms = int(time.time() * 1000)
    moved = rebase(records, now_ms - 60_000)
    seed(aws, group, moved)
    shift = (moved[0].timestamp - records[0].timestamp) / 1000
    drop = datetime.fromtimestamp(datetime(2026, 11, 21, 14, 2, tzinfo=UTC).timestamp() + shift, UTC)
    sources = Sources(aws=[CloudWatchLogsSource(group, region=REGION)])
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    first = poll([dc1], sources, state, now, owner="p", since=drop - timedelta(minutes=5))
    assert [(i.tunnels, i.cause, i.confidence) for i in first.incidents] == [(["dc1"], "dpd_timeout", "high")]
    assert abs((first.incidents[0].down_at - drop).total_seconds()) < 60
    assert "aws logs filter-log-events" in first.queries[0].text
    for incident in first.incidents:
        state.incident_posted(incident, now)
    assert poll([dc1], sources, state, now + timedelta(minutes=1), owner="p").incidents == []


def test_drops_split_into_flap_series_where_the_tunnel_stayed_up_30_minutes(demo):
    from diagnostics.model import Drop, Event, EventKind

    def drop(minute: float, seconds: float = 20) -> Drop:
        ts = at(minute).timestamp()
        return Drop(Event(ts, "azure", "TunnelDiagnosticLog", EventKind.TUNNEL_DOWN, "TunnelDisconnected", "GW", ""),
                    Event(ts + seconds, "azure", "TunnelDiagnosticLog", EventKind.TUNNEL_UP, "TunnelConnected", "GW",
                          ""))

    series = flap_series([drop(0), drop(10), drop(29), drop(70)])
    assert [len(s) for s in series] == [3, 1]


# -- the command line ----------------------------------------------------------------------------------------


def test_watch_once_prints_the_json_contract_then_nothing_the_second_time(capsys, here):
    args = ("watch", "--once", "--demo", "--now", DEMO_NOW.isoformat(), "--since",
            (DEMO_NOW - timedelta(hours=6)).isoformat(), "--format", "json", "--state-db", str(here / "w.db"))
    code, out, _ = run(capsys, *args)
    assert code == 0
    answer = json.loads(out)
    assert answer["schema"] == 1 and answer["incidents"]
    for incident in answer["incidents"]:
        assert set(incident) == {"tunnels", "down_at", "up_at", "cause", "confidence", "flapping", "drops"}
        assert incident["tunnels"] and all(isinstance(n, str) for n in incident["tunnels"])
        assert incident["down_at"].endswith("Z") and (incident["up_at"] is None or incident["up_at"].endswith("Z"))
        assert isinstance(incident["flapping"], bool) and incident["drops"] >= 1
        assert incident["confidence"] in ("high", "medium", "low")
    code, out, _ = run(capsys, *args)
    assert code == 0 and json.loads(out) == {"schema": 1, "incidents": [], "recovered": []}


def test_watch_once_text_says_each_drop_in_one_line(capsys, here):
    code, out, _ = run(capsys, "watch", "--once", "--demo", "--now", DEMO_NOW.isoformat(), "--since",
                       (DEMO_NOW - timedelta(hours=6)).isoformat(), "--state-db", str(here / "w.db"))
    assert code == 0 and out.startswith("⚠️ ")
    assert all(" dropped" in line or " flapping: " in line for line in out.splitlines())


def test_watch_refuses_an_unreadable_since_in_one_line(capsys, here):
    code, _, err = run(capsys, "watch", "--once", "--demo", "--since", "yesterday", "--state-db", str(here / "w.db"))
    assert code == 2 and err.strip().endswith("example: --since 2026-11-21T14:00:00Z")
    assert len(err.strip().splitlines()) <= 2


class Watching:
    """`vpnbot watch` (the loop) in a child process; its stdout and stderr read line by line as they come."""

    def __init__(self, cwd, *args: str, env: dict[str, str] | None = None) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VPNBOT_"))} | (env or {})
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "watch", *args], cwd=cwd, env=environ,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        for name, stream, into in (("out", self.proc.stdout, self.out), ("err", self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(name, stream, into), daemon=True).start()

    def _read(self, name, stream, into) -> None:
        for line in stream:
            into.append(line)
            self.lines.put((name, line))

    def wait_line(self, name: str, start: str, timeout: float = 120) -> str:
        """The next line of `name` (out|err) starting with `start` (an event, not a time: the timeout only ends a
        test that would hang)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                stream, line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError("vpnbot watch exited: " + "".join(self.err)) from None
                continue
            if stream == name and line.startswith(start):
                return line
        raise AssertionError(f"vpnbot watch never said {start!r}: " + "".join(self.err))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_watch_loop_polls_every_every_seconds_prints_what_it_tells_and_stops_cleanly_on_a_signal(here, signum):
    since = (datetime.now(UTC) - timedelta(hours=20)).isoformat()
    watching = Watching(here, "--demo", "--every", "1", "--since", since, "--state-db", str(here / "w.db"))
    try:
        first = watching.wait_line("out", "⚠️ ")  # the demo's drops of the last 20 hours, told by the first poll
        watching.wait_line("err", "poll 1 at ")
        second = watching.wait_line("err", "poll 2 at ")  # a second second later: --every 1
        watching.proc.send_signal(signum)
        last = watching.wait_line("err", "stopped ")
        assert watching.proc.wait(60) == 0
    finally:
        watching.close()
    told = [line for line in watching.out if line.startswith("⚠️ ")]
    assert first in told and all(" dropped" in line or " flapping: " in line for line in told)
    assert second.startswith("poll 2 at ") and " 0 new, " in second  # each incident printed once, by the first poll
    assert last.startswith(f"stopped ({signal.Signals(signum).name}) after ")
    assert "polls; the watermarks are kept" in last
    assert "Traceback" not in "".join(watching.err)
    store = StateStore(here / "w.db")
    try:
        assert {c["status"] for c in store.watch_claims()} == {"posted"}  # what it printed is recorded as told
    finally:
        store.close()


def test_the_watch_loop_stopping_names_a_postgresql_store_without_its_password(here, pg_server):
    url, schema = pg_server.new_schema()
    user, rest = url.split("://", 1)[1].split("@", 1)
    with_password = f"postgresql://{user}:s3cret-watch-pw@{rest}"  # the server trusts: the password is not checked
    since = (datetime.now(UTC) - timedelta(hours=20)).isoformat()
    watching = Watching(here, "--demo", "--every", "1", "--since", since, env={"VPNBOT_STATE_URL": with_password})
    try:
        watching.wait_line("err", "poll 1 at ")
        watching.proc.send_signal(signal.SIGTERM)
        last = watching.wait_line("err", "stopped ")
        assert watching.proc.wait(60) == 0
    finally:
        watching.close()
        pg_server.drop_schema(schema)
    assert "the watermarks are kept in postgresql://" in last
    assert "s3cret-watch-pw" not in "".join(watching.out + watching.err)
