"""Every scenario the demo workspace contains is explained with its own cause, through the same KQL and rules
as a real workspace: the demo is the newcomer's first impression, so it must be right."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.demo import DEMO_NOW, investigate_scenario

from diagnostics.azure import demo as azure_demo
from diagnostics.investigate import investigate

NOW = DEMO_NOW
DROP_SCENARIOS = [s for s in azure_demo.scenarios(NOW) if s.cause != "no_drop_found"]


@pytest.mark.parametrize("scenario", DROP_SCENARIOS, ids=lambda s: f"{s.tunnel}-{s.cause}")
def test_demo_scenario_is_explained_with_its_cause(demo, scenario):
    result = investigate_scenario(demo, scenario, NOW)
    assert result.findings[0].cause.value == scenario.cause, result.findings[0].explanation
    assert result.findings[0].evidence


def test_quiet_period_of_the_demo_finds_no_drop_and_names_the_next_one(demo):
    quiet = next(s for s in azure_demo.scenarios(NOW) if s.cause == "no_drop_found")
    tunnel = demo.registry.resolve(quiet.tunnel)
    at = quiet.at + timedelta(days=4, hours=10)  # two days before yesterday's maintenance
    result = investigate(tunnel, at - timedelta(minutes=15), at + timedelta(minutes=15), demo.sources, NOW,
                         anchor=at)
    assert result.findings[0].cause.value == "no_drop_found"
    maintenance = next(s for s in azure_demo.scenarios(NOW)
                       if s.tunnel == quiet.tunnel and s.cause == "maintenance_failover")
    assert f"Nearest drop after: {maintenance.at:%H:%M} UTC on {maintenance.at:%Y-%m-%d}" in \
        result.findings[0].explanation


NEGOTIATION_DETAILS = {
    "madrid": ("Pre-shared key mismatch", "Azure started it"),
    "rome": ("IKE proposal mismatch (phase 1: DH group)", "the device offers DH group 14 only"),
    "milan": ("Traffic selector mismatch", "TSr 10.41.0.0–10.41.255.255"),
    "porto": ("The on-premises device does not answer", "received nothing back"),
    "seville": ("BGP session down (tunnel up)", "BGP peer 10.4.0.254 disconnected"),
}


@pytest.mark.parametrize("name", sorted(NEGOTIATION_DETAILS))
def test_vpngw04_answers_name_what_differs(demo, name):
    scenario = next(s for s in DROP_SCENARIOS if s.tunnel == name)
    half = timedelta(minutes=15)
    result = investigate(demo.registry.resolve(name), scenario.at - half, scenario.at + half,
                         demo.sources, NOW, anchor=scenario.at)
    title, detail = NEGOTIATION_DETAILS[name]
    assert result.findings[0].title == title
    assert detail in result.findings[0].explanation


@pytest.mark.parametrize("name", ["madrid", "rome", "milan", "porto"])
def test_seville_bgp_drop_is_not_another_vpngw04_tunnel_s(demo, name):
    seville = next(s for s in DROP_SCENARIOS if s.tunnel == "seville")
    half = timedelta(minutes=15)
    result = investigate(demo.registry.resolve(name), seville.at - half, seville.at + half,
                         demo.sources, NOW, anchor=seville.at)
    assert [f.cause.value for f in result.findings] == ["no_drop_found"]
