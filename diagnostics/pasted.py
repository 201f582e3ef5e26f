"""Log lines without a timeline: what the analyses of pasted lines and non-export files hand back.

A Network Watcher IKElogs.txt, an IKE exchange copied without its times or an on-premises device's log say how a
negotiation went, not when the tunnel dropped: their analysis (`diagnostics.azure.exchange`,
`diagnostics.devices`) gives findings with the same cause codes as an investigation, each quoting the lines that
support it by line number instead of by time.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

from diagnostics.model import Cause, Confidence


@dataclass(frozen=True)
class Line:
    """One line of the input, numbered from 1 as an editor shows it."""

    number: int
    text: str


@dataclass
class LineFinding:
    """A cause read from lines without times: as `diagnostics.model.Finding`, with lines for evidence."""

    cause: Cause
    confidence: Confidence
    title: str
    explanation: str
    advice: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class LineAnalysis:
    """Every finding of one input, the most telling first, and what the reader should know besides."""

    findings: list[LineFinding] = field(default_factory=list)
    lines: int = 0  # non-empty lines read
    understood: int = 0  # lines the analysis could read
    notes: list[str] = field(default_factory=list)

    @property
    def primary(self) -> LineFinding | None:
        return self.findings[0] if self.findings else None


def numbered(text: str) -> list[Line]:
    """The non-empty lines of `text`, numbered as in the file."""
    return [Line(i, raw.rstrip()) for i, raw in enumerate(text.splitlines(), 1) if raw.strip()]


def quote(lines: list[Line], limit: int = 10) -> list[Line]:
    """At most `limit` lines of evidence, the first ones (a failing negotiation repeats itself)."""
    return lines[:limit]


# --- export rows pasted without their header ------------------------------------------------------------------------

_TIME_WITH_ZONE = r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})|\d{10}(?:\d{3})?"
_TIME_WITHOUT_ZONE = (r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                      r"|\d{1,2}/\d{1,2}/\d{4},? \d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[AP]M)?")
#: The portal's mark of a time column in the browser's zone, which the readers refuse without --export-tz.
LOCAL_TIME = "[Local Time]"
#: A row that starts with its time and a field separator: rows copied out of a results grid without the header.
_ROW = re.compile(rf'^\ufeff?\s*(?P<q>"?)(?:(?P<zoned>{_TIME_WITH_ZONE})|(?P<plain>{_TIME_WITHOUT_ZONE}))(?P=q)'
                  r"(?P<sep>[\t,;])")


#: An IKE message after its time and spaces: `2026-11-21T14:02:03Z SESSION_ID :{…} Remote …` as people type it.
_TIMED_MESSAGE = re.compile(rf"^(\ufeff?\s*(?:{_TIME_WITH_ZONE}|{_TIME_WITHOUT_ZONE}))[ ]+"
                            r"(?=SESSION_ID\s*:|\[(?:SEND|RECEIVED|RECEIVE|LOCAL_MSG)\]|Remote \S+:\d+: )")


def timed_messages_as_rows(text: str) -> str:
    """IKE messages each after its time and a space, as rows: the time, a tab, the message (which
    `header_for_rows` then heads), so that they are investigated with their times; other text as it is."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not _TIMED_MESSAGE.match(first):
        return text
    return "".join(_TIMED_MESSAGE.sub(lambda m: f"{m[1]}\t", line, count=1) for line in text.splitlines(True))


def header_for_rows(text: str) -> str | None:
    """A header row for export rows pasted without theirs (rows copied from Log Analytics' results grid, `az …
    -o tsv`): the time column first, the others named by position so that the readers tell them by what they hold.
    A time without a zone makes the column `TimeGenerated [Local Time]`, which the readers refuse without the zone
    (`--export-tz`): a pasted row never says which zone its times were shown in. None when the text starts with
    something else (a header of its own, a JSON document, lines of another kind)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    row = _ROW.match(first)
    if row is None:
        return None
    sep = row["sep"]
    fields = next(csv.reader([first.lstrip("\ufeff")], delimiter=sep))
    time = "TimeGenerated" if row["zoned"] else f"TimeGenerated {LOCAL_TIME}"
    return sep.join([time, *(f"Column{i}" for i in range(1, len(fields)))])


def by_position(text: str) -> str:
    """What a reader said of a column of a header of ours (`Column3`), as the user counts them: column 4."""
    return re.sub(r"`Column(\d+)`", lambda m: f"column {int(m[1]) + 1}", text)


def headerless_note(local: bool = False) -> str:
    """What an answer says of rows read under a header of ours."""
    zone = " (in the zone --export-tz says)" if local else ""
    return (f"The rows came without their header: the first column was read as their time{zone}, the others by what "
            "they hold.")


def headerless_zone_refusal(name: str) -> str:
    """The refusal of rows without their header whose times carry no zone, given no --export-tz."""
    return (f"{name}: the times of these rows carry no zone, and rows copied without their header do not say which "
            "zone they were shown in: give --export-tz ZONE (e.g. --export-tz Europe/Paris), or copy them again with "
            "the portal's time zone set to UTC")


def rows_without_header(text: str) -> bool:
    """Whether `text` is export rows without their header: two rows that start with their time, or one with tabs
    (a question that starts with a time, "2026-11-21 14:02, why did paris drop?", is neither)."""
    text = timed_messages_as_rows(text)
    if header_for_rows(text) is None:
        return False
    rows = [line for line in text.splitlines()[:50] if _ROW.match(line)]
    return len(rows) >= 2 or "\t" in rows[0]
