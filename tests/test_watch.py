"""Watching (issue 16): new drops found from the state changes ingested since a watermark, with the real
LogsQueryClient against the local Log Analytics endpoint (rows become queryable at their `_IngestionTime`), real
boto3 against moto, a real state store; told once each, grouped as an on-call engineer wants them."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from support.cli import run
from support.demo import DEMO_NOW
from support.fixture_logs import FIXTURES
from support.moto_server import REGION, rebase, seed

from bot.state import StateStore
from diagnostics.aws.cloudwatch import CloudWatchLogsSource
from diagnostics.aws.exports import read_aws_export
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel
from diagnostics.watch.incidents import flap_series
from diagnostics.watch.poll import poll

WS = "ws-watch"
PARIS = Tunnel(name="paris", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10")
LYON = Tunnel(name="lyon", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.20")
NICE = Tunnel(name="nice", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.30")
BERLIN = Tunnel(name="berlin", azure_gateway="VPNGW02", azure_remote_ip="198.51.100.7")
TUNNELS = [PARIS, LYON, NICE, BERLIN]
T0 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
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
    result = poll(TUNNELS, sources, state, now, owner=owner, since=options.pop("since", at(-5)), **options)
    for incident in result.incidents:
        state.incident_posted(incident, now)
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


def test_two_pollers_on_one_database_tell_each_drop_once(watched, tmp_path):
    _, sources, clock = watched([maintenance(at(1)), down(at(2), PARIS.azure_remote_ip),
                                 up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)])
    clock.now = at(5)
    path = tmp_path / "state.db"
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
