"""The negotiations of the outage a question is about come from the tunnel query's own rows (each row read once), and
are exactly what the narrow IKE query of that outage (`build_ike_query`) would have given; where the tunnel query
does not hold them all, the narrow query is still run. Rows in the format of docs/sources.md#azure-ike-log (the
pre-shared key mismatch of docs/sources.md#azure-ike-errors) and docs/sources.md#azure-tunnel-log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from support.fixture_logs import PARIS

from diagnostics.azure.investigate import AzureSide, negotiations
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.azure.negotiation import LEAD, IkeSummary
from diagnostics.azure.sources import KqlResult
from diagnostics.investigate import investigate
from diagnostics.model import Cause, Fetch
from diagnostics.sources import Sources

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
REMOTE = PARIS.azure_remote_ip
OTHER = "198.51.100.7"  # another tunnel of the same gateway


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def row(moment: datetime, category: str, operation: str, message: str = "", **columns: str) -> dict[str, str]:
    return {"TimeGenerated": iso(moment), "Category": category, "OperationName": operation, "Message": message,
            "Level": "Informational", "Resource": "VPNGW01", "ResourceGroup": "RG-NETWORK-WEU",
            "instance_s": "GatewayTenantWorker_IN_0", **columns}


def state(moment: datetime, up: bool, remote: str = REMOTE, reason: str = "") -> dict[str, str]:
    return row(moment, "TunnelDiagnosticLog", "TunnelConnected" if up else "TunnelDisconnected", remoteIP_s=remote,
               status_s="Connected" if up else "Disconnected", stateChangeReason_s=reason)


def psk_failure(moment: datetime, remote: str = REMOTE) -> list[dict[str, str]]:
    """One negotiation Azure starts and the device rejects (7 rows over ~0.6 s)."""
    env = f"SESSION_ID :{{{uuid.uuid5(uuid.NAMESPACE_URL, f'{remote}{moment}')}}} Remote {remote}:500: " \
          "Local 192.0.2.4:500: "
    texts = [
        "[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0xCBF235637168FA00 and rCookie 0x0",
        "[SEND]Sending Ike payload for tunnel Id 0x3: Auth:PreShared Key- Policy1:Cipher=AES-CBC-256 "
        "Integrity=SHA1 DhGroup=DhGroup2 Policy2:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup2",
        "[RECEIVED] Receiving MM Packet for tunnel Id 0x3 iCookie 0xCBF235637168FA00 and rCookie 0x69284B72D78CBC71: "
        "Receiving MM Nonce",
        "[RECEIVED]Received Ike payload: Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup2",
        "[SEND][SA_AUTH] Sending SA AUTH message for tunnelId 0x3 and tsId 0x37",
        "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials are unacceptable",
        "[RECEIVED][NOTIFY] Received Notify Message - Authentication failed",
    ]
    return [row(moment + timedelta(seconds=0.1 * i), "IKEDiagnosticLog", "IKELogEvent", env + text)
            for i, text in enumerate(texts)]


def retries(first: datetime, last: datetime, every: float = 6.0, remote: str = REMOTE) -> list[dict[str, str]]:
    """Azure retrying every few seconds, each attempt rejected, from `first` to `last`."""
    out: list[dict[str, str]] = []
    moment = first
    while moment <= last:
        out += psk_failure(moment, remote)
        moment += timedelta(seconds=every)
    return out


class Counting:
    """A workspace that counts the queries it runs and the rows it hands over."""

    def __init__(self, rows: Sequence[dict[str, Any]]) -> None:
        self.workspace = LocalWorkspace(label="test workspace", origin="test")
        self.workspace.load_rows(rows)
        self.backend, self.label, self.origin = "local", "test workspace", "test"
        self.queries: list[str] = []
        self.rows = 0

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult:
        result = self.workspace.run_kql(query, start, end)
        self.queries.append(query)
        return KqlResult(result.columns, self._count(result.rows), result.partial_error, result.types)

    def _count(self, rows: Any) -> Iterator[Any]:
        for r in rows:
            self.rows += 1
            yield r


def shape(summary: IkeSummary) -> list[Any]:
    """Everything the rules read of a summary, comparable."""
    return [summary.rows, summary.orphans, summary.negotiations, sorted(
        (g.signature, list(g.starts), [(n.session, n.start, n.end, n.rows, n.failure_text) for n in g.samples])
        for g in summary.groups)]


def ike_queries(backend: Counting) -> list[str]:
    return [q for q in backend.queries if '| where Category == "IKEDiagnosticLog"' in q]


def read_once(rows: Sequence[dict[str, Any]], start: datetime, end: datetime, anchor: datetime | None,
              now: datetime) -> tuple[Any, Counting]:
    backend = Counting(rows)
    reading = AzureSide([backend]).read(PARIS, start, end, now, anchor)
    return reading, backend


def narrow(rows: Sequence[dict[str, Any]], lo: float, hi: float) -> IkeSummary:
    """What the second query over the outage gives."""
    return negotiations([Counting(rows).workspace], PARIS, lo, hi, Fetch())


def test_a_tunnel_down_for_the_whole_window_is_explained_from_one_read_of_its_rows():
    down_at = T0 + timedelta(minutes=3)
    rows = [state(down_at, up=False, reason="IKE authentication credentials are unacceptable"),
            *retries(down_at + timedelta(seconds=2), T0 + timedelta(hours=2)),
            *retries(T0, T0 + timedelta(hours=2), every=30, remote=OTHER)]
    start, end, now = T0, T0 + timedelta(hours=2), T0 + timedelta(hours=3)
    reading, backend = read_once(rows, start, end, T0 + timedelta(hours=1), now)
    assert ike_queries(backend) == [] and len(backend.queries) == 1
    # Every row of the query was handed over once: there was no second read.
    assert backend.rows == reading.fetch.queries[0].rows + 1  # + the gateway's summary row
    expected = narrow(rows, down_at.timestamp() - LEAD, end.timestamp())
    assert reading.ike is not None and expected.negotiations > 1000
    assert shape(reading.ike) == shape(expected)
    inv = investigate(PARIS, start, end, Sources(kql=[Counting(rows)]), now=now, anchor=T0 + timedelta(hours=1),
                      widen=False)
    assert inv.findings[0].cause is Cause.PSK_MISMATCH


def test_a_tunnel_never_up_in_the_window_is_explained_from_one_read_of_its_rows():
    rows = [*retries(T0 - timedelta(minutes=10), T0 + timedelta(hours=1)),
            *retries(T0, T0 + timedelta(hours=1), every=45, remote=OTHER)]
    start, end = T0 + timedelta(minutes=5), T0 + timedelta(minutes=50)
    reading, backend = read_once(rows, start, end, None, T0 + timedelta(hours=2))
    assert ike_queries(backend) == []
    expected = narrow(rows, start.timestamp() - LEAD, end.timestamp())
    assert reading.ike is not None and expected.negotiations > 400
    assert shape(reading.ike) == shape(expected)


def test_the_flap_nearest_the_asked_instant_is_the_one_whose_negotiations_are_kept():
    rows: list[dict[str, str]] = []
    downs = [T0 + timedelta(minutes=10 * i) for i in range(1, 6)]
    for down_at in downs:
        up_at = down_at + timedelta(minutes=4)
        rows += [state(down_at, up=False), *retries(down_at + timedelta(seconds=1), up_at - timedelta(seconds=5)),
                 state(up_at, up=True)]
    start, end, now = T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    for anchor, primary in ((downs[2] + timedelta(minutes=1), downs[2]), (downs[0], downs[0]),
                            (T0 + timedelta(hours=1), downs[4]), (None, downs[4])):
        reading, backend = read_once(rows, start, end, anchor, now)
        assert ike_queries(backend) == [], anchor
        expected = narrow(rows, primary.timestamp() - LEAD, (primary + timedelta(minutes=4)).timestamp())
        assert reading.ike is not None and shape(reading.ike) == shape(expected), anchor


def test_an_outage_that_ends_just_after_the_window_takes_its_rows_past_the_window_end():
    down_at, up_at = T0 + timedelta(minutes=50), T0 + timedelta(minutes=62)  # the window ends at 10:00
    rows = [state(down_at, up=False), *retries(down_at + timedelta(seconds=1), up_at - timedelta(seconds=2)),
            state(up_at, up=True), *retries(up_at + timedelta(seconds=1), up_at + timedelta(minutes=2))]
    reading, backend = read_once(rows, T0, T0 + timedelta(hours=1), down_at, T0 + timedelta(hours=3))
    assert ike_queries(backend) == []
    expected = narrow(rows, down_at.timestamp() - LEAD, up_at.timestamp())
    assert reading.ike is not None and shape(reading.ike) == shape(expected)


def test_an_outage_outlasting_the_ike_rows_of_the_tunnel_query_is_read_with_the_narrow_query():
    down_at, up_at = T0 + timedelta(minutes=50), T0 + timedelta(minutes=80)  # up 20 min after the window's end
    rows = [state(down_at, up=False), *retries(down_at + timedelta(seconds=1), up_at - timedelta(seconds=2)),
            state(up_at, up=True)]
    reading, backend = read_once(rows, T0, T0 + timedelta(hours=1), down_at, T0 + timedelta(hours=3))
    assert len(ike_queries(backend)) == 1  # the rows after the tunnel query's IKE margin are read
    expected = narrow(rows, down_at.timestamp() - LEAD, up_at.timestamp())
    assert reading.ike is not None and shape(reading.ike) == shape(expected)
    assert reading.ike.negotiations == sum("[SEND][SA_INIT]" in r["Message"] for r in rows)


# -- through Log Analytics: what the endpoint is asked ----------------------------------------------------------

WORKSPACE = "3c2b1a09-8f7e-4d6c-9b5a-1e2f3a4b5c6d"


def endpoint_ike_queries(server: Any) -> list[str]:
    texts = [r.body.get("query", "") for r in server.requests if r.path.endswith("/query") and r.body]
    return [q for q in texts if '| where Category == "IKEDiagnosticLog"' in q]


def down_all_window() -> tuple[list[dict[str, str]], datetime, datetime, datetime]:
    down_at = T0 + timedelta(minutes=3)
    rows = [state(down_at, up=False, reason="IKE authentication credentials are unacceptable"),
            *retries(down_at + timedelta(seconds=2), T0 + timedelta(hours=2)),
            *retries(T0, T0 + timedelta(hours=2), every=30, remote=OTHER)]
    return rows, T0, T0 + timedelta(hours=2), T0 + timedelta(hours=3)


def test_a_tunnel_down_all_window_asked_through_log_analytics_sends_no_second_query_for_its_retries(log_analytics,
                                                                                                   azure_source):
    rows, start, end, now = down_all_window()
    server = log_analytics({WORKSPACE: rows}, now=lambda: now)
    inv = investigate(PARIS, start, end, Sources(kql=[azure_source(server, WORKSPACE)]), now=now,
                      anchor=T0 + timedelta(hours=1), widen=False)
    assert inv.findings[0].cause is Cause.PSK_MISMATCH
    assert endpoint_ike_queries(server) == []  # the retries came with the tunnel query, and were read once
    expected = narrow(rows, (T0 + timedelta(minutes=3)).timestamp() - LEAD, end.timestamp())
    assert expected.negotiations > 1000 and f"{expected.negotiations} times" in inv.findings[0].explanation


def test_when_the_tunnel_query_answers_only_partly_the_outage_is_read_again_with_its_own_query(log_analytics,
                                                                                             azure_source):
    """Rows may be missing from a partial answer, so its rows cannot vouch for the outage's negotiations."""
    rows, start, end, now = down_all_window()
    server = log_analytics({WORKSPACE: rows}, now=lambda: now)
    server.partial("Partial query failure: Low memory condition (E_LOW_MEMORY_CONDITION)")
    inv = investigate(PARIS, start, end, Sources(kql=[azure_source(server, WORKSPACE)]), now=now,
                      anchor=T0 + timedelta(hours=1), widen=False)
    assert inv.findings[0].cause is Cause.PSK_MISMATCH
    assert len(endpoint_ike_queries(server)) == 1
    assert any("partial results" in n and "E_LOW_MEMORY_CONDITION" in n for n in inv.notes)
