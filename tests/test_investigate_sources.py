"""Backends that throttle, fail or answer partly: the answer says which source and still answers from the rest."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from support.fixture_logs import PARIS, RULE_FIXTURES, utc, workspace_of
from support.loganalytics_server import LogAnalyticsServer
from support.meeting import Meeting

from diagnostics.azure.exports import read_azure_export
from diagnostics.azure.loganalytics import AzureLogAnalyticsSource
from diagnostics.investigate import investigate
from diagnostics.model import Cause, InvestigationError
from diagnostics.sources import Sources

WORKSPACE_ID = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
TOKEN = "static-test-token"
AT = utc("2026-11-21T14:02:00Z")
NOW = utc("2026-11-21T18:00:00Z")


@pytest.fixture
def server(log_analytics) -> LogAnalyticsServer:
    """A Log Analytics endpoint holding the maintenance failover fixture's rows."""
    return log_analytics({WORKSPACE_ID: read_azure_export(RULE_FIXTURES / "maintenance_failover.csv").rows},
                         token=TOKEN)


@pytest.fixture
def source(server: LogAnalyticsServer, azure_source) -> AzureLogAnalyticsSource:
    """The production source on that endpoint, retrying twice."""
    return azure_source(server, WORKSPACE_ID, retry_total=2)


def ask(*backends):
    return investigate(PARIS, AT - timedelta(minutes=15), AT + timedelta(minutes=15), Sources(kql=backends), NOW,
                       anchor=AT)


def test_throttled_backend_is_retried_and_answers(server, source):
    server.throttle(2)
    result = ask(source)
    assert result.findings[0].cause is Cause.MAINTENANCE_FAILOVER
    assert not result.failures
    assert len(server.requests) == 3  # two 429s, then the answer


def test_partial_results_are_used_and_said(server, source):
    server.partial("Query exceeded the allowed memory")
    result = ask(source)
    assert result.findings[0].cause is Cause.MAINTENANCE_FAILOVER
    assert any("partial results" in n and "memory" in n for n in result.notes)


def test_failing_backend_is_named_and_the_others_answer(server, source):
    server.fail(10, status=503)
    result = ask(source, workspace_of("maintenance_failover.csv"))
    assert result.findings[0].cause is Cause.MAINTENANCE_FAILOVER
    assert result.failures and WORKSPACE_ID in result.failures[0]
    assert any(WORKSPACE_ID in n and "answering from the other sources" in n for n in result.notes)


def test_when_every_backend_fails_the_error_names_the_workspace(server, source):
    server.fail(10, status=500)
    with pytest.raises(InvestigationError, match=WORKSPACE_ID) as info:
        ask(source)
    assert TOKEN not in str(info.value)


def test_with_no_drop_in_the_window_the_nearest_drops_and_the_logged_categories_are_looked_up_at_once():
    """A policy-based gateway logs no tunnel rows: the answer needs both the drops of the days around (a light
    TunnelDiagnosticLog query) and which categories the gateway logs; neither needs the other."""
    at = utc("2026-11-15T09:00:00Z")
    barrier = threading.Barrier(2, timeout=60)
    texts = ('Category == "TunnelDiagnosticLog"', "summarize Rows = count() by Category")
    meeting = Meeting(workspace_of("policy_based_gateway.csv"), barrier, "run_kql",
                      when=lambda query, *_: any(text in query for text in texts))
    result = investigate(PARIS, at - timedelta(minutes=15), at + timedelta(minutes=15), Sources(kql=[meeting]),
                         utc("2026-11-15T12:00:00Z"), anchor=at, widen=False)
    assert not barrier.broken
    assert any("policy-based gateway" in n for n in result.notes), result.notes
    firsts = [q.text.splitlines()[2] for q in result.queries]
    assert firsts[1:] == ['| where Category == "TunnelDiagnosticLog"', "| where Resource =~ \"VPNGW01\""]
