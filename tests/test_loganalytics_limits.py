"""Log Analytics answers at most 500,000 rows / ~100 MB per query (docs/sources.md#azure-query-limits) and cuts a
longer answer with a partial error. The local endpoint cuts its answers the same way at `row_cap` rows, so these
tests run the real LogsQueryClient against a few hundred rows: a time-sorted query is read in parts split by time and
gives every row, and says so; a query that cannot be split stays partial, and says so; never silently truncated.

Rows follow docs/sources.md#azure-columns and docs/sources.md#azure-ike-log (the pre-shared key mismatch of
docs/sources.md#azure-ike-errors).
"""

from __future__ import annotations

import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.fixture_logs import LYON, PARIS, RULE_FIXTURES, utc

from diagnostics.azure.exports import read_azure_export
from diagnostics.azure.kql import TunnelQuery, build_tunnel_query
from diagnostics.evidence import build_bundle
from diagnostics.evidence.model import EvidenceRecord
from diagnostics.fleet.azure import fleet_azure
from diagnostics.investigate import investigate
from diagnostics.model import Cause
from diagnostics.sources import Sources
from diagnostics.summary.build import summarize_day
from diagnostics.tunnels import TunnelRegistry

WORKSPACE = "7c0d9a1e-3f42-4b8e-9a51-2d6e0f1b3c4d"
PARIS_TZ = ZoneInfo("Europe/Paris")
IN_0, IN_1 = "GatewayTenantWorker_IN_0", "GatewayTenantWorker_IN_1"
SPLIT = "split by time"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def state(moment: datetime, up: bool, remote: str = PARIS.azure_remote_ip, reason: str = "") -> dict[str, str]:
    return {"TimeGenerated": iso(moment), "Category": "TunnelDiagnosticLog",
            "OperationName": "TunnelConnected" if up else "TunnelDisconnected", "Resource": "VPNGW01",
            "ResourceGroup": "RG-NETWORK-WEU", "instance_s": IN_0, "remoteIP_s": remote,
            "status_s": "Connected" if up else "Disconnected", "stateChangeReason_s": reason, "Message": "",
            "Level": "Informational"}


def psk_failure(moment: datetime, remote: str = PARIS.azure_remote_ip) -> list[dict[str, str]]:
    """One negotiation Azure starts and the device rejects: 4 rows over 0.3 s."""
    env = (f"SESSION_ID :{{{uuid.uuid5(uuid.NAMESPACE_URL, f'{remote}{moment}')}}} Remote {remote}:500: "
           "Local 192.0.2.10:500: ")
    texts = [
        "[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0xCBF235637168FA00 and rCookie 0x0",
        "[SEND][SA_AUTH] Sending SA AUTH message for tunnelId 0x3 and tsId 0x37",
        "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials are unacceptable",
        "[RECEIVED][NOTIFY] Received Notify Message - Authentication failed",
    ]
    return [{"TimeGenerated": iso(moment + timedelta(seconds=0.1 * i)), "Category": "IKEDiagnosticLog",
             "OperationName": "IKELogEvent", "Resource": "VPNGW01", "ResourceGroup": "RG-NETWORK-WEU",
             "instance_s": IN_0, "Message": env + text, "Level": "Informational"} for i, text in enumerate(texts)]


def flapping_day(day: date) -> list[dict[str, str]]:
    """paris drops six times during `day` (UTC), each outage ~2 min of rejected retries every 10 s."""
    rows: list[dict[str, str]] = []
    for hour in (2, 5, 8, 11, 14, 17):
        down = datetime(day.year, day.month, day.day, hour, 7, tzinfo=UTC)
        rows.append(state(down, up=False, reason="IKE authentication credentials are unacceptable"))
        for n in range(12):
            rows += psk_failure(down + timedelta(seconds=1 + 10 * n))
        rows.append(state(down + timedelta(minutes=2, seconds=5), up=True))
    return rows


def requests_of(server: Any) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/query"))


def without_notes(result: Any) -> tuple[Any, ...]:
    """Everything a question's answer is made of but its notes, comparable."""
    def event(e: Any) -> tuple[Any, ...]:
        return (e.ts, e.kind, e.instance, e.message) if e is not None else ()

    return ([(event(d.down), event(d.up)) for d in result.drops],
            [(f.cause, f.confidence, f.title, f.explanation) for f in result.findings],
            [event(e) for e in result.events])


# -- one query, the source itself -------------------------------------------------------------------------------


@pytest.fixture
def paris_day() -> list[dict[str, str]]:
    return flapping_day(date(2026, 11, 21))


def tunnel_query(start: datetime, end: datetime) -> str:
    return build_tunnel_query(TunnelQuery(gateway="VPNGW01", remote_ip=PARIS.azure_remote_ip, start=start, end=end,
                                          ike_start=start, ike_end=end))


def test_a_time_sorted_answer_longer_than_the_cap_comes_whole_in_parts_and_says_how_many(log_analytics, azure_source,
                                                                                          paris_day):
    start, end = utc("2026-11-21T00:00:00Z"), utc("2026-11-22T00:00:00Z")
    whole_server = log_analytics({WORKSPACE: paris_day})
    whole = azure_source(whole_server, WORKSPACE).run_kql(tunnel_query(start, end), start, end)
    expected = [list(r) for r in whole.rows]
    assert len(expected) >= 300 and not whole.notes and whole.partial_error is None

    server = log_analytics({WORKSPACE: paris_day}, row_cap=100)
    result = azure_source(server, WORKSPACE).run_kql(tunnel_query(start, end), start, end)
    assert requests_of(server) == 1  # the next parts are asked for as the rows are read, not before
    got = [list(r) for r in result.rows]
    assert got == expected  # every row once, in order: none lost at the cuts, none twice
    parts = requests_of(server)
    assert parts >= len(expected) // 100 + 1
    assert result.partial_error is None
    assert result.notes == [f"Log Analytics workspace {WORKSPACE} answers at most 500,000 rows (~100 MB) per query: "
                            f"these {len(expected):,} rows were read in {parts} queries, split by time."]


def test_a_query_that_is_not_sorted_by_time_stays_partial_and_keeps_the_service_reason(log_analytics, azure_source,
                                                                                       paris_day):
    server = log_analytics({WORKSPACE: paris_day}, row_cap=10)
    start, end = utc("2026-11-21T00:00:00Z"), utc("2026-11-22T00:00:00Z")
    query = ('AzureDiagnostics\n| where Category == "IKEDiagnosticLog"\n| project TimeGenerated, Message\n'
             "| sort by Message asc")
    result = azure_source(server, WORKSPACE).run_kql(query, start, end)
    assert len(list(result.rows)) == 10
    assert requests_of(server) == 1  # nothing to split on: asked once
    assert result.partial_error is not None and "record count limit 10" in result.partial_error
    assert not result.notes


def test_more_rows_at_one_instant_than_a_part_holds_stays_partial_and_says_so(log_analytics, azure_source):
    moment = utc("2026-11-21T14:02:06Z")
    rows = [row for n in range(8) for row in psk_failure(moment, remote=f"203.0.113.{20 + n}")]
    for row in rows:
        row["TimeGenerated"] = iso(moment)  # a gateway writes a burst with one timestamp
    rows.append(state(moment + timedelta(seconds=1), up=False))
    server = log_analytics({WORKSPACE: rows}, row_cap=10)
    query = 'AzureDiagnostics\n| project TimeGenerated, Category, Message\n| sort by TimeGenerated asc'
    result = azure_source(server, WORKSPACE).run_kql(query, moment - timedelta(hours=1), moment + timedelta(hours=1))
    got = list(result.rows)
    assert len(got) == 10  # what the service gave, kept
    assert result.partial_error is not None and "more rows share one instant" in result.partial_error


def test_a_part_that_fails_keeps_the_rows_read_and_says_where_it_stopped(log_analytics, azure_source, paris_day):
    server = log_analytics({WORKSPACE: paris_day}, row_cap=100)
    start, end = utc("2026-11-21T00:00:00Z"), utc("2026-11-22T00:00:00Z")
    result = azure_source(server, WORKSPACE, retry_total=0).run_kql(tunnel_query(start, end), start, end)
    rows = iter(result.rows)
    first = [next(rows) for _ in range(50)]
    server.fail(5, status=500)
    got = first + list(rows)
    assert 50 <= len(got) < 100
    assert result.partial_error is not None and "rows in 1 parts, then:" in result.partial_error
    assert "HTTP 500" in result.partial_error


# -- what a person reads ------------------------------------------------------------------------------------------


def test_a_question_over_more_rows_than_the_cap_gets_the_same_answer_and_says_it_was_split(log_analytics,
                                                                                          azure_source):
    rows = read_azure_export(RULE_FIXTURES / "maintenance_failover.csv").rows
    at, now = utc("2026-11-21T14:02:00Z"), utc("2026-11-21T18:00:00Z")

    def ask(**server_options: Any) -> tuple[Any, int]:
        server = log_analytics({WORKSPACE: rows}, **server_options)
        result = investigate(PARIS, at - timedelta(minutes=15), at + timedelta(minutes=15),
                             Sources(kql=[azure_source(server, WORKSPACE)]), now, anchor=at)
        return result, requests_of(server)

    whole, asked_whole = ask()
    capped, asked_capped = ask(row_cap=4)
    assert whole.findings[0].cause is Cause.MAINTENANCE_FAILOVER
    assert without_notes(capped) == without_notes(whole)
    assert asked_capped > asked_whole
    split = [n for n in capped.notes if SPLIT in n]
    assert len(split) == 1 and WORKSPACE in split[0] and "500,000 rows" in split[0]
    assert not any(SPLIT in n for n in whole.notes)


def test_a_daily_summary_whose_drop_details_exceed_the_cap_reads_them_in_parts_and_says_so(log_analytics,
                                                                                          azure_source, paris_day):
    registry = TunnelRegistry([PARIS, LYON])
    day, now = date(2026, 11, 21), utc("2026-11-22T08:00:00Z")

    def summary(**server_options: Any) -> Any:
        server = log_analytics({WORKSPACE: paris_day}, now=lambda: now, **server_options)
        return summarize_day(registry, Sources(kql=[azure_source(server, WORKSPACE)]), day, PARIS_TZ, now)

    whole, capped = summary(), summary(row_cap=60)
    paris = {t.name: t for t in capped.tunnels}["paris"]
    assert paris.drops == 6 and paris.downtime_s > 0
    assert capped.tunnels == whole.tunnels
    assert capped.failures == []
    assert any(SPLIT in n and WORKSPACE in n for n in capped.notes)
    assert not any(SPLIT in n for n in whole.notes)


def test_a_daily_summary_whose_pushed_down_counts_are_cut_says_they_are_partial(log_analytics, azure_source):
    """The counts are aggregated in KQL (a row per gateway, peer and day): 500,000 of them is 60,000 tunnels a week.
    Were they cut anyway, they cannot be split by time, and the summary says they are partial."""
    registry = TunnelRegistry([PARIS, LYON])
    day, now = date(2026, 11, 21), utc("2026-11-22T08:00:00Z")
    rows = [row for n in range(8) for row in psk_failure(datetime(2026, 11, 14 + n, 9, tzinfo=UTC))]
    rows += [row for n in range(8) for row in psk_failure(datetime(2026, 11, 14 + n, 10, tzinfo=UTC),
                                                           remote=LYON.azure_remote_ip)]
    server = log_analytics({WORKSPACE: rows}, now=lambda: now, row_cap=5)
    result = summarize_day(registry, Sources(kql=[azure_source(server, WORKSPACE)]), day, PARIS_TZ, now)
    partial = [n for n in result.notes if "returned partial results" in n]
    assert len(partial) == 1 and WORKSPACE in partial[0] and "record count limit 5" in partial[0]


def test_a_fleet_status_whose_reads_exceed_the_cap_reads_them_in_parts_and_says_so(log_analytics, azure_source):
    """paris has been down, retrying, for an hour: the status drills into its negotiations (one query for every
    outage of the fleet) as well as reading the drop's details; cut at the cap, both come whole and say so."""
    now = utc("2026-11-21T15:00:00Z")
    down = now - timedelta(hours=1)
    rows = [state(down, up=False, reason="IKE authentication credentials are unacceptable")]
    rows += [row for n in range(300) for row in psk_failure(down + timedelta(seconds=1 + 12 * n))]
    rows += [state(now - timedelta(hours=20), up=True, remote=LYON.azure_remote_ip)]

    def status(**server_options: Any) -> Any:
        server = log_analytics({WORKSPACE: rows}, now=lambda: now, **server_options)
        fleet = fleet_azure([PARIS, LYON], [azure_source(server, WORKSPACE)], now - timedelta(days=1), now, now,
                            PARIS_TZ)
        return fleet, requests_of(server)

    (whole, asked_whole), (capped, asked_capped) = status(), status(row_cap=30)
    paris, before = capped.statuses["paris"], whole.statuses["paris"]
    assert paris.state == before.state == "down"
    assert paris.cause is not None and before.cause is not None
    assert (paris.cause.cause, paris.cause.explanation) == (before.cause.cause, before.cause.explanation)
    assert paris.cause.cause is Cause.PSK_MISMATCH
    assert asked_capped > asked_whole
    assert any(SPLIT in n and WORKSPACE in n for n in capped.fetch.notes)
    assert not any(SPLIT in n for n in whole.fetch.notes)


def test_an_evidence_bundle_of_a_question_read_in_parts_holds_every_row_and_a_failed_part_is_said(
        log_analytics, azure_source, paris_day, tmp_path):
    start, end = utc("2026-11-21T10:00:00Z"), utc("2026-11-21T16:00:00Z")
    now = utc("2026-11-22T08:00:00Z")
    server = log_analytics({WORKSPACE: paris_day}, now=lambda: now, row_cap=100)
    source = azure_source(server, WORKSPACE, retry_total=0)
    inv = investigate(PARIS, start, end, Sources(kql=[source]), now=now, anchor=utc("2026-11-21T14:08:00Z"))
    assert any(SPLIT in n for n in inv.notes)
    answer = {"schema": 1, "tunnel": {"name": "paris", "provider": "azure"}, "window": {}, "findings": [],
              "drops": [], "notes": []}
    record = EvidenceRecord(1, "why did paris drop", "", "", "", "cli", answer, tuple(inv.queries), PARIS)

    def queries_doc(path: Any) -> list[dict[str, Any]]:
        with zipfile.ZipFile(path) as zf:
            return json.loads(zf.read("queries/queries.json"))

    build_bundle(record, Sources(kql=[source]), tmp_path / "whole.zip", version="test")
    whole = queries_doc(tmp_path / "whole.zip")
    assert [q["rows_in_bundle"] for q in whole] == [q.rows for q in inv.queries]
    assert whole[0]["rows_in_bundle"] > 100 and not any(q["partial"] for q in whole)

    class SecondPartFails:
        """The production source; once a query's first answer is in, the endpoint fails the next request."""

        backend, label, origin = source.backend, source.label, source.origin

        def run_kql(self, query: str, lo: datetime, hi: datetime) -> Any:
            result = source.run_kql(query, lo, hi)
            server.fail(1, status=500)  # the next part, asked for as the rows are read
            return result

    build_bundle(record, Sources(kql=[SecondPartFails()]), tmp_path / "partial.zip", version="test")
    first = queries_doc(tmp_path / "partial.zip")[0]
    assert first["rows_in_bundle"] < first["rows_when_answered"]
    assert first["partial"] is not None and "then:" in first["partial"] and "HTTP 500" in first["partial"]
