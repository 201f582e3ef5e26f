"""How the timeline picture looks, and the pieces `timeline_png` draws it with: the palette, the layout's numbers,
the fonts and their text (with the dashes and accents Pillow's built-in font lacks), the striped fills, the markers
and the legend that explains them. Why the colours and the font are these is said in `timeline_png`.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from PIL import Image, ImageDraw, ImageFont

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


class Fonts:
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


class Patterns:
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


def draw_arrow(draw: ImageDraw.ImageDraw, x: int, middle: int, fill: RGB = DOWN_DARK) -> None:
    """"Still down": a dark arrowhead just past the end of the bar."""
    draw.polygon([(x, middle - 7), (x + 9, middle), (x, middle + 7)], fill=fill)


def draw_marker(draw: ImageDraw.ImageDraw, kind: str, x: int, top: int) -> None:
    if kind == "maintenance":  # a blue triangle pointing down at the bar
        draw.polygon([(x - 6, top + 1), (x + 6, top + 1), (x, top + BAR_TOP - 1)], fill=MAINTENANCE)
    else:  # config change (or anything else worth a mark): an orange pin, head up
        draw.rectangle((x - 1, top + 4, x + 1, top + BAR_TOP - 1), fill=CONFIG_CHANGE)
        draw.rectangle((x - 4, top + 1, x + 4, top + 6), fill=CONFIG_CHANGE)


def legend_items() -> list[tuple[str, str]]:
    return [("up", "up"), ("down", "down"), ("still_down", "still down at the end"),
            ("exposed", "one AWS tunnel of two down"), ("no_logs", "no logs"),
            ("maintenance", "maintenance"), ("config_change", "config change")]


def flow(items: list[tuple[str, str]], font: Font, width: int) -> list[list[tuple[str, str]]]:
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
    return 34 + text_width(item[1], font) + 26


def draw_legend(img: Image.Image, draw: ImageDraw.ImageDraw, fonts: Fonts, patterns: Patterns,
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
                draw_arrow(draw, sx + 20, middle)
            elif kind == "no_logs":
                img.paste(patterns.no_logs.crop((0, 0, 28, y1 - y0 + 1)), (sx, y0))
            else:
                draw_marker(draw, kind, sx + 14, middle - BAR_TOP + 4)
            draw_text(draw, (sx + 34, middle), text, fonts.label, TEXT)
            x += _legend_width((kind, text), fonts.label)


# --- text helpers ----------------------------------------------------------------------------------------------


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


def text_width(text: str, font: Font) -> float:
    text = _printable(text, font)
    plain = "".join(ch for ch in text if ch not in DASHES)
    return font.getlength(plain) + sum(DASHES[ch] * _size(font) * 0.8 + 6 for ch in text if ch in DASHES)


def _ellipsize(text: str, font: Font, max_width: float) -> str:
    if text_width(text, font) <= max_width:
        return text
    while text and text_width(text + "…", font) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def draw_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font: Font, fill: RGB,
          align: str = "left", max_width: float | None = None) -> None:
    """Draw one line of text, vertically centred on xy[1], with hand-drawn dashes and an ellipsis if too wide."""
    text = _printable(text, font)
    if max_width is not None:
        text = _ellipsize(text, font, max_width)
    x, y = xy
    total = text_width(text, font)
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
