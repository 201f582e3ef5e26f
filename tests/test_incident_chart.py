"""The chart of an incident (handlers/incident_chart.py, handlers/render/incident_png.py): the window around the drop,
the tunnel's state as bands, bytes each way, the log's markers, the asker's zone on the axis; the same chart gives
the same PNG bytes, also when drawn again from its stored form (the evidence bundle's copy).

Drops are real investigations of fixture rows (tests/fixtures/rules/); the metrics are per-minute byte totals as
Azure Monitor gives them (test_drop_traffic.py builds them the same way).
"""

from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from support.demo import DEMO_NOW
from support.fixture_logs import ask_at
from test_drop_traffic import DOWN, UP, gap, minute, traffic, usual_in, usual_out

from diagnostics.model import Investigation
from diagnostics.traffic.read import metrics_interval
from handlers.incident_chart import (
    MAX_MARKERS,
    PAD,
    IncidentChart,
    chart_from_json,
    chart_json,
    chart_window,
    incident_chart,
)
from handlers.render.incident_png import (
    BYTES_IN,
    BYTES_OUT,
    LANE_HEIGHT,
    LANE_TOP,
    PANEL_GAP,
    PANEL_HEIGHT,
    PLOT_LEFT,
    PLOT_RIGHT,
    axis_ticks,
    nice_ceiling,
    render_incident_png,
)
from handlers.render.timeline_draw import DOWN as DOWN_RED
from handlers.render.timeline_draw import MAINTENANCE, NO_LOGS_BG, NO_LOGS_STRIPE, ROW_HEIGHT, WIDTH
from handlers.render.timeline_draw import UP as UP_BLUE

ROWS_TOP = LANE_TOP + LANE_HEIGHT


@pytest.fixture(scope="module")
def failover() -> Investigation:
    return ask_at("maintenance_failover.csv", "2026-11-21T14:02:00Z")


@pytest.fixture(scope="module")
def busy_chart(failover) -> IncidentChart:
    """Traffic stops with the disconnect, comes back at 14:06; the metrics have no value for 14:12-14:13."""
    def with_hole(shape):
        return lambda t: None if minute(14, 12) <= t < minute(14, 14) else gap(minute(14, 3), minute(14, 6), shape)(t)

    window = chart_window(failover)
    assert window is not None
    metrics = traffic(with_hole(usual_in), with_hole(usual_out), start=window[0].timestamp() // 60 * 60,
                      end=window[1].timestamp())
    chart = incident_chart(failover, "Europe/Paris", metrics)
    assert chart is not None
    return chart


def image(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img.convert("RGB")


def x_at(chart: IncidentChart, ts: float) -> int:
    return round(PLOT_LEFT + (ts - chart.start) / (chart.end - chart.start) * (PLOT_RIGHT - PLOT_LEFT))


def test_the_window_surrounds_the_drop_with_half_an_hour_each_side_read_in_five_minute_values(failover):
    start, end = chart_window(failover)  # type: ignore[misc]
    assert PAD.total_seconds() == 1800
    assert start.timestamp() == pytest.approx(DOWN - PAD.total_seconds())
    assert end.timestamp() == pytest.approx(UP + PAD.total_seconds())
    assert metrics_interval(start, end) == 300
    assert metrics_interval(start, start + 3 * (end - start) * 24) == 3600  # three days of flapping: hourly values


def test_the_chart_has_the_drop_as_a_down_band_and_the_maintenance_as_a_marker(busy_chart):
    (path,) = busy_chart.paths
    downs = [b for b in path.bands if b.down]
    assert [(b.start, b.end) for b in downs] == [(pytest.approx(DOWN), pytest.approx(UP))]
    assert path.bands[0].start == busy_chart.start and path.bands[-1].end == busy_chart.end
    assert [(m.kind, m.text) for m in busy_chart.markers] == [
        ("maintenance", "HostMaintenanceEvent instance=GatewayTenantWorker_IN_0 Upgrade gateway started")]
    assert busy_chart.has_traffic and busy_chart.interval_s == 60 and len(busy_chart.bytes_in) >= 25


def test_same_chart_same_png_bytes_also_drawn_again_from_its_stored_form(busy_chart):
    png = render_incident_png(busy_chart)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert render_incident_png(busy_chart) == png
    stored = json.loads(json.dumps(chart_json(busy_chart)))  # as the state store keeps it
    assert render_incident_png(chart_from_json(stored)) == png
    assert b"tIME" not in png and b"tEXt" not in png  # nothing that changes from one run to the next


def test_the_picture_shows_down_in_red_bytes_each_way_and_hatching_where_the_metrics_have_no_value(busy_chart):
    img = image(render_incident_png(busy_chart))
    assert img.width == WIDTH
    band_y = ROWS_TOP + ROW_HEIGHT // 2
    assert img.getpixel((x_at(busy_chart, DOWN) + 1, band_y)) == DOWN_RED
    assert img.getpixel((x_at(busy_chart, minute(14, 9)), band_y)) == UP_BLUE
    panel_top = ROWS_TOP + ROW_HEIGHT + PANEL_GAP
    middle = panel_top + PANEL_HEIGHT // 2
    x_busy = x_at(busy_chart, minute(14, 8) + 30)
    assert img.getpixel((x_busy, middle - 10)) == BYTES_IN  # received from the site: above the line
    assert img.getpixel((x_busy, middle + 10)) == BYTES_OUT  # sent to the site: below it
    x_quiet = x_at(busy_chart, minute(14, 4) + 30)  # a value of 0: nothing drawn, and no hatching
    assert img.getpixel((x_quiet, middle - 10)) not in (BYTES_IN, NO_LOGS_BG, NO_LOGS_STRIPE)
    x_hole = x_at(busy_chart, minute(14, 12) + 30)  # no value: hatched, not a 0
    column = {img.getpixel((x_hole + dx, middle - 30)) for dx in range(-8, 9)}
    assert column & {NO_LOGS_BG, NO_LOGS_STRIPE} and BYTES_IN not in column
    maintenance_x = x_at(busy_chart, busy_chart.markers[0].ts)
    assert MAINTENANCE in {img.getpixel((maintenance_x + dx, LANE_TOP + 4)) for dx in (-1, 0, 1)}


def test_without_metrics_the_chart_shows_state_and_markers_only(failover, busy_chart):
    bare = incident_chart(failover, "Europe/Paris", None, "no metrics source is configured")
    assert bare is not None and not bare.has_traffic and bare.no_traffic == "no metrics source is configured"
    assert bare.paths == busy_chart.paths and bare.markers == busy_chart.markers
    img = image(render_incident_png(bare))
    busy = image(render_incident_png(busy_chart))
    assert img.height < busy.height - PANEL_HEIGHT + 20  # no traffic panel
    colours = {c for _, c in img.getcolors(maxcolors=1 << 16)}  # type: ignore[union-attr]
    assert BYTES_IN not in colours and BYTES_OUT not in colours and DOWN_RED in colours


def test_metrics_that_failed_are_named_on_the_chart_instead_of_the_panel(failover):
    failed = traffic(lambda t: None, lambda t: None)
    failed.series.clear()
    failed.failures.append("VPNGW01: the identity may not read metrics (Monitoring Reader missing): 403")
    chart = incident_chart(failover, "UTC", failed)
    assert chart is not None and not chart.has_traffic and "Monitoring Reader missing" in chart.no_traffic


def test_the_time_axis_is_in_the_askers_zone(busy_chart):
    paris = [label for _, label, _ in axis_ticks(busy_chart.start, busy_chart.end, ZoneInfo("Europe/Paris"))]
    new_york = [label for _, label, _ in axis_ticks(busy_chart.start, busy_chart.end, ZoneInfo("America/New_York"))]
    assert "15:00" in paris and "09:00" in new_york  # 14:00 UTC
    ticks = axis_ticks(busy_chart.start, busy_chart.end, ZoneInfo("Europe/Paris"))
    assert all(busy_chart.start <= t <= busy_chart.end for t, _, _ in ticks)
    assert len({round(b - a) for (a, _, _), (b, _, _) in itertools.pairwise(ticks)}) == 1  # evenly spaced
    utc = axis_ticks(busy_chart.start, busy_chart.end, ZoneInfo("UTC"))
    assert any(label == "14:00" for _, label, _ in utc)


def test_a_day_long_window_labels_midnight_with_the_day():
    start = datetime(2026, 11, 20, 18, 0, tzinfo=UTC).timestamp()
    end = datetime(2026, 11, 21, 18, 0, tzinfo=UTC).timestamp()
    labels = [label for _, label, _ in axis_ticks(start, end, ZoneInfo("UTC"))]
    assert "Sat 21" in labels and "12:00" in labels


def test_negotiation_failures_and_the_configuration_change_before_them_are_markers():
    inv = ask_at("psk_mismatch.csv", "2026-11-21T10:00:00Z")
    chart = incident_chart(inv, "Europe/Paris", None, "no metrics source is configured")
    assert chart is not None
    kinds = [m.kind for m in chart.markers]
    assert "config_change" in kinds and kinds.count("negotiation_failure") >= 5
    first_failure = min(m.ts for m in chart.markers if m.kind == "negotiation_failure")
    assert min(m.ts for m in chart.markers if m.kind == "config_change") < first_failure  # the key changed first
    assert len(render_incident_png(chart)) > 0


def test_bgp_going_down_and_up_are_markers():
    inv = ask_at("bgp_with_tunnel_drop.csv", "2026-11-16T16:00:00Z")
    chart = incident_chart(inv, "UTC", None, "no metrics source is configured")
    assert chart is not None
    assert [(m.kind, datetime.fromtimestamp(m.ts, UTC).strftime("%H:%M:%S")) for m in chart.markers] == [
        ("bgp_down", "16:00:02"), ("bgp_up", "16:00:40")]


def test_thousands_of_failures_are_thinned_to_a_bounded_smear(failover):
    from dataclasses import replace

    failing = [e for e in ask_at("psk_mismatch.csv", "2026-11-21T10:00:00Z").events if e.kind.value == "ike"]
    assert failing
    many = [replace(failing[-1], ts=DOWN - 600 + i * 0.5) for i in range(3_000)]
    inv = replace(failover, events=[*failover.events, *many])
    chart = incident_chart(inv, "UTC", None, "none")
    assert chart is not None
    failures = [m for m in chart.markers if m.kind == "negotiation_failure"]
    assert len(failures) == MAX_MARKERS
    assert failures[0].ts == pytest.approx(DOWN - 600) and failures[-1].ts > DOWN + 600


@pytest.mark.parametrize(("value", "top"), [(0, 1.0), (4_340_000, 5_000_000), (1_000, 1_000), (1_001, 2_000),
                                            (180, 200)])
def test_the_scale_tops_at_a_round_number(value, top):
    assert nice_ceiling(value) == top


def test_no_drop_no_chart():
    inv = ask_at("maintenance_failover.csv", "2026-11-21T11:00:00Z")
    assert not inv.drops
    assert chart_window(inv) is None and incident_chart(inv, "UTC", None) is None


# ------------------------------------------------------------------------------------------ in the evidence bundle


def test_the_bundle_holds_the_chart_the_thread_got_listed_with_its_sha256(demo, state, tmp_path):
    import hashlib
    import zipfile

    from bot.evidence import make_bundle
    from diagnostics.evidence import RedactionOptions, verify
    from handlers.ask import ask
    from handlers.evidence import record_answer

    answer = ask("why did paris drop yesterday at 14:02", demo.registry, demo.sources, DEMO_NOW, ZoneInfo("UTC"))
    assert answer.incident is not None and answer.incident.chart is not None and answer.incident.chart.has_traffic
    question_id = record_answer(state, answer, user="U0ALICE", source="mention", channel="C0INCIDENT", now=DEMO_NOW)
    assert question_id is not None
    made = make_bundle(state, question_id, demo, tmp_path / "b.zip", RedactionOptions(), "U0ALICE")
    with zipfile.ZipFile(made.path) as zf:
        png = zf.read("chart.png")
        manifest = json.loads(zf.read("manifest.json"))
        report = zf.read("report.md").decode()
    assert png == render_incident_png(answer.incident.chart)  # the same picture as the one posted in the thread
    (entry,) = [f for f in manifest["files"] if f["path"] == "chart.png"]
    assert entry["sha256"] == hashlib.sha256(png).hexdigest() and entry["size"] == len(png)
    assert verify(made.path) == [] and "chart.png" in report


def test_a_bundle_with_ips_redacted_draws_the_chart_from_the_redacted_answer(demo, state, tmp_path):
    import zipfile

    from bot.evidence import make_bundle
    from diagnostics.evidence import RedactionOptions
    from handlers.ask import ask
    from handlers.evidence import record_answer

    answer = ask("why did dc4 drop yesterday at 02:14", demo.registry, demo.sources, DEMO_NOW, ZoneInfo("UTC"))
    assert answer.incident is not None and answer.incident.chart is not None
    assert [p.name for p in answer.incident.chart.paths] == ["tunnel 203.0.113.160", "tunnel 203.0.113.161"]
    question_id = record_answer(state, answer, user="U0ALICE", source="mention", channel="C0INCIDENT", now=DEMO_NOW)
    assert question_id is not None
    made = make_bundle(state, question_id, demo, tmp_path / "b.zip", RedactionOptions(redact_ips=True), "U0ALICE")
    with zipfile.ZipFile(made.path) as zf:
        stored = json.loads(zf.read("answer.json"))["chart"]
        png = zf.read("chart.png")
    assert [p["name"] for p in stored["paths"]] == ["tunnel IP-1", "tunnel IP-2"]
    assert png == render_incident_png(chart_from_json(stored)) != render_incident_png(answer.incident.chart)


def test_the_stored_chart_of_a_failing_tunnel_stays_small(failover):
    from dataclasses import replace

    failing = [e for e in ask_at("psk_mismatch.csv", "2026-11-21T10:00:00Z").events if e.kind.value == "ike"]
    many = [replace(failing[-1], ts=DOWN - 600 + i * 0.5) for i in range(3_000)]
    chart = incident_chart(replace(failover, events=[*failover.events, *many]), "UTC", None, "none")
    assert chart is not None
    assert sum(1 for m in chart.markers if m.text and m.kind == "negotiation_failure") == 20
    assert len(json.dumps(chart_json(chart))) < 30_000


def test_vpnbot_ask_png_writes_the_chart_the_thread_would_get(capsys, here, demo):
    from support.cli import run

    from handlers.ask import ask

    question = "why did paris drop yesterday at 14:02"
    code, out, _ = run(capsys, "ask", "--demo", question, "--now", "2026-11-22T10:30:00Z", "--tz", "UTC",
                       "--png", "chart.png")
    assert code == 0 and "maintenance_failover" in out
    answer = ask(question, demo.registry, demo.sources, DEMO_NOW, ZoneInfo("UTC"))
    assert answer.incident is not None and answer.incident.chart is not None
    assert (here / "chart.png").read_bytes() == render_incident_png(answer.incident.chart)
    code, _, err = run(capsys, "ask", "--demo", "why did lyon drop today at 03:00", "--now", "2026-11-22T10:30:00Z",
                       "--png", "none.png")
    assert code == 0 and "No chart written to none.png: the answer has no drop to chart." in err
    assert not (here / "none.png").exists()


def test_vpnbot_ask_png_about_two_tunnels_writes_each_ones_chart(capsys, here, demo):
    from support.cli import run

    from handlers.ask import ask

    question = "why did paris and berlin drop yesterday"
    code, _, err = run(capsys, "ask", "--demo", question, "--now", "2026-11-22T10:30:00Z", "--tz", "UTC",
                       "--png", "chart.png")
    assert code == 0
    answer = ask(question, demo.registry, demo.sources, DEMO_NOW, ZoneInfo("UTC"))
    assert len(answer.parts) == 2 and len(answer.charts) == 2, "the demo's paris and berlin both dropped yesterday"
    for chart in answer.charts:
        assert (here / f"chart-{chart.tunnel}.png").read_bytes() == render_incident_png(chart)
    assert not (here / "chart.png").exists()
    assert "Charts written to chart-paris.png, chart-berlin.png." in err
