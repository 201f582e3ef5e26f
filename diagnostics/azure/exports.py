"""Read the Azure log exports people send each other, into AzureDiagnostics-shaped rows.

Three formats (docs/exports.md):
  (a) CSV exported from the Log Analytics portal (header row; the time column may be `TimeGenerated [UTC]`);
  (b) JSON from `az monitor log-analytics query -o json`: a list of objects whose values are all strings;
  (c) resource-log JSON lines as written to a storage account or Event Hub: `time`, `resourceId`, `category`,
      `operationName`, `properties{...}` (docs/sources.md#azure-columns), also the older `{"records": [...]}` blob form.
A Log Analytics API response (`{"tables": [...]}`) is accepted too, since people paste those.

A bad row never costs the good ones: it is reported as `file:line: reason` and skipped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnostics.azure.parser.rows import (
    PROPERTY_ALIASES,
    RowError,
    canonical_column,
    gateway_from_resource_id,
    parse_time,
)
from diagnostics.exportfile import ExportError, read_export_text


@dataclass
class ExportRead:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_azure_export(path: str | Path) -> ExportRead:
    path = Path(path)
    text = read_export_text(path)
    stripped = text.lstrip()
    if stripped[0] == "[":
        result = _read_json_array(path.name, text)
    elif stripped[0] == "{":
        result = _read_json_objects(path.name, text)
    else:
        result = _read_csv(path.name, text)
    if not result.rows:
        reason = result.problems[0] if result.problems else f"{path.name}: no log rows in it"
        raise ExportError(reason)
    return result


def _check(name: str, line: int, row: dict[str, Any], out: ExportRead) -> None:
    """Keep `row` if its time is readable; otherwise record why, with file and line."""
    try:
        parse_time(row.get("TimeGenerated"))
    except RowError as exc:
        out.problems.append(f"{name}:{line}: {exc}; row skipped")
        return
    out.rows.append(row)


def _read_csv(name: str, text: str) -> ExportRead:
    out = ExportRead()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [canonical_column(h) for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise ExportError(f"{name}:1: cannot read the CSV header ({exc})") from None
    if "TimeGenerated" not in header:
        raise ExportError(f"{name}:1: no TimeGenerated column in the header (got: {', '.join(header[:8])})")
    line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.problems.append(f"{name}:{reader.line_num}: unreadable CSV ({exc}); row skipped")
            continue
        finally:
            start, line = line + 1, reader.line_num
        if not any(cells):
            continue
        if len(cells) != len(header):
            out.problems.append(
                f"{name}:{start}: {len(cells)} fields where the header has {len(header)}; row skipped"
            )
            continue
        _check(name, start, {h: c for h, c in zip(header, cells, strict=True) if c != ""}, out)
    return out


def _json_values(text: str) -> Iterator[tuple[int, Any]]:
    """(line, value) for each element of a top-level JSON array, so a bad element can be pointed at."""
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise json.JSONDecodeError(exc.msg, exc.doc, pos) from None  # point at the element, not past it
        yield line, value


def _read_json_array(name: str, text: str) -> ExportRead:
    out = ExportRead()
    try:
        for line, item in _json_values(text):
            if not isinstance(item, dict):
                out.problems.append(f"{name}:{line}: expected an object, got {type(item).__name__}; skipped")
                continue
            _check(name, line, _row_from_object(item), out)
    except json.JSONDecodeError as exc:
        out.problems.append(f"{name}:{exc.lineno}: invalid JSON ({exc.msg}); the rest of the file is unreadable")
    return out


def _read_json_objects(name: str, text: str) -> ExportRead:
    """JSON lines (one record a line), or one document with `records` or `tables`."""
    out = ExportRead()
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("records"), list):
        for index, record in enumerate(document["records"], 1):
            _check(name, index, _row_from_object(record), out)
        return out
    if isinstance(document, dict) and isinstance(document.get("tables"), list):
        for table in document["tables"]:
            columns = [c.get("name", "") for c in table.get("columns", [])]
            for index, cells in enumerate(table.get("rows", []), 1):
                _check(name, index, _row_from_object(dict(zip(columns, cells, strict=False))), out)
        return out
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            out.problems.append(f"{name}:{line}: invalid JSON ({exc.msg}); line skipped")
            continue
        if not isinstance(record, dict):
            out.problems.append(f"{name}:{line}: expected a JSON object; line skipped")
            continue
        _check(name, line, _row_from_object(record), out)
    return out


def _row_from_object(item: Mapping[str, Any]) -> dict[str, Any]:
    """An az-CLI object, an API row or a resource-log record -> canonical AzureDiagnostics columns."""
    if "properties" in item or ("time" in item and "TimeGenerated" not in item):
        return _row_from_resource_log(item)
    return {canonical_column(k): v for k, v in item.items() if v not in (None, "")}


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}_{key}" if prefix else key, item, out)
    elif value not in (None, ""):
        out[prefix] = json.dumps(value) if isinstance(value, list) else value


def _row_from_resource_log(record: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten as Azure Monitor does: `properties.x` -> `x_s`, `properties.message` -> `Message`."""
    lower = {k.lower(): v for k, v in record.items()}
    resource_id = str(lower.get("resourceid", ""))
    row: dict[str, Any] = {
        "TimeGenerated": lower.get("time") or lower.get("timestamp"),
        "Category": lower.get("category", ""),
        "OperationName": lower.get("operationname", ""),
        "Level": lower.get("level", ""),
        "ResourceId": resource_id.upper(),
        "Resource": gateway_from_resource_id(resource_id).upper(),
    }
    parts = resource_id.strip("/").split("/")
    for key, column in (("subscriptions", "SubscriptionId"), ("resourcegroups", "ResourceGroup")):
        lowered = [p.lower() for p in parts]
        if key in lowered and lowered.index(key) + 1 < len(parts):
            row[column] = parts[lowered.index(key) + 1].upper() if column == "ResourceGroup" else parts[
                lowered.index(key) + 1]
    properties = lower.get("properties") or {}
    if isinstance(properties, str):
        try:
            properties = json.loads(properties)
        except json.JSONDecodeError:
            properties = {"message": properties}
    flat: dict[str, Any] = {}
    _flatten("", properties, flat)
    for key, value in flat.items():
        column = PROPERTY_ALIASES.get(key.lower())
        if column is None:
            column = key if key.endswith(("_s", "_d", "_b", "_t", "_g")) else f"{key}_s"
        row[column] = value
    if lower.get("operationname") and not row.get("OperationName"):
        row["OperationName"] = lower["operationname"]
    return {k: v for k, v in row.items() if v not in (None, "")}
