"""A 1M-event `aws logs filter-log-events` export: the first and the second question about it, as `vpnbot ask` runs
them (a fresh process each), with wall time, CPU time and peak RSS.

    .venv/bin/python benchmarks/bench_aws_export.py [--events 1000000] [--keep FILE]
    .venv/bin/python benchmarks/bench_aws_export.py --shape insights-csv --shape get-log-events --shape messages \
        --shape tail [--no-before]

The file is what `aws logs filter-log-events --log-group-name G > FILE` prints (the CLI's pretty-printed JSON,
events in time order), ~560 MB for a million events: a week of tunnel logs for 100 VPN connections (200 tunnels,
each rekeying phase 2 hourly) of which some tunnels fail all week (AWS deletes a half-open IKE SA every 10 s, the
bulk of the events), and one incident: tunnel 1 of vpn-00000000000000032 declares its customer gateway dead (IKEv2
DPD timed out) and re-negotiates for 7 minutes. The first question ("why did vpn-00000000000000032 drop at …") scans
the file into its index and caches it (VPNBOT_CACHE_DIR, a fresh temporary directory); the second one, in a new
process, finds the index by the file's content hash and reads only the events it needs. A third question, about a
window with no drop, also reads the days around it (the nearest drops). Peak RSS and CPU time are the child's own
(os.wait4); the file is generated in a process of its own, so the benchmark's own memory never counts (a forked
child starts with its parent's pages). Targets: first < 8 s and < 600 MB, second < 2 s.

`--shape S` (repeatable) times the same questions over 1M events in another indexed shape instead: `insights-csv`
(the Logs Insights console's `@timestamp,@logStream,@message` CSV of the same week, newest first), `tail` (what `aws
logs tail G --since 7d` prints: `TIME STREAM {message}` a line), and, for the shapes that carry no stream name,
`get-log-events` (the CLI's pretty-printed JSON) and `messages` (the log messages one a line, as copied from the
console): one stream's events, given with `--aws-stream` (tunnel 1 of the incident's connection, whose peer did not
answer for the ~115 days before the week, a half-open IKE SA deleted every 10 s, then the week). Each shape is also
asked once "before": read whole by the general reader (a child process with the indexing threshold out of reach),
unless `--no-before`.

Files in no indexed layout are read whole by the general reader instead, and not cached: `--general-events N`
(default 100,000; 0 skips it) also times one question over the same week, with N events, as a Logs Insights CSV export
(newest first) read by the general reader, for its cost per event. `--utf16` also times the
first and second question over the same 1M events saved in UTF-16 (Windows PowerShell's `>`), which is copied to UTF-8
into the cache before it is indexed.
"""

from __future__ import annotations

import argparse
import collections
import csv
import heapq
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VPNBOT = ROOT / ".venv" / "bin" / "vpnbot"
START = datetime(2026, 11, 14, tzinfo=UTC)
DAYS = 7
INCIDENT = START + timedelta(days=5, hours=14, minutes=2, seconds=5)
TARGET = "vpn-00000000000000032"  # connection 50: both tunnels healthy but for the incident
TARGET_STREAM = f"{TARGET}-52.95.49.1"  # its tunnel 1, which has the incident
SHAPES = ("filter-log-events", "insights-csv", "get-log-events", "messages", "tail")
#: `vpnbot ask` with big files read whole by the general reader, as before they were indexed.
READ_WHOLE = ("import sys\nfrom diagnostics.aws import export_index\nexport_index.INDEX_MIN_BYTES = 1 << 62\n"
              "from bot.cli import main\nsys.exit(main(sys.argv[1:]))")


def body(at: float, details: str, p1: str, p2: str) -> str:
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S") + "Z"
    return json.dumps({"event_timestamp": int(at), "timestamp": stamp, "details": details, "dpd_enabled": True,
                       "nat_t_detected": False, "ike_phase1_state": p1, "ike_phase2_state": p2},
                      separators=(",", ":"))


def tunnel_events(vpn: str, ip: str, failing: bool, offset: float) -> Iterator[tuple[float, str, str]]:
    """(time, stream, message) of one tunnel's week, in time order."""
    stream = f"{vpn}-{ip}"
    start, end = START.timestamp(), (START + timedelta(days=DAYS)).timestamp()
    incident = vpn == TARGET and ip.endswith(".1")
    at, n = start + offset, 0
    down, up = INCIDENT.timestamp(), INCIDENT.timestamp() + 402
    while at < end:
        if failing:
            yield at, stream, body(at, "AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: "
                                       "198.51.100.7", "down", "down")
            at += 10
            continue
        if incident and down - 3600 < at < up + 600:
            at += 3600
            continue
        n += 1
        yield at, stream, body(at, f"AWS tunnel is sending request (id={n}) for CREATE_CHILD_SA", "established",
                               "rekeying")
        yield at + 0.06, stream, body(at + 0.06, f"AWS tunnel processed response (id={n}) for CREATE_CHILD_SA",
                                      "established", "established")
        at += 3600
    if incident:
        yield down, stream, body(down, "AWS tunnel DPD timed out after 3 retransmits", "down", "down")
        for k in range(1, 10):
            yield down + 40 * k, stream, body(down + 40 * k, "AWS tunnel Timeout: deleting un-established Phase 1 "
                                                             "IKE_SA with cgw: 198.51.100.7", "down", "down")
        yield up, stream, body(up, "AWS tunnel processed request (id=1) for CREATE_CHILD_SA", "established",
                               "rekeying")
        yield up + 0.04, stream, body(up + 0.04, "AWS tunnel is sending response (id=1) for CREATE_CHILD_SA",
                                      "established", "established")


def week(events: int) -> Iterator[tuple[float, str, str]]:
    """The week's events in time order, with as many failing tunnels as make about `events` of them."""
    per_failing = DAYS * 86400 // 10
    failing = max(1, -(-(events - 200 * DAYS * 48) // per_failing))
    streams = []
    for i in range(100):
        vpn = f"vpn-{i + 1:017x}"
        for k in (1, 2):
            sick = len(streams) % 2 == 1 and (len(streams) // 2) < failing
            streams.append(tunnel_events(vpn, f"52.95.{i}.{k}", sick, (i * 37 + k * 11) % 3600))
    return heapq.merge(*(sorted(s) for s in streams))


def generate_insights_csv(path: Path, events: int) -> int:
    """The last `events` events of the week as the Logs Insights console exports them: `@timestamp,@logStream,
    @message`, newest first (Insights' default sort)."""
    rows = list(week(events))[-events:]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["@timestamp", "@logStream", "@message"])
        for at, stream, message in reversed(rows):
            when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            writer.writerow([when, stream, message])
    return len(rows)


def one_tunnel(events: int) -> Iterator[tuple[float, str, str]]:
    """`events` events of TARGET_STREAM in time order: a peer that did not answer (a half-open IKE SA deleted every
    10 s) for as many days before the week as make up the count, then the week with its incident."""
    week_events = sorted(tunnel_events(TARGET, "52.95.49.1", False, (49 * 37 + 11) % 3600))
    failing = max(0, events - len(week_events))
    start = START.timestamp() - 10 * failing
    before = ((start + 10 * n, TARGET_STREAM,
               body(start + 10 * n, "AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: "
                                    "198.51.100.7", "down", "down")) for n in range(failing))
    return itertools.chain(before, week_events)


def generate_shape(shape: str, path: Path, events: int) -> int:
    """Write `events` events in `shape` (SHAPES); returns the number written."""
    if shape == "filter-log-events":
        return generate(path, events)
    if shape == "insights-csv":
        return generate_insights_csv(path, events)
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        if shape == "tail":  # `aws logs tail G --since 7d`: the group's last events, in time order
            for at, stream, message in collections.deque(week(events), maxlen=events):
                fh.write(f"{datetime.fromtimestamp(at, UTC).isoformat(timespec='microseconds')} {stream} {message}\n")
                written += 1
        elif shape == "messages":
            for _, _, message in one_tunnel(events):
                fh.write(message + "\n")
                written += 1
        else:  # get-log-events, as the CLI prints it
            fh.write('{\n    "events": [')
            for at, _, message in one_tunnel(events):
                ms = round(at * 1000)
                fh.write(f'{"," if written else ""}\n        {{\n            "timestamp": {ms},\n'
                         f'            "message": {json.dumps(message)},\n            "ingestionTime": {ms + 812}\n'
                         "        }")
                written += 1
            fh.write('\n    ],\n    "nextForwardToken": "f/37719828651155284958823452063457431612341233545346482176/s",'
                     '\n    "nextBackwardToken": "b/37719828480016003488124627493456291349025011286216081408/s"\n}\n')
    return written


def generate(path: Path, events: int) -> int:
    """Write the export as the CLI prints it; returns the number of events written."""
    merged = week(events)
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{\n    "events": [')
        for at, stream, message in merged:
            if written >= events:
                break
            ms = round(at * 1000)
            fh.write(f'{"," if written else ""}\n        {{\n            "logStreamName": "{stream}",\n'
                     f'            "timestamp": {ms},\n            "message": {json.dumps(message)},\n'
                     f'            "ingestionTime": {ms + 812},\n            "eventId": "{ms:d}{written:026d}"\n'
                     "        }")
            written += 1
        fh.write('\n    ],\n    "searchedLogStreams": []\n}\n')
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", metavar="FILE", help="write the export here and reuse it if it exists")
    parser.add_argument("--general-events", type=int, default=100_000, metavar="N")
    parser.add_argument("--utf16", action="store_true", help="also the same export in UTF-16 (~1 GB more on disk)")
    parser.add_argument("--shape", action="append", choices=SHAPES,
                        help="time this shape instead of filter-log-events (repeatable)")
    parser.add_argument("--no-before", action="store_true", help="with --shape: skip the read-whole question")
    parser.add_argument("--generate", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--generate-shape", nargs=2, metavar=("SHAPE", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--generate-csv", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        print(f"{generate(Path(args.generate), args.events):,} events")
        return
    if args.generate_csv:
        print(f"{generate_insights_csv(Path(args.generate_csv), args.events):,} events")
        return
    if args.generate_shape:
        print(f"{generate_shape(args.generate_shape[0], Path(args.generate_shape[1]), args.events):,} events")
        return
    if args.shape:
        for shape in args.shape:
            bench_shape(shape, args.events, not args.no_before)
        return
    with tempfile.TemporaryDirectory(prefix="vpnbot-bench-aws-export-") as scratch:
        export = Path(args.keep) if args.keep else Path(scratch) / "filter-log-events.json"
        if not export.exists():
            t0 = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--generate", str(export), "--events", str(args.events)],
                           check=True)
            print(f"generated {export.stat().st_size / 2**20:,.0f} MB in {time.perf_counter() - t0:.1f} s")
        print(f"bench_aws_export: {export.stat().st_size / 2**20:,.0f} MB `aws logs filter-log-events` JSON; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        cache = Path(scratch) / "cache"
        at = INCIDENT.strftime("%Y-%m-%d %H:%M")
        runs = [("first question (scan + index + cache)", f"why did {TARGET} drop at {at}"),
                ("second question (cached index)", f"why did {TARGET} drop at {at}"),
                ("no-drop question (cached; reads ±3 days)",
                 f"why did {TARGET} drop at {(INCIDENT - timedelta(days=1)).strftime('%Y-%m-%d %H:%M')}")]
        for label, question in runs:
            wall, cpu, peak, answer = measured(question, export, cache)
            cause = answer["findings"][0]["cause"] if answer.get("findings") else "-"
            print(f"{label:44s} wall {wall:5.2f} s  cpu {cpu:5.2f} s  peak RSS {peak:4.0f} MB  cause {cause}")
        if args.utf16:
            wide = Path(scratch) / "filter-log-events-utf16.json"
            subprocess.run([sys.executable, "-c", "import sys, codecs\n"
                            "src, dst = sys.argv[1:]\n"
                            "with open(src, encoding='utf-8') as i, open(dst, 'wb') as o:\n"
                            "    o.write(codecs.BOM_UTF16_LE)\n"
                            "    while block := i.read(1 << 22):\n"
                            "        o.write(block.replace('\\n', '\\r\\n').encode('utf-16-le'))\n",
                            str(export), str(wide)], check=True)
            for label in ("UTF-16 first question (copy + index)", "UTF-16 second question (cached)"):
                wall, cpu, peak, answer = measured(runs[0][1], wide, cache)
                cause = answer["findings"][0]["cause"] if answer.get("findings") else "-"
                print(f"{label:44s} wall {wall:5.2f} s  cpu {cpu:5.2f} s  peak RSS {peak:4.0f} MB  cause {cause}")
            wide.unlink()
        if args.general_events:
            general = Path(scratch) / "logs-insights.csv"
            subprocess.run([sys.executable, __file__, "--generate-csv", str(general), "--events",
                            str(args.general_events)], check=True, stdout=subprocess.DEVNULL)
            wall, cpu, peak, answer = measured(runs[0][1], general, cache, whole=True)
            cause = answer["findings"][0]["cause"] if answer.get("findings") else "-"
            label = f"Logs Insights CSV, {general.stat().st_size / 2**20:,.0f} MB (general reader)"
            print(f"{label:44s} wall {wall:5.2f} s  cpu {cpu:5.2f} s  peak RSS {peak:4.0f} MB  cause {cause}")


def bench_shape(shape: str, events: int, before: bool) -> None:
    """The questions over `events` events in `shape`: read whole (before), then indexed, first and second."""
    with tempfile.TemporaryDirectory(prefix="vpnbot-bench-aws-export-") as scratch:
        export = Path(scratch) / f"{shape}.{'csv' if shape == 'insights-csv' else 'txt'}"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate-shape", shape, str(export), "--events", str(events)],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"bench_aws_export --shape {shape}: {events:,} events, {export.stat().st_size / 2**20:,.0f} MB "
              f"(generated in {time.perf_counter() - t0:.0f} s); {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}")
        extra = ("--aws-stream", TARGET_STREAM) if shape in ("get-log-events", "messages") else ()
        cache = Path(scratch) / "cache"
        at = INCIDENT.strftime("%Y-%m-%d %H:%M")
        question = f"why did {TARGET} drop at {at}"
        quiet = f"why did {TARGET} drop at {(INCIDENT - timedelta(days=1)).strftime('%Y-%m-%d %H:%M')}"
        runs = [("before: read whole (general reader)", question, True)] if before else []
        runs += [("first question (scan + index + cache)", question, False),
                 ("second question (cached index)", question, False),
                 ("no-drop question (cached; reads ±3 days)", quiet, False)]
        for label, asked, whole in runs:
            wall, cpu, peak, answer = measured(asked, export, cache, extra, whole=whole)
            cause = answer["findings"][0]["cause"] if answer.get("findings") else "-"
            print(f"{label:44s} wall {wall:5.2f} s  cpu {cpu:5.2f} s  peak RSS {peak:4.0f} MB  cause {cause}")


def measured(question: str, export: Path, cache: Path, extra: tuple[str, ...] = (),
             whole: bool = False) -> tuple[float, float, float, dict]:
    """One `vpnbot ask` in a child process, its own rusage read with wait4; `whole`: big files read whole."""
    env = {**os.environ, "VPNBOT_CACHE_DIR": str(cache)}
    program = [sys.executable, "-c", READ_WHOLE] if whole else [str(VPNBOT)]
    command = [*program, "ask", question, "--aws-export", str(export), "--now",
               (START + timedelta(days=DAYS)).isoformat(), "--format", "json", *extra]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode:
            sys.exit(f"vpnbot ask failed ({child.returncode}): {err.read().decode()[-2000:]}")
        answer = json.loads(out.read())
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, answer


if __name__ == "__main__":
    main()
