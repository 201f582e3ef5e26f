"""The fleet status ("what's down right now", `vpnbot status`) of 1,000 tunnels: 750 Azure tunnels and 250 AWS VPN
connections, with a realistic "now" (some down, some flapping, a gateway failing over, AWS tunnels without
redundancy), answered and rendered as text, JSON and Slack blocks.

    .venv/bin/python benchmarks/bench_status.py [--azure 750] [--aws 250]

Azure rows (50 tunnels a gateway would be many; 20 is the bench_summary layout): eight days of routine child-SA rekeys
(every 27,000 s, 4 IKE rows each) and a connect ~20 days ago for every tunnel; troubled now (10 %): a pre-shared-key
mismatch for 2 h (a negotiation every ~7 s, 7 rows each), a peer that has not answered for 5 h (SA_INIT every ~7 s),
flapping (4 DPD drops in the last hour), and one gateway failing over 30 minutes ago (every tunnel on it, no
maintenance record). AWS events: 6 h of hourly phase 2 rekeys per tunnel (docs/sources.md#aws-ikev2-negotiation);
troubled: tunnel 1 down for 25 min (DPD, its re-negotiations timing out every 30 s), both tunnels down, tunnel 2
flapping (3 drops in the last hour). Loaded into the local DuckDB workspace and an in-memory log group (timed apart).

"Backend" is the time inside the workspace and the log group read (query execution and row fetching, done by Log
Analytics and CloudWatch in production); "bot side" is everything else, rendering included. Target: < 3 s bot side.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the local Log Analytics endpoint

from _common import peak_mb, reset_peak, rss_mb, time_in_api
from bench_summary import IN_0, IN_1, PSK, REKEY, Timed, ike, row, state

from diagnostics.aws.parser.rows import LogRecord
from diagnostics.aws.sources import MemoryLogSource
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.parse.question import TimeWindow
from handlers.render.blockkit import limit_problems
from handlers.render.blocks import render_blocks
from handlers.render.json import answer_to_json
from handlers.render.text import render_text
from handlers.status import status_answer, status_question

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Paris")
PER_GATEWAY = 20
GROUP = "/aws/vendedlogs/vpn-status-bench"
WORKSPACE_ID = "6f0c2b1e-0000-4000-8000-00000000beef"
AZURE_SEED, AWS_SEED = 11, 12
TARGET_S = 3.0
EST, DOWN = "established", "down"


def azure_tunnels(n: int) -> list[Tunnel]:
    return [Tunnel(f"az{i:04d}", azure_gateway=f"VPNGW{i // PER_GATEWAY:03d}",
                   azure_remote_ip=f"198.{18 + i // 65_000}.{(i // 250) % 256}.{i % 250 + 1}") for i in range(n)]


def aws_tunnels(n: int) -> list[Tunnel]:
    return [Tunnel(f"aws{i:04d}", aws_vpn_connection=f"vpn-{i + 1:017x}",
                   aws_outside_ips=(f"203.0.{113 + i // 250}.{i % 250 + 1}", f"52.95.{i // 250}.{i % 250 + 1}"))
            for i in range(n)]


def azure_rows(tunnels: list[Tunnel], rng: random.Random, now: datetime) -> Iterator[dict]:
    first = now - timedelta(days=8)
    troubled = len(tunnels) // 10
    psk, unreachable, flapping = tunnels[:troubled // 3], tunnels[troubled // 3:2 * troubled // 3], \
        tunnels[2 * troubled // 3:troubled]
    quiet_until = {t.name: now for t in tunnels}
    for t in psk:
        quiet_until[t.name] = now - timedelta(hours=2)
    for t in unreachable:
        quiet_until[t.name] = now - timedelta(hours=5)
    for t in tunnels:
        yield state(now - timedelta(days=20, seconds=rng.uniform(0, 3600)), t, True)
        at = first + timedelta(seconds=rng.uniform(0, 27_000))
        while at < quiet_until[t.name]:
            session = f"{rng.getrandbits(128):032x}"
            for k, text in enumerate(REKEY):
                yield ike(at + timedelta(milliseconds=40 * k), t, session, text)
            at += timedelta(seconds=27_000 + rng.uniform(-45, 45))
    for g in sorted({t.azure_gateway for t in tunnels}):
        for d in range(8):
            yield row(first + timedelta(days=d, hours=3), Tunnel("gw", azure_gateway=g), "GatewayDiagnosticLog",
                      "ValidateGatewayConfiguration", Message="Validation succeeded")
    for t in psk:
        down = now - timedelta(hours=2)
        yield state(down, t, False, reason="IKE authentication failed")
        at = down + timedelta(seconds=1)
        while at < now - timedelta(minutes=2):
            session, cookie = f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(64):016X}"
            for k, text in enumerate(PSK):
                yield ike(at + timedelta(milliseconds=30 * k), t, session, text.format(c=cookie))
            at += timedelta(seconds=rng.uniform(6, 8))
    for t in unreachable:
        down = now - timedelta(hours=5)
        yield state(down, t, False, reason="DPD timed out")
        at = down + timedelta(seconds=1)
        while at < now - timedelta(minutes=2):
            yield ike(at, t, f"{rng.getrandbits(128):032x}", PSK[0].format(c=f"{rng.getrandbits(64):016X}"))
            at += timedelta(seconds=rng.uniform(6, 8))
    for t in flapping:
        for minutes in (55, 41, 26, 12):
            down = now - timedelta(minutes=minutes, seconds=rng.uniform(0, 30))
            yield state(down, t, False, reason="DPD timed out")
            yield state(down + timedelta(seconds=rng.uniform(4, 19)), t, True)
    failing_over = [t for t in tunnels if t.azure_gateway == tunnels[-1].azure_gateway]
    for t in failing_over:
        down = now - timedelta(minutes=30, seconds=rng.uniform(0, 2))
        yield state(down, t, False, IN_0, "GlobalStandbyChanged")
        yield state(down + timedelta(seconds=rng.uniform(40, 80)), t, True, IN_1)


def aws_records(tunnels: list[Tunnel], rng: random.Random, moment: datetime) -> list[LogRecord]:
    """Tunnel log events in the JSON output format (docs/sources.md#aws-log-fields), one stream per tunnel."""
    records: list[LogRecord] = []

    def add(t: Tunnel, k: int, at: float, details: str, p1: str, p2: str) -> None:
        stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S") + "Z"
        message = json.dumps({"event_timestamp": int(at), "timestamp": stamp, "details": details, "dpd_enabled": True,
                              "nat_t_detected": False, "ike_phase1_state": p1, "ike_phase2_state": p2})
        records.append(LogRecord(f"{t.aws_vpn_connection}-{t.aws_outside_ips[k]}", int(at * 1000), message))

    start, now = (moment - timedelta(hours=6)).timestamp(), moment.timestamp()
    troubled = len(tunnels) // 10
    one_down, both_down, flapping = tunnels[:troubled // 2], tunnels[troubled // 2:3 * troubled // 4], \
        tunnels[3 * troubled // 4:troubled]
    down_at = now - 25 * 60
    for t in tunnels:
        for k in (0, 1):
            broken = (t in one_down and k == 0) or t in both_down
            at, n = start + rng.uniform(0, 3600), 1
            while at < (down_at if broken else now):
                add(t, k, at, f"AWS tunnel processed response (id={n}) for CREATE_CHILD_SA", EST, EST)
                at, n = at + 3600 + rng.uniform(-30, 30), n + 1
            if broken:
                add(t, k, down_at + k, "AWS tunnel DPD timed out after 3 retransmits", DOWN, DOWN)
                at = down_at + 30
                while at < now - 60:
                    add(t, k, at, "AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: 198.51.100.7",
                        DOWN, DOWN)
                    at += 30
    for t in flapping:
        for minutes in (50, 33, 15):
            down = now - minutes * 60 + rng.uniform(0, 20)
            add(t, 1, down, "AWS tunnel DPD timed out after 3 retransmits", DOWN, DOWN)
            add(t, 1, down + rng.uniform(30, 90), "AWS tunnel processed response (id=1) for CREATE_CHILD_SA", EST, EST)
    return records


class TimedGroup:
    """The in-memory log group, with the time spent in its reads counted apart (CloudWatch's, in production)."""

    def __init__(self, inner: MemoryLogSource) -> None:
        self.inner, self.seconds = inner, 0.0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def read_group(self, request, sink=None):
        t0 = time.perf_counter()
        try:
            return self.inner.read_group(request, sink)
        finally:
            self.seconds += time.perf_counter() - t0


@dataclass
class Setup:
    """The fleet's log sources, and how much of the answer's time was spent inside them (the backend's)."""

    sources: Sources
    backend: Callable[[], float]
    described: str
    queries: Callable[[], str]
    cpu_is_bot: bool = False  # the backends' CPU is in other processes and threads: this thread's CPU is the bot's


@contextlib.contextmanager
def local_setup(azure: list[Tunnel], amazon: list[Tunnel], now: datetime) -> Iterator[Setup]:
    """The embedded path of exports and the demo: a local DuckDB workspace and an in-memory log group."""
    workspace = LocalWorkspace(label="benchmark workspace", origin="bench")
    loaded = workspace.load_rows(azure_rows(azure, random.Random(AZURE_SEED), now))
    group = MemoryLogSource(aws_records(amazon, random.Random(AWS_SEED), now), label="benchmark log group",
                            origin=GROUP, log_group=GROUP)
    timed, timed_group = Timed(workspace), TimedGroup(group)
    yield Setup(Sources(kql=[timed], aws=[timed_group]), lambda: timed.seconds + timed_group.seconds,
                f"{loaded:,} Azure rows in a local workspace, {len(group):,} AWS events in an in-memory log group",
                lambda: f"{timed.queries} KQL queries ({timed.rows:,} rows returned) in {timed.seconds:.2f} s, log "
                        f"group reads {timed_group.seconds:.2f} s")


#: The local Log Analytics endpoint in a child process (so its CPU, DuckDB and JSON encoding, is not the bot's).
ENDPOINT = """
import random, sys
from datetime import datetime
import bench_status as b
from support.loganalytics_server import LogAnalyticsServer
now = datetime.fromisoformat(sys.argv[1])
server = LogAnalyticsServer(now=lambda: now)
loaded = server.add_workspace(b.WORKSPACE_ID).load_rows(b.azure_rows(b.azure_tunnels(int(sys.argv[2])),
                                                                     random.Random(b.AZURE_SEED), now))
server.start()
print("endpoint", server.port, server.ca_path, server.token, loaded, flush=True)
sys.stdin.read()
server.stop()
"""


@contextlib.contextmanager
def endpoint_process(tunnels: int, now: datetime) -> Iterator[tuple[str, str, str, int]]:
    """(endpoint, CA file, token, rows loaded) of the local Log Analytics endpoint, running in a child process."""
    here = Path(__file__).resolve().parent
    path = os.pathsep.join(str(p) for p in (here, here.parent / "tests", here.parent))
    child = subprocess.Popen([sys.executable, "-c", ENDPOINT, now.isoformat(), str(tunnels)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": path})
    try:
        # DuckDB may draw its progress bar on stdout while loading: the endpoint's line is the one that says so
        line = next(line for line in child.stdout if line.startswith("endpoint "))
        _, port, ca, token, loaded = line.split()
        yield f"https://127.0.0.1:{port}", ca, token, int(loaded)
    finally:
        child.stdin.close()
        child.wait(timeout=60)


def time_in_transport() -> list[float]:
    """Seconds azure-core's transport spent sending requests and reading answers (the network and the service:
    the backend's); the SDK's decoding of the rows is after it, on the bot's side as in production."""
    from azure.core.pipeline.transport import RequestsTransport  # lazy load: azure-core, for this path only

    spent, send = [0.0], RequestsTransport.send

    def timed(self, request, **kwargs):
        t0 = time.perf_counter()
        try:
            return send(self, request, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t0

    RequestsTransport.send = timed
    return spent


@contextlib.contextmanager
def http_setup(azure: list[Tunnel], amazon: list[Tunnel], now: datetime) -> Iterator[Setup]:
    """Production's clients: the real LogsQueryClient over HTTPS against the local Log Analytics endpoint
    (tests/support/loganalytics_server.py, in a child process), and boto3 against moto (tests/support/moto_server.py,
    in this process; its time is inside the API calls, the backend's)."""
    from support.credentials import StaticTokenCredential  # lazy load: the tests' support, for this path only
    from support.moto_server import REGION, MotoServer  # lazy load: idem (moto)

    from diagnostics.aws.cloudwatch import CloudWatchLogsSource  # lazy load: boto3 only for this path
    from diagnostics.azure.loganalytics import AzureLogAnalyticsSource  # lazy load: azure-monitor-query, idem

    with endpoint_process(len(azure), now) as (endpoint, ca, token, loaded), MotoServer() as aws:
        cloudwatch = CloudWatchLogsSource(GROUP, region=REGION, endpoint_url=aws.endpoint, session=aws.session())
        put = seed(cloudwatch._client, aws_records(amazon, random.Random(AWS_SEED), now))
        cloudwatch.calls.clear()
        in_api, in_transport = time_in_api(cloudwatch), time_in_transport()
        azure_source = AzureLogAnalyticsSource(WORKSPACE_ID, endpoint=endpoint, connection_verify=ca,
                                               credential=StaticTokenCredential(token))
        try:
            yield Setup(Sources(kql=[azure_source], aws=[cloudwatch]), lambda: in_transport[0] + in_api[0],
                        f"{loaded:,} Azure rows behind the local Log Analytics endpoint (HTTPS, LogsQueryClient, child "
                        f"process), {put:,} AWS events in moto (boto3)",
                        lambda: f"Log Analytics {in_transport[0]:.2f} s in azure-core's transport (the endpoint's "
                                f"DuckDB and JSON, HTTPS); CloudWatch Logs {_calls(cloudwatch.calls)} in "
                                f"{in_api[0]:.2f} s (HTTP, moto, botocore's decoding)", cpu_is_bot=True)
        finally:
            azure_source.close()


def seed(logs, records: list[LogRecord]) -> int:
    """Every stream's events into moto's log group, in time order (as CloudWatch requires of one put)."""
    logs.create_log_group(logGroupName=GROUP)
    streams: dict[str, list[LogRecord]] = {}
    for record in records:
        streams.setdefault(record.stream, []).append(record)
    for stream, events in streams.items():
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        events.sort(key=lambda r: r.timestamp)
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream,
                            logEvents=[{"timestamp": r.timestamp, "message": r.message} for r in events])
    return len(records)


def _calls(calls) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(calls.items())) or "no call"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--azure", type=int, default=750, help="Azure tunnels (default 750)")
    parser.add_argument("--aws", type=int, default=250, help="AWS VPN connections (default 250)")
    parser.add_argument("--today", action="store_true",
                        help='ask "anything dropping today" (the drops since local midnight) rather than "status"')
    parser.add_argument("--via", choices=("local", "http", "both"), default="both",
                        help="local: the local workspace and an in-memory log group (exports, the demo); http: the "
                             "real LogsQueryClient against the local Log Analytics endpoint and boto3 against moto")
    args = parser.parse_args()
    azure, amazon = azure_tunnels(args.azure), aws_tunnels(args.aws)
    registry = TunnelRegistry(azure + amazon)
    for via in ("local", "http") if args.via == "both" else (args.via,):
        # moto keeps 14 days of events: the HTTP path's "now" is the clock's
        now = NOW if via == "local" else datetime.now(UTC).replace(second=0, microsecond=0)
        setup = local_setup if via == "local" else http_setup
        t0 = time.perf_counter()
        with setup(azure, amazon, now) as ready:
            print(f"[{via}] loaded {ready.described} ({len(azure)} Azure tunnels, {len(amazon)} AWS connections) in "
                  f"{time.perf_counter() - t0:.1f} s (not part of the answer)")
            run(registry, ready, now, args.today)


def run(registry: TunnelRegistry, ready: Setup, now: datetime, today: bool = False) -> None:
    before = rss_mb()
    reset_peak()
    t0, cpu0 = time.perf_counter(), time.thread_time()
    question = status_question([], registry, now, ZONE)
    if today:  # "anything dropping today": the period since local midnight, up to now
        midnight = now.astimezone(ZONE).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        question = dataclasses.replace(question, window=TimeWindow(midnight, now), explicit_window=True)
    answer = status_answer(question, registry, ready.sources, now)
    answered = time.perf_counter() - t0
    text, doc, blocks = render_text(answer), json.dumps(answer_to_json(answer)), render_blocks(answer)
    total, cpu = time.perf_counter() - t0, time.thread_time() - cpu0
    peak = peak_mb()
    fleet = answer.fleet
    backend = ready.backend()
    bot = total - backend
    states: dict[str, int] = {}
    for s in fleet.tunnels:
        states[s.state] = states.get(s.state, 0) + 1
    print(f"  fleet status of {len(fleet.tunnels)} tunnels: {states}; flapping "
          f"{sum(s.flapping for s in fleet.tunnels)}, without redundancy {sum(s.degraded for s in fleet.tunnels)}, "
          f"dropped in the period {sum(1 for s in fleet.tunnels if s.drops)}; causes so far "
          f"{dict(sorted(_count(s.cause.cause.value for s in fleet.tunnels if s.cause).items()))}")
    reads = _count(q.backend for q in fleet.queries)
    rows = {b: sum(q.rows for q in fleet.queries if q.backend == b) for b in reads}
    print(f"  reads: {', '.join(f'{n} {b} ({rows[b]:,} rows)' for b, n in reads.items())}; backend: {ready.queries()}")
    print(f"  time: total {total:.2f} s (answer {answered:.2f} s, rendering text+JSON+blocks {total - answered:.2f} "
          f"s) = backend {backend:.2f} s + bot side {bot:.2f} s (target < {TARGET_S:.0f} s bot side: "
          f"{'met' if bot < TARGET_S else 'NOT met'})")
    if ready.cpu_is_bot:
        print(f"  CPU of the bot's thread: {cpu:.2f} s (the backends run elsewhere; on a loaded machine the wall-clock "
              "bot side also counts the waits for a core)")
    print(f"  peak RSS {peak:.0f} MB (RSS before {before:.0f} MB, the DuckDB workspace included); answer: text "
          f"{len(text) / 1024:.0f} KB, JSON {len(doc) / 1024:.0f} KB, Slack blocks {len(blocks['blocks'])} "
          f"({'within' if not limit_problems(blocks) else 'OVER'} Slack's limits)")


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


if __name__ == "__main__":
    main()
