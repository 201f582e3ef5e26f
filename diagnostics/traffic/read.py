"""Reading metrics for answers and summaries: every tunnel's `Traffic` from whichever metrics sources cover it,
in one `read` per source (a source groups its calls per gateway itself), and the failures as lines.

A metrics source that raises, or no source covering a tunnel, never fails the answer: it becomes one line in
`failures`, and that tunnel gets no Traffic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from diagnostics.traffic.model import MetricsSource, Traffic
from diagnostics.tunnels import Tunnel

#: Windows up to this long are read at five minutes, longer ones hourly.
FINE_WINDOW_S = 2 * 86400


def metrics_interval(start: datetime, end: datetime) -> int:
    """The metrics' interval for a window: five minutes (the finest both clouds' tunnel metrics are read at,
    docs/sources.md#azure-vpn-metrics) up to two days, else an hour."""
    return 300 if (end - start).total_seconds() <= FINE_WINDOW_S else 3600


def read_traffic(sources: Sequence[MetricsSource], tunnels: Sequence[Tunnel], start: datetime, end: datetime,
                 interval_s: int) -> tuple[dict[str, Traffic], list[str]]:
    """{tunnel name: Traffic} for the tunnels some source covers, and one line per source that failed or tunnel no
    source covers."""
    found: dict[str, Traffic] = {}
    failures: list[str] = []
    left = list(tunnels)
    covered: set[str] = set()
    for source in sources:
        mine = [t for t in left if _covers(source, t)]
        if not mine:
            continue
        covered |= {t.name for t in mine}
        try:
            read = source.read(mine, start, end, interval_s)
        except Exception as exc:  # a source must not raise (MetricsSource), but one that does must not fail an answer
            failures.append(f"metrics from {source.label} could not be read: {type(exc).__name__}: {exc}")
            continue
        for tunnel in mine:
            if tunnel.name in read:
                found[tunnel.name] = read[tunnel.name]
        left = [t for t in left if t.name not in found]
    uncovered = [t.name for t in left if t.name not in covered]
    if uncovered and not sources:
        failures.append("no metrics source is configured, so traffic is not known")
    elif uncovered:
        failures.append(f"no metrics source covers {', '.join(uncovered)}")
    return found, failures


def _covers(source: MetricsSource, tunnel: Tunnel) -> bool:
    try:
        return source.covers(tunnel)
    except Exception:  # a source that cannot even tell is one that does not cover it
        return False
