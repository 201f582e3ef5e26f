"""AWS tunnel log events parse in every key spelling AWS has documented (docs/sources.md#aws-log-fields), and every
documented tunnel message (docs/sources.md#aws-ikev1-errors, docs/sources.md#aws-ikev2-errors,
docs/sources.md#aws-ikev2-negotiation) and every BGP and route status message (docs/sources.md#aws-bgp-status,
docs/sources.md#aws-route-status) maps to its cause."""

from __future__ import annotations

import json

import pytest

from diagnostics.aws.parser.rows import LogRecord, ParseError, parse_record, parse_time, tunnel_state
from diagnostics.aws.streams import parse_stream_name
from diagnostics.model import Cause, EventKind
from diagnostics.rules.aws_messages import BGP_MESSAGES, TUNNEL_MESSAGES, cease_reason, classify, classify_message

STREAM = "vpn-0123456789abcdef0-52.95.10.1"


def record(body: dict, stream: str = STREAM, ts: int = 1763733725000) -> LogRecord:
    return LogRecord(stream, ts, json.dumps(body))


def tunnel_body(details: str, p1: str = "down", p2: str = "down", **more) -> dict:
    return {"event_timestamp": 1763733725, "timestamp": "2025-11-21 14:02:05Z", "details": details,
            "dpd_enabled": True, "nat_t_detected": False, "ike_phase1_state": p1, "ike_phase2_state": p2, **more}


# ---------------------------------------------------------------------------------- every documented tunnel message

TUNNEL_CASES = [
    # IKEv1 error messages
    ("Peer is not responsive - Declaring peer dead", "dpd_ikev1", Cause.DPD_TIMEOUT),
    ("AWS tunnel payload decryption was unsuccessful due to invalid Pre-shared Key", "psk_invalid", Cause.PSK_MISMATCH),
    ("No Proposal Match Found by AWS", "no_proposal_by_aws", Cause.IKE_PROPOSAL_MISMATCH),
    ('No Proposal Match Found. Notifying with "No proposal chosen"', "no_proposal_chosen",
     Cause.IKE_PROPOSAL_MISMATCH),
    ("AWS tunnel received DELETE for Phase 2 SA with SPI: 0xc1a2b3d4", "delete_phase2_sa", Cause.REMOTE_INITIATED),
    ("AWS tunnel received DELETE for IKE_SA from CGW", "delete_ike_sa", Cause.REMOTE_INITIATED),
    # IKEv2 error messages
    ("AWS tunnel DPD timed out after 3 retransmits", "dpd_ikev2", Cause.DPD_TIMEOUT),
    ("AWS tunnel detected a (CHILD_REKEY) collision as CHILD_DELETE", "child_rekey_collision", Cause.REKEY_COLLISION),
    ("AWS tunnel (CHILD_SA) redundant SA is being deleted due to detected collision", "redundant_sa",
     Cause.REKEY_COLLISION),
    ("AWS tunnel Phase 2 was unable to establish while keeping Phase 1", "phase2_unable", Cause.IKE_PROPOSAL_MISMATCH),
    ("AWS: Traffic Selector: TS_UNACCEPTABLE: received from responder", "ts_unacceptable",
     Cause.TRAFFIC_SELECTOR_MISMATCH),
    ("AWS tunnel is sending AUTHENTICATION_FAILED as the response", "auth_failed", Cause.PSK_MISMATCH),
    ("AWS tunnel detected a pre-shared key mismatch with cgw: 198.51.100.7", "psk_mismatch", Cause.PSK_MISMATCH),
    ("AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: 198.51.100.7", "phase1_timeout",
     Cause.PEER_UNREACHABLE),
    # IKEv2 negotiation messages (informational)
    ("AWS tunnel processed request (id=12) for CREATE_CHILD_SA", "create_child_sa", None),
    ("AWS tunnel is sending response (id=12) for CREATE_CHILD_SA", "create_child_sa", None),
    ("AWS tunnel is sending request (id=13) for CREATE_CHILD_SA", "create_child_sa", None),
    ("AWS tunnel processed response (id=13) for CREATE_CHILD_SA", "create_child_sa", None),
]


@pytest.mark.parametrize(("message", "key", "cause"), TUNNEL_CASES, ids=[m[:40] for m, _, _ in TUNNEL_CASES])
def test_every_documented_tunnel_message_maps_to_its_cause(message, key, cause):
    event = parse_record(record(tunnel_body(message)), None)
    rule = classify(event)
    assert rule is not None and rule.key == key
    assert rule.cause is cause
    assert event.message.startswith(message)


def test_rekey_collisions_are_the_only_benign_rules():
    assert {r.key for r in TUNNEL_MESSAGES if r.benign} == {"child_rekey_collision", "redundant_sa"}


def test_every_message_cites_a_source_and_every_cause_message_gives_advice():
    assert TUNNEL_MESSAGES and BGP_MESSAGES
    for rule in (*TUNNEL_MESSAGES, *BGP_MESSAGES):
        assert rule.sources, rule.key
        if rule.cause is not None:
            assert rule.advice and rule.meaning, rule.key


def test_authentication_failed_mentions_certificates_and_ids():
    rule = classify_message("AWS tunnel is sending AUTHENTICATION_FAILED as the response")
    assert rule is not None
    assert "certificate" in rule.meaning and "ID payload" in rule.meaning
    assert "identity" in rule.advice


def test_peer_unreachable_advice_names_udp_500_and_4500():
    rule = classify_message("AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: 198.51.100.7")
    assert rule is not None and "UDP 500" in rule.advice and "UDP 4500" in rule.advice


# ------------------------------------------------------------------------------------------ BGP messages

NEIGHBOR = "169.254.44.42"
BGP_CASES = [
    (f"AWS-side peer BGP session state has changed from Idle to Connect with neighbor {NEIGHBOR}", "DOWN", None),
    (f"AWS-side peer BGP session state has changed from Connect to OpenSent with neighbor {NEIGHBOR}", "DOWN", None),
    (f"AWS-side peer BGP session state has changed from OpenSent to OpenConfirm with neighbor {NEIGHBOR}", "DOWN",
     None),
    (f"AWS-side peer BGP session state has changed from OpenConfirm to Established with neighbor {NEIGHBOR}", "UP",
     None),
    (f"AWS-side peer BGP session state has changed from Established to Idle with neighbor {NEIGHBOR}", "DOWN",
     Cause.BGP_SESSION_DOWN),
    (f"AWS-side peer BGP session state has changed from Connect to Active with neighbor {NEIGHBOR}", "DOWN", None),
    (f"AWS-side peer is reporting a maximum prefix limit warning, received 95 prefixes from neighbor {NEIGHBOR}, "
     "limit is 100", "UP", None),
    (f"AWS-side peer detected the maximum prefix limit was exceeded, received 120 prefixes from neighbor {NEIGHBOR}, "
     "limit is 100", "DOWN", Cause.BGP_SESSION_DOWN),
    *[(f"AWS-side peer sent a notification 6/{n} (Cease/{name}) to neighbor {NEIGHBOR}", "DOWN",
       Cause.BGP_SESSION_DOWN)
      for n, name in [(1, "Maximum Number of Prefixes Reached"), (2, "Administrative Shutdown"),
                      (3, "Peer Unconfigured"), (4, "Administrative Reset"), (5, "Connection Rejected"),
                      (6, "Other Configuration Change"), (7, "Connection Collision Resolution")]],
    (f"AWS-side peer received notification 6/2 (Cease/Administrative Shutdown) from neighbor {NEIGHBOR}", "DOWN",
     Cause.BGP_SESSION_DOWN),
    (f"AWS-side peer sent a Hold Timer Expired notification to neighbor {NEIGHBOR}", "DOWN", Cause.BGP_SESSION_DOWN),
    (f"AWS-side peer detected a bad OPEN message from neighbor {NEIGHBOR}, remote AS is 65011, expected 65010", "DOWN",
     Cause.BGP_SESSION_DOWN),
    (f"AWS-side peer received an OPEN message from neighbor {NEIGHBOR}, version 4, AS 65010, holdtime 30, router-id "
     "10.0.0.1", "DOWN", None),
    (f"AWS-side peer sent an OPEN message to neighbor {NEIGHBOR}, version 4, AS 64512, holdtime 30, router-id "
     "169.254.44.41", "DOWN", None),
    (f"AWS-side peer is initiating a connection (via Connect) to neighbor {NEIGHBOR}", "DOWN", None),
    (f"AWS-side peer sent an End-of-RIB message to neighbor {NEIGHBOR}", "UP", None),
    (f"AWS-side peer received update with attributes from neighbor {NEIGHBOR}, AS path: 65010 65020", "UP", None),
]


@pytest.mark.parametrize(("details", "status", "cause"), BGP_CASES, ids=[d[15:60] for d, _, _ in BGP_CASES])
def test_every_bgp_status_message_is_known_and_maps_to_its_cause(details, status, cause):
    body = {"resource_id": "vpn-0123456789abcdef0_52.95.10.1", "event_timestamp": 1762580429641,
            "timestamp": "2025-11-08 05:40:29.641Z", "type": "BGPStatus", "status": status,
            "message": {"details": details}}
    event = parse_record(record(body, stream="vpn-0123456789abcdef0-52.95.10.1-BGP"), None)
    assert event.operation == "BGPStatus" and event.status == status
    assert event.gateway == "vpn-0123456789abcdef0" and event.instance == "52.95.10.1"
    assert event.ts == pytest.approx(1762580429.641)
    rule = classify(event)
    assert rule is not None, details
    assert rule.cause is cause


@pytest.mark.parametrize("n", "1234567")
def test_cease_subcodes_are_named_with_who_sent_them(n):
    sent = cease_reason(f"AWS-side peer sent a notification 6/{n} (Cease/X) to neighbor {NEIGHBOR}")
    received = cease_reason(f"AWS-side peer received notification 6/{n} (Cease/X) from neighbor {NEIGHBOR}")
    assert sent is not None and received is not None
    assert sent[0] == n and sent[2].startswith("AWS sent") and received[2].startswith("the customer gateway sent")


@pytest.mark.parametrize(("details", "key"), [
    ("DENIED due to: as-path contains our own AS", "route_denied_own_as"),
    ("DENIED due to: non-connected next-hop", "route_denied_next_hop"),
])
def test_route_status_errors_are_parsed_with_their_prefix(details, key):
    body = {"resource_id": "vpn-1234abcd_1.2.3.4", "event_timestamp": 1762579573243,
            "timestamp": "2025-11-08 05:26:13.243Z", "type": "RouteStatus", "status": "UPDATED",
            "message": {"prefix": "172.31.0.0/16", "asPath": "64512", "localPref": 100, "med": 100,
                        "nextHopIp": "169.254.50.85", "weight": 32768, "details": details}}
    event = parse_record(LogRecord("", 0, json.dumps(body)), None)  # no stream: the resource_id names the tunnel
    assert event.kind is EventKind.ROUTE
    assert (event.gateway, event.instance) == ("vpn-1234abcd", "1.2.3.4")
    assert event.message == f"172.31.0.0/16 {details}"
    assert event.get("nextHopIp") == "169.254.50.85"
    assert classify(event).key == key


# ------------------------------------------------------------------------------------------ key and value variants


def test_legacy_labels_parse_like_the_real_keys():
    legacy = {"VpnLogCreationTimestamp": "2025-11-21 14:02:05", "VpnConnectionId": "vpn-0123456789abcdef0",
              "TunnelOutsideIPAddress": "52.95.10.1", "TunnelDPDEnabled": "True",
              "TunnelCGWNATTDetectionStatus": "False", "TunnelIKEPhase1State": "Down", "TunnelIKEPhase2State": "Down",
              "VpnLogDetail": "AWS tunnel DPD timed out after 3 retransmits"}
    modern = parse_record(record(tunnel_body("AWS tunnel DPD timed out after 3 retransmits")), None)
    old = parse_record(LogRecord("legacy-stream", 0, json.dumps(legacy)), None)
    assert (old.ts, old.message, old.gateway, old.instance) == (modern.ts, modern.message, modern.gateway,
                                                                  modern.instance)
    assert old.get("dpd_enabled") == "true" and old.get("nat_t_detected") == "false"
    assert tunnel_state(old) == "down"


@pytest.mark.parametrize("value", ["down", "Down", "DOWN", " down "])
def test_state_values_in_any_case(value):
    assert tunnel_state(parse_record(record(tunnel_body("", value, "established")), None)) == "down"


@pytest.mark.parametrize(("p1", "p2", "state"), [
    ("established", "established", "up"), ("Established", "Rekeying", "up"), ("established", "down", "down"),
    ("negotiating", "down", "down"), ("negotiating", "negotiating", ""),
])
def test_tunnel_state_from_both_phases(p1, p2, state):
    assert tunnel_state(parse_record(record(tunnel_body("x", p1, p2)), None)) == state


@pytest.mark.parametrize("value", [1763733725, 1763733725000, "1763733725", "2025-11-21 14:02:05Z",
                                   "2025-11-21T14:02:05Z", "2025-11-21 14:02:05.000Z", "2025-11-21 14:02:05"])
def test_event_timestamp_in_seconds_milliseconds_or_words(value):
    assert parse_time(value) == 1763733725


def test_readable_timestamp_is_used_when_event_timestamp_is_missing_and_cloudwatch_time_last():
    body = tunnel_body("x")
    del body["event_timestamp"]
    assert parse_record(record(body), None).ts == 1763733725
    del body["timestamp"]
    assert parse_record(record(body, ts=1763733799123), None).ts == 1763733799.123


def test_vpn_id_and_outside_ip_come_from_the_stream_name_not_the_body():
    body = tunnel_body("x", VpnConnectionId="vpn-123")  # DOC-OLD field in the body: the stream is authoritative
    event = parse_record(record(body, stream="vpn-0123456789abcdef0-52.95.10.2-IKE"), None)
    assert (event.gateway, event.instance) == ("vpn-0123456789abcdef0", "52.95.10.2")


@pytest.mark.parametrize(("name", "expected"), [
    ("vpn-0123456789abcdef0-52.95.10.1", ("vpn-0123456789abcdef0", "52.95.10.1", "")),
    ("vpn-0123456789abcdef0-52.95.10.1-IKE", ("vpn-0123456789abcdef0", "52.95.10.1", "IKE")),
    ("vpn-0123456789abcdef0_52.95.10.1", ("vpn-0123456789abcdef0", "52.95.10.1", "")),
    ("vpn-1234abcd-1.2.3.4-BGP", ("vpn-1234abcd", "1.2.3.4", "BGP")),
    ("VPN-0123456789ABCDEF0-52.95.10.1", ("vpn-0123456789abcdef0", "52.95.10.1", "")),
    ("vpn-0123456789abcdef0-2600:1f18:abcd::1", ("vpn-0123456789abcdef0", "2600:1f18:abcd::1", "")),
])
def test_stream_names_are_parsed_whatever_their_suffix(name, expected):
    parsed = parse_stream_name(name)
    assert parsed is not None and (parsed.vpn_connection, parsed.outside_ip, parsed.suffix) == expected


@pytest.mark.parametrize("name", ["", "tunnel-logs", "vpn-xyz-1.2.3.4", "vgw-0123456789abcdef0-1.2.3.4"])
def test_other_stream_names_are_not_tunnels(name):
    assert parse_stream_name(name) is None


@pytest.mark.parametrize(("message", "reason"), [
    ("2026-11-21T14:00:00Z vpn-0123 AWS tunnel processed request", "text output format"),
    ('"just a string"', "not a JSON object"),
    ('{"foo": 1}', "not a tunnel activity record"),
])
def test_records_that_are_not_tunnel_logs_are_refused_with_a_reason(message, reason):
    with pytest.raises(ParseError, match=reason):
        parse_record(LogRecord(STREAM, 1, message), None)
