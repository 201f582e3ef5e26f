"""Sources whose reads each wait a network round trip first, and children run on another source tree: for the
benchmarks of what a user waits for when every read is a round trip to Log Analytics, Azure Monitor or CloudWatch
(bench_traffic.py, bench_round_trips.py)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from _common import code_env

from diagnostics.sources import Sources


class Latency:
    """A source whose reads (`method`) each wait `seconds` first; everything else is the source's."""

    def __init__(self, source: Any, seconds: float, method: str):
        self._source, self._seconds, self._method = source, seconds, method

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._source, name)
        if name != self._method:
            return attr

        def read(*args: Any, **kwargs: Any) -> Any:
            time.sleep(self._seconds)
            return attr(*args, **kwargs)

        return read


def with_latency(sources: Sources, seconds: float) -> Sources:
    """`sources` with every log query, AWS log read and metrics read `seconds` away."""
    if not seconds:
        return sources
    return Sources(kql=[Latency(k, seconds, "run_kql") for k in sources.kql],
                   aws=[Latency(a, seconds, "read_tunnel_logs") for a in sources.aws],
                   metrics=[Latency(m, seconds, "read") for m in sources.metrics])


def run_child(script: str, args: list[str], code: str | None) -> Any:
    """`script --child ARGS` in a fresh process (`code`: a source tree to run instead of the current one); its last
    line of output, as JSON."""
    proc = subprocess.run([sys.executable, script, "--child", *args], capture_output=True, text=True, check=False,
                          env=code_env(code))
    if proc.returncode:
        sys.exit(f"{os.path.basename(script)} child ({code or 'current tree'}) failed:\n{proc.stderr}")
    return json.loads(proc.stdout.splitlines()[-1])


Measure = Callable[[int, float], list[dict[str, Any]]]


def main(script: str, doc: str, measure: Measure, title: str, runs: int, latency: float) -> None:
    """A benchmark's command line: `measure(runs, latency)` in a child process on this tree (and on `--baseline DIR`),
    each question's row printed (tunnel, story, cause found, log queries, metric reads, median seconds) side by side."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--latency", type=float, default=latency,
                        help=f"seconds each read waits first (default {latency:g})")
    parser.add_argument("--baseline", metavar="DIR", help="also run the questions on the source tree in DIR")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.runs, args.latency)))
        return
    child = ["--runs", str(args.runs), "--latency", str(args.latency)]
    results = {"after": run_child(script, child, None)}
    if args.baseline:
        results = {"before": run_child(script, child, args.baseline), **results}
    print(f"{title}, {args.runs} runs each, median; each read waits {args.latency:g} s first")
    print(f"{'tunnel':<10} {'story':<26} {'code':<7} {'cause found':<26} {'log queries':>11} {'metric reads':>12} "
          f"{'median s':>9}")
    for i in range(len(results["after"])):
        for code, rows in results.items():
            r = rows[i]
            print(f"{r['tunnel']:<10} {r['story']:<26} {code:<7} {r['found']:<26} {r['queries']:>11} "
                  f"{r['metric_reads']:>12} {r['median_s']:>9.3f}")
    for code, rows in results.items():
        print(f"{code}: total {sum(r['median_s'] for r in rows):.1f} s over {len(rows)} questions")
