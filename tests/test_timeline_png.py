"""The daily summary's timeline picture: what is drawn where, read back from the PNG's pixels."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from diagnostics.summary.model import DaySummary, Marker, Outage, TunnelDay
from handlers.render.timeline_draw import (
    AXIS,
    BAR_BOTTOM,
    BAR_LEFT,
    BAR_RIGHT,
    BAR_TOP,
    CAP_PX,
    CONFIG_CHANGE,
    DOWN,
    DOWN_DARK,
    EXPOSED,
    MAINTENANCE,
    MIN_OUTAGE_PX,
    NAME_RIGHT,
    NO_LOGS_BG,
    NO_LOGS_STRIPE,
    ROW_HEIGHT,
    ROWS_TOP,
    UP,
    WIDTH,
)
from handlers.render.timeline_png import hour_ticks, overflow_text, render_timeline_png

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 11, 21)  # a Saturday; Paris is UTC+1
SPRING = date(2026, 3, 29)  # 02:00 -> 03:00: 23 hours
AUTUMN = date(2026, 10, 25)  # 03:00 -> 02:00: 25 hours
DC1_TUNNELS = ("52.95.10.1", "52.95.10.2")  # an AWS connection's two tunnel outside IPs


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), PARIS).astimezone(UTC)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> float:
    """Local wall-clock time in Paris as epoch seconds (never on an ambiguous hour in these tests)."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=PARIS).timestamp()


def summary_of(*tunnels: TunnelDay, day: date = DAY, end: datetime | None = None) -> DaySummary:
    start = midnight(day)
    end = end or midnight(day + timedelta(days=1))
    return DaySummary(day=day, zone="Europe/Paris", start=start, end=end, tunnels=list(tunnels))


def tunnel(name: str, provider: str = "azure", day: date = DAY, **kwargs) -> TunnelDay:
    seconds = (midnight(day + timedelta(days=1)) - midnight(day)).total_seconds()
    return TunnelDay(name, provider, seconds, **kwargs)


def picture(summary: DaySummary, **kwargs) -> Image.Image:
    img = Image.open(io.BytesIO(render_timeline_png(summary, **kwargs)))
    img.load()
    return img


def bar_y(row: int, offset: int | None = None) -> int:
    """A pixel line through row `row`'s bar (its middle unless told)."""
    top = ROWS_TOP + row * ROW_HEIGHT
    return top + (BAR_TOP + BAR_BOTTOM) // 2 if offset is None else top + offset


def xs(img: Image.Image, y: int, colour: tuple[int, int, int], x0: int = BAR_LEFT, x1: int = BAR_RIGHT) -> list[int]:
    return [x for x in range(x0, x1) if img.getpixel((x, y)) == colour]


def x_at(summary: DaySummary, ts: float) -> float:
    start, end = summary.start.timestamp(), summary.end.timestamp()
    return BAR_LEFT + (ts - start) / (end - start) * (BAR_RIGHT - BAR_LEFT)


def paris_with_a_36_second_drop(day: date = DAY) -> TunnelDay:
    return tunnel("paris", day=day, outages=[Outage(at(day, 14, 2, 5), at(day, 14, 2, 41), "dpd_timeout")])


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return chunks


def test_picture_is_a_valid_non_trivial_png() -> None:
    summary = summary_of(paris_with_a_36_second_drop(), tunnel("dc1", "aws", paths=2), tunnel("lyon", no_logs=True))
    img = picture(summary)
    assert img.format == "PNG"
    assert img.mode == "RGB"
    assert img.width == WIDTH
    assert ROWS_TOP + 3 * ROW_HEIGHT < img.height < 600  # three rows, a header, an axis and a legend
    colours = img.getcolors(maxcolors=WIDTH * img.height)
    assert colours is not None and len(colours) > 20  # text, bars, stripes, markers: not a blank canvas


def test_down_interval_is_drawn_red_at_its_hour_position() -> None:
    summary = summary_of(paris_with_a_36_second_drop(), tunnel("amsterdam"))
    img = picture(summary)
    red = xs(img, bar_y(0), DOWN)
    expected = x_at(summary, at(DAY, 14, 2, 5))  # 14:02 local is 58.5 % of the bar
    assert red, "the drop is not drawn"
    assert len(red) >= MIN_OUTAGE_PX  # 36 s is a quarter of a pixel: drawn wide enough to see
    assert all(abs(x - expected) <= MIN_OUTAGE_PX for x in red)
    assert len(xs(img, bar_y(0), UP)) == BAR_RIGHT - BAR_LEFT - len(red)  # the rest of the day is up
    assert xs(img, bar_y(1), DOWN) == []  # the healthy tunnel's row has no red
    assert len(xs(img, bar_y(1), UP)) == BAR_RIGHT - BAR_LEFT


def test_troubled_tunnels_come_first_whatever_their_name() -> None:
    img = picture(summary_of(tunnel("amsterdam"), tunnel("berlin"), paris_with_a_36_second_drop()))
    assert xs(img, bar_y(0), DOWN)
    assert not xs(img, bar_y(1), DOWN) and not xs(img, bar_y(2), DOWN)


def test_ongoing_outage_runs_to_the_right_edge_with_a_dark_end_and_an_arrow() -> None:
    summary = summary_of(tunnel("frankfurt", outages=[
        Outage(at(DAY, 21, 40), midnight(DAY + timedelta(days=1)).timestamp(), "peer_unreachable", ongoing=True)]))
    img = picture(summary)
    y = bar_y(0)
    first_red = min(xs(img, y, DOWN))
    assert abs(first_red - x_at(summary, at(DAY, 21, 40))) <= 1
    down_to_the_edge = [x for x in range(first_red, BAR_RIGHT) if img.getpixel((x, y)) in (DOWN, DOWN_DARK)]
    assert down_to_the_edge == list(range(first_red, BAR_RIGHT))
    assert xs(img, y, DOWN_DARK, BAR_RIGHT - CAP_PX, BAR_RIGHT)  # the hatched end
    assert xs(img, y, DOWN_DARK, BAR_RIGHT, BAR_RIGHT + 12)  # the arrow past the end of the bar


def test_ongoing_outage_reaches_the_right_edge_even_when_the_data_ended_earlier() -> None:
    summary = summary_of(tunnel("frankfurt", outages=[
        Outage(at(DAY, 21, 40), at(DAY, 23, 50), "peer_unreachable", ongoing=True)]))
    img = picture(summary)
    assert img.getpixel((BAR_RIGHT - 1, bar_y(0))) in (DOWN, DOWN_DARK)


def test_outage_carried_over_from_yesterday_starts_red_at_the_left_edge() -> None:
    summary = summary_of(tunnel("london", outages=[
        Outage(midnight(DAY).timestamp(), at(DAY, 1, 30), "peer_unreachable", began_before=True)]))
    img = picture(summary)
    red = xs(img, bar_y(0), DOWN)
    assert red[0] == BAR_LEFT
    assert abs(red[-1] - x_at(summary, at(DAY, 1, 30))) <= 1
    assert xs(img, bar_y(0), DOWN_DARK, BAR_LEFT, BAR_RIGHT + 12) == []  # back up: no "still down" end


def test_no_logs_tunnel_is_striped_grey_not_healthy() -> None:
    img = picture(summary_of(tunnel("amsterdam"), tunnel("lyon", no_logs=True)))
    y = bar_y(0, BAR_TOP + 1)  # the no-logs row comes first: broken logging is trouble
    assert len(xs(img, y, NO_LOGS_STRIPE)) > 50
    assert len(xs(img, y, NO_LOGS_BG)) > 50
    assert xs(img, y, UP) == [] and xs(img, bar_y(0), UP) == []  # not a single "up" pixel
    middle = (BAR_LEFT + BAR_RIGHT) // 2  # the words "no logs" in the middle of the bar: dark text pixels
    assert any(max(img.getpixel((x, bar_y(0)))) < 120 for x in range(middle - 20, middle + 20))
    assert len(xs(img, bar_y(1), UP)) == BAR_RIGHT - BAR_LEFT  # the healthy one below


def test_aws_connection_down_on_one_of_two_tunnels_is_amber_not_red() -> None:
    one, two = DC1_TUNNELS
    summary = summary_of(tunnel("dc1", "aws", paths=2, outages=[
        Outage(at(DAY, 3, 10), at(DAY, 3, 22), "maintenance_failover", path=one),  # the other tunnel carried on
        Outage(at(DAY, 16, 0), at(DAY, 16, 30), "dpd_timeout", path=one),
        Outage(at(DAY, 16, 10), at(DAY, 16, 20), "dpd_timeout", path=two),  # both down: an outage
    ]))
    img = picture(summary)
    y = bar_y(0)
    amber = xs(img, y, EXPOSED)
    red = xs(img, y, DOWN)
    assert any(abs(x - x_at(summary, at(DAY, 3, 16))) <= 3 for x in amber)
    assert all(abs(x - x_at(summary, at(DAY, 16, 15))) <= 3 for x in red) and red
    assert not any(abs(x - x_at(summary, at(DAY, 3, 16))) <= 6 for x in red)  # 03:10-03:22 was no outage


def test_markers_sit_above_the_bar_at_their_time_blue_for_maintenance_purple_for_config() -> None:
    summary = summary_of(tunnel("dc1", "aws", paths=2, markers=[
        Marker(at(DAY, 3, 0), "maintenance", "AWS tunnel endpoint replacement"),
        Marker(at(DAY, 13, 55), "config_change", "Set-AzVirtualNetworkGatewayConnection")]))
    img = picture(summary)
    top = ROWS_TOP
    above = range(top, top + BAR_TOP)

    def where(colour: tuple[int, int, int]) -> set[int]:
        return {x for y in above for x in xs(img, y, colour, BAR_LEFT - 8, BAR_RIGHT + 8)}

    blue, purple = where(MAINTENANCE), where(CONFIG_CHANGE)
    assert blue and all(abs(x - x_at(summary, at(DAY, 3))) <= 7 for x in blue)
    assert purple and all(abs(x - x_at(summary, at(DAY, 13, 55))) <= 5 for x in purple)
    assert len(xs(img, bar_y(0), UP)) == BAR_RIGHT - BAR_LEFT  # markers do not cover the bar


def test_dst_autumn_day_has_25_hour_ticks_with_02_twice() -> None:
    summary = summary_of(paris_with_a_36_second_drop(AUTUMN), day=AUTUMN)
    ticks = hour_ticks(summary.start, summary.end, PARIS)
    labels = [t.label for t in ticks]
    assert len(ticks) == 26  # 25 hours, both midnights marked
    assert labels[:5] == ["00", "01", "02", "02", "03"]
    assert labels[-1] == "00"
    assert [t.label for t in ticks if t.offset_changed] == ["02"]  # the second 02:00, in CET
    img = picture(summary)
    assert len(_runs(xs(img, ROWS_TOP + ROW_HEIGHT + 3, AXIS, BAR_LEFT, BAR_RIGHT + 1))) == 26
    red = xs(img, bar_y(0), DOWN)  # 14:02 is 15 h after midnight on this day, of 25
    assert red and all(abs(x - (BAR_LEFT + 15.034 / 25 * (BAR_RIGHT - BAR_LEFT))) <= MIN_OUTAGE_PX for x in red)


def test_dst_spring_day_has_23_hour_ticks_and_no_02() -> None:
    summary = summary_of(paris_with_a_36_second_drop(SPRING), day=SPRING)
    ticks = hour_ticks(summary.start, summary.end, PARIS)
    labels = [t.label for t in ticks]
    assert len(ticks) == 24  # 23 hours
    assert labels[:4] == ["00", "01", "03", "04"]
    assert "02" not in labels
    img = picture(summary)
    assert len(_runs(xs(img, ROWS_TOP + ROW_HEIGHT + 3, AXIS, BAR_LEFT, BAR_RIGHT + 1))) == 24
    red = xs(img, bar_y(0), DOWN)  # 14:02 is 13 h after midnight on this day, of 23
    assert red and all(abs(x - (BAR_LEFT + 13.034 / 23 * (BAR_RIGHT - BAR_LEFT))) <= MIN_OUTAGE_PX for x in red)


def test_ordinary_day_has_24_hour_ticks_with_major_ones_every_six_hours() -> None:
    ticks = hour_ticks(midnight(DAY), midnight(DAY + timedelta(days=1)), PARIS)
    assert [t.label for t in ticks] == [f"{h:02d}" for h in range(24)] + ["00"]
    assert [t.label for t in ticks if t.major] == ["00", "06", "12", "18", "00"]


def test_today_so_far_ends_the_axis_at_now() -> None:
    now = datetime(2026, 11, 21, 14, 30, tzinfo=PARIS).astimezone(UTC)
    summary = summary_of(tunnel("frankfurt", outages=[
        Outage(at(DAY, 12, 0), now.timestamp(), "peer_unreachable", ongoing=True)]), end=now)
    assert hour_ticks(summary.start, summary.end, PARIS)[-1].label == "14"
    img = picture(summary)
    red = xs(img, bar_y(0), DOWN)
    assert abs(red[0] - x_at(summary, at(DAY, 12))) <= 1  # 12:00 is 12/14.5 of the way
    assert img.getpixel((BAR_RIGHT - 1, bar_y(0))) in (DOWN, DOWN_DARK)


def test_thousand_tunnels_fit_in_a_readable_image_with_an_overflow_row() -> None:
    troubled = [paris_with_a_36_second_drop(), tunnel("lyon", no_logs=True)]
    healthy = [tunnel(f"site-{i:04d}", "aws", paths=2) for i in range(998)]
    summary = summary_of(*healthy, *troubled)
    img = Image.open(io.BytesIO(render_timeline_png(summary)))
    assert img.size == (WIDTH, picture(summary_of(*healthy[:40])).height)  # 40 rows, like 40 tunnels
    assert img.height < 1600
    assert xs(img, bar_y(0), DOWN)  # the troubled ones made it into the picture, first
    assert xs(img, bar_y(1, BAR_TOP + 1), NO_LOGS_STRIPE)
    last = bar_y(39)
    assert xs(img, last, UP) == []  # the 40th row is words, not a bar
    assert any(max(img.getpixel((x, last))) < 160 for x in range(BAR_LEFT // 2))
    assert overflow_text(summary.ordered()[39:]) == "… and 961 more healthy tunnels"


def test_overflow_row_says_when_hidden_tunnels_are_troubled() -> None:
    summary = summary_of(*(paris_with_a_36_second_drop() for _ in range(5)), tunnel("amsterdam"))
    img = picture(summary, max_rows=3)
    assert len(xs(img, bar_y(1), DOWN)) > 0 and xs(img, bar_y(2), UP) == []
    assert overflow_text(summary.ordered()[2:]) == "… and 4 more tunnels (3 with trouble: see the text summary)"
    assert overflow_text(summary.ordered()[5:]) == "… and 1 more healthy tunnel"


def test_empty_summary_still_makes_a_picture() -> None:
    img = picture(summary_of())
    assert img.width == WIDTH
    assert overflow_text([]) == "no tunnels in this summary"


def test_max_rows_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_rows"):
        render_timeline_png(summary_of(tunnel("paris")), max_rows=0)


def test_long_and_accented_names_stay_in_their_column() -> None:
    img = picture(summary_of(tunnel("zürich-" + "very-long-gateway-connection-name-" * 3)))
    gap = range(NAME_RIGHT + 1, BAR_LEFT)
    assert gap and all(img.getpixel((x, y)) == (255, 255, 255)
                       for x in gap for y in range(ROWS_TOP, ROWS_TOP + ROW_HEIGHT))


def test_same_summary_gives_identical_bytes_without_metadata() -> None:
    def build() -> DaySummary:
        return summary_of(paris_with_a_36_second_drop(), tunnel("dc1", "aws", paths=2, outages=[
            Outage(at(DAY, 3, 10), at(DAY, 3, 22), "maintenance_failover", path=DC1_TUNNELS[0])],
            markers=[Marker(at(DAY, 3), "maintenance", "")]), tunnel("lyon", no_logs=True))

    first, second = render_timeline_png(build()), render_timeline_png(build())
    assert first == second
    assert set(png_chunks(first)) <= {b"IHDR", b"IDAT", b"IEND"}  # no tIME, tEXt or other metadata


def test_renderer_imports_no_cloud_sdk() -> None:
    code = ("import sys, handlers.render.timeline_png; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'azure')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


def _runs(positions: list[int]) -> list[list[int]]:
    """Consecutive x positions grouped: one group per tick mark."""
    runs: list[list[int]] = []
    for x in positions:
        if runs and x == runs[-1][-1] + 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    return runs
