"""The rows behind an answer, re-read with the exact queries it ran and streamed out as cells.

The state store keeps the queries as run (text, backend, origin, time range), not the rows: a question can read
a million rows. A bundle re-runs each query, exactly as stored, against the source that ran it (matched by backend,
origin and kind: KQL for Azure, a tunnel log read for AWS), so the rows in the bundle are the rows of the queries
in the bundle, and support re-running a query gets the same rows. Log Analytics may have ingested late rows since
the answer (it can lag ~15 min, docs/sources.md#azure-ingestion-lag): the report says the rows were re-read when the
bundle was made, and how many each query returned then and now. The tunnel query's one summary row about the whole
gateway (`diagnostics.azure.activity`) is not a log row: only its resource id is kept, for the report.

Rows are streamed (the local DuckDB workspace fetches them in batches; Log Analytics answers in one response, as
the SDK reads it) and given a deterministic order: sources return rows with equal timestamps in any order, so each
run of equal timestamps is sorted by its cells before it is written (bounded: a run longer than `TIE_LIMIT` rows is
written as it came).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from diagnostics.aws.investigate import request_for
from diagnostics.aws.sources import AwsLogSource
from diagnostics.azure.activity import split_summary
from diagnostics.azure.sources import KqlBackend
from diagnostics.model import QueryRecord, SourceError
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

TIE_LIMIT = 50_000
#: Columns whose values identify the resource (shown in the report when the configuration does not say).
IDENTIFIER_COLUMNS = ("Resource", "ResourceGroup", "ResourceId", "_ResourceId", "SubscriptionId", "logStreamName")
MAX_IDENTIFIER_VALUES = 50
AWS_COLUMNS = ["time", "logStreamName", "timestamp", "message"]
BACKEND_NAMES = {"log-analytics": "Log Analytics", "cloudwatch-logs": "CloudWatch Logs", "local": "local"}


@dataclass
class Reread:
    """One stored query run again: its columns and rows (cells ready to write), or why it could not run."""

    index: int  # 1-based, in the order the answer ran the queries
    query: QueryRecord
    kind: str  # "kql" | "aws"
    columns: list[str] = field(default_factory=list)
    time_columns: frozenset[int] = frozenset()
    rows: Iterator[list[Any]] = field(default_factory=lambda: iter(()))
    source_label: str = ""
    error: str = ""  # why there are no rows
    partial: str = ""  # the source returned only part of the rows
    count: int = 0  # rows written (filled in while streaming)
    observed: dict[str, list[str]] = field(default_factory=dict)  # identifier column -> distinct values

    @property
    def stem(self) -> str:
        return f"q{self.index:02d}-{self.query.backend}"

    @property
    def ok(self) -> bool:
        return not self.error


def query_kind(query: QueryRecord) -> str:
    """AWS reads are stored as `aws logs filter-log-events` command lines; everything else is KQL."""
    return "aws" if "filter-log-events" in query.text else "kql"


def match_source(query: QueryRecord, sources: Sources) -> KqlBackend | AwsLogSource | None:
    """The source that ran `query`: same kind, same backend, same origin (workspace id, log group, file names).
    Kind matters: the demo's Azure workspace and AWS logs are both `local` from `demo`."""
    candidates: Sequence[KqlBackend | AwsLogSource] = sources.aws if query_kind(query) == "aws" else sources.kql
    return next((s for s in candidates if s.backend == query.backend and s.origin == query.origin), None)


def reread(index: int, query: QueryRecord, sources: Sources, tunnel: Tunnel | None) -> Reread:
    """Run `query` again as stored. Never raises for a source problem: the reason is kept for the report."""
    out = Reread(index, query, query_kind(query))
    if query.start is None or query.end is None:
        out.error = "the stored query has no time range, so it cannot be re-run exactly"
        return out
    backend = match_source(query, sources)
    if backend is None:
        name = BACKEND_NAMES.get(query.backend, query.backend)
        out.error = (f"no {name} source with origin {query.origin!r} is configured here; run with the configuration "
                     "or exports the question was answered from")
        return out
    out.source_label = backend.label
    try:
        if out.kind == "aws":
            _aws(out, backend, tunnel)  # type: ignore[arg-type]
        else:
            _kql(out, backend)  # type: ignore[arg-type]
    except SourceError as exc:
        out.error = str(exc)
        out.rows = iter(())
    return out


def _kql(out: Reread, backend: KqlBackend) -> None:
    query = out.query
    result = backend.run_kql(query.text, query.start, query.end)
    # The tunnel query's summary row about the whole gateway is not a log row: its resource id is kept for the
    # report, the rows files hold the log rows (as many as the answer counted).
    summary, rows = split_summary(result)
    if summary is not None and summary.resource_id:
        out.observed.setdefault("ResourceId", []).append(summary.resource_id)
    result = replace(result, rows=rows)
    out.columns = list(result.columns)
    types = list(result.types) + [""] * (len(out.columns) - len(result.types))
    out.time_columns = frozenset(i for i, (name, kind) in enumerate(zip(out.columns, types, strict=True))
                                 if kind == "datetime" or name == "TimeGenerated")
    out.partial = result.partial_error or ""
    key = min(out.time_columns) if out.time_columns else None
    if result.types and len(result.types) == len(out.columns):
        convert = _converters(result.types, out.time_columns)
        out.rows = canonical((_typed_cells(row, convert) for row in result.rows), key)
    else:  # a source that does not say its column types: every cell looked at
        out.rows = canonical((_kql_cells(row, out.time_columns) for row in result.rows), key)


def _aws(out: Reread, source: AwsLogSource, tunnel: Tunnel | None) -> None:
    query = out.query
    if tunnel is None or not tunnel.aws_vpn_connection:
        out.error = "the tunnel's AWS VPN connection is no longer configured, so its logs cannot be read again"
        return
    assert query.start is not None and query.end is not None
    read = source.read_tunnel_logs(request_for(tunnel, query.start, query.end))
    out.columns = list(AWS_COLUMNS)
    out.time_columns = frozenset({0})
    # The read is a list already (CloudWatch pages are collected by the source); sorted fully, so the order does
    # not depend on how CloudWatch interleaved the streams.
    records = sorted(read.records, key=lambda r: (r.timestamp, r.stream, r.message))
    out.rows = ([time_text(r.timestamp / 1000), r.stream, r.timestamp, r.message] for r in records)


def _converters(types: Sequence[str], time_columns: frozenset[int]) -> list[tuple[int, Any]]:
    """Per column, what a cell needs before it is written: nothing for text (most columns: a cell is then only
    copied, which is what keeps a million rows cheap), a time for datetimes, JSON text for dynamic values."""
    out: list[tuple[int, Any]] = []
    for i, kind in enumerate(types):
        if i in time_columns:
            out.append((i, _time_cell))
        elif kind not in ("string", "guid"):
            out.append((i, _other_cell))
    return out


def _typed_cells(row: Sequence[Any], convert: list[tuple[int, Any]]) -> list[Any]:
    cells = list(row)
    for i, fn in convert:
        value = cells[i]
        if value is not None:
            cells[i] = fn(value)
    return cells


def _time_cell(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return time_text(value)
    return value


def _other_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return value


def _kql_cells(row: Sequence[Any], time_columns: frozenset[int]) -> list[Any]:
    cells = []
    for i, value in enumerate(row):
        if value is None or value.__class__ is str:
            cells.append(value)
        elif isinstance(value, datetime) or (i in time_columns and isinstance(value, int | float)
                                             and not isinstance(value, bool)):
            cells.append(time_text(value))
        elif isinstance(value, dict | list):
            cells.append(json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
        else:
            cells.append(value)
    return cells


def time_text(value: float | datetime) -> str:
    """ISO 8601 UTC with `Z`, to the millisecond when that is exact, else to the microsecond (Azure logs 100 ns
    ticks; DuckDB keeps microseconds): no precision of the source is lost, and the same instant always reads the
    same."""
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value, UTC)
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = moment.isoformat(timespec="microseconds")  # "…T14:02:06.471000+00:00": faster than strftime
    micro = moment.microsecond
    if not micro:
        return text[:19] + "Z"
    return text[:23] + "Z" if micro % 1000 == 0 else text[:26] + "Z"


def canonical(rows: Iterable[list[Any]], key: int | None, limit: int = TIE_LIMIT) -> Iterator[list[Any]]:
    """`rows` with each run of equal `key` cells sorted by all cells; other order is kept as it came."""
    group: list[list[Any]] = []
    current: Any = object()
    for row in rows:
        k = row[key] if key is not None else None
        if k != current or len(group) >= limit:
            if len(group) > 1:
                group.sort(key=_sort_key)
            yield from group
            group = [row]
            current = k
        else:
            group.append(row)
    if len(group) > 1:
        group.sort(key=_sort_key)
    yield from group


def _sort_key(row: list[Any]) -> tuple[str, ...]:
    return tuple("" if c is None else str(c) for c in row)


def observe(reread: Reread, row: Sequence[Any], indexes: Sequence[tuple[str, int]]) -> None:
    """Remember the distinct values of the identifier columns (a few per column)."""
    for name, i in indexes:
        value = row[i]
        if value:
            seen = reread.observed.setdefault(name, [])
            if value not in seen and len(seen) < MAX_IDENTIFIER_VALUES:
                seen.append(str(value))


def identifier_indexes(columns: Sequence[str]) -> list[tuple[str, int]]:
    return [(name, columns.index(name)) for name in IDENTIFIER_COLUMNS if name in columns]
