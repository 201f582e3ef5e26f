"""One AWS incident in every shape people save CloudWatch Logs events in (docs/exports.md#aws-export-file).

The events are those of an `aws logs filter-log-events` file (tests/fixtures/aws/); each renderer writes them as a
tool would: the CLI's JSON (`filter-log-events`, several pages, `get-log-events`, `get-query-results`), `--output
text` (docs/sources.md#aws-cli-outputs: the scalar keys sorted), the Logs Insights console's CSV (`@timestamp,
@logStream,@message`, or the fields a query projected), the log messages themselves (one per line as the console
copies them, or pretty-printed as the documentation prints them), an export to S3 (time-stamped lines) and `aws logs
tail` in its formats, also pasted with the command that printed it. Shapes that carry no stream name
(`get-log-events`, messages, S3 lines, `tail --format short`) are rendered from one stream only, as the tools produce
them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from support.fixture_logs import FIXTURES


@dataclass(frozen=True)
class CwEvent:
    """A CloudWatch Logs event as `filter-log-events` returns it (docs/sources.md#aws-cli-outputs)."""

    stream: str
    timestamp: int  # ms
    message: str  # the tunnel log JSON
    ingestion: int
    event_id: str

    @property
    def body(self) -> dict:
        return json.loads(self.message)


def events_of(fixture: str) -> list[CwEvent]:
    """The events of an `aws logs filter-log-events` fixture (tests/fixtures/aws/NAME)."""
    document = json.loads((FIXTURES / "aws" / fixture).read_text(encoding="utf-8"))
    return [CwEvent(e["logStreamName"], e["timestamp"], e["message"], e.get("ingestionTime", e["timestamp"] + 900),
                    e.get("eventId", str(i))) for i, e in enumerate(document["events"])]


#: A configuration naming the incident's one AWS VPN connection (it attributes the events that name no stream).
CONFIG = """
[[tunnels]]
name = "vpn-0123456789abcdef0"
aws_vpn_connection = "vpn-0123456789abcdef0"
aws_outside_ips = ["52.95.10.1", "52.95.10.2"]
"""


def one_stream(events: Sequence[CwEvent], stream: str) -> list[CwEvent]:
    return [e for e in events if e.stream == stream]


def _wrapper(e: CwEvent, capitalised: bool = False, minimal: bool = False) -> dict:
    keys = {"logStreamName": e.stream, "timestamp": e.timestamp, "message": e.message}
    if not minimal:
        keys |= {"ingestionTime": e.ingestion, "eventId": e.event_id}
    if capitalised:  # PowerShell's Get-CWLFilteredLogEvent | ConvertTo-Json
        keys = {k[0].upper() + k[1:]: v for k, v in keys.items()}
    return keys


def _shuffled(mapping: dict, salt: float | None) -> dict:
    """The keys in an order of the file's own (`salt`): the same for every object of one file, as a tool writes
    them; None keeps them as they are."""
    if salt is None:
        return mapping
    return dict(sorted(mapping.items(), key=lambda item: random.Random(f"{salt}/{item[0]}").random()))


def _salt(rng: random.Random | None) -> float | None:
    return rng.random() if rng is not None else None


def filter_json(events: Sequence[CwEvent], pages: int = 1, indent: int | None = 4, rng: random.Random | None = None,
                capitalised: bool = False, minimal: bool = False) -> str:
    """`aws logs filter-log-events` (pages > 1: `--no-paginate` pages saved one after the other)."""
    size = max(1, -(-len(events) // pages))
    salt = _salt(rng)
    documents = []
    for start in range(0, len(events), size):
        page = events[start:start + size]
        document: dict = {"events": [_shuffled(_wrapper(e, capitalised, minimal), salt) for e in page],
                          "searchedLogStreams": [{"logStreamName": s, "searchedCompletely": True}
                                                 for s in sorted({e.stream for e in page})]}
        if start + size < len(events):
            document["nextToken"] = f"Bxkq6kVGFtq2y_Moigeqscgt4{start}"
        documents.append(json.dumps(document, indent=indent))
    return "\n".join(documents) + "\n"


def page_list(events: Sequence[CwEvent], rng: random.Random) -> str:
    """The pages of boto3's `filter_log_events` paginator saved as one JSON list (`json.dump(list(pages), fh)`)."""
    pages = [json.loads(page) for page in filter_json(events, pages=rng.randint(1, 3), indent=None, rng=rng)
             .splitlines()]
    return json.dumps(pages, indent=2) + "\n"


def event_list(events: Sequence[CwEvent], rng: random.Random | None = None) -> str:
    salt = _salt(rng)
    return json.dumps([_shuffled(_wrapper(e), salt) for e in events], indent=2) + "\n"


def event_lines(events: Sequence[CwEvent], rng: random.Random | None = None) -> str:
    salt = _salt(rng)
    return "".join(json.dumps(_shuffled(_wrapper(e), salt)) + "\n" for e in events)


def get_log_events(events: Sequence[CwEvent], rng: random.Random | None = None) -> str:
    """`aws logs get-log-events --log-stream-name …`: events without their stream's name."""
    salt = _salt(rng)
    return json.dumps({"events": [_shuffled({"timestamp": e.timestamp, "message": e.message,
                                              "ingestionTime": e.ingestion}, salt) for e in events],
                       "nextForwardToken": "f/37719828651155284958823452063457431612341233545346482176/s",
                       "nextBackwardToken": "b/37719828480016003488124627493456291349025011286216081408/s"},
                      indent=4) + "\n"


def query_results(events: Sequence[CwEvent]) -> str:
    """`aws logs get-query-results` of `fields @timestamp, @logStream, @message`."""
    rows = [[{"field": "@timestamp", "value": _insights_time(e.timestamp)}, {"field": "@logStream", "value": e.stream},
             {"field": "@message", "value": e.message}, {"field": "@ptr", "value": f"CmAKJwojNDU2{i}"}]
            for i, e in enumerate(events)]
    return json.dumps({"results": rows, "statistics": {"recordsMatched": len(rows), "recordsScanned": len(rows),
                                                       "bytesScanned": 9000.0}, "status": "Complete"}, indent=4)


def messages(events: Sequence[CwEvent], pretty: bool = False, rng: random.Random | None = None) -> str:
    """The log messages themselves: one JSON line each, or pretty-printed with a blank line between them."""
    salt = _salt(rng)
    bodies = [_shuffled(e.body, salt) for e in events]
    if pretty:
        return "\n\n".join(json.dumps(b, indent=4) for b in bodies) + "\n"
    return "".join(json.dumps(b, separators=(",", ":")) + "\n" for b in bodies)


def _insights_time(ms: int) -> str:
    """Logs Insights writes `2026-11-21 14:02:05.000`, UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def insights_csv(events: Sequence[CwEvent], delimiter: str = ",", fields: bool = False) -> str:
    """The Logs Insights console's CSV export: `@timestamp,@logStream,@message`, or the fields a query projected
    (`fields @timestamp, @logStream, details, ike_phase1_state, ike_phase2_state, …`)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if not fields:
        writer.writerow(["@timestamp", "@logStream", "@message"])
        writer.writerows([_insights_time(e.timestamp), e.stream, e.message] for e in events)
        return out.getvalue()
    names = ["event_timestamp", "timestamp", "details", "ike_phase1_state", "ike_phase2_state", "dpd_enabled",
             "nat_t_detected"]
    writer.writerow(["@timestamp", "@logStream", *names])
    for e in events:
        body = e.body
        writer.writerow([_insights_time(e.timestamp), e.stream,
                         *[str(body.get(n, "")).lower() if isinstance(body.get(n), bool) else body.get(n, "")
                           for n in names]])
    return out.getvalue()


def text_output(events: Sequence[CwEvent], streams: bool = True) -> str:
    """`--output text`: `EVENTS` and the scalar values in sorted key order (docs/sources.md#aws-cli-outputs)."""
    if streams:
        lines = ["\t".join(["EVENTS", e.event_id, str(e.ingestion), e.stream, e.message, str(e.timestamp)])
                 for e in events]
        lines += [f"SEARCHEDLOGSTREAMS\t{s}\tTrue" for s in sorted({e.stream for e in events})]
        return "\n".join(lines) + "\n"
    lines = ["\t".join(["EVENTS", str(e.ingestion), e.message, str(e.timestamp)]) for e in events]
    return "\n".join([*lines, "b/3771982848001600348812462749\tf/3771982865115528495882345206"]) + "\n"


def stamped_lines(events: Sequence[CwEvent]) -> str:
    """An export to S3: `2026-11-21T14:02:05.000Z {message}` per event."""
    return "".join(datetime.fromtimestamp(e.timestamp / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z "
                   + e.message + "\n" for e in events)


def tail_output(events: Sequence[CwEvent], form: str = "detailed") -> str:
    """`aws logs tail GROUP --format FORM` (aws/aws-cli awscli/customizations/logs/tail.py): `detailed` prints
    `TIME STREAM MESSAGE` (ISO time with microseconds and zone), `json` the message pretty-printed on the lines after
    `TIME STREAM`, `short` `TIME MESSAGE` without the stream."""
    lines = []
    for e in events:
        when = datetime.fromtimestamp(e.timestamp / 1000, UTC)
        if form == "short":
            lines.append(f"{when.strftime('%Y-%m-%dT%H:%M:%S')} {e.message}")
        elif form == "json":
            lines.append(f"{when.isoformat()} {e.stream} \n{json.dumps(e.body, indent=4)}")
        else:
            lines.append(f"{when.isoformat(timespec='microseconds')} {e.stream} {e.message}")
    return "\n".join(lines) + "\n"


def with_command(text: str, command: str = "filter-log-events") -> str:
    """The output pasted with the shell prompt and command that printed it."""
    return f"$ aws logs {command} --log-group-name /aws/vpn/tunnels --start-time 1795264320000\n{text}$\n"


def gzipped(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), mtime=0)


#: Shape name -> (renderer, whether the shape carries stream names). Renderers take (events, rng).
SHAPES: dict[str, tuple[Callable[[Sequence[CwEvent], random.Random], str], bool]] = {
    "filter": (lambda ev, rng: filter_json(ev, rng=rng), True),
    # exactly as the CLI prints it (the API's key order): what the big-file index takes
    "filter_cli": (lambda ev, rng: filter_json(ev, pages=rng.randint(1, 3), indent=rng.choice([None, 2, 4])), True),
    "filter_compact": (lambda ev, rng: filter_json(ev, indent=None, rng=rng), True),
    "filter_pages": (lambda ev, rng: filter_json(ev, pages=rng.randint(2, 4), rng=rng), True),
    "filter_minimal": (lambda ev, rng: filter_json(ev, rng=rng, minimal=True), True),
    "filter_powershell": (lambda ev, rng: filter_json(ev, rng=rng, capitalised=True), True),
    "event_list": (lambda ev, rng: event_list(ev, rng), True),
    "page_list": (page_list, True),
    "event_lines": (lambda ev, rng: event_lines(ev, rng), True),
    "query_results": (lambda ev, rng: query_results(ev), True),
    "insights_csv": (lambda ev, rng: insights_csv(ev, rng.choice([",", ";", "\t"])), True),
    "insights_fields_csv": (lambda ev, rng: insights_csv(ev, rng.choice([",", ";", "\t"]), fields=True), True),
    "text": (lambda ev, rng: text_output(ev), True),
    "get": (lambda ev, rng: get_log_events(ev, rng), False),
    "get_text": (lambda ev, rng: text_output(ev, streams=False), False),
    "messages": (lambda ev, rng: messages(ev, rng=rng), False),
    "pretty_messages": (lambda ev, rng: messages(ev, pretty=True, rng=rng), False),
    "stamped": (lambda ev, rng: stamped_lines(ev), False),
    "tail": (lambda ev, rng: tail_output(ev), True),
    "tail_json": (lambda ev, rng: tail_output(ev, "json"), True),
    "tail_short": (lambda ev, rng: tail_output(ev, "short"), False),
    "filter_with_command": (lambda ev, rng: with_command(filter_json(ev, rng=rng)), True),
}

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-8-crlf", "utf-16-crlf")


def encoded(text: str, encoding: str) -> bytes:
    """The text as Excel, PowerShell or a Unix tool would write it (UTF-16 with its byte-order mark)."""
    if encoding.endswith("-crlf"):
        text, encoding = text.replace("\n", "\r\n"), encoding.removesuffix("-crlf")
    if encoding == "utf-16-be":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(encoding)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def with_duplicates(events: Sequence[CwEvent], rng: random.Random) -> list[CwEvent]:
    """Some events twice (a page saved twice), in place."""
    out: list[CwEvent] = []
    for event in events:
        out.append(event)
        if rng.random() < 0.2:
            out.append(replace(event))
    return out
