"""Where the events of each indexed AWS export shape lie in the file's bytes (`export_index` scans and reads them).

A layout is what the index needs of a shape: one byte pattern that finds every event's stream, CloudWatch time and
(where the file has both) the event's own `event_timestamp` in one C-speed pass over a chunk; where a chunk may end
so that no event straddles two; and, for one-event-a-line shapes, how a line is read back exactly as the general
reader (`export_shapes`) reads it, so that an indexed file answers as the same file read whole. Two kinds:

* JSON responses as the CLI prints them (`filter-log-events`, `get-log-events`): every event's keys in the API's
  order, its message a JSON string; a chunk ends before an event's first key, and splitting it at `"message":`
  puts event k's message at the start of piece k + 1;
* one event a line: the Logs Insights console's `@timestamp,@logStream,@message` CSV (`,` `;` or tab), the lines
  `aws logs tail` prints (`TIME STREAM {…}`, `--format short` `TIME {…}`) and an export to S3 writes, and the log
  messages themselves one per line as copied from the console. A chunk ends after a newline; its k-th non-blank line
  is its k-th event. Every line must start as an event does or be blank, or the file is not indexed: the pattern is
  matched from each newline and reads only the start of the line (time, stream, the message's opening), so the scan
  skips the messages at the speed of a newline search; a message broken further on is reported when it is read.

Times are matched only in the forms whose reading here is the general reader's to the millisecond (ISO, UTC); any
other form, like any line off the pattern, leaves the file to the general reader.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from diagnostics.aws import export_shapes as shapes
from diagnostics.aws.parser.rows import MS_THRESHOLD

MESSAGE_KEY = b'"message":'
#: A time the text layouts index: ISO 8601 to the microsecond, in UTC (or with no zone, read as UTC as the general
#: reader does).
_ISO = rb"(?P<time>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]00:?00)?)"
#: The message's own `event_timestamp` where it opens the message, as the VPN service writes it (optional: looked for
#: in the first 300 bytes only, to keep the scan linear).
_OWN = rb'(?:[^\r\n]{0,300}?"event_timestamp"\s*:\s*(?P<own>\d+))?'
_OWN_CSV = _OWN.replace(b'"', b'""')  # inside a CSV cell, quotes are doubled
_BLANK = rb"[ \t\r]*(?=\n|\Z)"
#: Keys by which an event names its VPN connection in its own body (BGP logs' `resource_id`, the documentation's
#: `VpnConnectionId`), lower-cased: the general reader attributes streamless files by them.
_CONNECTION_KEYS = (b"resource_id", b"vpnconnectionid", b"vpn_connection_id")
INSIGHTS_HEADER = ["@timestamp", "@logstream", "@message"]


@dataclass(frozen=True)
class Layout:
    name: str  # kept in the index (meta.layout)
    shape: str  # the shape in words (export_shapes'), as a refusal or caveat names it
    pattern: re.Pattern[bytes]  # groups `stream`, `time`, `own` (empty when the shape has none)
    time: Callable[[bytes], int]  # the `time` group -> epoch ms
    first_key: bytes = b""  # JSON: the key every event starts with; b"": one event a line
    header: bool = False  # a line of column names comes first
    parse_line: Callable[[str, int], shapes.RawEvent | None] | None = None  # one-a-line: (line text, its number)

    @property
    def groups(self) -> tuple[int, int, int]:
        """Where stream, time and own time are in the tuples `pattern.findall` returns."""
        stream, time, own = (self.pattern.groupindex[name] - 1 for name in ("stream", "time", "own"))
        return stream, time, own

    def cut(self, buf: bytes) -> int:
        """Where a chunk of `buf` ends: before the last event's first key, or after the last newline (0: none yet)."""
        return buf.rfind(self.first_key) if self.first_key else buf.rfind(b"\n") + 1

    def find(self, buf: bytes, cut: int) -> list[tuple[bytes, ...]]:
        """The pattern's matches in `buf[:cut]`: one a line searched from the newline before it (one is put before
        the first), or one an event."""
        return self.pattern.findall(b"\n" + buf[:cut]) if self.parse_line else self.pattern.findall(buf, 0, cut)

    def matches_expected(self, buf: bytes, cut: int) -> int:
        """How many matches `buf[:cut]` must give when every event in it is in the layout: one per `"message":`
        key, or one per line (a blank line matches the pattern's blank alternative)."""
        return buf.count(MESSAGE_KEY, 0, cut) if self.first_key else buf.count(b"\n", 0, cut) + 1


def names_connection(chunk: bytes) -> bool:
    """Some event of `chunk` may name its connection in its body (a plain search of the lower-cased bytes: a
    case-insensitive pattern over a 4 MB chunk is a hundred times slower)."""
    lowered = chunk.lower()
    return any(key in lowered for key in _CONNECTION_KEYS)


def epoch_ms(value: bytes) -> int:
    return int(value)


def own_ms(value: bytes) -> int:
    """`event_timestamp` (seconds or ms, as parser.rows.parse_time tells them apart) -> epoch ms."""
    number = int(value)
    return number if number > MS_THRESHOLD else number * 1000


#: µs since the epoch of `YYYY-MM-DD HH:MM`, and µs into the minute of `SS[.ffffff][zone]`: a million events share a
#: few thousand minutes and at most 60,000 millisecond times in a minute (the caches grow with the minutes files
#: span, ~100 bytes each: a year of events, 50 MB).
_MINUTES: dict[bytes, int] = {}
_SECONDS: dict[bytes, int] = {}


def iso_ms(value: bytes) -> int:
    """Epoch ms of a time `_ISO` matched, rounded as the general reader rounds `datetime.timestamp()` (the same
    integer µs, the same float operations)."""
    try:
        micros = _MINUTES[value[:16]] + _SECONDS[value[17:]]
    except KeyError:
        micros = _minute(value[:16]) + _second(value[17:])
    return round(micros / 10**6 * 1000)


def _minute(minute: bytes) -> int:
    _MINUTES[minute] = calendar.timegm(datetime.fromisoformat(minute.decode()).timetuple()) * 10**6
    return _MINUTES[minute]


def _second(second: bytes) -> int:
    micros = 0
    if second[2:3] == b".":  # then the digits, then the zone: Z, +00:00, -0000 or none
        micros = int(second[3:].rstrip(b"Z").split(b"+", 1)[0].split(b"-", 1)[0].ljust(6, b"0"))
    _SECONDS[second] = int(second[:2]) * 10**6 + micros
    return _SECONDS[second]


FILTER = Layout("filter-log-events", shapes.FILTER, re.compile(
    rb'"logStreamName"\s*:\s*"(?P<stream>[^"\\]*)"\s*,\s*"timestamp"\s*:\s*(?P<time>\d+)\s*,\s*"message"\s*:\s*"'
    rb"(?P<own>)"), epoch_ms, first_key=b'"logStreamName"')
GET = Layout("get-log-events", shapes.GET, re.compile(
    rb'(?P<stream>)"timestamp"\s*:\s*(?P<time>\d+)\s*,\s*"message"\s*:\s*"(?P<own>)'), epoch_ms,
    first_key=b'"timestamp"')
#: Named for the streamless lines (an export to S3, `tail --format short`): only those need their shape said.
STAMPED = Layout("stamped-lines", shapes.STAMPED, re.compile(
    rb"\n(?:" + _ISO + rb"[ \t]+(?:(?P<stream>[^\s{]+)[ \t]+)?\{" + _OWN + rb"|" + _BLANK + rb")"),
    iso_ms, parse_line=shapes.stamped_event)
MESSAGES = Layout("messages", shapes.MESSAGES, re.compile(
    rb'\n(?:[ \t]*\{(?P<stream>)(?P<own>)[^\r\n]{0,300}?"event_timestamp"\s*:\s*(?P<time>\d+)|' + _BLANK + rb")"),
    own_ms, parse_line=shapes.message_event)


@cache
def insights_csv(delimiter: str) -> Layout:
    """The Logs Insights console's `@timestamp,@logStream,@message` CSV separated by `delimiter`."""
    d = re.escape(delimiter.encode())
    pattern = re.compile(rb'\n(?:"?' + _ISO + rb'"?' + d + rb'"?(?P<stream>[^"\r\n' + d + rb']*)"?' + d + rb'"\{'
                         + _OWN_CSV + rb"|" + _BLANK + rb")")
    columns = shapes.CsvColumns.of(INSIGHTS_HEADER)

    def parse_line(text: str, number: int) -> shapes.RawEvent | None:
        row = next(csv.reader([text], delimiter=delimiter), [])
        return columns.event(row, number) if len(row) == len(INSIGHTS_HEADER) else None

    return Layout(f"insights-csv{delimiter}", shapes.INSIGHTS_CSV, pattern, iso_ms, header=True, parse_line=parse_line)


def named(name: str) -> Layout | None:
    """The layout an index was built with (its `meta.layout`)."""
    if name.startswith("insights-csv") and len(name) == len("insights-csv") + 1:
        return insights_csv(name[-1])
    return {layout.name: layout for layout in (FILTER, GET, STAMPED, MESSAGES)}.get(name)


def layout_of(head: bytes) -> Layout | None:
    """The layout of a UTF-8 file (no byte-order mark) that starts with `head`; None when none fits, or the head's
    first event is off it (the general reader takes the file)."""
    stripped = head.lstrip()
    if stripped[:1] == b"{" and b'"events"' in head:
        if FILTER.pattern.search(head):
            return FILTER
        return GET if b'"logStreamName"' not in head and GET.pattern.search(head) else None
    lines = head[:head.rfind(b"\n") + 1].decode("utf-8", "replace")
    found = shapes.find_events("head", lines)
    if found.shape == shapes.INSIGHTS_CSV:
        header = lines.split("\n", 1)[0]
        delimiter = max(",;\t", key=header.count)
        row = next(csv.reader([header], delimiter=delimiter), [])
        layout = insights_csv(delimiter) if [c.strip().lower() for c in row] == INSIGHTS_HEADER else None
    else:
        layout = {shapes.MESSAGES: MESSAGES, shapes.TAIL: STAMPED, shapes.STAMPED: STAMPED}.get(found.shape)
    if layout is None:
        return None
    body = head.split(b"\n", 1)[1] if layout.header and b"\n" in head else head
    first = next((line for line in body.split(b"\n") if line.strip()), b"")
    match = layout.pattern.match(b"\n" + first)
    return layout if match is not None and match["time"] else None
