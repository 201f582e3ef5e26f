"""A Log Analytics workspace on this machine: DuckDB tables of AzureDiagnostics rows, queried with the SAME KQL
the bot sends to Azure, executed by duckdb-kql.

Rows come from exports people were sent (see `diagnostics.azure.exports`) or from the built-in demo workspace.
The only rewrite before execution resolves `column_ifexists("col", default)` against the table's own columns,
which duckdb-kql does not implement (docs/exports.md).
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb_kql

from diagnostics.azure.kql import STANDARD_COLUMNS
from diagnostics.azure.parser.rows import canonical_column, parse_time
from diagnostics.azure.sources import KqlResult
from diagnostics.model import SourceError

TABLE = "AzureDiagnostics"
ROWS_TABLE = "AzureDiagnostics_rows"
FETCH_BATCH = 20_000
_COLUMN_IFEXISTS = re.compile(r'column_ifexists\(\s*"([^"\\]+)"\s*,\s*("(?:[^"\\]|\\.)*"|[^()]*)\)')
KUSTO_TYPES = {"TIMESTAMP WITH TIME ZONE": "datetime", "TIMESTAMP": "datetime", "VARCHAR": "string",
               "BIGINT": "long", "INTEGER": "int", "DOUBLE": "real", "BOOLEAN": "bool", "JSON": "dynamic"}


def resolve_column_ifexists(query: str, columns: Iterable[str]) -> str:
    """`column_ifexists("remoteIP_s", "")` -> `remoteIP_s` when the table has that column, else `""`."""
    have = set(columns)
    return _COLUMN_IFEXISTS.sub(lambda m: m.group(1) if m.group(1) in have else m.group(2).strip(), query)


#: A `datetime(...)` literal as `kql.kql_datetime` writes it: digits and separators only.
_DATETIME_LITERAL = re.compile(r"datetime\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?Z)\)")
TRANSLATIONS_KEPT = 256


@functools.lru_cache(maxsize=TRANSLATIONS_KEPT)
def _template_sql(template: str, columns: tuple[str, ...]) -> str | None:
    """The SQL of `template` (datetime literals are placeholders), or None if it is not plain SQL text."""
    sql = duckdb_kql.to_sql(template, schema={TABLE: list(columns)})
    return None if getattr(sql, "parameters", None) else str(sql)


def _placeholder(i: int) -> str:
    return f"0001-01-01T00:00:00.{i:07d}Z"


def to_sql(kql: str, columns: Sequence[str]) -> str:
    """duckdb-kql's translation of `kql`, reused across queries that differ only in their datetime literals.

    Parsing and lowering KQL costs ~50-100 ms a query, more than running it on a demo-sized table; the bot's
    queries come in a handful of shapes per tunnel, each asked again for every time someone names. Datetime
    literals pass into the SQL verbatim, so the translation of a template whose literals are unique placeholders is
    the translation of every query of that shape, placeholders replaced. Anything else (strings, names) stays in the
    cache key.
    """
    literals = _DATETIME_LITERAL.findall(kql)
    if not literals:
        return duckdb_kql.to_sql(kql, schema={TABLE: list(columns)})
    counter = iter(range(len(literals)))
    template = _DATETIME_LITERAL.sub(lambda _: f"datetime({_placeholder(next(counter))})", kql)
    sql = _template_sql(template, tuple(columns))
    placeholders = [_placeholder(i) for i in range(len(literals))]
    if sql is None or any(p not in sql for p in placeholders):  # e.g. a literal the translator rewrote
        return duckdb_kql.to_sql(kql, schema={TABLE: list(columns)})
    for placeholder, literal in zip(placeholders, literals, strict=True):
        sql = sql.replace(placeholder, literal)
    return sql


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


MEMORY_LIMIT = "256MB"


def _close(con: Any, directory: tempfile.TemporaryDirectory) -> None:
    con.close()
    directory.cleanup()


class LocalWorkspace:
    """DuckDB-backed stand-in for a Log Analytics workspace (thread-safe: one cursor per query)."""

    backend = "local"

    def __init__(self, label: str = "local workspace", origin: str = "local", memory_limit: str = MEMORY_LIMIT):
        self.label = label
        self.origin = origin
        # A file in a private temporary directory rather than ":memory:": with a memory limit, DuckDB keeps
        # only its buffer pool in RAM, so a million-row export costs ~250 MB, not ~1 GB (benchmarks/).
        self._dir = tempfile.TemporaryDirectory(prefix="vpnbot-workspace-")
        self._con = duckdb_kql.connect(os.path.join(self._dir.name, "workspace.duckdb"))
        self._con.execute(f"SET memory_limit = '{memory_limit}'")
        self._con.execute(f"SET temp_directory = '{os.path.join(self._dir.name, 'spill')}'")
        weakref.finalize(self, _close, self._con, self._dir)
        self._lock = threading.Lock()
        self._columns: list[str] = []
        self.row_count = 0

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def load_rows(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Add AzureDiagnostics-shaped rows (column -> value), streamed: memory stays flat for any row count.

        Columns are the union of every row's keys plus the standard ones, so a category-specific column exists
        only once some row carried it, as in Log Analytics. Rows are staged as JSON lines because DuckDB's bulk
        reader is ~60x faster than row inserts.
        """
        seen: dict[str, None] = dict.fromkeys(STANDARD_COLUMNS)
        count = 0
        fd, path = tempfile.mkstemp(suffix=".jsonl", prefix="vpnbot-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for row in rows:
                    record = {canonical_column(k): _cell(v) for k, v in row.items()}
                    record["TimeGenerated"] = datetime.fromtimestamp(
                        parse_time(row.get("TimeGenerated", record.get("TimeGenerated"))), UTC).isoformat()
                    seen.update(dict.fromkeys(record))
                    fh.write(json.dumps(record))
                    fh.write("\n")
                    count += 1
            self._ensure_table(list(seen))
            if count:
                self._bulk_insert(path, list(seen))
        finally:
            os.unlink(path)
        self.row_count += count
        return count

    def _ensure_table(self, columns: Sequence[str]) -> None:
        ordered = ["TimeGenerated", *[c for c in columns if c != "TimeGenerated"]]
        with self._lock:
            if not self._columns:
                spec = ", ".join(f'"{c}" {"TIMESTAMPTZ" if c == "TimeGenerated" else "VARCHAR"}' for c in ordered)
                self._con.execute(f"CREATE TABLE {ROWS_TABLE} ({spec})")
                self._columns = ordered
                return
            for column in ordered:
                if column not in self._columns:
                    self._con.execute(f'ALTER TABLE {ROWS_TABLE} ADD COLUMN "{column}" VARCHAR')
                    self._columns.append(column)

    def _bulk_insert(self, path: str, columns: Sequence[str]) -> None:
        types = ", ".join(f"'{c}': '{'TIMESTAMPTZ' if c == 'TimeGenerated' else 'VARCHAR'}'" for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        with self._lock:
            self._con.execute(
                f"INSERT INTO {ROWS_TABLE} ({names}) SELECT {names} FROM "
                f"read_json(?, format='newline_delimited', columns={{{types}}})",
                [path],
            )

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult:
        """Run `query` over rows whose TimeGenerated is within [start, end], as Log Analytics' `timespan` does.

        Datetime columns come back as epoch seconds (floats): converting a million tz-aware datetimes costs
        more than the query itself.
        """
        if not self._columns:
            self._ensure_table(list(STANDARD_COLUMNS))
        cursor = self._con.cursor()
        cursor.execute("SET TimeZone='UTC'")
        cursor.execute(
            # Views cannot take parameters; these literals are formatted from datetimes, never from text.
            f"CREATE OR REPLACE TEMP VIEW {TABLE} AS SELECT * FROM main.{ROWS_TABLE} "
            f"WHERE TimeGenerated >= '{start.astimezone(UTC).isoformat()}'::TIMESTAMPTZ "
            f"AND TimeGenerated <= '{end.astimezone(UTC).isoformat()}'::TIMESTAMPTZ"
        )
        kql = resolve_column_ifexists(query, self._columns)
        try:
            sql = to_sql(kql, self._columns)
            described = cursor.execute(f"DESCRIBE {sql}").fetchall()
        except duckdb_kql.KqlError as exc:
            raise SourceError(f"{self.label}: the query is not valid KQL: {exc}") from exc
        except Exception as exc:  # duckdb raises its own error types on bad SQL
            raise SourceError(f"{self.label}: the query failed: {exc}") from exc
        names = [row[0] for row in described]
        types = [KUSTO_TYPES.get(str(row[1]).upper(), "string") for row in described]
        select = ", ".join(
            f'epoch_us("{n}") / 1e6 AS "{n}"' if t == "datetime" else f'"{n}"'
            for n, t in zip(names, types, strict=True)
        )
        cursor.execute(f"SELECT {select} FROM ({sql})", getattr(sql, "parameters", None) or None)
        return KqlResult(columns=names, rows=_batches(cursor), types=types)


def _batches(cursor: Any) -> Iterator[tuple[Any, ...]]:
    while True:
        batch = cursor.fetchmany(FETCH_BATCH)
        if not batch:
            cursor.close()
            return
        yield from batch
