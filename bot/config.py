"""Configuration: `--config FILE`, else `$VPNBOT_CONFIG`, else `./vpnbot.toml` (docs/configuration.md).

No file at all is not an error: the commands then run on the built-in demo workspace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.schedule import ScheduleError, parse_hhmm
from diagnostics.tunnels import Tunnel, TunnelRegistry

DEFAULT_FILE = "vpnbot.toml"
AZURE_CREDENTIALS = ("default", "cli", "managed_identity", "environment", "workload_identity")


class ConfigError(ValueError):
    """The configuration cannot be used. The message names the file and what to fix."""


@dataclass(frozen=True)
class AzureSettings:
    workspace_id: str = ""
    endpoint: str = "https://api.loganalytics.io"
    credential: str = "default"
    workspace_resource_id: str = ""  # ARM id of the workspace: enables the "Open in Log Analytics" button
    arm_endpoint: str = "https://management.azure.com"  # Azure Resource Manager, for the gateways' metrics


@dataclass(frozen=True)
class AwsSettings:
    region: str = ""
    log_group: str = ""


@dataclass(frozen=True)
class SlackSettings:
    api_url: str = "https://slack.com/api/"
    admins: str = ""  # named in refusals as who can change [[channels]], e.g. "<@U0123ABCD> (network team)"
    retention_days: str = "90"  # days the state store keeps the audit rows of questions
    question_deadline_s: str = "90"  # how long one question may take: the log sources bound their calls by it
    shutdown_grace_s: str = "30"  # on SIGTERM, how long the questions already accepted may take before exit
    queue_limit: str = "1000"  # questions waiting or being answered at once; the next asker is told "busy"
    dm_tunnels: tuple[str, ...] | None = None  # the only tunnels direct messages may ask about (None: every tunnel)
    #: the token `POST /alerts/azure?token=…` must carry (VPNBOT_ALERTS_TOKEN wins; "" with neither: endpoint off)
    alerts_token: str = ""
    watch_every_s: str = "60"  # seconds between the watcher's polls while a channel watches (docs/watch.md)


@dataclass(frozen=True)
class ChannelSettings:
    id: str
    tunnels: tuple[str, ...] = ()
    timezone: str = ""  # the channel's zone: daily summaries subscribed there run on its clock ("" = the subscriber's)


@dataclass(frozen=True)
class SubscriptionSettings:
    """A [[subscriptions]] entry: `channel` gets the summary of the previous day every day at `time` in `timezone`
    (resolved at load: the entry's own, else its [[channels]] entry's, else the top-level `timezone`)."""

    channel: str
    time: str  # "HH:MM"
    timezone: str
    tunnels: tuple[str, ...] = ()  # () = every tunnel the channel may see


@dataclass(frozen=True)
class WatchSettings:
    """A [[watches]] entry: every new drop of `tunnels` (() = every tunnel the channel may see) is posted in
    `channel` by `vpnbot serve` (docs/watch.md)."""

    channel: str
    tunnels: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertRoute:
    """An [[alerts]] entry: Azure Monitor alerts `match` selects are posted in `channel` (docs/alerts.md). `match` is
    a case-insensitive glob tried on the alert rule's name, its target resource ids, its gateways and its tunnels."""

    match: str
    channel: str


@dataclass(frozen=True)
class Config:
    timezone: str = "UTC"
    state_db: str = "vpnbot.db"
    azure: AzureSettings = field(default_factory=AzureSettings)
    aws: AwsSettings = field(default_factory=AwsSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    tunnels: tuple[Tunnel, ...] = ()
    channels: tuple[ChannelSettings, ...] = ()
    subscriptions: tuple[SubscriptionSettings, ...] = ()
    alerts: tuple[AlertRoute, ...] = ()
    watches: tuple[WatchSettings, ...] = ()
    path: Path | None = None

    @property
    def registry(self) -> TunnelRegistry:
        return TunnelRegistry(self.tunnels)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


#: A PostgreSQL URL (or a path) that wins over the configuration's state_db: the URL may carry a password here.
STATE_URL_ENV = "VPNBOT_STATE_URL"


def state_location(config: Config | None, environ: Mapping[str, str] = os.environ) -> str:
    """The state store to open: $VPNBOT_STATE_URL, else the configuration's state_db (a SQLite path, or a
    postgresql:// URL), else ./vpnbot.db."""
    return environ.get(STATE_URL_ENV, "").strip() or (config.state_db if config else "vpnbot.db")


def _state_db(value: Any, where: str) -> str:
    """state_db as given, unless it is a PostgreSQL URL with a password (which belongs in PGPASSWORD, ~/.pgpass or a
    libpq service file, not in a file people copy around)."""
    text = str(value)
    if text.strip().lower().startswith(("postgresql://", "postgres://")):
        from bot.state.location import has_password, redact  # lazy load: only for a PostgreSQL store

        if has_password(text):
            raise ConfigError(f"{where}: state_db {redact(text)!r} has a password: remove it and use PGPASSWORD, "
                              "~/.pgpass or a libpq service file (postgresql:///?service=vpnbot) instead")
    return text


def names_state_db(config: Config) -> bool:
    """Whether the configuration file sets `state_db` itself (Config fills in the default either way)."""
    if config.path is None:
        return False
    import tomllib  # lazy load: only with a configuration file (the demo reads none)

    try:
        return "state_db" in tomllib.loads(config.path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):  # it was read a moment ago; a file changed since says nothing
        return False


def find_config_file(explicit: str | None, environ: Mapping[str, str] = os.environ) -> Path | None:
    """The file to read, or None when there is none (then the demo workspace is used)."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{explicit}: no such configuration file")
        return path
    if environ.get("VPNBOT_CONFIG"):
        path = Path(environ["VPNBOT_CONFIG"])
        if not path.is_file():
            raise ConfigError(f"{path}: no such configuration file (from VPNBOT_CONFIG)")
        return path
    local = Path(DEFAULT_FILE)
    return local if local.is_file() else None


def load_config(path: Path) -> Config:
    import tomllib  # lazy load: only with a configuration file (the demo reads none)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    return config_from_mapping(data, path)


def config_from_mapping(data: Mapping[str, Any], path: Path | None = None) -> Config:
    where = str(path) if path else "configuration"
    timezone = str(data.get("timezone", "UTC"))
    check_zone(timezone, where)
    azure = AzureSettings(**_section(data, "azure", AzureSettings, where))
    if azure.credential not in AZURE_CREDENTIALS:
        raise ConfigError(
            f"{where}: [azure] credential = {azure.credential!r} is not one of {', '.join(AZURE_CREDENTIALS)}"
        )
    tunnels = []
    for index, entry in enumerate(data.get("tunnels", []), 1):
        try:
            tunnels.append(Tunnel.from_mapping(entry))
        except (ValueError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{where}: [[tunnels]] entry {index}: {exc}") from None
    names = [t.name.lower() for t in tunnels]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{where}: tunnel names must be unique: {', '.join(duplicates)}")
    channels = tuple(_channel(c, where) for c in data.get("channels", []))
    registry = TunnelRegistry(tunnels) if tunnels and not data.get("aws") else None  # AWS discovery adds names
    subscriptions = _subscriptions(data.get("subscriptions", []), channels, timezone, registry, where)
    return Config(
        timezone=timezone,
        state_db=_state_db(data.get("state_db", "vpnbot.db"), where),
        azure=azure,
        aws=AwsSettings(**_section(data, "aws", AwsSettings, where)),
        slack=_slack(data, registry, where),
        tunnels=tuple(tunnels),
        channels=channels,
        subscriptions=subscriptions,
        alerts=_alert_routes(data.get("alerts", []), where),
        watches=_watches(data.get("watches", []), channels, registry, where),
        path=path,
    )


def _channel(entry: Mapping[str, Any], where: str) -> ChannelSettings:
    channel = ChannelSettings(id=str(entry.get("id", "")), tunnels=tuple(entry.get("tunnels", ())),
                              timezone=str(entry.get("timezone", "")))
    if channel.timezone:
        check_zone(channel.timezone, f"{where}: [[channels]] id = {channel.id!r}: timezone")
    return channel


def _slack(data: Mapping[str, Any], registry: TunnelRegistry | None, where: str) -> SlackSettings:
    """[slack]; its `dm_tunnels` is a list of tunnel names (or aliases: their tunnels' names), checked now."""
    values: dict[str, Any] = dict(_section(data, "slack", SlackSettings, where))
    if "dm_tunnels" in values:
        value = data["slack"]["dm_tunnels"]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: [slack] dm_tunnels must be a list of tunnel names, "
                              'e.g. dm_tunnels = ["paris"]')
        try:
            values["dm_tunnels"] = tuple(registry.resolve(v).name if registry is not None else v for v in value)
        except LookupError as exc:  # UnknownTunnel / AmbiguousTunnel, with the closest names
            raise ConfigError(f"{where}: [slack] dm_tunnels: {exc}") from None
    return SlackSettings(**values)


def _alert_routes(entries: Any, where: str) -> tuple[AlertRoute, ...]:
    """[[alerts]]: each needs a channel and a match (a glob; "*" takes every alert), checked at start."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f'{where}: alerts must be [[alerts]] tables, e.g. [[alerts]] match = "VPNGW01" '
                          'channel = "C0123ABCD" (the token is [slack] alerts_token or VPNBOT_ALERTS_TOKEN)')
    routes = []
    for index, entry in enumerate(entries, 1):
        unknown = sorted(set(entry) - {"match", "channel"})
        if unknown:
            raise ConfigError(f"{where}: [[alerts]] entry {index}: unknown keys {', '.join(unknown)} "
                              "(known: channel, match)")
        match, channel = str(entry.get("match", "")).strip(), str(entry.get("channel", "")).strip()
        if not match or not channel:
            raise ConfigError(f'{where}: [[alerts]] entry {index} needs match and channel, e.g. match = "*" '
                              'channel = "C0123ABCD"')
        routes.append(AlertRoute(match, channel))
    return tuple(routes)


_SUBSCRIPTION_KEYS = {"channel", "time", "tunnels", "timezone"}


def _subscriptions(entries: Any, channels: tuple[ChannelSettings, ...], default_zone: str,
                   registry: TunnelRegistry | None, where: str) -> tuple[SubscriptionSettings, ...]:
    """[[subscriptions]] checked now, so a typo fails `vpnbot serve` at start rather than silently at 09:00."""
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: subscriptions must be [[subscriptions]] tables")
    zones = {c.id: c.timezone for c in channels if c.timezone}
    limits = {c.id: {t.lower() for t in c.tunnels} for c in channels if c.id and c.tunnels}
    out: list[SubscriptionSettings] = []
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: [[subscriptions]] entry {index} must be a table")
        channel = str(entry.get("channel", "")).strip()
        label = f"{where}: [[subscriptions]] entry {index}" + (f" (channel {channel})" if channel else "")
        unknown = sorted(set(entry) - _SUBSCRIPTION_KEYS)
        if unknown:
            known = ", ".join(sorted(_SUBSCRIPTION_KEYS))
            raise ConfigError(f"{label}: unknown keys {', '.join(unknown)} (known: {known})")
        if not channel:
            raise ConfigError(f'{label}: needs a channel id, e.g. channel = "C0123ABCD"')
        if any(s.channel == channel for s in out):
            raise ConfigError(f"{label}: channel {channel} has two [[subscriptions]] entries; keep one")
        try:
            at = parse_hhmm(str(entry.get("time", "")))
        except ScheduleError as exc:
            raise ConfigError(f"{label}: time {exc}") from None
        zone = str(entry.get("timezone") or zones.get(channel) or default_zone)
        check_zone(zone, f"{label}: timezone")
        tunnels = _channel_tunnels(entry.get("tunnels", "all"), registry, limits.get(channel), label)
        out.append(SubscriptionSettings(channel, at.strftime("%H:%M"), zone, tunnels))
    return tuple(out)


def _watches(entries: Any, channels: tuple[ChannelSettings, ...], registry: TunnelRegistry | None,
             where: str) -> tuple[WatchSettings, ...]:
    """[[watches]] checked now: a channel and "all" or tunnel names (within its [[channels]] tunnels)."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f'{where}: watches must be [[watches]] tables, e.g. [[watches]] channel = "C0123ABCD" '
                          'tunnels = "all"')
    limits = {c.id: {t.lower() for t in c.tunnels} for c in channels if c.id and c.tunnels}
    out: list[WatchSettings] = []
    for index, entry in enumerate(entries, 1):
        channel = str(entry.get("channel", "")).strip()
        label = f"{where}: [[watches]] entry {index}" + (f" (channel {channel})" if channel else "")
        unknown = sorted(set(entry) - {"channel", "tunnels"})
        if unknown:
            raise ConfigError(f"{label}: unknown keys {', '.join(unknown)} (known: channel, tunnels)")
        if not channel:
            raise ConfigError(f'{label}: needs a channel id, e.g. channel = "C0123ABCD"')
        if any(w.channel == channel for w in out):
            raise ConfigError(f"{label}: channel {channel} has two [[watches]] entries; keep one")
        tunnels = _channel_tunnels(entry.get("tunnels", "all"), registry, limits.get(channel), label)
        out.append(WatchSettings(channel, tunnels))
    return tuple(out)


def _channel_tunnels(value: Any, registry: TunnelRegistry | None, allowed: set[str] | None,
                     label: str) -> tuple[str, ...]:
    """An entry's tunnels (`_subscription_tunnels`), all within its channel's [[channels]] tunnels (`allowed`)."""
    tunnels = _subscription_tunnels(value, registry, label)
    outside = [t for t in tunnels if allowed is not None and t.lower() not in allowed]
    if outside:
        raise ConfigError(f"{label}: {', '.join(outside)} not in this channel's [[channels]] tunnels "
                          f"({', '.join(sorted(allowed or ()))})")
    return tunnels


def _subscription_tunnels(value: Any, registry: TunnelRegistry | None, label: str) -> tuple[str, ...]:
    """"all" (or none given) → (); a list of names or aliases → the tunnels' names."""
    if isinstance(value, str):
        value = [] if value.strip().lower() in ("all", "") else [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{label}: tunnels must be "all" or a list of tunnel names, e.g. tunnels = ["paris"]')
    if registry is None:
        return tuple(value)
    names: list[str] = []
    for reference in value:
        try:
            name = registry.resolve(reference).name
        except LookupError as exc:  # UnknownTunnel / AmbiguousTunnel, with the closest names
            raise ConfigError(f"{label}: {exc}") from None
        if name not in names:
            names.append(name)
    return tuple(names)


def _section(data: Mapping[str, Any], name: str, cls: type, where: str) -> dict[str, str]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(
            f"{where}: [{name}] has unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return {k: str(v) for k, v in section.items()}


def check_zone(name: str, where: str = "--tz") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {name!r} (use an IANA name such as Europe/Paris)") from None
