"""Rows that have not arrived yet, judged by the gateway's own rhythm as well as by the clock: a gateway that logs every
few minutes and whose newest row is 40 minutes old is a workspace behind, not a quiet tunnel
(diagnostics/rules/logs_not_ingested.py). Read through the real LogsQueryClient from the local Log Analytics endpoint,
which runs the bot's one KQL query, its summary row included."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from diagnostics.azure.activity import split_summary
from diagnostics.azure.kql import TunnelQuery
from diagnostics.investigate import investigate
from diagnostics.model import Cause, Confidence
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

WORKSPACE = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
SUB = "6b1f7c2a-0000-4000-8000-00000000abcd"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DC1 = Tunnel(name="dc1", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10")
#: Minutes between two rows of a healthy gateway: BGP route refreshes and IKE keepalives every 2 to 5 minutes.
STEADY_GAPS = (2, 3.5, 5, 2.5, 4, 3)


def resource_id(gateway: str = "VPNGW01", group: str = "RG-NETWORK") -> str:
    return (f"/SUBSCRIPTIONS/{SUB.upper()}/RESOURCEGROUPS/{group}/PROVIDERS/MICROSOFT.NETWORK/"
            f"VIRTUALNETWORKGATEWAYS/{gateway}")


def gateway_row(moment: datetime, n: int, gateway: str = "VPNGW01", group: str = "RG-NETWORK") -> dict[str, str]:
    """The n-th row of a healthy gateway, as it writes them (docs/sources.md#azure-columns,
    docs/sources.md#azure-ike-log): BGP route refreshes and the IKE rows of routine child-SA rekeys, in turn."""
    row = {
        "TimeGenerated": moment.isoformat().replace("+00:00", "Z"), "Level": "Informational", "Resource": gateway,
        "ResourceGroup": group, "SubscriptionId": SUB, "ResourceId": resource_id(gateway, group),
        "instance_s": "GatewayTenantWorker_IN_0",
    }
    if n % 2:
        return {**row, "Category": "IKEDiagnosticLog", "OperationName": "IKELogEvent",
                "Message": "SESSION_ID :{3baa1cd0-77ec-40e6-b0d6-7ef40b2372a5} Remote 203.0.113.10:500: Local "
                           "192.0.2.4:500: [RECEIVED]Received IPSec payload: Policy1:Cipher=AESGCM256 "
                           "Integrity=AESGCM256 PfsGroup=ECP384"}
    return {**row, "Category": "RouteDiagnosticLog", "OperationName": "BgpRouteUpdate",
            "Message": "BGP route 10.20.0.0/16 via 169.254.21.1 updated"}


def rows_until(last: datetime, gaps: tuple[float, ...] = STEADY_GAPS, since: datetime = NOW - timedelta(hours=5),
               **where: str) -> list[dict[str, str]]:
    """The gateway's rows from `since`, `gaps` minutes apart in turn, the last one at or before `last`."""
    rows, moment = [], since
    for n, gap in enumerate(itertools.cycle(gaps)):
        if moment > last:
            return rows
        rows.append(gateway_row(moment, n, **where))
        moment += timedelta(minutes=gap)
    raise AssertionError("unreachable")


@pytest.fixture
def workspace(log_analytics, azure_source):
    """`workspace(rows)`: the production source on a local Log Analytics endpoint holding `rows`."""

    def make(rows):
        return azure_source(log_analytics({WORKSPACE: rows}, now=lambda: NOW), WORKSPACE)

    return make


def asked(source, minutes_ago: float, half: timedelta = timedelta(minutes=15)):
    """"why did dc1 drop <minutes_ago> minutes ago": the window ±15 min around it, widened once if empty."""
    anchor = NOW - timedelta(minutes=minutes_ago)
    return investigate(DC1, anchor - half, min(anchor + half, NOW), Sources(kql=[source]), now=NOW, anchor=anchor)


def test_a_steady_gateway_whose_rows_stopped_40_minutes_ago_leads_with_logs_not_ingested(workspace):
    source = workspace(rows_until(NOW - timedelta(minutes=40)))
    primary = asked(source, 20).findings[0]
    assert primary.cause is Cause.LOGS_NOT_INGESTED and primary.confidence is Confidence.HIGH
    assert "the newest row from VPNGW01 is 40 min old" in primary.title
    assert "11:20 UTC" in primary.explanation and "of the 24 five-minute intervals before the window" in \
        primary.explanation
    assert primary.advice.startswith("Ask again later")


def test_the_widened_window_of_an_older_question_still_says_the_logs_have_not_arrived(workspace):
    # Asked 50 min ago: the window's own end (35 min ago) is only 5 min after the newest row, so it is widened to
    # ±1 h, which reaches now and the 40 minutes of silence.
    result = asked(workspace(rows_until(NOW - timedelta(minutes=40))), 50)
    assert result.notes[0].startswith("Nothing in the 30-minute window; widened")
    assert result.findings[0].cause is Cause.LOGS_NOT_INGESTED
    assert "is 40 min old" in result.findings[0].title


def test_a_quiet_gateway_is_not_taken_for_a_lagging_workspace(workspace):
    # One row every 45 minutes: no cadence to miss, so the silence proves nothing either way.
    result = asked(workspace(rows_until(NOW - timedelta(minutes=40), gaps=(45,))), 20)
    assert result.findings[0].cause is Cause.NO_DROP_FOUND
    late = [f for f in result.findings if f.cause is Cause.LOGS_NOT_INGESTED]
    assert [f.title for f in late] == ["The last minutes of the window may not be ingested yet"]  # as before


def test_a_gateway_logging_up_to_now_gets_no_drop_found(workspace):
    result = asked(workspace(rows_until(NOW - timedelta(minutes=2))), 40)  # widened to ±1 h, up to now
    assert result.findings[0].cause is Cause.NO_DROP_FOUND
    late = [f for f in result.findings if f.cause is Cause.LOGS_NOT_INGESTED]
    assert [(f.confidence, f.title) for f in late] == [  # only the clock's caveat about the last minutes
        (Confidence.MEDIUM, "The last minutes of the window may not be ingested yet")]


def test_a_window_inside_the_ingestion_lag_keeps_the_too_recent_answer(workspace):
    source = workspace(rows_until(NOW - timedelta(minutes=40)))
    result = investigate(DC1, NOW - timedelta(minutes=10), NOW, Sources(kql=[source]), now=NOW)
    primary = result.findings[0]
    assert (primary.cause, primary.confidence) == (Cause.LOGS_NOT_INGESTED, Confidence.HIGH)
    assert primary.title == "Too recent: the logs may not have arrived yet"
    assert primary.explanation.startswith("The window reaches up to now, and Log Analytics can take up to ~15 minutes")


def test_an_old_window_whose_rows_stop_early_is_not_called_not_ingested(workspace):
    # Yesterday's rows stop 40 minutes into the window: the read does not reach now, so a lag cannot be told from a
    # gap in the gateway's logging.
    source = workspace(rows_until(NOW - timedelta(days=1, minutes=40), since=NOW - timedelta(days=1, hours=5)))
    result = asked(source, 24 * 60 + 20)
    assert Cause.LOGS_NOT_INGESTED not in [f.cause for f in result.findings]


def test_the_tunnel_query_returns_the_gateways_summary_row_first(workspace):
    rows = rows_until(NOW - timedelta(minutes=40)) + rows_until(NOW, gaps=(7,), gateway="VPNGW02")
    source = workspace(rows)
    window_start = NOW - timedelta(minutes=35)
    query = TunnelQuery("vpngw01", "203.0.113.10", window_start - timedelta(hours=2), NOW,
                        window_start - timedelta(minutes=5), NOW, window_start=window_start)
    result = source.run_kql(query.text(), query.start, query.end)
    summary, others = split_summary(result)
    others = list(others)
    newest = max(datetime.fromisoformat(r["TimeGenerated"]) for r in rows if r["Resource"] == "VPNGW01")
    assert summary is not None and summary.latest == newest.timestamp()
    assert summary.active_bins == 24 and summary.resource_id == resource_id()
    assert others and all(row[result.columns.index("Resource")] == "VPNGW01" for row in others)
    assert [row[0] for row in others] == sorted(row[0] for row in others)


def test_two_resources_of_the_same_name_give_no_resource_id(workspace):
    rows = rows_until(NOW) + rows_until(NOW, group="RG-OTHER")
    source = workspace(rows)
    query = TunnelQuery("VPNGW01", "", NOW - timedelta(hours=3), NOW, NOW - timedelta(hours=1), NOW,
                        window_start=NOW - timedelta(hours=1))
    summary, _ = split_summary(source.run_kql(query.text(), query.start, query.end))
    assert summary is not None and summary.resource_id == "" and summary.active_bins == 24
