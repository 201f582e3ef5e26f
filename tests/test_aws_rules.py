"""Each AWS cause, from an `aws logs filter-log-events` fixture of real-format events (tests/fixtures/aws/), through
the same investigation `vpnbot ask` runs: the right primary cause, its evidence, and what the answer must say."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.fixture_logs import FIXTURES, utc

from diagnostics.aws.exports import read_aws_export
from diagnostics.aws.sources import MemoryLogSource
from diagnostics.investigate import investigate
from diagnostics.model import Cause, Confidence, EventKind, Investigation
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

AWS_FIXTURES = FIXTURES / "aws"
DC1 = Tunnel(name="dc1", aliases=("aws-dc1",), aws_vpn_connection="vpn-0123456789abcdef0",
             aws_outside_ips=("52.95.10.1", "52.95.10.2"))
AT = "2026-11-21T14:02:00Z"


def source(*names: str) -> MemoryLogSource:
    records = []
    for name in names:
        read = read_aws_export(AWS_FIXTURES / name)
        assert not read.problems, read.problems
        records += read.records
    return MemoryLogSource(records, label="fixture", origin=", ".join(names), log_group="/aws/vendedlogs/vpn")


def ask(fixture: str, at: str = AT, tunnel: Tunnel = DC1, half: timedelta = timedelta(minutes=15)) -> Investigation:
    anchor = utc(at)
    return investigate(tunnel, anchor - half, anchor + half, Sources(aws=[source(fixture)]),
                       now=anchor + timedelta(days=1), anchor=anchor)


CASES = [
    ("dpd_timeout.json", Cause.DPD_TIMEOUT, "AWS tunnel DPD timed out after 3 retransmits"),
    ("legacy_labels_dpd.json", Cause.DPD_TIMEOUT, "Peer is not responsive - Declaring peer dead"),
    ("psk_mismatch.json", Cause.PSK_MISMATCH, "pre-shared key mismatch with cgw"),
    ("psk_invalid_ikev1.json", Cause.PSK_MISMATCH, "invalid Pre-shared Key"),
    ("auth_failed.json", Cause.PSK_MISMATCH, "AUTHENTICATION_FAILED"),
    ("proposal_phase1.json", Cause.IKE_PROPOSAL_MISMATCH, "No Proposal Match Found by AWS"),
    ("proposal_phase2.json", Cause.IKE_PROPOSAL_MISMATCH, "No proposal chosen"),
    ("ts_unacceptable.json", Cause.TRAFFIC_SELECTOR_MISMATCH, "TS_UNACCEPTABLE"),
    ("remote_delete.json", Cause.REMOTE_INITIATED, "received DELETE for Phase 2 SA"),
    ("peer_unreachable.json", Cause.PEER_UNREACHABLE, "deleting un-established Phase 1 IKE_SA"),
    ("bgp_hold_timer.json", Cause.BGP_SESSION_DOWN, "Hold Timer Expired"),
    ("bgp_cease.json", Cause.BGP_SESSION_DOWN, "notification 6/4 (Cease/Administrative Reset)"),
]


@pytest.mark.parametrize(("fixture", "cause", "quote"), CASES, ids=[c[0] for c in CASES])
def test_drop_is_explained_with_its_cause_and_the_message_as_evidence(fixture, cause, quote):
    result = ask(fixture)
    primary = result.findings[0]
    assert primary.cause is cause, primary.explanation
    assert primary.confidence is Confidence.HIGH
    assert any(quote in e.message for e in primary.evidence)
    assert primary.advice
    assert all(e.provider == "aws" and e.source.startswith(f"{fixture}/vpn-0123456789abcdef0-52.95.10.")
               for e in primary.evidence)


def test_proposal_mismatch_says_which_phase():
    phase1, phase2 = ask("proposal_phase1.json").findings[0], ask("proposal_phase2.json").findings[0]
    assert "phase 1" in phase1.title and "phase 1 mismatch" in phase1.explanation
    assert "phase 2" in phase2.title and "phase 2 mismatch" in phase2.explanation


def test_key_mismatch_outranks_the_delete_that_started_the_drop_and_names_it():
    result = ask("psk_mismatch.json")
    assert [f.cause for f in result.findings[:2]] == [Cause.PSK_MISMATCH, Cause.REMOTE_INITIATED]
    began = "began with the customer gateway deleted the IKE SA (phase 1) at 14:02:00 UTC"
    assert began in result.findings[0].explanation
    assert "30 times" in result.findings[0].explanation


def test_dpd_timeout_outranks_the_failed_renegotiations_that_followed():
    result = ask("dpd_timeout.json")
    assert [f.cause for f in result.findings[:2]] == [Cause.DPD_TIMEOUT, Cause.PEER_UNREACHABLE]


def test_one_tunnel_down_the_other_up_is_no_outage_but_lost_redundancy():
    result = ask("dpd_timeout.json")
    text = result.findings[0].explanation
    assert "Tunnel 52.95.10.2 (2 of 2) stayed up: no outage of dc1" in text
    assert "ran without redundancy for 6 min 42 s" in text
    assert [d.down_instance for d in result.drops] == ["52.95.10.1"]


def test_both_tunnels_down_is_a_full_outage_with_its_length():
    result = ask("peer_unreachable.json")
    assert len(result.drops) == 2
    assert "was down too" in result.findings[0].explanation
    assert "a full outage of 20 min" in result.findings[0].explanation


def test_rekey_collision_without_a_drop_is_benign_and_never_primary():
    result = ask("rekey_collision.json")
    assert result.findings[0].cause is Cause.NO_DROP_FOUND
    assert result.findings[1].cause is Cause.REKEY_COLLISION
    assert "stayed up" in result.findings[1].explanation and not result.drops


def test_bgp_drop_with_ipsec_up_is_its_own_drop_with_the_reason():
    result = ask("bgp_hold_timer.json")
    primary = result.findings[0]
    assert primary.drop is not None and primary.drop.down.kind is EventKind.BGP_DOWN
    assert "while IPsec stayed up" in primary.explanation and "hold time" in primary.explanation
    assert "after 2 min 11 s" in primary.explanation
    cease = ask("bgp_cease.json").findings[0]
    assert "Cease Administrative Reset" in cease.title
    assert "the customer gateway sent Cease 6/4" in cease.explanation


def test_flapping_leads_with_count_and_rhythm_and_each_drops_cause():
    result = ask("flapping.json", at="2026-11-21T14:16:00Z", half=timedelta(minutes=20))
    flap = result.findings[0]
    assert flap.cause is Cause.FLAPPING
    assert "went down 5 times" in flap.explanation and "5 × dpd_timeout" in flap.explanation
    assert "irregular" in flap.explanation
    assert result.findings[1].cause is Cause.DPD_TIMEOUT


def test_a_tunnel_down_since_before_the_window_is_the_answer_not_no_drop():
    result = ask("psk_mismatch.json", at="2026-11-21T14:08:00Z", half=timedelta(minutes=2))
    assert result.findings[0].cause is Cause.PSK_MISMATCH
    assert any("already down when the window began" in n for n in result.notes)


def test_quiet_window_names_the_nearest_drop():
    result = ask("dpd_timeout.json", at="2026-11-21T13:00:00Z", half=timedelta(minutes=5))
    assert result.findings[0].cause is Cause.NO_DROP_FOUND
    assert "Nearest drop after: tunnel 52.95.10.1 (1 of 2) at 14:02 UTC" in result.findings[0].explanation


def test_unexplained_drop_is_unknown_with_the_rows_around_it():
    source_ = source("remote_delete.json")
    stripped = [r._replace(message=r.message.replace("AWS tunnel received DELETE for Phase 2 SA with SPI: 0xc1a2b3d4",
                                                     "")) for r in source_.records]
    anchor = utc(AT)
    result = investigate(DC1, anchor - timedelta(minutes=15), anchor + timedelta(minutes=15),
                         Sources(aws=[MemoryLogSource(stripped, label="x", origin="x")]),
                         now=anchor + timedelta(days=1), anchor=anchor)
    assert result.findings[0].cause is Cause.UNKNOWN and result.findings[0].evidence


def test_queries_state_the_exact_cloudwatch_parameters():
    result = ask("dpd_timeout.json")
    text = result.queries[0].text
    assert "aws logs filter-log-events --log-group-name /aws/vendedlogs/vpn" in text
    assert "--log-stream-names vpn-0123456789abcdef0-52.95.10.1-IKE vpn-0123456789abcdef0-52.95.10.2-IKE" in text
    start_ms = int((utc(AT) - timedelta(minutes=15, hours=2)).timestamp() * 1000)
    assert f"--start-time {start_ms}" in text and "filter pattern: none" in text
