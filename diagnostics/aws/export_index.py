"""A big AWS export file, indexed instead of read whole.

A million events is a 550 MB file: decoded whole it would hold gigabytes of Python objects, and a question reads
only the hours around a drop. So the file is scanned once with byte-level regular expressions (C speed, 4 MB at a
time): each event's CloudWatch time and stream, and where each 4 MB chunk starts, goes into compact arrays; the
messages stay in the file and are read, chunk by chunk, when a question asks for their time range and streams. The
index is kept on disk in the export cache, keyed by the file's content hash, so the second question about the same
file does not scan it again.

The shapes indexed, and what the scan looks for in each, are `export_layouts`' (the JSON of `filter-log-events` and
`get-log-events` as the CLI prints them: every event's keys in the API's order, pretty-printed or compact; the Logs
Insights `@timestamp,@logStream,@message` CSV, `aws logs tail` / S3 export lines and the log messages one a line).
Events that name no stream are attributed by `export_sources` as the general reader's are. A UTF-16 file (Windows
PowerShell's `>`) is copied to UTF-8 first, line breaks kept, into the export cache next to its index (the index
reads the copy's bytes), rather than decoded whole by the general reader. A file that breaks its layout anywhere
(the keys reordered, an event without a stream, a message that is an object, a line that is no event, a CloudWatch
time a minute or more off the event's own, streamless events that name their connection in their body) is read by the
general reader (`exports.read_aws_export`) instead, which knows every shape and reports bad events one by one.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import accumulate, islice, repeat
from operator import itemgetter, le, mul, sub
from pathlib import Path
from typing import Any, Protocol

from diagnostics.aws.export_layouts import (
    FILTER,
    MESSAGE_KEY,
    Layout,
    layout_of,
    named,
    names_connection,
    own_ms,
)
from diagnostics.aws.exports import DISAGREE_MS
from diagnostics.aws.parser.rows import MS_THRESHOLD, LogRecord
from diagnostics.aws.sources import MemoryLogSource
from diagnostics.aws.streams import parse_stream_name
from diagnostics.exportfile import ExportHead, copy_as_utf8, sniff_encoding

#: Files smaller than this are read whole: indexing pays off only when decoding everything would not.
INDEX_MIN_BYTES = 16 << 20
CHUNK_BYTES = 4 << 20
#: Bump when the index layout or what it holds changes: cached indexes of an older version are not reused.
INDEX_VERSION = 2

_BOM = b"\xef\xbb\xbf"
_DECODER = json.JSONDecoder()


class ExportCache(Protocol):
    """The export cache (the Azure exports' too): files built once per key, and content hashes."""

    def content_hash(self, path: str | Path) -> str: ...

    def get_or_build(self, key: str, build: Callable[[Path], Any]) -> Any: ...  # .path: the built file


@dataclass
class IndexMeta:
    events: int = 0
    streams: list[str] = field(default_factory=list)
    ordered: bool = True  # the events are in time order in the file
    size: int = 0  # of the file indexed
    skip: str = ""  # why the file cannot be indexed ("" when it was)
    version: int = INDEX_VERSION
    layout: str = FILTER.name  # export_layouts' name of the shape indexed


@dataclass
class AwsIndex:
    meta: IndexMeta
    times: array  # CloudWatch time (ms) of every event, in file order
    stream_ids: array  # index into meta.streams, in file order
    chunk_at: array  # byte offset where each chunk holding events starts
    chunk_len: array  # its length in bytes
    chunk_first: array  # number of the first event it holds
    chunk_line: array  # its first line's number
    order: array | None = None  # event numbers in time order, when the file is not in time order

    ARRAYS = ("times", "stream_ids", "chunk_at", "chunk_len", "chunk_first", "chunk_line", "order")


def indexable(path: Path) -> Layout | None:
    """The layout of a file big enough to index, in a shape that is indexed (its head says so; its whole is checked
    while indexed); None when the general reader takes it."""
    try:
        if path.stat().st_size < INDEX_MIN_BYTES:
            return None
    except OSError:
        return None
    return _layout(path)


def _layout(path: Path) -> Layout | None:
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return None
    codec, bom, _ = sniff_encoding(head)
    if codec != "utf-8":
        head = head[bom:len(head) - (len(head) - bom) % 2].decode(codec, "ignore").encode("utf-8")
    return layout_of(head[len(_BOM):] if head.startswith(_BOM) else head)


def _utf8(path: Path, cache: ExportCache | None) -> tuple[Path, Any]:
    """The file to index and read: `path` itself when it is UTF-8, else its UTF-8 copy (in the cache, by the
    original's content hash; in a temporary directory without a cache), and what must stay referenced while the
    copy is read."""
    with path.open("rb") as fh:
        codec, bom, name = sniff_encoding(fh.read(1 << 12))
    if codec == "utf-8":
        return path, None
    head = ExportHead("", codec, bom, name, complete=False)
    if cache is None:
        scratch = tempfile.TemporaryDirectory(prefix="vpnbot-aws-export-")
        copy = Path(scratch.name) / "utf8.json"
        copy_as_utf8(path, head, copy)
        return copy, scratch
    entry = cache.get_or_build(f"aws-export-utf8-{cache.content_hash(path)}",
                               lambda target: copy_as_utf8(path, head, target))
    return Path(entry.path), getattr(entry, "keep", None)


def build_index(path: Path, layout: Layout = FILTER) -> AwsIndex:
    """Scan the file once. An index whose `meta.skip` says why when the file breaks its layout."""
    index = AwsIndex(IndexMeta(layout=layout.name), array("q"), array("l"), array("q"), array("q"), array("q"),
                     array("q"))
    streams: dict[bytes, int] = {}
    stream_of, time_of, own_of = map(itemgetter, layout.groups)
    with path.open("rb") as fh:
        head = fh.read(len(_BOM))
        base, line, carry = (len(_BOM), 1, b"") if head == _BOM else (0, 1, head)
        if layout.header:  # the column names: not an event
            carry += fh.readline() if b"\n" not in carry else b""
            header = carry[:carry.find(b"\n") + 1]
            base, line, carry = base + len(header), 2, carry[len(header):]
        while True:
            data = fh.read(CHUNK_BYTES)
            buf = carry + data if carry else data
            cut = layout.cut(buf) if data else len(buf)
            if data and cut <= 0:  # no event starts in it yet: read on
                carry = buf
                continue
            found = layout.find(buf, cut)
            if len(found) != layout.matches_expected(buf, cut):
                index.meta.skip = f"an event near byte {base} is not in the layout of {layout.name}"
                return index
            if layout.parse_line is not None:
                found = [event for event in found if time_of(event)]  # blank lines
            times = list(map(layout.time, map(time_of, found)))
            skip = _off_layout(found, times, buf, cut, stream_of, own_of)
            if skip:
                index.meta.skip = f"near byte {base}: {skip}"
                return index
            if found:
                for ix, value in zip((index.chunk_at, index.chunk_len, index.chunk_first, index.chunk_line),
                                     (base, cut, len(index.times), line), strict=True):
                    ix.append(value)
                index.times.extend(times)
                for name in set(map(stream_of, found)) - streams.keys():
                    streams[name] = len(streams)
                index.stream_ids.extend(map(streams.__getitem__, map(stream_of, found)))
            line += buf.count(b"\n", 0, cut)
            base += cut
            carry = buf[cut:]
            if not data:
                break
    index.meta.events = len(index.times)
    index.meta.streams = [name.decode("utf-8", "replace") for name in streams]
    index.meta.size = base
    if not index.meta.events:
        index.meta.skip = "no event in it"
    if b"" in streams and len(streams) > 1:
        index.meta.skip = "some events name their stream, others none"
    index.meta.ordered = all(map(le, index.times, islice(index.times, 1, None)))
    if not index.meta.ordered:  # pages saved one after the other, newest first, an export of several streams
        index.order = array("l", sorted(range(len(index.times)), key=index.times.__getitem__))
    return index


def _off_layout(found: list[tuple[bytes, ...]], times: list[int], buf: bytes, cut: int,
                stream_of: Callable[..., bytes], own_of: Callable[..., bytes]) -> str:
    """Why the events `found` (at `times`) in `buf[:cut]` are not to be indexed though they match the layout (""
    when they are): the general reader would read them differently (a CloudWatch time it replaces by the event's
    own; a connection named in the body of an event that names no stream)."""
    if found and not stream_of(found[0]) and names_connection(buf[:cut]):
        return "events without a stream name that name their connection in their body"
    owns = list(map(own_of, found))
    if not any(owns):
        return ""
    if all(owns):  # the usual case, in C: every event's own time in seconds or all in ms
        seconds = list(map(int, owns))
        own = map(mul, seconds, repeat(1000)) if max(seconds) <= MS_THRESHOLD else map(own_ms, owns)
        off = max(map(abs, map(sub, own, times))) >= DISAGREE_MS
    else:
        off = any(own and abs(own_ms(own) - at) >= DISAGREE_MS for own, at in zip(owns, times, strict=True))
    return "a CloudWatch time a minute or more off the event's own event_timestamp" if off else ""


# --- on disk ----------------------------------------------------------------------------------------------------------


def save_index(index: AwsIndex, target: Path) -> None:
    from diagnostics.duck import connect as duck_connect  # lazy load: only a big export needs DuckDB here

    con = duck_connect(str(target))
    try:
        con.execute("CREATE TABLE aws_export_index (name VARCHAR, data BLOB)")
        rows = [("meta", json.dumps(asdict(index.meta)).encode())]
        rows += [(name, getattr(index, name).tobytes()) for name in AwsIndex.ARRAYS if getattr(index, name) is not None]
        con.executemany("INSERT INTO aws_export_index VALUES (?, ?)", rows)
    finally:
        con.close()


def load_index(source: Path) -> AwsIndex | None:
    """The index stored at `source`; None when it is of another version."""
    from diagnostics.duck import connect as duck_connect  # lazy load: only a big export needs DuckDB here

    con = duck_connect(str(source), read_only=True)
    try:
        stored = dict(con.execute("SELECT name, data FROM aws_export_index").fetchall())
    finally:
        con.close()
    meta = IndexMeta(**json.loads(stored.pop("meta")))
    if meta.version != INDEX_VERSION or named(meta.layout) is None:
        return None
    arrays: dict[str, Any] = {}
    for name in AwsIndex.ARRAYS:
        if name in stored:
            arrays[name] = array("l" if name in ("stream_ids", "order") else "q")
            arrays[name].frombytes(stored[name])
    return AwsIndex(meta, **arrays)


def open_index(path: Path, *, cache: ExportCache | None = None, log_group: str = "") -> IndexedExportSource | None:
    """The file as an indexed source, from the cache when this content was indexed before; None when the file is not
    in the CLI's layout (the general reader takes it)."""
    cached = False
    layout = _layout(path) or FILTER
    data, keep = _utf8(path, cache)
    if cache is None:
        index = build_index(data, layout)
    else:
        key = f"aws-export-{cache.content_hash(path)}-i{INDEX_VERSION}"
        entry = cache.get_or_build(key, lambda target: save_index(build_index(data, layout), target))
        stored = load_index(Path(entry.path))
        cached = stored is not None and not getattr(entry, "built", True)
        index = stored if stored is not None else build_index(data, layout)
    if index.meta.skip:
        return None
    source = IndexedExportSource(data, index, log_group=log_group, origin=path)
    source.from_cache = cached
    source.keep = keep
    return source


# --- reading ----------------------------------------------------------------------------------------------------------


class IndexedExportSource(MemoryLogSource):
    """An indexed export read like CloudWatch: the events of the requested streams in the requested time range,
    their messages read from the file (a chunk at a time) when asked for."""

    def __init__(self, path: Path, index: AwsIndex, *, log_group: str = "", origin: Path | None = None) -> None:
        """`path`: the UTF-8 file the index was built from; `origin`: the file given, when that was a copy of it."""
        origin = origin or path
        super().__init__((), label=f"AWS export {origin}", origin=str(origin), log_group=log_group)
        self.path = path
        self.index = index
        self.layout = named(index.meta.layout) or FILTER
        self.from_cache = False  # the index was read from the export cache, not built by scanning the file
        self.keep: Any = None  # what keeps a temporary UTF-8 copy of the file alive while it is read
        self.took_stream_option = False  # its events, which name no stream, were given `--aws-stream`'s
        times = index.times
        self._sorted_times = times if index.order is None else array("q", map(times.__getitem__, index.order))
        self._stream_number = {name: n for n, name in enumerate(index.meta.streams)}

    def __len__(self) -> int:
        return self.index.meta.events

    @property
    def records(self) -> list[LogRecord]:
        return self._select(0, 2**62, lambda stream: True, ())

    def streams(self) -> list[str]:
        return sorted(self.index.meta.streams)

    def connections(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for name in self.index.meta.streams:
            parsed = parse_stream_name(name)
            if parsed is not None:
                out.setdefault(parsed.vpn_connection, set()).add(parsed.outside_ip)
        return out

    def _select(self, start_ms: int, end_ms: int, verdict: Callable[[str], bool | None],
                ids: Sequence[str]) -> list[LogRecord]:
        index = self.index
        lo, hi = bisect_left(self._sorted_times, start_ms), bisect_right(self._sorted_times, end_ms)
        numbers: Iterable[int] = range(lo, hi) if index.order is None else islice(index.order, lo, hi)
        keep = [verdict(name) for name in index.meta.streams]
        wanted = sorted(n for n in numbers if keep[index.stream_ids[n]] is not False)
        records = [r for r in self._read(wanted)
                   if keep[self._stream_number[r.stream]] or any(v in r.message.lower() for v in ids)]
        records.sort(key=lambda r: r.timestamp)
        return records

    def name_streamless(self, stream: str) -> None:
        """The events that name no stream are `stream`'s (`attribution` decided)."""
        self.index.meta.streams = [name or stream for name in self.index.meta.streams]
        self._stream_number = {name: n for n, name in enumerate(self.index.meta.streams)}

    def _read(self, numbers: list[int]) -> list[LogRecord]:
        """The events `numbers` (ascending) as records, their messages read from the file chunk by chunk."""
        read = self._json_messages if self.layout.parse_line is None else self._line_events
        out: list[LogRecord] = []
        for chunk, data, wanted in self._chunks(numbers):
            out += read(chunk, data, wanted)
        return out

    def _chunks(self, numbers: list[int]) -> Iterator[tuple[int, bytes, list[int]]]:
        """(chunk, its bytes, the events of `numbers` it holds) for every chunk that holds one."""
        index, position = self.index, 0
        with self.path.open("rb") as fh:
            while position < len(numbers):
                chunk = bisect_right(index.chunk_first, numbers[position]) - 1
                end = index.chunk_first[chunk + 1] if chunk + 1 < len(index.chunk_first) else index.meta.events
                stop = bisect_left(numbers, end, position)
                fh.seek(index.chunk_at[chunk])
                yield chunk, fh.read(index.chunk_len[chunk]), numbers[position:stop]
                position = stop

    def _record(self, nth: int, message: str, line: int) -> LogRecord:
        return LogRecord(self.index.meta.streams[self.index.stream_ids[nth]], self.index.times[nth], message, line)

    def _json_messages(self, chunk: int, data: bytes, wanted: list[int]) -> Iterator[LogRecord]:
        """A chunk of a JSON layout split at its `"message":` keys (the index checked there is one per event) holds
        event k's message at the start of piece k + 1."""
        pieces = data.split(MESSAGE_KEY)
        sizes = list(accumulate(map(len, pieces)))
        first, line, seen = self.index.chunk_first[chunk], self.index.chunk_line[chunk], 0
        for nth in wanted:
            k = nth - first
            if k + 1 >= len(pieces):  # the file changed under the index
                return
            at = sizes[k] + k * len(MESSAGE_KEY)  # where its "message" key is
            line += data.count(b"\n", seen, at)
            seen = at
            text = pieces[k + 1].decode("utf-8", "replace")
            message, _ = _DECODER.raw_decode(text, text.index('"'))
            yield self._record(nth, message, line)

    def _line_events(self, chunk: int, data: bytes, wanted: list[int]) -> Iterator[LogRecord]:
        """A chunk of a one-event-a-line layout holds event k on its k-th non-blank line, read as the general reader
        reads that line."""
        pieces = data.split(b"\n")
        events = [n for n, piece in enumerate(pieces) if piece.strip(b" \t\r")]
        first, parse = self.index.chunk_first[chunk], self.layout.parse_line
        assert parse is not None
        for nth in wanted:
            if nth - first >= len(events):  # the file changed under the index
                return
            at = events[nth - first]
            line = self.index.chunk_line[chunk] + at
            text = pieces[at].decode("utf-8", "replace")
            raw = parse(text, line)
            yield self._record(nth, raw.text if raw is not None else text, line)
