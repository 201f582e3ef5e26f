"""A traffic question ("is traffic flowing over X?") end to end on the demo workspace: bot-side time and the reads it
makes (log queries, metric reads), per traffic story of the demo and for a healthy Azure tunnel and an AWS connection.

    .venv/bin/python benchmarks/bench_traffic.py [--runs 5] [--latency 0.8] [--baseline DIR]

The demo is built once (not timed); each question is then answered `--runs` times through `handlers.ask.ask` (parse,
logs, state, metrics, rules), and the median wall time printed with the number of log queries and metric reads the
answer lists. The demo's sources are in-process (DuckDB for the logs, pure functions for the metrics), so with no
`--latency` the time is the bot's own. `--latency S` makes every read (a log query, a metrics read, an AWS log read)
first wait S seconds, as a round trip to Log Analytics, Azure Monitor or CloudWatch does (~0.5–2 s each), so the
figure shows what the order of the reads costs a user. `--baseline DIR` also runs the same questions on the source
tree in DIR (an earlier commit, e.g. `git archive HEAD | tar -x -C DIR`) in a child process, and prints both.
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
    questions = [(s.tunnel, s.cause) for s in azure_demo.traffic_scenarios(NOW)] + [("dc1", "aws")]
    rows = []
    for name, story in questions:
        times = []
        answer = None
        for _ in range(runs):
            started = time.perf_counter()
            answer = ask(f"is traffic flowing over {name}?", workspace.registry, sources, NOW, ZoneInfo("UTC"))
            times.append(time.perf_counter() - started)
        assert answer is not None and answer.traffic is not None and answer.investigation is not None
        found = answer.investigation.findings[0].cause.value if answer.investigation.findings else "-"
        rows.append({"tunnel": name, "story": story, "found": found, "queries": len(answer.investigation.queries),
                     "metric_reads": len(answer.traffic.traffic.queries), "median_s": statistics.median(times)})
    return rows


if __name__ == "__main__":
    main(__file__, __doc__ or "", measure,
         f"bench_traffic ({datetime.now():%Y-%m-%d}): the traffic questions of the demo",
         runs=5, latency=0.0)
