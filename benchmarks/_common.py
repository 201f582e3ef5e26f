"""Shared pieces of the benchmarks: the tunnel, the window, memory readings, and the rule stage as the bot runs it."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from _rows import GATEWAY, NOISE, REMOTE

from diagnostics.azure.investigate import CONTEXT_AFTER, CONTEXT_BEFORE, IKE_MARGIN
from diagnostics.azure.kql import TunnelQuery
from diagnostics.azure.timeline import build_timeline
from diagnostics.engine import diagnose
from diagnostics.model import Event, Finding
from diagnostics.rules.support.context import RuleContext
from diagnostics.timeline import Timeline
from diagnostics.tunnels import Tunnel

TUNNEL = Tunnel("paris", azure_gateway=GATEWAY, azure_remote_ip=REMOTE)
START = datetime(2025, 3, 3, tzinfo=UTC)
#: Rows are ~0.35 s apart: one failed negotiation (~7 rows) every 2-3 s, "Azure keeps retrying every few seconds".
SECONDS_PER_ROW = 0.35
SIZES = (10_000, 100_000, 1_000_000)


def window(n: int) -> tuple[datetime, datetime]:
    """The span the generator spreads ~n query rows (plus noise) over."""
    return START, START + timedelta(seconds=n / (1 - NOISE) * SECONDS_PER_ROW)


def bot_query(start: datetime, end: datetime, now: datetime) -> TunnelQuery:
    """The query `investigate()` sends for a window (same ranges as diagnostics.investigate._run)."""
    return TunnelQuery(gateway=TUNNEL.azure_gateway, remote_ip=TUNNEL.azure_remote_ip,
                       start=start - CONTEXT_BEFORE, end=min(end + CONTEXT_AFTER, now),
                       ike_start=start - IKE_MARGIN, ike_end=min(end + IKE_MARGIN, now))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def reset_peak() -> bool:
    """Restart the peak-RSS count (Linux: clear_refs 5), so ru_maxrss measures what follows only."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def best_of(runs: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def rule_context(timeline: Timeline, start: float, end: float, now: float, anchor: float | None) -> RuleContext:
    """RuleContext exactly as diagnostics.investigate._run builds it."""
    return RuleContext(
        timeline=timeline, start=start, end=end, now=now, anchor=anchor,
        rows_in_window=len(timeline.between(start, end)),
        latest_row=timeline.events[-1].ts if timeline.events else None,
    )


def run_rules(events: Sequence[Event], start: float, end: float, now: float, anchor: float | None) -> list[Finding]:
    """build_timeline + RuleContext + diagnose: everything investigate() does after fetching."""
    timeline = build_timeline(events, TUNNEL)
    return diagnose(rule_context(timeline, start, end, now, anchor))


def time_rules(events: Sequence[Event], start: float, end: float, now: float, anchor: float,
               runs: int = 1) -> tuple[float, int]:
    """Best-of-`runs` seconds for run_rules over `events`, and the window's drop count."""
    drops = len(build_timeline(events, TUNNEL).drops_between(start, end))
    return best_of(runs, lambda: run_rules(events, start, end, now, anchor)), drops


def time_in_api(source: Any) -> list[float]:
    """Seconds a `CloudWatchLogsSource` spent in API calls (request, the emulator, botocore's decoding of the answer),
    summed through botocore's before-call/after-call events: `[seconds]`, updated as calls are made."""
    spent, started = [0.0], [0.0]

    def before(**_):
        started[0] = time.perf_counter()

    def after(**_):
        spent[0] += time.perf_counter() - started[0]

    source._client.meta.events.register("before-call", before)
    source._client.meta.events.register("after-call", after)
    return spent


def code_env(code: str | None) -> dict[str, str]:
    """The environment of a child process that runs the source tree `code` (an earlier checkout, for `--baseline`)
    instead of this one; this process's own environment for None."""
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [code, env.get("PYTHONPATH")]))
    return env
