"""The chart of an incident as PNG bytes: the window around a drop, the tunnel's state as bands, the bytes each way,
and the log's markers, on a time axis in the asker's zone (docs/asking.md#the-chart-of-an-incident).

Posted in the answer's Slack thread (files_upload_v2, like the daily summary's picture) and put in the evidence
bundle as `chart.png`; this module only draws. It follows the daily summary's picture (`timeline_png`): the same
palette, fonts, text helpers and markers (`timeline_draw`), the same choices (nothing said by colour alone, shapes
differ, Pillow's built-in font only), and the same determinism: same chart, same bytes (no timestamps or text chunks
in the PNG, a fixed layout, everything drawn in a fixed order).

From top to bottom: the title and what the window is; the events lane (maintenance ▼ and configuration changes
on its upper half, negotiation failures ✕ and BGP ◆/◇ on its lower half); one band row per path (red: down, hatched
to the edge: still down); the traffic panel, bytes received from the site above the middle line and bytes sent to it
below, one bar per metrics interval, grey hatching where the metrics have no value (which is not a 0); the legend.
Without metrics the panel is left out and the subtitle says why.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

from diagnostics.timefmt import duration_text
from diagnostics.traffic.drops import human_bytes, interval_words
from handlers.incident_chart import ChartMarker, IncidentChart
from handlers.render.timeline_draw import (
    AXIS,
    BACKGROUND,
    BAR_BOTTOM,
    BAR_TOP,
    CAP_PX,
    CONFIG_CHANGE,
    DOWN,
    DOWN_DARK,
    GRID,
    GRID_MAJOR,
    MAINTENANCE,
    MARGIN,
    MUTED,
    NO_LOGS_BG,
    NO_LOGS_STRIPE,
    ROW_HEIGHT,
    SUBTITLE_SIZE,
    SUBTITLE_Y,
    TEXT,
    TITLE_SIZE,
    TITLE_Y,
    UP,
    WIDTH,
    ZEBRA,
    Fonts,
    _stripes,
    draw_arrow,
    draw_marker,
    draw_text,
    flow,
    text_width,
)

RGB = tuple[int, int, int]

BYTES_IN: RGB = (0, 114, 178)  # blue (Okabe-Ito)
BYTES_OUT: RGB = (230, 159, 0)  # orange (Okabe-Ito)
NEGOTIATION: RGB = (213, 94, 0)  # vermillion
BGP: RGB = (0, 158, 115)  # bluish green

LABEL_LEFT = MARGIN
LABEL_RIGHT = 178
PLOT_LEFT = 190
PLOT_RIGHT = WIDTH - 24  # exclusive
AXIS_LABEL_Y = 82
TICK_TOP = 92
LANE_TOP = 100
LANE_HEIGHT = 30
PANEL_GAP = 14
PANEL_HEIGHT = 200
MIN_BAND_PX = 3
MIN_TICK_PX = 84
#: Tick steps on the time axis, in minutes: the smallest that leaves MIN_TICK_PX between labels is used.
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)


def render_incident_png(chart: IncidentChart) -> bytes:
    """The chart as PNG bytes: same chart, same bytes."""
    tz = ZoneInfo(chart.zone)
    fonts = Fonts()
    span = max(chart.end - chart.start, 1.0)

    def x_of(ts: float) -> float:
        return PLOT_LEFT + (min(max(ts, chart.start), chart.end) - chart.start) / span * (PLOT_RIGHT - PLOT_LEFT)

    rows_top = LANE_TOP + LANE_HEIGHT
    rows_bottom = rows_top + max(1, len(chart.paths)) * ROW_HEIGHT
    panel_top = rows_bottom + PANEL_GAP
    bottom = panel_top + PANEL_HEIGHT if chart.has_traffic else rows_bottom
    legend = _legend_items(chart)
    legend_top = bottom + 40
    legend_lines = flow(legend, fonts.label, WIDTH - 2 * MARGIN)
    height = legend_top + len(legend_lines) * 24 + 10

    img = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    _header(draw, fonts, chart, tz)
    for i in range(len(chart.paths)):
        if i % 2 == 0:
            top = rows_top + i * ROW_HEIGHT
            draw.rectangle((0, top, WIDTH - 1, top + ROW_HEIGHT - 1), fill=ZEBRA)
    _axis(draw, fonts, chart, tz, x_of, bottom)
    _lane(draw, fonts, chart.markers, x_of, bottom)
    for i, path in enumerate(chart.paths):
        _path_row(img, draw, fonts, path.name, path.bands, rows_top + i * ROW_HEIGHT, x_of)
    if chart.has_traffic:
        _panel(img, draw, fonts, chart, panel_top, x_of)
    _draw_legend(draw, fonts, legend_lines, legend_top)

    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False)
    return buf.getvalue()


# --- pieces ----------------------------------------------------------------------------------------------------


def _header(draw: ImageDraw.ImageDraw, fonts: Fonts, chart: IncidentChart, tz: ZoneInfo) -> None:
    first = datetime.fromtimestamp(chart.start, UTC).astimezone(tz)
    last = datetime.fromtimestamp(chart.end, UTC).astimezone(tz)
    day = first.strftime("%Y-%m-%d") + ("" if first.date() == last.date() else last.strftime(" to %Y-%m-%d"))
    draw_text(draw, (MARGIN, TITLE_Y + TITLE_SIZE // 2 + 2), f"{chart.tunnel} — incident of {day} ({chart.zone})",
              fonts.title, TEXT, max_width=WIDTH - 2 * MARGIN)
    downs = [b for p in chart.paths for b in p.bands if b.down]
    noun = "tunnel drop" if len(chart.paths) > 1 else "drop"  # AWS: each of the connection's tunnels apart
    parts = [f"{len(downs)} {noun}{'s' if len(downs) != 1 else ''}" if downs else "no drop"]
    if downs:
        longest = max(downs, key=lambda b: b.end - b.start)
        parts.append(f"longest {duration_text(longest.end - longest.start)}"
                     + (" and still down" if any(b.ongoing for b in downs) else ""))
    parts.append(f"{first.strftime('%H:%M')}–{last.strftime('%H:%M %Z')}")
    if chart.has_traffic:
        parts.append(f"bytes per {interval_words(chart.interval_s)} from the gateway's metrics")
    else:
        parts.append(f"no traffic shown: {chart.no_traffic}")
    draw_text(draw, (MARGIN, SUBTITLE_Y + SUBTITLE_SIZE // 2 + 2), " · ".join(parts), fonts.subtitle, MUTED,
              max_width=WIDTH - 2 * MARGIN)


def axis_ticks(start: float, end: float, tz: ZoneInfo) -> list[tuple[float, str, bool]]:
    """(epoch seconds, label, major) of the time axis: wall-clock multiples of a step that leaves room for labels."""
    px_per_s = (PLOT_RIGHT - PLOT_LEFT) / max(end - start, 1.0)
    step = next((m for m in TICK_STEPS if m * 60 * px_per_s >= MIN_TICK_PX), TICK_STEPS[-1])
    ticks: list[tuple[float, str, bool]] = []
    local = datetime.fromtimestamp(start, UTC).astimezone(tz)
    minutes = local.hour * 60 + local.minute + (1 if local.second or local.microsecond else 0)
    first = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=-(-minutes // step) * step)
    t = first.astimezone(UTC)
    while t.timestamp() <= end:
        wall = t.astimezone(tz)
        midnight = wall.hour == 0 and wall.minute == 0
        label = wall.strftime("%a %d") if midnight and step < 1440 else wall.strftime("%H:%M")
        ticks.append((t.timestamp(), label, midnight or (wall.minute == 0 and step < 60)))
        t += timedelta(minutes=step)  # in UTC: a DST change shifts the labels, never the spacing
    return ticks


def _axis(draw: ImageDraw.ImageDraw, fonts: Fonts, chart: IncidentChart, tz: ZoneInfo,
          x_of: Callable[[float], float], bottom: int) -> None:
    bottom_label_y = bottom + 18
    for ts, label, major in axis_ticks(chart.start, chart.end, tz):
        x = min(round(x_of(ts)), PLOT_RIGHT - 1)
        draw.line((x, TICK_TOP, x, bottom + 4), fill=GRID_MAJOR if major else GRID)
        draw.line((x, TICK_TOP, x, LANE_TOP - 1), fill=AXIS)
        for y in (AXIS_LABEL_Y, bottom_label_y):
            draw_text(draw, (x, y), label, fonts.label, TEXT if major else MUTED, align="center")
    draw.line((PLOT_LEFT, LANE_TOP - 1, PLOT_RIGHT - 1, LANE_TOP - 1), fill=AXIS)
    draw.line((PLOT_LEFT, bottom, PLOT_RIGHT - 1, bottom), fill=AXIS)
    zone = datetime.fromtimestamp(chart.start, UTC).astimezone(tz).strftime("%Z")
    for y in (AXIS_LABEL_Y, bottom_label_y):
        draw_text(draw, (PLOT_LEFT - 12, y), f"time ({zone})", fonts.label, MUTED, align="right")


def _lane(draw: ImageDraw.ImageDraw, fonts: Fonts, markers: tuple[ChartMarker, ...], x_of: Callable[[float], float],
          bottom: int) -> None:
    draw_text(draw, (LABEL_LEFT, LANE_TOP + LANE_HEIGHT // 2), "events", fonts.name, TEXT)
    drawn: set[tuple[str, int]] = set()
    for marker in markers:  # sorted by time and kind (IncidentChart)
        x = round(x_of(marker.ts))
        if (marker.kind, x) in drawn:
            continue
        drawn.add((marker.kind, x))
        if marker.kind in ("maintenance", "config_change"):
            colour = MAINTENANCE if marker.kind == "maintenance" else CONFIG_CHANGE
            for y in range(LANE_TOP + BAR_TOP, bottom, 6):  # a dotted line down to the traffic it may explain
                draw.line((x, y, x, min(y + 2, bottom - 1)), fill=colour)
            draw_marker(draw, marker.kind, x, LANE_TOP)
        else:
            _small_marker(draw, marker.kind, x, LANE_TOP + 21)


def _small_marker(draw: ImageDraw.ImageDraw, kind: str, x: int, middle: int) -> None:
    """A negotiation failure: a vermillion ✕; BGP: a green diamond, filled when it came up, hollow when it went down."""
    if kind == "negotiation_failure":
        draw.line((x - 4, middle - 4, x + 4, middle + 4), fill=NEGOTIATION, width=2)
        draw.line((x - 4, middle + 4, x + 4, middle - 4), fill=NEGOTIATION, width=2)
    else:
        diamond = [(x, middle - 6), (x + 6, middle), (x, middle + 6), (x - 6, middle)]
        draw.polygon(diamond, fill=BGP if kind == "bgp_up" else BACKGROUND, outline=BGP, width=2)


def _path_row(img: Image.Image, draw: ImageDraw.ImageDraw, fonts: Fonts, name: str, bands, top: int,
              x_of: Callable[[float], float]) -> None:
    middle = top + (BAR_TOP + BAR_BOTTOM) // 2
    draw_text(draw, (LABEL_LEFT, middle), name, fonts.name, TEXT, max_width=LABEL_RIGHT - LABEL_LEFT)
    y0, y1 = top + BAR_TOP, top + BAR_BOTTOM - 1
    draw.rectangle((PLOT_LEFT, y0, PLOT_RIGHT - 1, y1), fill=UP)
    for band in bands:
        if not band.down:
            continue
        x0, x1 = round(x_of(band.start)), PLOT_RIGHT if band.ongoing else round(x_of(band.end))
        if x1 - x0 < MIN_BAND_PX:
            x0 = max(PLOT_LEFT, min(x0 - (MIN_BAND_PX - (x1 - x0)) // 2, PLOT_RIGHT - MIN_BAND_PX))
            x1 = x0 + MIN_BAND_PX
        draw.rectangle((x0, y0, x1 - 1, y1), fill=DOWN)
        if band.ongoing:
            cap = _stripes(CAP_PX, y1 - y0 + 1, DOWN, DOWN_DARK, step=5, thickness=3)
            img.paste(cap, (max(x0, PLOT_RIGHT - CAP_PX), y0))
            draw_arrow(draw, PLOT_RIGHT + 2, middle)


def nice_ceiling(value: float) -> float:
    """The scale's top: 1, 2 or 5 × a power of ten, at least `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= value)


def _panel(img: Image.Image, draw: ImageDraw.ImageDraw, fonts: Fonts, chart: IncidentChart, top: int,
           x_of: Callable[[float], float]) -> None:
    half = PANEL_HEIGHT // 2
    middle = top + half
    interval = chart.interval_s
    scale = nice_ceiling(max([v for _, v in chart.bytes_in + chart.bytes_out], default=0.0))
    per = interval_words(interval)
    # Each half's name in its middle, clear of the scale's labels at the panel's top, middle and bottom.
    draw_text(draw, (LABEL_LEFT, top + half // 2 - 9), "bytes in", fonts.name, BYTES_IN)
    draw_text(draw, (LABEL_LEFT, top + half // 2 + 9), "from the site", fonts.label, MUTED)
    draw_text(draw, (LABEL_LEFT, middle + half // 2 - 9), "bytes out", fonts.name, BYTES_OUT)
    draw_text(draw, (LABEL_LEFT, middle + half // 2 + 9), "to the site", fonts.label, MUTED)
    for y, text in ((top + 8, f"{human_bytes(scale)}/{per}"), (middle, "0"),
                    (middle + half - 8, f"{human_bytes(scale)}/{per}")):
        draw_text(draw, (PLOT_LEFT - 6, y), text, fonts.label, MUTED, align="right")
    hatch = _stripes(PLOT_RIGHT - PLOT_LEFT, half, NO_LOGS_BG, NO_LOGS_STRIPE, step=8)
    grid_start = (chart.start // interval) * interval
    for points, colour, up in ((chart.bytes_in, BYTES_IN, True), (chart.bytes_out, BYTES_OUT, False)):
        y_edge = top if up else middle + 1
        present = {round(t) for t, _ in points}
        t = grid_start
        while t < chart.end:  # intervals the metrics gave no value for: hatched, not drawn as 0
            if round(t) not in present:
                x0, x1 = round(x_of(t)), round(x_of(t + interval))
                if x1 > x0:
                    img.paste(hatch.crop((x0 - PLOT_LEFT, 0, x1 - PLOT_LEFT, half - 1)), (x0, y_edge))
            t += interval
        for ts, value in points:
            x0, x1 = round(x_of(ts)), round(x_of(ts + interval))
            if x1 <= x0:
                x1 = x0 + 1
            h = round(value / scale * (half - 4))
            if value > 0 and h < 1:
                h = 1  # a few bytes still show
            if h:
                box = (x0, middle - h, x1 - 1, middle - 1) if up else (x0, middle + 1, x1 - 1, middle + h)
                draw.rectangle(box, fill=colour)
    draw.line((PLOT_LEFT, middle, PLOT_RIGHT - 1, middle), fill=AXIS)
    draw.line((PLOT_LEFT, top, PLOT_RIGHT - 1, top), fill=GRID)


# --- legend --------------------------------------------------------------------------------------------------


def _legend_items(chart: IncidentChart) -> list[tuple[str, str]]:
    items = [("up", "up"), ("down", "down")]
    if any(b.ongoing for p in chart.paths for b in p.bands):
        items.append(("still_down", "still down"))
    if chart.has_traffic:
        items += [("bytes_in", "bytes in (from the site)"), ("bytes_out", "bytes out (to the site)"),
                  ("no_value", "no metric value")]
    items += [("maintenance", "maintenance"), ("config_change", "config change"),
              ("negotiation_failure", "negotiation failure"), ("bgp_up", "BGP up"), ("bgp_down", "BGP down")]
    return items


def _draw_legend(draw: ImageDraw.ImageDraw, fonts: Fonts, lines: list[list[tuple[str, str]]], top: int) -> None:
    fills = {"up": UP, "down": DOWN, "still_down": DOWN_DARK, "bytes_in": BYTES_IN, "bytes_out": BYTES_OUT,
             "no_value": NO_LOGS_STRIPE}
    for n, line in enumerate(lines):
        x, middle = float(LABEL_LEFT), top + n * 24 + 10
        for kind, text in line:
            sx = round(x)
            if kind in fills:
                draw.rectangle((sx, middle - 7, sx + 27, middle + 7), fill=fills[kind])
            elif kind in ("maintenance", "config_change"):
                draw_marker(draw, kind, sx + 14, middle - BAR_TOP + 4)
            else:
                _small_marker(draw, kind, sx + 14, middle)
            draw_text(draw, (sx + 34, middle), text, fonts.label, TEXT)
            x += 34 + text_width(text, fonts.label) + 26
