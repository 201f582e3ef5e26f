"""The traffic rules, each pinned on a fixture of real-format log rows (tests/fixtures/rules/traffic_*.csv) and the
gateway metrics of the same hour built here from realistic numbers: a branch office moving ~40 MB in and ~120 MB
out per 5 minutes, selector drops of a forgotten subnet, BGP keepalive-sized trickles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.fixture_logs import PARIS, workspace_of

from diagnostics.model import Cause, Confidence
from diagnostics.rules import REGISTRY, Kind
from diagnostics.sources import Sources
from diagnostics.traffic.flow import Flow
from diagnostics.traffic.model import Metric, Series, Traffic
from diagnostics.traffic_check import check_traffic
from handlers.render.traffic import traffic_json, traffic_lines

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
NOW = END + timedelta(minutes=30)
STEP = 300
BUCKETS = 12
NAMES = {Metric.BYTES_IN: "TunnelIngressBytes", Metric.BYTES_OUT: "TunnelEgressBytes",
         Metric.PACKETS_IN: "TunnelIngressPackets", Metric.PACKETS_OUT: "TunnelEgressPackets",
         Metric.TS_DROPS_IN: "TunnelIngressPacketDropTSMismatch",
         Metric.TS_DROPS_OUT: "TunnelEgressPacketDropTSMismatch",
         Metric.BGP_PEER_UP: "BgpPeerStatus", Metric.ROUTES_LEARNED: "BgpRoutesLearned",
         Metric.ROUTES_ADVERTISED: "BgpRoutesAdvertised"}


def series(metric: Metric, values: list[float]) -> Series:
    t0 = START.timestamp()
    return Series(metric, tuple((t0 + i * STEP, v) for i, v in enumerate(values)), NAMES[metric], "203.0.113.10")


def every(value: float) -> list[float]:
    return [value] * BUCKETS


def busy(bytes_in: float = 41_800_000, bytes_out: float = 118_500_000) -> dict[Metric, list[float]]:
    """A branch office at work: ~40 MB in and ~120 MB out every 5 minutes, ~1,400-byte packets."""
    return {Metric.BYTES_IN: every(bytes_in), Metric.BYTES_OUT: every(bytes_out),
            Metric.PACKETS_IN: every(round(bytes_in / 1400)), Metric.PACKETS_OUT: every(round(bytes_out / 1400))}


def traffic(values: dict[Metric, list[float]]) -> Traffic:
    return Traffic("paris", START, END, STEP, {m: series(m, v) for m, v in values.items()})


class FixedMetrics:
    """A metrics source that answers with one tunnel's Traffic (the protocol of diagnostics.traffic.model)."""

    label = "fixture metrics"

    def __init__(self, result: Traffic):
        self.result = result

    def covers(self, tunnel) -> bool:
        return tunnel.name == self.result.tunnel

    def read(self, tunnels, start, end, interval_s):
        return {t.name: self.result for t in tunnels if t.name == self.result.tunnel}


def check(fixture: str, values: dict[Metric, list[float]] | None, target: str = ""):
    metrics = [FixedMetrics(traffic(values))] if values is not None else []
    return check_traffic(PARIS, START, END, Sources(kql=[workspace_of(fixture)], metrics=metrics), NOW,
                         target=target)


def test_busy_tunnel_is_flowing_with_its_numbers_in_human_units():
    result = check("traffic_connected.csv", busy())
    primary = result.findings[0]
    assert primary.cause is Cause.TRAFFIC_FLOWING and primary.confidence is Confidence.HIGH
    assert result.state == "up" and result.flow.inbound.bytes == 12 * 41_800_000
    assert "502 MB" in primary.explanation and "1.4 GB" in primary.explanation
    assert "358,284 packets" in primary.explanation


def test_selector_mismatch_drops_name_the_selectors_and_the_address_outside_them():
    values = busy(bytes_in=3_100_000)
    values[Metric.TS_DROPS_IN] = every(2_350)
    values[Metric.TS_DROPS_OUT] = every(0)
    result = check("traffic_selector_drops.csv", values, target="192.168.100.25")
    primary = result.findings[0]
    assert primary.cause is Cause.TRAFFIC_SELECTOR_DROPS and primary.confidence is Confidence.HIGH
    assert "28,200 packets" in primary.explanation
    assert "10.20.0.0–10.20.255.255" in primary.explanation and "10.1.0.0–10.1.255.255" in primary.explanation
    assert "192.168.100.25 lies outside them" in primary.explanation
    assert any("Traffic Selector payload" in e.message for e in primary.evidence)
    assert "192.168.100.25 is OUTSIDE the traffic selectors" in result.target_line


def test_address_inside_the_selectors_is_said_to_be_inside():
    result = check("traffic_selector_drops.csv", busy(), target="10.1.4.20")
    assert result.target_line.startswith("10.1.4.20 is inside the traffic selectors")


@pytest.mark.parametrize(("dead", "live", "title", "first_look"), [
    (Metric.BYTES_OUT, Metric.BYTES_IN, "site → Azure", "Look on the Azure side first"),
    (Metric.BYTES_IN, Metric.BYTES_OUT, "Azure → site", "Look on the site first"),
])
def test_one_way_traffic_says_which_direction_is_dead_and_where_to_look(dead, live, title, first_look):
    values = busy()
    values[dead] = every(0)
    values[Metric.PACKETS_IN if dead is Metric.BYTES_IN else Metric.PACKETS_OUT] = every(0)
    result = check("traffic_connected.csv", values)
    primary = result.findings[0]
    assert primary.cause is Cause.ONE_WAY_TRAFFIC and primary.confidence is Confidence.HIGH
    assert title in primary.title
    assert primary.advice.startswith(first_look)
    assert "network security group" in primary.advice


def test_bgp_keepalives_alone_do_not_count_as_traffic_the_other_way():
    values = busy()
    values[Metric.BYTES_OUT] = every(114)  # BGP keepalives: a few hundred bytes per 5 minutes
    assert check("traffic_connected.csv", values).findings[0].cause is Cause.ONE_WAY_TRAFFIC


def test_bgp_up_with_no_route_learned_is_no_routes_before_idle():
    values = {Metric.BYTES_IN: every(0), Metric.BYTES_OUT: every(0), Metric.BGP_PEER_UP: every(1),
              Metric.ROUTES_LEARNED: every(0), Metric.ROUTES_ADVERTISED: every(2)}
    result = check("traffic_no_routes.csv", values, target="10.20.3.4")
    causes = [f.cause for f in result.findings]
    assert causes[0] is Cause.NO_ROUTES and Cause.NO_TRAFFIC in causes
    assert "0 routes were learned" in result.findings[0].explanation
    assert "2 advertised" in result.findings[0].explanation
    assert "in none of the routes learned" not in result.target_line  # the only route was withdrawn
    assert "neither" in result.target_line


def test_phase2_deleted_with_phase1_up_is_no_traffic_since_the_deletion():
    values = busy()
    for metric in values:  # traffic until 09:10, then nothing
        values[metric] = values[metric][:3] + [0] * 9
    result = check("traffic_phase2_deleted.csv", values)
    primary = result.findings[0]
    assert primary.cause is Cause.NO_TRAFFIC and primary.confidence is Confidence.HIGH
    assert "deleted at 09:12:37 UTC" in primary.explanation
    assert "0 bytes either way since 09:15 UTC" in primary.explanation
    assert any("Main Mode SA remains established" in e.message for e in primary.evidence)


def test_phase2_deleted_is_said_from_the_logs_when_metrics_cannot_be_read():
    result = check("traffic_phase2_deleted.csv", None)
    primary = result.findings[0]
    assert primary.cause is Cause.NO_TRAFFIC and primary.confidence is Confidence.MEDIUM
    assert "could not be read to confirm" in primary.explanation
    assert result.unread.startswith("Traffic could not be read: no metrics source is configured")


def test_a_phase2_rekey_is_not_a_loss():
    result = check("traffic_phase2_rekeyed.csv", busy())
    assert result.findings[0].cause is Cause.TRAFFIC_FLOWING


def test_traffic_that_stopped_without_a_phase2_row_is_no_traffic_with_when():
    values = busy()
    for metric in values:
        values[metric] = values[metric][:5] + [0] * 7
    primary = check("traffic_connected.csv", values).findings[0]
    assert primary.cause is Cause.NO_TRAFFIC and primary.title == "Traffic stopped, the tunnel stays connected"
    assert "since 09:25 UTC (35 min)" in primary.explanation


def test_connected_and_idle_all_hour_is_no_traffic_idle():
    values = {Metric.BYTES_IN: every(0), Metric.BYTES_OUT: every(0)}
    primary = check("traffic_connected.csv", values).findings[0]
    assert primary.cause is Cause.NO_TRAFFIC and "idle" in primary.title


def test_metrics_missing_still_answers_from_the_logs_with_one_line_why():
    result = check("traffic_connected.csv", None)
    assert result.state == "up"
    assert result.unread == ("Traffic could not be read: no metrics source is configured, so traffic is not "
                             "known.")
    assert not any(f.cause in {Cause.TRAFFIC_FLOWING, Cause.NO_TRAFFIC, Cause.ONE_WAY_TRAFFIC}
                   for f in result.findings)
    assert result.findings and result.findings[0].cause is Cause.NO_DROP_FOUND


def test_a_metric_the_identity_may_not_read_is_the_one_line():
    failing = Traffic("paris", START, END, STEP, failures=[
        "Azure Monitor metrics of VPNGW01: 403 AuthorizationFailed: the identity lacks Monitoring Reader"])
    result = check_traffic(PARIS, START, END, Sources(kql=[workspace_of("traffic_connected.csv")],
                                                      metrics=[FixedMetrics(failing)]), NOW)
    assert result.unread == ("Traffic could not be read: Azure Monitor metrics of VPNGW01: 403 "
                             "AuthorizationFailed: the identity lacks Monitoring Reader.")


def test_silence_is_read_only_from_intervals_with_values():
    values = busy()
    values[Metric.BYTES_OUT] = values[Metric.BYTES_OUT][:10]  # the last two intervals not published yet
    values[Metric.BYTES_IN] = [*values[Metric.BYTES_IN][:10], 0, 0]
    flow = Flow.of(traffic(values))
    assert flow.silent_since is None


def test_every_traffic_rule_is_registered_for_any_provider():
    ids = {r.id for r in REGISTRY if r.kind is Kind.TRAFFIC}
    assert ids == {"traffic_selector_drops", "one_way_traffic", "no_routes", "no_traffic", "traffic_flowing"}
    assert all(r.provider == "any" for r in REGISTRY if r.kind is Kind.TRAFFIC)


def test_a_direction_that_stopped_for_15_minutes_is_dead_even_if_it_carried_bytes_earlier():
    values = busy()
    values[Metric.BYTES_IN] = values[Metric.BYTES_IN][:4] + [0] * 8  # nothing from the site since 09:20
    primary = check("traffic_connected.csv", values).findings[0]
    assert primary.cause is Cause.ONE_WAY_TRAFFIC and primary.title.endswith("Azure → site")
    assert "received nothing since 09:20 UTC (167 MB" in primary.explanation


def test_a_metric_read_that_failed_beside_others_is_said_and_the_rest_still_answers():
    partial = traffic(busy())
    partial.failures.append("Azure Monitor metrics of VPNGW01 (BGP peer 10.20.0.254): 429 Too Many Requests")
    result = check_traffic(PARIS, START, END, Sources(kql=[workspace_of("traffic_connected.csv")],
                                                      metrics=[FixedMetrics(partial)]), NOW)
    assert result.findings[0].cause is Cause.TRAFFIC_FLOWING and result.unread == ""
    assert "  not read: Azure Monitor metrics of VPNGW01 (BGP peer 10.20.0.254): 429 Too Many Requests" in \
        traffic_lines(result, ZoneInfo("UTC"))
    assert traffic_json(result)["failures"] == partial.failures


def test_the_old_sa_deleted_right_after_a_rekey_is_no_loss_even_without_metrics():
    result = check("traffic_phase2_rekey_then_delete.csv", None)
    assert all(f.cause is not Cause.NO_TRAFFIC for f in result.findings)
