"""Endpoints that answer, but not with the API's answer (a proxy's HTML page, `{}`, a table without the query's
columns, garbage): that source fails in one line saying what came back, and the other sources still answer. The real
LogsQueryClient against the local Log Analytics endpoint (its canned-body fault), real boto3 against a local HTTP
server that answers HTML where EC2 was expected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from support.gateway_rows import MAINTENANCE_FAILOVER as ROWS
from support.gateway_rows import REMOTE, at
from support.moto_server import REGION
from support.raw_endpoints import CannedServer

from diagnostics.aws.discovery import discover
from diagnostics.azure.investigate import negotiations
from diagnostics.investigate import investigate
from diagnostics.model import Cause, Fetch, SourceError
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

BROKEN = "11111111-2222-3333-4444-555555555555"  # the workspace behind a misbehaving proxy
HEALTHY = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
NOW = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
DC1 = Tunnel(name="dc1", azure_gateway="VPNGW01", azure_remote_ip=REMOTE)
PROXY_PAGE = ("<!DOCTYPE html>\n<html><head><title>Access denied</title></head><body><h1>Web filter</h1>"
              "<p>The page you requested is blocked by policy.<br>Reference #18.2f4b1</p></body></html>")


def table(columns: list[str], rows: list[list[str]]) -> str:
    """A 200 body in the service's shape, with whatever columns a wrong endpoint chose."""
    return json.dumps({"tables": [{"name": "PrimaryResult", "columns": [{"name": c, "type": "string"} for c in columns],
                                   "rows": rows}]})


NOT_RESULTS = {
    "html": (PROXY_PAGE, "text/html; charset=utf-8", "answered 200 with an HTML page, not a query result (a proxy?)"),
    "empty-object": ("{}", "application/json", "answered 200 with JSON without a result table"),
    "no-tables": ('{"tables": []}', "application/json", "answered 200 with JSON without a result table"),
    "garbage": ("upstream connect error or disconnect/reset before headers", "application/json",
                "answered 200 with a body that is not JSON"),
    "no-time-column": (table(["Category", "Message"], [["TunnelDiagnosticLog", "x"]]), "application/json",
                       "answered a table without TimeGenerated (its columns: Category, Message)"),
    "no-message-column": (table(["TimeGenerated", "Category"], [[at(2, 10), "TunnelDiagnosticLog"]]),
                          "application/json", "answered a table without Message (its columns: TimeGenerated, "
                                              "Category)"),
}


@pytest.mark.parametrize("case", NOT_RESULTS)
def test_a_workspace_answering_something_else_fails_and_the_other_workspace_answers(log_analytics, azure_source,
                                                                                    case):
    body, content_type, said = NOT_RESULTS[case]
    server = log_analytics({BROKEN: ROWS, HEALTHY: ROWS}, now=lambda: NOW)
    server.answer_with(body, content_type, workspace=BROKEN)
    sources = Sources(kql=[azure_source(server, BROKEN), azure_source(server, HEALTHY)])
    anchor = datetime(2024, 5, 1, 2, 10, tzinfo=UTC)
    result = investigate(DC1, anchor - timedelta(minutes=15), anchor + timedelta(minutes=15), sources, now=NOW,
                         anchor=anchor)
    assert result.findings[0].cause is Cause.MAINTENANCE_FAILOVER  # from the healthy workspace
    (failure,) = result.failures
    assert failure.startswith(f"Log Analytics workspace {BROKEN} {said}") and "\n" not in failure
    assert "check [azure] endpoint" in failure
    assert f"Log Analytics workspace {BROKEN} failed, answering from the other sources" in " ".join(result.notes)


def test_an_ike_query_answered_without_message_is_skipped_not_fatal(log_analytics, azure_source):
    server = log_analytics({BROKEN: ROWS}, now=lambda: NOW)
    server.answer_with(table(["TimeGenerated"], [[at(2, 10)]]), "application/json")
    fetched = Fetch()
    summary = negotiations([azure_source(server, BROKEN)], DC1, datetime(2024, 5, 1, 2, 0, tzinfo=UTC).timestamp(),
                           datetime(2024, 5, 1, 2, 30, tzinfo=UTC).timestamp(), fetched)
    assert summary.rows == 0 and fetched.queries == []  # nothing read, nothing claimed to have run


@pytest.mark.parametrize("page", [
    PROXY_PAGE,  # not XML: botocore cannot parse it
    "<html><head><title>Captive portal</title></head><body><p>Sign in to continue</p></body></html>",  # parses, to {}
], ids=["malformed-html", "well-formed-html"])
def test_ec2_discovery_answered_with_an_html_page_fails_in_one_line(aws, monkeypatch, page):
    with CannedServer(page) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", proxy.endpoint)
        with pytest.raises(SourceError) as raised:
            discover(REGION)
        assert proxy.requests == 1
    assert str(raised.value) == (f"EC2 describe_vpn_connections at {proxy.endpoint} answered with an HTML page, not "
                                 "an EC2 reply (a proxy?); check AWS_ENDPOINT_URL and the proxy settings; tunnels are "
                                 "not discovered.")
