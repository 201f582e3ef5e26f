"""The fleet status ("what's down right now", `vpnbot status`): every tunnel's state now, troubled first, pushed down
to one `summarize` per Log Analytics workspace (the real LogsQueryClient against the local endpoint, which runs the
KQL with duckdb-kql) and one bounded read per CloudWatch log group (real boto3 against moto), and on the demo.

Azure rows follow docs/sources.md#azure-columns (TunnelDiagnosticLog state changes with instance_s, remoteIP_s and
stateChangeReason_s) and docs/sources.md#azure-ike-log / #azure-ike-errors (IKE rows in the `SESSION_ID :{…} Remote
ip:500: Local ip:500:` envelope, the verbatim authentication-failure texts); AWS rows the tunnel log JSON of
docs/sources.md#aws-log-fields with the messages of docs/sources.md#aws-ikev2-errors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.demo import DEMO_NOW
from support.moto_server import MotoServer
from test_summary_aws import dpd_outage, pin, quiet, seed, source, stream
from test_summary_azure import rekey, state

from diagnostics.aws.sources import MemoryLogSource
from diagnostics.fleet.build import fleet_status
from diagnostics.fleet.model import DOWN, NO_LOGS, UNKNOWN, UP
from diagnostics.model import InvestigationError
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.ask import answer_question
from handlers.render.json import answer_to_json
from handlers.render.text import render_text
from handlers.status import status_question

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # 13:00 in Paris
PARIS_TZ = ZoneInfo("Europe/Paris")
WEU, NEU = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9", "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
MISSING = "99999999-8888-7777-6666-555555555555"  # no such workspace on the endpoint: it answers 404
IN_0, IN_1 = "GatewayTenantWorker_IN_0", "GatewayTenantWorker_IN_1"

PARIS = Tunnel("paris", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10")
LYON = Tunnel("lyon", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.20")
NICE = Tunnel("nice", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.30")
BERLIN = Tunnel("berlin", azure_gateway="VPNGW02", azure_remote_ip="198.51.100.40")
MUNICH = Tunnel("munich", azure_gateway="VPNGW02", azure_remote_ip="198.51.100.50")
AZURE = TunnelRegistry([PARIS, LYON, NICE, BERLIN, MUNICH])
GATEWAY_IP = {"VPNGW01": "192.0.2.10", "VPNGW02": "192.0.2.20"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def ike(at: datetime, tunnel: Tunnel, text: str, session: str, instance: str = IN_0) -> dict:
    local = GATEWAY_IP[tunnel.azure_gateway]
    return {"TimeGenerated": at.isoformat(), "Category": "IKEDiagnosticLog", "OperationName": "IKELogEvent",
            "Resource": tunnel.azure_gateway, "ResourceGroup": "RG-NETWORK-WEU", "instance_s": instance,
            "Message": f"SESSION_ID :{{{session}}} Remote {tunnel.azure_remote_ip}:500: Local {local}:500: {text}"}


#: Azure initiates, the device rejects its AUTH (docs/sources.md#azure-ike-errors, verbatim texts).
PSK_REJECTED = ("[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0x{c} and rCookie 0x0",
                "[RECEIVED][SA_INIT] Received IKE SA_INIT response",
                "[SEND][MM Nonce] Sending MM Nonce packet",
                "[RECEIVED] Received Ike payload",
                "[SEND][SA_AUTH] Sending IKE SA_AUTH packet",
                "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials are "
                "unacceptable",
                "[RECEIVED][NOTIFY] Received Notify Message - Authentication failed")
SA_INIT = "[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x4, iCookie 0x{c} and rCookie 0x0"


def rekeys(tunnel: Tunnel, start: datetime, end: datetime, every: timedelta = timedelta(hours=3)) -> list[dict]:
    """A healthy tunnel's routine child-SA rekeys (a reconstruction on the grammar of docs/sources.md#azure-ike-log)."""
    rows, at = [], start
    while at < end:
        rows.append(rekey(at.isoformat(), tunnel))
        at += every
    return rows


def psk_retries(tunnel: Tunnel, start: datetime, end: datetime, instance: str) -> list[dict]:
    rows, at, n = [], start, 0
    while at < end:
        session = f"6f1d2c3b-0a9e-4e57-8c1d-{n:012x}"
        rows += [ike(at + timedelta(milliseconds=40 * k), tunnel, text.format(c=f"{n:016X}"), session, instance)
                 for k, text in enumerate(PSK_REJECTED)]
        at, n = at + timedelta(seconds=7), n + 1
    return rows


def unanswered(tunnel: Tunnel, start: datetime, end: datetime, every: timedelta = timedelta(minutes=2)) -> list[dict]:
    """Azure re-initiating to a device that never answers (docs/sources.md#azure-peer-unreachable)."""
    rows, at, n = [], start, 0
    while at < end:
        rows.append(ike(at, tunnel, SA_INIT.format(c=f"{n:016X}"), f"9a8b7c6d-0000-4000-8000-{n:012x}"))
        at, n = at + every, n + 1
    return rows


WEEK_AGO = NOW - timedelta(days=8)
FLAPS = [NOW - timedelta(minutes=m) for m in (55, 40, 25, 10)]  # four DPD drops in the last hour
LYON_DOWN = utc("2026-11-22T11:20:00Z")
BERLIN_DOWN = utc("2026-11-19T08:00:00Z")  # three days ago: longer than the outage read
MUNICH_LAST = utc("2026-11-19T06:00:00Z")  # its last row: a connect, and silence since


def weu_rows() -> list[dict]:
    """VPNGW01: paris flapping now, lyon down with a pre-shared-key mismatch, nice quiet."""
    rows = rekeys(PARIS, WEEK_AGO, FLAPS[0] - timedelta(hours=1)) + rekeys(NICE, WEEK_AGO, NOW)
    for down in FLAPS:
        rows += [state(down.isoformat(), PARIS, False, reason="DPD timed out"),
                 state((down + timedelta(seconds=12)).isoformat(), PARIS, True)]
    rows += rekeys(LYON, WEEK_AGO, LYON_DOWN - timedelta(minutes=30))
    rows += [state(utc("2026-11-20T09:00:00Z").isoformat(), LYON, True, IN_1),
             state(LYON_DOWN.isoformat(), LYON, False, IN_1, "IKE authentication failed")]
    rows += psk_retries(LYON, LYON_DOWN + timedelta(seconds=2), NOW - timedelta(minutes=3), IN_1)
    return rows


def neu_rows() -> list[dict]:
    """VPNGW02: berlin down for three days (its device never answers), munich silent since a connect."""
    rows = rekeys(BERLIN, WEEK_AGO, BERLIN_DOWN - timedelta(hours=1))
    rows += [state(BERLIN_DOWN.isoformat(), BERLIN, False, reason="DPD timed out")]
    rows += unanswered(BERLIN, BERLIN_DOWN + timedelta(seconds=1), NOW - timedelta(minutes=3))
    rows += rekeys(MUNICH, WEEK_AGO, MUNICH_LAST - timedelta(hours=2))
    rows += [state(MUNICH_LAST.isoformat(), MUNICH, True, IN_1)]
    return rows


@pytest.fixture
def endpoint(log_analytics):
    return log_analytics({WEU: weu_rows(), NEU: neu_rows()}, now=lambda: NOW)


@pytest.fixture
def workspaces(endpoint, azure_source) -> Sources:
    return Sources(kql=[azure_source(endpoint, WEU), azure_source(endpoint, NEU)])


def counts_queries(endpoint) -> dict[str, int]:
    """The state queries (`summarize` of every tunnel) the endpoint ran, per workspace."""
    found: dict[str, int] = {}
    for request in endpoint.requests:
        if isinstance(request.body, dict) and "summarize Rows = count()" in request.body.get("query", ""):
            workspace = request.path.split("/")[-2]
            found[workspace] = found.get(workspace, 0) + 1
    return found


def fleet_answer(sources: Sources, registry: TunnelRegistry = AZURE, now: datetime = NOW, tz: ZoneInfo = PARIS_TZ):
    return answer_question(status_question([], registry, now, tz), registry, sources, now)


# ------------------------------------------------------------------------------------ Azure: Log Analytics


def test_every_tunnels_state_now_comes_from_one_summarize_per_workspace(endpoint, workspaces):
    fleet = fleet_answer(workspaces).fleet
    states = {s.name: s for s in fleet.tunnels}
    assert {name: s.state for name, s in states.items()} == {
        "paris": UP, "lyon": DOWN, "nice": UP, "berlin": DOWN, "munich": NO_LOGS}
    assert counts_queries(endpoint) == {WEU: 1, NEU: 1}
    assert all(r.auth_valid for r in endpoint.requests)


def test_a_tunnel_down_now_says_since_when_on_which_instance_and_why_so_far(workspaces):
    lyon = fleet_answer(workspaces).fleet.get("lyon")
    assert lyon.state == DOWN and lyon.since == LYON_DOWN.timestamp()
    assert lyon.instance == IN_1
    assert lyon.cause is not None and lyon.cause.cause.value == "psk_mismatch"


def test_an_outage_going_on_has_its_retries_read_once_its_first_five_minutes(endpoint, workspaces):
    # lyon has retried its pre-shared key every 7 s for 40 min (2,400 rows): the details read its disconnect's own
    # rows, the drill-down its first 5 minutes (43 negotiations of 7 rows), and nothing more of it.
    lyon = fleet_answer(workspaces).fleet.get("lyon")
    assert lyon.cause is not None and lyon.cause.cause.value == "psk_mismatch"
    queries = [r.body["query"] for r in endpoint.requests if isinstance(r.body, dict) and "query" in r.body]
    details = next(q for q in queries if "GatewayDiagnosticLog" in q and "203.0.113.20" in q)
    drill = next(q for q in queries if "GatewayDiagnosticLog" not in q and "203.0.113.20" in q)
    assert '(Peer == "203.0.113.20" and (TimeGenerated between (datetime(2026-11-22T10:55:00Z) .. ' \
           'datetime(2026-11-22T11:20:30Z)))' in details  # one span: the hour it dropped in, up to 30 s after
    assert '(Peer == "203.0.113.20" and (TimeGenerated between (datetime(2026-11-22T11:19:55Z) .. ' \
           'datetime(2026-11-22T11:25:00Z)))' in drill
    assert len({q for q in queries if "203.0.113.20" in q}) == 2  # (each sent to both workspaces)


def test_a_tunnel_down_for_days_keeps_its_disconnect_time_and_the_negotiations_say_why(workspaces):
    berlin = fleet_answer(workspaces).fleet.get("berlin")
    assert berlin.state == DOWN and berlin.since == BERLIN_DOWN.timestamp()
    assert berlin.cause is not None and berlin.cause.cause.value == "peer_unreachable"


def test_four_drops_in_the_last_hour_is_flapping_now_with_each_drops_cause(workspaces):
    paris = fleet_answer(workspaces).fleet.get("paris")
    assert paris.state == UP and paris.flapping and paris.recent == 4
    assert [d.drop.down_ts for d in paris.drops] == [d.timestamp() for d in FLAPS]
    assert {d.cause for d in paris.drops} == {"dpd_timeout"}
    assert paris.since == (FLAPS[-1] + timedelta(seconds=12)).timestamp() and paris.instance == IN_0


def test_a_tunnel_silent_for_a_day_is_no_logs_never_up(workspaces):
    munich = fleet_answer(workspaces).fleet.get("munich")
    assert munich.state == NO_LOGS and "24 h" in munich.why


def test_the_text_lists_troubled_tunnels_first_and_the_healthy_ones_on_one_line(workspaces):
    text = render_text(fleet_answer(workspaces))
    lines = text.splitlines()
    assert lines[0].startswith("Status of every tunnel (5) · now, 2026-11-22 13:00 CET (12:00 UTC); drops of ")
    assert lines[1].startswith("5 tunnels: 2 down, 1 flapping, 1 without logs, 1 up with no drop; 2 dropped in")
    troubled = [line.split(" ")[0] for line in lines[3:7]]
    assert troubled == ["lyon", "berlin", "paris", "munich:"]  # down (dropped in the hour first), flapping, no logs
    assert "lyon is DOWN since 12:20:00 CET (11:20:00 UTC) (40 min so far) on IN_1; cause so far: psk_mismatch" in text
    assert "paris is up since 12:50:12 CET (11:50:12 UTC) on IN_0; FLAPPING now: 4 drops in the last hour" in text
    assert "Up, no drop in 2026-11-22 12:00–13:00 CET (11:00–12:00 UTC): nice" in text


def test_a_workspace_that_fails_leaves_its_tunnels_unknown_and_alone_it_is_an_error(endpoint, azure_source):
    missing = Sources(kql=[azure_source(endpoint, MISSING)])
    fleet = fleet_status(list(AZURE), missing, NOW - timedelta(hours=1), NOW, NOW, PARIS_TZ)
    assert {s.state for s in fleet.tunnels} == {UNKNOWN} and fleet.failures
    with pytest.raises(InvestigationError, match=MISSING):
        fleet_answer(missing)  # no source could tell anything: exit 1 on the command line, "Sorry: …" in Slack


def test_a_workspace_that_fails_beside_one_that_answers_makes_the_tunnels_it_would_hold_unknown(endpoint, workspaces,
                                                                                               azure_source):
    fleet = fleet_answer(Sources(kql=[azure_source(endpoint, MISSING), workspaces.kql[1]])).fleet
    states = {s.name: s.state for s in fleet.tunnels}
    assert states["paris"] == UNKNOWN and states["nice"] == UNKNOWN  # no row seen: unknown, not "no logs" or up
    assert states["berlin"] == DOWN
    assert fleet.failures and "Unknown" in " ".join(fleet.notes)


# ------------------------------------------------------------------------------------ the periods asked about


def test_today_lists_the_drops_since_midnight_and_a_past_instant_lists_who_dropped_then(demo):
    tunnels = list(demo.registry)
    today = fleet_status(tunnels, demo.sources, DEMO_NOW.replace(hour=0, minute=0), DEMO_NOW, DEMO_NOW,
                         ZoneInfo("UTC"))
    dropped = {s.name: {d.cause for d in s.drops} for s in today.tunnels if s.drops}
    assert dropped == {"porto": {"peer_unreachable"}, "hamburg": {"dpd_timeout"}, "dc4": {"dpd_timeout"}}
    assert today.get("hamburg").state == UP and not today.get("hamburg").flapping  # it flapped 3 h ago, not now
    anchor = (DEMO_NOW - timedelta(days=1)).replace(hour=14, minute=2)
    then = fleet_status(tunnels, demo.sources, anchor - timedelta(minutes=15), anchor + timedelta(minutes=15),
                        DEMO_NOW, ZoneInfo("UTC"), anchor=anchor)
    assert [s.name for s in then.ordered()][:3] == ["lyon", "nice", "paris"]
    assert all({d.cause for d in then.get(n).drops} == {"maintenance_failover"} for n in ("lyon", "nice", "paris"))
    assert then.get("porto").state == DOWN and not then.get("porto").drops  # its state now, not a drop then


def test_the_demo_fleet_names_porto_down_with_its_cause_and_everyone_else_up(demo):
    answer = fleet_answer(demo.sources, demo.registry, DEMO_NOW, ZoneInfo("UTC"))
    lines = render_text(answer).splitlines()
    assert lines[3].startswith("porto is DOWN since 05:30:09 UTC (4 h 59 min so far) on IN_0; cause so far: "
                               "peer_unreachable")
    assert lines[5].startswith("Up, no drop in 2026-11-22 09:30–10:30 UTC: berlin, dc1, dc2, dc3, dc4, hamburg")


def test_the_json_has_one_schema_1_answer_per_tunnel_under_tunnels(demo):
    doc = answer_to_json(fleet_answer(demo.sources, demo.registry, DEMO_NOW, ZoneInfo("UTC")))
    assert doc["intent"] == "status" and doc["tunnel"] is None and len(doc["tunnels"]) == len(demo.registry)
    porto = doc["tunnels"][0]
    assert {"schema", "question", "intent", "tunnel", "window", "drops", "findings", "queries", "notes",
            "state"} == set(porto)
    assert porto["tunnel"]["name"] == "porto" and porto["tunnel"]["azure_gateway"] == "VPNGW04"
    assert porto["state"]["state"] == "down" and porto["state"]["since"] == "2026-11-22T05:30:09.582Z"
    assert porto["findings"][0]["cause"] == "peer_unreachable"
    assert doc["understood"]["text"].startswith("Status of every tunnel (16) · now, 2026-11-22 10:30 UTC")


# ------------------------------------------------------------------------------------ AWS: CloudWatch Logs


DC1 = Tunnel("dc1", aws_vpn_connection="vpn-0a00000000000000a", aws_outside_ips=("52.95.10.1", "52.95.10.2"))
DC2 = Tunnel("dc2", aws_vpn_connection="vpn-0b00000000000000b", aws_outside_ips=("52.95.20.1", "52.95.20.2"))
DC3 = Tunnel("dc3", aws_vpn_connection="vpn-0c00000000000000c", aws_outside_ips=("52.95.30.1", "52.95.30.2"))
DC4 = Tunnel("dc4", aws_vpn_connection="vpn-0d00000000000000d", aws_outside_ips=("52.95.40.1", "52.95.40.2"))
AWS = TunnelRegistry([DC1, DC2, DC3, DC4])
AWS_DOWN = NOW - timedelta(minutes=25)


def aws_rows() -> list:
    """dc1: tunnel 1 down now (DPD), tunnel 2 up; dc2: both down; dc3: quiet; dc4: tunnel 2 flapping now."""
    start = NOW - timedelta(hours=6)
    rows = quiet(stream(DC1, 1), start, NOW) + quiet(stream(DC3, 0), start, NOW) + quiet(stream(DC3, 1), start, NOW)
    rows += quiet(stream(DC1, 0), start, AWS_DOWN, busy=[(AWS_DOWN, NOW)]) + dpd_outage(stream(DC1, 0), AWS_DOWN, None)
    for k in (0, 1):
        down = AWS_DOWN + timedelta(seconds=3 * k)
        rows += quiet(stream(DC2, k), start, down, busy=[(down, NOW)]) + dpd_outage(stream(DC2, k), down, None)
    flaps = [NOW - timedelta(minutes=m) for m in (50, 35, 20)]
    rows += quiet(stream(DC4, 0), start, NOW)
    rows += quiet(stream(DC4, 1), start, NOW, busy=[(d, d + timedelta(minutes=2)) for d in flaps])
    for down in flaps:
        rows += dpd_outage(stream(DC4, 1), down, down + timedelta(minutes=2))
    return rows


@pytest.fixture
def moto(aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    pin(monkeypatch, NOW)  # moto rejects events older than 14 days by its own clock
    seed(aws, aws_rows())
    return aws


def test_aws_connections_are_read_once_per_log_group_and_each_tunnel_keeps_its_state(moto):
    before = len(moto.calls)
    fleet = fleet_status(list(AWS), Sources(aws=[source()]), NOW - timedelta(hours=1), NOW, NOW, PARIS_TZ)
    calls = moto.calls[before:]
    assert calls.count("DescribeLogStreams") == 1  # the group, once, for the four connections
    assert 1 <= calls.count("FilterLogEvents") <= 2  # stream names in chunks of 100, paginated
    dc1, dc2, dc3, dc4 = (fleet.get(n) for n in ("dc1", "dc2", "dc3", "dc4"))
    assert dc1.state == UP and dc1.degraded
    assert [(p.path, p.state) for p in dc1.paths] == [("52.95.10.1", DOWN), ("52.95.10.2", UP)]
    assert dc1.paths[0].since == AWS_DOWN.timestamp() and dc1.cause.cause.value == "dpd_timeout"
    assert dc2.state == DOWN and dc2.since == (AWS_DOWN + timedelta(seconds=3)).timestamp()
    assert dc3.state == UP and not dc3.troubled
    assert dc4.state == UP and dc4.flapping and dc4.recent == 3


def test_aws_text_says_which_of_the_two_tunnels_is_down_and_that_redundancy_is_lost(moto):
    text = render_text(fleet_answer(Sources(aws=[source()]), AWS))
    assert ("dc1 is up on tunnel 52.95.10.2 only (tunnel 52.95.10.2 up since before 10:00:00 CET (09:00:00 UTC)): "
            "tunnel 52.95.10.1 DOWN since 12:35:00 CET (11:35:00 UTC), no redundancy; cause so far: "
            "dpd_timeout") in text
    assert "dc2 is DOWN: tunnel 52.95.20.1 DOWN since 12:35:00 CET" in text
    assert "Up, no drop in 2026-11-22 12:00–13:00 CET (11:00–12:00 UTC): dc3" in text


def test_a_log_group_that_fails_leaves_its_connections_unknown_even_beside_an_empty_export(moto):
    moto.fail("DescribeLogStreams", "AccessDeniedException")
    empty = MemoryLogSource([], label="empty export", origin="export.json")
    fleet = fleet_status(list(AWS), Sources(aws=[source(), empty]), NOW - timedelta(hours=1), NOW, NOW, PARIS_TZ)
    assert fleet.failures and {s.state for s in fleet.tunnels} == {UNKNOWN}
    assert "access denied to logs:DescribeLogStreams" in fleet.get("dc1").why
