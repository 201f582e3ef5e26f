"""Why a tunnel stays down, read from its IKE negotiations; BGP; logging coverage: each rule pinned on a fixture of
real-format rows in tests/fixtures/rules/."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from support.fixture_logs import LYON, PARIS, ask_at

from diagnostics.model import Cause, Confidence

PARIS_BGP = replace(PARIS, extra={"bgp_peer_ip": "10.1.0.254"})


def test_authentication_failures_after_the_drop_are_a_psk_mismatch_counted_since_the_drop():
    inv = ask_at("psk_mismatch.csv", "2026-11-21T10:00:00Z", now="2026-11-21T12:00:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.PSK_MISMATCH and primary.confidence is Confidence.HIGH
    assert "30 times" in primary.explanation and "the same way each time" in primary.explanation
    assert "Authentication failed" in primary.explanation or "credentials are unacceptable" in primary.explanation
    assert any("[RECEIVED][NOTIFY]" in e.text() for e in primary.evidence)
    # The change just before the drop is still said, after the reason the tunnel stays down.
    assert Cause.CONFIG_CHANGE in [f.cause for f in inv.findings[1:]]


def test_device_offering_dh_group_14_names_the_dh_group_as_the_difference():
    inv = ask_at("ike_proposal_mismatch.csv", "2026-11-20T08:01:00Z", now="2026-11-20T12:00:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.IKE_PROPOSAL_MISMATCH
    assert "DH group" in primary.title
    assert "DH group 14 only" in primary.explanation and "DH group 2" in primary.explanation
    assert "DHGroup14" in primary.advice
    assert "times between" in primary.explanation


def test_custom_policy_in_config_is_what_the_device_is_compared_with():
    from dataclasses import replace

    from support.fixture_logs import PARIS

    custom = replace(PARIS, extra={"ipsec_policy": {"ike_encryption": "AES256", "ike_integrity": "SHA1",
                                                    "dh_group": "DHGroup14"}})
    inv = ask_at("ike_proposal_mismatch.csv", "2026-11-20T08:01:00Z", tunnel=custom, now="2026-11-20T12:00:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.IKE_PROPOSAL_MISMATCH
    assert "integrity" in primary.title and "custom IPsec/IKE policy" in primary.explanation


def test_selectors_that_differ_then_time_out_are_a_traffic_selector_mismatch_showing_both_sides():
    inv = ask_at("traffic_selector_mismatch.csv", "2026-11-19T15:30:00Z", now="2026-11-19T18:00:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.TRAFFIC_SELECTOR_MISMATCH
    assert "10.20.0.0–10.20.255.255" in primary.explanation and "192.168.100.0" in primary.explanation
    assert "10.1.0.0–10.1.255.255" in primary.explanation


def test_sa_init_never_answered_is_peer_unreachable():
    inv = ask_at("peer_unreachable.csv", "2026-11-18T02:00:00Z", now="2026-11-18T06:00:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.PEER_UNREACHABLE and primary.confidence is Confidence.HIGH
    assert "UDP 500" in primary.advice and "GatewaySubnet" in primary.advice
    # The other peer's answers on the same gateway do not count as this device answering.
    assert "received nothing back" in primary.explanation


def test_no_ike_row_at_all_for_the_device_while_down_is_peer_unreachable():
    inv = ask_at("peer_silent.csv", "2026-11-17T13:00:00Z", now="2026-11-17T18:00:00Z")
    primary = inv.findings[0]
    assert primary.cause is Cause.PEER_UNREACHABLE and primary.confidence is Confidence.MEDIUM
    assert "no IKE" in primary.explanation
    assert any("summarize Rows = count() by Category" in q.text for q in inv.queries)


def test_bgp_drop_while_the_tunnel_stays_up_is_bgp_session_down():
    inv = ask_at("bgp_session_down.csv", "2026-11-16T11:01:00Z", now="2026-11-16T18:00:00Z", tunnel=PARIS_BGP)
    primary = inv.findings[0]
    assert primary.cause is Cause.BGP_SESSION_DOWN
    assert "established and then dropped" in primary.explanation
    assert "4,000 prefixes" in primary.advice and "TCP 179" in primary.advice


def test_bgp_drop_with_the_tunnel_drop_is_only_its_effect():
    inv = ask_at("bgp_with_tunnel_drop.csv", "2026-11-16T16:00:00Z", now="2026-11-16T18:00:00Z")
    assert inv.findings[0].cause is Cause.DPD_TIMEOUT
    bgp = next(f for f in inv.findings if f.cause is Cause.BGP_SESSION_DOWN)
    assert bgp.confidence is Confidence.LOW and "effect" in bgp.title


def test_bgp_drop_of_a_peer_nothing_ties_to_the_tunnel_is_not_claimed_as_its_session():
    # paris names no bgp_peer_ip and nothing in its rows ties 10.1.0.254 to it: the gateway's peer may be another's.
    inv = ask_at("bgp_session_down.csv", "2026-11-16T11:01:00Z", now="2026-11-16T18:00:00Z")
    assert inv.findings[0].cause is Cause.NO_DROP_FOUND
    bgp = next(f for f in inv.findings if f.cause is Cause.BGP_SESSION_DOWN)
    assert bgp.confidence is Confidence.LOW and "not known to be this tunnel's" in bgp.title
    assert "BGP peer 10.1.0.254 of VPNGW01" in bgp.explanation and "bgp_peer_ip" in bgp.advice


def test_configured_bgp_peer_matches_its_exact_address_only():
    near_miss = replace(PARIS, extra={"bgp_peer_ip": "10.1.0.25"})  # a prefix of the logged 10.1.0.254
    inv = ask_at("bgp_session_down.csv", "2026-11-16T11:01:00Z", now="2026-11-16T18:00:00Z", tunnel=near_miss)
    assert inv.findings[0].cause is Cause.NO_DROP_FOUND
    assert Cause.BGP_SESSION_DOWN not in [f.cause for f in inv.findings]


def test_bgp_peer_going_down_with_several_tunnels_is_not_counted_for_a_tunnel_it_is_not_tied_to():
    # paris and lyon fail over together; the peer 10.1.0.254 lies inside paris's traffic selectors (10.1.0.0/16).
    lyon = ask_at("bgp_peer_of_another_tunnel.csv", "2026-11-21T14:02:00Z", now="2026-11-21T18:00:00Z", tunnel=LYON)
    assert lyon.findings[0].cause is Cause.MAINTENANCE_FAILOVER
    assert Cause.BGP_SESSION_DOWN not in [f.cause for f in lyon.findings]
    assert not any("10.1.0.254" in f.explanation for f in lyon.findings)


def test_bgp_peer_inside_the_tunnels_own_traffic_selectors_is_its_session():
    paris = ask_at("bgp_peer_of_another_tunnel.csv", "2026-11-21T14:02:00Z", now="2026-11-21T18:00:00Z")
    assert paris.findings[0].cause is Cause.MAINTENANCE_FAILOVER
    bgp = next(f for f in paris.findings if f.cause is Cause.BGP_SESSION_DOWN)
    assert bgp.confidence is Confidence.LOW and "effect" in bgp.title


def test_policy_based_gateway_says_what_cannot_be_concluded():
    inv = ask_at("policy_based_gateway.csv", "2026-11-15T09:00:00Z", now="2026-11-15T12:00:00Z",
                 half_width=timedelta(minutes=15))
    assert any("policy-based gateway" in n for n in inv.notes)
