"""The demo workspace's AWS connections: deterministic, rebased on `now`, and every story answered with its cause
through the same investigation as CloudWatch."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from support.demo import DEMO_NOW, investigate_scenario

from diagnostics.aws import demo as aws_demo
from diagnostics.aws.parser.rows import parse_record
from diagnostics.aws.streams import parse_stream_name
from diagnostics.azure import demo as azure_demo
from diagnostics.investigate import investigate

NOW = DEMO_NOW
SCENARIOS = aws_demo.scenarios(NOW)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.tunnel}-{s.cause}")
def test_aws_demo_scenario_is_explained_with_its_cause(demo, scenario):
    result = investigate_scenario(demo, scenario, NOW)
    causes = [f.cause.value for f in result.findings]
    assert causes[0] == scenario.cause, result.findings[0].explanation
    if scenario.also:
        assert scenario.also in causes
    assert result.findings[0].evidence


def test_demo_covers_the_aws_causes():
    assert {s.cause for s in SCENARIOS} | {s.also for s in SCENARIOS} >= {
        "dpd_timeout", "psk_mismatch", "ike_proposal_mismatch", "traffic_selector_mismatch", "remote_initiated",
        "peer_unreachable", "bgp_session_down", "bgp_route_rejected", "rekey_collision", "flapping", "no_drop_found",
    }
    link = [s for s in azure_demo.scenarios(NOW) if s.tunnel == "hub-aws"]
    assert [s.cause for s in link] == ["gateway_failover"]


def test_link_answer_in_the_demo_names_both_sides_in_order(demo):
    link = next(s for s in azure_demo.scenarios(NOW) if s.tunnel == "hub-aws")
    tunnel = demo.registry.resolve("azure-aws")
    result = investigate(tunnel, link.at - timedelta(minutes=15), link.at + timedelta(minutes=15),
                         demo.sources, NOW, anchor=link.at)
    assert "Both ends of hub-aws saw it: Azure first" in result.findings[0].explanation
    assert "4 s later (dpd_timeout)" in result.findings[0].explanation


def test_demo_tunnels_resolve_by_name_alias_connection_id_and_outside_ip(demo):
    assert aws_demo.DEMO_AWS_TUNNELS
    for entry in aws_demo.DEMO_AWS_TUNNELS:
        for reference in (entry["name"], *entry["aliases"], entry["aws_vpn_connection"], *entry["aws_outside_ips"]):
            assert demo.registry.resolve(reference).name == entry["name"]


def test_same_now_same_events_and_whole_days_shift_every_event():
    first, again = aws_demo.generate_records(NOW), aws_demo.generate_records(NOW)
    assert first == again
    moved = aws_demo.generate_records(NOW + timedelta(days=2))
    assert len(moved) == len(first) > 0
    assert all(b.timestamp - a.timestamp == 2 * 86_400_000 for a, b in zip(first, moved, strict=True))


def test_events_stay_in_the_week_and_use_both_key_spellings_and_stream_forms():
    records = aws_demo.generate_records(NOW)
    assert (NOW - timedelta(days=7)).timestamp() * 1000 <= records[0].timestamp
    assert records[-1].timestamp <= (NOW - timedelta(minutes=2)).timestamp() * 1000
    bodies = [json.loads(r.message) for r in records]
    assert any("VpnLogDetail" in b for b in bodies) and any("details" in b for b in bodies)
    assert any("resource_id" in b for b in bodies)
    assert {parse_stream_name(r.stream).suffix for r in records} == {"", "IKE", "BGP"}
    for record in records:
        event = parse_record(record, None)
        assert event.gateway.startswith("vpn-") and event.instance.startswith("203.0.113.")
