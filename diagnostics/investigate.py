"""One investigation: a tunnel and a window in; drops, findings, queries and notes out.

The library entry point the CLI and Slack share:

    result = investigate(tunnel, start, end, Sources(kql=[workspace]), now=now, anchor=anchor)
    result.findings[0]   # the primary cause

One skeleton for every provider. A side (`diagnostics.azure.investigate.AzureSide`,
`diagnostics.aws.investigate.AwsSide`) reads its logs for a window into a `Reading`; the engine turns the reading
into findings; a tunnel with an Azure and an AWS end is read on both sides and the two answers are combined
(`diagnostics.link`). An empty window around an asked instant is widened once, to ±1 h, unless it lies within the
ingestion lag: there its emptiness is not evidence, and a drop found further back would answer a question nobody
asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from diagnostics import link
from diagnostics.at_once import one_at_a_time
from diagnostics.aws.investigate import AwsSide
from diagnostics.azure.investigate import AzureSide
from diagnostics.engine import explain
from diagnostics.model import Cause, Investigation, InvestigationError
from diagnostics.rules.logs_not_ingested import INGESTION_LAG
from diagnostics.rules.support.context import RuleContext
from diagnostics.sources import Sources
from diagnostics.timefmt import Progress
from diagnostics.timeline import Reading
from diagnostics.tunnels import Tunnel

#: An empty window around an asked instant is widened once: ±15 min becomes ±1 h.
WIDENED_HALF_WIDTH = timedelta(hours=1)


class Side(Protocol):
    """One provider's reads: what `AzureSide` and `AwsSide` do."""

    provider: str

    def missing(self, tunnel: Tunnel) -> str | None:
        """Why this side cannot be read at all (no source configured), or None."""

    def read(self, tunnel: Tunnel, start: datetime, end: datetime, now: datetime, anchor: datetime | None,
             progress: Progress | None = None, look_around: bool = True) -> Reading:
        """The window's reading; `SourcesFailed` when every source of the side failed."""


def investigate(
    tunnel: Tunnel,
    start: datetime,
    end: datetime,
    sources: Sources,
    now: datetime,
    anchor: datetime | None = None,
    tz: ZoneInfo | None = None,
    widen: bool = True,
    progress: Progress | None = None,
) -> Investigation:
    """Investigate `tunnel` over [start, end]; raises InvestigationError when it cannot be read at all."""
    tz = tz or ZoneInfo("UTC")
    end = min(end, now)
    sides: dict[str, Side] = {"azure": AzureSide(sources.kql, sources.metrics), "aws": AwsSide(sources.aws)}
    both = bool(tunnel.azure_gateway and tunnel.aws_vpn_connection)
    if both:  # its two ends are read at once (`diagnostics.link`)
        progress = one_at_a_time(progress)

    def window(lo: datetime, hi: datetime, look_around: bool) -> Investigation:
        def run(provider: str, part: Tunnel) -> Investigation:
            return run_side(sides[provider], part, lo, hi, now, anchor, tz, progress, look_around)

        if both:
            return link.investigate_both(tunnel, run, tz)
        return run(tunnel.provider, tunnel)

    # The days-long look for the nearest drops is made once, by the run that gives the answer.
    will_widen = widen and anchor is not None and end.timestamp() < now.timestamp() - INGESTION_LAG
    result = window(start, end, look_around=not will_widen)
    if will_widen and not result.drops and not result.failures and not _explained(result):
        assert anchor is not None
        wider = window(anchor - WIDENED_HALF_WIDTH, min(anchor + WIDENED_HALF_WIDTH, now), look_around=True)
        wider.queries = result.queries + wider.queries
        where = " on either side" if both else ""
        wider.notes.insert(0, f"Nothing{where} in {_span(start, end)}; widened the window to ±1 h around the asked "
                              "time.")
        result = wider
    return result


def _explained(result: Investigation) -> bool:
    """The window holds its own answer without a drop (AWS denied a route): nothing to widen for."""
    return bool(result.findings) and result.findings[0].cause is Cause.BGP_ROUTE_REJECTED


def run_side(side: Side, tunnel: Tunnel, start: datetime, end: datetime, now: datetime, anchor: datetime | None,
             tz: ZoneInfo, progress: Progress | None = None, look_around: bool = True) -> Investigation:
    """One provider's investigation of one window: read, then the rules."""
    why = side.missing(tunnel)
    if why:
        raise InvestigationError(why)
    reading = side.read(tunnel, start, end, now, anchor, progress, look_around)
    ctx = RuleContext.of(reading, start.timestamp(), end.timestamp(), now.timestamp(),
                         anchor.timestamp() if anchor else None, tz)
    diagnosis = explain(ctx)
    return Investigation(
        tunnel=tunnel, start=start, end=end, now=now, anchor=anchor, drops=ctx.window_drops,
        findings=diagnosis.findings, queries=reading.fetch.queries, notes=reading.fetch.notes + diagnosis.notes,
        failures=reading.fetch.failures, events=reading.timeline.events, caveats=reading.fetch.caveats,
    )


def _span(start: datetime, end: datetime) -> str:
    minutes = round((end - start).total_seconds() / 60)
    return f"the {minutes}-minute window" if minutes < 120 else f"the {round(minutes / 60)}-hour window"


__all__ = ["Investigation", "InvestigationError", "Side", "investigate", "run_side"]
