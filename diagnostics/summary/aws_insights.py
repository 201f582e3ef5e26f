"""Logs Insights for the AWS daily summary's baseline: per-stream counts pushed down to CloudWatch, and the same
numbers computed in Python from a filter_log_events read when Insights cannot be used.

An AWS tunnel logs its phase states on every event (docs/sources.md#aws-log-fields), and Logs Insights has no window
function to find where a state changed, so Insights answers what it computes exactly: per stream, how many events
and the first and last one (`PRESENCE_QUERY`), and how many carried a down state (`DOWNS_QUERY`). Only the streams
with a down event can hold a drop; `summary.aws` reads those and replays them through the answers' timeline code.
moto ignores `stats` and returns raw rows (docs/sources.md#aws-test-emulator): such an answer is refused here and
the Python path (`DownSink`) computes the same numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnostics.aws.parser.rows import LogRecord
from diagnostics.aws.sources import AwsLogSource
from diagnostics.aws.streams import parse_stream_name
from diagnostics.model import QueryRecord, SourceError

#: Logs Insights returns at most 10,000 rows; a result this long may have been cut.
INSIGHTS_MAX_ROWS = 10_000
#: The phase-state keys, as Insights discovers them (case-sensitive): the JSON keys and the
#: documentation's labels (docs/sources.md#aws-log-fields).
STATE_KEYS = ("ike_phase1_state", "ike_phase2_state", "TunnelIKEPhase1State", "TunnelIKEPhase2State")

#: Per stream: events, first and last (which days a connection logged).
PRESENCE_QUERY = ("stats count(*) as events, earliest(@timestamp) as first_event, latest(@timestamp) as last_event "
                  f"by @logStream\n| limit {INSIGHTS_MAX_ROWS}")
#: Per stream: events with a down phase state, or a BGP session DOWN (the only streams that can hold a drop).
DOWNS_QUERY = ("filter " + " or ".join(f"{key} like /(?i)down/" for key in STATE_KEYS)
               + ' or (type = "BGPStatus" and status like /(?i)down/)'
               + f"\n| stats count(*) as down_events by @logStream\n| limit {INSIGHTS_MAX_ROWS}")
PRESENCE_FIELDS = ("@logStream", "events", "first_event", "last_event")
DOWNS_FIELDS = ("@logStream", "down_events")


@dataclass
class StreamStats:
    """One stream's numbers over the baseline read: what `PRESENCE_QUERY` and `DOWNS_QUERY` compute."""

    events: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    down_events: int = 0

    def add(self, timestamp_ms: int, down: bool) -> None:
        self.events += 1
        self.first_ms = timestamp_ms if self.first_ms is None else min(self.first_ms, timestamp_ms)
        self.last_ms = timestamp_ms if self.last_ms is None else max(self.last_ms, timestamp_ms)
        self.down_events += down


def streams_by_connection(stats: dict[str, StreamStats]) -> dict[str, dict[str, StreamStats]]:
    """vpn id -> {outside IP -> the numbers of its streams (IKE and BGP streams merged)}, one parse per stream."""
    out: dict[str, dict[str, StreamStats]] = {}
    for name, numbers in stats.items():
        parsed = parse_stream_name(name)
        if parsed is None or not numbers.events:
            continue
        merged = out.setdefault(parsed.vpn_connection, {}).setdefault(parsed.outside_ip, StreamStats())
        merged.events += numbers.events
        merged.down_events += numbers.down_events
        for ms in (numbers.first_ms, numbers.last_ms):
            if ms is not None:
                merged.first_ms = ms if merged.first_ms is None else min(merged.first_ms, ms)
                merged.last_ms = ms if merged.last_ms is None else max(merged.last_ms, ms)
    return out


def insights_stats(source: AwsLogSource, group: str, start: datetime, end: datetime, timeout_s: float,
                   notes: list[str], queries: list[QueryRecord]) -> dict[str, StreamStats] | None:
    """Per-stream numbers from Logs Insights over [start, end); None (with a note saying why) when the source has
    no Insights or its answer cannot be used, so the caller computes them in Python."""
    run = getattr(source, "run_insights", None)
    if run is None:
        return None
    last_second = end - timedelta(seconds=1)  # StartQuery's end second is included
    try:
        answers = run(group, [PRESENCE_QUERY, DOWNS_QUERY], start, last_second, timeout_s)
    except SourceError as exc:
        notes.append(f"Logs Insights could not be used for the baseline ({exc}); it was computed from a "
                         "filter_log_events read instead.")
        return None
    for answer in answers:
        queries.append(QueryRecord(source.backend, insights_command(group, answer.query, start, last_second,
                                                                        getattr(source, "region", "")),
                                       group, start, end, len(answer.results)))
    presence, downs = answers
    problem = _unusable(presence, PRESENCE_FIELDS) or _unusable(downs, DOWNS_FIELDS)
    if problem:
        notes.append(f"Logs Insights on {group}: {problem}; the baseline was computed from a filter_log_events "
                         "read instead.")
        return None
    return insights_stream_stats(presence.results, downs.results)


def _unusable(answer: Any, fields: Sequence[str]) -> str:
    """Why an Insights answer cannot be used ("" when it can)."""
    if answer.status != "Complete":
        waited = f" after {answer.waited_s:.0f} s" if answer.status == "Timeout" else ""
        return f"the query ended {answer.status}{waited}"
    if insights_rows(answer.results, fields) is None:
        return f"rows without the stats fields ({', '.join(fields)}): `stats` was not applied"
    if len(answer.results) >= INSIGHTS_MAX_ROWS:
        return f"{len(answer.results)} rows, possibly cut at Insights' {INSIGHTS_MAX_ROWS:,}"
    return ""


def insights_command(group: str, query: str, start: datetime, end: datetime, region: str = "") -> str:
    """The CLI command that runs the same Insights query (the query text verbatim)."""
    quoted = query.replace("'", "'\"'\"'")
    return ("aws logs start-query" + (f" --region {region}" if region else "") + f" --log-group-names {group} "
            f"--start-time {int(start.timestamp())} --end-time {int(end.timestamp())} \\\n  --query-string '{quoted}'")


def insights_rows(results: Iterable[Iterable[dict[str, str]]], fields: Sequence[str]) -> list[dict[str, str]] | None:
    """GetQueryResults' `results` (a list of rows, each a list of {"field", "value"}) as dicts; None when a row lacks
    one of `fields` (moto returns raw rows with only `@ptr` for a `stats` query)."""
    rows = []
    for row in results:
        cells = {str(c.get("field")): str(c.get("value", "")) for c in row}
        if any(f not in cells for f in fields):
            return None
        rows.append(cells)
    return rows


def insights_ms(value: str) -> int:
    """An Insights timestamp in epoch ms: real AWS writes `2026-11-14 22:00:03.000` (UTC), moto epoch ms."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def insights_stream_stats(presence: Iterable[Iterable[dict[str, str]]],
                          downs: Iterable[Iterable[dict[str, str]]]) -> dict[str, StreamStats] | None:
    """The two queries' results -> per-stream numbers (None when either lacks its fields)."""
    presence_rows = insights_rows(presence, PRESENCE_FIELDS)
    down_rows = insights_rows(downs, DOWNS_FIELDS)
    if presence_rows is None or down_rows is None:
        return None
    stats = {row["@logStream"]: StreamStats(int(float(row["events"])), insights_ms(row["first_event"]),
                                            insights_ms(row["last_event"])) for row in presence_rows}
    for row in down_rows:
        stats.setdefault(row["@logStream"], StreamStats()).down_events = int(float(row["down_events"]))
    return stats


def is_down_row(message: str) -> bool:
    """`DOWNS_QUERY`'s filter in Python: a phase state (either key spelling) containing "down" in any case, or a
    BGPStatus event whose status contains "down"."""
    if "down" not in message.lower():
        return False  # cheap: every match has the word in the raw text
    try:
        document = json.loads(message)
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    if any("down" in str(document[key]).lower() for key in STATE_KEYS if key in document):
        return True
    return document.get("type") == "BGPStatus" and "down" in str(document.get("status", "")).lower()


class DownSink:
    """Takes a baseline read page by page: computes what `PRESENCE_QUERY` and `DOWNS_QUERY` return (`stats`) and
    keeps each stream's events from its first down event on (`kept`), dropping the rest as it goes.

    The dropped events cannot change a drop or the downtime: a drop begins at a down transition, so a stream with
    no down event has none, and the events before a stream's first down event only say it was up (the drop then
    begins at that event either way). The causes, which need the messages before a drop, are not part of a
    baseline. Both baseline paths pass their events through this sink, so the timelines see the same rows."""

    def __init__(self) -> None:
        self.stats: dict[str, StreamStats] = {}
        self.kept: list[LogRecord] = []
        self.rows = 0

    def __call__(self, records: Iterable[LogRecord]) -> None:
        stats, kept = self.stats, self.kept
        for record in records:
            self.rows += 1
            numbers = stats.get(record.stream)
            if numbers is None:
                numbers = stats[record.stream] = StreamStats()
            numbers.add(record.timestamp, is_down_row(record.message))
            if numbers.down_events:
                kept.append(record)


def python_stream_stats(records: Iterable[LogRecord]) -> dict[str, StreamStats]:
    """What `PRESENCE_QUERY` and `DOWNS_QUERY` return, computed from the raw events of the same range."""
    sink = DownSink()
    sink(records)
    return sink.stats
