"""Every log event an AWS export file holds, whatever shape people saved it in, each with its line in the file.

The shapes (docs/exports.md#aws-shapes), recognised by content, never by file name:

* JSON: the response of `aws logs filter-log-events` (`events[]` with `logStreamName`, `timestamp` in ms, `message`;
  several pages one after the other), of `aws logs get-log-events` (the same events without `logStreamName`, and
  `nextForwardToken`), of `aws logs get-query-results` (`results[]` of `{field, value}` lists), a bare list of events,
  JSON lines of events, and the log messages themselves: one per line as the console copies them, or pretty-printed
  over several lines as the documentation prints its examples (docs/sources.md#aws-bgp-status);
* CSV (`,` `;` or tab): the Logs Insights console's export, `@timestamp,@logStream,@message`, or the fields a
  query projected (`@timestamp, details, ike_phase1_state, …`; nested fields flattened as `message.details`);
* `--output text`: `EVENTS<TAB>…` lines, the scalar keys of each event in alphabetical order (docs/sources.md#aws-cli-
  outputs);
* timestamped lines `2026-11-21T14:02:05.000Z {…}`: a CloudWatch Logs export to S3 (one file per stream) or lines
  copied from the console's log events view.

A bad event never costs the good ones: each is reported as `file:line: reason` and skipped. JSON events are located
in the text one by one, so a syntax error inside one event loses only that event when the file is pretty-printed.
What the events mean is `exports.py`'s business; this module only finds them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_DECODER = json.JSONDecoder()
_EVENTS_KEY = re.compile(r'(?<!\\)"(?:events|results)"\s*:\s*\[')
_NEXT_OBJECT = re.compile(r"\n\s*[\[{]")
_TEXT_EVENT = re.compile(r"^EVENTS\t", re.M)
_TIME = r"(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{10,13})"
#: `TIME {message}` (an export to S3, `aws logs tail --format short`) or `TIME STREAM {message}` (`aws logs tail`).
_STAMPED = re.compile(r"^\s*" + _TIME + r"(?:\s+(?P<stream>[^\s{]+))?\s+(?P<msg>\{.*)$")
#: `TIME STREAM` alone: `aws logs tail --format json` prints the message pretty-printed on the lines after it.
_STAMPED_HEAD = re.compile(r"^\s*" + _TIME + r"\s+(?P<stream>[^\s{]+)\s*$")
#: The colours `aws logs tail --color on` adds (kept when its output is piped into a file).
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: CSV header names that say the file is a CloudWatch export (Logs Insights fields or the tunnel log's own keys).
_CSV_MARKS = {"@timestamp", "@message", "@logstream", "@log", "@ptr", "message", "details", "ike_phase1_state",
              "ike_phase2_state", "vpnlogdetail", "tunnelikephase1state", "resource_id", "event_timestamp"}

FILTER = "the JSON of `aws logs filter-log-events`"
GET = "the JSON of `aws logs get-log-events`"
QUERY = "the JSON of `aws logs get-query-results` (Logs Insights)"
EVENT_LIST = "a JSON list of CloudWatch Logs events"
EVENT_LINES = "JSON lines of CloudWatch Logs events"
MESSAGES = "tunnel log messages in JSON, without the CloudWatch events around them"
INSIGHTS_CSV = "a Logs Insights CSV export"
TEXT = "the `--output text` of `aws logs filter-log-events` / `get-log-events`"
STAMPED = "timestamped log lines (a CloudWatch Logs export to S3, or lines copied from the console)"
TAIL = "the output of `aws logs tail`"


@dataclass(frozen=True)
class RawEvent:
    """One event as the file holds it."""

    line: int
    stream: str  # logStreamName / @logStream; "" when the shape has none
    timestamp: Any  # the CloudWatch event time as written (ms, ISO text, …); None when the shape has none
    message: Any  # the tunnel or BGP log message: its JSON text, or the object itself

    @property
    def text(self) -> str:
        """The message as the JSON text a LogRecord holds."""
        return self.message if isinstance(self.message, str) else json.dumps(self.message, ensure_ascii=False)


@dataclass
class Found:
    shape: str = ""  # what the file was read as, in words (the constants above)
    events: list[RawEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # `file:line: reason; skipped`


def find_events(name: str, text: str) -> Found:
    """Every event of `text` (the file `name`'s content) and the shape it was in."""
    if "\x1b[" in text[:65536]:
        text = _ANSI.sub("", text)
    start = text.lstrip()[:1]
    if start in ("{", "["):
        return _json_events(name, text)
    if _TEXT_EVENT.search(text[:65536]):
        return _text_events(name, text)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if _STAMPED.match(first) or _STAMPED_HEAD.match(first):
        return _stamped_events(name, text)
    if _csv_header(first):
        return _csv_events(name, text)
    return _json_after_preamble(name, text)


#: How far into a file JSON that follows a few other lines (the command that printed it, a shell prompt) is looked for.
_PREAMBLE_LINES = 20


def _json_after_preamble(name: str, text: str) -> Found:
    """JSON after a few lines that are not (`$ aws logs filter-log-events …` pasted along with its output): those lines
    are reported and skipped, the JSON read, line numbers kept. An empty Found when there is no such JSON."""
    lines = text.splitlines(keepends=True)[:_PREAMBLE_LINES + 1]
    at = next((i for i, line in enumerate(lines) if line.lstrip()[:1] in ("{", "[")), None)
    if not at:
        return Found()
    offset = sum(map(len, lines[:at]))
    found = _json_events(name, "\n" * at + text[offset:])
    if not found.events:
        return Found()
    skipped = "line 1 is" if at == 1 else f"lines 1-{at} are"
    found.problems.insert(0, f"{name}:1: {skipped} not part of the JSON after it ({lines[0].strip()[:60]!r}); "
                             "skipped")
    return found


# --- JSON -----------------------------------------------------------------------------------------------------------


#: The last position asked about by `_line` in this thread: (text, position, its line).
_LINES = threading.local()


def _line(text: str, pos: int) -> int:
    """The line of `pos` in `text`. Counted on from the last position asked about in the same text (events are
    located in file order), so reading a file stays linear: counting from the start each time made a 5 MB file of
    10,000 events take 40 s."""
    memo = getattr(_LINES, "memo", None)
    if memo is None or memo[0] is not text or pos < memo[1]:
        memo = (text, 0, 1)
    line = memo[2] + text.count("\n", memo[1], pos)
    _LINES.memo = (text, pos, line)
    return line


def _skip(text: str, pos: int, chars: str = " \t\r\n,") -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _json_events(name: str, text: str) -> Found:
    found = Found()
    shapes: list[str] = []
    try:
        for line, item, shape in _json_items(name, text, found):
            shapes.append(shape)
            raw = _from_json(line, item)
            if raw is None:
                found.problems.append(f"{name}:{line}: not a log event ({_what(item)}); skipped")
            else:
                found.events.append(raw)
    finally:
        _LINES.memo = None  # the text is not kept alive by the memo
    found.shape = _json_shape(shapes, found.events) or found.shape
    return found


def _json_shape(shapes: list[str], events: list[RawEvent]) -> str:
    if not shapes:
        return ""
    if FILTER in shapes or GET in shapes or QUERY in shapes:
        return next(s for s in (FILTER, GET, QUERY) if s in shapes)
    if events and all(isinstance(e.message, dict) for e in events):
        return MESSAGES
    return shapes[0]


def _json_items(name: str, text: str, found: Found) -> Iterator[tuple[int, Any, str]]:
    """(line, item, shape) for every top-level item of the text, the events of every response document in it."""
    pos = _skip(text, 0)
    documents = 0
    while pos < len(text):
        if text.startswith("[", pos) and documents == 0:  # a bare list of events or messages
            for line, item in _array(name, text, pos + 1, found):
                if isinstance(item, dict) and isinstance(item.get("events"), list):  # responses (pages) in a list
                    shape = GET if _is_get_log_events(item) else FILTER
                    found.shape = found.shape or shape
                    yield from ((line, event, shape) for event in item["events"])
                else:
                    yield line, item, EVENT_LIST
            return
        try:
            item, end = _DECODER.raw_decode(text, pos)
        except ValueError as exc:
            match = _EVENTS_KEY.search(text, pos)
            if text.startswith("{", pos) and match:  # a broken document: salvage its events one by one
                for line, event in _array(name, text, match.end(), found):
                    yield line, event, FILTER
                return
            found.problems.append(f"{name}:{_line(text, pos)}: not JSON ({exc.msg}); skipped to the next line")
            newline = text.find("\n", pos)
            if newline < 0:
                return
            pos = _skip(text, newline)
            continue
        documents += 1
        if isinstance(item, dict) and isinstance(item.get("events"), list):
            shape = GET if _is_get_log_events(item) else FILTER
            found.shape = found.shape or shape  # said even when the response holds no event
            match = _EVENTS_KEY.search(text, pos, end)
            if match:
                for line, event in _array(name, text, match.end(), found):
                    yield line, event, shape
        elif isinstance(item, dict) and isinstance(item.get("results"), list):
            found.shape = found.shape or QUERY
            match = _EVENTS_KEY.search(text, pos, end)
            if match:
                for line, row in _array(name, text, match.end(), found):
                    yield line, row, QUERY
        elif isinstance(item, list):
            for event in item:
                yield _line(text, pos), event, EVENT_LIST
        else:
            yield _line(text, pos), item, EVENT_LINES if isinstance(item, dict) and _is_wrapper(item) else MESSAGES
        pos = _skip(text, end)


def _is_get_log_events(document: dict) -> bool:
    events = document["events"]
    no_streams = bool(events) and not any(isinstance(e, dict) and "logStreamName" in e for e in events)
    return "nextForwardToken" in document or "nextBackwardToken" in document or no_streams


def _array(name: str, text: str, pos: int, found: Found) -> Iterator[tuple[int, Any]]:
    """Elements of a JSON array starting at `pos`, one by one; an element that does not decode is reported and
    the next line that opens an object is tried."""
    while True:
        pos = _skip(text, pos)
        if pos >= len(text) or text[pos] == "]":
            return
        try:
            item, end = _DECODER.raw_decode(text, pos)
        except ValueError as exc:
            found.problems.append(f"{name}:{getattr(exc, 'lineno', _line(text, pos))}: unreadable event (not JSON: "
                                  f"{getattr(exc, 'msg', exc)}); skipped")
            match = _NEXT_OBJECT.search(text, pos + 1)
            if not match:
                return
            pos = match.end() - 1
            continue
        yield _line(text, pos), item
        pos = end


def _what(item: Any) -> str:
    if isinstance(item, dict):
        keys = ", ".join(list(map(str, item))[:4])
        return f"an object with {keys}" if keys else "an empty object"
    return f"a {type(item).__name__}"


def _lower(item: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        out.setdefault(str(key).strip().lower(), value)
    return out


#: Keys of a CloudWatch event around a log message (the API's, PowerShell's capitalised ones, Logs Insights' `@`).
_WRAPPER_KEYS = {"logstreamname", "ingestiontime", "eventid", "@logstream", "@timestamp", "@ingestiontime", "@ptr"}


def _is_wrapper(item: dict) -> bool:
    keys = _lower(item)
    message = keys.get("message", keys.get("@message"))
    bgp = "resource_id" in keys or ("type" in keys and "status" in keys)
    return (isinstance(message, str) and not bgp and ("timestamp" in keys or bool(keys.keys() & _WRAPPER_KEYS))) \
        or (message is not None and bool(keys.keys() & _WRAPPER_KEYS))


def _from_json(line: int, item: Any) -> RawEvent | None:
    """An event wrapper, a Logs Insights row, or a bare log message; None when `item` is none of them."""
    if isinstance(item, list) and item and all(isinstance(c, dict) and "field" in c for c in item):
        item = {str(c["field"]): c.get("value") for c in item}  # get-query-results: [{field, value}, …]
    if not isinstance(item, dict) or not item:
        return None
    if _is_wrapper(item):
        keys = _lower(item)
        message = keys.get("@message", keys.get("message"))
        if message is None:
            return None
        return RawEvent(line, str(keys.get("logstreamname") or keys.get("@logstream") or ""),
                        keys.get("timestamp", keys.get("@timestamp")), message)
    fields = {k: v for k, v in item.items() if not str(k).startswith("@")}
    if not fields:
        return None
    keys = _lower(item)
    return RawEvent(line, str(keys.get("@logstream") or ""), keys.get("@timestamp"), unflatten(fields))


def unflatten(fields: dict[str, Any]) -> dict[str, Any]:
    """Logs Insights flattens nested fields (`message.details`): nest them again, as the log message has them."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        head, dot, rest = str(key).partition(".")
        if dot and head and rest:
            inner = out.setdefault(head, {})
            if isinstance(inner, dict):
                inner[rest] = value
                continue
        out[key] = value
    return out


# --- `--output text` ------------------------------------------------------------------------------------------------


def _text_events(name: str, text: str) -> Found:
    """`EVENTS<TAB>eventId<TAB>ingestionTime<TAB>logStreamName<TAB>message<TAB>timestamp` (filter-log-events) or
    `EVENTS<TAB>ingestionTime<TAB>message<TAB>timestamp` (get-log-events): the AWS CLI prints an object's scalar keys
    sorted, so the message is the field that opens a JSON object and the time the last one."""
    found = Found(shape=TEXT)
    streams = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("EVENTS\t"):
            continue  # SEARCHEDLOGSTREAMS, the next-token lines
        fields = line.split("\t")[1:]
        start = next((i for i, f in enumerate(fields[:-1]) if f.lstrip().startswith("{")), None)
        if start is None or not fields[-1].strip().isdigit():
            found.problems.append(f"{name}:{number}: an EVENTS line without a JSON message and a time; skipped")
            continue
        stream = fields[start - 1].strip() if start >= 1 and not fields[start - 1].strip().isdigit() else ""
        streams = streams or bool(stream)
        found.events.append(RawEvent(number, stream, fields[-1].strip(), "\t".join(fields[start:-1])))
    if found.events and not streams:
        found.shape = "the `--output text` of `aws logs get-log-events`"
    return found


# --- timestamped lines ----------------------------------------------------------------------------------------------


def _stamped_events(name: str, text: str) -> Found:
    """`TIME [STREAM] {message}` per line; `TIME STREAM` then the message pretty-printed (`aws logs tail --format
    json`)."""
    found = Found(shape=STAMPED)
    lines = text.splitlines(keepends=True)
    number, position = 0, 0
    while number < len(lines):
        line = lines[number]
        number, position = number + 1, position + len(line)
        if not line.strip():
            continue
        event = stamped_event(line, number)
        if event is not None:
            found.events.append(event)
            found.shape = TAIL if event.stream else found.shape
            continue
        head = _STAMPED_HEAD.match(line)
        start = _skip(text, position, " \t\r\n")
        if head is None or not text.startswith("{", start):
            found.problems.append(f"{name}:{number}: not a time followed by a JSON log message; skipped")
            continue
        try:
            message, end = _DECODER.raw_decode(text, start)
        except ValueError as exc:
            found.problems.append(f"{name}:{number}: the message after it is not JSON ({exc.msg}); skipped")
            continue
        found.events.append(RawEvent(number, head["stream"], head["ts"], message))
        found.shape = TAIL
        while number < len(lines) and position < end:  # on to the line after the message
            number, position = number + 1, position + len(lines[number])
    return found


def stamped_event(line: str, number: int) -> RawEvent | None:
    """The event of a `TIME [STREAM] {message}` line (line `number`); None when the line is not one."""
    match = _STAMPED.match(line)
    return None if match is None else RawEvent(number, match["stream"] or "", match["ts"], match["msg"].strip())


def message_event(text: str, number: int) -> RawEvent | None:
    """The event of a line (line `number`) that holds one JSON log message, or one event around it; None when it is
    neither, as `_json_events` reads it."""
    try:
        item = json.loads(text)
    except ValueError:
        return None
    return _from_json(number, item)


# --- CSV ------------------------------------------------------------------------------------------------------------


def _csv_header(line: str) -> bool:
    cells = {c.strip().strip('"').strip().lower() for c in re.split(r"[,;\t]", line)}
    azure = any(c.startswith(("timegenerated", "operationname", "category")) for c in cells)
    return len(cells) >= 2 and bool(cells & _CSV_MARKS) and not azure


def _csv_events(name: str, text: str) -> Found:
    found = Found(shape=INSIGHTS_CSV)
    header_line = next(line for line in text.splitlines() if line.strip())
    # The header decides: the messages are JSON, full of commas whatever the separator.
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = CsvColumns.of(next(reader, []))
    previous = reader.line_num
    for row in reader:
        line, previous = previous + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns.header):
            found.problems.append(f"{name}:{line}: {len(row)} cells under {len(columns.header)} column names; "
                                  "skipped")
            continue
        found.events.append(columns.event(row, line))
    return found


@dataclass(frozen=True)
class CsvColumns:
    """Which cells of a Logs Insights CSV row are the time, the stream and the message."""

    header: list[str]
    time: int | None
    stream: int | None
    message: int | None

    @classmethod
    def of(cls, header_row: list[str]) -> CsvColumns:
        header = [h.strip().lstrip("\ufeff") for h in header_row]
        column = {h: i for i, h in reversed(list(enumerate(h.lower() for h in header)))}
        return cls(header, column.get("@timestamp", column.get("timestamp") if "message" in column else None),
                   next((column[k] for k in ("@logstream", "logstreamname", "log stream name") if k in column), None),
                   column.get("@message", column.get("message")))

    def event(self, row: list[str], line: int) -> RawEvent:
        """The event of a row that has a cell under every column name."""
        stream = row[self.stream].strip() if self.stream is not None else ""
        when = row[self.time].strip() if self.time is not None else None
        message: Any = row[self.message] if self.message is not None else ""
        if not str(message).lstrip().startswith("{"):  # the query projected fields: the row is the message
            message = unflatten({h: _cell(v) for h, v in zip(self.header, row, strict=True)
                                 if not h.startswith("@") and v.strip() != ""})
        return RawEvent(line, stream, when, message)


def _cell(value: str) -> Any:
    """A CSV cell as the log message had it: numbers and JSON objects decoded, text as it is."""
    text = value.strip()
    if text[:1] in "{[" or text.lstrip("-").isdigit():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
