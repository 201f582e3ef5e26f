"""A 1M-row portal CSV given with --azure-export: the first question (loads it) and the second (cached), each in a
fresh `vpnbot ask` process as a user runs them.

    .venv/bin/python benchmarks/bench_exports.py [--rows 1000000] [--second 2] [--keep DIR] [--baseline DIR]

The CSV is what the Log Analytics portal writes for `AzureDiagnostics | where Category in (…)` with Export > CSV (all
columns): UTF-8 with a byte-order mark, `TimeGenerated [UTC]` in the portal's `11/21/2026, 1:58:10.412 PM` form,
the VPN gateway's columns (TenantId, ResourceId, _ResourceId, SubscriptionId, …, Message, instance_s, remoteIP_s,
status_s, stateChangeReason_s), rows from `_rows.py` (a tunnel `paris` that keeps failing, ~10 % other tunnels).
Generating it is not timed.

Each run is a child process: `bot.cli.main(["ask", "why did paris drop at <a drop in the middle>", "--config", …,
"--azure-export", CSV])`, its stdout discarded. Printed per run: the wall time from starting the process to its
answer being written (what the user waits for) and to its exit (the first question writes its cache entry after the
answer, at exit), the imports, the question itself (main()), the CPU time (user + system, every thread) until the
answer and until exit (the box is loaded: CPU time is what this process cost, wall time what the others left it),
and the peak RSS (ru_maxrss of the child). The first run starts with an empty cache directory (VPNBOT_CACHE_DIR);
the next ones reuse it. `--baseline DIR` also runs the first and a second question on the code in DIR (e.g. `git
archive HEAD | tar -x -C DIR`), with a cache directory of its own.
Targets: first question < 8 s and < 600 MB, second < 2 s.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_FIRST_S, TARGET_FIRST_MB, TARGET_SECOND_S = 8.0, 600.0, 2.0
COLUMNS = ("TenantId", "TimeGenerated [UTC]", "ResourceId", "Category", "ResourceGroup", "SubscriptionId",
           "ResourceProvider", "Resource", "ResourceType", "OperationName", "Level", "Message", "instance_s",
           "remoteIP_s", "status_s", "stateChangeReason_s", "Type", "_ResourceId")
CONFIG = """timezone = "UTC"

[[tunnels]]
name = "paris"
azure_gateway = "VPNGW01"
azure_remote_ip = "203.0.113.10"
"""


def portal_time(ts: datetime) -> str:
    hour = ts.hour % 12 or 12
    return (f"{ts.month}/{ts.day}/{ts.year}, {hour}:{ts.minute:02d}:{ts.second:02d}.{ts.microsecond // 1000:03d} "
            f"{'AM' if ts.hour < 12 else 'PM'}")


def write_csv(path: Path, n: int) -> datetime:
    """The portal CSV of ~n query rows; returns the time of a paris disconnect in the middle."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from _common import window
    from _rows import rows

    start, end = window(n)
    middle = start + (end - start) / 2
    asked = None
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        for r in rows(n, start, end):
            ts = r["TimeGenerated"]
            rid = (f"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/{r['ResourceGroup']}/PROVIDERS/"
                   f"MICROSOFT.NETWORK/VIRTUALNETWORKGATEWAYS/{r['Resource']}")
            if asked is None and ts >= middle and r["OperationName"] == "TunnelDisconnected" \
                    and r["remoteIP_s"] == "203.0.113.10" and r["Resource"] == "VPNGW01":
                asked = ts
            out.writerow(["00000000-1111-2222-3333-444444444444", portal_time(ts), rid, r["Category"],
                          r["ResourceGroup"], "00000000-0000-0000-0000-000000000000", "MICROSOFT.NETWORK",
                          r["Resource"], "VIRTUALNETWORKGATEWAYS", r["OperationName"], "Informational", r["Message"],
                          r["instance_s"], r["remoteIP_s"], r["status_s"], r["stateChangeReason_s"],
                          "AzureDiagnostics", rid.lower()])
    assert asked is not None
    return asked


def cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class Sink:
    """The answer's stdout, discarded; remembers when it was last written (the answer is out)."""

    def __init__(self) -> None:
        self.at = time.time()

    def write(self, text: str) -> int:
        self.at = time.time()
        return len(text)

    def flush(self) -> None:
        pass


def hashes(path: Path) -> None:
    """The content hash's candidates over the CSV, in this process: CPU and wall time each."""
    for name in ("sha256", "sha1", "blake2b", "md5"):
        t, c = time.perf_counter(), cpu_s()
        with path.open("rb") as fh:
            hashlib.file_digest(fh, name)
        print(f"  hash {name:8} {time.perf_counter() - t:5.2f} s wall {cpu_s() - c:5.2f} s CPU")


def child(argv: list[str]) -> None:
    """Runs in the child: import, answer, report (before the process's exit, where the cache entry is written)."""
    started = time.perf_counter()
    from bot.cli import main

    imported = time.perf_counter()
    sink = Sink()
    stdout, sys.stdout = sys.stdout, sink
    try:
        code = main(argv)
    finally:
        sys.stdout = stdout
    done = time.perf_counter()
    print(json.dumps({"imports_s": imported - started, "question_s": done - imported, "code": code,
                      "answered_at": sink.at, "answer_cpu_s": cpu_s(),
                      "answer_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


def run(code_dir: Path, argv: list[str], cache: str) -> dict:
    env = {**os.environ, "VPNBOT_CACHE_DIR": cache, "PYTHONPATH": str(code_dir)}
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as err:
        started = time.time()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", *argv], cwd=code_dir,
                                env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        out = proc.stdout.read() if proc.stdout else ""
        _, _, usage = os.wait4(proc.pid, 0)  # this child's own CPU time and peak RSS, to its exit
        wall = time.time() - started
        err.seek(0)
        stderr = err.read()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"child failed:\n{stderr[-2000:]}")
    found = json.loads(lines[-1])
    return {**found, "answer_s": found["answered_at"] - started, "wall_s": wall, "stderr": stderr,
            "cpu_s": usage.ru_utime + usage.ru_stime, "load": load,
            "peak_mb": max(usage.ru_maxrss / 1024, found["answer_mb"])}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--second", type=int, default=2, help="how many runs after the first (cached)")
    parser.add_argument("--keep", metavar="DIR", help="write the CSV there and keep it (reused when present)")
    parser.add_argument("--baseline", metavar="DIR", help="also run the first and a second question on the code in DIR")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as scratch:
        where = Path(args.keep or scratch)
        where.mkdir(parents=True, exist_ok=True)
        path = where / f"portal_{args.rows}.csv"
        marker = where / f"portal_{args.rows}.asked"
        if path.exists() and marker.exists():
            asked = datetime.fromisoformat(marker.read_text())
        else:
            t = time.perf_counter()
            asked = write_csv(path, args.rows)
            marker.write_text(asked.isoformat())
            print(f"generated {path.name} in {time.perf_counter() - t:.1f} s (not timed below)")
        config = Path(scratch) / "vpnbot.toml"
        config.write_text(CONFIG)
        question = f"why did paris drop at {asked:%Y-%m-%d %H:%M}"
        argv = ["ask", question, "--config", str(config), "--azure-export", str(path), "--now",
                f"{asked.date().isoformat()}T23:59:00Z", "--tz", "UTC"]
        size = path.stat().st_size / 2**20
        print(f"bench_exports: {path.name}, {size:,.0f} MB, {len(COLUMNS)} columns; question {question!r}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        hashes(path)
        cache = str(Path(scratch) / "cache")
        results = [("first", run(REPO, argv, cache))]
        results += [(f"second #{i + 1}" if args.second > 1 else "second", run(REPO, argv, cache))
                    for i in range(args.second)]
        if args.baseline:
            before = str(Path(scratch) / "baseline-cache")
            results.append(("baseline first", run(Path(args.baseline), argv, before)))
            results.append(("baseline second", run(Path(args.baseline), argv, before)))
        print(f"{'run':>15} {'answer s':>9} {'exit s':>7} {'imports s':>10} {'question s':>11} {'answer CPU s':>13} "
              f"{'exit CPU s':>11} {'peak RSS MB':>12} {'load':>5}")
        print("-" * 100)
        for name, r in results:
            print(f"{name:>15} {r['answer_s']:>9.2f} {r['wall_s']:>7.2f} {r['imports_s']:>10.2f} "
                  f"{r['question_s']:>11.2f} {r['answer_cpu_s']:>13.2f} {r['cpu_s']:>11.2f} {r['peak_mb']:>12.0f} "
                  f"{r['load']:>5.1f}")
        cached = Path(cache) / "exports"
        kept = sum(p.stat().st_size for p in cached.rglob("*") if p.is_file()) / 2**20 if cached.exists() else 0
        print(f"cache: {kept:,.0f} MB in {cached}")
        first, seconds = results[0][1], [r for n, r in results if n.startswith("second")]
        best_second = min(r["wall_s"] for r in seconds) if seconds else float("nan")
        ok = (first["answer_s"] < TARGET_FIRST_S, first["peak_mb"] < TARGET_FIRST_MB, best_second < TARGET_SECOND_S)
        print(f"targets (wall): first answer < {TARGET_FIRST_S:.0f} s: {'MET' if ok[0] else 'MISSED'} "
              f"({first['answer_s']:.2f} s); "
              f"first < {TARGET_FIRST_MB:.0f} MB: {'MET' if ok[1] else 'MISSED'} ({first['peak_mb']:.0f} MB); "
              f"second < {TARGET_SECOND_S:.0f} s: {'MET' if ok[2] else 'MISSED'} ({best_second:.2f} s)")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
