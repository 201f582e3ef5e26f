"""The JSON exports, read in Python where their shape needs it: a JSON array or JSON lines whose elements are nested
(resource logs: `time`, `resourceId`, `category`, `operationName`, `properties{...}`), the `{"records": [...]}` blob of
a storage account, a Log Analytics API response (`{"tables": [...]}`), and any JSON file the fast reader could not
read, so that a bad element is reported with its line.

Elements become AzureDiagnostics-shaped dicts, flattened as Azure Monitor does (`properties.x` -> `x_s`,
`properties.message` -> `Message`, docs/sources.md#azure-columns).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnostics.azure.export_times import looks_like_time
from diagnostics.azure.parser.rows import PROPERTY_ALIASES, canonical_column, gateway_from_resource_id


@dataclass
class ExportRead:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_json_export(name: str, text: str) -> ExportRead:
    """Rows and per-line problems of a JSON export's whole text."""
    stripped = text.lstrip()
    return _read_json_array(name, text) if stripped.startswith("[") else _read_json_objects(name, text)


def _check(name: str, line: int, row: dict[str, Any], out: ExportRead) -> None:
    """Keep `row` if its time is readable; otherwise record why, with file and line."""
    value = row.get("TimeGenerated")
    if isinstance(value, int | float) or looks_like_time(str(value or "").strip()):
        out.rows.append(row)
    elif value in (None, ""):
        out.problems.append(f"{name}:{line}: no time; row skipped")
    else:
        out.problems.append(f"{name}:{line}: unreadable time {str(value)!r}; row skipped")


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
