"""The traffic question end to end on the demo workspace: every traffic story of the demo (a tunnel that stays
connected while its metrics tell otherwise) answered with its own cause, through the CLI in text and JSON, with the
numbers; a tunnel that is down answered with why it is down."""

from __future__ import annotations

import json
import threading
from zoneinfo import ZoneInfo

import pytest
from support.demo import DEMO_NOW
from support.meeting import Meeting
from test_cli import assert_schema_1, run

from diagnostics.azure import demo as azure_demo
from diagnostics.deadline import within
from diagnostics.sources import Sources
from handlers.ask import ask
from handlers.parse.question import parse_question
from handlers.render.json import answer_to_json
from handlers.render.text import render_text

NOW = DEMO_NOW
DEMO = ("--demo", "--now", "2026-11-22T10:30:00Z")
STORIES = azure_demo.traffic_scenarios(NOW)
FLOWING = ["lyon", "paris", "dc1"]


def test_the_demo_has_a_story_for_every_traffic_cause():
    assert {s.cause for s in STORIES} >= {"traffic_selector_drops", "one_way_traffic", "no_routes", "no_traffic",
                                          "traffic_flowing"}


@pytest.mark.parametrize("story", STORIES, ids=lambda s: f"{s.tunnel}-{s.cause}")
def test_each_traffic_story_is_answered_with_its_cause(demo, story):
    answer = ask(f"is traffic flowing over {story.tunnel}?", demo.registry, demo.sources, NOW, ZoneInfo("UTC"))
    doc = answer_to_json(answer)
    assert doc["intent"] == "traffic"
    assert doc["findings"][0]["cause"] == story.cause, doc["findings"][0]["explanation"]
    assert doc["traffic"]["connected"] is True and doc["traffic"]["read"] is True
    assert doc["traffic"]["backends"] == ["azure-monitor-metrics"]


def test_phase2_torn_down_with_phase1_up_is_read_from_the_ike_rows_before_the_window(demo):
    answer = ask("berlin is up but nothing gets through", demo.registry, demo.sources, NOW, ZoneInfo("UTC"))
    primary = answer.investigation.findings[0]
    assert primary.title == "Phase 2 torn down, phase 1 up: connected but no traffic"
    assert any("IPsec SA deleted" in e.message for e in primary.evidence)


@pytest.mark.parametrize("name", FLOWING)
def test_healthy_tunnels_are_flowing_both_ways_with_numbers(demo, name):
    answer = ask(f"is traffic flowing over {name}", demo.registry, demo.sources, NOW, ZoneInfo("UTC"))
    traffic = answer_to_json(answer)["traffic"]
    assert answer.investigation.findings[0].cause.value == "traffic_flowing"
    assert traffic["in"]["bytes"] > 1_000_000 and traffic["out"]["bytes"] > 1_000_000


def test_cli_text_answer_says_connected_and_the_bytes_each_way(capsys):
    code, out, _ = run(capsys, "ask", "is traffic flowing over munich?", *DEMO, "--tz", "Europe/Paris")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Traffic over munich · 2026-11-22 10:30–11:30 CET (09:30–10:30 UTC)"
    assert "connected, but traffic flows one way only" in lines[1]
    assert "Tunnel: connected" in out
    assert "  in  (site → Azure): 0 B (0 packets)" in out
    assert "  out (Azure → site): 466 MB" in out
    assert "Cause: one_way_traffic (high confidence)" in out
    assert "Query (azure-monitor-metrics" in out and "metricnames=" in out


def test_cli_json_answer_keeps_schema_1_and_adds_the_traffic_object(capsys):
    code, out, _ = run(capsys, "ask", "why can't we reach 192.168.3.20 over nice", *DEMO, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert_schema_1(doc)
    traffic = doc["traffic"]
    assert doc["findings"][0]["cause"] == "traffic_selector_drops"
    assert traffic["in"]["ts_mismatch_drops"] > 0 and traffic["out"]["ts_mismatch_drops"] == 0
    assert set(traffic["in"]) == {"bytes", "packets", "ts_mismatch_drops", "drops", "last_active"}
    assert "TunnelIngressPacketDropTSMismatch" in traffic["sources"]
    assert traffic["window"]["start"] == "2026-11-22T09:30:00Z" and traffic["interval_s"] == 300
    assert traffic["target"]["address"] == "192.168.3.20"
    assert "OUTSIDE the traffic selectors" in traffic["target"]["text"]
    assert all(q["backend"] in ("log-analytics", "cloudwatch-logs", "local") for q in doc["queries"])
    assert traffic["queries"] and traffic["queries"][0]["backend"] == "azure-monitor-metrics"


def test_aws_connection_traffic_comes_from_cloudwatch_metrics(capsys):
    code, out, _ = run(capsys, "ask", "any traffic on dc2 right now?", *DEMO, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["tunnel"]["provider"] == "aws"
    assert doc["traffic"]["backends"] == ["cloudwatch-metrics"]
    assert "TunnelDataIn" in doc["traffic"]["sources"]


def test_a_tunnel_that_is_down_is_answered_with_why_it_is_down(demo):
    answer = ask("is traffic flowing over porto", demo.registry, demo.sources, NOW, ZoneInfo("UTC"))
    text = render_text(answer)
    assert answer.traffic.state == "down"
    assert answer.investigation.findings[0].cause.value == "peer_unreachable"
    assert "NOT connected" in text.splitlines()[1]


def test_without_metrics_the_answer_says_the_logs_and_one_line_why(demo):
    logs_only = Sources(kql=demo.sources.kql, aws=demo.sources.aws)
    answer = ask("is traffic flowing over lyon", demo.registry, logs_only, NOW, ZoneInfo("UTC"))
    text = render_text(answer)
    assert "Tunnel: connected since" in text
    assert "Traffic could not be read: no metrics source is configured, so traffic is not known." in text
    assert answer_to_json(answer)["traffic"]["read"] is False


@pytest.mark.parametrize(("text", "tunnel", "target"), [
    ("why can't we reach 10.1.2.3 over lyon", "lyon", "10.1.2.3"),
    ("can we ping 2001:db8::5 via paris", "paris", "2001:db8::5"),
    ("any traffic on 203.0.113.20", "lyon", ""),  # lyon's own remote IP names the tunnel
])
def test_the_address_asked_about_is_kept_apart_from_the_tunnel(demo, text, tunnel, target):
    question = parse_question(text, demo.registry, NOW, ZoneInfo("UTC"))
    assert question.intent.value == "traffic" and question.tunnel.name == tunnel and question.target == target


def test_a_drop_in_the_window_leads_and_the_traffic_numbers_follow(demo):
    answer = ask("paris traffic yesterday between 13:30 and 15:00 UTC", demo.registry, demo.sources, NOW,
                 ZoneInfo("UTC"))
    causes = [(f.cause.value, f.confidence.value) for f in answer.investigation.findings]
    assert causes[0] == ("maintenance_failover", "high")
    assert ("traffic_flowing", "medium") in causes
    assert "connected, 2 drops in the window" in render_text(answer).splitlines()[1]


def test_the_logs_state_and_metrics_of_a_traffic_answer_are_read_at_the_same_time_under_its_deadline(demo):
    barrier = threading.Barrier(2, timeout=60)
    logs = [Meeting(k, barrier, "run_kql") for k in demo.sources.kql]
    metrics = [Meeting(m, barrier, "read") for m in demo.sources.metrics]
    with within(300):
        answer = ask("is traffic flowing over munich?", demo.registry,
                     Sources(kql=logs, aws=demo.sources.aws, metrics=metrics), NOW, ZoneInfo("UTC"))
    assert answer.investigation.findings[0].cause.value == "one_way_traffic"
    assert not barrier.broken
    seen = [d for source in (*logs, *metrics) for d in source.deadlines]
    assert len(seen) >= 3 and all(d is not None and 0 < d <= 300 for d in seen)

