"""The traffic around a drop answer's drops, and the chart of the incident (docs/asking.md#traffic-around-a-drop).

A drop answer ("why did paris drop at 14:02") reads the tunnel's metrics over the chart's window once, after the
logs: whether traffic resumed after each reconnect and how long it really stopped (`diagnostics.traffic.drops`), and
the chart posted in the answer's thread (`incident_chart`, `render.incident_png`). Metrics that cannot be read
are one line in the answer, never a failed answer; without any metrics source configured nothing is said and the
chart shows state and markers only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from diagnostics.model import Drop, Investigation
from diagnostics.sources import Sources
from diagnostics.timeline import answered_drop
from diagnostics.traffic.drops import DropTraffic, drop_traffic, traffic_json, traffic_line
from diagnostics.traffic.model import Traffic
from diagnostics.traffic.read import metrics_interval, read_traffic
from handlers.incident_chart import IncidentChart, chart_window, incident_chart

NO_SOURCE = "no metrics source is configured"


@dataclass
class IncidentTraffic:
    """What the metrics said about an answer's drops, and the chart of them."""

    traffic: Traffic | None  # None: not read (no metrics source), or read and failed
    drops: list[tuple[Drop, DropTraffic | None]] = field(default_factory=list)
    line: str = ""  # the primary drop's traffic in one line ("" when no metrics source is configured)
    chart: IncidentChart | None = None


def incident_traffic(inv: Investigation, sources: Sources, tz: ZoneInfo) -> IncidentTraffic | None:
    """The traffic and chart of `inv`'s drops; None without a drop."""
    window = chart_window(inv)
    if window is None:
        return None
    readers = sources.metrics
    traffic: Traffic | None = None
    problem = NO_SOURCE
    if readers:
        found, failures = read_traffic(readers, [inv.tunnel], window[0], window[1], metrics_interval(*window))
        traffic = found.get(inv.tunnel.name)
        problem = "; ".join([*failures, *(traffic.failures if traffic is not None else [])])
        if traffic is not None and not traffic.readable:
            traffic = None
    per_drop = [(d, drop_traffic(d, traffic) if traffic is not None else None) for d in inv.drops]
    primary = answered_drop(inv)  # the drop the story tells too (diagnostics.chains)
    known = next((dt for d, dt in per_drop if d is primary), None)
    if known is not None:
        line = traffic_line(known, tz)
    elif readers:
        line = ("Traffic: the gateway's metrics could not be read"
                + (f" ({problem})" if problem else " (no byte counts came back)")
                + ", so whether traffic resumed after the reconnect is not known.")
    else:
        line = ""
    chart = incident_chart(inv, tz.key, traffic, no_traffic=problem or "no byte counts came back")
    return IncidentTraffic(traffic=traffic, drops=per_drop, line=line, chart=chart)


def incident_json(doc: dict[str, Any], incident: IncidentTraffic) -> None:
    """The JSON answer's additions: each drop's `traffic` (null when its metrics were not read) and `traffic_note`,
    the answer's line about it (null without a metrics source); existing keys are left as they are."""
    for out, (_, dt) in zip(doc["drops"], incident.drops, strict=False):
        out["traffic"] = traffic_json(dt) if dt is not None else None
    doc["traffic_note"] = incident.line or None
