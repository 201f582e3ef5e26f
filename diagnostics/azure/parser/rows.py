"""AzureDiagnostics rows (any category of a VPN gateway) -> `Event`.

Accepts the column variants of docs/sources.md#azure-columns: a property may be a
typed column (`remoteIP_s`) or a key inside `AdditionalFields` (once a workspace passes 500 columns);
`remoteIP_s` does not exist before a workspace logged its first tunnel event (azure-docs #77298);
`Resource` may come in any case or only inside `ResourceId`; portal CSV exports title the time column
`TimeGenerated [UTC]`; values may be typed (Log Analytics API) or all strings (`az … -o json`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from diagnostics.model import Event, EventKind, Provenance

#: Columns the bot reads, by lower-cased name. Values are the canonical spelling.
CANONICAL_COLUMNS = {
    name.lower(): name
    for name in (
        "TimeGenerated", "Category", "OperationName", "Message", "Level", "Resource", "ResourceGroup",
        "ResourceId", "_ResourceId", "SubscriptionId", "ResourceType", "instance_s", "remoteIP_s",
        "status_s", "stateChangeReason_s", "operationStatus_s", "AdditionalFields", "CorrelationId",
    )
}

#: Properties that may arrive without their type suffix (inside AdditionalFields or resource-log JSON).
PROPERTY_ALIASES = {
    "instance": "instance_s",
    "remoteip": "remoteIP_s",
    "status": "status_s",
    "statechangereason": "stateChangeReason_s",
    "operationstatus": "operationStatus_s",
    "message": "Message",
}

#: (category, operation) -> kind. Operation names are from the troubleshooting article's column tables
#: (docs/sources.md#azure-columns); matching is case-insensitive. A category-wide default applies to unlisted
#: operations.
KIND_BY_OPERATION: dict[str, dict[str, EventKind]] = {
    "tunneldiagnosticlog": {
        "tunneldisconnected": EventKind.TUNNEL_DOWN,
        "tunnelconnected": EventKind.TUNNEL_UP,
    },
    "gatewaydiagnosticlog": {
        "hostmaintenanceevent": EventKind.MAINTENANCE,
        "gatewaytenantprimarychanged": EventKind.PRIMARY_CHANGED,
        "setgatewayconfiguration": EventKind.CONFIG_CHANGE,
        "setconnectionconfiguration": EventKind.CONFIG_CHANGE,
    },
    "routediagnosticlog": {
        "bgpdisconnectedevent": EventKind.BGP_DOWN,
        "bgpconnectedevent": EventKind.BGP_UP,
    },
}
KIND_BY_CATEGORY = {
    "tunneldiagnosticlog": EventKind.OTHER,
    "gatewaydiagnosticlog": EventKind.GATEWAY,
    "routediagnosticlog": EventKind.ROUTE,
    "ikediagnosticlog": EventKind.IKE,
    "p2sdiagnosticlog": EventKind.P2S,
}
#: When a row lost its Category (some exports project it away), its operation still tells.
CATEGORY_BY_OPERATION = {
    op: category
    for category, ops in {
        "TunnelDiagnosticLog": ("tunnelconnected", "tunneldisconnected"),
        "GatewayDiagnosticLog": (
            "setgatewayconfiguration", "setconnectionconfiguration", "hostmaintenanceevent",
            "gatewaytenantprimarychanged", "migratecustomersubscription", "gatewayresourcemove",
            "validategatewayconfiguration",
        ),
        "RouteDiagnosticLog": ("staticrouteupdate", "bgprouteupdate", "bgpconnectedevent", "bgpdisconnectedevent"),
        "P2SDiagnosticLog": ("p2slogevent",),
    }.items()
    for op in ops
}
CATEGORY_NAMES = {c.lower(): c for c in (
    "TunnelDiagnosticLog", "GatewayDiagnosticLog", "RouteDiagnosticLog", "IKEDiagnosticLog", "P2SDiagnosticLog",
)}

#: docs/sources.md#azure-maintenance (jpaztech): maintenance shows as "Upgrade gateway started" in
#: GatewayDiagnosticLog's Message.
MAINTENANCE_MESSAGE = re.compile(r"upgrade gateway started", re.IGNORECASE)
IKE_REMOTE = re.compile(r"Remote (\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]+?):\d+:")
KEPT_EXTRA = ("ResourceGroup", "ResourceId", "SubscriptionId", "operationStatus_s", "Level", "CorrelationId")


class RowError(ValueError):
    """A row that cannot become an event (no readable time). The caller reports it with file and line."""


def canonical_column(name: str) -> str:
    """`TimeGenerated [UTC]` -> `TimeGenerated`, `resource` -> `Resource`; unknown names are kept."""
    base = name.strip()
    if base.endswith("]") and "[" in base:
        base = base[: base.rindex("[")].strip()
    return CANONICAL_COLUMNS.get(base.lower(), base)


PORTAL_TIME_FORMATS = ("%m/%d/%Y, %I:%M:%S.%f %p", "%m/%d/%Y, %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p",
                       "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")


def parse_time(value: Any) -> float:
    """Epoch seconds from a datetime, an epoch number (s or ms), ISO 8601 or the portal's CSV format."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value / 1000.0 if value > 1e11 else float(value)
    text = str(value or "").strip()
    if not text:
        raise RowError("no time")
    iso = text.replace("Z", "+00:00").replace("z", "+00:00")
    if "." in iso:  # Log Analytics prints 7 fractional digits; Python reads at most 6
        head, _, tail = iso.partition(".")
        digits = re.match(r"\d*", tail).group(0)
        iso = f"{head}.{digits[:6]}{tail[len(digits):]}"
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        for fmt in PORTAL_TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise RowError(f"unreadable time {text!r}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def flatten_additional_fields(value: Any) -> dict[str, str]:
    """Properties that overflowed into the dynamic `AdditionalFields` bag, under their column names."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        name = PROPERTY_ALIASES.get(key.lower(), key)
        out[canonical_column(name)] = _text(item)
    return out


def gateway_from_resource_id(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1] if resource_id else ""


def classify(category: str, operation: str, message: str) -> tuple[str, EventKind]:
    """Canonical category name and event kind of a row."""
    op = operation.lower()
    cat = category.lower() if category else CATEGORY_BY_OPERATION.get(op, "").lower()
    if not cat and "SESSION_ID" in message:
        cat = "ikediagnosticlog"
    kind = KIND_BY_OPERATION.get(cat, {}).get(op) or KIND_BY_CATEGORY.get(cat, EventKind.OTHER)
    if kind is EventKind.GATEWAY and MAINTENANCE_MESSAGE.search(message):
        kind = EventKind.MAINTENANCE
    return CATEGORY_NAMES.get(cat, category), kind


def tunnel_kind_from_status(kind: EventKind, status: str) -> EventKind:
    """TunnelDiagnosticLog rows whose OperationName is missing still carry status_s (AMC query)."""
    if kind is EventKind.OTHER and status:
        s = status.lower()
        if s == "disconnected":
            return EventKind.TUNNEL_DOWN
        if s == "connected":
            return EventKind.TUNNEL_UP
    return kind


_intern = sys.intern


def _ike_remote(message: str) -> str:
    """The peer address of an IKE row's `Remote <ip>:<port>:` envelope (docs/sources.md#azure-ike-log), without a
    regex on the hot path: a million IKE rows is a normal day for a failing tunnel."""
    at = message.find("Remote ")
    if at < 0:
        return ""
    end = message.find(":", at + 7)
    candidate = message[at + 7:end] if end > 0 else ""
    if candidate.count(".") == 3 or ":" in candidate:
        return candidate
    found = IKE_REMOTE.search(message)  # IPv6 and other unusual spellings
    return found.group(1) if found else ""


#: Columns read from every row, in the order `make_normaliser` unpacks them.
_MAIN = ("Category", "OperationName", "Message", "Resource", "ResourceId", "_ResourceId", "instance_s",
         "remoteIP_s", "status_s", "stateChangeReason_s")


def make_normaliser(columns: Sequence[str], provenance: Provenance) -> Callable[[Sequence[Any], int | None], Event]:
    """A fast row -> Event function for one result set.

    Column positions, category/operation classification, gateway names and the low-cardinality `extra` tuples
    are resolved once and cached, and the columns are picked with one C-level itemgetter, so a row costs about
    a microsecond: a failing tunnel logs a million IKE rows a day.
    """
    index = {canonical_column(c): i for i, c in enumerate(columns)}
    if "TimeGenerated" not in index:
        raise RowError("no TimeGenerated column")
    pad = len(columns)  # a missing column reads the "" appended to each row
    main = itemgetter(*(index.get(name, pad) for name in _MAIN))
    extra_names = [name for name in KEPT_EXTRA if name in index]
    extra_get = itemgetter(*(index[n] for n in extra_names), pad)  # the pad keeps the result a tuple
    i_time, i_add = index["TimeGenerated"], index.get("AdditionalFields")
    kinds: dict[tuple[str, str], tuple[str, EventKind]] = {}
    extras: dict[tuple[Any, ...], tuple[tuple[str, str], ...]] = {}
    gateways: dict[tuple[str, str, str], str] = {}

    def normalise(row: Sequence[Any], line: int | None = None) -> Event:
        padded = (*row, "")
        values = main(padded)
        if None in values:  # NULL cells; every other value of these columns is text in both backends
            values = tuple("" if v is None else _text(v) for v in values)
        category, operation, message, resource, rid, rid2, instance, remote_ip, status, reason = values
        raw_time = row[i_time]
        ts = raw_time if raw_time.__class__ is float else parse_time(raw_time)
        added = row[i_add] if i_add is not None else None
        if added:
            more = flatten_additional_fields(added)
            message = message or more.get("Message", "")
            instance = instance or more.get("instance_s", "")
            remote_ip = remote_ip or more.get("remoteIP_s", "")
            status = status or more.get("status_s", "")
            reason = reason or more.get("stateChangeReason_s", "")
        else:
            more = None
        known = kinds.get((category, operation))
        if known is None:
            known = kinds[(category, operation)] = classify(category, operation, "" if category else message)
        canonical, kind = known
        if kind is EventKind.GATEWAY and MAINTENANCE_MESSAGE.search(message):
            kind = EventKind.MAINTENANCE
        elif status and kind is EventKind.OTHER:
            kind = tunnel_kind_from_status(kind, status)
        gateway = gateways.get((resource, rid, rid2))
        if gateway is None:
            gateway = gateways[(resource, rid, rid2)] = _intern(resource or gateway_from_resource_id(rid or rid2))
        if not remote_ip and kind is EventKind.IKE:
            remote_ip = _ike_remote(message)
        picked = extra_get(padded)
        extra = extras.get(picked) if more is None else None
        if extra is None:
            extra = tuple((n, _text(v)) for n, v in zip(extra_names, picked, strict=False) if v)
            if more:
                have = {n for n, _ in extra}
                extra += tuple((k, v) for k, v in more.items() if v and k in KEPT_EXTRA and k not in have)
            else:
                extras[picked] = extra
        return Event(ts, "azure", canonical, kind, _intern(operation), gateway, message, _intern(instance),
                     _intern(remote_ip), _intern(status), reason, provenance, line, extra)

    return normalise


@dataclass(frozen=True, slots=True)
class RowLayout:
    """Where a raw row of one result keeps its time, category and message (-1: the result has no such column):
    enough to judge a bulk IKE row, in place, and decide whether it is worth normalising."""

    time: int
    category: int
    message: int

    @classmethod
    def of(cls, columns: Sequence[str]) -> RowLayout:
        index = {canonical_column(c): i for i, c in enumerate(columns)}
        if "TimeGenerated" not in index:
            raise RowError("no TimeGenerated column")
        return cls(index["TimeGenerated"], index.get("Category", -1), index.get("Message", -1))


def event_from_mapping(row: Mapping[str, Any], provenance: Provenance, line: int | None = None) -> Event:
    """Convenience for one dict row (exports, tests). Bulk paths should use `make_normaliser`."""
    columns = list(row.keys())
    return make_normaliser(columns, provenance)([row[c] for c in columns], line)
