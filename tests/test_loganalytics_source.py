"""AzureLogAnalyticsSource with the real LogsQueryClient, over HTTPS, against a local Log Analytics endpoint that
executes the KQL on fixture rows (tests/support/loganalytics_server.py). Nothing here leaves 127.0.0.1: the
autouse guard in conftest.py refuses any other connection, so a code path that tried Entra ID or IMDS would fail loudly.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.identity
import pytest
from azure.identity import CredentialUnavailableError
from azure.monitor.query import LogsQueryClient
from support.azure_client import Wait
from support.credentials import StaticTokenCredential
from support.loganalytics_server import LogAnalyticsServer, parse_timespan

from diagnostics import deadline
from diagnostics.azure.credentials import credential_from_setting
from diagnostics.azure.kql import TunnelQuery, build_tunnel_query
from diagnostics.azure.loganalytics import RETRY_AFTER_CAP_S, AzureLogAnalyticsSource
from diagnostics.azure.parser.rows import make_normaliser
from diagnostics.model import EventKind, Provenance, SourceError

WORKSPACE = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
NEW_WORKSPACE = "11111111-2222-3333-4444-555555555555"  # no tunnel event logged yet: no remoteIP_s column
MISSING_WORKSPACE = "99999999-8888-7777-6666-555555555555"
TOKEN = "eyJ0eXAiOiJKV1Qi.test-secret-token.sig"
REMOTE = "203.0.113.10"
OTHER_REMOTE = "198.51.100.7"
SUB = "6b1f7c2a-0000-4000-8000-00000000abcd"
NOW = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)


def at(hh: int, mm: int, ss: float = 0) -> datetime:
    return datetime(2024, 5, 1, hh, mm, tzinfo=UTC) + timedelta(seconds=ss)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def row(moment: datetime, category: str, operation: str, message: str = "", gateway: str = "VPNGW01",
        **columns: str) -> dict[str, str]:
    """An AzureDiagnostics row as a VPN gateway writes it (docs/sources.md#azure-columns)."""
    return {
        "TimeGenerated": iso(moment), "Category": category, "OperationName": operation, "Message": message,
        "Level": "Informational", "Resource": gateway, "ResourceGroup": "RG-NETWORK", "SubscriptionId": SUB,
        "ResourceId": f"/SUBSCRIPTIONS/{SUB.upper()}/RESOURCEGROUPS/RG-NETWORK/PROVIDERS/MICROSOFT.NETWORK/"
                      f"VIRTUALNETWORKGATEWAYS/{gateway}",
        **columns,
    }


def tunnel(moment: datetime, operation: str, instance: str, remote: str = REMOTE, gateway: str = "VPNGW01",
           reason: str = "") -> dict[str, str]:
    status = "Disconnected" if operation == "TunnelDisconnected" else "Connected"
    return row(moment, "TunnelDiagnosticLog", operation, gateway=gateway, instance_s=instance, remoteIP_s=remote,
               status_s=status, stateChangeReason_s=reason)


def ike(moment: datetime, text: str, remote: str = REMOTE, session: str = "3baa1cd0-77ec-40e6-b0d6-7ef40b2372a5",
        instance: str = "GatewayTenantWorker_IN_1") -> dict[str, str]:
    """The IKEDiagnosticLog envelope (docs/sources.md#azure-ike-log) around a verbatim event text."""
    message = f"SESSION_ID :{{{session}}} Remote {remote}:500: Local 192.0.2.4:500: {text}"
    return row(moment, "IKEDiagnosticLog", "IKELogEvent", message, instance_s=instance)


SA_INIT = ("[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0xCBF235637168FA00 "
           "and rCookie 0x0")
SA_INIT_OTHER = ("[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x5, iCookie 0x532CC7B57A368D12 "
                 "and rCookie 0x0")
CLEANUP = "IkeCleanupQMNegotiation called with error 13868 and flags a"  # no envelope: gateway-wide

# A planned-maintenance failover at 02:10 (docs/sources.md#azure-maintenance and docs/sources.md#azure-failover),
# with the rows the query must leave out around it.
ROWS = [
    tunnel(at(1, 30), "TunnelDisconnected", "GatewayTenantWorker_IN_1"),  # before the timespan
    row(at(2, 9, 40), "GatewayDiagnosticLog", "HostMaintenanceEvent", "Upgrade gateway started",
        instance_s="GatewayTenantWorker_IN_0"),
    tunnel(at(2, 10, 3.12), "TunnelDisconnected", "GatewayTenantWorker_IN_0", reason="StandbyChanged"),
    ike(at(2, 10, 3.5), SA_INIT),
    ike(at(2, 10, 4), SA_INIT_OTHER, remote=OTHER_REMOTE, session="c9459bf0-8178-4482-88d6-a695be1f5157"),
    {**row(at(2, 10, 5), "IKEDiagnosticLog", "IKELogEvent", CLEANUP), "instance_s": "GatewayTenantWorker_IN_1"},
    tunnel(at(2, 10, 10), "TunnelDisconnected", "GatewayTenantWorker_IN_0", gateway="VPNGW02"),
    tunnel(at(2, 10, 15.87), "TunnelConnected", "GatewayTenantWorker_IN_1"),
    ike(at(2, 40), SA_INIT),  # inside the tunnel window, outside the IKE window
]
# Only gateway rows and IKE rows: Log Analytics has not created remoteIP_s (docs/sources.md#azure-columns).
NEW_ROWS = [
    row(at(2, 9, 40), "GatewayDiagnosticLog", "HostMaintenanceEvent", "Upgrade gateway started"),
    ike(at(2, 10, 3.5), SA_INIT),
]

QUERY = TunnelQuery(gateway="VPNGW01", remote_ip=REMOTE, start=at(2, 0), end=at(3, 0),
                    ike_start=at(2, 5), ike_end=at(2, 20))
QUERY_TEXT = build_tunnel_query(QUERY)  # the exact text the bot sends to Azure
EXPECTED = [  # (time, Category, OperationName, instance_s) of exactly this gateway/remote/window
    (at(2, 9, 40), "GatewayDiagnosticLog", "HostMaintenanceEvent", "GatewayTenantWorker_IN_0"),
    (at(2, 10, 3.12), "TunnelDiagnosticLog", "TunnelDisconnected", "GatewayTenantWorker_IN_0"),
    (at(2, 10, 3.5), "IKEDiagnosticLog", "IKELogEvent", "GatewayTenantWorker_IN_1"),
    (at(2, 10, 5), "IKEDiagnosticLog", "IKELogEvent", "GatewayTenantWorker_IN_1"),
    (at(2, 10, 15.87), "TunnelDiagnosticLog", "TunnelConnected", "GatewayTenantWorker_IN_1"),
]
@pytest.fixture(scope="module")
def running_server() -> Iterator[LogAnalyticsServer]:
    server = LogAnalyticsServer({WORKSPACE: ROWS, NEW_WORKSPACE: NEW_ROWS}, token=TOKEN, now=lambda: NOW)
    with server:
        yield server


@pytest.fixture
def server(running_server: LogAnalyticsServer) -> LogAnalyticsServer:
    running_server.reset()
    return running_server


@pytest.fixture
def credential() -> StaticTokenCredential:
    return StaticTokenCredential(TOKEN)


@pytest.fixture
def make_source(server: LogAnalyticsServer, credential: StaticTokenCredential,
                azure_source: Callable[..., AzureLogAnalyticsSource]) -> Callable[..., AzureLogAnalyticsSource]:
    """Sources on this file's endpoint with this file's credential unless told otherwise; their retries wait for
    nothing (`azure_sleeps` records what they would have waited)."""

    def make(workspace: str = WORKSPACE, **options: Any) -> AzureLogAnalyticsSource:
        return azure_source(server, workspace, **{"credential": credential, **options})

    return make


def run(source: AzureLogAnalyticsSource, query: str = QUERY_TEXT, start: datetime = QUERY.start,
        end: datetime = QUERY.end) -> Any:
    return source.run_kql(query, start, end)


def failure(source: AzureLogAnalyticsSource, query: str = QUERY_TEXT) -> str:
    with pytest.raises(SourceError) as raised:
        run(source, query)
    return str(raised.value)


def as_dicts(result: Any) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, r, strict=True)) for r in result.rows]


# -- the query the bot really sends -----------------------------------------------------------------------------


def test_tunnel_query_returns_exactly_this_gateway_remote_and_window(make_source, server):
    result = run(make_source())
    rows = as_dicts(result)
    got = [(r["TimeGenerated"], r["Category"], r["OperationName"], r["instance_s"]) for r in rows]
    assert got == EXPECTED
    assert result.partial_error is None
    assert rows and all(OTHER_REMOTE not in r["Message"] for r in rows)
    assert all(r["Resource"] == "VPNGW01" for r in rows)


def test_result_carries_kusto_column_types(make_source):
    result = run(make_source())
    types = dict(zip(result.columns, result.types, strict=True))
    assert types["TimeGenerated"] == "datetime"
    assert types["Message"] == types["remoteIP_s"] == "string"


def test_request_carries_bearer_token_timespan_and_server_timeout(make_source, server, credential):
    run(make_source(server_timeout=120))
    [request] = server.requests
    assert request.path == f"/v1/workspaces/{WORKSPACE}/query"
    assert request.auth_present and request.auth_valid
    assert request.body["query"] == QUERY_TEXT
    assert request.body["timespan"] == "2024-05-01T02:00:00.000Z/2024-05-01T03:00:00.000Z"
    assert request.prefer == "wait=120"
    assert credential.calls == 1


def test_timespan_excludes_rows_the_kql_window_would_include(make_source):
    wide = TunnelQuery(gateway="VPNGW01", remote_ip=REMOTE, start=at(0, 0), end=at(6, 0),
                       ike_start=at(0, 0), ike_end=at(6, 0))
    inside = [r["TimeGenerated"] for r in as_dicts(run(make_source(), wide.text(), at(2, 0), at(2, 30)))]
    everything = [r["TimeGenerated"] for r in as_dicts(run(make_source(), wide.text(), at(0, 0), at(6, 0)))]
    assert at(1, 30) in everything and at(2, 40) in everything  # the KQL alone lets them through
    assert at(1, 30) not in inside and at(2, 40) not in inside
    assert inside == [t for t in everything if at(2, 0) <= t <= at(2, 30)]


def test_time_generated_arrives_as_datetime_that_normalises_to_the_right_epoch(make_source):
    result = run(make_source())
    provenance = Provenance("log-analytics", WORKSPACE, "AzureDiagnostics", QUERY_TEXT)
    normalise = make_normaliser(result.columns, provenance)
    first_drop = next(r for r in result.rows if "TunnelDisconnected" in r)
    assert isinstance(first_drop[result.columns.index("TimeGenerated")], datetime)
    event = normalise(first_drop, None)
    assert event.ts == pytest.approx(at(2, 10, 3.12).timestamp(), abs=1e-6)
    assert (event.kind, event.instance, event.remote_ip, event.gateway) == (
        EventKind.TUNNEL_DOWN, "GatewayTenantWorker_IN_0", REMOTE, "VPNGW01")
    ike_event = normalise(next(r for r in result.rows if SA_INIT in str(r)), None)
    assert (ike_event.kind, ike_event.remote_ip) == (EventKind.IKE, REMOTE)


def test_workspace_without_remote_ip_column_still_answers(make_source, server):
    assert "remoteIP_s" not in server._workspaces[NEW_WORKSPACE].columns  # really absent, not empty
    rows = as_dicts(run(make_source(NEW_WORKSPACE)))
    assert [(r["OperationName"], r["remoteIP_s"]) for r in rows] == [("HostMaintenanceEvent", ""),
                                                                    ("IKELogEvent", "")]


# -- retries, throttling and service failures -------------------------------------------------------------------


def test_throttled_twice_then_answered_returns_the_rows(make_source, server):
    server.throttle(2, retry_after=0)
    result = run(make_source())
    assert len(server.requests) == 3
    assert len(as_dicts(result)) == len(EXPECTED)


def test_retry_after_header_is_honoured(make_source, server, azure_sleeps):
    server.throttle(1, retry_after=1)
    run(make_source())
    assert len(server.requests) == 2
    # The client waited the 1 s the 429 asked for, after that answer and before its retry (recorded, not slept).
    assert azure_sleeps.waits == [Wait(seconds=1.0, after_requests=1)]


@pytest.mark.parametrize("retry_total", [2, 4])  # 4 > azure-core's default cap of 3 status retries
def test_throttled_beyond_retry_total_names_the_workspace_and_says_throttled(make_source, server, retry_total):
    server.throttle(10, retry_after=0)
    message = failure(make_source(retry_total=retry_total))
    assert len(server.requests) == retry_total + 1  # the first try and every retry
    assert WORKSPACE in message and "throttled" in message and "try again in a minute" in message


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_then_succeed(make_source, server, status):
    server.fail(2, status=status)
    assert len(as_dicts(run(make_source()))) == len(EXPECTED)
    assert len(server.requests) == 3


def test_server_errors_beyond_retry_total_raise_source_error(make_source, server):
    server.fail(10, status=500)
    message = failure(make_source(retry_total=2))
    assert len(server.requests) == 3
    assert WORKSPACE in message and "HTTP 500" in message and "try again" in message


def test_partial_result_returns_rows_and_the_service_reason(make_source, server):
    # A failure of part of the query, not a cut at the result limits: nothing to read again, the reason is kept.
    reason = "Partial query failure: Low memory condition (E_LOW_MEMORY_CONDITION)"
    server.partial(reason)
    result = run(make_source())
    assert len(as_dicts(result)) == len(EXPECTED)
    assert result.partial_error is not None and reason in result.partial_error
    assert len(server.requests) == 1


def test_a_result_cut_at_the_record_limit_is_read_again_from_where_it_stopped(make_source, server):
    """The service's cut (docs/sources.md#azure-query-limits) on the bot's time-sorted query: the rest is asked for
    from the last instant the first answer reached, and the rows come whole, with a note instead of a partial error."""
    server.partial("Query result set has exceeded the internal record count limit 500000 "
                   "(E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)")
    result = run(make_source())
    got = [(r["TimeGenerated"], r["Category"], r["OperationName"], r["instance_s"]) for r in as_dicts(result)]
    assert got == EXPECTED
    assert result.partial_error is None
    assert len(server.requests) == 2
    assert result.notes == [f"Log Analytics workspace {WORKSPACE} answers at most 500,000 rows (~100 MB) per query: "
                            f"these {len(EXPECTED)} rows were read in 2 queries, split by time."]


def test_a_retry_after_of_an_hour_is_waited_only_up_to_the_cap(make_source, server, azure_sleeps):
    server.throttle(1, retry_after=3600)
    assert len(as_dicts(run(make_source()))) == len(EXPECTED)
    assert azure_sleeps.waits == [Wait(seconds=RETRY_AFTER_CAP_S, after_requests=1)]


def test_a_retry_after_past_the_question_deadline_fails_at_once_naming_the_workspace(make_source, server,
                                                                                      azure_sleeps):
    server.throttle(1, retry_after=3600)
    with deadline.within(20):
        message = failure(make_source())
    assert message.startswith(f"Log Analytics workspace {WORKSPACE} did not answer within the question's 20 s "
                              "deadline (HTTP 429, and Log Analytics asked to wait 3600 s)")
    assert azure_sleeps.waits == [] and len(server.requests) == 1


def test_a_retry_after_within_the_deadline_is_waited_and_the_query_answered(make_source, server, azure_sleeps):
    server.throttle(1, retry_after=5)
    with deadline.within(90):
        assert len(as_dicts(run(make_source()))) == len(EXPECTED)
    assert azure_sleeps.waits == [Wait(seconds=5, after_requests=1)]


def test_server_errors_are_retried_only_while_the_deadline_leaves_time_for_the_backoff(make_source, server,
                                                                                        azure_sleeps):
    server.fail(10, status=503)
    with deadline.within(5):
        message = failure(make_source(retry_total=8))
    assert "did not answer within the question's 5 s deadline (HTTP 503, and no time left to retry)" in message
    assert all(w.seconds < 5 for w in azure_sleeps.waits)
    assert len(server.requests) < 9  # not every retry of retry_total


def test_a_query_whose_deadline_has_passed_is_not_sent(make_source, server):
    with deadline.within(0):
        message = failure(make_source())
    assert message == (f"Log Analytics workspace {WORKSPACE} did not answer within the question's 0 s deadline; "
                       "try again in a minute, or ask about a shorter window.")
    assert server.requests == []


# -- answers that are not query results -------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "content_type", "what"), [
    ("<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action=/login>Proxy login<br></form>"
     "</body></html>", "text/html; charset=utf-8", "an HTML page, not a query result (a proxy?)"),
    ("{}", "application/json", "JSON without a result table, not a query result"),
    ('{"tables": []}', "application/json", "JSON without a result table, not a query result"),
    ('{"tables": [{"name": "PrimaryResult"}]}', "application/json",
     "a result table the client could not read, not a query result"),
    ("\x00\x17\x03 upstream reset", "application/json", "a body that is not JSON, not a query result"),
    ("", "application/json; charset=utf-8", "an empty body, not a query result"),
], ids=["html", "empty-object", "no-tables", "table-without-rows", "garbage", "empty"])
def test_a_200_that_is_not_a_query_result_fails_in_one_line_saying_what_came_back(make_source, server, body,
                                                                                 content_type, what):
    server.answer_with(body, content_type)
    message = failure(make_source())
    assert message == (f"Log Analytics workspace {WORKSPACE} answered 200 with {what}; check [azure] endpoint "
                       f"({server.endpoint}).")
    assert len(server.requests) == 1  # a 200 is not retried


# -- failures that need a person ---------------------------------------------------------------------------------


def test_unknown_workspace_says_not_found_at_endpoint(make_source, server):
    message = failure(make_source(MISSING_WORKSPACE))
    assert MISSING_WORKSPACE in message and "not found" in message and server.endpoint in message
    assert len(server.requests) == 1  # a 404 is not retried


def test_forbidden_says_the_identity_lacks_read_access(make_source, server):
    server.fail(1, status=403)
    message = failure(make_source())
    assert WORKSPACE in message and "Log Analytics Reader" in message
    assert len(server.requests) == 1


def test_bad_query_gives_the_service_message(make_source, server):
    message = failure(make_source(), "AzureDiagnostics | where")
    assert "rejected the query" in message and "not valid KQL" in message
    assert len(server.requests) == 1


def test_rejected_token_says_no_usable_credential(make_source, server):
    message = failure(make_source(credential=StaticTokenCredential("expired-token")))
    assert WORKSPACE in message and "no usable Azure credential" in message and "az login" in message
    assert server.requests[0].auth_present and not server.requests[0].auth_valid


class UnavailableCredential:
    """What DefaultAzureCredential raises on a host with no identity at all."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise CredentialUnavailableError("DefaultAzureCredential failed to retrieve a token")


def test_missing_credential_says_run_az_login_and_sends_nothing(make_source, server):
    message = failure(make_source(credential=UnavailableCredential()))
    assert "no usable Azure credential" in message and "[azure] credential" in message
    assert server.requests == []


def test_untrusted_certificate_is_reported_not_bypassed(make_source, server):
    message = failure(make_source(connection_verify=True))
    assert "certificate is not trusted" in message and server.endpoint in message
    assert server.requests == []


def test_unreachable_endpoint_says_cannot_reach(make_source):
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"https://127.0.0.1:{port}"
    message = failure(make_source(endpoint=endpoint, retry_total=1))
    assert "cannot reach" in message and endpoint in message


def test_no_failure_message_contains_the_token(make_source, server):
    scenarios: list[tuple[Callable[[], None], dict[str, Any], str]] = [
        (lambda: server.throttle(10), {"retry_total": 1}, QUERY_TEXT),
        (lambda: server.fail(10), {"retry_total": 1}, QUERY_TEXT),
        (lambda: server.fail(1, status=403), {}, QUERY_TEXT),
        (lambda: None, {}, "AzureDiagnostics | where"),
        (lambda: None, {"credential": StaticTokenCredential(TOKEN + "-x")}, QUERY_TEXT),
    ]
    messages = []
    for arrange, options, query in scenarios:
        server.reset()
        arrange()
        messages.append(failure(make_source(**options), query))
    messages.append(failure(make_source(MISSING_WORKSPACE)))
    assert len(set(messages)) == len(messages)
    for message in messages:
        assert "test-secret-token" not in message and "Bearer" not in message
        assert "Authorization" not in message and message.count("\n") == 0


# -- the test server's own timespan semantics ------------------------------------------------------------------


@pytest.mark.parametrize(("timespan", "expected"), [
    ("2024-05-01T02:00:00.000Z/2024-05-01T02:30:00.000Z", (at(2, 0), at(2, 30))),
    ("2024-05-01T02:00:00Z/PT1H", (at(2, 0), at(3, 0))),
    ("2024-05-01T02:00:00.000Z/PT1800.0S", (at(2, 0), at(2, 30))),
    ("PT1H", (at(2, 0), at(3, 0))),
    ("P1DT2H", (NOW - timedelta(days=1, hours=2), NOW)),
    ("PT30M/2024-05-01T02:30:00Z", (at(2, 0), at(2, 30))),
])
def test_server_reads_every_timespan_form(timespan, expected):
    assert parse_timespan(timespan, NOW) == expected


def test_duration_timespan_counts_back_from_server_now(server, credential):
    client = LogsQueryClient(credential, endpoint=server.endpoint, connection_verify=server.ca_path)
    with client:
        result = client.query_workspace(WORKSPACE, "AzureDiagnostics | project TimeGenerated",
                                        timespan=timedelta(minutes=30))
    assert server.requests[0].body["timespan"] == "PT1800.0S"
    times = [r[0] for r in result.tables[0].rows]
    assert times and all(at(2, 30) <= t <= NOW for t in times)
    assert at(2, 40) in times and at(2, 10, 3.12) not in times


def test_stopping_the_server_releases_port_and_thread():
    server = LogAnalyticsServer({WORKSPACE: NEW_ROWS}).start()
    port, thread = server.port, server._thread
    server.stop()
    assert thread is not None and not thread.is_alive()
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


# -- the [azure] credential setting ------------------------------------------------------------------------------


@pytest.fixture
def no_token_requests(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Make every credential explode if asked for a token, and give workload identity its webhook variables."""
    token_file = tmp_path / "token"
    token_file.write_text("federated-token")
    monkeypatch.setenv("AZURE_TENANT_ID", "72f988bf-0000-4000-8000-000000000001")
    monkeypatch.setenv("AZURE_CLIENT_ID", "2c3d4e5f-0000-4000-8000-000000000002")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a token was requested while only constructing a credential")

    for name in ("DefaultAzureCredential", "AzureCliCredential", "ManagedIdentityCredential",
                 "EnvironmentCredential", "WorkloadIdentityCredential"):
        cls = getattr(azure.identity, name)
        monkeypatch.setattr(cls, "get_token", refuse)
        monkeypatch.setattr(cls, "get_token_info", refuse, raising=False)


@pytest.mark.parametrize(("setting", "expected"), [
    ("default", azure.identity.DefaultAzureCredential),
    ("cli", azure.identity.AzureCliCredential),
    ("managed_identity", azure.identity.ManagedIdentityCredential),
    ("environment", azure.identity.EnvironmentCredential),
    ("workload_identity", azure.identity.WorkloadIdentityCredential),
    ("CLI", azure.identity.AzureCliCredential),
    ("managed-identity", azure.identity.ManagedIdentityCredential),
])
def test_credential_setting_builds_the_named_credential(no_token_requests, setting, expected):
    assert type(credential_from_setting(setting)) is expected


def test_unknown_credential_setting_lists_the_valid_ones():
    with pytest.raises(ValueError) as raised:
        credential_from_setting("keyvault")
    message = str(raised.value)
    assert "keyvault" in message
    for name in ("default", "cli", "managed_identity", "environment", "workload_identity"):
        assert f'"{name}"' in message


def test_workload_identity_without_its_variables_says_so(monkeypatch):
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="workload_identity"):
        credential_from_setting("workload_identity")


#: Where azure-identity finds an identity on a host (EnvironmentCredential, workload and managed identity).
IDENTITY_VARIABLES = (
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME",
    "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "AZURE_TOKEN_CREDENTIALS",
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT",
    "MSI_SECRET", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)


@pytest.fixture
def host_without_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No Azure identity at all: none of the variables, an empty home (no token cache, no editor or azd sign-in), an
    `az` that is not logged in first on PATH (never the real one); IMDS is refused by the loopback guard."""
    for name in IDENTITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home, bin_dir = tmp_path / "home", tmp_path / "bin"
    home.mkdir()
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text("#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n")
    az.chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")


def test_a_failing_default_chain_is_one_sentence_and_its_chatter_moves_to_debug(host_without_identity, make_source,
                                                                                server, caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="azure.identity")
    message = failure(make_source(credential=credential_from_setting("default"), retry_total=0))
    assert message == (f"Log Analytics workspace {WORKSPACE}: no usable Azure credential; run `az login`, or set "
                       "[azure] credential to the identity this host should use.")
    assert server.requests == []
    chain = [r for r in caplog.records if r.name.startswith("azure.identity")]
    assert [(r.name, r.getMessage()[:80]) for r in chain if r.levelno >= logging.WARNING] == []
    # Moved, not lost: the chain's account of every credential it tried is there at DEBUG.
    assert any(r.levelno == logging.DEBUG and "failed to retrieve a token from the included credentials"
               in r.getMessage() for r in chain)
    assert "DefaultAzureCredential" not in capsys.readouterr().err
