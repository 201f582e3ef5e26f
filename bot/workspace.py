"""Which logs a command reads, and which tunnels it knows, from the shared source options.

Order of precedence: exports given on the command line (analyse what someone sent), else the configured
cloud workspace, else the built-in demo workspace (`--demo`, or no configuration at all).

Sources are split by kind here, once (`diagnostics.sources.Sources`: KQL backends for Azure, tunnel log sources for
AWS). With `[aws]` configured, the VPN connections of the region are discovered from
EC2 `describe_vpn_connections` and added to the configured tunnels.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Config, ConfigError, config_from_mapping
from diagnostics.aws import demo as aws_demo
from diagnostics.aws.exports import read_aws_export
from diagnostics.aws.parser.rows import LogRecord, ParseError, parse_record
from diagnostics.aws.sources import AwsLogSource, MemoryLogSource, UnavailableSource
from diagnostics.aws.streams import parse_stream_name
from diagnostics.azure import demo
from diagnostics.azure.exports import read_azure_export
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.azure.sources import KqlBackend
from diagnostics.model import SourceError
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel, TunnelRegistry

#: Said in answers while `vpnbot serve` is still discovering the region's AWS VPN connections.
DISCOVERY_PENDING = ("AWS tunnel discovery (EC2 describe_vpn_connections) has not finished yet: only the configured "
                     "tunnels are known so far.")


@dataclass
class Workspace:
    registry: TunnelRegistry
    sources: Sources
    timezone: str = "UTC"
    notes: list[str] = field(default_factory=list)  # said once, before the answer (e.g. "using the demo")
    problems: list[str] = field(default_factory=list)  # export rows that were skipped (file:line: reason)
    discovered: list[str] = field(default_factory=list)  # tunnels found by EC2 describe_vpn_connections
    discovery: threading.Event | None = None  # set when discovery running in the background has finished

    @property
    def pending(self) -> list[str]:
        """What the answers should say about the set-up still under way."""
        if self.discovery is not None and not self.discovery.is_set():
            return [DISCOVERY_PENDING]
        return []


def tunnels_json(workspace: Workspace) -> list[dict[str, Any]]:
    """The tunnels as `vpnbot tunnels --format json` lists them: name, provider, aliases, identifiers, and whether
    EC2 discovery found it."""
    return [{"name": t.name, "provider": t.provider, "aliases": list(t.aliases), **t.identifiers,
             **({"discovered": True} if t.name in workspace.discovered else {})}
            for t in workspace.registry]


def demo_workspace(now: datetime) -> Workspace:
    workspace = LocalWorkspace(label="demo workspace", origin="demo")
    workspace.load_rows(demo.generate_rows(now))
    config = config_from_mapping({"timezone": demo.DEMO_TIMEZONE,
                                  "tunnels": [*demo.DEMO_TUNNELS, *aws_demo.DEMO_AWS_TUNNELS]})
    names = ", ".join(t.name for t in config.tunnels)
    return Workspace(
        registry=config.registry,
        sources=Sources(kql=[workspace], aws=[aws_demo.demo_source(now)]),
        timezone=config.timezone,
        notes=[f"Using the built-in demo workspace (a week of sample Azure and AWS VPN logs for {names}); "
               "give --config, --azure-export or --aws-export for real logs."],
    )


def export_workspace(paths: Sequence[str], config: Config | None, aws_paths: Sequence[str] = ()) -> Workspace:
    """A local workspace of every export file. Bad rows are reported and skipped; an unreadable file stops."""
    problems: list[str] = []
    kql: list[KqlBackend] = []
    aws: list[AwsLogSource] = []
    rows: list[dict] = []
    if paths:
        workspace = LocalWorkspace(label="export " + ", ".join(paths), origin=", ".join(paths))
        for path in paths:
            read = read_azure_export(path)
            rows += read.rows
            problems += read.problems
        workspace.load_rows(rows)
        kql.append(workspace)
    records: list[LogRecord] = []
    if aws_paths:
        for path in aws_paths:
            aws_read = read_aws_export(path)
            records += aws_read.records
            problems += aws_read.problems
        names = ", ".join(aws_paths)
        group = config.aws.log_group if config else ""
        aws.append(MemoryLogSource(records, label=f"AWS export {names}", origin=names, log_group=group))
    if config and config.tunnels:
        registry = config.registry
    else:
        registry = TunnelRegistry([*tunnels_seen_in(rows), *aws_tunnels_seen_in(records)])
    return Workspace(registry, Sources(kql, aws), config.timezone if config else "UTC", problems=problems)


def aws_tunnels_seen_in(records: Sequence[LogRecord]) -> list[Tunnel]:
    """With AWS exports and no configuration, every VPN connection in the events is a tunnel named after its id,
    with the outside IPs its streams name, so "why did vpn-0123… drop" or "… 52.95.10.1 …" works on a file."""
    ips: dict[str, dict[str, None]] = {}
    for record in records:
        stream = parse_stream_name(record.stream)
        if stream is None:
            try:
                event = parse_record(record, None)
            except ParseError:
                continue
            connection, ip = event.gateway, event.instance
        else:
            connection, ip = stream.vpn_connection, stream.outside_ip
        if connection:
            ips.setdefault(connection, {})[ip] = None
    return [Tunnel(name=connection, aws_vpn_connection=connection, aws_outside_ips=tuple(sorted(i for i in found if i)))
            for connection, found in ips.items()]


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


def cloud_workspace(config: Config, discover_in_background: bool = False) -> Workspace:
    """The configured log sources and tunnels. A source that cannot be set up fails only the questions that need
    it, named in their answers. AWS tunnels are discovered from EC2 now, or (`vpnbot serve`, which must not wait on
    a slow EC2 endpoint to start listening) in the background: `Workspace.pending` says so meanwhile."""
    kql: list[KqlBackend] = []
    aws: list[AwsLogSource] = []
    if config.azure.workspace_id:
        # The Azure SDK loads only when a workspace is configured (exports and the demo never need it).
        from diagnostics.azure.credentials import credential_from_setting
        from diagnostics.azure.loganalytics import AzureLogAnalyticsSource

        kql.append(AzureLogAnalyticsSource(
            config.azure.workspace_id,
            credential=credential_from_setting(config.azure.credential),
            endpoint=config.azure.endpoint,
        ))
    uses_aws = config.aws.region or config.aws.log_group or any(t.aws_vpn_connection for t in config.tunnels)
    if uses_aws:
        aws.append(aws_source(config))
    if not kql and not aws:
        raise ConfigError(f"{config.path}: no log source: set [azure] workspace_id or [aws] region and log_group, "
                          "or give --azure-export / --aws-export FILE")
    workspace = Workspace(TunnelRegistry(config.tunnels), Sources(kql, aws), config.timezone)
    if uses_aws:
        discovery = threading.Thread(target=discover_tunnels, args=(config, workspace), name="vpnbot-discovery",
                                     daemon=True)
        if discover_in_background:
            workspace.discovery = threading.Event()
            discovery.start()
        else:
            discover_tunnels(config, workspace)
    return workspace


def aws_source(config: Config) -> AwsLogSource:
    """CloudWatch Logs; when it cannot be set up (no region…), a source whose every read says why."""
    # boto3 loads only when [aws] is configured (exports and the demo never need it).
    from diagnostics.aws.cloudwatch import CloudWatchLogsSource

    try:
        return CloudWatchLogsSource(config.aws.log_group, region=config.aws.region)
    except SourceError as exc:
        return UnavailableSource("CloudWatch Logs", str(exc), config.aws.log_group)


def discover_tunnels(config: Config, workspace: Workspace) -> None:
    """Complete the configured AWS tunnels and add the other VPN connections of the region, from EC2
    describe_vpn_connections. Discovery failing is said in one line and the configured tunnels still work."""
    # boto3 loads only when [aws] is configured (exports and the demo never need it).
    from diagnostics.aws.discovery import discover, merge_discovered

    try:
        found = discover(config.aws.region)
    except SourceError as exc:
        found = []
        workspace.notes.append(f"Tunnel discovery skipped: {exc}")
    tunnels = merge_discovered(config.tunnels, found)
    for source in workspace.sources.aws:
        if hasattr(source, "groups"):  # CloudWatch Logs: each connection's own log group, from its TunnelOptions
            source.groups.update({f.connection_id: f.log_groups[0] for f in found if f.log_groups})
    workspace.registry.update(tunnels)
    workspace.discovered = [t.name for t in tunnels if t.extra.get("discovered")]
    if workspace.discovery is not None:
        workspace.discovery.set()


def open_workspace(config: Config | None, azure_exports: Sequence[str], demo_flag: bool, now: datetime,
                   aws_exports: Sequence[str] = (), discover_in_background: bool = False) -> Workspace:
    if azure_exports or aws_exports:
        return export_workspace(azure_exports, config, aws_exports)
    if demo_flag or config is None:
        return demo_workspace(now)
    return cloud_workspace(config, discover_in_background)
