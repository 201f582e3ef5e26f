"""A traffic question ("is traffic flowing over X?") end to end on the demo workspace: bot-side time and the reads it
makes (log queries, metric reads), per traffic story of the demo and for a healthy Azure tunnel and an AWS connection.

    .venv/bin/python benchmarks/bench_traffic.py [--runs 5]

The demo is built once (not timed); each question is then answered `--runs` times through `handlers.ask.ask` (parse,
logs, state, metrics, rules), and the median wall time printed with the number of log queries and metric reads the
answer lists. The demo's sources are in-process (DuckDB for the logs, pure functions for the metrics), so the time is
the bot's own; a real workspace adds each backend's latency per read (bench_metrics.py times the metric clients).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.workspace import demo_workspace
from diagnostics.azure import demo as azure_demo
from handlers.ask import ask

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    built = time.perf_counter()
    workspace = demo_workspace(NOW)
    print(f"demo workspace ready in {time.perf_counter() - built:.1f} s (not counted below)")
    questions = [(s.tunnel, s.cause) for s in azure_demo.traffic_scenarios(NOW)] + [("dc1", "aws")]
    print(f"{'tunnel':<10} {'story':<24} {'cause found':<24} {'log queries':>11} {'metric reads':>12} {'median s':>9}")
    for name, story in questions:
        times = []
        answer = None
        for _ in range(args.runs):
            started = time.perf_counter()
            answer = ask(f"is traffic flowing over {name}?", workspace.registry, workspace.sources, NOW,
                         ZoneInfo("UTC"))
            times.append(time.perf_counter() - started)
        assert answer is not None and answer.traffic is not None and answer.investigation is not None
        found = answer.investigation.findings[0].cause.value if answer.investigation.findings else "-"
        print(f"{name:<10} {story:<24} {found:<24} {len(answer.investigation.queries):>11} "
              f"{len(answer.traffic.traffic.queries):>12} {statistics.median(times):>9.3f}")


if __name__ == "__main__":
    main()
