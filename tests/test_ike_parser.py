"""Every public IKEDiagnosticLog row quoted in docs/sources.md (#azure-ike-log, #azure-ike-errors,
#azure-traffic-selectors) parses (one test a row shape)."""

from __future__ import annotations

import pytest

from diagnostics.azure.ike import Proposal, parse_ike_message, parse_proposals
from diagnostics.azure.ike_errors import Failure, failure_of

ENVELOPE = "SESSION_ID :{3baa1cd0-77ec-40e6-b0d6-7ef40b2372a5} Remote 168.62.186.148:500: Local 104.208.38.235:500: "

# Pre-shared key mismatch, Azure as initiator, as typed from the walkthrough's screenshot
# (docs/sources.md#azure-ike-errors), inside the envelope of docs/sources.md#azure-ike-log
PSK_ROWS = [
    "[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0xCBF235637168FA00 and rCookie 0x0",
    "[SEND]Sending Ike payload for tunnel Id 0x3: Auth:PreShared Key- Policy1:Cipher=AES-CBC-256 Integrity=SHA1 "
    "DhGroup=DhGroup2 Policy2:Cipher=AES-CBC…",
    "[RECEIVED] Receiving MM Packet for tunnel Id 0x3 iCookie 0xCBF235637168FA00 and rCookie 0x69284B72D78CBC71: "
    "Receiving MM Nonce",
    "[RECEIVED]Received Ike payload: Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup2",
    "[SEND][SA_AUTH] Sending SA AUTH message for tunnelId 0x3 and tsId 0x37",
    "[RECEIVED][SA_INIT] Received IKE SA Init response message with iCookie 0xCBF235637168FA00 rCookie "
    "0x69284B72D78CBC71",
    "Proposed(send) Traffic Selector payload will be- [Tsid 0x37 ]Number of TSIs 1: StartAddress 0.0.0.0 "
    "EndAddress 255.255.255.255 PortStart 0 PortEnd 65535 Prot…",
    "[SEND]Sending IPSec policy Payload for tunnel Id 0x3, tsId 0x37: Policy1:Integrity=AES-GCM-256 "
    "Cipher=AES-GCM-256 Policy2:Integrity=SHA1 Cipher=AES-C…",
    "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials are unacceptable",
    "[RECEIVED][NOTIFY] Received Notify Message - Authentication failed",
]


def test_envelope_gives_session_endpoints_and_tags():
    msg = parse_ike_message(ENVELOPE + PSK_ROWS[0])
    assert msg.session == "3baa1cd0-77ec-40e6-b0d6-7ef40b2372a5"
    assert (msg.remote_ip, msg.remote_port, msg.local_ip, msg.local_port) == ("168.62.186.148", "500",
                                                                             "104.208.38.235", "500")
    assert msg.direction == "send" and "SA_INIT" in msg.tags
    assert msg.starts_negotiation and msg.icookie == "0xCBF235637168FA00"
    assert msg.tunnel_id == "0x3"


@pytest.mark.parametrize("row", PSK_ROWS)
def test_every_psk_walkthrough_row_parses(row):
    msg = parse_ike_message(ENVELOPE + row)
    assert msg.session and msg.remote_ip == "168.62.186.148"
    assert msg.text and not msg.text.startswith("[")


def test_psk_mismatch_rows_mean_authentication_failure():
    closed, notify = (parse_ike_message(ENVELOPE + r) for r in PSK_ROWS[-2:])
    assert closed.direction == "local" and closed.status == "IKE authentication credentials are unacceptable"
    assert notify.direction == "received" and notify.notify == "Authentication failed"
    assert failure_of(closed) is Failure.AUTH and failure_of(notify) is Failure.AUTH


def test_received_response_is_not_the_start_of_a_negotiation():
    response = parse_ike_message(ENVELOPE + PSK_ROWS[5])
    assert response.is_sa_init and not response.starts_negotiation
    assert response.rcookie == "0x69284B72D78CBC71"


def test_phase_one_proposals_are_read_and_a_truncated_one_is_dropped():
    assert parse_ike_message(ENVELOPE + PSK_ROWS[1]).proposals() == [
        Proposal(1, "AES-CBC-256", "SHA1", "DhGroup2"),
    ]
    assert parse_ike_message(ENVELOPE + PSK_ROWS[3]).proposals() == [Proposal(1, "AES-CBC-256", "SHA256", "DhGroup2")]


def test_phase_two_proposals_print_integrity_first():
    assert parse_ike_message(ENVELOPE + PSK_ROWS[7]).proposals() == [Proposal(2, "AES-GCM-256", "AES-GCM-256")]


def test_no_space_phase_two_proposal_is_split():
    # Verbatim in Network Watcher's sample (docs/sources.md#azure-traffic-selectors): `Cipher=DESIntegrity=Md5`
    # really has no space.
    row = ("Remote <IPaddress>:500: Local <IPaddress>:500: [RECEIVED]Received IPSec payload: "
           "Policy1:Cipher=DESIntegrity=Md5")
    msg = parse_ike_message(row)
    assert msg.session == "" and msg.direction == "received"
    assert msg.proposals() == [Proposal(2, "DES", "Md5")]


def test_all_six_azure_default_phase_one_policies_parse():
    row = ("[SEND]Sending Ike payload for tunnel Id 0x3: Auth:PreShared Key- "
           "Policy1:Cipher=AES-CBC-256 Integrity=SHA1 DhGroup=DhGroup2 Policy2:Cipher=AES-CBC-256 Integrity=SHA256 "
           "DhGroup=DhGroup2 Policy3:Cipher=AES-CBC-128 Integrity=SHA1 DhGroup=DhGroup2 Policy4:Cipher=AES-CBC-128 "
           "Integrity=SHA256 DhGroup=DhGroup2 Policy5:Cipher=3DES Integrity=SHA1 DhGroup=DhGroup2 "
           "Policy6:Cipher=3DES Integrity=SHA256 DhGroup=DhGroup2")
    proposals = parse_proposals(row)
    assert [p.describe() for p in proposals] == [
        "AES-CBC-256/SHA1/DhGroup2", "AES-CBC-256/SHA256/DhGroup2", "AES-CBC-128/SHA1/DhGroup2",
        "AES-CBC-128/SHA256/DhGroup2", "3DES/SHA1/DhGroup2", "3DES/SHA256/DhGroup2"]


# Policy (DH group) mismatch, both roles, as typed from the walkthrough's screenshot (docs/sources.md#azure-ike-errors)
@pytest.mark.parametrize("row,direction,signal", [
    ("[LOCAL_MSG][SA_INIT] Received SA INIT iCookie 0xA3C9358D2737DA5D and Generated new rCookie 0x70C9D10B840827BC",
     "local", None),
    ("[SEND][NOTIFY] Sending Notify Message - Policy Mismatch", "send", Failure.POLICY),
    ("[RECEIVED]Received Ike payload: Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup14", "received",
     None),
    ("[RECEIVED][SA_INIT] Received SA INIT iCookie 0xA3C9358D2737DA5D rCookie 0x0", "received", None),
    ("[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status Policy match error", "local", Failure.POLICY),
    ("[RECEIVED][NOTIFY] Received Notify Message - Policy Mismatch", "received", Failure.POLICY),
])
def test_policy_mismatch_rows(row, direction, signal):
    msg = parse_ike_message("SESSION_ID :{26097AFB-E960-4F7C-87DB-65AB85BDB299} Remote 203.0.113.10:4500: "
                            "Local 192.0.2.4:4500: " + row)
    assert msg.session == "26097afb-e960-4f7c-87db-65ab85bdb299", "GUIDs in any case"
    assert msg.remote_port == "4500"
    assert msg.direction == direction
    assert failure_of(msg) is signal


def test_peer_started_negotiation_is_recognised():
    msg = parse_ike_message("[RECEIVED][SA_INIT] Received SA INIT iCookie 0xA3C9358D2737DA5D rCookie 0x0")
    assert msg.direction == "received" and msg.starts_negotiation


def test_peer_dh_group_14_offer_is_read():
    msg = parse_ike_message("[RECEIVED]Received Ike payload: Policy1:Cipher=AES-CBC-256 Integrity=SHA256 "
                            "DhGroup=DhGroup14")
    assert msg.proposals() == [Proposal(1, "AES-CBC-256", "SHA256", "DhGroup14")]


# Network Watcher's IkeLogs.txt rows, verbatim (docs/sources.md#azure-traffic-selectors)
TS_REQUEST = ("Remote <IPaddress>:500: Local <IPaddress>:500: Received Traffic Selector payload request- "
              "[Tsid 0x729  ]Number of TSIs 2: StartAddress 10.20.0.0 EndAddress 10.20.255.255 PortStart 0 "
              "PortEnd 65535 Protocol 0, StartAddress 192.168.100.0 EndAddress 192.168.100.255 PortStart 0 "
              "PortEnd 65535 Protocol 0 Number of TSRs 1:StartAddress 0.0.0.0 EndAddress 255.255.255.255 "
              "PortStart 0 PortEnd 65535 Protocol 0")


def test_traffic_selector_request_gives_both_sides_ranges():
    ts = parse_ike_message(TS_REQUEST).traffic_selectors()
    assert ts is not None
    assert [(r.start, r.end) for r in ts.initiator] == [("10.20.0.0", "10.20.255.255"),
                                                         ("192.168.100.0", "192.168.100.255")]
    assert [(r.start, r.end) for r in ts.responder] == [("0.0.0.0", "255.255.255.255")]


def test_final_negotiated_selector_row_parses():
    row = TS_REQUEST.replace("Received Traffic Selector payload request-",
                             "[SEND] Proposed Traffic Selector payload will be (Final Negotiated) -")
    msg = parse_ike_message(row)
    assert msg.direction == "send" and len(msg.traffic_selectors().initiator) == 2


@pytest.mark.parametrize("row,code,failure", [
    ("IkeCleanupQMNegotiation called with error 13868 and flags a", 13868, Failure.POLICY),
    ("Remote <IPaddress>:500: Local <IPaddress>:500: [RECEIVED][SA_AUTH] Received IKE AUTH message", None, None),
    # the newer structured wording, verbatim fragments (docs/sources.md#azure-ike-errors)
    ("[IkeEvent] SA_NEGOTIATION_FAILED [ErrorCode] 0x35ED [ErrorMessage] Negotiation timed out", 13805,
     Failure.TIMED_OUT),
    ("[ErrorCode] 0x35E9 [ErrorMessage] IKE authentication credentials are unacceptable", 13801, Failure.AUTH),
    ("[ErrorCode] 13801 [ErrorMessage] IKE authentication credentials are unacceptable", 13801, Failure.AUTH),
    ("[ErrorCode] 0x3602 [ErrorMessage] Failed to verify signature", 13826, Failure.AUTH),
    ("[ErrorCode] 0x362C [ErrorMessage] Policy match error", 13868, Failure.POLICY),
    ("IkeCleanupMMNegotiation called with error 13868", 13868, Failure.POLICY),
    ("Failure error code:0x000035e9", 13801, Failure.AUTH),
    ("IkeFindPayloadInPacket failed with Windows error 13843(ERROR_IPSEC_IKE_INVALID_PAYLOAD)", 13843,
     Failure.INVALID_PAYLOAD),
    ("Peer failed with Windows error 13801(ERROR_IPSEC_IKE_AUTH_FAIL)", 13801, Failure.AUTH),
    ("Peer sent NO_PROPOSAL_CHOSEN notify", None, Failure.POLICY),
    ("Main mode SA assumed to be invalid because peer stopped responding 0x363E", 13886, Failure.PEER_DEAD),
    ("Processing error 0x80073613 on payload", 13843, Failure.INVALID_PAYLOAD),
    ("Negotiation failed with error 13999", 13999, Failure.TRAFFIC_SELECTORS),
    ("Negotiation failed with error 13825", 13825, Failure.NO_POLICY),
])
def test_error_numbers_in_decimal_and_hex_and_their_meaning(row, code, failure):
    msg = parse_ike_message(row)
    assert msg.error_code == code
    assert failure_of(msg) is failure


def test_structured_style_keeps_event_and_message():
    msg = parse_ike_message(ENVELOPE + "[IkeEvent] SA_NEGOTIATION_FAILED [ErrorCode] 0x35ED "
                                       "[ErrorMessage] Negotiation timed out")
    assert msg.ike_event == "SA_NEGOTIATION_FAILED" and msg.error_message == "Negotiation timed out"


def test_tags_with_inconsistent_spacing():
    msg = parse_ike_message("[ SEND ] [ SA_INIT ]Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0x1 and "
                            "rCookie 0x0")
    assert msg.direction == "send" and msg.starts_negotiation
