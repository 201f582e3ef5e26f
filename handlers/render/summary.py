"""The daily summary as text (terminal, Slack fallback) and JSON (the contract in docs/summaries.md); Block Kit is
in `summary_blocks`, the picture in `timeline_png`.

Troubled tunnels come first, one line each with what someone on call needs to decide whether to look further:
uptime, drops, downtime, the causes grouped ("2 × maintenance_failover"), flapping, AWS exposure and how the day
compares with the week before. Healthy tunnels share one line: 900 quiet tunnels must not bury the one that
dropped. Tunnels without a single log row are troubled, not healthy: logging broken is not a healthy tunnel.
"""

from __future__ import annotations

from typing import Any

from diagnostics.model import iso_z
from diagnostics.summary.model import DaySummary, TunnelDay
from diagnostics.timefmt import duration_text
from diagnostics.traffic.drops import human_bytes

#: Healthy tunnels named on their shared line before "… and N more".
HEALTHY_NAMED = 40


def summary_title(summary: DaySummary) -> str:
    return f"VPN tunnels on {summary.day.strftime('%A %d %B %Y')} ({summary.zone})"


def counts_line(summary: DaySummary) -> str:
    tunnels = summary.tunnels
    dropped = sum(1 for t in tunnels if t.drops or t.downtime_s)
    silent = sum(1 for t in tunnels if t.no_logs)
    healthy = sum(1 for t in tunnels if not t.troubled)
    hours = round((summary.end - summary.start).total_seconds() / 3600, 2)
    span = "" if hours == 24 else f" ({hours:g} h{' so far' if hours < 23 else ', a daylight-saving change day'})"
    return (f"{len(tunnels)} tunnel{'s' if len(tunnels) != 1 else ''}{span}: {dropped} with drops or downtime, "
            f"{silent} without logs, {healthy} healthy.")


def causes_text(causes: dict[str, int]) -> str:
    return ", ".join(f"{n} × {code}" for code, n in causes.items())


def tunnel_line(t: TunnelDay) -> str:
    """One troubled tunnel, e.g. `nice: 99.97 % up · 2 drops · 26 s down (longest 13 s) · 2 × maintenance_failover
    · usually 0.17 drops a day`."""
    if t.no_logs:
        return (f"{t.name}: no logs at all ({t.provider}): logging is broken or the tunnel is not configured "
                "where the bot looks, so its health is unknown")
    parts = [f"{t.uptime_pct:g} % up", f"{t.drops} drop{'s' if t.drops != 1 else ''}"]
    if t.downtime_s:
        parts.append(f"{duration_text(t.downtime_s)} down (longest {duration_text(t.longest_outage_s)})")
    if any(o.ongoing for o in t.outages):
        parts.append("still down at the end of the period")
    if t.causes:
        parts.append(causes_text(t.causes))
    if t.flapping:
        parts.append("flapping")
    if t.exposure_s:
        parts.append(f"{duration_text(t.exposure_s)} without redundancy (one AWS tunnel down, no outage)")
    trend = trend_text(t)
    if trend:
        parts.append(trend)
    if t.idle_all_day and t.traffic is not None:  # docs/summaries.md#traffic
        usual = t.traffic.usual_per_day or 0.0
        parts.append(f"connected but idle all day: {human_bytes(t.traffic.total)} both ways, usually "
                     f"{human_bytes(usual)} a day")
    return f"{t.name}: " + " · ".join(p for p in parts if p)


def traffic_text(summary: DaySummary, limit: int | None = None) -> str:
    """Every tunnel's bytes of the day, each way: `Traffic (in from the site / out to it): paris 1.2 GB / 450 MB, …`;
    "" when no metrics were read."""
    measured = [t for t in summary.ordered() if t.traffic is not None and t.traffic.measured]
    if not measured:
        return ""
    def one(t: TunnelDay) -> str:
        assert t.traffic is not None
        return f"{t.name} {human_bytes(t.traffic.bytes_in or 0)} / {human_bytes(t.traffic.bytes_out or 0)}"

    shown = measured if limit is None else measured[:limit]
    more = f" … and {len(measured) - len(shown)} more" if len(shown) < len(measured) else ""
    return "Traffic (in from the site / out to it): " + ", ".join(one(t) for t in shown) + more


def trend_text(t: TunnelDay) -> str:
    """The day against the previous days' average drops."""
    if t.baseline is None:
        return ""
    avg = t.baseline.drops
    per_day = f"{avg:g} drop{'s' if avg != 1 else ''} a day over the previous {t.baseline.days} days"
    if t.drops > avg:
        return f"more than usual ({per_day})"
    if t.drops < avg:
        return f"fewer than usual ({per_day})"
    return f"as usual ({per_day})"


def healthy_line(summary: DaySummary, limit: int = HEALTHY_NAMED) -> str:
    names = [t.name for t in summary.ordered() if not t.troubled]
    if not names:
        return ""
    shown = ", ".join(names[:limit]) + (f" … and {len(names) - limit} more" if len(names) > limit else "")
    return f"Healthy (100 % up, no drops): {shown}"


def unknown_line(summary: DaySummary) -> str:
    if not summary.unknown:
        return ""
    return f"Unknown (a log source failed, see the notes): {', '.join(summary.unknown)}"


def summary_text(summary: DaySummary) -> str:
    lines = [summary_title(summary), counts_line(summary), ""]
    troubled = [t for t in summary.ordered() if t.troubled]
    lines += [tunnel_line(t) for t in troubled]
    if summary.unknown:
        lines.append(unknown_line(summary))
    healthy = healthy_line(summary, limit=len(summary.tunnels))
    if healthy:
        lines += ["", healthy] if troubled else [healthy]
    traffic = traffic_text(summary)
    if traffic:
        lines += ["", traffic]
    if summary.notes:
        lines.append("")
        lines += [f"Note: {n}" for n in summary.notes]
    return "\n".join(lines) + "\n"


def summary_json(summary: DaySummary) -> dict[str, Any]:
    """docs/summaries.md: `{"schema": 1, "day", "zone", "tunnels": [{"name", "drops", "downtime_s",
    "longest_outage_s", "uptime_pct", "causes", "no_logs"}]}`; the other keys extend it."""
    return {
        "schema": 1,
        "day": summary.day.isoformat(),
        "zone": summary.zone,
        "start": iso_z(summary.start),
        "end": iso_z(summary.end),
        "tunnels": [_tunnel_json(t) for t in summary.ordered()],
        "queries": [{"backend": q.backend, "origin": q.origin, "text": q.text, "rows": q.rows,
                     "start": iso_z(q.start) if q.start else None, "end": iso_z(q.end) if q.end else None}
                    for q in summary.queries],
        "notes": list(summary.notes),
        "failures": list(summary.failures),
        "unknown": list(summary.unknown),
    }


def _tunnel_json(t: TunnelDay) -> dict[str, Any]:
    return {
        "name": t.name,
        "provider": t.provider,
        "drops": t.drops,
        "downtime_s": t.downtime_s,
        "longest_outage_s": t.longest_outage_s,
        "uptime_pct": t.uptime_pct,
        "causes": t.causes,
        "no_logs": t.no_logs,
        "flapping": t.flapping,
        "exposure_s": t.exposure_s,
        "baseline": None if t.baseline is None else {
            "days": t.baseline.days, "drops_per_day": t.baseline.drops,
            "downtime_s_per_day": t.baseline.downtime_s},
        "outages": [{"start": iso_z(o.start), "end": iso_z(o.end), "cause": o.cause or None, "ongoing": o.ongoing,
                     "began_before": o.began_before, **({"tunnel": o.path} if o.path else {})} for o in t.outages],
        "markers": [{"time": iso_z(m.ts), "kind": m.kind, "text": m.text} for m in t.markers],
        "traffic": None if t.traffic is None else {
            "bytes_in": None if t.traffic.bytes_in is None else round(t.traffic.bytes_in),
            "bytes_out": None if t.traffic.bytes_out is None else round(t.traffic.bytes_out),
            "idle_all_day": t.idle_all_day, "usually_carries_traffic": t.traffic.usual,
            "usual_bytes_per_day": None if t.traffic.usual_per_day is None else round(t.traffic.usual_per_day),
            "previous_days": len(t.traffic.previous)},
    }
