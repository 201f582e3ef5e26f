"""Linked findings told as one story (diagnostics/chains.py), through `vpnbot ask` as users run it: the demo's
madrid key change, its maintenance failovers and its Azure↔AWS link, and fixture rows with a BGP peer configured.
A story is told only when times and identifiers fit; otherwise the answer is the one it always was."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.cli import run
from support.demo import DEMO_NOW
from support.fake_slack_api import answered, final_answer, running_bot
from support.fixture_logs import FIXTURES, PARIS, RULE_FIXTURES, ask_at

from diagnostics.chains import LINKS, OPENS, STEP_TEXT, Step, chains, story
from diagnostics.model import Cause
from diagnostics.traffic.model import Metric, Series, Traffic

DEMO = ("--demo", "--now", "2026-11-22T10:30:00Z")
CHAIN_FIXTURES = FIXTURES / "chains"
PARIS_BGP_CONFIG = """
timezone = "UTC"

[[tunnels]]
name = "paris"
azure_gateway = "VPNGW01"
azure_remote_ip = "203.0.113.10"
bgp_peer_ip = "10.1.0.254"

[[tunnels]]
name = "lyon"
azure_gateway = "VPNGW01"
azure_remote_ip = "203.0.113.20"
"""


def ask_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, "ask", *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def ask_fixture(capsys, tmp_path: Path, question: str, export: Path, fmt: str = "json") -> str:
    config = tmp_path / "vpnbot.toml"
    config.write_text(PARIS_BGP_CONFIG)
    code, out, err = run(capsys, "ask", question, "--config", str(config), "--azure-export", str(export),
                         "--now", "2026-11-21T18:00:00Z", "--format", fmt)
    assert code == 0, err
    return out


def kinds(doc: dict) -> list[str]:
    return [s["step"] for s in doc["story"]["steps"]]


def variant(tmp_path: Path, fixture: Path, drop: str = "", add: tuple[str, ...] = (), name: str = "") -> Path:
    """A fixture's rows with one row taken out (the line starting with `drop`) and rows added, as a new export."""
    header, *rows = fixture.read_text(encoding="utf-8").splitlines()
    kept = [r for r in rows if not (drop and r.startswith(drop))]
    assert len(kept) == len(rows) - (1 if drop else 0)
    path = tmp_path / (name or fixture.name)
    path.write_text("\n".join([header, *kept, *add]) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ key change → auth failures


def test_madrid_answer_tells_the_key_change_and_the_failing_authentications_as_one_story(capsys):
    doc = ask_json(capsys, "why did madrid drop yesterday at 10:00", *DEMO)
    story_ = doc["story"]
    assert story_["text"].startswith("The connection's shared key was changed at 09:59:44 UTC")
    assert "the device still uses the old one; since then every negotiation fails authentication" in story_["text"]
    # The demo's byte counters say what the logs say (no traffic until the reconnect): they add no step.
    assert kinds(doc) == ["key_changed", "auth_failing", "bgp_withdrawn"]
    assert [s["cause"] for s in story_["steps"]] == ["config_change", "psk_mismatch", "bgp_session_down"]
    assert [s["time"] for s in story_["steps"]] == ["2026-11-21T09:59:44.600Z", "2026-11-21T10:00:03.800Z",
                                                    "2026-11-21T10:00:04.594Z"]
    assert "BGP peer 10.71.0.254" in story_["text"]  # madrid's own peer (bgp_peer_ip), not seville's
    assert {"azure-config-change", "azure-ike-errors", "azure-bgp"} <= set(story_["sources"])
    # The story comes first; the existing keys keep their meaning.
    assert list(doc).index("story") < list(doc).index("drops")
    assert [f["cause"] for f in doc["findings"]] == ["psk_mismatch", "config_change", "bgp_session_down"]


def test_madrid_text_answer_leads_with_the_story_and_marks_the_findings_it_joins(capsys):
    code, out, _ = run(capsys, "ask", "why did madrid drop yesterday at 10:00", *DEMO)
    assert code == 0
    assert out.index("Story: The connection's shared key was changed") < out.index("Cause: psk_mismatch")
    assert "  09:59:44 UTC  config_change     SetConnectionConfiguration on VPNGW04" in out
    assert "config_change (high): Configuration change just before the drop — part of the story above" in out


def test_unnamed_key_change_links_when_the_tunnels_own_disconnect_says_its_key_replace(capsys, tmp_path):
    # The fixture's SetConnectionConfiguration names no connection; the TunnelDisconnected row says
    # 'Pre-shared Key Changed': the tunnel's own row ties the change to it.
    doc = json.loads(ask_fixture(capsys, tmp_path, "why did paris drop at 10:00", RULE_FIXTURES / "psk_mismatch.csv"))
    assert kinds(doc) == ["key_changed", "auth_failing"]
    assert doc["story"]["steps"][0]["time"] == "2026-11-21T09:57:50Z"
    assert "(the tunnel dropped 2 min 14 s later, 'Pre-shared Key Changed')" in doc["story"]["text"]


def test_a_key_change_of_another_connection_tells_no_story(capsys, tmp_path):
    export = variant(tmp_path, RULE_FIXTURES / "psk_mismatch.csv", drop="2026-11-21T09:57:50.000Z", add=(
        "2026-11-21T09:57:50.000Z,GatewayDiagnosticLog,SetConnectionConfiguration,VPNGW01,RG-NETWORK-WEU,"
        "GatewayTenantWorker_IN_0,,,,Success,Set connection configuration for cn-vpngw01-lyon succeeded: "
        "shared key updated",))
    doc = json.loads(ask_fixture(capsys, tmp_path, "why did paris drop at 10:00", export))
    assert doc["findings"][0]["cause"] == "psk_mismatch"
    assert "story" not in doc


def without_reason(tmp_path):
    """The key mismatch fixture whose disconnect gives no reason (not "Pre-shared Key Changed")."""
    rows = (RULE_FIXTURES / "psk_mismatch.csv").read_text(encoding="utf-8")
    plain = tmp_path / "plain.csv"
    plain.write_text(rows.replace("Disconnected,Pre-shared Key Changed,", "Disconnected,,"), encoding="utf-8")
    return plain


def test_a_key_change_of_this_connection_by_name_links_without_a_reason_on_the_disconnect(capsys, tmp_path):
    plain = without_reason(tmp_path)
    named = variant(tmp_path, plain, drop="2026-11-21T09:57:50.000Z", name="named.csv", add=(
        "2026-11-21T09:57:50.000Z,GatewayDiagnosticLog,SetConnectionConfiguration,VPNGW01,RG-NETWORK-WEU,"
        "GatewayTenantWorker_IN_0,,,,Success,Set connection configuration for cn-vpngw01-paris succeeded: "
        "shared key updated",))
    assert "story" not in json.loads(ask_fixture(capsys, tmp_path, "why did paris drop at 10:00", plain))
    doc = json.loads(ask_fixture(capsys, tmp_path, "why did paris drop at 10:00", named))
    assert kinds(doc) == ["key_changed", "auth_failing"]


def test_a_change_of_this_connection_that_set_something_else_is_not_the_key_change(capsys, tmp_path):
    plain = without_reason(tmp_path)
    export = variant(tmp_path, plain, drop="2026-11-21T09:57:50.000Z", name="lifetime.csv", add=(
        "2026-11-21T09:57:50.000Z,GatewayDiagnosticLog,SetConnectionConfiguration,VPNGW01,RG-NETWORK-WEU,"
        "GatewayTenantWorker_IN_0,,,,Success,Set connection configuration for cn-vpngw01-paris succeeded: IPsec SA "
        "lifetime changed from 27000 to 3600 seconds",))
    doc = json.loads(ask_fixture(capsys, tmp_path, "why did paris drop at 10:00", export))
    assert doc["findings"][0]["cause"] == "psk_mismatch" and "story" not in doc


def test_a_change_logged_after_the_failures_started_is_not_their_cause(capsys, tmp_path):
    export = variant(tmp_path, RULE_FIXTURES / "psk_mismatch.csv", drop="2026-11-21T09:57:50.000Z", add=(
        "2026-11-21T10:01:10.000Z,GatewayDiagnosticLog,SetConnectionConfiguration,VPNGW01,RG-NETWORK-WEU,"
        "GatewayTenantWorker_IN_0,,,,Success,",))
    doc = json.loads(ask_fixture(capsys, tmp_path, "why did paris drop at 10:00", export))
    assert doc["findings"][0]["cause"] == "psk_mismatch"
    assert "config_change" in [f["cause"] for f in doc["findings"]]  # the rule still names it (logging lag)
    assert "story" not in doc


# ------------------------------------------------------------------------- maintenance → failover → BGP withdrawn


def test_maintenance_failover_and_bgp_withdrawal_are_one_story_with_the_tunnels_bgp_peer(capsys, tmp_path):
    doc = json.loads(ask_fixture(capsys, tmp_path, "why did paris drop at 14:02",
                                 CHAIN_FIXTURES / "maintenance_bgp.csv"))
    assert kinds(doc) == ["maintenance", "failover", "bgp_withdrawn"]
    assert [s["cause"] for s in doc["story"]["steps"]] == ["maintenance_failover", "maintenance_failover",
                                                           "bgp_session_down"]
    assert doc["story"]["text"] == (
        "Platform maintenance started on VPNGW01 at 13:58:10 UTC (HostMaintenanceEvent: 'Upgrade gateway started'); "
        "3 min 53 s later the tunnel failed over from IN_0 to IN_1 at 14:02:03 UTC, back after 13 s; BGP peer "
        "10.1.0.254 went down with it at 14:02:03 UTC, withdrawing the routes learned over the tunnel.")


def test_another_peers_bgp_drop_on_the_same_gateway_is_not_the_tunnels(capsys, tmp_path):
    # lyon has no bgp_peer_ip: the gateway's BGP events may be paris's (10.1.0.254) or its own, so none is its.
    doc = json.loads(ask_fixture(capsys, tmp_path, "why did lyon drop at 14:02",
                                 CHAIN_FIXTURES / "maintenance_bgp.csv"))
    assert kinds(doc) == ["maintenance", "failover"]
    assert "BGP" not in doc["story"]["text"]


def test_a_maintenance_hours_before_the_failover_is_not_its_cause(capsys, tmp_path):
    export = variant(tmp_path, CHAIN_FIXTURES / "maintenance_bgp.csv", drop='"11/21/2026, 1:58:10.412 PM"', add=(
        '"11/21/2026, 11:58:10.412 AM",GatewayDiagnosticLog,HostMaintenanceEvent,VPNGW01,RG-NETWORK-WEU,'
        'GatewayTenantWorker_IN_0,,,,,Upgrade gateway started',))
    doc = json.loads(ask_fixture(capsys, tmp_path, "why did paris drop at 14:02", export))
    assert doc["findings"][0]["cause"] == "gateway_failover"
    assert kinds(doc) == ["failover", "bgp_withdrawn"]
    assert doc["story"]["text"].startswith("The gateway VPNGW01 failed over from IN_0 to IN_1 at 14:02:03 UTC")


def test_demo_maintenance_tells_the_record_and_the_failover_but_no_traffic_gap_its_intervals_cannot_prove(capsys):
    doc = ask_json(capsys, "why did paris drop yesterday at 14:02", *DEMO)
    # The demo's paris names no bgp_peer_ip (no BGP step); its five-minute byte values hold the 12 s outage and bytes
    # from before it, so they prove no stop longer than the logged one: the story does not add one.
    assert kinds(doc) == ["maintenance", "failover"]
    assert doc["story"]["steps"][0]["text"] == "HostMaintenanceEvent on VPNGW01: 'Upgrade gateway started'"
    assert "traffic stopped" not in doc["story"]["text"]
    assert "no stop longer than the 12 s in the logs can be seen" in doc["traffic_note"]


# ------------------------------------------------------------------------------- Azure failover → AWS DPD (a link)


def test_aws_dpd_timeout_after_the_azure_failover_is_told_as_its_consequence(capsys):
    doc = ask_json(capsys, "why did hub-aws drop on 2026-11-20 at 14:02", *DEMO)
    assert kinds(doc) == ["failover", "peer_dpd"]
    assert [(s["side"], s["cause"]) for s in doc["story"]["steps"]] == [("azure", "gateway_failover"),
                                                                         ("aws", "dpd_timeout")]
    assert ("4 s later AWS declared its peer dead on tunnel 203.0.113.170 ('AWS tunnel DPD timed out after 3 "
            "retransmits')") in doc["story"]["text"]


def test_a_dpd_timeout_on_another_outside_ip_or_minutes_later_is_not_linked():
    link = next(k for k in LINKS if (k.cause, k.effect) == ("failover", "peer_dpd"))
    failover = Step("failover", Cause.GATEWAY_FAILOVER, 1000.0, "azure", "VPNGW03", "203.0.113.170")
    other_ip = Step("peer_dpd", Cause.DPD_TIMEOUT, 1004.0, "aws", "vpn-0e5f60718293a4b5c", "203.0.113.171")
    too_late = Step("peer_dpd", Cause.DPD_TIMEOUT, 1000.0 + link.within + 1, "aws", "vpn-0e5f60718293a4b5c",
                    "203.0.113.170")
    before = Step("peer_dpd", Cause.DPD_TIMEOUT, 999.0, "aws", "vpn-0e5f60718293a4b5c", "203.0.113.170")
    assert chains([failover, other_ip]) == chains([failover, too_late]) == chains([before, failover]) == []
    in_time = Step("peer_dpd", Cause.DPD_TIMEOUT, 1004.0, "aws", "vpn-0e5f60718293a4b5c", "203.0.113.170")
    assert [s.kind for s in chains([failover, in_time])[0].steps] == ["failover", "peer_dpd"]


# --------------------------------------------------------------------------------------- the traffic-gap hook


def traffic(start: datetime, values: list[tuple[float, float]]) -> Traffic:
    base = start.timestamp()
    ins = tuple((base + 60 * i, v_in) for i, (v_in, _) in enumerate(values))
    outs = tuple((base + 60 * i, v_out) for i, (_, v_out) in enumerate(values))
    return Traffic("paris", start, start + timedelta(minutes=len(values)), 60,
                   {Metric.BYTES_IN: Series(Metric.BYTES_IN, ins, "TunnelIngressBytes"),
                    Metric.BYTES_OUT: Series(Metric.BYTES_OUT, outs, "TunnelEgressBytes")})


def test_metrics_with_no_bytes_after_the_failover_end_the_story_with_the_traffic_gap():
    inv = ask_at("../chains/maintenance_bgp.csv", "2026-11-21T14:02:00Z",
                 tunnel=replace(PARIS, extra={"bgp_peer_ip": "10.1.0.254"}))
    minute = datetime(2026, 11, 21, 13, 58, tzinfo=UTC)
    flowing = [(52_000.0, 61_000.0)] * 4
    # 13:58–14:01 carry traffic; 14:02 and 14:03 nothing either way (the tunnel was down 14:02:03–14:02:15 and BGP
    # learned its routes again at 14:02:31); from 14:04 on it flows again.
    gap = traffic(minute, [*flowing, (0.0, 0.0), (0.0, 0.0), *flowing])
    told = story(inv, traffic=gap)
    assert told is not None
    assert [s.kind for s in told.steps] == ["maintenance", "failover", "bgp_withdrawn", "traffic_gap"]
    assert told.sentence(ZoneInfo("UTC")).endswith(
        "; traffic stopped by 14:02:00 UTC and came back at 14:04:00 UTC: at least 2 min without any (gateway "
        "metrics).")


def test_traffic_that_never_stopped_or_stopped_long_before_the_drop_is_not_in_the_story():
    inv = ask_at("../chains/maintenance_bgp.csv", "2026-11-21T14:02:00Z",
                 tunnel=replace(PARIS, extra={"bgp_peer_ip": "10.1.0.254"}))
    minute = datetime(2026, 11, 21, 13, 50, tzinfo=UTC)
    flowing, idle = [(52_000.0, 61_000.0)], [(0.0, 0.0)]
    for values in (flowing * 20, flowing * 4 + idle * 10 + flowing * 6):  # the second stopped at 13:54, 8 min early
        told = story(inv, traffic=traffic(minute, values))
        assert told is not None and [s.kind for s in told.steps] == ["maintenance", "failover", "bgp_withdrawn"]


@pytest.mark.parametrize("question", ["why did lyon drop 2 days ago at 09:15",
                                      "why did berlin drop yesterday at 16:20",
                                      "why did dc4 drop today at 07:30"])  # flapping: 3 DPD timeouts
def test_answers_without_linked_findings_carry_no_story(capsys, question):
    doc = ask_json(capsys, question, *DEMO)
    assert doc["findings"] and "story" not in doc
    code, out, _ = run(capsys, "ask", question, *DEMO)
    assert code == 0 and "Story:" not in out and "part of the story" not in out


def test_slack_answer_about_madrid_says_what_happened_before_the_cause(slack_api, demo, tmp_path):
    api = slack_api({"U0ALICE": "Europe/Madrid"})
    with running_bot(api, demo, tmp_path / "state.db", DEMO_NOW) as bot:
        reply, _ = bot.sender.mention("why did madrid drop yesterday at 11:00")  # 10:00 UTC in Madrid's zone
        assert reply.status == 200
        answered(api)
    texts = [b["text"]["text"] for b in final_answer(api).blocks if b["type"] == "section"]
    story_at = next(i for i, t in enumerate(texts) if t.startswith("*What happened:*"))
    cause_at = next(i for i, t in enumerate(texts) if t.startswith("*Cause:*"))
    assert story_at < cause_at
    assert texts[story_at] == (
        "*What happened:* The connection's shared key was changed at 10:59:44 CET (09:59:44 UTC) "
        "(SetConnectionConfiguration on VPNGW04) and the device still uses the old one; since then every negotiation "
        "fails authentication (the tunnel dropped 19 s later, 'Pre-shared Key Changed'); BGP peer 10.71.0.254 went "
        "down with the tunnel at 11:00:04 CET (10:00:04 UTC), withdrawing the routes learned over it.")


def test_every_link_cites_anchors_that_exist_and_every_step_has_its_words():
    sources = (Path(__file__).parent.parent / "docs" / "sources.md").read_text(encoding="utf-8")
    for link in LINKS:
        assert all(f'<a id="{anchor}"></a>' in sources for anchor in link.sources), link
        assert link.cause in OPENS and link.effect in STEP_TEXT and link.cause in STEP_TEXT


def test_the_drop_an_answer_is_about_is_the_explained_one_else_the_one_nearest_the_asked_instant(demo):
    from diagnostics.azure import demo as azure_demo
    from diagnostics.timeline import answered_drop
    from handlers.ask import ask

    story = next(s for s in azure_demo.scenarios(DEMO_NOW) if s.cause == "flapping")
    answer = ask(f"why did {story.tunnel} drop on {story.at:%Y-%m-%d} at {story.at:%H:%M} UTC", demo.registry,
                 demo.sources, DEMO_NOW, ZoneInfo("UTC"))
    inv = answer.investigation
    assert inv is not None and len(inv.drops) >= 3
    first, second = inv.drops[0], inv.drops[1]
    unexplained = replace(inv, findings=[], anchor=datetime.fromtimestamp(second.down_ts + 1, UTC))
    assert answered_drop(unexplained) is second, "nearest the asked instant, not the latest"
    assert answered_drop(replace(unexplained, findings=[replace(inv.findings[0], drop=first)])) is first


def test_a_bgp_drop_tied_to_the_tunnel_by_its_timing_joins_its_story_without_bgp_peer_ip(capsys, tmp_path):
    # Only paris dropped (lyon's rows and the other peer's left out), its peer went down within a second of it:
    # bgp_session_down ties that peer to paris without a configured bgp_peer_ip, and the story tells the same.
    rows = (CHAIN_FIXTURES / "maintenance_bgp.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    alone = tmp_path / "paris_alone.csv"
    alone.write_text("".join(r for r in rows if "203.0.113.20" not in r and "10.2.0.254" not in r), encoding="utf-8")
    config = tmp_path / "no_peer.toml"
    config.write_text(PARIS_BGP_CONFIG.replace('bgp_peer_ip = "10.1.0.254"\n', ""))
    code, out, err = run(capsys, "ask", "why did paris drop at 14:02", "--config", str(config), "--azure-export",
                         str(alone), "--now", "2026-11-21T18:00:00Z", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert "bgp_session_down" in [f["cause"] for f in doc["findings"]]
    assert kinds(doc) == ["maintenance", "failover", "bgp_withdrawn"]
    assert "BGP peer 10.1.0.254 went down with it" in doc["story"]["text"]
