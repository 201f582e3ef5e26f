"""The daily summary's timeline picture: one row per tunnel over the local day, as PNG bytes (issue 6).

The picture is posted in the summary's Slack thread (`files_upload_v2`) and written by `vpnbot summary --day
YYYY-MM-DD --png FILE`; this module only draws, it does no I/O, so both callers get the same bytes.

Choices, and why:

- Size. Slack shows an image inline at about 360 px high and opens it full size on click. The picture is 1,200 px
  wide with 32 px rows and fonts of 14 px or more: inline, the red marks of the bad tunnels stand out (they come
  first); opened, every label is readable without zooming. More than `max_rows` tunnels collapse into a last
  "… and N more" row, so a fleet of 1,000 tunnels still gives a picture of at most `max_rows` rows.
- Colours. "Up" is a calm blue-grey and "down" is red, not green vs. red, which the most common colour-vision
  deficiencies confuse; amber marks an AWS connection running on one of its two tunnels (no outage, but no
  redundancy). Markers differ by shape as well as colour (a blue triangle for maintenance, a purple pin for a
  configuration change), a tunnel without logs is a grey striped bar with the words "no logs" (broken
  logging must not look healthy), and an outage still running at the end of the day ends in a dark hatched cap
  and an arrow. Nothing relies on colour alone; the right-hand column says the same in words.
- Time axis. The bar spans `summary.start`..`summary.end` exactly, i.e. the local day: 23 h on the spring DST
  change and 25 h in autumn. Ticks are placed every real hour from local midnight and labelled in local time, so
  the autumn day shows "02" twice and the spring day goes from "01" to "03"; a dashed line marks the change.
- Fonts. Only Pillow's built-in scalable font (`ImageFont.load_default(size=...)`, Aileron), so the picture looks
  the same on every machine and needs no font files. Aileron in Pillow is a subset without "—" or accented
  letters: the em dash is drawn as a line, and other missing characters are decomposed (é → e) or become "?".
- Determinism. Same summary, same bytes: no timestamps or text chunks in the PNG, a fixed layout, and English
  weekday names rather than the process locale's.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from diagnostics.summary.model import DaySummary, TunnelDay

RGB = tuple[int, int, int]
Font = ImageFont.FreeTypeFont

# Palette (Okabe-Ito inspired where it matters: blue vs. orange vs. red stay apart for colour-blind readers).
BACKGROUND: RGB = (255, 255, 255)
ZEBRA: RGB = (243, 245, 248)  # every other row, so a label is easy to follow to its bar
TEXT: RGB = (34, 38, 43)
MUTED: RGB = (104, 112, 122)
UP: RGB = (150, 185, 216)  # calm blue-grey
DOWN: RGB = (215, 25, 28)  # red
DOWN_DARK: RGB = (122, 10, 12)  # hatched cap and arrow of an outage still running at the end of the day
NO_LOGS_BG: RGB = (226, 226, 226)
NO_LOGS_STRIPE: RGB = (158, 158, 158)
EXPOSED: RGB = (240, 168, 30)  # amber: AWS, one tunnel of the connection down, the other carrying traffic
EXPOSED_DARK: RGB = (150, 95, 0)
MAINTENANCE: RGB = (0, 90, 181)  # blue triangle
CONFIG_CHANGE: RGB = (125, 60, 170)  # purple pin
GRID: RGB = (226, 230, 235)  # every hour
GRID_MAJOR: RGB = (190, 198, 207)  # every 6 hours
AXIS: RGB = (120, 128, 138)
DST_LINE: RGB = (70, 76, 84)

# Layout, in pixels. Fixed, so the tests (and people comparing two days) find things at the same place.
WIDTH = 1200
MARGIN = 16
NAME_LEFT = MARGIN
NAME_RIGHT = 246  # tunnel name left-aligned, provider right-aligned, in NAME_LEFT..NAME_RIGHT
BAR_LEFT = 258
BAR_RIGHT = 878  # exclusive: the bar covers x in [BAR_LEFT, BAR_RIGHT)
STATS_LEFT = 900
STATS_RIGHT = WIDTH - MARGIN
ROW_HEIGHT = 32
BAR_TOP = 11  # within a row: markers sit in 1..10, the bar in 11..28
BAR_BOTTOM = 28  # exclusive
TITLE_Y = 12
SUBTITLE_Y = 44
AXIS_LABEL_Y = 82  # vertical middle of the hour labels above the rows
TICK_TOP = 92
ROWS_TOP = 100  # y of the first row
MIN_OUTAGE_PX = 3  # a 36-second drop is 0.25 px of a day: drawn at least this wide so it shows
CAP_PX = 12  # the dark hatched end of an outage still running

TITLE_SIZE = 24
SUBTITLE_SIZE = 16
NAME_SIZE = 15
LABEL_SIZE = 14

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PROVIDERS = {"azure": "Azure", "aws": "AWS"}


@dataclass(frozen=True)
class HourTick:
    """One hour boundary on the axis: where it is (epoch seconds) and what the wall clock said there."""

    ts: float
    label: str  # "00".."23", or "02:30" in a zone whose midnight is not on a whole hour of the day's offset
    offset_changed: bool = False  # the UTC offset differs from the previous tick's: a DST change happened here
    major: bool = False  # 00, 06, 12 or 18 on the wall clock: a stronger grid line and a darker label


def render_timeline_png(summary: DaySummary, max_rows: int = 40) -> bytes:
    """The day as a PNG: one row per tunnel (troubled first), at most `max_rows` rows (the last one then says how
    many more tunnels there are), hours in the local time of `summary.zone`."""
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    tz = ZoneInfo(summary.zone)
    start, end = summary.start.timestamp(), summary.end.timestamp()
    span = max(end - start, 1.0)
    ordered = summary.ordered()
    if len(ordered) > max_rows:
        shown, hidden = ordered[: max_rows - 1], ordered[max_rows - 1 :]
    else:
        shown, hidden = ordered, []
    rows = len(shown) + (1 if hidden or not ordered else 0)
    rows_bottom = ROWS_TOP + rows * ROW_HEIGHT

    fonts = _Fonts()
    legend = _legend_items()
    legend_top = rows_bottom + 40
    legend_lines = _flow(legend, fonts.label, STATS_RIGHT - NAME_LEFT)
    height = legend_top + len(legend_lines) * 24 + 10

    img = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(img)

    def x_of(ts: float) -> float:
        return BAR_LEFT + (min(max(ts, start), end) - start) / span * (BAR_RIGHT - BAR_LEFT)

    _header(draw, fonts, summary, ordered, tz)
    for i in range(rows):
        if i % 2:
            draw.rectangle((0, ROWS_TOP + i * ROW_HEIGHT, WIDTH - 1, ROWS_TOP + (i + 1) * ROW_HEIGHT - 1), fill=ZEBRA)
    ticks = hour_ticks(summary.start, summary.end, tz)
    _axis(draw, fonts, ticks, x_of, rows_bottom, tz, summary)

    patterns = _Patterns()
    for i, tunnel in enumerate(shown):
        _row(img, draw, fonts, patterns, tunnel, ROWS_TOP + i * ROW_HEIGHT, x_of, start, end)
    if hidden or not ordered:
        _overflow_row(draw, fonts, hidden, ROWS_TOP + len(shown) * ROW_HEIGHT)
    _legend(img, draw, fonts, patterns, legend_lines, legend_top)

    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False)
    return buf.getvalue()


def hour_ticks(start: datetime, end: datetime, tz: ZoneInfo) -> list[HourTick]:
    """Every real hour from `start` to `end` (both included when `end` is on one), labelled with the local time.

    Stepping in UTC, not on the local clock, is what makes a DST day come out right: 25 hours with "02" twice in
    autumn, 23 with no "02" in spring."""
    ticks: list[HourTick] = []
    t, previous = start.astimezone(UTC), None
    while t <= end:
        local = t.astimezone(tz)
        offset = local.utcoffset()
        label = local.strftime("%H") if local.minute == 0 else local.strftime("%H:%M")
        changed = previous is not None and offset != previous
        ticks.append(HourTick(t.timestamp(), label, changed, local.minute == 0 and local.hour % 6 == 0))
        previous = offset
        t += timedelta(hours=1)
    return ticks


# --- pieces of the picture -----------------------------------------------------------------------------------


class _Fonts:
    def __init__(self) -> None:
        self.title = _font(TITLE_SIZE)
        self.subtitle = _font(SUBTITLE_SIZE)
        self.name = _font(NAME_SIZE)
        self.label = _font(LABEL_SIZE)


@cache
def _font(size: int) -> Font:
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # only a Pillow built without FreeType; wheels have it
        raise RuntimeError("the timeline picture needs Pillow with FreeType (for its scalable built-in font)")
    return font


class _Patterns:
    """Striped fills, drawn once at bar size and cropped where needed (cheaper and simpler than clipping lines)."""

    def __init__(self) -> None:
        width, height = BAR_RIGHT - BAR_LEFT, BAR_BOTTOM - BAR_TOP
        self.no_logs = _stripes(width, height, NO_LOGS_BG, NO_LOGS_STRIPE, step=8)
        self.still_down = _stripes(width, height, DOWN, DOWN_DARK, step=5, thickness=3)
        self.still_exposed = _stripes(width, height, EXPOSED, EXPOSED_DARK, step=5, thickness=3)

    @staticmethod
    def paste(img: Image.Image, pattern: Image.Image, x0: int, x1: int, y: int) -> None:
        if x1 > x0:
            img.paste(pattern.crop((x0 - BAR_LEFT, 0, x1 - BAR_LEFT, pattern.height)), (x0, y))


def _stripes(width: int, height: int, bg: RGB, fg: RGB, step: int, thickness: int = 2) -> Image.Image:
    tile = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(tile)
    for x in range(-height, width + height, step):
        draw.line((x, height - 1, x + height - 1, 0), fill=fg, width=thickness)
    return tile


def _header(draw: ImageDraw.ImageDraw, fonts: _Fonts, summary: DaySummary, ordered: list[TunnelDay],
            tz: ZoneInfo) -> None:
    day = summary.day
    title = f"VPN tunnels — {WEEKDAYS[day.weekday()]} {day.isoformat()} ({summary.zone})"
    _text(draw, (MARGIN, TITLE_Y + TITLE_SIZE // 2 + 2), title, fonts.title, TEXT)
    with_drops = sum(1 for t in ordered if t.drops)
    no_logs = sum(1 for t in ordered if t.no_logs)
    still_down = sum(1 for t in ordered if any(o.ongoing for o in t.outages))
    parts = [_plural(len(ordered), "tunnel"), f"{with_drops} with drops", f"{no_logs} without logs"]
    if still_down:
        parts.append(f"{still_down} still down")
    if summary.failures:
        parts.append(f"{_plural(len(summary.failures), 'log source')} failed: their tunnels are not known healthy")
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    if summary.end < next_midnight:
        parts.append(f"so far, until {summary.end.astimezone(tz).strftime('%H:%M %Z')}")
    _text(draw, (MARGIN, SUBTITLE_Y + SUBTITLE_SIZE // 2 + 2), " · ".join(parts), fonts.subtitle, MUTED,
          max_width=WIDTH - 2 * MARGIN)


def _axis(draw: ImageDraw.ImageDraw, fonts: _Fonts, ticks: list[HourTick], x_of: Callable[[float], float],
          rows_bottom: int, tz: ZoneInfo, summary: DaySummary) -> None:
    label_w = fonts.label.getlength("00") + 6
    px_per_hour = (BAR_RIGHT - BAR_LEFT) * 3600 / max(summary.end.timestamp() - summary.start.timestamp(), 1.0)
    every = next((n for n in (1, 2, 3, 4, 6, 12) if px_per_hour * n >= label_w), 24)
    bottom_label_y = rows_bottom + 18
    for i, tick in enumerate(ticks):
        x = min(round(x_of(tick.ts)), BAR_RIGHT - 1)
        major = tick.major
        draw.line((x, TICK_TOP, x, rows_bottom + 4), fill=GRID_MAJOR if major else GRID)
        draw.line((x, TICK_TOP, x, ROWS_TOP - 1), fill=AXIS)  # the tick itself, above the first row
        draw.line((x, rows_bottom, x, rows_bottom + 5), fill=AXIS)
        if tick.offset_changed:
            for y in range(TICK_TOP, rows_bottom, 8):
                draw.line((x, y, x, min(y + 4, rows_bottom)), fill=DST_LINE, width=2)
        if i % every == 0 or tick.offset_changed:
            for y in (AXIS_LABEL_Y, bottom_label_y):
                _text(draw, (x, y), tick.label, fonts.label, TEXT if major else MUTED, align="center")
    draw.line((BAR_LEFT, ROWS_TOP - 1, BAR_RIGHT - 1, ROWS_TOP - 1), fill=AXIS)
    draw.line((BAR_LEFT, rows_bottom, BAR_RIGHT - 1, rows_bottom), fill=AXIS)
    zones = []
    for moment in [summary.start] + [datetime.fromtimestamp(t.ts, UTC) for t in ticks if t.offset_changed]:
        zones.append(moment.astimezone(tz).strftime("%Z"))
    caption = "local time (" + " to ".join(zones) + ")"
    for y in (AXIS_LABEL_Y, bottom_label_y):
        _text(draw, (BAR_LEFT - 14, y), caption, fonts.label, MUTED, align="right")


def _row(img: Image.Image, draw: ImageDraw.ImageDraw, fonts: _Fonts, patterns: _Patterns, tunnel: TunnelDay,
         top: int, x_of: Callable[[float], float], start: float, end: float) -> None:
    middle = top + (BAR_TOP + BAR_BOTTOM) // 2
    provider = PROVIDERS.get(tunnel.provider, tunnel.provider)
    provider_w = fonts.label.getlength(provider) if provider else 0
    _text(draw, (NAME_RIGHT, middle), provider, fonts.label, MUTED, align="right")
    _text(draw, (NAME_LEFT, middle), tunnel.name, fonts.name, TEXT, max_width=NAME_RIGHT - NAME_LEFT - provider_w - 8)

    y0, y1 = top + BAR_TOP, top + BAR_BOTTOM - 1
    if tunnel.no_logs:
        patterns.paste(img, patterns.no_logs, BAR_LEFT, BAR_RIGHT, y0)
        mid_x = (BAR_LEFT + BAR_RIGHT) // 2
        w = fonts.label.getlength("no logs")
        draw.rectangle((mid_x - w / 2 - 6, y0 + 1, mid_x + w / 2 + 6, y1 - 1), fill=NO_LOGS_BG)
        _text(draw, (mid_x, middle), "no logs", fonts.label, TEXT, align="center")
    else:
        draw.rectangle((BAR_LEFT, y0, BAR_RIGHT - 1, y1), fill=UP)
    ongoing_ends = {o.end for o in tunnel.outages if o.ongoing}
    arrow: RGB | None = None
    # Amber first, red over it: where every path is down, that is what matters.
    for intervals, fill, cap, dark in ((tunnel.exposed_intervals(), EXPOSED, patterns.still_exposed, EXPOSED_DARK),
                                       (tunnel.down_intervals(), DOWN, patterns.still_down, DOWN_DARK)):
        for a, b in intervals:
            if b < start or a > end:
                continue
            still = b in ongoing_ends
            x0, x1 = round(x_of(a)), BAR_RIGHT if still else round(x_of(b))
            if x1 - x0 < MIN_OUTAGE_PX:
                x0 = max(BAR_LEFT, min(x0 - (MIN_OUTAGE_PX - (x1 - x0)) // 2, BAR_RIGHT - MIN_OUTAGE_PX))
                x1 = x0 + MIN_OUTAGE_PX
            draw.rectangle((x0, y0, x1 - 1, y1), fill=fill)
            if still:
                patterns.paste(img, cap, max(x0, BAR_RIGHT - CAP_PX), BAR_RIGHT, y0)
                arrow = dark
    if arrow is not None:
        _arrow(draw, BAR_RIGHT + 2, middle, arrow)
    for marker in sorted(tunnel.markers, key=lambda m: (m.ts, m.kind)):
        if start <= marker.ts <= end:
            _marker(draw, marker.kind, round(x_of(marker.ts)), top)

    _text(draw, (STATS_LEFT, middle), _stats(tunnel, fonts.label, STATS_RIGHT - STATS_LEFT),
          fonts.label, TEXT if tunnel.troubled else MUTED)


def _arrow(draw: ImageDraw.ImageDraw, x: int, middle: int, fill: RGB = DOWN_DARK) -> None:
    """"Still down": a dark arrowhead just past the end of the bar."""
    draw.polygon([(x, middle - 7), (x + 9, middle), (x, middle + 7)], fill=fill)


def _marker(draw: ImageDraw.ImageDraw, kind: str, x: int, top: int) -> None:
    if kind == "maintenance":  # a blue triangle pointing down at the bar
        draw.polygon([(x - 6, top + 1), (x + 6, top + 1), (x, top + BAR_TOP - 1)], fill=MAINTENANCE)
    else:  # config change (or anything else worth a mark): an orange pin, head up
        draw.rectangle((x - 1, top + 4, x + 1, top + BAR_TOP - 1), fill=CONFIG_CHANGE)
        draw.rectangle((x - 4, top + 1, x + 4, top + 6), fill=CONFIG_CHANGE)


def overflow_text(hidden: list[TunnelDay]) -> str:
    """The last row's words when not every tunnel has a row (or there is none at all)."""
    if not hidden:
        return "no tunnels in this summary"
    troubled = sum(1 for t in hidden if t.troubled)
    if troubled:
        return f"… and {_plural(len(hidden), 'more tunnel')} ({troubled} with trouble: see the text summary)"
    return f"… and {_plural(len(hidden), 'more healthy tunnel')}"


def _overflow_row(draw: ImageDraw.ImageDraw, fonts: _Fonts, hidden: list[TunnelDay], top: int) -> None:
    _text(draw, (NAME_LEFT, top + (BAR_TOP + BAR_BOTTOM) // 2), overflow_text(hidden), fonts.name, MUTED)


def _stats(tunnel: TunnelDay, font: Font, max_width: int) -> str:
    """The row's words, shortened until they fit the column: what the bar shows, for people who can't see it."""
    if tunnel.no_logs:
        return "no logs: is logging on?"
    down, exposed = tunnel.down_intervals(), tunnel.exposed_intervals()
    ongoing_ends = {o.end for o in tunnel.outages if o.ongoing}
    variants = []
    for short in (False, True):
        parts = []
        if tunnel.drops:
            parts.append(_plural(tunnel.drops, "tunnel drop" if tunnel.paths > 1 and not short else "drop"))
        if down:
            parts.append(_duration(tunnel.downtime_s) + ("" if short else " down"))
            if down[-1][1] in ongoing_ends:
                parts.append("still down")
            elif not tunnel.drops:
                parts.append("since yesterday" if short else "down at midnight")
        if tunnel.flapping:
            parts.append("flapping")
        if exposed:
            parts.append(_duration(tunnel.exposure_s) + (" w/o redundancy" if short else " without redundancy"))
            if exposed[-1][1] in ongoing_ends and not (down and down[-1][1] in ongoing_ends):
                parts.append("ongoing" if short else "still on one tunnel")
        variants.append(" · ".join(parts) or "no drops")
    for text in variants:
        if _width(text, font) <= max_width:
            return text
    return variants[-1]  # _text() ellipsizes it


def _legend_items() -> list[tuple[str, str]]:
    return [("up", "up"), ("down", "down"), ("still_down", "still down at the end"),
            ("exposed", "one AWS tunnel of two down"), ("no_logs", "no logs"),
            ("maintenance", "maintenance"), ("config_change", "config change")]


def _flow(items: list[tuple[str, str]], font: Font, width: int) -> list[list[tuple[str, str]]]:
    lines: list[list[tuple[str, str]]] = [[]]
    used = 0.0
    for item in items:
        w = _legend_width(item, font)
        if lines[-1] and used + w > width:
            lines.append([])
            used = 0.0
        lines[-1].append(item)
        used += w
    return lines


def _legend_width(item: tuple[str, str], font: Font) -> float:
    return 34 + _width(item[1], font) + 26


def _legend(img: Image.Image, draw: ImageDraw.ImageDraw, fonts: _Fonts, patterns: _Patterns,
            lines: list[list[tuple[str, str]]], top: int) -> None:
    for n, line in enumerate(lines):
        x, middle = float(NAME_LEFT), top + n * 24 + 10
        for kind, text in line:
            sx = round(x)
            y0, y1 = middle - 7, middle + 7
            if kind == "up":
                draw.rectangle((sx, y0, sx + 27, y1), fill=UP)
            elif kind == "down":
                draw.rectangle((sx, y0, sx + 27, y1), fill=DOWN)
            elif kind == "exposed":
                draw.rectangle((sx, y0, sx + 27, y1), fill=EXPOSED)
            elif kind == "still_down":
                draw.rectangle((sx, y0, sx + 17, y1), fill=DOWN)
                img.paste(patterns.still_down.crop((0, 0, 8, y1 - y0 + 1)), (sx + 10, y0))
                _arrow(draw, sx + 20, middle)
            elif kind == "no_logs":
                img.paste(patterns.no_logs.crop((0, 0, 28, y1 - y0 + 1)), (sx, y0))
            else:
                _marker(draw, kind, sx + 14, middle - BAR_TOP + 4)
            _text(draw, (sx + 34, middle), text, fonts.label, TEXT)
            x += _legend_width((kind, text), fonts.label)


# --- text helpers ----------------------------------------------------------------------------------------------


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n:,} {noun}s"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


DASHES = {"—": 1.0, "–": 0.6}  # drawn as lines: Pillow's built-in Aileron has no dash glyphs


@cache
def _has_glyph(font: Font, ch: str) -> bool:
    return bytes(font.getmask(ch)) != bytes(font.getmask("\ue000")) or ch == "\ue000"


def _printable(text: str, font: Font) -> str:
    """Characters the font can draw: dashes kept (drawn by hand), é → e, anything else unknown → ?."""
    out = []
    for ch in text:
        if ch in DASHES or _has_glyph(font, ch):
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(_has_glyph(font, c) for c in base) else "?")
    return "".join(out)


def _size(font: Font) -> float:
    return float(font.size)


def _width(text: str, font: Font) -> float:
    text = _printable(text, font)
    plain = "".join(ch for ch in text if ch not in DASHES)
    return font.getlength(plain) + sum(DASHES[ch] * _size(font) * 0.8 + 6 for ch in text if ch in DASHES)


def _ellipsize(text: str, font: Font, max_width: float) -> str:
    if _width(text, font) <= max_width:
        return text
    while text and _width(text + "…", font) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font: Font, fill: RGB,
          align: str = "left", max_width: float | None = None) -> None:
    """Draw one line of text, vertically centred on xy[1], with hand-drawn dashes and an ellipsis if too wide."""
    text = _printable(text, font)
    if max_width is not None:
        text = _ellipsize(text, font, max_width)
    x, y = xy
    total = _width(text, font)
    if align == "right":
        x -= total
    elif align == "center":
        x -= total / 2
    segment = ""
    for ch in [*text, None]:
        if ch is not None and ch not in DASHES:
            segment += ch
            continue
        if segment:
            draw.text((x, y), segment, font=font, fill=fill, anchor="lm")
            x += font.getlength(segment)
            segment = ""
        if ch is not None:
            length = DASHES[ch] * _size(font) * 0.8
            _, top, _, bottom = font.getbbox("x", anchor="lm")
            dash_y = round(y + (top + bottom) / 2)
            thick = max(1, round(_size(font) / 12))
            draw.rectangle((round(x + 3), dash_y - thick // 2, round(x + 3 + length), dash_y + (thick - 1) // 2),
                           fill=fill)
            x += length + 6
