"""The KQL the bot sends: one query for every category the rules need, and user values that stay literals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb_kql
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.azure.activity import split_summary
from diagnostics.azure.kql import (
    STANDARD_COLUMNS,
    TUNNEL_CATEGORIES,
    TunnelQuery,
    build_tunnel_query,
    kql_datetime,
    kql_string,
)
from diagnostics.azure.local_workspace import TABLE, LocalWorkspace, resolve_column_ifexists, to_sql

CON = duckdb_kql.connect()
T0 = datetime(2026, 11, 21, 14, 2, tzinfo=UTC)


def evaluate(literal: str) -> str:
    return duckdb_kql.kql(CON, f"print x = {literal}").fetchall()[0][0]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_becomes_a_literal_that_evaluates_to_exactly_that_text(value):
    assert evaluate(kql_string(value)) == value


ONE_ROW = LocalWorkspace()
ONE_ROW.load_rows([{"TimeGenerated": T0, "Category": "TunnelDiagnosticLog", "OperationName": "TunnelDisconnected",
                    "Resource": "VPNGW01", "remoteIP_s": "203.0.113.10"}])


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1))
def test_no_gateway_name_can_break_out_of_the_query(gateway):
    query = TunnelQuery(gateway, "203.0.113.10", T0 - timedelta(hours=1), T0 + timedelta(hours=1),
                        T0 - timedelta(minutes=5), T0 + timedelta(minutes=5))
    rows = list(ONE_ROW.run_kql(query.text(), query.start, query.end).rows)
    # Whatever the text, it only ever compares against Resource: it matches when it IS the name, never otherwise.
    assert (len(rows) == 1) == (gateway.lower() == "vpngw01")


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1))
def test_no_gateway_name_can_break_out_of_the_gateway_summary_row(gateway):
    query = TunnelQuery(gateway, "203.0.113.10", T0 - timedelta(hours=1), T0 + timedelta(hours=1),
                        T0 - timedelta(minutes=5), T0 + timedelta(minutes=5), window_start=T0)
    summary, rows = split_summary(ONE_ROW.run_kql(query.text(), query.start, query.end))
    # One summary row whatever the text; it counts the gateway's rows only when the text IS its name.
    assert summary is not None
    assert (summary.latest is not None) == (len(list(rows)) == 1) == (gateway.lower() == "vpngw01")


def test_log_rows_of_the_tunnel_query_are_read_without_the_summary_rows_columns():
    from diagnostics.azure.activity import SUMMARY_COLUMNS, log_columns
    from diagnostics.azure.parser.rows import make_normaliser
    from diagnostics.model import Provenance

    query = TunnelQuery("VPNGW01", "203.0.113.10", T0 - timedelta(hours=1), T0 + timedelta(hours=1),
                        T0 - timedelta(minutes=5), T0 + timedelta(minutes=5), window_start=T0)
    result = ONE_ROW.run_kql(query.text(), query.start, query.end)
    _, rows = split_summary(result)
    columns = log_columns(result.columns)
    assert set(result.columns) >= SUMMARY_COLUMNS and not SUMMARY_COLUMNS & set(columns)
    assert [c for c in columns if c] == [c for c in result.columns if c not in SUMMARY_COLUMNS]
    events = [make_normaliser(columns, Provenance("local", "test", "AzureDiagnostics"))(row) for row in rows]
    assert [e.gateway for e in events] == ["VPNGW01"]
    assert log_columns(["TimeGenerated", "Message", "ResourceId"]) == ["TimeGenerated", "Message", "ResourceId"], \
        "a result without the summary row keeps its own ResourceId"


def test_injection_attempt_in_remote_ip_is_just_a_string():
    workspace = LocalWorkspace()
    workspace.load_rows([
        {"TimeGenerated": T0, "Category": "IKEDiagnosticLog", "Resource": "VPNGW01",
         "Message": "SESSION_ID :{a} Remote 198.51.100.7:500: Local 192.0.2.4:500: [SEND][SA_INIT] x"},
    ])
    evil = '1.2.3.4:" or 1==1 or Message contains "'
    query = TunnelQuery("VPNGW01", evil, T0 - timedelta(hours=1), T0 + timedelta(hours=1),
                        T0 - timedelta(minutes=5), T0 + timedelta(minutes=5))
    assert list(workspace.run_kql(query.text(), query.start, query.end).rows) == []


def test_one_query_covers_every_category_the_rules_need():
    text = build_tunnel_query(TunnelQuery("VPNGW01", "203.0.113.10", T0, T0, T0, T0))
    assert text.startswith("AzureDiagnostics\n")
    assert TUNNEL_CATEGORIES
    for category in TUNNEL_CATEGORIES:
        assert f'"{category}"' in text
    assert 'column_ifexists("remoteIP_s", "")' in text
    # The reasoning stays in Python: the local engine lacks these, and so must the query.
    assert "serialize" not in text and "prev(" not in text


def test_datetime_literal_is_utc_whatever_the_input_zone():
    from zoneinfo import ZoneInfo

    paris = datetime(2026, 11, 21, 15, 2, tzinfo=ZoneInfo("Europe/Paris"))
    assert kql_datetime(paris) == "datetime(2026-11-21T14:02:00Z)"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)), min_size=4, max_size=4))
def test_a_reused_translation_runs_exactly_like_a_fresh_one_whatever_the_times(times):
    start, end, ike_start, ike_end = (t.replace(tzinfo=UTC) for t in times)
    columns = [*STANDARD_COLUMNS, "remoteIP_s"]
    query = resolve_column_ifexists(
        TunnelQuery("VPNGW01", "203.0.113.10", start, end, ike_start, ike_end, window_start=ike_start).text(), columns)
    fresh = str(duckdb_kql.to_sql(query, schema={TABLE: columns}))
    assert to_sql(query, columns) == fresh


def test_a_query_shape_asked_again_after_rows_with_new_columns_were_loaded_returns_them():
    """What a query returns is remembered per shape (DuckDB binds the bot's SQL in ~10 ms): the same shape asked for
    other times returns the same columns, and the rows' columns changing is a new shape."""
    workspace = LocalWorkspace()
    workspace.load_rows([{"TimeGenerated": T0, "Category": "TunnelDiagnosticLog", "OperationName": "TunnelConnected",
                          "Resource": "VPNGW01"}])

    def ask(at: datetime):
        text = f"AzureDiagnostics | where TimeGenerated between ({kql_datetime(at)} .. {kql_datetime(at)})"
        result = workspace.run_kql(text, at - timedelta(days=1), at + timedelta(days=1))
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]

    assert ask(T0)[0]["OperationName"] == "TunnelConnected" and "remoteIP_s" not in ask(T0)[0]
    later = T0 + timedelta(minutes=5)
    workspace.load_rows([{"TimeGenerated": later, "Category": "TunnelDiagnosticLog",
                          "OperationName": "TunnelDisconnected", "Resource": "VPNGW01", "remoteIP_s": "203.0.113.10",
                          "_IngestionTime": later}])
    row = ask(later)[0]
    assert row["remoteIP_s"] == "203.0.113.10" and row["OperationName"] == "TunnelDisconnected"
    assert row["TimeGenerated"] == later.timestamp() and row["_IngestionTime"] == later.timestamp()
    assert ask(T0)[0]["remoteIP_s"] is None
