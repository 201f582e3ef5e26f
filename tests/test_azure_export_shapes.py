"""Known Azure incidents (a maintenance failover, a pre-shared key mismatch) rendered through random export shapes
(tests/support/azure_shapes.py: column subsets and orders, the published queries' own columns, identity only in
ResourceId, CSV dialects, JSON, encodings, time formats, newest first, rows given twice): `vpnbot ask` answers the
incident's cause, or says in a caveat which missing column kept it from deciding, or refuses in one line that names
the missing piece (`--export-tz`); never `no_drop_found`, never a traceback."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import azure_shapes as shapes
from support.fixture_logs import RULE_FIXTURES

from bot.cli import main

CONFIG = Path(__file__).parent / "fixtures" / "real" / "azure" / "vpnbot.toml"
NOW = "2026-11-22T00:00:00Z"
STATE = ("OperationName", "status_s")  # the columns that show a tunnel going down


@dataclass(frozen=True)
class Incident:
    fixture: str
    question: str
    cause: str
    down: str  # the start of the asked drop's down_at

    @property
    def rows(self) -> list[dict[str, str]]:
        return ROWS[self.fixture]


MAINTENANCE = Incident("maintenance_failover.csv", "why did paris drop at 14:02", "maintenance_failover",
                       "2026-11-21T14:02:03")
PSK = Incident("psk_mismatch.csv", "why did paris drop at 10:00", "psk_mismatch", "2026-11-21T10:00:04")
ROWS = {i.fixture: shapes.read_fixture(RULE_FIXTURES / i.fixture) for i in (MAINTENANCE, PSK)}


def vpnbot(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@st.composite
def export_shapes(draw: st.DrawFn, incident: Incident) -> shapes.Shape:
    """A shape that still holds the incident: a column that shows the tunnel going down, or (the key mismatch) the
    IKE messages that show why it stayed down."""
    ike_query = incident is PSK and draw(st.booleans())
    columns = draw(st.lists(st.sampled_from(shapes.COLUMNS), unique=True))
    if not ike_query and not set(columns) & set(STATE):
        columns.append(draw(st.sampled_from(STATE)))
    container = draw(st.sampled_from(("csv", "csv", "json", "jsonl")))
    times = draw(st.sampled_from(shapes.TIMES if container == "csv" else
                                 [t for t in shapes.TIMES if not t.startswith("portal")]))
    return shapes.Shape(
        columns=columns, identity=draw(st.sampled_from(shapes.IDENTITIES)), times=times, container=container,
        delimiter=draw(st.sampled_from(shapes.DELIMITERS)), encoding=draw(st.sampled_from(shapes.ENCODINGS)),
        crlf=draw(st.booleans()), order=draw(st.sampled_from(shapes.ORDERS)),
        duplicates=draw(st.lists(st.integers(0, len(incident.rows) - 1), max_size=4)),
        renamed=draw(st.lists(st.sampled_from(sorted(shapes.RENAMES)), unique=True, max_size=3)),
        ike_query=ike_query, no_session=incident is PSK and draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("azure-shapes")


def check(incident: Incident, shape: shapes.Shape, export_tz: bool, scratch: Path) -> None:
    suffix = ".csv" if shape.container == "csv" else ".json"
    path = scratch / f"export-{abs(hash(repr(shape)))}{suffix}"
    path.write_bytes(shapes.render(incident.rows, shape))
    tz = ["--export-tz", shapes.LOCAL_ZONE] if export_tz else []
    code, out, err = vpnbot("ask", incident.question, "--config", str(CONFIG), "--azure-export", str(path),
                            "--now", NOW, "--tz", "UTC", "--format", "json", *tz)
    assert "Traceback" not in out + err, err
    if shape.times == "portal local" and not export_tz:
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and path.name in lines[0] and "--export-tz" in lines[0], err
        return
    assert code == 0, (shape, err)
    answer = json.loads(out)
    cause = answer["findings"][0]["cause"]
    said = " ".join(answer["caveats"])
    assert cause != "no_drop_found", (shape, answer["caveats"], answer["notes"])
    if cause != incident.cause:
        named = {f"`{column}`" for column in shape.missing()} | {"only IKEDiagnosticLog rows"}
        assert any(name in said for name in named), (shape, cause, answer["caveats"])
    if answer["drops"] and not shape.missing() & {"remoteIP_s"}:
        assert any(d["down_at"].startswith(incident.down) for d in answer["drops"]), (shape, answer["drops"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=export_shapes(MAINTENANCE), export_tz=st.booleans())
def test_a_maintenance_failover_in_any_export_shape_is_found_or_the_missing_column_named(shape, export_tz, scratch):
    check(MAINTENANCE, shape, export_tz, scratch)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=export_shapes(PSK), export_tz=st.booleans())
def test_a_key_mismatch_in_any_export_shape_is_found_or_the_missing_column_named(shape, export_tz, scratch):
    check(PSK, shape, export_tz, scratch)


def test_the_whole_portal_export_of_each_incident_gives_its_cause(scratch):
    """The shape every other one is cut from: all columns, the portal's defaults."""
    for incident in (MAINTENANCE, PSK):
        check(incident, shapes.Shape(columns=list(shapes.COLUMNS)), False, scratch)
