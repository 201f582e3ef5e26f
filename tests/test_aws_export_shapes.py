"""A known AWS incident (tunnel 1 of vpn-0123456789abcdef0 declares its customer gateway dead at 14:02:05) rendered
through random export shapes, key orders and subsets, encodings, orders and duplicated events: `vpnbot ask` answers
`dpd_timeout` at the right instant, or refuses in one line that names the missing piece (`--aws-stream`); never
`no_drop_found`, never a traceback. Files in the CLI's own layout are also read through the big-file index
(`indexed`: the size threshold lowered), as a 1M-event file would be."""

from __future__ import annotations

import contextlib
import io
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import aws_shapes as shapes

from bot.cli import main
from diagnostics.aws import export_index

ALL = shapes.events_of("dpd_timeout.json")
STREAM = "vpn-0123456789abcdef0-52.95.10.1-IKE"
ONE = shapes.one_stream(ALL, STREAM)
QUESTION = "why did vpn-0123456789abcdef0 drop at 14:02"
CONFIG = shapes.CONFIG
#: Keys of the tunnel log message that the answer does not need (a query may leave them out); one of the two times
#: always stays.
OPTIONAL_KEYS = ("dpd_enabled", "nat_t_detected")


def trimmed(events: list[shapes.CwEvent], rng: random.Random) -> list[shapes.CwEvent]:
    """The same events with some optional message keys left out (the same ones in every event, as a query does)."""
    gone = {k for k in (*OPTIONAL_KEYS, rng.choice(["timestamp", "event_timestamp"])) if rng.random() < 0.4}
    return [replace(e, message=json.dumps({k: v for k, v in e.body.items() if k not in gone})) for e in events]


def vpnbot(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("aws-shapes")


@pytest.fixture(autouse=True)
def no_export_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPNBOT_CACHE_DIR", "off")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.sampled_from(sorted(shapes.SHAPES)), encoding=st.sampled_from(shapes.ENCODINGS),
       newest_first=st.booleans(), duplicated=st.booleans(), seed=st.integers(0, 2**32 - 1),
       stream_from=st.sampled_from(["nothing", "--aws-stream", "file name", "configuration"]),
       indexed=st.booleans())
def test_the_dpd_incident_in_any_export_shape_is_answered_or_refused_clearly(
        monkeypatch, scratch, shape, encoding, newest_first, duplicated, seed, stream_from, indexed):
    monkeypatch.setattr(export_index, "INDEX_MIN_BYTES", 0 if indexed else 16 << 20)
    rng = random.Random(seed)
    render, named = shapes.SHAPES[shape]
    events = trimmed(ALL if named else ONE, rng)
    if duplicated:
        events = shapes.with_duplicates(events, rng)
    if newest_first:
        events.reverse()
    folder = scratch / f"{seed}-{shape}"
    name = f"{STREAM}.json" if stream_from == "file name" else "export.json"
    text = render(events, rng)
    if shape == "stamped" and rng.random() < 0.5:  # an export to S3 is gzipped UTF-8
        path = shapes.write(folder / f"{name}.gz", shapes.gzipped(text))
    else:
        path = shapes.write(folder / name, shapes.encoded(text, encoding))
    argv = ["ask", QUESTION, "--aws-export", str(path), "--now", "2026-11-21T18:00:00Z", "--format", "json"]
    if stream_from == "--aws-stream":
        argv += ["--aws-stream", STREAM]
    elif stream_from == "configuration":
        argv += ["--config", str(shapes.write(folder / "vpnbot.toml", CONFIG))]

    code, out, err = vpnbot(*argv)

    if not named and stream_from == "nothing":  # nothing says which tunnel logged them: refused, saying what to give
        assert code == 2, out
        assert len(err.strip().splitlines()) == 1 and "--aws-stream" in err and "no stream name" in err
        return
    assert code == 0, err
    answer = json.loads(out)
    assert answer["findings"][0]["cause"] == "dpd_timeout", answer["findings"][0]["explanation"]
    assert answer["drops"][0]["down_at"] == "2026-11-21T14:02:05Z"
    assert answer["drops"][0]["up_at"] == "2026-11-21T14:08:47Z"
    if not named and stream_from == "configuration":
        assert any("the only AWS VPN connection in the configuration" in c for c in answer["caveats"])
    if duplicated and any(events.count(e) > 1 for e in events):
        assert any("duplicated events" in n for n in answer["notes"])
