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

A million rows are converted in batches (`Reread.batches`), a column at a time: a time column is formatted by
`time_texts` (one `datetime` per second of log rather than per row), and runs of equal times are found with one
comparison over the batch (`canonical_batches`). The cells are exactly those of the row-at-a-time conversion
(`tests/test_evidence_golden.py` pins the bundle's bytes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import chain, islice
from operator import ne
from typing import Any

from diagnostics.aws.investigate import request_for
from diagnostics.aws.sources import AwsLogSource
from diagnostics.azure.activity import split_summary
from diagnostics.azure.sources import KqlBackend
from diagnostics.model import QueryRecord, SourceError
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

TIE_LIMIT = 50_000
#: Rows converted, redacted and written together (a few MB at most).
BATCH = 2_000
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
    #: The same rows as `rows`, in lists of up to about `BATCH` (read one or the other, not both).
    row_batches: Iterator[list[list[Any]]] | None = None
    #: Says, once the rows are read, whether the source gave only part of them (Log Analytics reads a cut answer in
    #: parts as its rows are consumed, and a later part may fail).
    partial_after: Callable[[], str | None] = lambda: None

    def batches(self) -> Iterator[list[list[Any]]]:
        """The rows in lists, in their order: converted a batch at a time where the source says its column types."""
        if self.row_batches is not None:
            return self.row_batches
        return _chunks(self.rows)

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
    result = answered = backend.run_kql(query.text, query.start, query.end)
    out.partial_after = lambda: answered.partial_error
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
        out.row_batches = canonical_batches(_typed_batches(result.rows, convert), key)
        out.rows = chain.from_iterable(out.row_batches)
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


def _chunks(rows: Iterable[list[Any]], size: int = BATCH) -> Iterator[list[list[Any]]]:
    """`rows` in lists; when reading fails, the rows read before it first, then the error."""
    it = iter(rows)
    while True:
        batch: list[list[Any]] = []
        try:
            batch.extend(islice(it, size))
        except Exception:
            if batch:
                yield batch
            raise
        if not batch:
            return
        yield batch


def _typed_batches(rows: Iterable[Sequence[Any]], convert: list[tuple[int, Any]]) -> Iterator[list[list[Any]]]:
    """Every row with its cells ready to write (`convert`: a column's converter, for the columns that need one), a
    batch at a time, each converted column as a list (times by `time_texts`). Rows read before the source fails are
    yielded before its error is raised."""
    it = iter(rows)
    while True:
        batch: list[Sequence[Any]] = []
        error: BaseException | None = None
        try:
            batch.extend(islice(it, BATCH))
        except Exception as exc:  # the source failed mid-read (SourceError): the rows before it are kept
            error = exc
        if batch:
            if not convert:
                yield batch  # type: ignore[misc]  # rows as the source gave them (tuples or lists: read only)
            else:
                columns: list[Sequence[Any]] = list(zip(*batch, strict=True))
                for i, fn in convert:
                    columns[i] = time_texts(columns[i]) if fn is _time_cell else [
                        value if value is None else fn(value) for value in columns[i]]
                yield list(zip(*columns, strict=True))  # type: ignore[arg-type]
        if error is not None:
            raise error
        if not batch:
            return


def time_texts(values: Sequence[Any]) -> list[Any]:
    """`_time_cell` of each value (`time_text` of times and epoch numbers; None and anything else as it is), for a
    column of a batch. Epoch floats are split as `datetime.fromtimestamp` splits them (the fraction rounded
    half-even to the microsecond), and the date and time of a second are formatted once for the rows within it."""
    out: list[Any] = []
    append = out.append
    modf, isfinite = math.modf, math.isfinite
    second, prefix = None, ""
    for value in values:
        if value.__class__ is not float or not value >= 0 or not isfinite(value):
            append(_time_cell(value) if value is not None else None)
            continue
        frac, whole = modf(value)
        micro = round(frac * 1e6)
        if micro >= 1_000_000:
            whole += 1.0
            micro -= 1_000_000
        if whole != second:
            second, prefix = whole, datetime.fromtimestamp(whole, UTC).isoformat()[:19]
        if not micro:
            append(prefix + "Z")
        elif micro % 1000 == 0:
            append(f"{prefix}.{micro // 1000:03d}Z")
        else:
            append(f"{prefix}.{micro:06d}Z")
    return out


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


def canonical_batches(batches: Iterable[list[list[Any]]], key: int | None,
                      limit: int = TIE_LIMIT) -> Iterator[list[list[Any]]]:
    """`canonical` of the rows of `batches`, a batch at a time. A batch without two equal neighbouring keys (the
    usual case: times rarely repeat) is passed on in one piece; one with ties goes row by row as `canonical` does. The
    last run of a batch waits for the next one (it may go on there). When reading fails, the rows complete so far are
    yielded first and the run still open is dropped, as `canonical` drops it."""
    group: list[list[Any]] = []
    current: Any = object()
    for batch in batches:
        if not batch:
            continue
        out: list[list[Any]] = []
        keys = [row[key] for row in batch] if key is not None else [None] * len(batch)
        if keys[0] != current and all(map(ne, keys, islice(keys, 1, None))):
            if len(group) > 1:
                group.sort(key=_sort_key)
            out += group
            out += batch[:-1]
            group, current = [batch[-1]], keys[-1]
        else:
            for row, k in zip(batch, keys, strict=True):
                if k != current or len(group) >= limit:
                    if len(group) > 1:
                        group.sort(key=_sort_key)
                    out += group
                    group = [row]
                    current = k
                else:
                    group.append(row)
        if out:
            yield out
    if len(group) > 1:
        group.sort(key=_sort_key)
    if group:
        yield group


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


def observe_batch(reread: Reread, batch: Sequence[Sequence[Any]], indexes: Sequence[tuple[str, int]]) -> None:
    """`observe` of every row of `batch`, in order, a column at a time: each column's distinct values once."""
    try:
        distinct = [(name, i, [v for v in dict.fromkeys(row[i] for row in batch) if v]) for name, i in indexes]
    except TypeError:  # an unhashable cell: row by row
        distinct = []
    if not distinct or any(v.__class__ is not str for _, _, values in distinct for v in values):
        for row in batch:  # `observe` keeps str() of each non-text value as it comes, equal or not
            observe(reread, row, indexes)
        return
    observed = reread.observed
    # A column is first named in `observed` at the first row where it has a value (report order follows it).
    new = [(next(n for n, row in enumerate(batch) if row[i]), position, name)
           for position, (name, i, values) in enumerate(distinct) if values and name not in observed]
    for _, _, name in sorted(new):
        observed[name] = []
    for name, _, values in distinct:
        if values:
            seen = observed[name]
            for value in values:
                if len(seen) >= MAX_IDENTIFIER_VALUES:
                    break
                if value not in seen:
                    seen.append(value)


def identifier_indexes(columns: Sequence[str]) -> list[tuple[str, int]]:
    return [(name, columns.index(name)) for name in IDENTIFIER_COLUMNS if name in columns]
