"""Rule-engine and normaliser throughput, in rows per second, on the rows the bot's query returns.

    .venv/bin/python benchmarks/bench_rules.py [--n 1000000]

The query result (tuples, as LocalWorkspace.run_kql returns them) is fetched once and normalised once, untimed.
Then, best of 3: build_timeline + RuleContext + diagnose over the first 100k rows and over all of them (a window
covering them, as bench_question), each part also timed alone; and make_normaliser over all the tuples.
Target: the rule engine handles >= 300k rows/s.
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from _common import TUNNEL, best_of, bot_query, rule_context, time_rules, window
from _rows import rows

from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.azure.parser.rows import make_normaliser
from diagnostics.azure.timeline import build_timeline
from diagnostics.engine import diagnose
from diagnostics.model import Event, Provenance

TARGET = 300_000
RUNS = 3


def normalise_all(columns: Sequence[str], got: Sequence[tuple[Any, ...]]) -> list[Event]:
    normalise = make_normaliser(columns, Provenance("local", "benchmark", "AzureDiagnostics"))
    return [normalise(row, None) for row in got]


def rules_row(events: list[Event]) -> tuple[str, float]:
    """One table line for the rules over `events`, and their rows/s."""
    start, end = events[0].ts, events[-1].ts
    now, anchor = end + 86_400, (start + end) / 2
    total, drops = time_rules(events, start, end, now, anchor, runs=RUNS)
    timeline = build_timeline(events, TUNNEL)
    ctx = rule_context(timeline, start, end, now, anchor)
    parts = ", ".join(f"{s:.2f}" for s in (
        best_of(RUNS, lambda: build_timeline(events, TUNNEL)),
        best_of(RUNS, lambda: rule_context(timeline, start, end, now, anchor)),
        best_of(RUNS, lambda: diagnose(ctx)),
    ))
    rate = len(events) / total
    return f"{len(events):>9,} {drops:>6,} {total:>9.2f} {rate:>10,.0f}   {parts}", rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows in the query window (default 1000000)")
    args = parser.parse_args()
    start, end = window(args.n)
    ws = LocalWorkspace("benchmark workspace")
    ws.load_rows(rows(args.n, start, end))
    query = bot_query(start, end, end + timedelta(days=1))
    result = ws.run_kql(query.text(), query.start, query.end)
    got = list(result.rows)
    events = normalise_all(result.columns, got)
    gc.collect()

    print(f"bench_rules: rule engine and normaliser throughput, best of {RUNS} ({datetime.now():%Y-%m-%d})\n")
    print("rules = build_timeline + RuleContext + diagnose over a window holding every row")
    head = f"{'rows':>9} {'drops':>6} {'rules s':>9} {'rows/s':>10}   timeline s, context s, diagnose s"
    print(head)
    print("-" * len(head))
    for subset in ([events[:100_000]] if len(events) > 100_000 else []) + [events]:
        line, rate = rules_row(subset)
        print(line)
    norm_s = best_of(RUNS, lambda: normalise_all(result.columns, got))
    print(f"\nnormalise (make_normaliser over {len(got):,} query tuples): {norm_s:.2f} s, "
          f"{len(got) / norm_s:,.0f} rows/s")
    print(f"\ntarget: rule engine >= {TARGET:,} rows/s at {len(events):,} rows: {'MET' if rate >= TARGET else 'MISSED'}"
          f" ({rate:,.0f} rows/s); normaliser {'also meets' if len(got) / norm_s >= TARGET else 'is below'} it")


if __name__ == "__main__":
    main()
