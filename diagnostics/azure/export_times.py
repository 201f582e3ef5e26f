"""The time column of an Azure export: which format its values are in, and in which zone.

Exports carry TimeGenerated as ISO 8601 with 0 to 7 fractional digits (`az … -o json`, the API, resource logs), as the
Log Analytics portal prints it (`11/21/2026, 1:58:10.412 PM`), or as epoch seconds or milliseconds (hand-made
files). The portal titles the column after the zone it displayed: `TimeGenerated [UTC]`, or `TimeGenerated [Local
Time]` when the browser showed local time; such values carry no zone, and the bot never guesses one: the file is
refused unless `--export-tz ZONE` says which zone the exporting browser was in (docs/exports.md#times).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from diagnostics.azure.parser.rows import RowError, parse_time

#: DuckDB spellings of the portal's formats (`%-I`: the hour is not zero-padded; `%g`: milliseconds).
PORTAL_FORMATS = {"%m/%d/%Y, %I:%M:%S.%f %p": "%m/%d/%Y, %-I:%M:%S.%g %p",
                  "%m/%d/%Y, %I:%M:%S %p": "%m/%d/%Y, %-I:%M:%S %p",
                  "%m/%d/%Y %I:%M:%S %p": "%m/%d/%Y %-I:%M:%S %p",
                  "%m/%d/%Y %H:%M:%S": "%m/%d/%Y %-H:%M:%S"}
_ZONED = re.compile(r"(?:[Zz]|[+-]\d\d:?\d\d)$")
_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
_EPOCH = re.compile(r"^\d{9,13}(?:\.\d+)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.]\d{4}")
UTC_SUFFIXES = ("", "utc")


class TimeRefusal(ValueError):
    """The file's times cannot be read without a guess; the message says what to do (after the file name)."""


@dataclass(frozen=True)
class TimeFormat:
    kind: str  # "iso" | "iso_zoned" | "portal" | "epoch"
    zone: str = "UTC"  # the zone of values that carry none
    duckdb_format: str = ""  # strptime format of "portal" values
    local: bool = False  # the values are local times (the zone came from --export-tz)

    @property
    def duckdb_type(self) -> str:
        """What the CSV reader converts the column to (a value it cannot convert is rejected with its line)."""
        return {"iso_zoned": "TIMESTAMPTZ", "epoch": "DOUBLE"}.get(self.kind, "TIMESTAMP")

    def sql(self, column: str) -> str:
        """TIMESTAMPTZ from the column as the reader typed it."""
        if self.kind == "iso_zoned":
            return column
        if self.kind == "epoch":
            return f"to_timestamp(CASE WHEN {column} > 1e11 THEN {column} / 1000.0 ELSE {column} END)"
        return f"timezone('{self.zone}', {column})"

    def sql_from_text(self, column: str) -> str:
        """TIMESTAMPTZ (or NULL) from the column read as text (JSON readers)."""
        if self.kind == "epoch":
            return self.sql(f"TRY_CAST({column} AS DOUBLE)")
        if self.kind == "portal":
            return self.sql(f"try_strptime({column}, '{self.duckdb_format}')")
        return self.sql(f"TRY_CAST({column} AS {self.duckdb_type})")

    def parse(self, value: object) -> float:
        """Epoch seconds of one value (the rows the fast reader rejected), in this format's zone when it has none."""
        text = str(value).strip()
        if _EPOCH.match(text):
            number = float(text)
            return number / 1000.0 if number > 1e11 else number
        ts = parse_time(text)
        if self.zone == "UTC" or _ZONED.search(text):
            return ts
        naive = datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)
        return naive.replace(tzinfo=ZoneInfo(self.zone)).timestamp()


def export_zone(name: str) -> str:
    """`--export-tz` checked: an IANA zone name (`Europe/Paris`), or a ValueError saying what works."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"--export-tz {name!r} is not a time zone; give an IANA name such as Europe/Paris or "
                         "America/New_York") from None
    return name


def detect_time_format(column: str, suffix: str, values: list[str], export_tz: str | None) -> TimeFormat:
    """The format of a time column from its title suffix (`UTC`, `Local Time`) and its first values.

    Raises TimeRefusal when the values are not times, are day-first, or are local times without `export_tz`.
    """
    if not values:
        raise TimeRefusal(f"the time column `{column}` is empty in the first rows")
    if sum(1 for v in values if _EPOCH.match(v)) * 2 > len(values):
        return TimeFormat("epoch")
    unread = [v for v in values if not _readable(v)]
    if len(unread) * 2 >= len(values):  # a few bad rows are reported one by one; a column of them is refused
        day_first = _DAY_FIRST.match(unread[0])
        if day_first and int(day_first.group(1)) > 12:
            raise TimeRefusal(
                f"its times are day-first ({unread[0]!r}), as Excel rewrites them in some locales; the bot reads "
                "the portal's month-first times and ISO 8601: export again from the portal (Export > CSV) or with "
                "`az monitor log-analytics query -o json`, and do not re-save the file in Excel")
        raise TimeRefusal(
            f"the time column `{column}` holds {unread[0]!r}, not a time the bot reads (ISO 8601 such as "
            "2026-11-21T14:02:03Z, the portal's 11/21/2026, 2:02:03.000 PM, or epoch seconds or milliseconds): "
            "export again from the portal (Export > CSV) or with `az monitor log-analytics query -o json`")
    values = [v for v in values if v not in unread]
    if all(_ISO.match(v) and _ZONED.search(v) for v in values):
        return TimeFormat("iso_zoned")
    zoned_suffix = suffix.strip().lower() in UTC_SUFFIXES
    if not zoned_suffix and export_tz is None:
        raise TimeRefusal(
            f"its times are the exporting browser's local time (column `{column}`) and carry no zone: pass "
            "--export-tz ZONE with the zone of the browser that exported it (e.g. --export-tz Europe/Paris), or "
            "export again with the portal's time zone set to UTC")
    zone, local = ("UTC", False) if zoned_suffix else (export_tz or "UTC", True)
    if all(_ISO.match(v) for v in values):
        return TimeFormat("iso", zone, local=local)
    portal = _portal_format(values)
    if portal is None:
        raise TimeRefusal(f"the time column `{column}` mixes time formats ({values[0]!r} …): export again from "
                          "the portal (Export > CSV) or with `az monitor log-analytics query -o json`")
    return TimeFormat("portal", zone, PORTAL_FORMATS[portal], local)


def looks_like_time(value: str) -> bool:
    """A value any of the formats above reads."""
    return bool(_EPOCH.match(value)) or _readable(value)


def _readable(value: str) -> bool:
    try:
        parse_time(value)
    except RowError:
        return False
    return True


def _portal_format(values: list[str]) -> str | None:
    """The portal format most of the values are in (the fast reader rejects the others; they are re-read one by
    one)."""
    counts: dict[str, int] = {}
    for value in values:
        for fmt in PORTAL_FORMATS:
            try:
                datetime.strptime(value, fmt)
            except ValueError:
                continue
            counts[fmt] = counts.get(fmt, 0) + 1
            break
    return max(counts, key=counts.__getitem__) if counts else None

