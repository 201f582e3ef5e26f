"""A Log Analytics workspace on this machine: DuckDB tables of AzureDiagnostics rows, queried with the SAME KQL
the bot sends to Azure, executed by duckdb-kql.

Rows come from exports people were sent (see `diagnostics.azure.exports`) or from the built-in demo workspace.
The only rewrites before execution resolve `column_ifexists("col", default)` against the table's own columns,
and `ingestion_time()` to the `_IngestionTime` column of test data (else TimeGenerated), which duckdb-kql does not
implement (docs/exports.md, docs/watch.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from diagnostics.azure.kql import STANDARD_COLUMNS
from diagnostics.azure.parser.rows import canonical_column, parse_time
from diagnostics.azure.sources import KqlResult
from diagnostics.azure.workspace_cache import TranslationStore
from diagnostics.duck import connect as duck_connect
from diagnostics.model import SourceError

TABLE = "AzureDiagnostics"
ROWS_TABLE = "AzureDiagnostics_rows"
FETCH_BATCH = 20_000
_COLUMN_IFEXISTS = re.compile(r'column_ifexists\(\s*"([^"\\]+)"\s*,\s*("(?:[^"\\]|\\.)*"|[^()]*)\)')
KUSTO_TYPES = {"TIMESTAMP WITH TIME ZONE": "datetime", "TIMESTAMP": "datetime", "VARCHAR": "string",
               "BIGINT": "long", "INTEGER": "int", "DOUBLE": "real", "BOOLEAN": "bool", "JSON": "dynamic"}


#: The column of the test data (and of nothing else) that says when a row became queryable: `ingestion_time()`,
#: which duckdb-kql does not implement, reads it; rows without one (exports, the demo) were ingested at their
#: TimeGenerated (docs/watch.md).
INGESTION_COLUMN = "_IngestionTime"
#: Columns stored as timestamps; every other column is text, as Log Analytics' `_s` columns are.
TIME_COLUMNS = ("TimeGenerated", INGESTION_COLUMN)
_INGESTION_TIME = re.compile(r"\bingestion_time\(\s*\)")


def resolve_ingestion_time(query: str, columns: Iterable[str]) -> str:
    """`ingestion_time()` -> the `_IngestionTime` column when the rows have one, else `TimeGenerated`."""
    column = INGESTION_COLUMN if INGESTION_COLUMN in set(columns) else "TimeGenerated"
    return _INGESTION_TIME.sub(column, query)


def resolve_column_ifexists(query: str, columns: Iterable[str]) -> str:
    """`column_ifexists("remoteIP_s", "")` -> `remoteIP_s` when the table has that column, else `""`."""
    have = set(columns)
    return _COLUMN_IFEXISTS.sub(lambda m: m.group(1) if m.group(1) in have else m.group(2).strip(), query)


#: A `datetime(...)` literal as `kql.kql_datetime` writes it: digits and separators only.
_DATETIME_LITERAL = re.compile(r"datetime\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?Z)\)")
TRANSLATIONS_KEPT = 256
#: A time literal as it reaches the SQL (`'2026-11-21T14:02:00Z'`): the only part of a query shape's SQL that changes.
_SQL_TIME_LITERAL = re.compile(r"'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?Z'")


def _translate(kql: str, columns: Sequence[str]) -> Any:
    """duckdb-kql's translation. Its KQL parser costs a fresh process ~0.3-0.5 s to import, so it loads only when a
    query shape has no stored translation (`TranslationStore`)."""
    import duckdb_kql  # lazy load: the KQL parser, only for a shape never translated before

    return duckdb_kql.to_sql(kql, schema={TABLE: list(columns)})


@functools.lru_cache(maxsize=1)
def kql_version() -> str:
    """Which duckdb-kql is installed (part of a stored translation's key), told without importing it or
    importlib.metadata (~30 ms each in a fresh process): its `_version.py`, else its `__init__.py`'s size and time."""
    from importlib import util  # lazy load: asked only when a translation is stored or looked up

    spec = util.find_spec("duckdb_kql")
    if spec is None or not spec.origin:
        return ""
    origin = Path(spec.origin)
    try:
        return hashlib.sha256(origin.with_name("_version.py").read_bytes()).hexdigest()[:16]
    except OSError:
        try:
            stat = origin.stat()
        except OSError:
            return ""
        return f"{stat.st_size}-{stat.st_mtime_ns}"


@functools.lru_cache(maxsize=TRANSLATIONS_KEPT)
def _template_sql(template: str, columns: tuple[str, ...]) -> str | None:
    """The SQL of `template` (datetime literals are placeholders), or None if it is not plain SQL text."""
    sql = _translate(template, columns)
    return None if getattr(sql, "parameters", None) else str(sql)


def _placeholder(i: int) -> str:
    return f"0001-01-01T00:00:00.{i:07d}Z"


def _stored_template_sql(template: str, columns: tuple[str, ...], store: TranslationStore | None) -> str | None:
    """`_template_sql`, also kept on disk in `store` (keyed by the template, the columns and duckdb-kql's version)."""
    if store is None:
        return _template_sql(template, columns)
    key = hashlib.sha256("\x1f".join([kql_version(), template, *columns]).encode()).hexdigest()
    sql = store.get(key)
    if sql is None:
        sql = _template_sql(template, columns)
        if sql is not None:
            store.put(key, sql)
    return sql


def to_sql(kql: str, columns: Sequence[str], store: TranslationStore | None = None) -> str:
    """duckdb-kql's translation of `kql`, reused across queries that differ only in their datetime literals.

    Parsing and lowering KQL costs ~50-100 ms a query, more than running it on a demo-sized table; the bot's
    queries come in a handful of shapes per tunnel, each asked again for every time someone names. Datetime
    literals pass into the SQL verbatim, so the translation of a template whose literals are unique placeholders is
    the translation of every query of that shape, placeholders replaced. Anything else (strings, names) stays in the
    cache key.
    """
    literals = _DATETIME_LITERAL.findall(kql)
    if not literals:
        return _translate(kql, columns)
    counter = iter(range(len(literals)))
    template = _DATETIME_LITERAL.sub(lambda _: f"datetime({_placeholder(next(counter))})", kql)
    sql = _stored_template_sql(template, tuple(columns), store)
    placeholders = [_placeholder(i) for i in range(len(literals))]
    if sql is None or any(p not in sql for p in placeholders):  # e.g. a literal the translator rewrote
        return _translate(kql, columns)
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
        self._con = duck_connect(os.path.join(self._dir.name, "workspace.duckdb"))
        self._con.execute("SET TimeZone='UTC'")  # what duckdb_kql.connect does: KQL's times are UTC
        self._con.execute(f"SET memory_limit = '{memory_limit}'")
        self._con.execute(f"SET temp_directory = '{os.path.join(self._dir.name, 'spill')}'")
        weakref.finalize(self, _close, self._con, self._dir)
        self._lock = threading.Lock()
        self._columns: list[str] = []  # of every row source: this workspace's own table and attached files
        self._own: list[str] = []  # of this workspace's own table (rows given to `load_rows`)
        self.row_count = 0
        #: Loaded export files read in place (`attach`): (schema, its columns, the gateway of rows naming none).
        self._attached: list[tuple[str, list[str], str | None]] = []
        #: What the answers must say first about these rows (an export lacking a column, `diagnostics.azure.
        #: exports`), with the gateways each is about.
        self.caveats: list[tuple[frozenset[str], str]] = []
        #: How these rows were read (a column told by its values, local times, rows given twice), for the answers'
        #: notes, with the gateways each is about.
        self.reading: list[tuple[frozenset[str], str]] = []
        self._keep: list[Any] = []
        #: Where translations of the queries' shapes are kept between processes (`workspace_cache`), if anywhere.
        self.translations: TranslationStore | None = None
        #: The columns each query shape returns (`_described`).
        self._shapes: dict[tuple[Any, ...], tuple[list[str], list[str]]] = {}

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def caveats_for(self, gateway: str) -> list[str]:
        """The caveats about `gateway`'s rows (the Azure side of an investigation says them first)."""
        return [text for gateways, text in self.caveats if gateway.upper() in gateways]

    def notes_for(self, gateway: str) -> list[str]:
        """How `gateway`'s rows were read (the Azure side of an investigation adds them to its notes)."""
        return [text for gateways, text in self.reading if gateway.upper() in gateways]

    def attach(self, path: str, default_resource: str | None = None, keep: Any = None,
               verify: Sequence[str] | None = None) -> int:
        """Read the `AzureDiagnostics_rows` of another DuckDB file (a loaded export, `diagnostics.azure.
        export_load`) in place, read-only, as part of this workspace; its rows without a `Resource` are
        `default_resource`'s. `keep` stays referenced as long as the workspace (the file's temporary directory).
        `verify`: read every block of the rows and of these other tables now (a cached file truncated or damaged
        since fails here, with DuckDB's error, rather than in the middle of a question). Returns its row count."""
        with self._lock:
            self._keep.append(keep)
            schema = f"export{len(self._attached) + 1}"
            self._con.execute(f"ATTACH {_sql_text(path)} AS {schema} (READ_ONLY)")
            columns = [r[0] for r in self._con.execute(f"DESCRIBE {schema}.main.{ROWS_TABLE}").fetchall()]
            count = self._con.execute(f"SELECT count(*) FROM {schema}.main.{ROWS_TABLE}").fetchone()[0]
            for table in (ROWS_TABLE, *verify) if verify is not None else ():
                self._con.execute(f"SELECT bit_xor(hash(COLUMNS(*))) FROM {schema}.main.{table}").fetchall()
            self._attached.append((schema, columns, default_resource))
            if not self._columns:
                self._columns = ["TimeGenerated"]
            self._columns += [c for c in columns if c not in self._columns]
        self.row_count += count
        return count

    def save(self, path: str) -> None:
        """Write this workspace's own rows into a new DuckDB file at `path`, as `attach` reads them (the demo's
        on-disk cache, bot/demo_cache.py)."""
        if not self._own:
            self._ensure_table(list(STANDARD_COLUMNS))
        with self._lock:
            self._con.execute(f"ATTACH {_sql_text(path)} AS saved")
            try:
                self._con.execute(f"CREATE TABLE saved.main.{ROWS_TABLE} AS SELECT * FROM main.{ROWS_TABLE}")
            finally:
                self._con.execute("DETACH saved")

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
                    if INGESTION_COLUMN in record:  # a test row's ingestion time; none: at its TimeGenerated
                        record[INGESTION_COLUMN] = datetime.fromtimestamp(parse_time(
                            row[INGESTION_COLUMN] or record["TimeGenerated"]), UTC).isoformat()
                    seen.update(dict.fromkeys(record))
                    fh.write(json.dumps(record))
                    fh.write("\n")
                    count += 1
            self._ensure_table(list(seen))
            if count:
                self._bulk_insert(path, list(seen))
            if INGESTION_COLUMN in self._own:  # rows given without one were ingested at their TimeGenerated
                with self._lock:
                    self._con.execute(f'UPDATE {ROWS_TABLE} SET "{INGESTION_COLUMN}" = TimeGenerated '
                                      f'WHERE "{INGESTION_COLUMN}" IS NULL')
        finally:
            os.unlink(path)
        self.row_count += count
        return count

    def _ensure_table(self, columns: Sequence[str]) -> None:
        ordered = ["TimeGenerated", *[c for c in columns if c != "TimeGenerated"]]
        with self._lock:
            if not self._own:
                spec = ", ".join(f'"{c}" {"TIMESTAMPTZ" if c in TIME_COLUMNS else "VARCHAR"}' for c in ordered)
                self._con.execute(f"CREATE TABLE {ROWS_TABLE} ({spec})")
                self._own = ordered
                self._columns += [c for c in ordered if c not in self._columns]
                return
            for column in ordered:
                if column not in self._own:
                    kind = "TIMESTAMPTZ" if column in TIME_COLUMNS else "VARCHAR"
                    self._con.execute(f'ALTER TABLE {ROWS_TABLE} ADD COLUMN "{column}" {kind}')
                    self._own.append(column)
                    if column not in self._columns:
                        self._columns.append(column)

    def _bulk_insert(self, path: str, columns: Sequence[str]) -> None:
        types = ", ".join(f"'{c}': '{'TIMESTAMPTZ' if c in TIME_COLUMNS else 'VARCHAR'}'" for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        with self._lock:
            self._con.execute(
                f"INSERT INTO {ROWS_TABLE} ({names}) SELECT {names} FROM "
                f"read_json(?, format='newline_delimited', columns={{{types}}})",
                [path],
            )

    def run_kql(self, query: str, start: datetime, end: datetime, ingested_by: datetime | None = None) -> KqlResult:
        """Run `query` over rows whose TimeGenerated is within [start, end], as Log Analytics' `timespan` does
        (`ingested_by`: only the rows whose `_IngestionTime` is not later: the test endpoint's rows arriving late).

        Datetime columns come back as epoch seconds (floats): converting a million tz-aware datetimes costs
        more than the query itself.
        """
        if not self._columns:
            self._ensure_table(list(STANDARD_COLUMNS))
        cursor = self._con.cursor()
        cursor.execute("SET TimeZone='UTC'")
        cursor.execute(f"CREATE OR REPLACE TEMP VIEW {TABLE} AS {self._rows_between(start, end, ingested_by)}")
        kql = resolve_ingestion_time(resolve_column_ifexists(query, self._columns), self._columns)
        try:
            sql = to_sql(kql, self._columns, self.translations)
            names, types = self._described(cursor, sql)
        except Exception as exc:  # duckdb raises its own error types on bad SQL
            # duckdb-kql is loaded if it raised: its error type is looked up, not imported (`_translate`)
            if isinstance(exc, getattr(sys.modules.get("duckdb_kql"), "KqlError", ())):
                raise SourceError(f"{self.label}: the query is not valid KQL: {exc}") from exc
            raise SourceError(f"{self.label}: the query failed: {exc}") from exc
        select = ", ".join(
            f'epoch_us("{n}") / 1e6 AS "{n}"' if t == "datetime" else f'"{n}"'
            for n, t in zip(names, types, strict=True)
        )
        cursor.execute(f"SELECT {select} FROM ({sql})", getattr(sql, "parameters", None) or None)
        return KqlResult(columns=names, rows=_batches(cursor), types=types)

    def _described(self, cursor: Any, sql: str) -> tuple[list[str], list[str]]:
        """The names and Kusto types of the columns `sql` returns. DuckDB binds a translated query in ~10 ms, as long
        as it takes to run one on the demo; what it returns depends on the query's shape and the tables' columns,
        not on its time literals, so it is asked once per shape."""
        plain = not getattr(sql, "parameters", None)
        key = (_SQL_TIME_LITERAL.sub("'?'", sql), tuple(self._columns), tuple(self._own),
               tuple((schema, tuple(columns)) for schema, columns, _ in self._attached))
        found = self._shapes.get(key) if plain else None
        if found is None:
            described = cursor.execute(f"DESCRIBE {sql}").fetchall()
            found = ([row[0] for row in described], [KUSTO_TYPES.get(str(row[1]).upper(), "string")
                                                     for row in described])
            if plain:
                if len(self._shapes) >= TRANSLATIONS_KEPT:
                    self._shapes.clear()
                self._shapes[key] = found
        return found

    def _rows_between(self, start: datetime, end: datetime, ingested_by: datetime | None = None) -> str:
        """Every row source's rows in [start, end], as one relation. Views cannot take parameters; the time literals
        are formatted from datetimes and the gateway names quoted, never pasted."""
        where = (f"WHERE TimeGenerated >= '{start.astimezone(UTC).isoformat()}'::TIMESTAMPTZ "
                 f"AND TimeGenerated <= '{end.astimezone(UTC).isoformat()}'::TIMESTAMPTZ")
        own = where
        if ingested_by is not None and INGESTION_COLUMN in self._own:
            own += f""" AND "{INGESTION_COLUMN}" <= '{ingested_by.astimezone(UTC).isoformat()}'::TIMESTAMPTZ"""
        parts = [f"SELECT * FROM main.{ROWS_TABLE} {own}"] if self._own else []
        for schema, _, resource in self._attached:
            replace = f" REPLACE (coalesce(Resource, {_sql_text(resource)}) AS Resource)" if resource else ""
            parts.append(f"SELECT *{replace} FROM {schema}.main.{ROWS_TABLE} {where}")
        return " UNION ALL BY NAME ".join(parts)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _batches(cursor: Any) -> Iterator[tuple[Any, ...]]:
    """The cursor's rows, fetched a batch at a time and chained in C: a generator resumed once per row cost a few
    percent of a million-row question. The cursor closes once read to the end."""
    return chain.from_iterable(_fetched(cursor))


def _fetched(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    while batch := cursor.fetchmany(FETCH_BATCH):
        yield batch
    cursor.close()
