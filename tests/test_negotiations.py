"""Negotiations rebuilt from IKEDiagnosticLog rows the way the public walkthrough reads them, one "sample" failing
negotiation at a time (docs/sources.md#azure-ike-log; rows from docs/sources.md#azure-ike-errors and
docs/sources.md#azure-traffic-selectors)."""

from __future__ import annotations

from diagnostics.azure.ike import Proposal
from diagnostics.azure.ike_errors import Failure
from diagnostics.azure.negotiation import NegotiationTracker
from diagnostics.azure.policy import DEFAULT_POLICY, compare, policy_from_config

REMOTE = "203.0.113.10"


def env(session: str, port: int = 500) -> str:
    return f"SESSION_ID :{{{session}}} Remote {REMOTE}:{port}: Local 192.0.2.4:{port}: "


def psk_negotiation(session: str) -> list[str]:
    """The pre-shared key mismatch rows of docs/sources.md#azure-ike-errors (typed from the walkthrough's screenshot),
    Azure as initiator, oldest first."""
    e = env(session)
    return [
        e + "[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0xCBF235637168FA00 and rCookie 0x0",
        e + "[SEND]Sending Ike payload for tunnel Id 0x3: Auth:PreShared Key- Policy1:Cipher=AES-CBC-256 "
            "Integrity=SHA1 DhGroup=DhGroup2 Policy2:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup2",
        e + "[RECEIVED] Receiving MM Packet for tunnel Id 0x3 iCookie 0xCBF235637168FA00 and rCookie "
            "0x69284B72D78CBC71: Receiving MM Nonce",
        e + "[RECEIVED]Received Ike payload: Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup2",
        e + "[SEND][SA_AUTH] Sending SA AUTH message for tunnelId 0x3 and tsId 0x37",
        e + "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials are "
            "unacceptable",
        e + "[RECEIVED][NOTIFY] Received Notify Message - Authentication failed",
    ]


def feed(tracker: NegotiationTracker, start: float, rows: list[str], step: float = 0.05) -> None:
    for i, row in enumerate(rows):
        tracker.add(start + i * step, row)


def only(tracker: NegotiationTracker):
    """The single negotiation the rows made (a group of one, kept in full as a sample)."""
    summary = tracker.summary()
    assert summary.negotiations == 1 and len(summary.groups) == 1
    return summary.groups[0].representative


def test_azure_initiated_psk_failure_is_one_negotiation_with_its_proposals():
    tracker = NegotiationTracker()
    feed(tracker, 1000.0, psk_negotiation("3baa1cd0-77ec-40e6-b0d6-7ef40b2372a5"))
    n = only(tracker)
    assert n.initiator == "azure" and n.received
    assert n.failure is Failure.AUTH
    assert n.peer_p1 == (Proposal(1, "AES-CBC-256", "SHA256", "DhGroup2"),)
    assert len(n.azure_p1) == 2


def test_retries_every_few_seconds_are_counted_as_the_same_failure():
    tracker = NegotiationTracker()
    for i in range(40):
        feed(tracker, 1000.0 + i * 6, psk_negotiation(f"3baa1cd0-77ec-40e6-b0d6-7ef40b23{i:04d}"))
    summary = tracker.summary()
    assert summary.negotiations == 40
    [(group, count)] = summary.groups_between(0, 10_000)
    assert count == 40 and group.outcome == "auth"
    assert group.starts_between(0, 10_000) == (1000.0, 1000.0 + 39 * 6)
    assert group.count_between(1000.0 + 20 * 6, 10_000) == 20
    # Rows are kept for a few sample negotiations only: memory stays bounded however long it fails.
    assert 1 <= len(group.samples) <= 4
    assert all(len(n.rows) == 7 for n in group.samples)


def test_retries_fed_in_batches_give_every_sample_its_own_session_and_the_peers_proposals():
    """A day of retries reaches the tracker a batch at a time; every retry sends the same payloads, so they are read
    once, yet each sample negotiation keeps its own session, rows and offers."""
    rows = [(1000.0 + i * 6 + j * 0.05, row)
            for i in range(60) for j, row in enumerate(psk_negotiation(f"3baa1cd0-77ec-40e6-b0d6-7ef40b23{i:04d}"))]
    batched, one_by_one = NegotiationTracker(), NegotiationTracker()
    batched.add_rows(rows[:100])
    batched.add_rows(rows[100:])
    for ts, row in rows:
        one_by_one.add(ts, row)
    [(group, count)] = batched.summary().groups_between(0, 10_000)
    [(same, same_count)] = one_by_one.summary().groups_between(0, 10_000)
    assert count == same_count == 60 and group.signature == same.signature
    assert [n.session for n in group.samples] == [n.session for n in same.samples]
    assert len({n.session for n in group.samples}) == len(group.samples) >= 3
    for n in group.samples:
        assert n.session.startswith("3baa1cd0") and len(n.rows) == 7
        assert n.peer_p1 == (Proposal(1, "AES-CBC-256", "SHA256", "DhGroup2"),) and len(n.azure_p1) == 2
    assert batched.summary().rows == len(rows)


def test_peer_initiated_policy_mismatch_keeps_the_peers_dh_group_14_offer():
    """The policy mismatch rows of docs/sources.md#azure-ike-errors (typed from the walkthrough's screenshot), remote
    VPN as initiator, in the logical order."""
    e = env("26097afb-e960-4f7c-87db-65ab85bdb299")
    tracker = NegotiationTracker()
    feed(tracker, 2000.0, [
        e + "[RECEIVED][SA_INIT] Received SA INIT iCookie 0xA3C9358D2737DA5D rCookie 0x0",
        e + "[RECEIVED]Received Ike payload: Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup14",
        e + "[LOCAL_MSG][SA_INIT] Received SA INIT iCookie 0xA3C9358D2737DA5D and Generated new rCookie "
            "0x70C9D10B840827BC",
        e + "[SEND][NOTIFY] Sending Notify Message - Policy Mismatch",
    ])
    n = only(tracker)
    assert n.initiator == "peer" and n.failure is Failure.POLICY
    mismatch = compare(n.peer_p1, DEFAULT_POLICY, "responder")
    assert mismatch is not None and mismatch.parameter == "DH group"
    assert "DH group 14 only" in mismatch.peer and "DH group 2" in mismatch.azure
    assert "DhGroup DHGroup14" in mismatch.advice


def test_peer_that_never_answers_is_a_negotiation_without_received_rows():
    tracker = NegotiationTracker()
    for i in range(5):
        feed(tracker, 3000.0 + i * 5, [env(f"aaaaaaaa-0000-0000-0000-00000000000{i}") +
                                       "[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie "
                                       "0x532CC7B57A368D12 and rCookie 0x0"])
    summary = tracker.summary()
    assert [(g.outcome, n) for g, n in summary.groups_between(0, 10_000)] == [("no_response", 5)]


def test_rows_without_session_join_the_peers_current_negotiation():
    """Network Watcher's IkeLogs.txt rows have no SESSION_ID, and the cleanup row has no envelope at all
    (docs/sources.md#azure-traffic-selectors)."""
    tracker = NegotiationTracker()
    pre = "Remote 203.0.113.10:500: Local 192.0.2.4:500: "
    feed(tracker, 4000.0, [
        pre + "[RECEIVED][SA_INIT] Received SA INIT iCookie 0xA3C9358D2737DA5D rCookie 0x0",
        pre + "[RECEIVED][SA_AUTH] Received IKE AUTH message",
        pre + "Received Traffic Selector payload request- [Tsid 0x729  ]Number of TSIs 2: StartAddress 10.20.0.0 "
              "EndAddress 10.20.255.255 PortStart 0 PortEnd 65535 Protocol 0, StartAddress 192.168.100.0 "
              "EndAddress 192.168.100.255 PortStart 0 PortEnd 65535 Protocol 0 Number of TSRs 1:StartAddress "
              "0.0.0.0 EndAddress 255.255.255.255 PortStart 0 PortEnd 65535 Protocol 0",
        pre + "[RECEIVED]Received IPSec payload: Policy1:Cipher=DESIntegrity=Md5",
        "IkeCleanupQMNegotiation called with error 13868 and flags a",
        pre + "[SEND][NOTIFY] Sending Notify Message - Policy Mismatch",
    ])
    n = only(tracker)
    assert tracker.orphans == 0
    assert n.failure is Failure.POLICY and n.peer_ts is not None and len(n.peer_ts.initiator) == 2
    assert n.peer_p2 == (Proposal(2, "DES", "Md5"),)
    mismatch = compare(n.peer_p2, DEFAULT_POLICY, "responder")
    assert mismatch is not None and mismatch.phase == 2 and mismatch.parameter == "integrity"
    assert "MD5" in mismatch.peer


def test_custom_policy_from_config_replaces_the_defaults():
    policy = policy_from_config({"ipsec_policy": {"ike_encryption": "AES256", "ike_integrity": "SHA256",
                                                  "dh_group": "DHGroup14", "ipsec_encryption": "GCMAES256",
                                                  "ipsec_integrity": "GCMAES256", "pfs_group": "None"}})
    assert compare([Proposal(1, "AES-CBC-256", "SHA256", "DhGroup14")], policy, "responder") is None
    mismatch = compare([Proposal(1, "AES-CBC-256", "SHA256", "DhGroup2")], policy, "responder")
    assert mismatch is not None and mismatch.parameter == "DH group"
    assert "custom IPsec/IKE policy" in mismatch.azure
