"""Instructions one worst-case question executes, counted by valgrind's callgrind: a figure the box's noise does not
move.

The wall time of the same question on this shared 2-core box varies by ±40 % from one minute to the next (other
work on the machine), more than most changes to the code. Callgrind counts the instructions a process executes,
the same on every run. The count of one question is that of a process that asks it minus that of one that does
everything else (imports, the workspace, a first small question that warms the KQL translator) but ask it. DuckDB
runs on one thread, so that its share is counted the same way every time.

Slow (each child runs ~50 times slower under valgrind: ~1 min at 100k rows), so it is a tool to compare code
(`--baseline DIR`, an earlier tree: `git archive HEAD | tar -x -C DIR`), not the target's figure: that stays
bench_question.py's wall time at 1M rows. Needs `valgrind` on the PATH.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from _common import TUNNEL, code_env, window
from _rows import SCENARIOS, rows

from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.investigate import investigate
from diagnostics.sources import Sources

SIZE = 100_000


def child(scenario: str, n: int, path: str, ask: bool) -> None:
    """The work counted: a first small question (imports, translator), then, with `ask`, the whole window's."""
    start, end = window(n)
    now = end + timedelta(days=1)
    workspace = LocalWorkspace("benchmark workspace")
    workspace.attach(path)
    workspace._con.execute("SET threads = 1")  # one thread: DuckDB's instructions counted alike on every run
    sources = Sources(kql=[workspace])
    hour = timedelta(hours=1)
    investigate(TUNNEL, start, start + hour, sources, now=now, anchor=start + hour / 2, widen=False)
    if ask:
        inv = investigate(TUNNEL, start, end, sources, now=now, anchor=start + (end - start) / 2, widen=False)
        print(scenario, inv.findings[0].cause, inv.queries[0].rows)


def instructions(scenario: str, n: int, path: str, ask: bool, code: str | None) -> int:
    """Instructions of one child process (`code`: a source tree to run instead of the current one)."""
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__, "--child",
         scenario, str(n), path, str(int(ask))],
        capture_output=True, text=True, check=False, env=code_env(code))
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode or not found:
        sys.exit(f"child ({scenario}, {code or 'current tree'}) failed:\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=SIZE, help=f"rows the question reads (default {SIZE:,})")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"any of {', '.join(SCENARIOS)}")
    parser.add_argument("--baseline", metavar="DIR", help="also count on the source tree in DIR (an earlier commit)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        scenario, n, path, ask = args.child
        child(scenario, int(n), path, ask == "1")
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench_instructions needs valgrind (apt-get install valgrind)")
    codes = [("after", None)] + ([("before", os.path.abspath(args.baseline))] if args.baseline else [])
    print(f"bench_instructions: one question over {args.size:,} rows, instructions counted by callgrind (millions; "
          "DuckDB on one thread)")
    print(f"{'scenario':>9} {'code':>6} {'question M':>10} {'change':>7}")
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        for scenario in args.scenarios.split(","):
            start, end = window(args.size)
            workspace = LocalWorkspace("benchmark workspace")
            workspace.load_rows(rows(args.size, start, end, scenario=scenario))
            path = os.path.join(tmp, f"{scenario}.duckdb")
            workspace.save(path)
            del workspace
            # Counts do not depend on what else runs: the children run side by side.
            with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
                runs = {(label, ask): pool.submit(instructions, scenario, args.size, path, ask, code)
                        for label, code in codes for ask in (True, False)}
                counts = {label: runs[label, True].result() - runs[label, False].result() for label, _ in codes}
            for label, _ in codes:
                change = f"{counts['after'] / counts['before'] - 1:+.1%}" if "before" in counts and label == "after" \
                    else ""
                print(f"{scenario:>9} {label:>6} {counts[label] / 1e6:>10,.0f} {change:>7}", flush=True)


if __name__ == "__main__":
    main()
