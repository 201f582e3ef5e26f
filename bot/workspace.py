"""Which logs a command reads, and which tunnels it knows, from the shared source options.

Order of precedence: exports given on the command line (analyse what someone sent), else the configured
cloud workspace, else the built-in demo workspace (`--demo`, or no configuration at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from diagnostics import demo
from diagnostics.azure.exports import read_azure_export
from diagnostics.local_workspace import LocalWorkspace
from diagnostics.sources import KqlBackend
from diagnostics.tunnels import Tunnel, TunnelRegistry

from .config import Config, ConfigError, config_from_mapping


@dataclass
class Workspace:
    registry: TunnelRegistry
    backends: list[KqlBackend]
    timezone: str = "UTC"
    notes: list[str] = field(default_factory=list)  # said once, before the answer (e.g. "using the demo")
    problems: list[str] = field(default_factory=list)  # export rows that were skipped (file:line: reason)


def demo_workspace(now: datetime) -> Workspace:
    workspace = LocalWorkspace(label="demo workspace", origin="demo")
    workspace.load_rows(demo.generate_rows(now))
    config = config_from_mapping({"timezone": demo.DEMO_TIMEZONE, "tunnels": demo.DEMO_TUNNELS})
    names = ", ".join(t.name for t in config.tunnels)
    return Workspace(
        registry=config.registry,
        backends=[workspace],
        timezone=config.timezone,
        notes=[f"Using the built-in demo workspace (a week of sample Azure VPN logs for {names}); "
               "give --config or --azure-export for real logs."],
    )


def export_workspace(paths: Sequence[str], config: Config | None) -> Workspace:
    """A local workspace of every export file. Bad rows are reported and skipped; an unreadable file stops."""
    workspace = LocalWorkspace(label="export " + ", ".join(paths), origin=", ".join(paths))
    problems: list[str] = []
    rows = []
    for path in paths:
        read = read_azure_export(path)
        rows += read.rows
        problems += read.problems
    workspace.load_rows(rows)
    registry = config.registry if config and config.tunnels else TunnelRegistry(tunnels_seen_in(rows))
    return Workspace(registry, [workspace], config.timezone if config else "UTC", problems=problems)


def tunnels_seen_in(rows: Sequence[dict]) -> list[Tunnel]:
    """With exports and no configuration, every (gateway, remote IP) pair in the rows is a tunnel named after
    its remote IP, so "why did 203.0.113.10 drop" works on a file someone sent."""
    pairs: dict[tuple[str, str], None] = {}
    for row in rows:
        if str(row.get("Category", "")).lower() == "tunneldiagnosticlog":
            gateway = str(row.get("Resource") or str(row.get("ResourceId", "")).rsplit("/", 1)[-1])
            if gateway:
                pairs[(gateway.upper(), str(row.get("remoteIP_s", "")))] = None
    tunnels = []
    for gateway, remote in pairs:
        name = remote or gateway
        tunnels.append(Tunnel(name=name, aliases=(f"{gateway}/{remote}",) if remote else (),
                              azure_gateway=gateway, azure_remote_ip=remote))
    return tunnels


def cloud_workspace(config: Config) -> Workspace:
    if not config.azure.workspace_id:
        raise ConfigError(f"{config.path}: no log source: set [azure] workspace_id, or give --azure-export FILE")
    from diagnostics.azure.credentials import credential_from_setting
    from diagnostics.azure.loganalytics import AzureLogAnalyticsSource

    source = AzureLogAnalyticsSource(
        config.azure.workspace_id,
        credential=credential_from_setting(config.azure.credential),
        endpoint=config.azure.endpoint,
    )
    return Workspace(config.registry, [source], config.timezone)


def open_workspace(config: Config | None, azure_exports: Sequence[str], demo_flag: bool, now: datetime) -> Workspace:
    if azure_exports:
        return export_workspace(azure_exports, config)
    if demo_flag or config is None:
        return demo_workspace(now)
    return cloud_workspace(config)
