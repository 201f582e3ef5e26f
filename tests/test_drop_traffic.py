"""A drop answer says whether traffic resumed after the reconnect and how long it really stopped
(diagnostics/traffic/drops.py), from the gateway's byte counters around a drop the logs show.

The drops are real investigations of fixture rows in the portal's export format (tests/fixtures/rules/); the metrics
are what Azure Monitor returns for a branch tunnel: `TunnelIngressBytes` / `TunnelEgressBytes` totals per minute
(about 4 MB a minute from the site, 1.5 MB to it), built here until the metrics sources' fixtures exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from support.cli import run
from support.demo import DEMO_NOW
from support.fixture_logs import ask_at

from diagnostics.model import Investigation
from diagnostics.traffic.drops import drop_traffic, human_bytes, traffic_json, traffic_line
from diagnostics.traffic.model import Metric, Series, Traffic

PARIS_TZ = ZoneInfo("Europe/Paris")
# maintenance_failover.csv: paris disconnected 14:02:03.120 on IN_0, connected 14:02:15.870 on IN_1 (UTC)
DOWN = datetime(2026, 11, 21, 14, 2, 3, 120_000, tzinfo=UTC).timestamp()
UP = datetime(2026, 11, 21, 14, 2, 15, 870_000, tzinfo=UTC).timestamp()
MINUTE = 60


def minute(hh: int, mm: int) -> float:
    return datetime(2026, 11, 21, hh, mm, tzinfo=UTC).timestamp()


def usual_in(t: float) -> float:
    """A branch's inbound bytes per minute: about 4.2 MB, varying a little."""
    return 4_200_000 + (int(t) // MINUTE % 7) * 35_000


def usual_out(t: float) -> float:
    return 1_500_000 + (int(t) // MINUTE % 5) * 20_000


def traffic(shape_in: Callable[[float], float | None], shape_out: Callable[[float], float | None],
            start: float = minute(13, 47), end: float = minute(14, 17), interval: int = MINUTE) -> Traffic:
    """Per-minute totals over [start, end); a shape returning None leaves the minute without a value."""
    def series(metric: Metric, name: str, shape: Callable[[float], float | None]) -> Series:
        points = []
        for t in range(int(start), int(end), interval):
            value = shape(float(t))
            if value is not None:
                points.append((float(t), float(value)))
        return Series(metric, tuple(points), source_name=name, dimension="cn-paris")

    return Traffic("paris", datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), interval,
                   series={Metric.BYTES_IN: series(Metric.BYTES_IN, "TunnelIngressBytes", shape_in),
                           Metric.BYTES_OUT: series(Metric.BYTES_OUT, "TunnelEgressBytes", shape_out)})


def gap(lo: float, hi: float, usual: Callable[[float], float], during: float = 0.0) -> Callable[[float], float]:
    """Usual traffic except in [lo, hi), where each minute carries `during` bytes."""
    return lambda t: during if lo <= t < hi else usual(t)


@pytest.fixture(scope="module")
def failover() -> Investigation:
    inv = ask_at("maintenance_failover.csv", "2026-11-21T14:02:00Z")
    assert [(round(d.down_ts, 2), round(d.up_ts or 0, 2)) for d in inv.drops] == [(round(DOWN, 2), round(UP, 2))]
    return inv


def test_traffic_that_came_back_minutes_after_the_reconnect_gives_the_real_gap_longer_than_the_logged_outage(failover):
    # The 14:02 minute holds the disconnect, the reconnect and bytes (from before the one or after the other: the
    # metrics cannot tell); nothing at 14:03-14:05 (routes converging on the new instance); 14:06 on, the usual traffic
    # both ways. What is proven is the silence from 14:03 to 14:06.
    metrics = traffic(gap(minute(14, 3), minute(14, 6), usual_in), gap(minute(14, 3), minute(14, 6), usual_out))
    dt = drop_traffic(failover.drops[0], metrics)
    assert dt is not None
    assert dt.resumed is True and dt.stopped_at == DOWN and dt.resumed_at == minute(14, 6)
    assert dt.gap_s == pytest.approx(minute(14, 6) - minute(14, 3))  # 3 min proven, against 12.75 s in the logs
    line = traffic_line(dt, PARIS_TZ)
    assert "stopped with the disconnect" in line
    assert "resumed both ways in the minute from 15:06 CET (14:06 UTC) (the reconnect was at 15:02 CET" in line
    assert "at least 3 min without traffic, against 13 s down in the logs" in line


def test_traffic_that_stopped_before_the_logged_disconnect_is_said_with_how_much_earlier(failover):
    # Phase 2 gone from 13:55 on (nothing either way), the tunnel logged down only at 14:02:03.
    metrics = traffic(gap(minute(13, 55), minute(14, 3), usual_in), gap(minute(13, 55), minute(14, 3), usual_out))
    dt = drop_traffic(failover.drops[0], metrics)
    assert dt is not None and dt.stopped_at == minute(13, 55) and dt.resumed_at == minute(14, 3)
    line = traffic_line(dt, PARIS_TZ)
    assert "stopped by 14:55 CET (13:55 UTC), 7 min 03 s before the logged disconnect" in line
    assert "resumed both ways with the reconnect: at least 8 min without traffic, against 13 s down in the logs" in line


def test_a_reconnect_with_no_traffic_since_says_traffic_has_not_resumed(failover):
    metrics = traffic(gap(minute(14, 3), minute(15, 0), usual_in), gap(minute(14, 3), minute(15, 0), usual_out))
    dt = drop_traffic(failover.drops[0], metrics)
    assert dt is not None and dt.resumed is False and dt.gap_s is None and dt.one_way == []
    line = traffic_line(dt, PARIS_TZ)
    assert "has NOT resumed since the reconnect at 15:02 CET (14:02 UTC)" in line
    assert "connected but not carrying traffic" in line
    doc = traffic_json(dt)
    assert doc["resumed"] is False and doc["resumed_at"] is None and doc["stopped_at"] == "2026-11-21T14:02:03.120Z"


def test_keepalives_alone_after_the_reconnect_do_not_count_as_traffic_resumed(failover):
    # BGP keepalives and DPD: a few hundred bytes a minute, against megabytes before.
    metrics = traffic(gap(minute(14, 3), minute(15, 0), usual_in, during=420),
                      gap(minute(14, 3), minute(15, 0), usual_out, during=380))
    dt = drop_traffic(failover.drops[0], metrics)
    assert dt is not None and dt.resumed is False


def test_only_one_direction_back_is_said_as_one_way_traffic(failover):
    # Outbound (to the site) is back at 14:03; nothing comes back from the site.
    metrics = traffic(gap(minute(14, 3), minute(15, 0), usual_in), usual_out)
    dt = drop_traffic(failover.drops[0], metrics)
    assert dt is not None and dt.resumed is False and dt.one_way == ["in"]
    line = traffic_line(dt, PARIS_TZ)
    assert "only one way since the reconnect" in line and "nothing in, from the site" in line


def test_no_metric_value_since_the_reconnect_yet_says_it_is_not_known(failover):
    # Azure Monitor's values arrive a few minutes late: the answer came too soon for them.
    metrics = traffic(lambda t: usual_in(t) if t < minute(14, 2) else None,
                      lambda t: usual_out(t) if t < minute(14, 2) else None)
    dt = drop_traffic(failover.drops[0], metrics)
    assert dt is not None and dt.resumed is None and dt.stopped_at is not None
    assert "whether traffic resumed is not known" in traffic_line(dt, PARIS_TZ)


def test_a_tunnel_that_carried_nothing_before_the_drop_has_nothing_to_resume(failover):
    metrics = traffic(lambda t: 0.0, lambda t: 0.0)
    dt = drop_traffic(failover.drops[0], metrics)
    assert dt is not None and dt.carried == [] and dt.resumed is None
    assert "no traffic before the drop either" in traffic_line(dt, PARIS_TZ)


def test_metrics_without_byte_series_give_no_drop_traffic(failover):
    empty = Traffic("paris", datetime.fromtimestamp(minute(13, 47), UTC), datetime.fromtimestamp(minute(14, 17), UTC),
                    MINUTE, failures=["Monitoring Reader missing on VPNGW01: 403 AuthorizationFailed"])
    assert drop_traffic(failover.drops[0], empty) is None


def test_an_outage_shorter_than_the_interval_reads_as_the_logged_one(failover):
    # The 14:02 minute holds the drop and the reconnect, 14:03 on carries the usual: the metric cannot say more.
    dt = drop_traffic(failover.drops[0], traffic(usual_in, usual_out))
    assert dt is not None and dt.resumed is True
    line = traffic_line(dt, PARIS_TZ)
    assert "stopped with the disconnect" in line  # within the interval: nothing more to say
    assert dt.gap_s == pytest.approx(UP - DOWN) and dt.blurred
    assert ("resumed both ways by 15:04 CET (14:04 UTC) (the metrics, per minute, cannot place it closer to the "
            "reconnect at 15:02 CET (14:02 UTC), so no stop longer than the 13 s in the logs can be seen)") in line


def test_an_outage_inside_one_interval_never_claims_a_gap_its_bytes_may_not_have_had(failover):
    # Five-minute values: 14:00-14:05 holds the disconnect, the reconnect and 20 MB; 14:05 on, the usual. Whether the
    # 20 MB came before 14:02:03 or after 14:02:16 is not in the metrics: the gap said is the logged one.
    five = 300
    metrics = traffic(lambda t: 5 * usual_in(t), lambda t: 5 * usual_out(t), start=minute(13, 30), end=minute(14, 30),
                      interval=five)
    dt = drop_traffic(failover.drops[0], metrics)
    assert dt is not None and dt.resumed is True and dt.blurred
    assert dt.gap_s == pytest.approx(UP - DOWN)
    assert "at least" not in traffic_line(dt, PARIS_TZ)


def test_five_minute_values_as_aws_gives_them_are_read_to_their_interval(failover):
    five = 300
    metrics = traffic(gap(minute(14, 0), minute(14, 10), lambda t: 5 * usual_in(t)),
                      gap(minute(14, 0), minute(14, 10), lambda t: 5 * usual_out(t)),
                      start=minute(13, 30), end=minute(14, 30), interval=five)
    dt = drop_traffic(failover.drops[0], metrics)
    assert dt is not None and dt.stopped_at == minute(14, 0) and dt.resumed_at == minute(14, 10)
    assert dt.interval_s == five


@pytest.mark.parametrize(("n", "text"), [(0, "0 B"), (812, "812 B"), (4_200, "4.2 kB"), (1_340_000_000, "1.3 GB"),
                                         (250_000_000, "250 MB")])
def test_bytes_are_said_in_decimal_units(n, text):
    assert human_bytes(n) == text


def test_the_json_keeps_each_direction(failover):
    metrics = traffic(gap(minute(14, 3), minute(14, 6), usual_in), gap(minute(14, 3), minute(14, 6), usual_out))
    doc = traffic_json(drop_traffic(failover.drops[0], metrics))  # type: ignore[arg-type]
    assert doc["resumed"] is True and doc["gap_s"] == 180 and doc["interval_s"] == MINUTE
    assert doc["resumed_at"] == "2026-11-21T14:06:00Z"
    assert set(doc["directions"]) == {"in", "out"}
    assert doc["directions"]["in"]["bytes_before"] > 50_000_000 and doc["directions"]["out"]["resumed"] is True



# ------------------------------------------------------------------------------------------- end to end, the demo


def test_vpnbot_ask_on_the_demo_says_when_traffic_was_back_without_claiming_more_than_its_intervals_show(capsys, here):
    # The demo's metrics: paris's bytes stay 0 for ~4 minutes after each reconnect (the routes' convergence), but the
    # five-minute value holding the 12 s outage also holds the bytes from before it: no longer stop can be proven.
    asked = ("ask", "--demo", "why did paris drop yesterday at 14:02", "--now", "2026-11-22T10:30:00Z", "--tz", "UTC")
    code, out, _ = run(capsys, *asked)
    assert code == 0
    (line,) = [x for x in out.splitlines() if x.startswith("Traffic (gateway metrics)")]
    assert line == ("Traffic (gateway metrics): stopped with the disconnect; resumed both ways by 14:10 UTC (the "
                    "metrics, per 5 minutes, cannot place it closer to the reconnect at 14:02 UTC, so no stop longer "
                    "than the 12 s in the logs can be seen).")
    code, out, _ = run(capsys, *asked, "--format", "json")
    doc = json.loads(out)
    assert doc["traffic_note"] == line
    (drop,) = doc["drops"]
    assert drop["traffic"]["resumed"] is True and drop["traffic"]["gap_s"] == 12
    assert drop["traffic"]["resumed_at"] == "2026-11-21T14:05:00Z" and drop["traffic"]["interval_s"] == 300
    assert {"down_at", "up_at", "down_instance", "up_instance"} <= set(drop)


def test_a_question_without_a_drop_has_no_traffic_keys(capsys, here):
    code, out, _ = run(capsys, "ask", "--demo", "why did lyon drop today at 03:00", "--now", "2026-11-22T10:30:00Z",
                       "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["drops"] == [] and "traffic_note" not in doc


class Forbidden:
    """A metrics source the identity may not read (no "Monitoring Reader"), raising as a broken source would."""

    label = "Azure Monitor metrics"

    def covers(self, tunnel):
        return bool(tunnel.azure_gateway)

    def read(self, tunnels, start, end, interval_s):
        raise PermissionError("403 AuthorizationFailed: Microsoft.Insights/metrics/read on VPNGW01")


def test_metrics_that_cannot_be_read_are_one_line_and_the_answer_stands(demo):
    from diagnostics.sources import Sources
    from handlers.ask import ask
    from handlers.render.text import render_text

    sources = Sources(kql=demo.sources.kql, aws=demo.sources.aws, metrics=[Forbidden()])
    answer = ask("why did paris drop yesterday at 14:02", demo.registry, sources, DEMO_NOW, ZoneInfo("UTC"))
    assert answer.investigation is not None and answer.investigation.findings[0].cause.value == "maintenance_failover"
    assert answer.incident is not None and answer.incident.traffic is None
    assert answer.incident.line == ("Traffic: the gateway's metrics could not be read (metrics from Azure Monitor "
                                    "metrics could not be read: PermissionError: 403 AuthorizationFailed: "
                                    "Microsoft.Insights/metrics/read on VPNGW01), so whether traffic resumed after "
                                    "the reconnect is not known.")
    assert render_text(answer).count("Traffic: the gateway's metrics could not be read") == 1
    chart = answer.incident.chart
    assert chart is not None and not chart.has_traffic and "403 AuthorizationFailed" in chart.no_traffic
