"""What the chart of an incident shows (docs/asking.md#the-chart-of-an-incident), as data: the window around the
drops, the tunnel's state as bands, the bytes each way, and markers for maintenance, configuration changes,
negotiation failures and BGP events. `incident_png` draws it.

The chart is data first so that the picture posted in the answer's thread and the one in the evidence bundle are
drawn from the same input: the stored answer keeps `chart_json()` and a bundle draws `chart_from_json()` of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from diagnostics.azure.ike import parse_ike_message
from diagnostics.azure.ike_errors import Failure, failure_of
from diagnostics.model import Cause, Event, EventKind, Investigation, iso_z
from diagnostics.timefmt import parse_iso
from diagnostics.traffic.model import Metric, Traffic

#: Time around the drops the chart shows: at least this much before the first drop and after the last reconnect
#: (six five-minute metric values each side: enough to see what "usual" looked like and when it came back).
PAD = timedelta(minutes=30)
#: A drop still going on is shown up to "now", at most this long after it began.
STILL_DOWN_SHOWN = timedelta(hours=2)
#: Markers of one kind kept (a tunnel failing every negotiation logs thousands: they would be one smear anyway).
MAX_MARKERS = 200
#: The stored chart keeps the log line of the first few marks of each kind only (the rows are in the answer's queries
#: and a bundle's rows files): a chart of a failing tunnel stays a few kB in the state store.
MARKER_TEXT = 160
MARKERS_WITH_TEXT = 20

#: Azure IKE failures that are a negotiation failing (not the peer deleting an SA, not DPD).
NEGOTIATION_FAILURES = {Failure.AUTH, Failure.POLICY, Failure.TRAFFIC_SELECTORS, Failure.TIMED_OUT,
                        Failure.INVALID_PAYLOAD, Failure.UNSUPPORTED, Failure.NO_POLICY}
AWS_NEGOTIATION_CAUSES = {Cause.PSK_MISMATCH, Cause.IKE_PROPOSAL_MISMATCH, Cause.TRAFFIC_SELECTOR_MISMATCH,
                          Cause.PEER_UNREACHABLE}
MARKER_KINDS = ("maintenance", "config_change", "negotiation_failure", "bgp_down", "bgp_up")


@dataclass(frozen=True)
class Band:
    """A stretch of one path's state (epoch seconds)."""

    start: float
    end: float
    down: bool
    ongoing: bool = False  # still down when the chart ends


@dataclass(frozen=True)
class Path:
    """One row of bands: the tunnel (Azure), or one of an AWS connection's tunnels (its outside IP)."""

    name: str
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class ChartMarker:
    ts: float
    kind: str  # one of MARKER_KINDS
    text: str = ""


@dataclass(frozen=True)
class IncidentChart:
    tunnel: str
    provider: str  # "azure" | "aws" | "link"
    zone: str  # the asker's IANA zone: the axis is in it
    start: float
    end: float
    paths: tuple[Path, ...]
    markers: tuple[ChartMarker, ...]
    interval_s: int = 0  # the metrics' interval (0: no metrics)
    bytes_in: tuple[tuple[float, float], ...] = ()  # (interval start, bytes), as the metrics gave them
    bytes_out: tuple[tuple[float, float], ...] = ()
    no_traffic: str = ""  # why the chart has no traffic panel ("" when it has one)

    @property
    def has_traffic(self) -> bool:
        return self.interval_s > 0 and not self.no_traffic


def chart_window(inv: Investigation) -> tuple[datetime, datetime] | None:
    """The window the chart (and the metrics read for it) covers, or None without a drop to chart."""
    if not inv.drops:
        return None
    first = min(d.down_ts for d in inv.drops)
    ends = [d.up_ts if d.up_ts is not None else min(inv.now.timestamp(),
                                                    d.down_ts + STILL_DOWN_SHOWN.total_seconds())
            for d in inv.drops]
    start = datetime.fromtimestamp(first, inv.now.tzinfo) - PAD
    end = min(datetime.fromtimestamp(max(ends), inv.now.tzinfo) + PAD, inv.now)
    return start, max(end, start + 2 * PAD)


def safe_name(tunnel: str) -> str:
    """A tunnel's name as a part of a file name: letters, digits, `.`, `_` and `-` only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", tunnel).strip("-.") or "tunnel"


def incident_chart(inv: Investigation, zone: str, traffic: Traffic | None,
                   no_traffic: str = "") -> IncidentChart | None:
    """The chart of `inv`'s drops, or None when it has none. `traffic`: the metrics read over `chart_window(inv)`
    (None, or one without byte series: state and markers only, `no_traffic` saying why)."""
    window = chart_window(inv)
    if window is None:
        return None
    start, end = window[0].timestamp(), window[1].timestamp()
    paths = _paths(inv, start, end)
    markers = _markers([e for e in inv.events if start <= e.ts <= end])
    ins = traffic.get(Metric.BYTES_IN) if traffic is not None else None
    outs = traffic.get(Metric.BYTES_OUT) if traffic is not None else None
    if traffic is None or (ins is None and outs is None):
        reason = no_traffic or "; ".join(traffic.failures if traffic else []) or "no traffic metrics were read"
        return IncidentChart(inv.tunnel.name, _provider(inv), zone, start, end, paths, markers, no_traffic=reason)

    def kept(series: Any) -> tuple[tuple[float, float], ...]:
        return tuple(sorted((float(t), float(v)) for t, v in series.points if start - traffic.interval_s < t <= end)) \
            if series is not None else ()

    return IncidentChart(inv.tunnel.name, _provider(inv), zone, start, end, paths, markers,
                         interval_s=int(traffic.interval_s), bytes_in=kept(ins), bytes_out=kept(outs))


def _provider(inv: Investigation) -> str:
    tunnel = inv.tunnel
    return "link" if tunnel.azure_gateway and tunnel.aws_vpn_connection else tunnel.provider


def _paths(inv: Investigation, start: float, end: float) -> tuple[Path, ...]:
    """One row per path the drops happened on: AWS names each tunnel by its outside IP; elsewhere one row."""
    def key(drop: Any) -> str:
        return drop.down.instance if drop.down.provider == "aws" and drop.down.instance else ""

    names = sorted({key(d) for d in inv.drops})
    paths = []
    for name in names:
        bands: list[Band] = []
        cursor = start
        for drop in sorted((d for d in inv.drops if key(d) == name), key=lambda d: d.down_ts):
            down = max(drop.down_ts, start)
            up = drop.up_ts if drop.up_ts is not None else end
            if up < start or down > end:
                continue
            if down > cursor:
                bands.append(Band(cursor, down, down=False))
            bands.append(Band(down, min(up, end), down=True, ongoing=drop.up_ts is None or drop.up_ts > end))
            cursor = min(up, end)
        if cursor < end:
            bands.append(Band(cursor, end, down=False))
        label = f"tunnel {name}" if name else "tunnel"
        paths.append(Path(label, tuple(bands)))
    return tuple(paths)


def marker_kind(event: Event) -> str | None:
    """What mark a log row gets on the chart, if any."""
    kind = event.kind
    if kind is EventKind.MAINTENANCE:
        return "maintenance"
    if kind is EventKind.CONFIG_CHANGE:
        return "config_change"
    if kind is EventKind.BGP_DOWN:
        return "bgp_down"
    if kind is EventKind.BGP_UP:
        return "bgp_up"
    if kind is not EventKind.IKE:
        return None
    if event.provider == "aws":
        from diagnostics.rules.aws_messages import classify  # lazy load: AWS's message table, for AWS rows only

        rule = classify(event)
        return "negotiation_failure" if rule is not None and rule.cause in AWS_NEGOTIATION_CAUSES else None
    return "negotiation_failure" if failure_of(parse_ike_message(event.message)) in NEGOTIATION_FAILURES else None


def _markers(events: list[Event]) -> tuple[ChartMarker, ...]:
    found: dict[str, list[ChartMarker]] = {}
    for event in events:
        kind = marker_kind(event)
        if kind is not None:
            found.setdefault(kind, []).append(ChartMarker(round(event.ts, 3), kind, event.text()[:MARKER_TEXT]))
    kept: list[ChartMarker] = []
    for marks in found.values():
        if len(marks) > MAX_MARKERS:  # evenly thinned: the smear keeps its extent
            step = len(marks) / MAX_MARKERS
            marks = [marks[int(i * step)] for i in range(MAX_MARKERS)]
        kept += [m if i < MARKERS_WITH_TEXT else ChartMarker(m.ts, m.kind) for i, m in enumerate(marks)]
    return tuple(sorted(kept, key=lambda m: (m.ts, m.kind, m.text)))


# --- stored form ---------------------------------------------------------------------------------------------


def chart_json(chart: IncidentChart) -> dict[str, Any]:
    """The chart's input as the stored answer keeps it (`chart`), so a bundle draws the same picture."""
    return {
        "tunnel": chart.tunnel, "provider": chart.provider, "zone": chart.zone,
        "start": iso_z(chart.start), "end": iso_z(chart.end),
        "paths": [{"name": p.name, "bands": [{"start": iso_z(b.start), "end": iso_z(b.end), "down": b.down,
                                               "ongoing": b.ongoing} for b in p.bands]} for p in chart.paths],
        "markers": [{"time": iso_z(m.ts), "kind": m.kind, "text": m.text} for m in chart.markers],
        "interval_s": chart.interval_s,
        "bytes_in": [[iso_z(t), v] for t, v in chart.bytes_in],
        "bytes_out": [[iso_z(t), v] for t, v in chart.bytes_out],
        "no_traffic": chart.no_traffic or None,
    }


def chart_from_json(doc: Mapping[str, Any]) -> IncidentChart:
    """The chart a stored answer's `chart` describes; ValueError when it is not one."""
    def ts(value: Any) -> float:
        parsed = parse_iso(value)
        if parsed is None:
            raise ValueError(f"not a time: {value!r}")
        return parsed.timestamp()

    return IncidentChart(
        tunnel=str(doc["tunnel"]), provider=str(doc.get("provider") or ""), zone=str(doc.get("zone") or "UTC"),
        start=ts(doc["start"]), end=ts(doc["end"]),
        paths=tuple(Path(str(p["name"]), tuple(Band(ts(b["start"]), ts(b["end"]), bool(b["down"]),
                                                    bool(b.get("ongoing"))) for b in p["bands"]))
                    for p in doc.get("paths") or []),
        markers=tuple(ChartMarker(ts(m["time"]), str(m["kind"]), str(m.get("text") or ""))
                      for m in doc.get("markers") or []),
        interval_s=int(doc.get("interval_s") or 0),
        bytes_in=tuple((ts(t), float(v)) for t, v in doc.get("bytes_in") or []),
        bytes_out=tuple((ts(t), float(v)) for t, v in doc.get("bytes_out") or []),
        no_traffic=str(doc.get("no_traffic") or ""),
    )
