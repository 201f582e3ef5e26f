"""Read an AWS export (`--aws-export FILE`, docs/exports.md#aws-export-file): what `aws logs filter-log-events`
prints, and every other shape people save CloudWatch Logs events in (`export_shapes`), into `LogRecord`s.

Exactly one of: the file is read (every good event kept, a bad one reported as `file:line: reason` and skipped); or
it is refused in one line that says what the file is or looks like, what is missing and what to do instead
(`cannot_read`, the one place that words it); or it is read partly, with a caveat every answer about the connection
carries (events whose tunnel is unknown, times that disagree with the events' own).

Events without a stream name (`get-log-events`, log messages copied from the console) do not say which VPN
connection and tunnel logged them: `attribution` decides (`--aws-stream`, the file name, the only connection
configured, the only connection the file's other events name), or the file is refused. Big files in the shapes
`export_layouts` knows are indexed instead of read whole (`export_index`).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnostics.aws import export_shapes as shapes
from diagnostics.aws.attribution import AttributionError, attribute
from diagnostics.aws.parser.rows import LogRecord, ParseError, parse_record, parse_time
from diagnostics.aws.sources import Caveat
from diagnostics.exportfile import ExportError, decode_export, read_export_text
from diagnostics.foreign import refusal_for
from diagnostics.tunnels import Tunnel


class AwsExportError(ExportError):
    """The file as a whole cannot be read. The message starts with the file name."""


@dataclass
class AwsExportRead:
    records: list[LogRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # `file:line: reason; event skipped`
    caveats: list[Caveat] = field(default_factory=list)  # what the answers must say the file could not show
    notes: list[str] = field(default_factory=list)  # said once, before the answer (an option that had no use)
    shape: str = ""  # what the file was read as, in words
    took_stream_option: bool = False  # events that name no stream were given `--aws-stream`'s


#: A CloudWatch time this far from the event's own time is not the event's (a CSV exported in another zone): the
#: event's own time is used.
DISAGREE_MS = 60_000
#: What to run instead, in a refusal.
EXPORT_HINT = ("aws logs filter-log-events --log-group-name <log group> --log-stream-name-prefix <vpn id> "
               "--start-time <epoch ms> --end-time <epoch ms> > events.json")


def read_aws_export(path: str | Path, *, stream: str = "", tunnels: Sequence[Tunnel] = ()) -> AwsExportRead:
    """Every event of the file. `stream` (`--aws-stream`) names the stream of events that carry none; `tunnels` (the
    configuration's) attribute them when it has one AWS connection. AwsExportError when nothing can be read."""
    path = Path(path)
    text = _text(path)
    found = shapes.find_events(path.name, text)
    out = AwsExportRead(problems=list(found.problems), shape=found.shape)
    streamless: list[LogRecord] = []
    named: set[str] = set()
    shifted: list[int] = []
    for raw in found.events:
        kept = _record(path.name, raw, out, shifted)
        if kept is None:
            continue
        record, connection = kept
        if connection:
            named.add(connection)
            out.records.append(record)
        else:
            streamless.append(record)
    if streamless:
        _attribute(path, found.shape, streamless, stream, named, tunnels, out)
    elif stream:
        out.notes.append(stream_not_needed(path.name, stream))
    if not out.records:
        raise cannot_read(path.name, text, found, out.problems)
    if shifted:
        hours = max(shifted, key=abs) / 3_600_000
        out.caveats.append(Caveat("", (
            f"{path.name}: the CloudWatch times of {len(shifted)} events are {hours:+g} h from the events' own "
            "event_timestamp (written in another zone?); the events' own times were used.")))
    return out


def stream_not_needed(name: str, stream: str) -> str:
    return f"--aws-stream {stream} was not needed for {name}: its events name their streams."


def _text(path: Path) -> str:
    """The file's text; a gzip file (a CloudWatch Logs export to S3 is `000000.gz`) is unpacked first."""
    try:
        with path.open("rb") as fh:
            gzipped = fh.read(2) == b"\x1f\x8b"
    except OSError:
        gzipped = False  # read_export_text says why in its own words
    if not gzipped:
        return read_export_text(path, AwsExportError)
    try:
        text, _ = decode_export(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise AwsExportError(f"{path}: a gzip file whose content cannot be read ({exc}); unpack it (gunzip) and "
                             "give the unpacked file") from None
    if not text.strip():
        raise AwsExportError(f"{path}: the file is empty (once unpacked)")
    return text


def _record(name: str, raw: shapes.RawEvent, out: AwsExportRead, shifted: list[int]) -> tuple[LogRecord, str] | None:
    """The event as a LogRecord whose CloudWatch time is set (the event's own when the file has none or another),
    and the connection it names ("" when nothing in it does); None, reported, when it is no VPN log event."""
    given = _ms(raw.timestamp)
    record = LogRecord(raw.stream.strip(), given, raw.text, raw.line)
    try:
        event = parse_record(record, None)
    except ParseError as exc:
        out.problems.append(f"{name}:{raw.line}: {exc}; event skipped")
        return None
    own = round(event.ts * 1000)
    if abs(own - given) >= DISAGREE_MS:
        if given and isinstance(raw.timestamp, str) and (own - given) % 900_000 == 0:
            shifted.append(given - own)
        record = record._replace(timestamp=own)
    return record, event.gateway


def _ms(value: Any) -> int:
    """Epoch ms from the CloudWatch time as a file writes it (ms, s, `/Date(ms)/`, ISO text); 0 when there is none."""
    if isinstance(value, str) and value.strip().startswith("/Date("):  # PowerShell's ConvertTo-Json
        value = value.strip()[6:].split(")")[0].split("+")[0]
    try:
        return round(parse_time(value) * 1000)
    except ParseError:
        return 0


def _attribute(path: Path, shape: str, streamless: list[LogRecord], option: str, named: set[str],
               tunnels: Sequence[Tunnel], out: AwsExportRead) -> None:
    try:
        given = attribute(path, shape, len(streamless), option, named, tunnels)
    except AttributionError as exc:
        if not out.records:
            raise AwsExportError(str(exc)) from None
        out.caveats.append(Caveat("", f"{len(streamless)} events skipped: {exc}"))
        return
    out.records += [r._replace(stream=given.stream) for r in streamless]
    out.took_stream_option = bool(option)
    if given.caveat:
        out.caveats.append(Caveat(given.connection, given.caveat))


def cannot_read(name: str, text: str, found: shapes.Found | None = None,
                problems: Sequence[str] = ()) -> AwsExportError:
    """The one line that refuses an AWS export: what the file is or looks like, what is missing, what to do instead.
    A file that is not an export at all (a Network Watcher file, a device's syslog) is named for what it is."""
    foreign = refusal_for(text, name, "aws")
    if foreign:
        return AwsExportError(foreign)
    if found is None or not found.shape:
        return AwsExportError(_unknown(name, text))
    if not found.events:
        if problems:
            return AwsExportError(f"{problems[0]} (read as {found.shape}; no event could be read)")
        return AwsExportError(f"{name}: {found.shape} with no log events in it: the streams and time range read held "
                              f"none; read again over the time of the drop: {EXPORT_HINT}")
    first = f" ({problems[0]})" if problems else ""
    if any("not JSON" in p and "LogOutputFormat" in p for p in problems) and any(
            _VPN_WORDS.search(str(e.message)) for e in found.events[:200]):
        return AwsExportError(f"{name}: {found.shape} whose messages are not JSON{first}: the tunnel logs in the text "
                              "output format, which lacks the phase states that say when a tunnel went down; set the "
                              "tunnel's LogOutputFormat to json and export again")
    sample = " ".join(str(found.events[0].message).split())[:70]
    return AwsExportError(f"{name}: {found.shape}, but none of its {len(found.events)} events is a Site-to-Site VPN "
                          f"tunnel or BGP log (line {found.events[0].line}: {sample!r}); export the VPN connection's "
                          f"log group: {EXPORT_HINT}")


#: Words of the tunnel logs' messages (docs/sources.md#aws-ikev1-errors, #aws-ikev2-errors, #aws-bgp-status).
_VPN_WORDS = re.compile(r"AWS tunnel|AWS-side peer|IKE_SA|CHILD_SA|Phase [12]|ike_phase|No Proposal Match|DPD", re.I)


#: `--output yaml` / `yaml-stream` and `--output table` of the AWS CLI (docs/sources.md#aws-cli-outputs).
_YAML = re.compile(r"^(?:events|results):\s*$|^-?\s*(?:logStreamName|eventId|ingestionTime):\s", re.M)
_TABLE = re.compile(r"^\|\s*(?:FilterLogEvents|GetLogEvents|GetQueryResults)\s*\||^\|\|\s+events\s+\|\|", re.M)
#: Keys of the tunnel and BGP log messages, as JSON text (docs/sources.md#aws-log-fields).
_MESSAGE_KEYS = re.compile(r'"(?:details|ike_phase[12]_state|event_timestamp|VpnLogDetail|resource_id)"\s*:')


def _unknown(name: str, text: str) -> str:
    head = text[:4096]
    if any(mark in head for mark in ("TimeGenerated", "OperationName", "AzureDiagnostics", "GatewayTenantWorker")):
        return (f"{name}: not an AWS export: it looks like an Azure Log Analytics export (TimeGenerated, "
                "OperationName…); give it with --azure-export instead")
    for pattern, output in ((_YAML, "yaml"), (_TABLE, "table")):
        if pattern.search(head):
            return (f"{name}: the `--output {output}` of the AWS CLI, which is not read; run the same command again "
                    f"with `--output json` (e.g. {EXPORT_HINT})")
    if _MESSAGE_KEYS.search(head):
        line = next((n for n, row in enumerate(text.splitlines(), 1) if _MESSAGE_KEYS.search(row)), 1)
        return (f"{name}: holds tunnel log messages in JSON (line {line}), but in a layout that is none of the "
                f"exports read (docs/exports.md#aws-shapes); export the events as they are: {EXPORT_HINT}")
    if _VPN_WORDS.search(head):
        return (f"{name}: AWS tunnel log messages, but not as JSON events: the text output format lacks the phase "
                "states that say when a tunnel went down; set the tunnel's LogOutputFormat to json, then export: "
                f"{EXPORT_HINT}")
    return (f"{name}: not JSON, a Logs Insights CSV or `--output text` of CloudWatch Logs events; expected the "
            f"output of `{EXPORT_HINT}`")
