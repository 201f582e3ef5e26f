"""What a bundle is built from: one answered question as the state store keeps it.

A bundle is always built from the stored form (the JSON answer, schema 1, and the queries as run, with their
ranges), whether the question was answered a second ago or last week in Slack: one path, so `vpnbot evidence
--question …` and a later `vpnbot evidence --id N` give the same files, and nothing in a bundle depends on state
that was never stored. The rows themselves are not stored; they are re-read with the stored queries (rows.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from diagnostics.model import QueryRecord
from diagnostics.tunnels import Tunnel

#: ARM resource types, for the resource ids support asks for first.
GATEWAY_TYPE = "Microsoft.Network/virtualNetworkGateways"
CONNECTION_TYPE = "Microsoft.Network/connections"
#: A VPN gateway's ARM id as AzureDiagnostics logs it (`ResourceId`, upper-cased; `_ResourceId`, lower-cased).
LOGGED_GATEWAY_ID = re.compile(r"^/subscriptions/(?P<subscription>[^/]+)/resourcegroups/(?P<group>[^/]+)/providers/"
                               r"microsoft\.network/virtualnetworkgateways/(?P<name>[^/]+)/?$", re.IGNORECASE)
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


@dataclass(frozen=True)
class EvidenceRecord:
    """One stored investigation."""

    investigation_id: int
    question: str
    asked_at: str  # ISO 8601 UTC, as stored
    asked_by: str  # Slack user id, or the local user for the CLI
    channel: str  # Slack channel id; "" for the CLI
    source: str  # slash | mention | dm | button | cli
    answer: Mapping[str, Any]  # the JSON answer, schema 1 (findings may carry their `rule`)
    queries: tuple[QueryRecord, ...]
    tunnel: Tunnel | None = None  # as configured now; None for an answer without a tunnel (point-to-site)

    @property
    def provider(self) -> str:
        tunnel = self.answer.get("tunnel") or {}
        if self.tunnel is not None and self.tunnel.azure_gateway and self.tunnel.aws_vpn_connection:
            return "link"
        return str(tunnel.get("provider") or (self.tunnel.provider if self.tunnel else "azure"))

    @property
    def findings(self) -> list[Mapping[str, Any]]:
        return list(self.answer.get("findings") or [])

    @property
    def primary(self) -> Mapping[str, Any] | None:
        findings = self.findings
        return findings[0] if findings else None

    @property
    def tunnel_name(self) -> str:
        if self.tunnel is not None:
            return self.tunnel.name
        return str((self.answer.get("tunnel") or {}).get("name") or "")


def tunnel_entry(tunnel: Tunnel) -> dict[str, Any]:
    """The tunnel as a configuration entry (`[[tunnels]]`), before redaction: identifiers and extras."""
    entry: dict[str, Any] = {"name": tunnel.name}
    if tunnel.aliases:
        entry["aliases"] = list(tunnel.aliases)
    entry.update(tunnel.identifiers)
    for key, value in tunnel.extra.items():
        entry.setdefault(str(key), _plain(value))
    return entry


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def tunnel_from_answer(doc: Mapping[str, Any] | None) -> Tunnel | None:
    """The tunnel as the answer named it, for an investigation whose tunnel is no longer configured."""
    if not doc or not doc.get("name"):
        return None
    return Tunnel(
        name=str(doc["name"]),
        azure_gateway=str(doc.get("azure_gateway", "")),
        azure_remote_ip=str(doc.get("azure_remote_ip", "")),
        azure_resource_group=str(doc.get("azure_resource_group", "")),
        azure_subscription=str(doc.get("azure_subscription", "")),
        aws_vpn_connection=str(doc.get("aws_vpn_connection", "")),
        aws_outside_ips=tuple(str(ip) for ip in doc.get("aws_outside_ips", ())),
    )


def arm_id(subscription: str, resource_group: str, resource_type: str, name: str) -> str:
    """An ARM resource id, or "" when a part is unknown (a guessed id would send support to the wrong resource)."""
    if not (subscription and resource_group and name):
        return ""
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{resource_type}/{name}"


@dataclass(frozen=True)
class TimelineEntry:
    time: str  # ISO 8601 Z
    source: str
    text: str
    cited_by: tuple[str, ...] = ()  # the causes whose evidence this row is


@dataclass
class Identifiers:
    """The tunnel's identifiers for support, from the configuration and from the rows re-read (a resource group
    the configuration does not name is in every AzureDiagnostics row)."""

    subscription: str = ""
    resource_group: str = ""
    gateway: str = ""
    gateway_id: str = ""
    connection: str = ""
    connection_id: str = ""
    remote_ip: str = ""
    vpn_connection: str = ""
    outside_ips: list[str] = field(default_factory=list)
    log_streams: list[str] = field(default_factory=list)


def logged_gateway(observed: Mapping[str, Sequence[str]], gateway: str) -> tuple[str, str]:
    """(subscription, resource group) of `gateway` from the resource ids its rows carry (the tunnel query's summary
    row has one), or ("", "") unless exactly one resource of that name was logged: a guess would send support to the
    wrong resource. The subscription id is a GUID, shown lower-case as the portal shows it."""
    found = {(m["subscription"].lower() if GUID.match(m["subscription"]) else m["subscription"], m["group"])
             for column in ("ResourceId", "_ResourceId") for value in observed.get(column, ())
             if (m := LOGGED_GATEWAY_ID.match(value)) and gateway and m["name"].lower() == gateway.lower()}
    return next(iter(found)) if len({(sub.lower(), group.lower()) for sub, group in found}) == 1 else ("", "")


def identifiers(record: EvidenceRecord, observed: Mapping[str, Sequence[str]]) -> Identifiers:
    """What the configuration says, then what the rows re-read say where it says nothing (configuration wins)."""
    doc = record.answer.get("tunnel") or {}
    tunnel = record.tunnel
    extra = tunnel.extra if tunnel is not None else {}

    def pick(attr: str, column: str = "", logged: str = "") -> str:
        value = str(getattr(tunnel, attr, "") or doc.get(attr, "") or "")
        if not value and column and len(observed.get(column, ())) == 1:
            value = observed[column][0]
        return value or logged

    gateway = pick("azure_gateway")
    subscription, group = logged_gateway(observed, gateway)
    ids = Identifiers(
        subscription=pick("azure_subscription", "SubscriptionId", subscription),
        resource_group=pick("azure_resource_group", "ResourceGroup", group),
        gateway=gateway,
        connection=str(extra.get("azure_connection", "") or ""),
        remote_ip=pick("azure_remote_ip"),
        vpn_connection=pick("aws_vpn_connection"),
    )
    outside = list(tunnel.aws_outside_ips) if tunnel is not None else [str(ip) for ip in doc.get("aws_outside_ips", ())]
    streams = list(observed.get("logStreamName", ()))
    # <vpn id>-<outside ip>-<suffix>: the outside IPs the logs show (docs/sources.md#aws-log-fields)
    for stream in streams:
        rest = stream[len(ids.vpn_connection) + 1:] if ids.vpn_connection and stream.startswith(ids.vpn_connection) \
            else ""
        ip = rest.split("-", 1)[0]
        if ip and ip not in outside:
            outside.append(ip)
    ids.outside_ips = outside
    ids.log_streams = streams
    ids.gateway_id = arm_id(ids.subscription, ids.resource_group, GATEWAY_TYPE, ids.gateway)
    ids.connection_id = arm_id(ids.subscription, ids.resource_group, CONNECTION_TYPE, ids.connection)
    return ids


def timeline(answer: Mapping[str, Any]) -> list[TimelineEntry]:
    """The drops and every evidence row of every finding, once each, in time order, with the causes citing it."""
    cited: dict[tuple[str, str, str], list[str]] = {}
    for finding in answer.get("findings") or []:
        for ev in finding.get("evidence") or []:
            key = (str(ev.get("time", "")), str(ev.get("source", "")), str(ev.get("text", "")))
            causes = cited.setdefault(key, [])
            if finding.get("cause") and finding["cause"] not in causes:
                causes.append(str(finding["cause"]))
    for n, drop in enumerate(answer.get("drops") or [], 1):
        down = f"tunnel down (drop {n})" + (f" on {drop['down_instance']}" if drop.get("down_instance") else "")
        cited.setdefault((str(drop.get("down_at", "")), "vpnbot", down), [])
        if drop.get("up_at"):
            up = f"tunnel up again (drop {n})" + (f" on {drop['up_instance']}" if drop.get("up_instance") else "")
            cited.setdefault((str(drop["up_at"]), "vpnbot", up), [])
    ordered = sorted(cited.items(), key=lambda item: (_instant(item[0][0]), item[0]))
    return [TimelineEntry(t, s, x, tuple(c)) for (t, s, x), c in ordered]


def _instant(text: str) -> float:
    """Sort key of an ISO time ("…06Z" before "…06.471Z", which a text sort gets wrong)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("inf")
