"""AWS export files as log sources: what `--aws-export FILE…` gives an investigation.

Files the general reader takes (`exports.read_aws_export`: every shape, read whole) become one in-memory source; a
big file in an indexed shape (`export_layouts`: `filter-log-events`, `get-log-events`, the Logs Insights CSV, `aws
logs tail` / S3 export lines, the messages one a line) is indexed instead of read whole (`export_index`: its events'
times and streams, the messages read from the file when a question needs them; the index is cached on disk by the
file's content hash, so the second question about the same file does not read it again), its events that name no
stream attributed as the general reader's are. Either way the source reads like CloudWatch, and the VPN connections
the files name become tunnels when no configuration names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from diagnostics.aws.attribution import AttributionError, attribute
from diagnostics.aws.export_index import ExportCache, IndexedExportSource, indexable, open_index
from diagnostics.aws.exports import AwsExportError, read_aws_export, stream_not_needed
from diagnostics.aws.parser.rows import LogRecord, ParseError, parse_record
from diagnostics.aws.sources import AwsLogSource, Caveat, MemoryLogSource
from diagnostics.aws.streams import parse_stream_name
from diagnostics.tunnels import Tunnel


@dataclass
class AwsExports:
    sources: list[AwsLogSource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # `file:line: reason` of skipped events
    notes: list[str] = field(default_factory=list)  # said once, before the answer
    connections: dict[str, set[str]] = field(default_factory=dict)  # vpn id -> outside IPs its events name

    def tunnels(self) -> list[Tunnel]:
        """With no configuration, every VPN connection in the files is a tunnel named after its id, with the outside
        IPs its streams name, so "why did vpn-0123… drop" or "… 52.95.10.1 …" works on a file."""
        return [Tunnel(name=vpn, aws_vpn_connection=vpn, aws_outside_ips=tuple(sorted(ip for ip in ips if ip)))
                for vpn, ips in self.connections.items()]


def load_aws_exports(paths: Sequence[str | Path], *, stream: str = "", tunnels: Sequence[Tunnel] = (),
                     log_group: str = "", cache: ExportCache | None = None) -> AwsExports:
    """Every file as a source (AwsExportError, naming the file, when one cannot be read at all). `stream` is
    `--aws-stream`; `tunnels` are the configuration's (they attribute events that name no stream); `cache` keeps
    the indexes of big files (the export cache the Azure exports use; None: nothing is kept)."""
    out = AwsExports()
    records: list[LogRecord] = []
    caveats: list[Caveat] = []
    read_whole: list[str] = []
    took_stream: list[str] = []
    for path in map(Path, paths):
        if indexable(path):
            index = open_index(path, cache=cache, log_group=log_group)
            if index is not None and "" in index.index.meta.streams:
                _attribute_indexed(path, index, stream, tunnels, out)
            elif index is not None and stream and index.connections():
                out.notes.append(stream_not_needed(path.name, stream))
            # streams that name no VPN connection (another log group, or renamed streams): the general reader finds
            # the connections in the events themselves, or refuses the file saying what it holds
            if index is not None and index.connections():
                out.sources.append(index)
                _add(out.connections, index.connections().items())
                if index.took_stream_option:
                    took_stream.append(path.name)
                _check_one_stream_option(took_stream, stream)
                continue
        read = read_aws_export(path, stream=stream, tunnels=tunnels)
        if read.took_stream_option:
            took_stream.append(path.name)
        _check_one_stream_option(took_stream, stream)
        records += read.records
        caveats += read.caveats
        out.problems += read.problems
        out.notes += read.notes
        read_whole.append(str(path))
    if read_whole:
        names = ", ".join(read_whole)
        out.sources.append(MemoryLogSource(records, label=f"AWS export {names}", origin=names, log_group=log_group,
                                           caveats=caveats))
        _add(out.connections, connections_in(records).items())
    return out


def _check_one_stream_option(took_stream: list[str], stream: str) -> None:
    if len(took_stream) > 1:  # one stream for two files' events would merge two tunnels' logs into one
        raise AwsExportError(
            f"{took_stream[1]}: --aws-stream {stream} was already taken for the events of {took_stream[0]}, which "
            "name no stream either; one stream cannot be both files': give the files one at a time with their "
            "own --aws-stream, or name each file after its stream (vpn-0123456789abcdef0-52.95.10.1.json)")


def _attribute_indexed(path: Path, index: IndexedExportSource, option: str, tunnels: Sequence[Tunnel],
                       out: AwsExports) -> None:
    """An indexed file's events name no stream (the index took only files whose events all do, or all do not):
    they are the stream `attribution` says, with its caveat, as the general reader's are."""
    try:
        given = attribute(path, index.layout.shape, len(index), option, (), tunnels)
    except AttributionError as exc:
        raise AwsExportError(str(exc)) from None
    index.name_streamless(given.stream)
    index.took_stream_option = bool(option)
    if given.caveat:
        index.caveats.append(Caveat(given.connection, given.caveat))


def _add(into: dict[str, set[str]], found: Iterable[tuple[str, set[str]]]) -> None:
    for vpn, ips in found:
        into.setdefault(vpn, set()).update(ips)


def connections_in(records: Iterable[LogRecord]) -> dict[str, set[str]]:
    """vpn id -> outside IPs, from the stream names (one parse per stream), else from the events' own bodies (legacy
    labels, BGP resource ids)."""
    out: dict[str, set[str]] = {}
    parsed: dict[str, tuple[str, str] | None] = {}
    for record in records:
        if record.stream not in parsed:
            name = parse_stream_name(record.stream)
            parsed[record.stream] = (name.vpn_connection, name.outside_ip) if name else None
        where = parsed[record.stream]
        if where is None:
            try:
                event = parse_record(record, None)
            except ParseError:
                continue
            where = (event.gateway, event.instance)
        if where[0]:
            out.setdefault(where[0], set()).add(where[1])
    return out


__all__ = ["AwsExportError", "AwsExports", "connections_in", "load_aws_exports"]
