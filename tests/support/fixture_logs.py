"""Fixture files of real-format rows (tests/fixtures/), loaded into a LocalWorkspace, and the tunnels they use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from diagnostics.azure.exports import read_azure_export
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.investigate import investigate
from diagnostics.model import Investigation
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel, TunnelRegistry

FIXTURES = Path(__file__).parent.parent / "fixtures"
RULE_FIXTURES = FIXTURES / "rules"

PARIS = Tunnel(name="paris", aliases=("branch-paris", "par"), azure_gateway="VPNGW01",
               azure_remote_ip="203.0.113.10", azure_resource_group="RG-NETWORK-WEU")
LYON = Tunnel(name="lyon", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.20")
BERLIN = Tunnel(name="berlin", azure_gateway="VPNGW02", azure_remote_ip="198.51.100.40")
REGISTRY = TunnelRegistry([PARIS, LYON, BERLIN])


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def workspace_of(*names: str) -> LocalWorkspace:
    workspace = LocalWorkspace(label="fixture workspace", origin=", ".join(names))
    for name in names:
        read = read_azure_export(RULE_FIXTURES / name)
        assert not read.problems, read.problems
        workspace.load_rows(read.rows)
    return workspace


def ask_at(fixture: str, at: str, tunnel: Tunnel = PARIS, now: str | None = None,
           half_width: timedelta = timedelta(minutes=15)) -> Investigation:
    """Investigate `tunnel` around `at`, as "why did <tunnel> drop at <at>" would."""
    anchor = utc(at)
    pinned_now = utc(now) if now else anchor + timedelta(days=1)
    return investigate(tunnel, anchor - half_width, anchor + half_width, Sources(kql=[workspace_of(fixture)]),
                       now=pinned_now, anchor=anchor)
