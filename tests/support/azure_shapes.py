"""Render AzureDiagnostics rows the way real Azure exports carry them (docs/exports.md#azure-shapes): a column
subset in any order, the published queries' own column names, `,` `;` or tab CSV or JSON, UTF-8 (with or without a
byte-order mark) or UTF-16, LF or CRLF, ISO times with 0 to 7 fractional digits, the portal's
`M/D/YYYY, h:mm:ss.fff AM` in UTC or local time, epoch seconds or milliseconds, newest first, rows given twice.

The rows come from the rule fixtures (tests/fixtures/rules/), which are in the portal's own CSV layout.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from diagnostics.azure.parser.rows import parse_time

#: The AzureDiagnostics columns of the rule fixtures, as the portal names them.
COLUMNS = ("Category", "OperationName", "Resource", "ResourceGroup", "instance_s", "remoteIP_s", "status_s",
           "stateChangeReason_s", "operationStatus_s", "Message")
ARM = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{group}/providers/"
       "Microsoft.Network/virtualNetworkGateways/{gateway}")
#: How a gateway can be named: its Resource column, or only the full ARM id (`ResourceId` as the portal prints it,
#: upper case; `_ResourceId` lower case; or in a hand-typed mixed case).
IDENTITIES = ("Resource", "ResourceId", "_ResourceId", "ResourceId mixed")
TIMES = ("iso0", "iso3", "iso7", "portal", "portal local", "epoch s", "epoch ms")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-be")
DELIMITERS = (",", ";", "\t")
ORDERS = ("oldest first", "newest first", "shuffled")
#: Names no alias knows, as a hand-made query's `project-rename` gives them: the bot must tell these columns by
#: their values.
RENAMES = {"OperationName": "Event type", "status_s": "State", "instance_s": "Instance", "remoteIP_s": "Peer",
           "Category": "Log"}
LOCAL_ZONE = "Europe/Paris"
#: The IKE query of AzureMonitorCommunity ("IKE log events") splits Message with `parse`.
_ENVELOPE = re.compile(r"^(?:SESSION_ID :\{(?P<session>[^}]*)\} )?Remote (?P<remote>[^ ]+):\d+: Local "
                       r"(?P<local>[^ ]+):\d+: ?(?P<text>.*)$", re.S)


@dataclass
class Shape:
    """One way of exporting the rows."""

    columns: list[str]  # canonical columns kept (TimeGenerated always), in the file's order
    identity: str = "Resource"
    times: str = "portal"
    container: str = "csv"  # csv | json (az CLI list) | jsonl (flat objects, one a line)
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    crlf: bool = False
    order: str = "oldest first"
    duplicates: list[int] = field(default_factory=list)  # indexes of rows given twice
    renamed: list[str] = field(default_factory=list)  # columns given their RENAMES name
    ike_query: bool = False  # only the IKE rows, as the IKE queries project them (GWIN, SessionID, RemoteIP, LocalIP,
    # IKEMessage; Microsoft's RemoteIP, LocalIP, Event)
    no_session: bool = False  # IKE messages without their `SESSION_ID :{…}` prefix (Network Watcher's shape)
    seed: int = 0

    def missing(self) -> set[str]:
        """The canonical columns this shape leaves out."""
        return set(COLUMNS) - {"Message", "remoteIP_s"} if self.ike_query else set(COLUMNS) - set(self.columns)


def read_fixture(path) -> list[dict[str, str]]:
    """The rows of a rule fixture, TimeGenerated as epoch seconds (float)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        time = row.pop(next(k for k in row if k.startswith("TimeGenerated")))
        out.append({"TimeGenerated": parse_time(time), **{k: v for k, v in row.items() if v}})
    return out


def _time(ts: float, kind: str) -> str:
    moment = datetime.fromtimestamp(ts, UTC)
    if kind == "portal local":
        moment = moment.astimezone(ZoneInfo(LOCAL_ZONE))
    if kind.startswith("portal"):
        hour = moment.hour % 12 or 12
        return (f"{moment.month}/{moment.day}/{moment.year}, {hour}:{moment.minute:02d}:{moment.second:02d}."
                f"{moment.microsecond // 1000:03d} {'AM' if moment.hour < 12 else 'PM'}")
    if kind == "epoch s":
        return f"{ts:.3f}"
    if kind == "epoch ms":
        return str(round(ts * 1000))
    digits = int(kind[3:])
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{moment.microsecond:06d}0"[:digits]
    return f"{base}.{fraction}Z" if digits else f"{base}Z"


def time_header(shape: Shape) -> str:
    if shape.container != "csv" or shape.times.startswith("epoch") or shape.times.startswith("iso"):
        return "TimeGenerated"
    return "TimeGenerated [Local Time]" if shape.times == "portal local" else "TimeGenerated [UTC]"


def _identity(row: dict[str, str], identity: str) -> tuple[str, str] | None:
    gateway = row.get("Resource")
    if not gateway:
        return None
    arm = ARM.format(group=row.get("ResourceGroup", "RG"), gateway=gateway)
    if identity == "Resource":
        return "Resource", gateway
    if identity == "ResourceId":
        return "ResourceId", arm.upper()
    if identity == "_ResourceId":
        return "_ResourceId", arm.lower()
    return "ResourceId", arm  # mixed case, as typed in the portal's URL


def _ike_parts(message: str) -> dict[str, str] | None:
    match = _ENVELOPE.match(message)
    if not match:
        return None
    parts = {"RemoteIP": match["remote"], "LocalIP": match["local"], "IKEMessage": match["text"]}
    if match["session"]:
        parts["SessionID"] = match["session"]
    return parts


def records(rows: list[dict[str, str]], shape: Shape) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows as text cells) of the export."""
    rng = random.Random(shape.seed)
    header = [time_header(shape)]
    out: list[dict[str, str]] = []
    text_column = rng.choice(("IKEMessage", "Event"))
    for row in rows:
        cells = {header[0]: _time(float(row["TimeGenerated"]), shape.times)}
        message = row.get("Message", "")
        if shape.no_session:
            message = re.sub(r"^SESSION_ID :\{[^}]*\} ", "", message)
        if shape.ike_query:  # the query keeps IKE rows only, and its own columns
            if row.get("Category") != "IKEDiagnosticLog":
                continue
            if "instance_s" in shape.columns and row.get("instance_s"):
                cells["GWIN"] = row["instance_s"][-1]
            parts = _ike_parts(message) or {"IKEMessage": message}
            parts[text_column] = parts.pop("IKEMessage")
            cells.update(parts)
            out.append(cells)
            continue
        for column in shape.columns:
            if column == "Resource":
                named = _identity(row, shape.identity)
                if named:
                    cells[named[0]] = named[1]
                continue
            value = message if column == "Message" else row.get(column, "")
            if value:
                cells[RENAMES[column] if column in shape.renamed else column] = value
        out.append(cells)
    for cells in out:
        for name in cells:
            if name not in header:
                header.append(name)
    rest = header[1:]
    rng.shuffle(rest)
    header = [header[0], *rest] if rng.random() < 0.7 else [*rest[:1], header[0], *rest[1:]]
    out += [out[i] for i in shape.duplicates if i < len(out)]
    if shape.order == "newest first":
        out.reverse()
    elif shape.order == "shuffled":
        rng.shuffle(out)
    return header, out


def render(rows: list[dict[str, str]], shape: Shape) -> bytes:
    header, cells = records(rows, shape)
    newline = "\r\n" if shape.crlf else "\n"
    if shape.container == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=shape.delimiter, lineterminator=newline)
        writer.writerow(header)
        for row in cells:
            writer.writerow([row.get(name, "") for name in header])
        text = buffer.getvalue()
    elif shape.container == "json":  # `az monitor log-analytics query -o json`: every value a string
        text = json.dumps([{name: row.get(name, "") for name in header} for row in cells], indent=2)
        text = text.replace("\n", newline)
    else:
        text = newline.join(json.dumps({name: row[name] for name in header if name in row}) for row in cells)
        text += newline
    if shape.encoding == "utf-16":
        return text.encode("utf-16")  # with its byte-order mark, little-endian here
    if shape.encoding == "utf-16-be":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(shape.encoding)
