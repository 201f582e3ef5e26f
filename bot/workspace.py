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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.config import Config, ConfigError, config_from_mapping
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel, TunnelRegistry

if TYPE_CHECKING:
    from diagnostics.aws.sources import AwsLogSource
    from diagnostics.azure.sources import KqlBackend
    from diagnostics.azure.workspace_cache import WorkspaceCache
    from diagnostics.traffic.model import MetricsSource

# The log readers are imported by the functions that open them (lazy loads): `vpnbot tunnels` on the demo opens
# none, and a question on the demo reads its workspace from the cache without loading the export readers.

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


def demo_workspace(now: datetime, logs: bool = True, pinned: bool = True) -> Workspace:
    """The built-in demo: its tunnels, and (`logs`) its week of logs ending at `now`, read from the on-disk cache
    (`bot.demo_cache`; `pinned` False: `now` is the wall clock, and a week built in the last minutes is reused)."""
    # lazy loads: the demo's generators (and, for its logs, DuckDB) only when the demo is used
    from diagnostics.aws import demo as aws_demo
    from diagnostics.azure import demo

    config = config_from_mapping({"timezone": demo.DEMO_TIMEZONE,
                                  "tunnels": [*demo.DEMO_TUNNELS, *aws_demo.DEMO_AWS_TUNNELS]})
    names = ", ".join(t.name for t in config.tunnels)
    if logs:
        from bot.demo_cache import demo_sources  # lazy load: DuckDB and the cached week

        sources = demo_sources(now, pinned=pinned)
    else:
        sources = Sources([], [])
    return Workspace(
        registry=config.registry,
        sources=sources,
        timezone=config.timezone,
        notes=[f"Using the built-in demo workspace (a week of sample Azure and AWS VPN logs for {names}); "
               "give --config, --azure-export or --aws-export for real logs."],
    )


def export_workspace(paths: Sequence[str], config: Config | None, aws_paths: Sequence[str] = (),
                     export_tz: str | None = None, cache: WorkspaceCache | None = None,
                     aws_stream: str = "", attribute: Sequence[Tunnel] = ()) -> Workspace:
    """A local workspace of every export file. Bad rows are reported and skipped; an unreadable file stops.
    Azure exports are loaded once and cached (`cache`, default `bot.cache.export_cache()`); `export_tz` is the zone
    of a portal CSV exported in local time. Big AWS exports are indexed once and cached the same way; `aws_stream`
    (`--aws-stream`) names the stream of AWS events that carry none. `attribute`: without a configuration, the
    tunnels rows that name none (no gateway, no stream) may be attributed to, as a configuration's would be, while
    the registry stays the tunnels the rows show (`vpnbot explain`)."""
    configured = config.tunnels if config else tuple(attribute)
    # lazy loads: the export readers (DuckDB, the KQL translator) only when files are given
    from bot.cache import export_cache
    from diagnostics.aws.export_sources import load_aws_exports
    from diagnostics.azure.exports import open_azure_exports

    problems: list[str] = []
    notes: list[str] = []
    kql: list[KqlBackend] = []
    aws: list[AwsLogSource] = []
    azure_tunnels: list[Tunnel] = []
    if paths:
        azure = open_azure_exports(paths, cache or export_cache(), export_tz, configured)
        kql.append(azure.workspace)
        problems += azure.problems
        notes += azure.notes
        azure_tunnels = azure.tunnels()
    aws_tunnels: list[Tunnel] = []
    if aws_paths:
        loaded = load_aws_exports(aws_paths, stream=aws_stream, tunnels=configured,
                                  log_group=config.aws.log_group if config else "", cache=cache or export_cache())
        aws += loaded.sources
        problems += loaded.problems
        notes += loaded.notes
        aws_tunnels = loaded.tunnels()
    registry = config.registry if config and config.tunnels else TunnelRegistry([*azure_tunnels, *aws_tunnels])
    return Workspace(registry, Sources(kql, aws), config.timezone if config else "UTC", notes=notes,
                     problems=problems)


def cloud_workspace(config: Config, discover_in_background: bool = False) -> Workspace:
    """The configured log sources and tunnels. A source that cannot be set up fails only the questions that need
    it, named in their answers. AWS tunnels are discovered from EC2 now, or (`vpnbot serve`, which must not wait on
    a slow EC2 endpoint to start listening) in the background: `Workspace.pending` says so meanwhile."""
    kql: list[KqlBackend] = []
    aws: list[AwsLogSource] = []
    metrics: list[MetricsSource] = []
    if config.azure.workspace_id:
        # The Azure SDK loads only when a workspace is configured (exports and the demo never need it).
        from diagnostics.azure.credentials import credential_from_setting
        from diagnostics.azure.loganalytics import AzureLogAnalyticsSource
        from diagnostics.azure.metrics import AzureMetricsSource, gateway_ids_from_logs

        credential = credential_from_setting(config.azure.credential)
        logs = AzureLogAnalyticsSource(config.azure.workspace_id, credential=credential,
                                       endpoint=config.azure.endpoint)
        kql.append(logs)
        # The gateways' metrics: the same credential; a gateway whose resource id the config does not give is
        # looked up once in the workspace's rows (ResourceId).
        metrics.append(AzureMetricsSource(credential=credential, endpoint=config.azure.arm_endpoint,
                                          resolver=gateway_ids_from_logs(logs, lambda: datetime.now(UTC))))
    uses_aws = config.aws.region or config.aws.log_group or any(t.aws_vpn_connection for t in config.tunnels)
    if uses_aws:
        aws.append(aws_source(config))
        metrics.append(aws_metrics(config))
    if not kql and not aws:
        raise ConfigError(f"{config.path}: no log source: set [azure] workspace_id or [aws] region and log_group, "
                          "or give --azure-export / --aws-export FILE")
    workspace = Workspace(TunnelRegistry(config.tunnels), Sources(kql, aws, metrics), config.timezone)
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
    from diagnostics.aws.sources import UnavailableSource
    from diagnostics.model import SourceError

    try:
        return CloudWatchLogsSource(config.aws.log_group, region=config.aws.region)
    except SourceError as exc:
        return UnavailableSource("CloudWatch Logs", str(exc), config.aws.log_group)


def aws_metrics(config: Config) -> MetricsSource:
    """CloudWatch AWS/VPN metrics of the configured region (boto3's chain, as for the logs)."""
    # boto3 loads only when [aws] is configured (exports and the demo never need it).
    from diagnostics.aws.metrics import CloudWatchMetricsSource

    return CloudWatchMetricsSource(region=config.aws.region)


def discover_tunnels(config: Config, workspace: Workspace) -> None:
    """Complete the configured AWS tunnels and add the other VPN connections of the region, from EC2
    describe_vpn_connections. Discovery failing is said in one line and the configured tunnels still work."""
    # boto3 loads only when [aws] is configured (exports and the demo never need it).
    from diagnostics.aws.discovery import discover, merge_discovered
    from diagnostics.model import SourceError

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
                   aws_exports: Sequence[str] = (), discover_in_background: bool = False,
                   export_tz: str | None = None, aws_stream: str = "", logs: bool = True,
                   pinned: bool = True) -> Workspace:
    """`logs` False: only the tunnels are needed (`vpnbot tunnels`), so the demo opens no log source. `pinned`
    False: `now` is the wall clock (no --now), so the demo may reuse a week built minutes ago."""
    if azure_exports or aws_exports:
        return export_workspace(azure_exports, config, aws_exports, export_tz=export_tz, aws_stream=aws_stream)
    if demo_flag or config is None:
        return demo_workspace(now, logs=logs, pinned=pinned)
    return cloud_workspace(config, discover_in_background)
