"""Load one Azure export into a DuckDB file with DuckDB's own readers: `read_csv` / `read_json`, streaming and typed.

A million-row portal CSV never passes through Python rows: its head is sniffed (encoding, delimiter, header, the
first rows: what each column is and how times are written), then one `CREATE TABLE … AS SELECT` reads it into
`AzureDiagnostics_rows` with every column the bot's KQL needs (`diagnostics.azure.export_sql`). Rows the reader
cannot take are reported with their file line (DuckDB's rejects carry the byte where each row starts); a row rejected
only for its time is re-read in Python, which knows more spellings, and kept when it can be read. JSON whose
elements are nested (resource logs, blobs, API responses) is flattened in Python first (`export_json`), then loaded
the same way.

What the file holds (categories, gateways, peers, which columns were missing) is stored next to the rows
(`ExportMeta`), so a cached file answers without being read again.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from diagnostics.azure.export_columns import ColumnPlan, base_name, plan_columns
from diagnostics.azure.export_json import read_json_export
from diagnostics.azure.export_sql import ident, literal, projection
from diagnostics.azure.export_times import TimeFormat, TimeRefusal, detect_time_format
from diagnostics.duck import connect as duck_connect
from diagnostics.exportfile import ExportError, ExportHead, copy_as_utf8, read_export_head
from diagnostics.foreign import refusal_for
from diagnostics.pasted import LOCAL_TIME, by_position, header_for_rows, headerless_zone_refusal

#: Bump when what a file loads into changes: cached loads of an older reader are not reused.
READER_VERSION = 4
ROWS_TABLE = "AzureDiagnostics_rows"
META_TABLE = "vpnbot_export_meta"
SAMPLE_ROWS = 2000
LOAD_MEMORY = "256MB"
DELIMITERS = (",", ";", "\t", "|")
_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


class NotAnExport(ValueError):
    """The file is not an export the bot reads; `exports.cannot_read` turns this into the one-line refusal."""

    def __init__(self, reason: str, head: str):
        super().__init__(reason)
        self.reason, self.head = reason, head


@dataclass
class ExportMeta:
    """What one loaded export holds, stored with its rows."""

    name: str
    columns: list[str] = field(default_factory=list)  # the file's own columns (or keys), as named in it
    rows: int = 0
    categories: dict[str, int] = field(default_factory=dict)  # "" for rows whose category could not be told
    gateways: list[str] = field(default_factory=list)  # Resource values
    peers: list[list[str]] = field(default_factory=list)  # [gateway or "", remote IP or ""] of tunnel and IKE rows
    nameless: int = 0  # rows with no gateway (no Resource / ResourceId)
    first: float | None = None
    last: float | None = None
    problems: list[str] = field(default_factory=list)  # file:line: reason; row skipped
    has: dict[str, bool] = field(default_factory=dict)  # instance, remote, gateway, message, category, state, reason
    guessed: list[str] = field(default_factory=list)
    time_format: str = ""
    local_zone: str = ""  # --export-tz, when the times were local
    duplicates: int = 0  # rows given twice (two exports concatenated), read once
    encoding: str = ""
    headerless: bool = False  # rows copied without their header: read under one of ours (`header_for_rows`)
    reader: int = READER_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ExportMeta:
        data = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def load_export(path: str | Path, target: str | Path, export_tz: str | None = None,
                peers: Iterable[str] = ()) -> ExportMeta:
    """Load `path` into a new DuckDB file `target` (table `AzureDiagnostics_rows` plus the meta). `peers`: the
    configured remote IPs, which help tell an unnamed address column. Raises ExportError (the file as a whole cannot
    be read: its message names the file and what to do) or NotAnExport."""
    path = Path(path)
    head = read_export_head(path)
    with tempfile.TemporaryDirectory(prefix="vpnbot-load-") as scratch:
        source = _utf8_source(path, head, scratch)
        con = duck_connect(str(target))
        try:
            con.execute(f"SET memory_limit = '{LOAD_MEMORY}'")
            con.execute(f"SET temp_directory = {literal(os.path.join(scratch, 'spill'))}")
            con.execute("SET preserve_insertion_order = false")  # the bot's queries sort; loading twice as fast
            con.execute("SET TimeZone = 'UTC'")
            # ZSTD for every column rather than DuckDB trying each method on each: 1.4 s less CPU for a million rows
            # and a smaller file (81 MB instead of 117), read as fast (benchmarks/README.md#bench_exportspy).
            con.execute("SET force_compression = 'zstd'")
            stripped = head.text.lstrip()
            if stripped.startswith(("[", "{")):
                meta = _load_json(con, path, source, head, scratch, export_tz, peers)
            else:
                meta = _load_csv(con, path, source, head, export_tz, peers)
            meta.encoding = head.encoding
            meta.duplicates = _drop_duplicates(con)
            _describe(con, meta)
            con.execute(f"CREATE TABLE {META_TABLE} (meta VARCHAR)")
            con.execute(f"INSERT INTO {META_TABLE} VALUES (?)", [meta.to_json()])
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return meta


def read_meta(con: Any, schema: str = "main") -> ExportMeta:
    return ExportMeta.from_json(con.execute(f"SELECT meta FROM {schema}.{META_TABLE}").fetchone()[0])


def _utf8_source(path: Path, head: ExportHead, scratch: str) -> str:
    """A path DuckDB can read: the file itself when UTF-8, else a UTF-8 copy (UTF-16 from Excel or PowerShell)."""
    if head.codec == "utf-8":
        return str(path)
    copy = os.path.join(scratch, "utf8" + path.suffix)
    try:
        copy_as_utf8(path, head, copy)
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path}: not valid {head.encoding} near character {exc.start + 1}; export it again as "
                          "UTF-8") from None
    return copy


# --- CSV ---------------------------------------------------------------------------------------------------------

def sniff_delimiter(header_line: str) -> str:
    """`,` `;` tab or `|`: whichever splits the header line (outside quotes) into the most columns."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _sample_csv(head: ExportHead, delimiter: str, header: str | None = None) -> tuple[list[str], list[list[str]]]:
    """The header and the first rows; `header`: the file has none, this one heads its rows."""
    text = head.text if head.complete else head.text[: head.text.rfind("\n") + 1]
    if header is not None:
        text = f"{header}\n{text.lstrip(chr(0xFEFF))}"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        header = next(reader)
        for row in reader:
            if any(row):
                rows.append(row)
            if len(rows) >= SAMPLE_ROWS:
                break
    except StopIteration:
        return [], []
    except csv.Error:
        pass  # the head cut a quoted message short: the rows before it are sample enough
    return header, rows


def _unique_names(header: Sequence[str]) -> list[str]:
    names: list[str] = []
    for i, raw in enumerate(header):
        name = raw.strip().lstrip("\ufeff") or f"column{i + 1}"
        while name in names:
            name += "_2"
        names.append(name)
    return names


def _load_csv(con: Any, path: Path, source: str, head: ExportHead, export_tz: str | None,
              peers: Iterable[str]) -> ExportMeta:
    # Rows copied from the portal's results grid come without the header: read under one of ours, as `vpnbot explain`
    # reads them, rather than losing the first row as the header.
    ours = header_for_rows(head.text)
    first_line = ours or head.text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = sniff_delimiter(first_line)
    header, sample = _sample_csv(head, delimiter, ours)
    header = _unique_names(header)
    plan = plan_columns(header, sample, peers)
    if plan.time is None:
        raise NotAnExport(f"no time column (its header is: {', '.join(header[:8]) or 'empty'})", head.text)
    i_time = header.index(plan.time)
    if ours and LOCAL_TIME in ours and export_tz is None:
        raise ExportError(headerless_zone_refusal(str(path)))
    time_format = _time_format(path, plan, [r[i_time].strip() for r in sample if i_time < len(r) and r[i_time]],
                               export_tz)
    types = {name: "VARCHAR" for name in header}
    types[plan.time] = time_format.duckdb_type
    options = {
        "header": "false" if ours else "true", "delim": literal(delimiter), "quote": "'\"'", "escape": "'\"'",
        "auto_detect": "false",
        "columns": "{" + ", ".join(f"{literal(n)}: {literal(t)}" for n, t in types.items()) + "}",
        "force_not_null": f"[{literal(plan.time)}]", "ignore_errors": "true", "store_rejects": "true",
        "strict_mode": "false", "null_padding": "false",
    }
    if time_format.kind == "portal":
        options["timestampformat"] = literal(time_format.duckdb_format)
    reader = f"read_csv({literal(source)}, " + ", ".join(f"{k} = {v}" for k, v in options.items()) + ")"
    con.execute(f"CREATE TABLE {ROWS_TABLE} AS SELECT {projection(plan, time_format.sql(ident(plan.time)))} "
                f"FROM {reader}")
    meta = _meta(path, plan, time_format)
    if ours:
        meta.headerless = True
        meta.guessed = [by_position(text) for text in meta.guessed]
    _rejected(con, path, source, header, delimiter, plan, time_format, meta)
    return meta


def _time_format(path: Path, plan: ColumnPlan, values: list[str], export_tz: str | None) -> TimeFormat:
    try:
        return detect_time_format(plan.time or "", plan.time_suffix, values[:SAMPLE_ROWS], export_tz)
    except TimeRefusal as exc:
        raise ExportError(f"{path}: {exc}") from None


def _rejected(con: Any, path: Path, source: str, header: list[str], delimiter: str, plan: ColumnPlan,
              time_format: TimeFormat, meta: ExportMeta) -> None:
    """Report the rows DuckDB rejected with their line; re-read those rejected only for their time."""
    rejects = con.execute(
        "SELECT line_byte_position, error_type, column_name, csv_line, error_message FROM reject_errors "
        "ORDER BY line_byte_position").fetchall()
    if not rejects:
        return
    lines = line_numbers(source, sorted({r[0] for r in rejects}))
    by_row: dict[int, list[tuple[Any, ...]]] = {}
    for reject in rejects:
        by_row.setdefault(reject[0], []).append(reject)
    recovered: list[list[Any]] = []
    for position, errors in by_row.items():
        line = lines[position]
        kinds = {e[1] for e in errors}
        if kinds == {"CAST"} and all(e[2] == plan.time for e in errors):
            row, problem = _reread(errors[0][3], header, delimiter, plan.time or "", time_format)
            if row is not None:
                recovered.append(row)
            else:
                meta.problems.append(f"{path.name}:{line}: {problem}; row skipped")
            continue
        fields = _FIELDS.search(errors[0][4] or "")
        if fields:
            meta.problems.append(f"{path.name}:{line}: {fields.group(2)} fields where the header has "
                                 f"{fields.group(1)}; row skipped")
        else:
            meta.problems.append(f"{path.name}:{line}: unreadable CSV ({errors[0][1].lower()}); row skipped")
    if recovered:
        _insert_recovered(con, header, plan, recovered)


def _reread(csv_line: str, header: list[str], delimiter: str, time_column: str,
            time_format: TimeFormat) -> tuple[list[Any] | None, str]:
    try:
        cells = next(csv.reader(io.StringIO(csv_line.strip("\r\n"), newline=""), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None, "unreadable CSV"
    if len(cells) != len(header):
        return None, f"{len(cells)} fields where the header has {len(header)}"
    value = cells[header.index(time_column)].strip()
    if not value:
        return None, "no time"
    try:
        cells[header.index(time_column)] = time_format.parse(value)
    except (ValueError, OverflowError, OSError):
        return None, f"unreadable time {value!r}"
    return cells, ""


def _insert_recovered(con: Any, header: list[str], plan: ColumnPlan, rows: list[list[Any]]) -> None:
    spec = ", ".join(f"{ident(n)} {'DOUBLE' if n == plan.time else 'VARCHAR'}" for n in header)
    con.execute(f"CREATE TEMP TABLE recovered ({spec})")
    con.executemany(f"INSERT INTO recovered VALUES ({', '.join('?' for _ in header)})", rows)
    time_sql = f"to_timestamp({ident(plan.time or '')})"
    con.execute(f"INSERT INTO {ROWS_TABLE} BY NAME SELECT {projection(plan, time_sql)} FROM recovered")


def line_numbers(path: str, positions: Sequence[int]) -> dict[int, int]:
    """The 1-based line at which each byte position (where DuckDB says a row starts) lies."""
    found: dict[int, int] = {}
    line, offset, todo = 1, 0, sorted(positions)
    with open(path, "rb") as fh:
        while todo:
            block = fh.read(1 << 22)
            if not block:
                break
            while todo and todo[0] < offset + len(block):
                position = todo.pop(0)
                upto = position - offset
                # DuckDB may point at the line break that ends the previous row.
                while upto < len(block) and block[upto:upto + 1] in (b"\r", b"\n"):
                    upto += 1
                found[position] = line + block.count(b"\n", 0, upto)
            line += block.count(b"\n")
            offset += len(block)
    for position in todo:
        found[position] = line
    return found


# --- JSON --------------------------------------------------------------------------------------------------------

def _load_json(con: Any, path: Path, source: str, head: ExportHead, scratch: str, export_tz: str | None,
               peers: Iterable[str]) -> ExportMeta:
    """Flat JSON (az CLI lists, flat JSON lines) straight through read_json; anything else, or a file with a bad
    element, through the Python reader, which says where."""
    kind = "array" if head.text.lstrip().startswith("[") else "newline_delimited"
    sample = _json_sample(head, kind)
    if sample and all(_flat(item) for item in sample):
        try:
            return _load_json_rows(con, path, source, kind, sample, export_tz, peers, strict=True)
        except _Fallback:
            con.execute(f"DROP TABLE IF EXISTS {ROWS_TABLE}")
    read = read_json_export(path.name, Path(source).read_text(encoding="utf-8").lstrip("\ufeff"))
    if not read.rows:
        if read.problems:  # a Network Watcher trace starts with `[0]…`: say what it is rather than why JSON failed
            raise ExportError(refusal_for(head.text, path.name, "azure") or read.problems[0])
        raise NotAnExport("no log rows in it", head.text)
    staged = os.path.join(scratch, "rows.jsonl")
    with open(staged, "w", encoding="utf-8") as fh:
        for row in read.rows:
            fh.write(json.dumps({k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict | list) else
                                 str(v) for k, v in row.items() if v is not None}))
            fh.write("\n")
    meta = _load_json_rows(con, path, staged, "newline_delimited", read.rows[:SAMPLE_ROWS], export_tz, peers,
                           strict=False)
    meta.problems = read.problems + meta.problems
    return meta


class _Fallback(Exception):
    """The fast JSON read met something only the Python reader can report precisely."""


def _flat(item: Any) -> bool:
    return isinstance(item, dict) and "properties" not in item and "records" not in item and "tables" not in item \
        and all(not isinstance(v, dict | list) for k, v in item.items() if k != "AdditionalFields")


def _json_sample(head: ExportHead, kind: str) -> list[Any]:
    decoder = json.JSONDecoder()
    text = head.text.lstrip("\ufeff")
    items: list[Any] = []
    if kind == "array":
        pos = text.index("[") + 1
        while len(items) < SAMPLE_ROWS:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                break
            try:
                item, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                break
            items.append(item)
        return items
    for line in text.splitlines()[:SAMPLE_ROWS]:
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return items


def _load_json_rows(con: Any, path: Path, source: str, kind: str, sample: Sequence[Any], export_tz: str | None,
                    peers: Iterable[str], strict: bool) -> ExportMeta:
    keys: dict[str, None] = {}
    for item in sample:
        if isinstance(item, dict):
            keys.update(dict.fromkeys(item))
    header = list(keys)
    cells = [[None if (v := item.get(k)) is None else v if isinstance(v, str) else json.dumps(v) for k in header]
             for item in sample if isinstance(item, dict)]
    plan = plan_columns(header, cells, peers)
    if plan.time is None:
        raise NotAnExport(f"no time key (its keys are: {', '.join(header[:8]) or 'none'})", "")
    i_time = header.index(plan.time)
    time_format = _time_format(path, plan, [str(c[i_time]).strip() for c in cells if c[i_time]], export_tz)
    columns = "{" + ", ".join(f"{literal(k)}: 'VARCHAR'" for k in header) + "}"
    reader = f"read_json({literal(source)}, format = {literal(kind)}, columns = {columns})"
    try:
        con.execute(f"CREATE TABLE {ROWS_TABLE} AS SELECT "
                    f"{projection(plan, time_format.sql_from_text(ident(plan.time)))} FROM {reader}")
    except duckdb.Error as exc:
        if strict:
            raise _Fallback from exc
        raise ExportError(f"{path}: cannot read it as JSON ({str(exc).splitlines()[0]})") from None
    unreadable = con.execute(f"SELECT count(*) FROM {ROWS_TABLE} WHERE TimeGenerated IS NULL").fetchone()[0]
    if unreadable and strict:
        raise _Fallback
    meta = _meta(path, plan, time_format)
    if unreadable:
        con.execute(f"DELETE FROM {ROWS_TABLE} WHERE TimeGenerated IS NULL")
        meta.problems.append(f"{path.name}: {unreadable} rows have times in another format than the first rows' "
                             f"({time_format.kind}); rows skipped")
    return meta


# --- what the file holds -----------------------------------------------------------------------------------------

def _meta(path: Path, plan: ColumnPlan, time_format: TimeFormat) -> ExportMeta:
    return ExportMeta(
        name=path.name,
        columns=list(plan.columns),
        has={"instance": plan.has_instance, "remote": plan.has_remote, "gateway": plan.has_gateway,
             "message": plan.has_message, "category": plan.has("Category"),
             "state": plan.has("OperationName", "status_s"), "reason": plan.has("stateChangeReason_s"),
             "operation": plan.has("OperationName")},
        guessed=list(plan.guessed),
        time_format=time_format.kind + (f" ({base_name(plan.time or '')[1]})" if plan.time_suffix else ""),
        local_zone=time_format.zone if time_format.local else "",
    )


#: The peer of an IKE row: `Remote <ip>:<port>: Local` in its envelope (docs/sources.md#azure-ike-log), cut with
#: string functions (a regex over a million messages costs three times as much); the port is cut off in Python.
_IKE_PEER = "split_part(substr(Message, strpos(Message, 'Remote ') + 7, 60), ': Local', 1)"


def _drop_duplicates(con: Any) -> int:
    """Read a row given twice once (two exports pasted together overlap). Only rows that share their time with
    another can be one; a hash of each of those finds them, and only a file that has some is rewritten. Returns how
    many rows went."""
    columns = [row[0] for row in con.execute(f"DESCRIBE {ROWS_TABLE}").fetchall()]
    row_hash = f"hash({', '.join(ident(c) for c in columns)})"
    shared = f"SELECT TimeGenerated FROM {ROWS_TABLE} GROUP BY TimeGenerated HAVING count(*) > 1"
    candidates, distinct = con.execute(f"SELECT count(*), count(DISTINCT {row_hash}) FROM {ROWS_TABLE} "
                                       f"WHERE TimeGenerated IN ({shared})").fetchone()
    if candidates == distinct:
        return 0
    before = con.execute(f"SELECT count(*) FROM {ROWS_TABLE}").fetchone()[0]
    # in time order again, as the bot's queries find their window fastest (DISTINCT scatters the rows)
    con.execute(f"CREATE TABLE deduplicated AS SELECT DISTINCT * FROM {ROWS_TABLE} ORDER BY TimeGenerated")
    con.execute(f"DROP TABLE {ROWS_TABLE}")
    con.execute(f"ALTER TABLE deduplicated RENAME TO {ROWS_TABLE}")
    return before - con.execute(f"SELECT count(*) FROM {ROWS_TABLE}").fetchone()[0]


def _describe(con: Any, meta: ExportMeta) -> None:
    """Count what the loaded rows hold: categories, gateways, peers, time range."""
    table = ROWS_TABLE
    meta.rows, first, last, meta.nameless = con.execute(
        f"SELECT count(*), epoch(min(TimeGenerated)), epoch(max(TimeGenerated)), count(*) - count(Resource) "
        f"FROM {table}").fetchone()
    meta.first, meta.last = first, last
    counts = con.execute(f"SELECT Category, count(*) FROM {table} GROUP BY ALL").fetchall()
    meta.categories = {c or "": n for c, n in counts}
    meta.gateways = sorted({g.upper() for (g,) in con.execute(
        f"SELECT DISTINCT Resource FROM {table} WHERE Resource IS NOT NULL LIMIT 100").fetchall()})
    peers = con.execute(
        f"SELECT DISTINCT coalesce(Resource, ''), coalesce(remoteIP_s, ''), false FROM {table} "
        f"WHERE Category = 'TunnelDiagnosticLog' "
        f"UNION SELECT DISTINCT coalesce(Resource, ''), {_IKE_PEER}, true "
        f"FROM {table} WHERE Category = 'IKEDiagnosticLog' AND contains(Message, 'Remote ') LIMIT 1000").fetchall()
    found = {(g, ip.rpartition(":")[0] if ike else ip) for g, ip, ike in peers}  # IKE: `ip:port`
    meta.peers = sorted([g, "" if ip == "<IPaddress>" else ip] for g, ip in found)
