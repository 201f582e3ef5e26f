"""The demo's metrics: every tunnel has them, they agree with the demo's logs (no bytes while down, a gap that
outlasts the logged outage, daily shapes), they are deterministic, and each traffic story shows its signature."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from support.demo import DEMO_NOW

from bot.workspace import Workspace
from diagnostics.aws import demo as aws_demo
from diagnostics.azure import demo as azure_demo
from diagnostics.traffic.model import Metric, Traffic
from diagnostics.traffic.read import read_traffic

STORIES = {s.tunnel: s for s in azure_demo.traffic_scenarios(DEMO_NOW)}


def traffic(demo: Workspace, name: str, start: datetime, end: datetime, interval_s: int = 300) -> Traffic:
    found, failures = read_traffic(demo.sources.metrics, [demo.registry.resolve(name)], start, end, interval_s)
    assert failures == []
    return found[name]


def values(t: Traffic, metric: Metric) -> list[float]:
    series = t.get(metric)
    assert series is not None, f"{t.tunnel} has no {metric}"
    return [v for _, v in series.points]


def test_every_demo_tunnel_has_metrics_from_the_demo_sources(demo: Workspace):
    tunnels = list(demo.registry)
    found, failures = read_traffic(demo.sources.metrics, tunnels, DEMO_NOW - timedelta(hours=26),
                                   DEMO_NOW - timedelta(hours=25), 300)
    assert failures == [] and set(found) == {t.name for t in tunnels}
    assert all(t.readable and t.queries for t in found.values())


def test_an_azure_tunnel_down_has_no_data_point_while_it_is_down(demo: Workspace):
    name, down, up = next(o for o in azure_demo.outages(DEMO_NOW) if o[0] == "madrid")
    t = traffic(demo, name, down - timedelta(minutes=30), up + timedelta(minutes=30))
    inside = [at for at, _ in t.get(Metric.BYTES_IN).points if down.timestamp() + 300 <= at <= up.timestamp() - 300]
    assert inside == []
    before = [v for at, v in t.get(Metric.BYTES_OUT).points if at + 300 <= down.timestamp()]
    assert before and min(before) > 0


def test_traffic_comes_back_minutes_after_the_reconnect_so_the_gap_outlasts_the_logged_outage(demo: Workspace):
    _, down, up = next(o for o in azure_demo.outages(DEMO_NOW) if o[0] == "madrid")
    t = traffic(demo, "madrid", down - timedelta(minutes=15), up + timedelta(minutes=30))
    points = t.get(Metric.BYTES_OUT).points
    reconnect_bucket = next(v for at, v in points if at <= up.timestamp() < at + 300)
    later = [v for at, v in points if at >= up.timestamp() + 600]
    assert reconnect_bucket < 0.5 * min(later)
    silent = [at for at, v in points if v == 0 or at < up.timestamp() - 300]
    assert silent  # the metric is silent across the outage and past it


def test_a_15_second_failover_still_leaves_a_dent_of_minutes_in_the_bytes(demo: Workspace):
    name, down, up = next(o for o in azure_demo.outages(DEMO_NOW) if o[0] == "paris")
    assert (up - down).total_seconds() < 60
    t = traffic(demo, name, down - timedelta(minutes=20), down + timedelta(minutes=20))
    points = dict(t.get(Metric.BYTES_OUT).points)
    bucket = down.timestamp() // 300 * 300
    assert points[bucket] < 0.5 * points[bucket - 600]


def test_a_tunnel_still_down_has_no_bytes_until_now(demo: Workspace):
    t = traffic(demo, "porto", DEMO_NOW - timedelta(hours=4), DEMO_NOW)
    assert values(t, Metric.BYTES_IN) == [] and values(t, Metric.BYTES_OUT) == []


def test_aws_tunnel_state_is_0_while_the_logs_say_down_and_traffic_moves_to_the_other_tunnel(demo: Workspace):
    _, _, down, up = next(o for o in aws_demo.outages(DEMO_NOW) if o[0] == "dc2" and o[1] == "203.0.113.140")
    t = traffic(demo, "dc2", down - timedelta(minutes=10), up + timedelta(minutes=10))
    first, second = t.parts["203.0.113.140"], t.parts["203.0.113.141"]
    during = lambda s: [v for at, v in s.points if down.timestamp() <= at and at + 300 <= up.timestamp()]  # noqa: E731
    assert during(first[Metric.TUNNEL_UP]) and set(during(first[Metric.TUNNEL_UP])) == {0}
    assert min(during(second[Metric.BYTES_OUT])) > 0  # the customer gateway moved to tunnel 2
    assert set(during(t.get(Metric.TUNNEL_UP))) == {1}  # the connection stayed up


def test_both_aws_tunnels_down_means_no_traffic_on_the_connection(demo: Workspace):
    _, _, down, up = next(o for o in aws_demo.outages(DEMO_NOW) if o[0] == "dc4")
    t = traffic(demo, "dc4", down + timedelta(minutes=5), up - timedelta(minutes=5))
    assert set(values(t, Metric.TUNNEL_UP)) == {0} and values(t, Metric.BYTES_IN) == []


def test_weekday_business_hours_carry_much_more_than_the_night(demo: Workspace):
    monday = (DEMO_NOW - timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert monday.weekday() == 0
    t = traffic(demo, "lyon", monday, monday + timedelta(days=1), 3600)
    by_hour = dict((int((at - monday.timestamp()) // 3600), v) for at, v in t.get(Metric.BYTES_OUT).points)
    assert by_hour[13] > 5 * by_hour[3]


def test_the_same_bucket_has_the_same_value_whatever_the_window(demo: Workspace):
    start = DEMO_NOW - timedelta(hours=30)
    narrow = traffic(demo, "nice", start, start + timedelta(hours=1))
    wide = traffic(demo, "nice", start - timedelta(hours=5), start + timedelta(hours=6))
    wanted = set(narrow.get(Metric.BYTES_IN).points)
    assert wanted and wanted <= set(wide.get(Metric.BYTES_IN).points)


def test_the_demo_metrics_of_a_week_are_the_same_on_every_build(demo_at: Callable[[datetime], Workspace]):
    other = demo_at(DEMO_NOW)
    again = traffic(other, "hub-aws", DEMO_NOW - timedelta(hours=3), DEMO_NOW)
    assert again.get(Metric.BYTES_IN) == traffic(other, "hub-aws", DEMO_NOW - timedelta(hours=3),
                                                 DEMO_NOW).get(Metric.BYTES_IN)


def test_the_demo_s_metrics_end_where_its_logs_end(demo: Workspace):
    t = traffic(demo, "lyon", DEMO_NOW - timedelta(hours=1), DEMO_NOW + timedelta(hours=1))
    assert max(at for at, _ in t.get(Metric.BYTES_IN).points) < DEMO_NOW.timestamp()


# ------------------------------------------------------------------------------------------------ traffic stories


def since(name: str) -> tuple[datetime, datetime]:
    return STORIES[name].at + timedelta(minutes=10), DEMO_NOW


def test_the_ts_mismatch_story_drops_packets_while_bytes_flow_and_its_rekeys_name_the_selectors(demo: Workspace):
    t = traffic(demo, "nice", *since("nice"))
    assert min(values(t, Metric.TS_DROPS_IN)) > 0 and min(values(t, Metric.BYTES_IN)) > 0
    before = traffic(demo, "nice", STORIES["nice"].at - timedelta(hours=2), STORIES["nice"].at - timedelta(hours=1))
    assert set(values(before, Metric.TS_DROPS_IN)) == {0}
    rows = [r for r in azure_demo.generate_rows(DEMO_NOW) if r["Resource"] == "VPNGW01"
            and "Traffic Selector" in str(r.get("Message")) and "Remote 203.0.113.30" in str(r.get("Message"))
            and r["TimeGenerated"] >= STORIES["nice"].at]
    assert rows and all("StartAddress 10.3.0.0" in r["Message"] and "StartAddress 10.10.0.0" in r["Message"]
                        for r in rows)


def test_the_one_way_story_sends_to_the_site_and_receives_nothing(demo: Workspace):
    t = traffic(demo, "munich", *since("munich"))
    assert set(values(t, Metric.BYTES_IN)) == {0} and min(values(t, Metric.BYTES_OUT)) > 0


def test_the_no_routes_story_keeps_bgp_up_with_no_route_learned_and_no_traffic(demo: Workspace):
    t = traffic(demo, "milan", *since("milan"))
    assert set(values(t, Metric.BGP_PEER_UP)) == {1} and set(values(t, Metric.ROUTES_LEARNED)) == {0}
    assert set(values(t, Metric.BYTES_IN)) == {0} and set(values(t, Metric.BYTES_OUT)) == {0}
    at = STORIES["milan"].at
    before = traffic(demo, "milan", at - timedelta(hours=2), at - timedelta(minutes=10))
    assert min(values(before, Metric.ROUTES_LEARNED)) == 2  # its two prefixes


def test_the_phase2_story_stops_traffic_with_no_logged_drop_and_ike_rows_showing_the_delete(demo: Workspace):
    t = traffic(demo, "berlin", *since("berlin"))
    assert set(values(t, Metric.BYTES_IN)) == {0} and set(values(t, Metric.BYTES_OUT)) == {0}
    at = STORIES["berlin"].at
    later = [r for r in azure_demo.generate_rows(DEMO_NOW) if r["Resource"] == "VPNGW02" and r["TimeGenerated"] >= at]
    rows = [r for r in later if r["Category"] == "TunnelDiagnosticLog"
            or "Remote 198.51.100.40" in str(r.get("Message", ""))]
    assert [r["Category"] for r in rows] == ["IKEDiagnosticLog", "IKEDiagnosticLog"]
    assert "Delete payload for IPsec SA" in rows[0]["Message"] and "Main Mode SA remains" in rows[1]["Message"]


def test_the_idle_story_carries_nothing_all_day_after_days_of_traffic(demo: Workspace):
    day = STORIES["rome"].at
    idle = traffic(demo, "rome", day, day + timedelta(days=1), 3600)
    assert set(values(idle, Metric.BYTES_IN)) == {0} and set(values(idle, Metric.BYTES_OUT)) == {0}
    busy = traffic(demo, "rome", day - timedelta(days=1), day, 3600)  # the day before its 08:00 outage's day
    assert sum(values(busy, Metric.BYTES_OUT)) > 0


@pytest.mark.parametrize("name", ["lyon", "paris", "hub-aws", "dc1"])
def test_healthy_tunnels_carry_traffic_both_ways_now(demo: Workspace, name: str):
    t = traffic(demo, name, DEMO_NOW - timedelta(hours=1), DEMO_NOW)
    assert min(values(t, Metric.BYTES_IN)) > 0 and min(values(t, Metric.BYTES_OUT)) > 0


def test_the_traffic_stories_are_not_drop_scenarios_so_existing_demo_answers_stay():
    assert {s.tunnel for s in azure_demo.traffic_scenarios(DEMO_NOW)} == {"nice", "munich", "milan", "berlin", "rome",
                                                                          "lyon"}
    causes = {s.cause for s in azure_demo.scenarios(DEMO_NOW)}
    assert not causes & {"traffic_selector_drops", "one_way_traffic", "no_routes", "no_traffic", "traffic_flowing"}


def test_the_cached_week_keeps_the_outages_the_metrics_need_so_a_process_does_not_generate_them(tmp_path):
    from bot.demo_cache import build_week, read_outages  # lazy: only this test builds a week file of its own

    build_week(tmp_path / "week.duckdb", DEMO_NOW)
    kept = read_outages(tmp_path / "week.duckdb", DEMO_NOW)
    assert kept == read_outages(None, DEMO_NOW)  # what the generators say
    assert kept[0][0] == azure_demo.outages(DEMO_NOW) and kept[1] == aws_demo.outages(DEMO_NOW)
