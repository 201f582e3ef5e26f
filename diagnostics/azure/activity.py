"""The gateway's summary row: what the tunnel query's one-row `summarize` says about the whole gateway.

The tunnel query (`diagnostics.azure.kql.build_tunnel_query`) carries, in the same round trip, one row about every
row the gateway logged in the range read, whatever its category or tunnel: its newest row, in how many 5-minute bins
before the window it logged, and its ARM resource id. It comes first (its TimeGenerated is null) and is taken off
before the rows stream into the timeline.

Why: "not ingested yet" judged by the clock alone (the last ~15 minutes, docs/sources.md#azure-ingestion-lag) misses
a workspace that lags longer. A gateway that logs every few minutes and whose newest row is half an hour old has
rows on the way, not a quiet tunnel (`diagnostics.rules.logs_not_ingested`). And every AzureDiagnostics row carries
the resource's `ResourceId` (docs/sources.md#azure-columns), which the evidence report needs when the configuration
does not name the subscription and resource group; one copy is enough, not one per row.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from diagnostics.azure.kql import GATEWAY_ACTIVE_BINS, GATEWAY_LATEST, RESOURCE_ID
from diagnostics.azure.parser.rows import RowError, parse_time
from diagnostics.azure.sources import KqlResult


@dataclass(frozen=True)
class GatewayActivity:
    """What the sources' summary rows say about the gateway, with the range they were counted over."""

    latest: float | None  # epoch seconds of the gateway's newest row in the range read, None: no row at all
    active_bins: int  # 5-minute bins before the window in which the gateway logged
    bins: int  # 5-minute bins before the window (in the range read)
    until: float  # the end of the range read: rows newer than this were not asked for
    resource_id: str = ""


@dataclass(frozen=True)
class SummaryRow:
    latest: float | None
    active_bins: int
    resource_id: str


SUMMARY_COLUMNS = frozenset({GATEWAY_LATEST, GATEWAY_ACTIVE_BINS, RESOURCE_ID})


def split_summary(result: KqlResult) -> tuple[SummaryRow | None, Iterable[Sequence[Any]]]:
    """The summary row of a tunnel query's result (None for a result without one) and the other rows, untouched.

    Only the first row is looked at: the query sorts the summary row first, so the million rows after it stream on
    at no extra cost."""
    if GATEWAY_LATEST not in result.columns:
        return None, result.rows
    rows = iter(result.rows)
    first = next(rows, None)
    if first is None:
        return None, rows
    cells = dict(zip(result.columns, first, strict=False))
    if cells.get("TimeGenerated") not in (None, ""):
        return None, itertools.chain([first], rows)
    return SummaryRow(_time(cells.get(GATEWAY_LATEST)), int(cells.get(GATEWAY_ACTIVE_BINS) or 0),
                      str(cells.get(RESOURCE_ID) or "")), rows


def log_columns(columns: Sequence[str]) -> list[str]:
    """A tunnel query's columns as its log rows carry them: the summary row's own columns named "" (they are empty
    on every other row), so that a log row's normaliser does not read them as the row's ResourceId."""
    if GATEWAY_LATEST not in columns:
        return list(columns)
    return ["" if c in SUMMARY_COLUMNS else c for c in columns]


def combined(rows: Sequence[SummaryRow], bins: int, until: float) -> GatewayActivity | None:
    """The summary rows of every source that answered, as one: the newest row of all, the busiest count."""
    if not rows:
        return None
    latest = max((r.latest for r in rows if r.latest is not None), default=None)
    return GatewayActivity(latest, max(r.active_bins for r in rows), bins, until,
                           next((r.resource_id for r in rows if r.resource_id), ""))


def _time(value: Any) -> float | None:
    try:
        return parse_time(value) if value not in (None, "") else None
    except RowError:
        return None
