"""The AWS side of the daily summary for 1,000 tunnels (500 VPN connections: 900 quiet tunnels, 100 with drops),
read from CloudWatch Logs with the real boto3 client: API calls, bot-side time, time in the API, peak RSS.

    .venv/bin/python benchmarks/bench_summary_aws.py [--connections 500] [--troubled 100] [--insights both]

Rows: eight days (the summary day, yesterday in Europe/Paris, and the seven the baseline reads, plus 3 h before) of
hourly phase 2 rekeys on every tunnel (AWS's default phase 2 lifetime, 3,600 s: a CREATE_CHILD_SA request and response,
docs/sources.md#aws-ikev2-negotiation), ~390 events a tunnel. On the summary day 100 tunnels drop (80 connections lose
tunnel 1, 10 lose both at once: downtime) 1-3 times, 1-15 minutes each, with a cause from AWS's documented error
messages (docs/sources.md#aws-ikev1-errors, docs/sources.md#aws-ikev2-errors) and its message repeated every 30 s while
down; the same tunnels drop once on two of the previous days (the baseline). moto's server runs in a child process on
127.0.0.1, so the peak RSS is the bot's; moto drops events older than 14 days, so the day is yesterday.

Two runs of `summarize_aws` over the same group:

* `python`: moto ignores Logs Insights' `stats` (docs/sources.md#aws-test-emulator), so the baseline falls back to one
  bounded filter_log_events read of the 7 days, computed in Python: the worst case.
* `insights`: Logs Insights answered as a correct `stats` would (emulated here from the seeded rows, the per-stream
  numbers AWS computes server-side; its time is not the bot's): only the streams that went down are re-read.

Time in the API is measured with botocore's before-call/after-call events (HTTP, the emulator, botocore's JSON
decoding); bot-side time is the rest: building the LogRecords, parsing, timelines, rules, outages, baselines.
Target: < 5 s bot side.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from _common import peak_mb, reset_peak, rss_mb, time_in_api
from bench_aws import CAUSES, body, moto_emulator, moto_version

from diagnostics.aws.cloudwatch import CloudWatchLogsSource, InsightsAnswer
from diagnostics.summary.aws import CONTEXT_BEFORE, summarize_aws
from diagnostics.tunnels import Tunnel

GROUP = "/aws/vendedlogs/vpn-summary-bench"
REGION = "eu-west-1"
ZONE = ZoneInfo("Europe/Paris")
TARGET_S = 5.0
EST, REKEY = "established", "rekeying"


def connections(n: int) -> list[Tunnel]:
    return [Tunnel(name=f"site{i:04d}", aws_vpn_connection=f"vpn-{i:017x}",
                   aws_outside_ips=(f"203.0.{113 + i // 250}.{i % 250 + 1}", f"198.51.{100 + i // 250}.{i % 250 + 1}"))
            for i in range(1, n + 1)]


def rekeys(rng: random.Random, start: float, end: float, busy: list[tuple[float, float]]) -> list[tuple[float, str]]:
    events, at, n = [], start + rng.uniform(60, 3600), 2
    while at < end:
        if not any(lo - 600 <= at <= hi + 600 for lo, hi in busy):
            events.append((at, body(at, f"AWS tunnel is sending request (id={n}) for CREATE_CHILD_SA", EST, REKEY)))
            events.append((at + 0.06, body(at + 0.06, f"AWS tunnel processed response (id={n}) for CREATE_CHILD_SA",
                                           EST, EST)))
        at, n = at + 3600 * rng.uniform(0.97, 1.0), n + 1
    return events


def outage_events(rng: random.Random, down: float, up: float) -> list[tuple[float, str]]:
    details, p1, p2 = rng.choice(CAUSES)
    events = [(down, body(down, details, p1, p2))]
    events += [(t, body(t, details, p1, p2)) for t in range(int(down) + 30, int(up) - 5, 30)]
    events.append((up, body(up, "AWS tunnel processed request (id=1) for CREATE_CHILD_SA", EST, EST)))
    return events


Spans = list[tuple[float, float]]


def plan(rng: random.Random, day_start: float, troubled: int, n: int) -> dict[tuple[int, int], Spans]:
    """(connection index, tunnel) -> outages: 80 % of the troubled tunnels are tunnel 1 alone, 20 % are both tunnels
    of a connection at once; each drops 1-3 times on the day and once on two of the previous seven days."""
    outages: dict[tuple[int, int], Spans] = {}
    both = troubled // 10  # connections losing both tunnels: 2 troubled tunnels each
    single = troubled - 2 * both
    for index in range(min(n, single + both)):
        times = [day_start + rng.uniform(1, 22) * 3600 for _ in range(rng.randint(1, 3))]
        times += [day_start - d * 86_400 + rng.uniform(1, 22) * 3600 for d in rng.sample(range(1, 8), 2)]
        spans = [(t, t + rng.uniform(60, 900)) for t in sorted(times)]
        outages[(index, 0)] = spans
        if index >= single:
            outages[(index, 1)] = [(lo + rng.uniform(0, 20), hi + rng.uniform(0, 20)) for lo, hi in spans]
    return outages


def seed(logs, tunnels: list[Tunnel], start: float, end: float, day_start: float, troubled: int,
         insights_range: tuple[float, float]) -> tuple[int, dict[str, list]]:
    """Put every tunnel's eight days; returns the number of events and, per stream, what a correct Logs Insights
    `stats` answers over `insights_range` (events, first, last, down events)."""
    rng = random.Random("vpnbot-bench-summary-aws")
    outages = plan(rng, day_start, troubled, len(tunnels))
    logs.create_log_group(logGroupName=GROUP)
    total, stats = 0, {}
    lo_ms, hi_ms = insights_range[0] * 1000, insights_range[1] * 1000
    for index, tunnel in enumerate(tunnels):
        for k, ip in enumerate(tunnel.aws_outside_ips):
            busy = outages.get((index, k), [])
            events = rekeys(rng, start, end, busy)
            for down, up in busy:
                events += outage_events(rng, down, up)
            events.sort()
            stream = f"{tunnel.aws_vpn_connection}-{ip}"
            logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
            batch = [{"timestamp": int(t * 1000), "message": m} for t, m in events]
            for i in range(0, len(batch), 10_000):
                logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=batch[i:i + 10_000])
            total += len(batch)
            inside = [e for e in batch if lo_ms <= e["timestamp"] < hi_ms]
            downs = sum(1 for e in inside if '"down"' in e["message"])
            if inside:
                stats[stream] = [len(inside), inside[0]["timestamp"], inside[-1]["timestamp"], downs]
    return total, stats


class EmulatedInsights(CloudWatchLogsSource):
    """CloudWatch through moto, with Logs Insights answering as AWS would (`stats` evaluated server-side)."""

    def __init__(self, stats: dict[str, list], **kwargs) -> None:
        super().__init__(GROUP, region=REGION, **kwargs)
        self.stats = stats

    def run_insights(self, group, queries, start, end, timeout_s=60.0):
        def stamp(ms: int) -> str:
            return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]

        presence = [[{"field": "@logStream", "value": s}, {"field": "events", "value": str(n)},
                     {"field": "first_event", "value": stamp(first)}, {"field": "last_event", "value": stamp(last)}]
                    for s, (n, first, last, _) in self.stats.items()]
        downs = [[{"field": "@logStream", "value": s}, {"field": "down_events", "value": str(d)}]
                 for s, (_, _, _, d) in self.stats.items() if d]
        return [InsightsAnswer(queries[0], "Complete", presence), InsightsAnswer(queries[1], "Complete", downs)]


def run_once(mode: str, tunnels: list[Tunnel], stats: dict[str, list], start: datetime, end: datetime,
             now: datetime) -> None:
    source = EmulatedInsights(stats) if mode == "insights" else CloudWatchLogsSource(GROUP, region=REGION)
    spent = time_in_api(source)
    restarted = reset_peak()
    before = rss_mb()
    t0 = time.perf_counter()
    summary = summarize_aws(tunnels, [source], start, end, now, tz=ZONE)
    elapsed = time.perf_counter() - t0
    peak = peak_mb()
    bot = elapsed - spent[0]
    days = summary.days.values()
    dropped = sum(1 for d in days for _ in {o.path for o in d.outages if not o.began_before})
    causes: Counter[str] = Counter()
    for d in days:
        causes.update(d.causes)
    read = sum(q.rows for q in summary.queries)
    print(f"\n[{mode}] baseline from {', '.join(f'{v}' for v in summary.baseline_from.values())}")
    print(f"  backend reads: {len(summary.queries)} ({read:,} events/rows returned); API calls {summary.api_calls}: "
          + ", ".join(f"{k} {v}" for k, v in sorted(summary.calls.items())))
    print(f"  total {elapsed:.2f} s = {spent[0]:.2f} s in the API (boto3 + the emulator) + {bot:.2f} s bot side "
          f"(target < {TARGET_S:.0f} s: {'MET' if bot < TARGET_S else 'MISSED'})")
    print(f"  peak RSS {peak:.0f} MB ({before:.0f} MB before{'' if restarted else ', peak not restarted'})")
    print(f"  tunnels with drops: {dropped}; drops {sum(d.drops for d in days)}; connections with downtime "
          f"{sum(1 for d in days if d.downtime_s)}; flapping {sum(1 for d in days if d.flapping)}; no logs "
          f"{sum(1 for d in days if d.no_logs)}; causes: {', '.join(f'{n} {c}' for c, n in causes.most_common())}")
    with_base = {d.name: d.baseline for d in days if d.baseline}
    digest = hashlib.sha1(repr(sorted(with_base.items())).encode()).hexdigest()[:12]
    print(f"  baselines: {len(with_base)}, mean {sum(b.drops for b in with_base.values()) / len(with_base):.3f} "
          f"drops/day; digest {digest} (the same in both runs: the same numbers)")
    if mode == "insights":
        print("  (Logs Insights emulated in-process: its StartQuery and GetQueryResults calls, 2 + the polls, are "
              "not in the count)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=500, help="VPN connections (2 tunnels each)")
    parser.add_argument("--troubled", type=int, default=100, help="tunnels that drop on the summary day")
    parser.add_argument("--insights", choices=("python", "insights", "both"), default="both")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: one run in a fresh process (its own peak RSS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    with moto_emulator() as port:
        run(args, port)


def window(now: datetime) -> tuple[datetime, datetime, datetime]:
    """The summary day (yesterday in ZONE: moto keeps 14 days) and the first baseline day's midnight, in UTC."""
    yesterday = now.astimezone(ZONE).date() - timedelta(days=1)

    def midnight(day):
        return datetime.combine(day, datetime.min.time(), ZONE).astimezone(UTC)

    return midnight(yesterday), midnight(yesterday + timedelta(days=1)), midnight(yesterday - timedelta(days=7))


def run(args: argparse.Namespace, port: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    start, end, week = window(now)
    tunnels = connections(args.connections)
    seeder = CloudWatchLogsSource(GROUP, region=REGION)
    t0 = time.perf_counter()
    events, stats = seed(seeder._client, tunnels, (week - timedelta(hours=3)).timestamp(), end.timestamp(),
                         start.timestamp(), args.troubled, ((week - CONTEXT_BEFORE).timestamp(), start.timestamp()))
    print(f"bench_summary_aws: {2 * len(tunnels)} tunnels ({len(tunnels)} VPN connections, one log group), summary of "
          f"{start.astimezone(ZONE).date()} ({ZONE.key}) with a 7-day baseline; moto {moto_version()} on "
          f"127.0.0.1:{port} (child process)")
    print(f"seeded {events:,} events ({events / (2 * len(tunnels)) / 8:.0f} a tunnel a day) in "
          f"{time.perf_counter() - t0:.1f} s; each run below is a fresh process (its own peak RSS)", flush=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"now": now.isoformat(), "stats": stats}, fh)
    try:
        for mode in (["python", "insights"] if args.insights == "both" else [args.insights]):
            subprocess.run([sys.executable, __file__, "--worker", f"{mode}:{fh.name}",
                            "--connections", str(args.connections)], check=True)
    finally:
        os.unlink(fh.name)


def worker(args: argparse.Namespace) -> None:
    mode, path = args.worker.split(":", 1)
    with open(path) as fh:
        saved = json.load(fh)
    now = datetime.fromisoformat(saved["now"])
    start, end, _ = window(now)
    run_once(mode, connections(args.connections), saved["stats"], start, end, now)


if __name__ == "__main__":
    main()
