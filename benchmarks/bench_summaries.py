"""09:00 for many channels: 20 channels' daily summaries of 1,000 Azure tunnels due at once, and the questions
asked meanwhile.

    .venv/bin/python benchmarks/bench_summaries.py [--channels 20] [--tunnels 1000] [--askers 2] [--pause 1]

The fleet and its eight days of rows are bench_summary.py's (1,000 tunnels, 100 troubled), in the local DuckDB
workspace. The channels subscribe at 09:00 Europe/Paris: half to every tunnel, half to one of five 200-tunnel
regions. The bot's parts are wired as `vpnbot serve` wires them (its process niced like the answering process),
posting to the local fake Slack Web API (tests/support/fake_slack_api.py): the message, then the timeline picture.
`--askers` people ask "why did siteNNNN drop …" about troubled tunnels meanwhile, each waiting `--pause` s between
an answer and the next question, through `handlers.ask.ask` on the same workspace (their queries counted apart).

Four phases, one run: "10:00" (questions only: `--quiet` of them), then one scheduler tick with every channel due
"before" (each channel's summary made alone, on a thread as nice as the question workers: the build before), then
"after" (the real wiring: the channels due at once share one read per workspace, `SharedDays`, on a nicer thread),
and "10:00" again (the machine's load drifts). Printed per phase: the tick's total time, the backend queries it
sent, and the questions' count, median and p95.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench_summary import NOW, ZONE, Timed, generate, tunnels

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.fake_slack_api import FakeSlackAPI  # noqa: E402

from bot.config import SubscriptionSettings  # noqa: E402
from bot.schedule import Subscription  # noqa: E402
from bot.scheduler import Scheduler, lower_thread_priority  # noqa: E402
from bot.slack import summaries  # noqa: E402
from bot.slack.app import make_client  # noqa: E402
from bot.slack.core import BotOptions, SlackBot  # noqa: E402
from bot.slack.server import lower_priority  # noqa: E402
from bot.slack.subscriptions import load_subscriptions, summary_scheduler, summary_tunnels  # noqa: E402
from bot.state import StateStore  # noqa: E402
from bot.workspace import Workspace  # noqa: E402
from diagnostics.azure.local_workspace import LocalWorkspace  # noqa: E402
from diagnostics.sources import Sources  # noqa: E402
from diagnostics.tunnels import TunnelRegistry  # noqa: E402
from handlers.ask import ask  # noqa: E402

NINE = NOW + timedelta(seconds=30)  # 09:00:30 in Paris


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Askers:
    """`n` threads asking about troubled tunnels until stopped (or `limit` questions); each question's seconds."""

    def __init__(self, workspace: Workspace, n: int, troubled: int, pause: float, limit: int | None = None) -> None:
        self.workspace, self.n, self.troubled, self.limit, self.pause = workspace, n, troubled, limit, pause
        self.times: list[float] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._ask, args=(i,), daemon=True) for i in range(n)]

    def __enter__(self) -> Askers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()

    def wait(self) -> None:
        for thread in self._threads:
            thread.join()

    def _ask(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            site = f"site{rng.randrange(self.troubled):04d}"
            hour = rng.choice((1, 6, 10, 14, 20))
            started = time.perf_counter()
            ask(f"why did {site} drop between {hour}:00 and {hour + 2}:00 yesterday", self.workspace.registry,
                self.workspace.sources, NINE, ZONE)
            with self._lock:
                self.times.append(time.perf_counter() - started)
                if self.limit is not None and len(self.times) >= self.limit:
                    self.stop.set()
            self.stop.wait(self.pause)


def channels(n: int, all_tunnels: list) -> tuple[SubscriptionSettings, ...]:
    regions = [tuple(t.name for t in all_tunnels[k::5]) for k in range(5)]
    return tuple(SubscriptionSettings(f"C{i:08d}", "09:00", "Europe/Paris", () if i % 2 == 0 else regions[i % 5])
                 for i in range(n))


def before_scheduler(bot: SlackBot, subs: tuple[SubscriptionSettings, ...]) -> Scheduler:
    """The build before: each channel's summary made alone (no `prepare`), on a thread as nice as the workers."""
    wanted = [{"channel": s.channel, "time": s.time, "tz": s.timezone, "tunnels": s.tunnels} for s in subs]
    bot.state.sync_config_subscriptions(wanted, bot.clock())

    def run(sub: Subscription, day: date) -> str:
        names = summary_tunnels(bot, sub)
        return summaries.post_summary(bot, sub.channel, day, ZoneInfo(sub.tz), list(names) if names else None)

    return Scheduler(bot.state, lambda: load_subscriptions(bot.state), run, bot.clock, nice=0)


def phase(label: str, workspace: Workspace, timed: Timed, api: FakeSlackAPI, subs, asked: Workspace, args,
          make) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        state = StateStore(Path(tmp) / "state.db")
        bot = SlackBot(make_client(api.token, api.base_url), workspace, state, BotOptions(), lambda: NINE)
        scheduler = make(bot, subs)
        queries = timed.queries
        outcome: dict[str, float] = {}

        def tick() -> None:
            lower_thread_priority(scheduler.nice)  # as the scheduler's own thread does
            started = time.perf_counter()
            posted = scheduler.tick(NINE)
            outcome["seconds"] = time.perf_counter() - started
            outcome["posted"] = sum(o.status == "posted" for o in posted)

        with Askers(asked, args.askers, args.troubled, args.pause) as asking:
            thread = threading.Thread(target=tick)
            thread.start()
            thread.join()
        state.close()
    times = asking.times
    print(f"  {label:<22} tick {outcome['seconds']:6.1f} s for {outcome['posted']:.0f} channels, "
          f"{timed.queries - queries:3d} queries; {len(times):3d} questions meanwhile: median "
          f"{statistics.median(times):.2f} s, p95 {p95(times):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--tunnels", type=int, default=1000)
    parser.add_argument("--troubled", type=int, default=100)
    parser.add_argument("--askers", type=int, default=2)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds an asker waits before the next question")
    parser.add_argument("--quiet", type=int, default=30, help="questions asked at 10:00 (no summary running)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the runs of the day before are skipped as too late: said once here
    all_tunnels = tunnels(args.tunnels)
    local = LocalWorkspace(label="benchmark workspace", origin="bench")
    loaded = local.load_rows(generate(all_tunnels, args.troubled, random.Random(7)))
    timed = Timed(local)
    workspace = Workspace(TunnelRegistry(all_tunnels), Sources(kql=[timed]), "Europe/Paris")
    asked = Workspace(workspace.registry, Sources(kql=[Timed(local)]), "Europe/Paris")  # questions' queries apart
    lower_priority(BotOptions().worker_nice)  # the answering process's niceness, as `vpnbot serve` sets it
    subs = channels(args.channels, all_tunnels)
    print(f"bench_summaries: {args.channels} channels x {args.tunnels:,} tunnels due at 09:00 ({loaded:,} rows), "
          f"{args.askers} askers; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    with FakeSlackAPI() as api:
        with Askers(asked, args.askers, args.troubled, 0.0, limit=2 * args.askers) as warm:  # translations, caches
            warm.wait()
        quiet(asked, args, "10:00 (no summary)")
        phase("09:00 before", workspace, timed, api, subs, asked, args, before_scheduler)
        phase("09:00 after (shared)", workspace, timed, api, subs, asked, args, summary_scheduler)
        quiet(asked, args, "10:00 again")  # the machine's load drifts: the quiet figure on both sides


def quiet(asked: Workspace, args: argparse.Namespace, label: str) -> None:
    with Askers(asked, args.askers, args.troubled, args.pause, limit=args.quiet) as asking:
        asking.wait()
    times = asking.times
    print(f"  {label:<22} {'':>43}{len(times):3d} questions:           median {statistics.median(times):.2f} s, "
          f"p95 {p95(times):.2f} s")


if __name__ == "__main__":
    main()
