"""Ack latency of two `vpnbot serve` replicas sharing one state store: PostgreSQL vs SQLite, in the same run.

For each store, in turn: the fake Slack Web API (its own process, as in bench_ack.py), two replicas of
`vpnbot serve --demo` (HTTP, 127.0.0.1) on that store, a warm-up, then `--rounds` bursts of `--n` signed
`app_mention` events, each sent together with its Slack retry (same event_id, `X-Slack-Retry-Num: 1`) to the *other*
replica: 2 × n connections opened at once, balanced by the client (no stickiness). It prints, per store, the ack
p50/p90/p99/max of the first deliveries and of the retries, how long until every question was answered, whether each
was answered exactly once (one ✅ per question once both replicas are idle), and the load average before and after.

The acknowledging process never touches the store (bot/slack/front.py queues the job; the claim is made by the
answering process), so the ack should not depend on the store: this checks it under the load the claims add. The time
to answer everything does depend on it (claims, heartbeats, audit rows).

PostgreSQL: `--pg-url URL` (or VPNBOT_TEST_PG_URL) uses that server, in a fresh schema; otherwise a throwaway cluster
(tests/support/postgres.py: fsync and synchronous_commit off, like SQLite's WAL with synchronous=NORMAL, which does
not flush each commit either) is started and removed.

    .venv/bin/python benchmarks/bench_replica_ack.py [--n 100] [--rounds 3] [--stores sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bench_ack import NOW, fire, percentile, start_fake_api, start_serve, wait_finished
from slack_sdk.signature import SignatureVerifier
from support.fake_slack_api import BOT_USER, SIGNING_SECRET, TEAM
from support.postgres import Cluster, Server, server_from_environment

QUESTION = "why did paris drop yesterday at 15:02"
CHANNEL = "C0BENCH"


@dataclass
class Figures:
    store: str
    firsts: list[tuple[int, float]]
    retries: list[tuple[int, float]]
    answered_s: float | None  # None: not every question was answered within the timeout
    questions: int
    checkmarks: int  # ✅ on the questions' messages once both replicas were idle
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def signed_event(url: str, user: str, ts: str, event_id: str, retry: bool) -> bytes:
    """One app_mention delivery as Slack sends it (signed; a retry carries X-Slack-Retry-Num)."""
    body = json.dumps({
        "token": "x", "team_id": TEAM, "api_app_id": "A0VPNBOT", "type": "event_callback", "event_id": event_id,
        "event_time": int(time.time()), "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        "event": {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {QUESTION}", "ts": ts,
                  "channel": CHANNEL, "event_ts": ts, "team": TEAM}})
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    parts = urlsplit(url)
    retried = "X-Slack-Retry-Num: 1\r\nX-Slack-Retry-Reason: http_timeout\r\n" if retry else ""
    return (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
            f"X-Slack-Request-Timestamp: {timestamp}\r\nX-Slack-Signature: {signature}\r\n{retried}"
            f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n{body}").encode()


def burst(urls: list[str], first: int, n: int) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """n questions from user `first`…, each with its retry to the other replica, all at once:
    (first deliveries' results, retries' results)."""
    targets = [urls[0], urls[1], urls[1], urls[0]]  # question i to replica i % 2, its retry to the other
    requests = []
    for i in range(first, first + n):
        ts, event_id = f"1763900000.{i:06d}", f"Ev{uuid.uuid4().hex[:12]}"
        requests += [signed_event(urls[0], f"U{i:07d}", ts, event_id, False),
                     signed_event(urls[0], f"U{i:07d}", ts, event_id, True)]
    results = fire(targets, requests)
    return results[0::2], results[1::2]


def idle(urls: list[str]) -> bool:
    def pending(url: str) -> int:
        with urlopen(url.replace("/slack/events", "/healthz"), timeout=10) as response:
            return int(json.load(response)["pending"])

    return all(pending(url) == 0 for url in urls)


def checkmarks(api_url: str) -> int:
    with urlopen(api_url.removesuffix("api/") + "_stats", timeout=10) as response:
        return int(json.load(response)["calls"].get("reactions.add:white_check_mark", 0))


def measure(store: str, state_db: str, args: argparse.Namespace) -> Figures:
    questions = args.warmup + args.n * args.rounds
    fake, api_url = start_fake_api(questions)
    replicas: list[subprocess.Popen[str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="vpnbot-bench-") as workdir:
            urls = []
            for _ in range(2):
                proc, url = start_serve(api_url, workdir, state_db=state_db if store == "postgresql"
                                        else str(Path(workdir, "vpnbot.db")))
                replicas.append(proc)
                urls.append(url)
            try:
                burst(urls, questions - args.warmup, args.warmup)  # imports, caches, specialised hot paths
                if not wait_finished(api_url, args.warmup, 120):
                    raise SystemExit(f"{store}: the warm-up questions were not answered")
                load_before = os.getloadavg()
                firsts: list[tuple[int, float]] = []
                retries: list[tuple[int, float]] = []
                began = time.perf_counter()
                for r in range(args.rounds):
                    if r:
                        time.sleep(args.gap)  # the replicas are still answering the previous burst
                    got = burst(urls, r * args.n, args.n)
                    firsts += got[0]
                    retries += got[1]
                all_in = wait_finished(api_url, questions, args.answers_timeout)
                answered_s = time.perf_counter() - began if all_in else None
                ends = time.monotonic() + 60
                while not idle(urls) and time.monotonic() < ends:
                    time.sleep(0.1)
                load_after = os.getloadavg()
                return Figures(store, firsts, retries, answered_s, questions, checkmarks(api_url),
                               load_before, load_after)
            finally:
                for proc in replicas:
                    proc.send_signal(signal.SIGTERM)
                for proc in replicas:
                    proc.wait(60)
    finally:
        fake.kill()
        fake.wait(10)


def report(figures: Figures) -> None:
    print(f"  {figures.store} (load average {' '.join(f'{x:.2f}' for x in figures.load_before)} before, "
          f"{' '.join(f'{x:.2f}' for x in figures.load_after)} after)")
    print("    deliveries    acks       p50 ms  p90 ms  p99 ms  max ms")
    for label, results in (("first", figures.firsts), ("retry", figures.retries)):
        ms = [seconds * 1000 for _, seconds in results]
        ok = sum(status == 200 for status, _ in results)
        print(f"    {label:<12} {ok:>5}/{len(results):<5} {percentile(ms, 50):7.1f} {percentile(ms, 90):7.1f} "
              f"{percentile(ms, 99):7.1f} {max(ms):7.1f}")
    answered = f"{figures.answered_s:.1f} s" if figures.answered_s is not None else "not within the timeout"
    once = "yes" if figures.checkmarks == figures.questions else f"NO ({figures.checkmarks} ✅ for {figures.questions})"
    print(f"    every question answered after: {answered}; each exactly once: {once}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="questions per burst, each with its retry (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="bursts (default 3)")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between bursts (default 1)")
    parser.add_argument("--warmup", type=int, default=20, help="questions answered before measuring")
    parser.add_argument("--stores", default="sqlite,postgresql", help="in this order (default sqlite,postgresql)")
    parser.add_argument("--pg-url", help="an existing PostgreSQL server (default: VPNBOT_TEST_PG_URL, else a "
                                         "throwaway cluster)")
    parser.add_argument("--answers-timeout", type=float, default=300, help="seconds to wait for every answer")
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if set(stores) - {"sqlite", "postgresql"}:
        parser.error("--stores takes sqlite and postgresql")

    results = []
    with tempfile.TemporaryDirectory(prefix="vpnbot-bench-pg-") as pg_dir:
        server: Server | None = None
        cluster: Cluster | None = None
        pg_note = ""
        if "postgresql" in stores:
            server = Server(args.pg_url) if args.pg_url else server_from_environment()
            if server is None:
                Path(pg_dir).chmod(0o755)  # the cluster's own user (not root) must reach its directory
                cluster = server = Cluster.start_new(Path(pg_dir) / "cluster")
                pg_note = " (a throwaway cluster: fsync and synchronous_commit off)"
        try:
            for store in stores:
                state_db = server.new_schema()[0] if store == "postgresql" and server is not None else ""
                results.append(measure(store, state_db, args))
        finally:
            if cluster is not None:
                cluster.remove()

    print(f"bench_replica_ack: two `vpnbot serve --demo` replicas (HTTP, 127.0.0.1) on one state store; "
          f"{args.rounds} bursts of {args.n} signed app_mention events, each with its retry to the other replica, "
          f"{args.gap:g} s apart; {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"  question: {QUESTION!r} (--now {NOW}); stores: {', '.join(stores)}{pg_note}")
    for figures in results:
        report(figures)
    return 0 if all(f.answered_s is not None and f.checkmarks == f.questions for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
