"""The instant the shared demo workspace is pinned at (the `demo` fixture in tests/conftest.py), and how a test asks
the demo about one of its scenarios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from diagnostics.investigate import investigate
from diagnostics.model import Investigation

#: Sunday 22 November 2026, 11:30 in Paris. The demo's week of logs ends shortly before it.
DEMO_NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


def investigate_scenario(workspace: Any, scenario: Any, now: datetime = DEMO_NOW) -> Investigation:
    """Investigate the tunnel of a demo scenario (`diagnostics.azure.demo` or `diagnostics.aws.demo`) as someone
    would ask about it: 15 minutes either side of its instant, or, for a flapping burst, a 60-minute window that
    starts a minute before the burst."""
    tunnel = workspace.registry.resolve(scenario.tunnel)
    half = timedelta(minutes=30 if scenario.cause == "flapping" else 15)
    at = scenario.at + (half - timedelta(minutes=1) if scenario.cause == "flapping" else timedelta(0))
    return investigate(tunnel, at - half, at + half, workspace.sources, now, anchor=at)
