"""The chart of an incident and a drop answer with metrics (docs/asking.md#the-chart-of-an-incident).

    .venv/bin/python benchmarks/bench_incident_chart.py [--runs 15]

Printed:

1. The chart of paris's maintenance failover on the demo workspace (an hour around the drop, five-minute byte totals
   from the demo's metrics, one maintenance marker and two BGP markers): the time to build the chart from the
   investigation (`incident_chart`), to draw it (`render_incident_png`), and the PNG's size.
2. A heavy chart: two days of a flapping tunnel (60 drops), 3,000 failed negotiations (thinned to 200 markers),
   hourly byte totals; the same figures.
3. "why did paris drop yesterday at 14:02" on the demo, with and without its metrics source: the answer's time, how
   many metrics calls it made (one per gateway and question is the aim), the time inside them (the service's side in
   production) and the bot-side cost of the traffic part (reading + the drop's traffic + the chart's data; drawing
   the PNG is the Slack bot's, after the answer is shown: item 1).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.workspace import demo_workspace
from diagnostics.model import Drop, Event, EventKind
from diagnostics.sources import Sources
from diagnostics.traffic.model import Metric, Series, Traffic
from handlers.ask import ask
from handlers.incident import incident_traffic
from handlers.incident_chart import incident_chart
from handlers.render.incident_png import render_incident_png

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
QUESTION = "why did paris drop yesterday at 14:02"


class Counted:
    """A metrics source that counts its calls and the time spent in them."""

    def __init__(self, inner) -> None:
        self.inner, self.label, self.calls, self.seconds = inner, inner.label, 0, 0.0

    def covers(self, tunnel) -> bool:
        return self.inner.covers(tunnel)

    def read(self, tunnels, start, end, interval_s):
        self.calls += 1
        t0 = time.perf_counter()
        try:
            return self.inner.read(tunnels, start, end, interval_s)
        finally:
            self.seconds += time.perf_counter() - t0


def timed(fn, runs: int) -> tuple[float, object]:
    """Median seconds of `runs` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def chart_figures(label: str, build, runs: int) -> None:
    build_s, chart = timed(build, runs)
    draw_s, png = timed(lambda: render_incident_png(chart), runs)
    assert png == render_incident_png(chart)  # deterministic: the same bytes every time
    print(f"{label}: build {build_s * 1000:.1f} ms, draw {draw_s * 1000:.1f} ms, PNG {len(png) / 1024:.1f} kB "
          f"({len(chart.markers)} markers, {sum(len(p.bands) for p in chart.paths)} bands, "
          f"{len(chart.bytes_in)} values each way)")


def heavy(inv, start: float):
    """60 drops over two days, 3,000 failed negotiations, hourly values: a worst case for the drawing."""
    template = inv.drops[0]
    drops = []
    for i in range(60):
        down = start + i * 2_800
        drops.append(Drop(replace(template.down, ts=down), replace(template.up, ts=down + 90)))  # type: ignore[arg-type]
    failing = Event(ts=start, provider="azure", category="IKEDiagnosticLog", kind=EventKind.IKE,
                    operation="IKELogEvent", gateway="VPNGW01",
                    message="SESSION_ID :{6c1b4c0e-77ec-40e6-b0d6-7ef40b2372a5} Remote 203.0.113.10:500: Local "
                            "192.0.2.10:500: [RECEIVED][NOTIFY] Received Notify Message - Authentication failed")
    events = [replace(failing, ts=start + i * 55.0) for i in range(3_000)]
    return replace(inv, drops=drops, events=[*inv.events, *events], now=datetime.fromtimestamp(start + 2 * 86_400, UTC))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs, {args.runs} runs "
          "(medians)")
    ws = demo_workspace(NOW)
    answer = ask(QUESTION, ws.registry, ws.sources, NOW, UTC_ZONE)
    inv, incident = answer.investigation, answer.incident
    assert inv is not None and incident is not None and incident.chart is not None and incident.traffic is not None
    traffic = incident.traffic
    chart_figures("demo failover chart", lambda: incident_chart(inv, "Europe/Paris", traffic), args.runs)

    start = inv.drops[0].down_ts - 3_600
    big = heavy(inv, start)
    hours = range(int(start) // 3600 * 3600, int(start) + 2 * 86_400 + 7_200, 3600)
    hourly = Traffic("paris", datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + 2 * 86_400, UTC),
                     3600, series={m: Series(m, tuple((float(t), 2.5e8 + (t // 3600 % 24) * 1e7) for t in hours))
                                   for m in (Metric.BYTES_IN, Metric.BYTES_OUT)})
    chart_figures("heavy chart (2 days, 60 drops, 3,000 failures)", lambda: incident_chart(big, "Europe/Paris", hourly),
                  args.runs)

    counted = [Counted(s) for s in ws.sources.metrics]
    with_metrics = Sources(kql=ws.sources.kql, aws=ws.sources.aws, metrics=counted)
    logs_only = Sources(kql=ws.sources.kql, aws=ws.sources.aws)
    ask(QUESTION, ws.registry, with_metrics, NOW, UTC_ZONE)  # warm: the demo's week attached, translations stored
    for source in counted:
        source.calls, source.seconds = 0, 0.0
    plain_s, _ = timed(lambda: ask(QUESTION, ws.registry, logs_only, NOW, UTC_ZONE), args.runs)
    full_s, _ = timed(lambda: ask(QUESTION, ws.registry, with_metrics, NOW, UTC_ZONE), args.runs)
    calls = sum(s.calls for s in counted) / args.runs
    print(f"drop answer without metrics: {plain_s * 1000:.0f} ms; with metrics: {full_s * 1000:.0f} ms "
          f"({calls:g} metrics call(s) per answer)")
    for source in counted:
        source.calls, source.seconds = 0, 0.0
    t0 = time.perf_counter()
    for _ in range(args.runs):
        incident_traffic(inv, with_metrics, UTC_ZONE)
    part_s = (time.perf_counter() - t0) / args.runs  # means, both: the first read of a window fills the demo's cache
    inside = sum(s.seconds for s in counted) / args.runs
    print(f"traffic part alone (metrics read + drop traffic + chart data), mean: {part_s * 1000:.1f} ms, "
          f"{inside * 1000:.1f} ms of it inside the metrics source (the service's side in production)")


if __name__ == "__main__":
    main()
