"""The evidence bundle of a 1M-row investigation: time, peak RSS, zip size and rows, in a fresh process per size.

    .venv/bin/python benchmarks/bench_evidence.py [--sizes 100000,1000000] [--redact-ips] [--baseline DIR]

Each child generates the rows (benchmarks/_rows.py) into a LocalWorkspace, answers one question whose window covers
every row (as bench_question.py), stores it in a scratch state store as the bot does (handlers.evidence.record_answer),
then times `bot.evidence.make_bundle` for that investigation id: every stored query re-run, its rows streamed into
the zip as CSV and JSON Lines, the report, case text and manifest written. Peak RSS is ru_maxrss restarted just
before the bundle (Linux /proc/self/clear_refs), so it is the bundle's own peak on top of what was resident before
(the DuckDB workspace included, shown as "RSS before"). Also timed apart: re-running the queries and only iterating
their rows (what the source costs), to show what writing the bundle adds. CPU s is the bundle's CPU time, every
thread together (the compressing threads, DuckDB's): on a shared machine it says what the work costs when the wall
time says what else was running.

`--baseline DIR` also runs each child on the source tree in DIR (e.g. `git archive HEAD | tar -x -C DIR`), before the
current code, and checks that both wrote the same bundle: every member byte for byte, the manifest apart from its
generation time, and the zip itself apart from the manifest's bytes.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import TUNNEL, code_env, peak_mb, reset_peak, rss_mb, window
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
        t, cpu = time.perf_counter(), time.process_time()
        made = make_bundle(state, question_id, workspace, Path(tmp) / "bundle.zip",
                           RedactionOptions(redact_ips=redact_ips), "bench")
        out["bundle_s"], out["cpu_s"] = time.perf_counter() - t, time.process_time() - cpu
        out["peak_mb"] = hwm_mb()
        out["digest"] = digest(Path(tmp) / "bundle.zip")  # after the peak: it reads the zip
        out["rows"] = made.result.rows
        out["zip_mb"] = made.result.file.size / 2**20
        out["files_mb"] = sum(f.size for f in made.result.file.files) / 2**20
        out["files"] = len(made.result.file.files) + 1
        state.close()
    return out


def hwm_mb() -> float:
    """The peak RSS since `reset_peak()` (VmHWM, which clear_refs restarts; ru_maxrss also keeps the peak recorded
    when a thread exited earlier, e.g. while the rows were loaded)."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024


def digest(path: Path) -> dict[str, str]:
    """SHA-256 of every member (the manifest without its generation time) and of the zip's bytes outside the
    manifest member (headers, compressed data, central directory but the manifest's entry)."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            sha = hashlib.sha256()
            if info.filename == "manifest.json":
                doc = json.loads(zf.read(info))
                doc.pop("generated_at", None)
                sha.update(json.dumps(doc, sort_keys=True).encode())
            else:
                with zf.open(info) as fh:
                    while chunk := fh.read(1 << 20):
                        sha.update(chunk)
            out[info.filename] = sha.hexdigest()
        left = zf.getinfo("manifest.json").header_offset
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while left > 0 and (chunk := fh.read(min(left, 1 << 20))):
            sha.update(chunk)
            left -= len(chunk)
    out["(zip before the manifest)"] = sha.hexdigest()
    return out


def run_child(n: int, redact_ips: bool, code: str | None) -> dict[str, Any]:
    """One child process; `code` is a source tree to run instead of the current one (the baseline)."""
    argv = [sys.executable, __file__, "--child", str(n)] + (["--redact-ips"] if redact_ips else [])
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=code_env(code))
    if proc.returncode:
        sys.exit(f"child for N={n}{' (baseline)' if code else ''} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    result["code"] = "before" if code else "after"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--redact-ips", action="store_true", help="bundle with public IPs replaced")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also run every child on the source tree in DIR (an earlier commit), and compare bytes")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.redact_ips)))
        return
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        if args.baseline:
            results.append(run_child(n, args.redact_ips, args.baseline))
        results.append(run_child(n, args.redact_ips, None))
    report(results, args.redact_ips)


def report(results: list[dict[str, Any]], redact_ips: bool) -> None:
    print(f"bench_evidence: the evidence bundle of one investigation per window size, fresh process each "
          f"({datetime.now(UTC):%Y-%m-%d}){'; public IPs redacted' if redact_ips else ''}")
    print("rows = rows written (every stored query re-run); re-read s = the same queries only iterated; "
          "peak RSS = during the bundle\n")
    head = (f"{'code':>6} {'N':>9} {'queries':>7} {'rows':>9} {'re-read s':>9} {'bundle s':>8} {'CPU s':>6} "
            f"{'rows/s':>8} {'RSS before MB':>13} {'re-read +MB':>11} {'peak RSS MB':>11} {'files MB':>8} "
            f"{'zip MB':>7} {'cause':>10}")
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r.get('code', 'after'):>6} {r['n']:>9,} {r['queries']:>7} {r['rows']:>9,} {r['reread_s']:>9.2f} "
              f"{r['bundle_s']:>8.2f} {r['cpu_s']:>6.1f} {r['rows'] / r['bundle_s']:>8,.0f} "
              f"{r['rss_before_mb']:>13.0f} {r['reread_peak_mb']:>11.0f} {r['peak_mb']:>11.0f} "
              f"{r['files_mb']:>8.0f} {r['zip_mb']:>7.1f} {r['cause']:>10}")
    for n in sorted({r["n"] for r in results}):
        pair = {r["code"]: r for r in results if r["n"] == n}
        if len(pair) == 2:
            same = pair["before"]["digest"] == pair["after"]["digest"]
            print(f"N={n:,}: the bundle is {'byte for byte the same as' if same else 'DIFFERENT from'} before "
                  f"({len(pair['after']['digest']) - 1} members compared, and the zip's bytes before the manifest)")
            if not same:
                names = sorted(set(pair["before"]["digest"]) | set(pair["after"]["digest"]))
                print("  differing:", ", ".join(m for m in names
                                                if pair["before"]["digest"].get(m) != pair["after"]["digest"].get(m)))
    results = [r for r in results if r.get("code", "after") == "after"]
    big = max(results, key=lambda r: r["n"])
    target = "MET" if big["bundle_s"] < 10 and big["peak_mb"] < 500 else "MISSED"
    print(f"\ntargets at N={big['n']:,} (< 10 s, < 500 MB): {target}")
    print(f"N={big['n']:,}: bundle {big['bundle_s']:.1f} s, peak RSS {big['peak_mb']:.0f} MB "
          f"({big['peak_mb'] - big['rss_before_mb']:+.0f} MB over the {big['rss_before_mb']:.0f} MB resident before, "
          f"of which the source's query takes {big['reread_peak_mb']:.0f} MB when only iterated), zip "
          f"{big['zip_mb']:.1f} MB for {big['files_mb']:.0f} MB of files, {big['rows']:,} rows")
    print("re-read +MB: the peak RSS rise of re-running the queries and iterating their rows, nothing written "
          "(DuckDB's own memory for the query, limited to 256 MB, and its batches of rows)")


if __name__ == "__main__":
    main()
