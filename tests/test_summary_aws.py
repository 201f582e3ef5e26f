"""The AWS side of the daily summary against moto's CloudWatch Logs on 127.0.0.1, with pinned times and numbers
computed by hand: drops, downtime (both tunnels down), exposure (one down), causes, midnight carry-over, no logs, a
25-hour DST day, the 7-day baseline (from Logs Insights or computed in Python: the same numbers), the API calls per
group, and a failing group next to one that answers.

moto drops events older than 14 days (docs/sources.md#aws-test-emulator), so its clock is pinned to the test's "now"
(moto runs in this process); the tunnel log rows are the real JSON format (the snake_case keys of
docs/sources.md#aws-log-fields, the messages of docs/sources.md#aws-ikev2-errors and
docs/sources.md#aws-ikev2-negotiation), as the demo writes them.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.moto_server import REGION, MotoServer

from diagnostics import deadline
from diagnostics.aws.cloudwatch import CloudWatchLogsSource, DeadlineReached, InsightsAnswer, poll_insights
from diagnostics.aws.parser.rows import LogRecord
from diagnostics.aws.sources import MemoryLogSource
from diagnostics.summary.aws import AwsDaySummary, summarize_aws
from diagnostics.summary.aws_insights import (
    DOWNS_QUERY,
    PRESENCE_QUERY,
    StreamStats,
    insights_stream_stats,
    is_down_row,
    python_stream_stats,
)
from diagnostics.summary.model import Baseline
from diagnostics.tunnels import Tunnel

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 11, 21)  # CET, UTC+1
NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
GROUP = "/aws/vendedlogs/vpn"
EST, REKEY, DOWN = "established", "rekeying", "down"
CGW = "198.51.100.7"

A = Tunnel(name="dc-a", aws_vpn_connection="vpn-0a00000000000000a", aws_outside_ips=("52.95.10.1", "52.95.10.2"))
B = Tunnel(name="dc-b", aws_vpn_connection="vpn-0b00000000000000b", aws_outside_ips=("52.95.20.1", "52.95.20.2"))
C = Tunnel(name="dc-c", aws_vpn_connection="vpn-0c00000000000000c", aws_outside_ips=("52.95.30.1", "52.95.30.2"))
D = Tunnel(name="dc-d", aws_vpn_connection="vpn-0d00000000000000d", aws_outside_ips=("52.95.40.1", "52.95.40.2"))

Row = tuple[str, int, str]  # stream, CloudWatch timestamp (ms), message


# ------------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def aws(aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """The shared clean moto (tests/conftest.py), its clock reading NOW: it rejects events older than 14 days."""
    pin(monkeypatch, NOW)
    return aws


def pin(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    import moto.logs.models

    monkeypatch.setattr(moto.logs.models, "utcnow", lambda: now.astimezone(UTC).replace(tzinfo=None))


# ------------------------------------------------------------------------------------------------------ the logs


def local(day: date, hour: int, minute: int = 0, second: int = 0, zone: ZoneInfo = PARIS) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone).astimezone(UTC)


def midnight(day: date, zone: ZoneInfo = PARIS) -> datetime:
    return local(day, 0, zone=zone)


def stream(tunnel: Tunnel, k: int) -> str:
    return f"{tunnel.aws_vpn_connection}-{tunnel.aws_outside_ips[k]}"


def row(name: str, at: datetime, details: str, phase1: str, phase2: str) -> Row:
    body = {"event_timestamp": int(at.timestamp()), "timestamp": at.strftime("%Y-%m-%d %H:%M:%S") + "Z",
            "details": details, "dpd_enabled": True, "nat_t_detected": False,
            "ike_phase1_state": phase1, "ike_phase2_state": phase2}
    return name, round(at.timestamp() * 1000), json.dumps(body)


def rekey(name: str, at: datetime, n: int) -> list[Row]:
    """An AWS-initiated phase 2 rekey (docs/sources.md#aws-ikev2-negotiation): the tunnel stays up."""
    return [row(name, at - timedelta(milliseconds=60), f"AWS tunnel is sending request (id={n}) for CREATE_CHILD_SA",
                EST, REKEY),
            row(name, at, f"AWS tunnel processed response (id={n}) for CREATE_CHILD_SA", EST, EST)]


def quiet(name: str, start: datetime, end: datetime, every: timedelta = timedelta(minutes=50),
          busy: list[tuple[datetime, datetime]] | None = None) -> list[Row]:
    """Rekeys from `start` to `end`, none while the tunnel is down (`busy`)."""
    rows, at, n = [], start + timedelta(minutes=3), 100
    while at < end:
        if not any(lo - timedelta(minutes=2) <= at <= hi + timedelta(minutes=2) for lo, hi in busy or ()):
            rows += rekey(name, at, n)
        at, n = at + every, n + 1
    return rows


def dpd_outage(name: str, down: datetime, up: datetime | None) -> list[Row]:
    """AWS declares the customer gateway dead (IKEv2 DPD), its re-negotiations time out every 30 s, and the tunnel is
    established again exactly at `up` (None: still down)."""
    rows = [row(name, down, "AWS tunnel DPD timed out after 3 retransmits", DOWN, DOWN)]
    at, end = down + timedelta(seconds=30), up or down + timedelta(minutes=20)
    while at < end - timedelta(seconds=5):
        rows.append(row(name, at, f"AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: {CGW}",
                        DOWN, DOWN))
        at += timedelta(seconds=30)
    if up is not None:
        rows += rekey(name, up, 1)
    return rows


def tunnel_log(name: str, start: datetime, end: datetime, outages: list[tuple[datetime, datetime | None]]) -> list[Row]:
    rows = quiet(name, start, end, busy=[(lo, hi or end) for lo, hi in outages])
    for lo, hi in outages:
        rows += dpd_outage(name, lo, hi)
    return rows


def seed(aws: MotoServer, rows: list[Row], group: str = GROUP) -> None:
    """One client; the group and streams created; each stream's events put in time order (moto requires it)."""
    logs = aws.client("logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    by_stream: dict[str, list[tuple[int, str]]] = {}
    for name, ts, message in rows:
        by_stream.setdefault(name, []).append((ts, message))
    for name, events in sorted(by_stream.items()):
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=group, logStreamName=name)
        events.sort()
        for i in range(0, len(events), 10_000):
            result = logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=[
                {"timestamp": ts, "message": m} for ts, m in events[i:i + 10_000]])
            assert not result.get("rejectedLogEventsInfo"), result["rejectedLogEventsInfo"]


def source(**kwargs) -> CloudWatchLogsSource:
    return CloudWatchLogsSource(GROUP, region=REGION, **kwargs)


def summarize(tunnels: list[Tunnel], sources: list, day: date = DAY, now: datetime = NOW,
              zone: ZoneInfo = PARIS, **kwargs) -> AwsDaySummary:
    return summarize_aws(tunnels, sources, midnight(day, zone), midnight(day + timedelta(days=1), zone), now,
                         tz=zone, **kwargs)


WEEK_START = midnight(DAY - timedelta(days=7)) - timedelta(hours=3)
DAY_END = midnight(DAY + timedelta(days=1))


# ------------------------------------------------------------------------------------------------------ the day


def test_three_dpd_drops_of_one_tunnel_while_the_other_stays_up_are_exposure_not_downtime(aws):
    outages = [(local(DAY, 3), local(DAY, 3, 5)), (local(DAY, 9), local(DAY, 9, 7)),
               (local(DAY, 15), local(DAY, 15, 10))]
    seed(aws, tunnel_log(stream(A, 0), WEEK_START, DAY_END, outages)
         + tunnel_log(stream(A, 1), WEEK_START, DAY_END, []))
    day = summarize([A], [source()]).days["dc-a"]
    assert day.drops == 3
    assert day.downtime_s == 0 and day.longest_outage_s == 0 and day.uptime_pct == 100.0
    assert day.exposure_s == 5 * 60 + 7 * 60 + 10 * 60
    assert day.causes == {"dpd_timeout": 3}
    assert day.flapping  # three drops of one tunnel in the window: the answers' flapping rule
    assert {o.path for o in day.outages} == {"52.95.10.1"} and day.paths == 2 and not day.no_logs
    assert day.seconds_in_day == 86_400


def test_both_tunnels_down_at_once_is_downtime_and_the_rest_is_exposure(aws):
    seed(aws, tunnel_log(stream(A, 0), WEEK_START, DAY_END, [(local(DAY, 9, 59, 30), local(DAY, 10, 8))])
         + tunnel_log(stream(A, 1), WEEK_START, DAY_END, [(local(DAY, 10), local(DAY, 10, 7))]))
    day = summarize([A], [source()]).days["dc-a"]
    assert day.drops == 2  # one per tunnel
    assert day.downtime_s == 420 and day.longest_outage_s == 420  # 10:00-10:07, both down
    assert day.exposure_s == 30 + 60  # 09:59:30-10:00 and 10:07-10:08, one down
    assert day.uptime_pct == round(100 * (1 - 420 / 86_400), 2)
    assert day.causes == {"dpd_timeout": 2} and not day.flapping


def test_an_outage_from_yesterday_is_downtime_of_the_day_but_not_a_drop(aws):
    down, up = local(DAY - timedelta(days=1), 23), local(DAY, 1, 30)
    seed(aws, tunnel_log(stream(A, 0), WEEK_START, DAY_END, [(down, up)])
         + tunnel_log(stream(A, 1), WEEK_START, DAY_END, [(down + timedelta(seconds=4), up + timedelta(seconds=2))]))
    day = summarize([A], [source()]).days["dc-a"]
    assert day.drops == 0 and day.causes == {}
    assert day.outages and all(o.began_before and not o.ongoing and o.start == midnight(DAY).timestamp()
                               for o in day.outages)
    assert day.downtime_s == 5400  # 00:00-01:30, both tunnels down
    assert day.exposure_s == 2


def test_a_tunnel_still_down_at_midnight_is_an_ongoing_outage(aws):
    seed(aws, tunnel_log(stream(A, 0), WEEK_START, DAY_END, [(local(DAY, 22), None)])
         + tunnel_log(stream(A, 1), WEEK_START, DAY_END, []))
    day = summarize([A], [source()]).days["dc-a"]
    (only,) = day.outages
    assert only.ongoing and not only.began_before and only.end == DAY_END.timestamp()
    assert day.drops == 1 and day.exposure_s == 2 * 3600 and day.downtime_s == 0


def test_a_tunnel_silent_before_midnight_and_established_at_1_30_was_down_since_midnight(aws):
    first = row(stream(A, 0), local(DAY, 1, 30), "AWS tunnel is sending response (id=0) for CREATE_CHILD_SA", EST, EST)
    seed(aws, [first, *quiet(stream(A, 0), local(DAY, 1, 30), DAY_END),
               *tunnel_log(stream(A, 1), WEEK_START, DAY_END, [])])
    summary = summarize([A], [source()])
    day = summary.days["dc-a"]
    (only,) = day.outages
    assert only.began_before and only.path == "52.95.10.1" and only.end == local(DAY, 1, 30).timestamp()
    assert day.drops == 0 and day.exposure_s == 5400 and day.downtime_s == 0
    assert any("52.95.10.1 (1 of 2) logged nothing in the 2 h before midnight" in n for n in summary.notes)


def test_a_connection_without_a_single_event_in_the_day_has_no_logs(aws):
    yesterday = midnight(DAY)
    seed(aws, tunnel_log(stream(A, 0), WEEK_START, DAY_END, []) + tunnel_log(stream(A, 1), WEEK_START, DAY_END, [])
         + tunnel_log(stream(B, 0), WEEK_START, yesterday, []) + tunnel_log(stream(B, 1), WEEK_START, yesterday, []))
    summary = summarize([A, B, C], [source()])
    assert not summary.days["dc-a"].no_logs
    assert summary.days["dc-b"].no_logs and summary.days["dc-b"].troubled  # logged all week, then nothing
    assert summary.days["dc-c"].no_logs and summary.days["dc-c"].baseline is None  # never logged
    assert summary.days["dc-b"].baseline == Baseline(days=7, drops=0.0, downtime_s=0.0)


def test_the_25_hour_dst_day_counts_elapsed_seconds(aws, monkeypatch):
    """25 Oct 2026 in Paris: 02:00-03:00 happens twice. Both tunnels are down from 01:50 CEST to 03:10 CET: 80 min on
    the wall clock, 2 h 20 min elapsed."""
    dst, now = date(2026, 10, 25), datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    pin(monkeypatch, now)
    down, up = datetime(2026, 10, 24, 23, 50, tzinfo=UTC), datetime(2026, 10, 25, 2, 10, tzinfo=UTC)
    assert down.astimezone(PARIS).strftime("%H:%M %Z") == "01:50 CEST"
    assert up.astimezone(PARIS).strftime("%H:%M %Z") == "03:10 CET"
    start, end = midnight(dst - timedelta(days=1)), midnight(dst + timedelta(days=1))
    seed(aws, tunnel_log(stream(A, 0), start, end, [(down, up)])
         + tunnel_log(stream(A, 1), start, end, [(down - timedelta(seconds=3), up)]))
    day = summarize([A], [source()], day=dst, now=now).days["dc-a"]
    assert day.seconds_in_day == 90_000
    assert day.downtime_s == 8400 and day.drops == 2
    assert day.uptime_pct == round(100 * (1 - 8400 / 90_000), 2)


def test_today_so_far_ends_at_now(aws, monkeypatch):
    now = local(DAY, 12)
    pin(monkeypatch, now)
    seed(aws, tunnel_log(stream(A, 0), WEEK_START, now, [(local(DAY, 11), None)])
         + tunnel_log(stream(A, 1), WEEK_START, now, []))
    day = summarize([A], [source()], now=now).days["dc-a"]
    assert day.seconds_in_day == 12 * 3600  # 00:00 CET (23:00 UTC) .. 12:00 CET
    (only,) = day.outages
    assert only.ongoing and only.end == now.timestamp() and day.exposure_s == 3600


# ------------------------------------------------------------------------------------------------------ baseline


def week_with_history(aws: MotoServer) -> list[Row]:
    """dc-a: 4 drops and 600 s of downtime in the 7 days before; dc-b: logging since the 18th, one drop; dc-d:
    quiet all week; dc-c: nothing."""
    d20, d18, d19 = DAY - timedelta(days=1), DAY - timedelta(days=3), DAY - timedelta(days=2)
    rows = tunnel_log(stream(A, 0), WEEK_START, DAY_END, [
        (local(d18, 9), local(d18, 9, 10)), (local(d20, 10), local(d20, 10, 5)), (local(d20, 14), local(d20, 14, 5))])
    rows += tunnel_log(stream(A, 1), WEEK_START, DAY_END, [(local(d18, 9), local(d18, 9, 10))])
    since = local(d18, 12)
    rows += tunnel_log(stream(B, 0), since, DAY_END, [])
    rows += tunnel_log(stream(B, 1), since, DAY_END, [(local(d19, 3), local(d19, 3, 20))])
    rows += tunnel_log(stream(D, 0), WEEK_START, DAY_END, []) + tunnel_log(stream(D, 1), WEEK_START, DAY_END, [])
    seed(aws, rows)
    return rows


EXPECTED_BASELINES = {
    "dc-a": Baseline(days=7, drops=round(4 / 7, 2), downtime_s=round(600 / 7, 1)),
    "dc-b": Baseline(days=3, drops=round(1 / 3, 2), downtime_s=0.0),
    "dc-c": None,
    "dc-d": Baseline(days=7, drops=0.0, downtime_s=0.0),
}


def test_baseline_of_the_7_previous_days_computed_in_python_when_moto_ignores_stats(aws):
    week_with_history(aws)
    summary = summarize([A, B, C, D], [source()])
    assert {name: day.baseline for name, day in summary.days.items()} == EXPECTED_BASELINES
    assert summary.baseline_from == {GROUP: "python"}
    assert any("rows without the stats fields" in n and "computed from a filter_log_events read" in n
               for n in summary.notes)
    insights = [q for q in summary.queries if "start-query" in q.text]
    assert [PRESENCE_QUERY in insights[0].text, DOWNS_QUERY in insights[1].text] == [True, True]


class AnsweringInsights(CloudWatchLogsSource):
    """CloudWatch through moto, except Logs Insights, which moto does not evaluate: its answer is what a correct
    `stats` returns over the seeded rows (counted here independently, in AWS's result shape and time format)."""

    def __init__(self, rows: list[Row], **kwargs) -> None:
        super().__init__(GROUP, region=REGION, **kwargs)
        self.rows = rows
        self.asked: list[str] = []

    def run_insights(self, group, queries, start, end, timeout_s=60.0):
        lo, hi = start.timestamp() * 1000, (end.timestamp() + 1) * 1000  # the end second is included
        rows = [r for r in self.rows if lo <= r[1] < hi]
        self.asked += queries
        return [InsightsAnswer(queries[0], "Complete", self.presence(rows)),
                InsightsAnswer(queries[1], "Complete", self.downs(rows))]

    @staticmethod
    def aws_time(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]

    def presence(self, rows: list[Row]) -> list[list[dict[str, str]]]:
        times: dict[str, list[int]] = {}
        for name, ts, _ in rows:
            times.setdefault(name, []).append(ts)
        return [[{"field": "@logStream", "value": name}, {"field": "events", "value": str(len(ts))},
                 {"field": "first_event", "value": self.aws_time(min(ts))},
                 {"field": "last_event", "value": self.aws_time(max(ts))}] for name, ts in times.items()]

    @staticmethod
    def downs(rows: list[Row]) -> list[list[dict[str, str]]]:
        counts = Counter(name for name, _, m in rows
                         if DOWN in (json.loads(m)["ike_phase1_state"], json.loads(m)["ike_phase2_state"]))
        return [[{"field": "@logStream", "value": name}, {"field": "down_events", "value": str(n)}]
                for name, n in counts.items()]


def test_baseline_from_insights_is_the_same_and_rereads_only_the_streams_that_went_down(aws):
    rows = week_with_history(aws)
    python = summarize([A, B, C, D], [source()])
    insights_source = AnsweringInsights(rows)
    insights = summarize([A, B, C, D], [insights_source])
    assert insights.baseline_from == {GROUP: "insights"}
    assert insights_source.asked == [PRESENCE_QUERY, DOWNS_QUERY]
    assert {n: d.baseline for n, d in insights.days.items()} == EXPECTED_BASELINES
    assert {n: d.baseline for n, d in insights.days.items()} == {n: d.baseline for n, d in python.days.items()}
    reread = insights.queries[-1]  # the flagged streams over the 7 days and the context
    assert reread.start == midnight(DAY - timedelta(days=7)) - timedelta(hours=2)
    assert f"--log-stream-names {stream(A, 0)} {stream(A, 1)} {stream(B, 1)} \\" in reread.text
    assert 0 < reread.rows < python.queries[-1].rows
    assert insights.calls["FilterLogEvents"] == 2 and "StartQuery" not in insights.calls


def test_a_refused_insights_query_falls_back_to_python(aws):
    week_with_history(aws)
    aws.fail("StartQuery", "AccessDeniedException")
    summary = summarize([A, B, C, D], [source()])
    assert summary.baseline_from == {GROUP: "python"}
    assert {n: d.baseline for n, d in summary.days.items()} == EXPECTED_BASELINES
    assert any("Logs Insights could not be used for the baseline" in n and "access denied to logs:StartQuery" in n
               for n in summary.notes)


def test_a_timed_out_insights_query_falls_back_to_python(aws):
    rows = week_with_history(aws)

    class Slow(AnsweringInsights):
        def run_insights(self, group, queries, start, end, timeout_s=60.0):
            return [InsightsAnswer(q, "Timeout", waited_s=timeout_s) for q in queries]

    summary = summarize([A, B, C, D], [Slow(rows)], insights_timeout_s=5)
    assert summary.baseline_from == {GROUP: "python"}
    assert {n: d.baseline for n, d in summary.days.items()} == EXPECTED_BASELINES
    assert any("the query ended Timeout after 5 s" in n for n in summary.notes)


# ------------------------------------------------------------------------------------------------------ Insights


def ms(*parts: int) -> int:
    return round(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


def test_insights_results_parse_into_per_stream_numbers():
    """GetQueryResults' shape (CloudWatch Logs API reference: `results` is a list of rows, each a list of
    {"field", "value"}, every value a string, timestamps `yyyy-MM-dd HH:mm:ss.SSS` in UTC)."""
    presence = {"status": "Complete", "statistics": {"recordsMatched": 341.0, "recordsScanned": 341.0,
                                                     "bytesScanned": 98_213.0},
                "results": [
                    [{"field": "@logStream", "value": "vpn-0a00000000000000a-52.95.10.1"},
                     {"field": "events", "value": "338"},
                     {"field": "first_event", "value": "2026-11-13 21:03:00.000"},
                     {"field": "last_event", "value": "2026-11-20 22:53:00.000"}],
                    [{"field": "@logStream", "value": "vpn-0a00000000000000a-52.95.10.2"},
                     {"field": "events", "value": "3"},
                     {"field": "first_event", "value": "2026-11-20 20:00:00.125"},
                     {"field": "last_event", "value": "2026-11-20 22:00:00.000"}]]}
    downs = {"status": "Complete", "results": [
        [{"field": "@logStream", "value": "vpn-0a00000000000000a-52.95.10.1"},
         {"field": "down_events", "value": "21"}],
        [{"field": "@logStream", "value": "vpn-0f00000000000000f-52.95.90.1"},
         {"field": "down_events", "value": "2"}]]}
    stats = insights_stream_stats(presence["results"], downs["results"])
    assert stats == {
        "vpn-0a00000000000000a-52.95.10.1": StreamStats(338, ms(2026, 11, 13, 21, 3), ms(2026, 11, 20, 22, 53), 21),
        "vpn-0a00000000000000a-52.95.10.2": StreamStats(3, ms(2026, 11, 20, 20) + 125, ms(2026, 11, 20, 22), 0),
        "vpn-0f00000000000000f-52.95.90.1": StreamStats(0, None, None, 2),  # down rows only in the context
    }


def test_moto_raw_rows_are_not_mistaken_for_stats():
    """moto skips `stats` and returns raw rows, each containing only @ptr (docs/sources.md#aws-test-emulator: its
    Logs Insights parser skips the commands it does not know)."""
    raw = [[{"field": "@ptr", "value": "1"}], [{"field": "@ptr", "value": "2"}]]
    assert insights_stream_stats(raw, []) is None
    assert insights_stream_stats([], raw) is None
    assert insights_stream_stats([], []) == {}  # a Complete query over a group with no events


def test_python_computes_what_the_insights_queries_return():
    rows = [row("s1", local(DAY, 1), "AWS tunnel DPD timed out after 3 retransmits", DOWN, DOWN),
            row("s1", local(DAY, 2), "AWS tunnel processed response (id=2) for CREATE_CHILD_SA", EST, EST),
            row("s2", local(DAY, 3), 'No Proposal Match Found. Notifying with "No proposal chosen"', "Established",
                "Down"),
            row("s3", local(DAY, 4), "AWS tunnel is sending request (id=3) for CREATE_CHILD_SA", EST, REKEY)]
    legacy = json.dumps({"VpnLogDetail": "Peer is not responsive - Declaring peer dead",
                         "TunnelIKEPhase1State": "DOWN", "TunnelIKEPhase2State": "DOWN"})
    bgp = json.dumps({"resource_id": "vpn-0a_1.2.3.4", "type": "BGPStatus", "status": "DOWN", "message": {
        "details": "AWS-side peer BGP session state has changed from Established to Idle with neighbor 169.254.1.1"}})
    route = json.dumps({"type": "RouteStatus", "status": "WITHDRAWN", "message": {"details": "down the road"}})
    records = [LogRecord(*r) for r in rows] + [LogRecord("s4", 5, legacy), LogRecord("s5", 6, bgp),
                                               LogRecord("s6", 7, route)]
    assert [is_down_row(r.message) for r in records] == [True, False, True, False, True, True, False]
    stats = python_stream_stats(records)
    assert stats["s1"] == StreamStats(2, rows[0][1], rows[1][1], 1)
    assert [stats[s].down_events for s in ("s2", "s3", "s4", "s5", "s6")] == [1, 0, 1, 1, 0]


class FakeInsightsClient:
    """StartQuery/GetQueryResults/StopQuery as the API answers them, on a fake clock."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.now = 0.0
        self.slept: list[float] = []
        self.stopped: list[str] = []
        self.polls = 0

    def start_query(self, **kwargs):
        assert kwargs["logGroupNames"] == [GROUP] and kwargs["limit"] == 10_000
        return {"queryId": "q-1"}

    def get_query_results(self, queryId):
        status = self.statuses[min(self.polls, len(self.statuses) - 1)]
        self.polls += 1
        return {"status": status, "results": [[{"field": "@logStream", "value": "s"}]] if status == "Complete" else []}

    def stop_query(self, queryId):
        self.stopped.append(queryId)
        return {"success": True}

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_insights_is_polled_until_complete():
    client = FakeInsightsClient(["Scheduled", "Running", "Running", "Complete"])
    (answer,) = poll_insights(client, GROUP, ["stats count(*) by @logStream"], NOW - timedelta(days=7), NOW,
                              sleep=client.sleep, clock=lambda: client.now)
    assert answer.status == "Complete" and answer.results and client.polls == 4
    assert client.slept == [1.0, 1.5, 2.25] and not client.stopped


def test_insights_still_running_at_the_timeout_is_stopped_and_answered_timeout():
    client = FakeInsightsClient(["Running"])
    (answer,) = poll_insights(client, GROUP, ["stats count(*) by @logStream"], NOW - timedelta(days=7), NOW,
                              timeout_s=10, sleep=client.sleep, clock=lambda: client.now)
    assert answer.status == "Timeout" and answer.waited_s == pytest.approx(10)
    assert client.stopped == ["q-1"] and sum(client.slept) == pytest.approx(10)


def test_insights_polling_ends_with_the_question_deadline_and_stops_the_query():
    client = FakeInsightsClient(["Running"])
    with deadline.within(20), pytest.raises(DeadlineReached):
        poll_insights(client, GROUP, ["stats count(*) by @logStream"], NOW - timedelta(days=7), NOW, timeout_s=60,
                      sleep=client.sleep, clock=lambda: client.now)
    assert client.stopped == ["q-1"] and sum(client.slept) <= 20


# ------------------------------------------------------------------------------------------------------ reads


def connections(n: int) -> list[Tunnel]:
    return [Tunnel(name=f"site{i:03d}", aws_vpn_connection=f"vpn-{i:017x}",
                   aws_outside_ips=(f"203.0.113.{i % 250 + 1}", f"198.51.100.{i % 250 + 1}")) for i in range(1, n + 1)]


def sparse_week(tunnels: list[Tunnel]) -> list[Row]:
    """A rekey every 6 h on every tunnel for the week and the day (small enough for one page per call)."""
    return [r for t in tunnels for k in (0, 1)
            for r in quiet(stream(t, k), WEEK_START, DAY_END, every=timedelta(hours=6))]


def calls_for(aws: MotoServer, tunnels: list[Tunnel]) -> tuple[Counter[str], AwsDaySummary]:
    aws.reset()
    seed(aws, sparse_week(tunnels))
    aws.layer.calls.clear()
    summary = summarize(tunnels, [source()])
    assert len(summary.days) == len(tunnels)
    return Counter(aws.calls), summary


def test_api_calls_per_group_do_not_grow_with_the_number_of_connections(aws):
    few, few_summary = calls_for(aws, connections(3))
    many, many_summary = calls_for(aws, connections(24))
    expected = {"DescribeLogStreams": 1, "FilterLogEvents": 2, "StartQuery": 2, "GetQueryResults": 2}
    assert few == many == expected  # the day, Insights (ignored by moto), the 7-day read in its place
    assert few_summary.api_calls == many_summary.api_calls == sum(expected.values())
    day_read = many_summary.queries[0]
    assert day_read.text.count("aws logs filter-log-events") == 1 and day_read.text.count("vpn-") >= 48


def test_more_than_100_streams_are_read_in_chunks_of_100(aws):
    calls, summary = calls_for(aws, connections(60))  # 120 streams
    assert calls == {"DescribeLogStreams": 3, "FilterLogEvents": 4, "StartQuery": 2, "GetQueryResults": 2}
    day_read = summary.queries[0]
    chunks = [line for line in day_read.text.splitlines() if line.startswith("  --log-stream-names")]
    assert [len(c.split()) - 2 for c in chunks] == [100, 20]  # minus the option name and the line's backslash
    assert day_read.start == midnight(DAY) - timedelta(hours=2) and day_read.end == DAY_END


def test_a_denied_group_is_named_and_the_other_group_is_still_summarised(aws):
    a = Tunnel(name="dc-a", aws_vpn_connection=A.aws_vpn_connection, aws_outside_ips=A.aws_outside_ips,
               extra={"aws_log_group": "/aws/vpn-a"})
    b = Tunnel(name="dc-b", aws_vpn_connection=B.aws_vpn_connection, aws_outside_ips=B.aws_outside_ips,
               extra={"aws_log_group": "/aws/vpn-b"})
    seed(aws, tunnel_log(stream(A, 0), WEEK_START, DAY_END, []), group="/aws/vpn-a")
    seed(aws, tunnel_log(stream(B, 0), WEEK_START, DAY_END, [(local(DAY, 8), local(DAY, 8, 4))]), group="/aws/vpn-b")
    aws.fail("FilterLogEvents", "AccessDeniedException")  # the first group read: /aws/vpn-a
    summary = summarize([a, b], [source()])
    assert list(summary.days) == ["dc-b"] and summary.days["dc-b"].drops == 1
    assert summary.failures == [f"CloudWatch Logs group /aws/vpn-a ({REGION}): access denied to logs:FilterLogEvents; "
                                "grant the bot's identity logs:DescribeLogStreams and logs:FilterLogEvents on this "
                                "log group."]
    assert summary.unread == {"dc-a": summary.failures[0]}
    assert any("Not summarised" in n and "dc-a" in n for n in summary.notes)


def test_a_throttled_group_after_the_retries_is_a_failure_too(aws, fast_retries):
    a = Tunnel(name="dc-a", aws_vpn_connection=A.aws_vpn_connection, extra={"aws_log_group": "/aws/vpn-a"})
    b = Tunnel(name="dc-b", aws_vpn_connection=B.aws_vpn_connection, extra={"aws_log_group": "/aws/vpn-b"})
    seed(aws, tunnel_log(stream(A, 0), WEEK_START, DAY_END, []), group="/aws/vpn-a")
    seed(aws, tunnel_log(stream(B, 0), WEEK_START, DAY_END, []), group="/aws/vpn-b")
    # botocore's max_attempts=2 is 2 retries: 3 throttled answers exhaust /aws/vpn-a's, /aws/vpn-b's first call passes
    aws.fail("DescribeLogStreams", "ThrottlingException", times=3)
    summary = summarize([a, b], [source(max_attempts=2)])
    assert list(summary.days) == ["dc-b"] and list(summary.unread) == ["dc-a"]
    assert "throttled by CloudWatch Logs on DescribeLogStreams (still after 2 attempts)" in summary.failures[0]
    assert fast_retries.retries == 2  # /aws/vpn-a's two retries; /aws/vpn-b needed none
    assert fast_retries.limiter_waits and all(wait > 0 for wait in fast_retries.limiter_waits)


def test_an_export_in_memory_gives_the_same_day_as_cloudwatch(aws):
    rows = week_with_history(aws)
    memory = MemoryLogSource([LogRecord(*r) for r in rows], label="export", origin="export.json", log_group=GROUP)
    from_memory, from_cloudwatch = summarize([A, B, C, D], [memory]), summarize([A, B, C, D], [source()])
    assert from_cloudwatch.days.keys() == from_memory.days.keys() and from_cloudwatch.days
    for name, day in from_cloudwatch.days.items():
        other = from_memory.days[name]
        assert (other.outages, other.no_logs, other.flapping, other.baseline) == (
            day.outages, day.no_logs, day.flapping, day.baseline), name
    assert from_memory.api_calls == 0 and from_memory.queries[0].text.startswith("# read from export.json")
