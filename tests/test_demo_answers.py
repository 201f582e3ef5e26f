"""Every scenario the demo workspace contains is explained with its own cause, through the same KQL and rules
as a real workspace: the demo is the newcomer's first impression, so it must be right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.workspace import demo_workspace
from diagnostics import demo
from diagnostics.investigate import investigate

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
WORKSPACE = demo_workspace(NOW)
DROP_SCENARIOS = [s for s in demo.scenarios(NOW) if s.cause != "no_drop_found"]


@pytest.mark.parametrize("scenario", DROP_SCENARIOS, ids=lambda s: f"{s.tunnel}-{s.cause}")
def test_demo_scenario_is_explained_with_its_cause(scenario):
    tunnel = WORKSPACE.registry.resolve(scenario.tunnel)
    half = timedelta(minutes=30 if scenario.cause == "flapping" else 15)
    at = scenario.at + (half - timedelta(minutes=1) if scenario.cause == "flapping" else timedelta(0))
    result = investigate(tunnel, at - half, at + half, WORKSPACE.backends, NOW, anchor=at)
    assert result.findings[0].cause.value == scenario.cause, result.findings[0].explanation
    assert result.findings[0].evidence


def test_quiet_period_of_the_demo_finds_no_drop_and_names_the_next_one():
    quiet = next(s for s in demo.scenarios(NOW) if s.cause == "no_drop_found")
    tunnel = WORKSPACE.registry.resolve(quiet.tunnel)
    at = quiet.at + timedelta(days=4, hours=10)  # two days before yesterday's maintenance
    result = investigate(tunnel, at - timedelta(minutes=15), at + timedelta(minutes=15), WORKSPACE.backends, NOW,
                         anchor=at)
    assert result.findings[0].cause.value == "no_drop_found"
    maintenance = next(s for s in demo.scenarios(NOW) if s.tunnel == quiet.tunnel and s.cause == "maintenance_failover")
    assert f"Nearest drop after: {maintenance.at:%H:%M} UTC on {maintenance.at:%Y-%m-%d}" in \
        result.findings[0].explanation
