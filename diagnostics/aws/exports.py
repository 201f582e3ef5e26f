"""Read `aws logs filter-log-events` output (`--aws-export FILE`, docs/exports.md).

The CLI prints `{"events": [{"logStreamName", "timestamp" (ms), "message" (the tunnel log JSON), "ingestionTime",
"eventId"}], "searchedLogStreams": [...]}`. Also accepted, because people paste what they have: several such
documents one after the other (pages saved with `--no-paginate`), a bare list of events, and JSON lines of
events.

A bad event never costs the good ones: it is reported as `file:line: reason` and skipped. Events are located in
the text one by one, so the line of every event is known and a syntax error inside one event loses only that
event when the file is pretty-printed (one event per block, as the CLI prints it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnostics.aws.parser.rows import LogRecord, ParseError, parse_record
from diagnostics.exportfile import ExportError, read_export_text

_DECODER = json.JSONDecoder()
_EVENTS_KEY = re.compile(r'(?<!\\)"events"\s*:\s*\[')
_NEXT_OBJECT = re.compile(r"\n\s*\{")


class AwsExportError(ExportError):
    """The file as a whole cannot be read. The message starts with the file name."""


@dataclass
class AwsExportRead:
    records: list[LogRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_aws_export(path: str | Path) -> AwsExportRead:
    path = Path(path)
    text = read_export_text(path, AwsExportError)
    out = AwsExportRead()
    for line, item in _items(path.name, text, out):
        _keep(path.name, line, item, out)
    if not out.records:
        reason = out.problems[0] if out.problems else f"{path.name}: no log events in it"
        raise AwsExportError(f"{reason} (expected the JSON of `aws logs filter-log-events`)")
    return out


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _skip(text: str, pos: int, chars: str = " \t\r\n,") -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _items(name: str, text: str, out: AwsExportRead) -> Iterator[tuple[int, Any]]:
    """(line, event object) for every event of every document in the file."""
    pos = _skip(text, 0)
    while pos < len(text):
        if text.startswith("[", pos):  # a bare list of events
            yield from _array(name, text, pos + 1, out)
            return
        try:
            item, end = _DECODER.raw_decode(text, pos)
        except ValueError as exc:
            match = _EVENTS_KEY.search(text, pos)
            if text.startswith("{", pos) and match:  # a broken document: salvage its events one by one
                yield from _array(name, text, match.end(), out)
                return
            out.problems.append(f"{name}:{_line(text, pos)}: not JSON ({exc.msg}); skipped to the next line")
            newline = text.find("\n", pos)
            if newline < 0:
                return
            pos = _skip(text, newline)
            continue
        if isinstance(item, dict) and isinstance(item.get("events"), list):
            match = _EVENTS_KEY.search(text, pos, end)
            if match:
                yield from _array(name, text, match.end(), out)
        else:  # JSON lines of events
            yield _line(text, pos), item
        pos = _skip(text, end)


def _array(name: str, text: str, pos: int, out: AwsExportRead) -> Iterator[tuple[int, Any]]:
    """Elements of a JSON array starting at `pos`, one by one; an element that does not decode is reported and
    the next line that opens an object is tried."""
    while True:
        pos = _skip(text, pos)
        if pos >= len(text) or text[pos] == "]":
            return
        try:
            item, end = _DECODER.raw_decode(text, pos)
        except ValueError as exc:
            out.problems.append(f"{name}:{getattr(exc, 'lineno', _line(text, pos))}: unreadable event (not JSON: "
                                f"{getattr(exc, 'msg', exc)}); skipped")
            match = _NEXT_OBJECT.search(text, pos + 1)
            if not match:
                return
            pos = match.end() - 1
            continue
        yield _line(text, pos), item
        pos = end


def _keep(name: str, line: int, item: Any, out: AwsExportRead) -> None:
    where = f"{name}:{line}"
    if not isinstance(item, dict):
        out.problems.append(f"{where}: not an event object; skipped")
        return
    message = item.get("message")
    if not isinstance(message, str):
        out.problems.append(f"{where}: the event has no message; skipped")
        return
    try:
        timestamp = int(item.get("timestamp") or 0)
    except (TypeError, ValueError):
        timestamp = 0
    record = LogRecord(str(item.get("logStreamName", "")), timestamp, message, line)
    try:
        parse_record(record, None)
    except ParseError as exc:
        out.problems.append(f"{where}: {exc}; event skipped")
        return
    out.records.append(record)
