"""The evidence bundle of a 1M-row investigation: time, peak RSS, zip size and rows, in a fresh process per size.

    .venv/bin/python benchmarks/bench_evidence.py [--sizes 100000,1000000] [--redact-ips]

Each child generates the rows (benchmarks/_rows.py) into a LocalWorkspace, answers one question whose window covers
every row (as bench_question.py), stores it in a scratch state store as the bot does (handlers.evidence.record_answer),
then times `bot.evidence.make_bundle` for that investigation id: every stored query re-run, its rows streamed into
the zip as CSV and JSON Lines, the report, case text and manifest written. Peak RSS is ru_maxrss restarted just
before the bundle (Linux /proc/self/clear_refs), so it is the bundle's own peak on top of what was resident before
(the DuckDB workspace included, shown as "RSS before"). Also timed apart: re-running the queries and only iterating
their rows (what the source costs), to show what writing the bundle adds.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import TUNNEL, peak_mb, reset_peak, rss_mb, window
from _rows import rows

from bot.evidence import make_bundle
from bot.state import StateStore
from bot.workspace import Workspace
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.evidence import RedactionOptions
from diagnostics.evidence.rows import reread
from diagnostics.investigate import investigate
from diagnostics.sources import Sources
from diagnostics.tunnels import TunnelRegistry
from handlers.answer import Answer
from handlers.evidence import load_record, record_answer
from handlers.parse.intent import Intent
from handlers.parse.question import Question, TimeWindow

SIZES = (1_000_000,)


def child(n: int, redact_ips: bool) -> dict[str, Any]:
    start, end = window(n)
    now, anchor = end + timedelta(days=1), start + (end - start) / 2
    ws = LocalWorkspace("benchmark workspace", origin="benchmark")
    loaded = ws.load_rows(rows(n, start, end))
    inv = investigate(TUNNEL, start, end, Sources(kql=[ws]), now=now, anchor=anchor, widen=False)
    question = Question(text="why did paris drop (benchmark window)", intent=Intent.WHY_DROP, tunnel=TUNNEL,
                        window=TimeWindow(start, end), anchor=anchor, tz=ZoneInfo("UTC"), explicit_window=True)
    workspace = Workspace(TunnelRegistry([TUNNEL]), Sources(kql=[ws]))
    out: dict[str, Any] = {"n": n, "loaded": loaded, "queries": len(inv.queries),
                           "answered_rows": sum(q.rows for q in inv.queries), "cause": str(inv.findings[0].cause)}
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        state = StateStore(Path(tmp) / "state.db")
        question_id = record_answer(state, Answer(question, investigation=inv), user="bench", source="cli", now=now)
        assert question_id is not None
        del inv
        gc.collect()
        # The source's own cost: the stored queries re-run and their rows only iterated.
        record = load_record(state, question_id, workspace.registry)
        gc.collect()
        base = rss_mb()
        reset_peak()
        t = time.perf_counter()
        for i, q in enumerate(record.queries, 1):
            for _ in reread(i, q, workspace.sources, record.tunnel).rows:
                pass
        out["reread_s"] = time.perf_counter() - t
        out["reread_peak_mb"] = peak_mb() - base  # DuckDB running the query and handing over its batches
        gc.collect()
        out["rss_before_mb"] = rss_mb()
        out["peak_reset"] = reset_peak()
        t = time.perf_counter()
        made = make_bundle(state, question_id, workspace, Path(tmp) / "bundle.zip",
                           RedactionOptions(redact_ips=redact_ips), "bench")
        out["bundle_s"] = time.perf_counter() - t
        out["peak_mb"] = peak_mb()
        out["rows"] = made.result.rows
        out["zip_mb"] = made.result.file.size / 2**20
        out["files_mb"] = sum(f.size for f in made.result.file.files) / 2**20
        out["files"] = len(made.result.file.files) + 1
        state.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--redact-ips", action="store_true", help="bundle with public IPs replaced")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.redact_ips)))
        return
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        argv = [sys.executable, __file__, "--child", str(n)] + (["--redact-ips"] if args.redact_ips else [])
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode:
            sys.exit(f"child for N={n} failed:\n{proc.stderr}")
        results.append(json.loads(proc.stdout.splitlines()[-1]))
    report(results, args.redact_ips)


def report(results: list[dict[str, Any]], redact_ips: bool) -> None:
    print(f"bench_evidence: the evidence bundle of one investigation per window size, fresh process each "
          f"({datetime.now(UTC):%Y-%m-%d}){'; public IPs redacted' if redact_ips else ''}")
    print("rows = rows written (every stored query re-run); re-read s = the same queries only iterated; "
          "peak RSS = during the bundle\n")
    head = (f"{'N':>9} {'queries':>7} {'rows':>9} {'re-read s':>9} {'bundle s':>8} {'rows/s':>8} "
            f"{'RSS before MB':>13} {'re-read +MB':>11} {'peak RSS MB':>11} {'files MB':>8} {'zip MB':>7} "
            f"{'cause':>10}")
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r['n']:>9,} {r['queries']:>7} {r['rows']:>9,} {r['reread_s']:>9.2f} {r['bundle_s']:>8.2f} "
              f"{r['rows'] / r['bundle_s']:>8,.0f} {r['rss_before_mb']:>13.0f} {r['reread_peak_mb']:>11.0f} "
              f"{r['peak_mb']:>11.0f} "
              f"{r['files_mb']:>8.0f} {r['zip_mb']:>7.1f} {r['cause']:>10}")
    big = max(results, key=lambda r: r["n"])
    print(f"\nN={big['n']:,}: bundle {big['bundle_s']:.1f} s, peak RSS {big['peak_mb']:.0f} MB "
          f"({big['peak_mb'] - big['rss_before_mb']:+.0f} MB over the {big['rss_before_mb']:.0f} MB resident before, "
          f"of which the source's query takes {big['reread_peak_mb']:.0f} MB when only iterated), zip "
          f"{big['zip_mb']:.1f} MB for {big['files_mb']:.0f} MB of files, {big['rows']:,} rows")
    print("re-read +MB: the peak RSS rise of re-running the queries and iterating their rows, nothing written "
          "(DuckDB's own memory for the query, limited to 256 MB, and its batches of rows)")


if __name__ == "__main__":
    main()
