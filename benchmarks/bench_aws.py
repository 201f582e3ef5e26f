"""A day of AWS Site-to-Site VPN tunnel logs for 200 tunnels (100 VPN connections), read from CloudWatch Logs with
the real boto3 client and classified: time, peak RSS and the number of API calls.

    .venv/bin/python benchmarks/bench_aws.py [--connections 100] [--failing 10]

moto's server runs in a child process on 127.0.0.1 (an ephemeral port), so the peak RSS measured here is the bot's own,
not the emulator's storage. The log group is seeded with a day ending 5 minutes ago (moto drops events older than 14
days): every tunnel rekeys phase 2 about hourly (2 events), each connection has one drop explained by a documented
message (docs/sources.md#aws-ikev1-errors, docs/sources.md#aws-ikev2-errors) with its re-negotiation rows, and
`--failing` tunnels fail all day (AWS deletes a half-open IKE SA every 10 s: 8,640 events a day each). Then, for every
connection, the question a person or the daily summary asks, "what happened to <connection> today": `investigate`
over the day (the same reads as `vpnbot ask`: describe_log_streams by the connection's prefix, filter_log_events by
stream names and time range, paginated), timed together; peak RSS is ru_maxrss restarted after seeding.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from _common import peak_mb, reset_peak, rss_mb

from diagnostics.aws.cloudwatch import CloudWatchLogsSource
from diagnostics.investigate import investigate
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

GROUP = "/aws/vendedlogs/vpn-bench"
REGION = "eu-west-1"
SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""
CAUSES = [
    ("AWS tunnel DPD timed out after 3 retransmits", "down", "down"),
    ("AWS tunnel received DELETE for IKE_SA from CGW", "down", "down"),
    ('No Proposal Match Found. Notifying with "No proposal chosen"', "established", "down"),
    ("AWS: Traffic Selector: TS_UNACCEPTABLE: received from responder", "established", "down"),
    ("AWS tunnel detected a pre-shared key mismatch with cgw: 198.51.100.7", "negotiating", "down"),
]


def body(at: float, details: str, p1: str, p2: str) -> str:
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S") + "Z"
    return json.dumps({"event_timestamp": int(at), "timestamp": stamp, "details": details, "dpd_enabled": True,
                       "nat_t_detected": False, "ike_phase1_state": p1, "ike_phase2_state": p2})


def tunnel_day(rng: random.Random, start: float, end: float, failing: bool, drop: bool) -> list[tuple[int, str]]:
    events = [(start + 1, body(start + 1, "AWS tunnel processed response (id=1) for CREATE_CHILD_SA", "established",
                               "established"))]
    if failing:
        at = start + 60
        while at < end:
            events.append((at, body(at, "AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: "
                                        "198.51.100.7", "down", "down")))
            at += 10
        return [(int(t * 1000), m) for t, m in events]
    down = start + rng.uniform(2, 20) * 3600 if drop else end + 1
    outage = rng.uniform(20, 900)
    at, n = start + rng.uniform(60, 3600), 2
    while at < end:
        if not down - 600 <= at <= down + outage + 600:
            events.append((at, body(at, f"AWS tunnel is sending request (id={n}) for CREATE_CHILD_SA", "established",
                                    "rekeying")))
            events.append((at + 0.06, body(at + 0.06, f"AWS tunnel processed response (id={n}) for CREATE_CHILD_SA",
                                           "established", "established")))
        at, n = at + 3600 * rng.uniform(0.98, 1.02), n + 1
    if drop:
        details, p1, p2 = rng.choice(CAUSES)
        events.append((down, body(down, details, p1, p2)))
        for k in range(1, int(outage // 30)):
            events.append((down + 30 * k, body(down + 30 * k, details, p1, p2)))
        events.append((down + outage, body(down + outage, "AWS tunnel processed request (id=0) for CREATE_CHILD_SA",
                                           "established", "established")))
    events.sort()
    return [(int(t * 1000), m) for t, m in events]


def seed(logs, connections: list[Tunnel], start: float, end: float, failing: int) -> int:
    rng = random.Random("vpnbot-bench-aws")
    logs.create_log_group(logGroupName=GROUP)
    total = 0
    failing_left = failing
    for index, tunnel in enumerate(connections):
        for k, ip in enumerate(tunnel.aws_outside_ips):
            fails = failing_left > 0 and k == 1 and index % max(1, len(connections) // failing) == 0
            failing_left -= fails
            events = tunnel_day(rng, start, end, fails, drop=(k == 0))
            stream = f"{tunnel.aws_vpn_connection}-{ip}"
            logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
            for i in range(0, len(events), 10_000):
                batch = [{"timestamp": ts, "message": m} for ts, m in events[i:i + 10_000]]
                logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=batch)
            total += len(events)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=100, help="VPN connections (2 tunnels each)")
    parser.add_argument("--failing", type=int, default=10, help="tunnels failing all day")
    args = parser.parse_args()

    with moto_emulator() as port:
        run(args, port)


@contextlib.contextmanager
def moto_emulator(stop_timeout: float = 60.0) -> Iterator[int]:
    """moto's server in a child process on 127.0.0.1 (so its CPU is not the bot's), with boto3 pointed at it;
    yields the port."""
    child = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(child.stdout.readline())
        os.environ.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"})
        yield port
    finally:
        child.stdin.close()
        child.wait(timeout=stop_timeout)


def run(args: argparse.Namespace, port: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    end = now - timedelta(minutes=5)
    start = end - timedelta(days=1)
    connections = [Tunnel(name=f"site{i:03d}", aws_vpn_connection=f"vpn-{i:017x}",
                          aws_outside_ips=(f"203.0.113.{2 * (i % 120) + 2}", f"198.51.100.{2 * (i % 120) + 3}"))
                   for i in range(1, args.connections + 1)]
    source = CloudWatchLogsSource(GROUP, region=REGION)
    t0 = time.perf_counter()
    events = seed(source._client, connections, start.timestamp(), end.timestamp(), args.failing)
    seeding = time.perf_counter() - t0
    source.calls.clear()
    source.attempts = 0
    restarted = reset_peak()
    before = rss_mb()

    causes: Counter[str] = Counter()
    read = drops = 0
    in_api = [0.0]
    original = source.read_tunnel_logs

    def timed_read(request):  # the API part (requests, moto, JSON decoding by botocore), apart from classifying
        started = time.perf_counter()
        try:
            return original(request)
        finally:
            in_api[0] += time.perf_counter() - started

    source.read_tunnel_logs = timed_read  # type: ignore[method-assign]
    t0 = time.perf_counter()
    for tunnel in connections:
        result = investigate(tunnel, start, end, Sources(aws=[source]), now, widen=False)
        read += sum(q.rows for q in result.queries)
        drops += len(result.drops)
        causes[result.findings[0].cause.value] += 1
    elapsed = time.perf_counter() - t0
    peak = peak_mb()

    tunnels = 2 * len(connections)
    print(f"bench_aws: {tunnels} tunnels ({len(connections)} VPN connections), a day of tunnel logs each; "
          f"{args.failing} tunnels failing all day; moto {moto_version()} on 127.0.0.1:{port} (child process)")
    print(f"seeded {events:,} events in {seeding:.1f} s")
    print(f"read + classified: {read:,} events in {elapsed:.2f} s ({read / elapsed:,.0f} events/s, "
          f"{elapsed / len(connections) * 1000:.0f} ms per connection): {in_api[0]:.2f} s in the API calls "
          f"(boto3 + the emulator), {elapsed - in_api[0]:.2f} s parsing and classifying")
    print(f"API calls: {sum(source.calls.values())} ({', '.join(f'{k} {v}' for k, v in sorted(source.calls.items()))});"
          f" HTTP attempts {source.attempts}")
    print(f"peak RSS {peak:.0f} MB ({before:.0f} MB before the reads{'' if restarted else ', peak not restarted'})")
    print(f"drops found: {drops}; primary causes: {', '.join(f'{n} {c}' for c, n in causes.most_common())}")


def moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


if __name__ == "__main__":
    main()
