"""What a user waits for when every read is a network round trip: each story of the demo asked as "why did X drop
at HH:MM", with every read (a log query, an AWS log read, a metrics read) first waiting `--latency` seconds.

    .venv/bin/python benchmarks/bench_round_trips.py [--latency 0.8] [--runs 3] [--baseline DIR]

Against Log Analytics, Azure Monitor or CloudWatch a read is a round trip of ~0.5–2 s, so an answer's time is mostly
how many of its reads come one after the other. The demo (built once, not timed) is in-process, so the rest is the
bot's own time. Each question is answered `--runs` times through `handlers.ask.ask`, as the CLI and Slack do (the
drop answer's metrics read for the traffic around the drop included); the median is printed with the reads the
answer lists. `--baseline DIR` runs the same in a child process on the source tree in DIR (an earlier commit), and
prints both.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from _latency import main, with_latency

from bot.workspace import demo_workspace
from diagnostics.azure import demo as azure_demo
from handlers.ask import ask

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


def measure(runs: int, latency: float) -> list[dict[str, Any]]:
    workspace = demo_workspace(NOW)
    sources = with_latency(workspace.sources, latency)
    rows = []
    for story in azure_demo.scenarios(NOW):
        text = f"why did {story.tunnel} drop on {story.at:%Y-%m-%d} at {story.at:%H:%M} UTC"
        times = []
        answer = None
        for _ in range(runs):
            started = time.perf_counter()
            answer = ask(text, workspace.registry, sources, NOW, ZoneInfo("UTC"))
            times.append(time.perf_counter() - started)
        assert answer is not None and answer.investigation is not None
        inv = answer.investigation
        metric_reads = len(answer.incident.traffic.queries) if answer.incident and answer.incident.traffic else 0
        rows.append({"tunnel": story.tunnel, "story": story.cause,
                     "found": inv.findings[0].cause.value if inv.findings else "-", "queries": len(inv.queries),
                     "metric_reads": metric_reads, "median_s": statistics.median(times)})
    return rows


if __name__ == "__main__":
    main(__file__, __doc__ or "", measure,
         f"bench_round_trips ({datetime.now():%Y-%m-%d}): every demo story asked as a drop question",
         runs=3, latency=0.8)
