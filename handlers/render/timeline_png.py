"""The daily summary's timeline picture: one row per tunnel over the local day, as PNG bytes.

The picture is posted in the summary's Slack thread (`files_upload_v2`) and written by `vpnbot summary --day
YYYY-MM-DD --png FILE`; this module only draws, it does no I/O, so both callers get the same bytes. It lays out the
picture; the palette, the layout's numbers, the fonts, the marks and the legend are in `timeline_draw`.

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

from diagnostics.summary.model import DaySummary, TunnelDay
from handlers.render.timeline_draw import (
    AXIS,
    AXIS_LABEL_Y,
    BACKGROUND,
    BAR_BOTTOM,
    BAR_LEFT,
    BAR_RIGHT,
    BAR_TOP,
    CAP_PX,
    DOWN,
    DOWN_DARK,
    DST_LINE,
    EXPOSED,
    EXPOSED_DARK,
    GRID,
    GRID_MAJOR,
    MARGIN,
    MIN_OUTAGE_PX,
    MUTED,
    NAME_LEFT,
    NAME_RIGHT,
    NO_LOGS_BG,
    RGB,
    ROW_HEIGHT,
    ROWS_TOP,
    STATS_LEFT,
    STATS_RIGHT,
    SUBTITLE_SIZE,
    SUBTITLE_Y,
    TEXT,
    TICK_TOP,
    TITLE_SIZE,
    TITLE_Y,
    UP,
    WIDTH,
    ZEBRA,
    Font,
    Fonts,
    Patterns,
    draw_arrow,
    draw_legend,
    draw_marker,
    draw_text,
    flow,
    legend_items,
    text_width,
)

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

    fonts = Fonts()
    legend = legend_items()
    legend_top = rows_bottom + 40
    legend_lines = flow(legend, fonts.label, STATS_RIGHT - NAME_LEFT)
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

    patterns = Patterns()
    for i, tunnel in enumerate(shown):
        _row(img, draw, fonts, patterns, tunnel, ROWS_TOP + i * ROW_HEIGHT, x_of, start, end)
    if hidden or not ordered:
        _overflow_row(draw, fonts, hidden, ROWS_TOP + len(shown) * ROW_HEIGHT)
    draw_legend(img, draw, fonts, patterns, legend_lines, legend_top)

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


def _header(draw: ImageDraw.ImageDraw, fonts: Fonts, summary: DaySummary, ordered: list[TunnelDay],
            tz: ZoneInfo) -> None:
    day = summary.day
    title = f"VPN tunnels — {WEEKDAYS[day.weekday()]} {day.isoformat()} ({summary.zone})"
    draw_text(draw, (MARGIN, TITLE_Y + TITLE_SIZE // 2 + 2), title, fonts.title, TEXT)
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
    draw_text(draw, (MARGIN, SUBTITLE_Y + SUBTITLE_SIZE // 2 + 2), " · ".join(parts), fonts.subtitle, MUTED,
          max_width=WIDTH - 2 * MARGIN)


def _axis(draw: ImageDraw.ImageDraw, fonts: Fonts, ticks: list[HourTick], x_of: Callable[[float], float],
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
                draw_text(draw, (x, y), tick.label, fonts.label, TEXT if major else MUTED, align="center")
    draw.line((BAR_LEFT, ROWS_TOP - 1, BAR_RIGHT - 1, ROWS_TOP - 1), fill=AXIS)
    draw.line((BAR_LEFT, rows_bottom, BAR_RIGHT - 1, rows_bottom), fill=AXIS)
    zones = []
    for moment in [summary.start] + [datetime.fromtimestamp(t.ts, UTC) for t in ticks if t.offset_changed]:
        zones.append(moment.astimezone(tz).strftime("%Z"))
    caption = "local time (" + " to ".join(zones) + ")"
    for y in (AXIS_LABEL_Y, bottom_label_y):
        draw_text(draw, (BAR_LEFT - 14, y), caption, fonts.label, MUTED, align="right")


def _row(img: Image.Image, draw: ImageDraw.ImageDraw, fonts: Fonts, patterns: Patterns, tunnel: TunnelDay,
         top: int, x_of: Callable[[float], float], start: float, end: float) -> None:
    middle = top + (BAR_TOP + BAR_BOTTOM) // 2
    provider = PROVIDERS.get(tunnel.provider, tunnel.provider)
    provider_w = fonts.label.getlength(provider) if provider else 0
    draw_text(draw, (NAME_RIGHT, middle), provider, fonts.label, MUTED, align="right")
    draw_text(draw, (NAME_LEFT, middle), tunnel.name, fonts.name, TEXT,
              max_width=NAME_RIGHT - NAME_LEFT - provider_w - 8)

    y0, y1 = top + BAR_TOP, top + BAR_BOTTOM - 1
    if tunnel.no_logs:
        patterns.paste(img, patterns.no_logs, BAR_LEFT, BAR_RIGHT, y0)
        mid_x = (BAR_LEFT + BAR_RIGHT) // 2
        w = fonts.label.getlength("no logs")
        draw.rectangle((mid_x - w / 2 - 6, y0 + 1, mid_x + w / 2 + 6, y1 - 1), fill=NO_LOGS_BG)
        draw_text(draw, (mid_x, middle), "no logs", fonts.label, TEXT, align="center")
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
        draw_arrow(draw, BAR_RIGHT + 2, middle, arrow)
    for marker in sorted(tunnel.markers, key=lambda m: (m.ts, m.kind)):
        if start <= marker.ts <= end:
            draw_marker(draw, marker.kind, round(x_of(marker.ts)), top)

    draw_text(draw, (STATS_LEFT, middle), _stats(tunnel, fonts.label, STATS_RIGHT - STATS_LEFT),
          fonts.label, TEXT if tunnel.troubled else MUTED)


def overflow_text(hidden: list[TunnelDay]) -> str:
    """The last row's words when not every tunnel has a row (or there is none at all)."""
    if not hidden:
        return "no tunnels in this summary"
    troubled = sum(1 for t in hidden if t.troubled)
    if troubled:
        return f"… and {_plural(len(hidden), 'more tunnel')} ({troubled} with trouble: see the text summary)"
    return f"… and {_plural(len(hidden), 'more healthy tunnel')}"


def _overflow_row(draw: ImageDraw.ImageDraw, fonts: Fonts, hidden: list[TunnelDay], top: int) -> None:
    draw_text(draw, (NAME_LEFT, top + (BAR_TOP + BAR_BOTTOM) // 2), overflow_text(hidden), fonts.name, MUTED)


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
        if tunnel.idle_all_day:  # its metrics: docs/summaries.md#traffic
            parts.append("idle all day" if short else "connected but idle all day")
        if exposed:
            parts.append(_duration(tunnel.exposure_s) + (" w/o redundancy" if short else " without redundancy"))
            if exposed[-1][1] in ongoing_ends and not (down and down[-1][1] in ongoing_ends):
                parts.append("ongoing" if short else "still on one tunnel")
        variants.append(" · ".join(parts) or "no drops")
    for text in variants:
        if text_width(text, font) <= max_width:
            return text
    return variants[-1]  # draw_text() ellipsizes it


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
