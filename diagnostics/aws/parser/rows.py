"""AWS Site-to-Site VPN log events -> `Event`s.

Two event shapes arrive in the tunnel log group (docs/sources.md#aws-log-fields, docs/sources.md#aws-bgp-status):

* tunnel activity (IKE/IPsec/DPD): `details`, `ike_phase1_state`, `ike_phase2_state`, `dpd_enabled`,
  `nat_t_detected`, `event_timestamp`, `timestamp` (the real JSON keys the current page maps its labels to), or
  the documentation's labels (`VpnLogDetail`, `TunnelIKEPhase1State`, ...; earlier versions of the page listed
  only these), which a deployment may really emit;
* BGP (`resource_id`, `type` BGPStatus|RouteStatus, `status`, nested `message.details`).

What is uncertain is accepted in every form the sources allow: state values in any case (`down` on the wire,
`Down` in the docs), booleans as `true` or `"True"`, `event_timestamp` in seconds or milliseconds (the sample
Lambda's arithmetic needs seconds, the BGP example is in ms), a readable `timestamp` with or without
fractions. The VPN connection id and the outside IP come from the stream name (docs/sources.md#aws-log-fields:
the event body has neither), else from `resource_id` (BGP) or the legacy `VpnConnectionId`/`TunnelOutsideIPAddress`
labels.

Every row is an `EventKind.IKE` (tunnel activity), `ROUTE` (RouteStatus) or `OTHER` (BGPStatus) event here;
which rows are state *changes* depends on the rows before them, so `aws.timeline` decides that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from diagnostics.aws.streams import parse_stream_name
from diagnostics.model import Event, EventKind, Provenance

#: event_timestamp above this is milliseconds (1e12 ms is 2001; 1e12 s is the year 33658).
MS_THRESHOLD = 1e11


class LogRecord(NamedTuple):
    """One CloudWatch Logs event as `filter_log_events` returns it."""

    stream: str  # logStreamName
    timestamp: int  # CloudWatch event timestamp, epoch ms
    message: str  # the tunnel log JSON
    line: int | None = None  # line in an export file, for error reports


class ParseError(ValueError):
    """A log event that is not a tunnel or BGP log record."""


#: Canonical key -> every spelling seen (compared lower-case): the real JSON keys first, the documentation's
#: labels after (docs/sources.md#aws-log-fields).
KEY_ALIASES: dict[str, tuple[str, ...]] = {
    "details": ("details", "vpnlogdetail"),
    "ike_phase1_state": ("ike_phase1_state", "tunnelikephase1state"),
    "ike_phase2_state": ("ike_phase2_state", "tunnelikephase2state"),
    "dpd_enabled": ("dpd_enabled", "tunneldpdenabled"),
    "nat_t_detected": ("nat_t_detected", "tunnelcgwnattdetectionstatus"),
    "event_timestamp": ("event_timestamp", "vpnlogcreationtimestamp"),
    "timestamp": ("timestamp", "vpnlogcreationtimestampreadable"),
    "vpn_connection": ("vpnconnectionid", "vpn_connection_id"),
    "outside_ip": ("tunneloutsideipaddress", "tunnel_outside_ip_address"),
}
_LOOKUP = {alias: key for key, aliases in KEY_ALIASES.items() for alias in aliases}

#: Phase states that mean the phase is usable: traffic flows while an SA is rekeyed.
UP_STATES = frozenset({"established", "rekeying", "up"})
DOWN_STATES = frozenset({"down"})


def parse_time(value: Any) -> float:
    """Epoch seconds from epoch s/ms (number or digits) or a readable UTC time (`2025-11-08 05:40:29.641Z`)."""
    if value is None or value == "":
        raise ParseError("no time")
    if isinstance(value, bool):
        raise ParseError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            return _parse_readable(text)
    return number / 1000.0 if number > MS_THRESHOLD else number


def _parse_readable(text: str) -> float:
    cleaned = text.replace(" UTC", "Z").replace("z", "Z")
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ParseError(f"unreadable time {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the docs write these in UTC
    return moment.timestamp()


def state(value: Any) -> str:
    """`Down`, `DOWN`, ` down ` -> `down`; missing -> ``."""
    return str(value).strip().lower() if value is not None else ""


def flag(value: Any) -> str:
    """`true`, `"True"`, `1` -> `true`; `false`, `"False"` -> `false`; missing -> ``."""
    if value is None or value == "":
        return ""
    return "true" if str(value).strip().lower() in ("true", "1", "yes", "enabled") else "false"


#: Unreadable events named one by one in a note, at most; the rest are counted.
MAX_PROBLEMS_SHOWN = 3


@dataclass
class ParsedRecords:
    events: list[Event] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # `where: reason` per unreadable record

    def problems_note(self, label: str) -> str | None:
        """One line for the answer's notes about the events that could not be read, None when all were."""
        if not self.problems:
            return None
        shown = "; ".join(self.problems[:MAX_PROBLEMS_SHOWN])
        more = len(self.problems) - MAX_PROBLEMS_SHOWN
        return (f"{label}: {len(self.problems)} events could not be read and were skipped "
                f"({shown}{f'; … {more} more' if more > 0 else ''}).")


def canonical(document: Mapping[str, Any]) -> dict[str, Any]:
    """Keys folded to the canonical names of KEY_ALIASES (others kept lower-cased)."""
    out: dict[str, Any] = {}
    for key, value in document.items():
        lowered = str(key).lower()
        out.setdefault(_LOOKUP.get(lowered, lowered), value)
    return out


def parse_record(record: LogRecord, provenance: Provenance | None) -> Event:
    """One CloudWatch event -> one `Event`. Raises ParseError when the message is not a VPN log record."""
    try:
        document = json.loads(record.message)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"message is not JSON ({exc.__class__.__name__}); text output format is not supported, "
                         "set the tunnel's LogOutputFormat to json") from None
    if not isinstance(document, dict):
        raise ParseError("message is not a JSON object")
    fields = canonical(document)
    stream = parse_stream_name(record.stream) if record.stream else None
    if "resource_id" in fields or ("type" in fields and "status" in fields):
        return _bgp_event(fields, record, stream, provenance)
    return _tunnel_event(fields, record, stream, provenance)


def _when(fields: Mapping[str, Any], record: LogRecord) -> float:
    for key in ("event_timestamp", "timestamp"):
        if fields.get(key) not in (None, ""):
            try:
                return parse_time(fields[key])
            except ParseError:
                continue
    if record.timestamp:
        return record.timestamp / 1000.0
    raise ParseError("no readable event_timestamp, timestamp or CloudWatch timestamp")


def _tunnel_event(fields: Mapping[str, Any], record: LogRecord, stream: Any, provenance: Provenance | None) -> Event:
    phase1, phase2 = state(fields.get("ike_phase1_state")), state(fields.get("ike_phase2_state"))
    details = str(fields.get("details") or "").strip()
    if not details and not phase1 and not phase2:
        raise ParseError("neither details nor IKE phase states: not a tunnel activity record")
    connection = stream.vpn_connection if stream else str(fields.get("vpn_connection", "")).lower()
    # A stream that is a connection id alone (an attributed file, diagnostics/aws/attribution.py) knows no tunnel.
    outside_ip = (stream.outside_ip if stream else "") or str(fields.get("outside_ip", "")).lower()
    states = f"[phase 1 {phase1 or '?'}, phase 2 {phase2 or '?'}]"
    extra = [("ike_phase1_state", phase1), ("ike_phase2_state", phase2)]
    for key in ("dpd_enabled", "nat_t_detected"):
        if (value := flag(fields.get(key))):
            extra.append((key, value))
    return Event(
        ts=_when(fields, record),
        provider="aws",
        category=record.stream or connection,
        kind=EventKind.IKE,
        operation="",
        gateway=connection,
        message=f"{details} {states}" if details else states,
        instance=outside_ip,
        provenance=provenance,
        line=record.line,
        extra=tuple(extra),
    )


def _bgp_event(fields: Mapping[str, Any], record: LogRecord, stream: Any, provenance: Provenance | None) -> Event:
    kind_name = str(fields.get("type") or "").strip()
    status = str(fields.get("status") or "").strip().upper()
    message = fields.get("message")
    if isinstance(message, str):
        try:
            message = json.loads(message)
        except ValueError:
            message = {"details": message}
    details = str(message.get("details", "")) if isinstance(message, dict) else ""
    resource = parse_stream_name(str(fields.get("resource_id", "")))
    where = stream if stream is not None and (stream.outside_ip or resource is None) else resource
    extra = [("type", kind_name), ("status", status)]
    if isinstance(message, dict):
        extra += [(str(k), str(v)) for k, v in message.items() if k != "details" and v not in (None, "")]
    if kind_name.lower() == "routestatus":
        prefix = message.get("prefix", "") if isinstance(message, dict) else ""
        details = " ".join(p for p in (str(prefix), details) if p)
    return Event(
        ts=_when(fields, record),
        provider="aws",
        category=record.stream or str(fields.get("resource_id", "")),
        kind=EventKind.ROUTE if kind_name.lower() == "routestatus" else EventKind.OTHER,
        operation=kind_name or "BGP",
        gateway=where.vpn_connection if where else "",
        message=details,
        instance=where.outside_ip if where else "",
        status=status,
        provenance=provenance,
        line=record.line,
        extra=tuple(extra),
    )


def is_bgp(event: Event) -> bool:
    return event.operation.lower() in ("bgpstatus", "routestatus")


def phases(event: Event) -> tuple[str, str]:
    """(phase 1 state, phase 2 state) of a tunnel activity event."""
    return event.get("ike_phase1_state"), event.get("ike_phase2_state")


def tunnel_state(event: Event) -> str:
    """`down` when either phase is down, `up` when both are usable, `` otherwise (negotiating, unknown)."""
    phase1, phase2 = phases(event)
    if phase1 in DOWN_STATES or phase2 in DOWN_STATES:
        return "down"
    if phase1 in UP_STATES and phase2 in UP_STATES:
        return "up"
    return ""


def parse_records(records: Iterable[LogRecord], provenance: Provenance | None, where: str = "") -> ParsedRecords:
    """Parse every record; an unreadable one is reported (`file:line` for exports, else the stream) and skipped."""
    out = ParsedRecords()
    for record in records:
        try:
            out.events.append(parse_record(record, provenance))
        except ParseError as exc:
            place = f"{where}:{record.line}" if where and record.line else f"{record.stream or where}"
            out.problems.append(f"{place}: {exc}; event skipped")
    return out


def iter_events(records: Iterable[LogRecord], provenance: Provenance | None) -> Iterator[Event]:
    """Parse lazily, silently skipping what is not a VPN log record (the benchmark's fast path)."""
    for record in records:
        try:
            yield parse_record(record, provenance)
        except ParseError:
            continue
