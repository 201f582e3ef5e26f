"""The CSV and JSON Lines text of a batch of rows, exactly as the csv module (`csv.writer`, the default dialect with
`lineterminator="\\r\\n"`) and the bundle's JSON Lines writer give it row by row, a column at a time.

The csv module looks at every character of every cell in C, one at a time: for a million IKE rows of ~250 characters
that alone took longer than the whole bundle may. Here a column's cells are checked together (one search of the
column's text for a character that needs quoting, which few cells have), and each line is one `%` format of its
cells. The rules copied from CPython's `_csv.c` (3.11 to 3.13, QUOTE_MINIMAL, no escapechar, doublequote): None is
written as nothing; a string is quoted when it holds the delimiter, the quote character, "\\r" or "\\n", its quotes
doubled; any other value is written as `str(value)`, by the same rule; a record of one empty field is written `""`.
`tests/test_evidence_golden.py` checks these texts against the csv module itself, and the bundle's bytes against
the earlier row-by-row writer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

_encode = json.encoder.encode_basestring  # type: ignore[attr-defined]  # the C encoder json.dumps uses
#: What makes the csv module quote a cell (the delimiter, the quote character and the line terminator's characters).
_SPECIAL = (",", '"', "\r", "\n")


def csv_text(batch: Sequence[Sequence[Any]], width: int) -> str:
    """The CSV lines of `batch` (rows of `width` cells), "\\r\\n" after each."""
    if not batch:
        return ""
    if width == 0:
        return "\r\n" * len(batch)
    columns = [_csv_column(list(column)) for column in zip(*batch, strict=True)]
    if width == 1:  # a record of one empty field is quoted, so that it is not an empty line
        return "".join((cell or '""') + "\r\n" for cell in columns[0])
    line = ",".join(["%s"] * width) + "\r\n"
    return "".join(map(line.__mod__, zip(*columns, strict=True)))


def _csv_column(cells: list[Any]) -> list[str]:
    first = cells[0]
    if first.__class__ is str and cells.count(first) == len(cells):  # one value all along (gateway, resource id)
        return [_csv_cell(first)] * len(cells)
    nones = cells.count(None)
    if nones == len(cells):
        return [""] * len(cells)
    if nones:
        cells = ["" if c is None else c for c in cells]
    try:
        joined = "\x00".join(cells)
    except TypeError:  # numbers and the like: written as str() gives them
        cells = [c if isinstance(c, str) else str(c) for c in cells]
        joined = "\x00".join(cells)
    if not any(special in joined for special in _SPECIAL):
        return cells
    return [_csv_cell(c) for c in cells]


def _csv_cell(cell: str) -> str:
    return _quoted(cell) if any(special in cell for special in _SPECIAL) else cell


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


def json_lines(columns: Sequence[str], batch: Sequence[Sequence[Any]]) -> str:
    """The JSON Lines of `batch`: `{"column":value,…}` per row in the columns' order, no spaces, strings escaped by
    json's C encoder (non-ASCII kept as it is), numbers as JSON numbers, NaN and infinities as null."""
    if not batch:
        return ""
    if not columns:
        return "{}\n" * len(batch)
    # One line is `line % cells`, each cell JSON already ("%" in a column name doubled).
    line = "{" + ",".join(_encode(c).replace("%", "%%") + ":%s" for c in columns) + "}\n"
    return "".join(map(line.__mod__, zip(*(_json_column(list(c)) for c in zip(*batch, strict=True)), strict=True)))


def _json_column(cells: list[Any]) -> list[str]:
    first = cells[0]
    if first.__class__ is str and cells.count(first) == len(cells):
        return [_encode(first)] * len(cells)
    nones = cells.count(None)
    if nones == len(cells):
        return ["null"] * len(cells)
    if not nones:
        try:
            return list(map(_encode, cells))
        except TypeError:  # not every cell is a string
            pass
    return [_encode(v) if v.__class__ is str else json_value(v) for v in cells]


def json_value(value: Any) -> str:
    """One cell as JSON."""
    if value.__class__ is str:
        return _encode(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "null"
    return _encode(str(value))
