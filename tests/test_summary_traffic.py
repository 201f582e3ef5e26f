"""The daily summary's traffic (docs/summaries.md#traffic): bytes per tunnel each way over the local day, and
"connected but idle all day" for a tunnel that normally carries traffic (diagnostics/traffic/daily.py); metrics that
cannot be read are one note, never a failed summary. On the demo workspace (its week of logs and its gateways'
metrics: rome is connected and idle since yesterday, carrying traffic the days before) and on hourly values built
here for the pure part."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from diagnostics.sources import Sources
from diagnostics.summary.build import day_window, summarize_day
from diagnostics.summary.model import Outage, TunnelDay
from diagnostics.timefmt import local_midnights
from diagnostics.traffic.daily import IDLE_BYTES, DayTraffic, day_traffic
from diagnostics.traffic.model import Metric, Series, Traffic
from handlers.render.summary import summary_json, summary_text
from handlers.render.summary_blocks import summary_blocks

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
DAY = date(2026, 11, 21)
PARIS = ZoneInfo("Europe/Paris")
UTC_ZONE = ZoneInfo("UTC")
HOUR = 3600


def bounds(zone: ZoneInfo = PARIS, days_before: int = 7) -> list[float]:
    start, end = day_window(DAY, zone, NOW)
    return [b.timestamp() for b in [*local_midnights(start, zone, days_before), end]]


def hourly(edges: list[float], per_hour: dict[int, float], default: float) -> Traffic:
    """Hourly TunnelIngressBytes/TunnelEgressBytes totals from the first edge to the last: each day `i` (0 = the
    oldest) carries `per_hour.get(i, default)` bytes an hour each way (outbound twice inbound)."""
    points_in, points_out = [], []
    for i, (a, b) in enumerate(itertools.pairwise(edges)):
        for t in range(int(a), int(b), HOUR):
            v = per_hour.get(i, default)
            points_in.append((float(t), v))
            points_out.append((float(t), 2 * v))
    start, end = (datetime.fromtimestamp(e, UTC) for e in (edges[0], edges[-1]))
    return Traffic("paris", start, end, HOUR, series={
        Metric.BYTES_IN: Series(Metric.BYTES_IN, tuple(points_in), "TunnelIngressBytes"),
        Metric.BYTES_OUT: Series(Metric.BYTES_OUT, tuple(points_out), "TunnelEgressBytes")})


def test_bytes_are_summed_over_the_local_day_each_way_and_the_days_before_are_the_baseline():
    edges = bounds()
    assert len(edges) == 9  # seven days before, the day, its end
    dt = day_traffic(hourly(edges, {7: 1_000_000.0}, default=250_000_000.0), edges)
    assert dt.bytes_in == 24 * 1_000_000 and dt.bytes_out == 24 * 2_000_000  # 24 local hours, not the UTC day
    assert dt.previous == tuple([24 * 750_000_000.0] * 7) and dt.usual and not dt.idle


def test_a_day_under_a_megabyte_both_ways_on_a_tunnel_that_usually_carries_gigabytes_is_idle_and_flagged():
    edges = bounds()
    dt = day_traffic(hourly(edges, {7: 10_000.0}, default=250_000_000.0), edges)  # keepalives only: 720 kB a day
    assert dt.total < IDLE_BYTES and dt.idle and dt.usual
    day = TunnelDay("paris", "azure", 86_400, traffic=dt)
    assert day.idle_all_day and day.troubled


def test_a_standby_path_idle_every_day_is_not_flagged():
    edges = bounds()
    dt = day_traffic(hourly(edges, {}, default=0.0), edges)
    assert dt.idle and not dt.usual
    assert not TunnelDay("standby", "azure", 86_400, traffic=dt).idle_all_day


def test_a_tunnel_whose_metrics_begin_today_has_no_normal_yet():
    edges = bounds()
    traffic = hourly(edges[-2:], {}, default=0.0)  # only the day itself has values
    dt = day_traffic(traffic, edges)
    assert dt.previous == () and not dt.usual and dt.idle
    assert not TunnelDay("new", "azure", 86_400, traffic=dt).idle_all_day


def test_a_tunnel_that_dropped_is_not_connected_all_day():
    dt = DayTraffic(bytes_in=0.0, bytes_out=0.0, previous=(5e9, 5e9, 5e9))
    outage = Outage(start=0.0, end=86_400.0, cause="peer_unreachable", ongoing=True)
    assert not TunnelDay("down", "azure", 86_400, outages=[outage], traffic=dt).idle_all_day


def test_hours_without_a_value_are_not_zero_bytes():
    edges = bounds(days_before=0)
    empty = Traffic("paris", datetime.fromtimestamp(edges[0], UTC), datetime.fromtimestamp(edges[-1], UTC), HOUR,
                    series={Metric.BYTES_IN: Series(Metric.BYTES_IN, ())})
    dt = day_traffic(empty, edges)
    assert dt.bytes_in is None and dt.bytes_out is None and not dt.measured and not dt.idle


# ------------------------------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo(demo_at):
    return demo_at(NOW)


@pytest.fixture(scope="module")
def summary(demo):
    return summarize_day(demo.registry, demo.sources, DAY, UTC_ZONE, NOW)


def test_the_demo_summary_has_bytes_each_way_and_flags_rome_connected_but_idle(summary):
    days = {t.name: t for t in summary.tunnels}
    rome, paris = days["rome"], days["paris"]
    assert rome.idle_all_day and rome.troubled and rome.traffic is not None and rome.traffic.usual
    assert paris.traffic is not None and paris.traffic.bytes_in and paris.traffic.bytes_out
    assert paris.traffic.bytes_in > 1e9 and not paris.idle_all_day
    assert [t.name for t in summary.tunnels if t.idle_all_day] == ["rome"]
    assert not any(n.startswith("Traffic") for n in summary.notes)
    text = summary_text(summary)
    (rome_line,) = [line for line in text.splitlines() if line.startswith("rome: ")]
    assert "connected but idle all day: 0 B both ways, usually" in rome_line
    assert "rome" not in next(line for line in text.splitlines() if line.startswith("Healthy"))
    traffic_line = next(line for line in text.splitlines() if line.startswith("Traffic (in from the site"))
    assert "paris " in traffic_line and "rome 0 B / 0 B" in traffic_line


def test_the_summary_json_gains_traffic_per_tunnel_and_keeps_its_contract(summary):
    doc = summary_json(summary)
    rome = next(t for t in doc["tunnels"] if t["name"] == "rome")
    assert rome["traffic"]["idle_all_day"] is True and rome["traffic"]["bytes_in"] == 0
    assert rome["traffic"]["usual_bytes_per_day"] > IDLE_BYTES and rome["traffic"]["previous_days"] >= 2
    for t in doc["tunnels"]:
        assert {"name", "drops", "downtime_s", "longest_outage_s", "uptime_pct", "causes", "no_logs"} <= set(t)


def test_the_slack_summary_names_the_bytes(summary):
    body = str(summary_blocks(summary).blocks)
    assert "Traffic (in from the site / out to it)" in body and "connected but idle all day" in body


class Failing:
    """A metrics source whose service answers 403 to everything (no Monitoring Reader role), raising as a broken
    source would."""

    label = "Azure Monitor metrics (subscription 5d2f7a91)"

    def covers(self, tunnel):
        return bool(tunnel.azure_gateway)

    def read(self, tunnels, start, end, interval_s):
        raise PermissionError("403 AuthorizationFailed: the identity may not read metrics on VPNGW01")


def test_metrics_that_cannot_be_read_are_one_note_and_the_summary_stands(demo, summary):
    broken = Sources(kql=demo.sources.kql, aws=demo.sources.aws, metrics=[Failing()])
    degraded = summarize_day(demo.registry, broken, DAY, UTC_ZONE, NOW)
    assert [t.name for t in degraded.ordered() if t.drops] == [t.name for t in summary.ordered() if t.drops]
    notes = [n for n in degraded.notes if n.startswith("Traffic")]
    assert len(notes) == 1 and "403 AuthorizationFailed" in notes[0]
    assert all(t.traffic is None for t in degraded.tunnels)  # AWS: no source covers it here
    assert "Traffic (in from the site" not in summary_text(degraded) and "Traffic (bytes" in summary_text(degraded)


def test_without_a_metrics_source_the_summary_says_nothing_of_traffic(demo):
    logs_only = Sources(kql=demo.sources.kql, aws=demo.sources.aws)
    plain = summarize_day(demo.registry, logs_only, DAY, UTC_ZONE, NOW)
    assert all(t.traffic is None for t in plain.tunnels) and not any("Traffic" in n for n in plain.notes)
    assert "Traffic (in from the site" not in summary_text(plain)
    assert "traffic" in summary_json(plain)["tunnels"][0] and summary_json(plain)["tunnels"][0]["traffic"] is None



def test_the_picture_says_idle_all_day_in_the_rows_words(summary):
    from handlers.render.timeline_draw import Fonts
    from handlers.render.timeline_png import _stats, render_timeline_png

    rome = next(t for t in summary.tunnels if t.name == "rome")
    assert "connected but idle all day" in _stats(rome, Fonts().label, 10_000)
    assert render_timeline_png(summary)[:8] == b"\x89PNG\r\n\x1a\n"


def test_reading_names_what_no_source_covers_and_what_failed_apart(demo):
    from diagnostics.traffic.read import read_traffic

    paris, dc1 = demo.registry.resolve("paris"), demo.registry.resolve("dc1")
    start, end = day_window(DAY, UTC_ZONE, NOW)
    found, failures = read_traffic([Failing()], [paris, dc1], start, end, HOUR)
    assert found == {}
    assert failures == ["metrics from Azure Monitor metrics (subscription 5d2f7a91) could not be read: "
                        "PermissionError: 403 AuthorizationFailed: the identity may not read metrics on VPNGW01",
                        "no metrics source covers dc1"]
    assert read_traffic([], [paris], start, end, HOUR) == ({}, ["no metrics source is configured, so traffic is "
                                                               "not known"])
    found, failures = read_traffic(demo.sources.metrics, [paris, dc1], start, end, HOUR)
    assert set(found) == {"paris", "dc1"} and failures == []
