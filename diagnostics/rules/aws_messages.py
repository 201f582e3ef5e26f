"""aws_messages: what each AWS Site-to-Site VPN log message means, as data: message pattern -> cause, with sources.

Detects: the messages AWS writes into a tunnel's log when something goes wrong (DPD timeouts, deletes from the
customer gateway, authentication, proposal and selector errors, BGP notifications), each row one rule `aws.<key>`.
Why it matters: AWS says in words why a tunnel went down; an answer that quotes those words, with AWS's own advice,
needs no guessing.

Every `details` message of AWS's tunnel log documentation (IKEv1 and IKEv2 error tables, IKEv2 negotiation
messages: docs/sources.md#aws-ikev1-errors, #aws-ikev2-errors, #aws-ikev2-negotiation) and every BGP status and
route status message (#aws-bgp-status, #aws-route-status) has one row. Patterns match by substring or regex, never
equality: the docs print placeholders (`xxxx`, `{retry_count}`) where the real text has values. The advice is
AWS's own, paraphrased from the documentation's explanations and the resolutions AWS attaches to the same
substrings in its monitoring sample (#aws-monitoring-sample).

Each row with a cause is a rule of the registry (`aws.<key>`): its priority says which cause explains a drop best
when several messages were logged (what keeps a tunnel down outranks what started the drop). A row with
`cause=None` is informational: shown as context, it explains nothing. Rows are checked in order and the first match
wins, so specific patterns come before general ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from diagnostics.aws.parser.rows import UP_STATES, is_bgp, phases
from diagnostics.model import Cause, Event
from diagnostics.rules.registry import Kind, Rule

#: A cause that keeps a tunnel down outranks the one that started the drop: each row's priority is its cause's
#: base plus its place among that cause's rows (lower is more specific).
CAUSE_PRIORITY = {
    Cause.PSK_MISMATCH: 10, Cause.IKE_PROPOSAL_MISMATCH: 20, Cause.TRAFFIC_SELECTOR_MISMATCH: 30,
    Cause.REMOTE_INITIATED: 40, Cause.DPD_TIMEOUT: 50, Cause.PEER_UNREACHABLE: 60, Cause.BGP_SESSION_DOWN: 70,
    Cause.BGP_ROUTE_REJECTED: 75, Cause.REKEY_COLLISION: 90,
}
#: A finding no row made (flapping, unknown) ranks after every row's cause but a benign one.
UNRANKED = 80
#: Causes that start on the side that logs them (an Azure↔AWS link's other end sees their consequence).
ORIGIN = {Cause.PSK_MISMATCH, Cause.IKE_PROPOSAL_MISMATCH, Cause.TRAFFIC_SELECTOR_MISMATCH}


@dataclass(frozen=True)
class MessageRule:
    key: str  # short stable id: the rule `aws.<key>`, used in tests and in docs/rules.md
    pattern: re.Pattern[str]
    cause: Cause | None  # None: informational
    meaning: str  # what the message says happened (paraphrased from the source)
    advice: str  # what AWS advises (paraphrased)
    sources: tuple[str, ...]  # anchors of docs/sources.md where the message and its meaning come from
    phase: str = ""  # "1", "2", or "" when the message is not about one phase
    benign: bool = False  # expected behaviour: never the primary cause of a real drop
    title: str = ""  # the finding's title (default: the meaning)

    @property
    def id(self) -> str:
        return f"aws.{self.key}"


def _p(text: str) -> re.Pattern[str]:
    return re.compile(text, re.I)


_DPD_ADVICE = ("AWS declares the peer dead after 3 missed DPD messages. Check the customer gateway device at that "
               "time (CPU, power, internet loss, a configuration change) and its IPsec logs; make sure it answers "
               "DPD (or sends traffic), and set the tunnel's DPD timeout action to 'restart' if you want AWS to "
               "re-initiate IKE.")
_PSK_ADVICE = ("Configure the same pre-shared key on both peers: compare the customer gateway's key with the one "
               "in the VPN connection's downloaded configuration, or set a new key on the tunnel (Modify VPN Tunnel "
               "Options) and on the device.")
_P1_ADVICE = ("Phase 1 parameters differ or are not supported by the AWS endpoint (e.g. 3DES): compare the device's "
              "IKE encryption, integrity and DH group with the tunnel options, or change them with Modify VPN "
              "Tunnel Options.")
_P2_ADVICE = ("Phase 2 (IPsec) parameters differ: make the device's IPsec encryption, integrity, DH group (PFS) and "
              "lifetime match the tunnel options on both peers.")

#: Tunnel activity `details` messages: the documentation's tables for the message and its meaning, AWS's monitoring
#: sample for the resolution it attaches to the same words.
TUNNEL_MESSAGES: tuple[MessageRule, ...] = (
    MessageRule(
        "dpd_ikev1", _p(r"Peer is not responsive"), Cause.DPD_TIMEOUT,
        "the customer gateway stopped answering dead-peer detection and AWS declared it dead (IKEv1)",
        _DPD_ADVICE, ("aws-ikev1-errors", "aws-monitoring-sample"),
        title="Dead-peer detection timeout (the customer gateway stopped answering)"),
    MessageRule(
        "dpd_ikev2", _p(r"DPD timed out"), Cause.DPD_TIMEOUT,
        "the customer gateway did not answer dead-peer detection and AWS applied the DPD timeout action (IKEv2)",
        _DPD_ADVICE, ("aws-ikev2-errors", "aws-monitoring-sample"),
        title="Dead-peer detection timeout (the customer gateway stopped answering)"),
    MessageRule(
        "psk_invalid", _p(r"decryption was unsuccessful due to invalid Pre-?shared Key"), Cause.PSK_MISMATCH,
        "AWS could not decrypt the peer's payload with the pre-shared key: the keys differ (IKEv1)",
        _PSK_ADVICE, ("aws-ikev1-errors", "aws-monitoring-sample"),
        title="Pre-shared key mismatch"),
    MessageRule(
        "psk_mismatch", _p(r"pre-?shared key mismatch"), Cause.PSK_MISMATCH,
        "AWS detected that the customer gateway uses a different pre-shared key (IKEv2)",
        _PSK_ADVICE, ("aws-ikev2-errors", "aws-monitoring-sample"),
        title="Pre-shared key mismatch"),
    MessageRule(
        "auth_failed", _p(r"AUTHENTICATION_FAILED"), Cause.PSK_MISMATCH,
        "AWS could not verify the peer's IKE_AUTH message: a wrong pre-shared key, a wrong or untrusted "
        "certificate, or an IKE identity (ID payload) that does not match the customer gateway's IP (IKEv2)",
        "Check, in this order, the pre-shared key, the certificates (if the tunnel uses certificate "
        "authentication) and the device's IKE identity: it must be the customer gateway's public IP as "
        "configured in AWS.", ("aws-ikev2-errors", "aws-monitoring-sample"),
        title="IKE authentication failed (pre-shared key, certificate or IKE identity)"),
    MessageRule(
        "no_proposal_chosen", _p(r"No proposal chosen"), Cause.IKE_PROPOSAL_MISMATCH,
        "the peers exchanged NO_PROPOSAL_CHOSEN: no common phase 2 (IPsec) proposal",
        _P2_ADVICE, ("aws-ikev1-errors", "aws-ikev2-errors", "aws-monitoring-sample"), phase="2"),
    MessageRule(
        "no_proposal_by_aws", _p(r"No Proposal Match Found by AWS"), Cause.IKE_PROPOSAL_MISMATCH,
        "the customer gateway proposed attributes (encryption, hashing, DH group) the AWS endpoint does not "
        "accept", _P1_ADVICE, ("aws-ikev1-errors", "aws-ikev2-errors", "aws-monitoring-sample")),
    MessageRule(
        "phase2_unable", _p(r"Phase 2 was unable to establish while keeping Phase 1"), Cause.IKE_PROPOSAL_MISMATCH,
        "phase 1 stayed up but the CHILD_SA (phase 2) could not be negotiated, e.g. an incorrect proposal",
        _P2_ADVICE, ("aws-ikev2-errors", "aws-monitoring-sample"), phase="2"),
    MessageRule(
        "ts_unacceptable", _p(r"TS_UNACCEPTABLE"), Cause.TRAFFIC_SELECTOR_MISMATCH,
        "the peers proposed different traffic selectors (encryption domains)",
        "Configure identical CIDRs on both peers: the VPN connection's Local and Remote IPv4 Network CIDR must "
        "match the device's selectors; a policy-based device must use a single security association "
        "(0.0.0.0/0 or one summarised pair) rather than one SA per subnet pair.",
        ("aws-ikev2-errors", "aws-monitoring-sample"),
        title="Traffic selectors (encryption domains) differ"),
    MessageRule(
        "delete_ike_sa", _p(r"received DELETE for IKE_SA"), Cause.REMOTE_INITIATED,
        "the customer gateway sent a Delete_SA for the IKE SA (phase 1)",
        "The device cleared its SAs, its IKE SA timed out (an idle timeout on the device), or its configuration "
        "changed: check the device's logs and its idle/inactivity timeout at that time.",
        ("aws-ikev1-errors", "aws-ikev2-errors", "aws-monitoring-sample"), phase="1",
        title="The customer gateway deleted the IKE SA (phase 1)"),
    MessageRule(
        "delete_phase2_sa", _p(r"received DELETE for Phase 2 SA"), Cause.REMOTE_INITIATED,
        "the customer gateway sent a Delete_SA for a phase 2 SA (CHILD_SA)",
        "The device deleted the IPsec SA, often after a configuration change or a rekey it handled differently: "
        "check the device's logs and make its phase 2 lifetime and rekey settings match the tunnel options.",
        ("aws-ikev1-errors", "aws-ikev2-errors", "aws-monitoring-sample"), phase="2",
        title="The customer gateway deleted the IPsec SA (phase 2)"),
    MessageRule(
        "phase1_timeout", _p(r"deleting un-?established Phase 1 IKE_SA"), Cause.PEER_UNREACHABLE,
        "AWS started an IKE negotiation and the customer gateway never continued it; the half-open IKE SA was "
        "deleted",
        "The customer gateway is not answering: check that it is up and reachable, and that UDP 500 and UDP 4500 "
        "from the AWS tunnel outside IP reach it through every firewall and NAT on the way.",
        ("aws-ikev2-errors", "aws-monitoring-sample"), phase="1",
        title="The customer gateway does not answer IKE (UDP 500/4500)"),
    MessageRule(
        "child_rekey_collision", _p(r"\(?CHILD_REKEY\)? collision"), Cause.REKEY_COLLISION,
        "both peers rekeyed the CHILD_SA at once and the customer gateway deleted the SA being rekeyed",
        "Usually harmless. If it comes with drops, clear stale SAs on the device and check that a configuration "
        "change was not made during the rekey.", ("aws-ikev2-errors", "aws-monitoring-sample"), phase="2", benign=True,
        title="Rekey collision (benign)"),
    MessageRule(
        "redundant_sa", _p(r"redundant SA is being deleted"), Cause.REKEY_COLLISION,
        "a rekey collision produced a redundant SA, which the peers closed after comparing nonces (RFC 7296 "
        "§2.8.1)",
        "Nothing to do: this is expected behaviour and the tunnel does not go down.",
        ("aws-ikev2-errors", "aws-monitoring-sample", "rfc7296-rekey-collision"), phase="2", benign=True,
        title="Rekey collision (benign)"),
    MessageRule(
        "create_child_sa", _p(r"(processed|is sending) (request|response) \(id=[^)]*\) for CREATE_CHILD_SA"), None,
        "a CREATE_CHILD_SA exchange (a phase 2 rekey or a new CHILD_SA)", "",
        ("aws-ikev2-negotiation",), phase="2"),
)

#: BGP Cease subcodes (RFC 4486, docs/sources.md#rfc4486-bgp-cease), as the BGP log words them.
CEASE_REASONS: dict[str, tuple[str, str]] = {
    "1": ("Maximum Number of Prefixes Reached",
          "the peer advertised more prefixes than the limit: summarise the routes the device advertises (AWS "
          "accepts at most 100 per BGP session)"),
    "2": ("Administrative Shutdown", "someone shut the BGP session down on the device or the session was disabled"),
    "3": ("Peer Unconfigured", "the BGP neighbor was removed from the device's configuration"),
    "4": ("Administrative Reset", "someone reset the BGP session (e.g. `clear ip bgp`)"),
    "5": ("Connection Rejected", "the peer rejected the BGP connection: check the neighbor address and ASN"),
    "6": ("Other Configuration Change", "a BGP configuration change on the peer reset the session"),
    "7": ("Connection Collision Resolution", "both sides opened a connection at once and one was closed (benign)"),
}
_BGP_ADVICE = ("Check the device's BGP configuration and logs at that time: the neighbor address (the tunnel's "
               "inside IP), the ASN, the hold time (AWS uses 30 s), and that TCP 179 is allowed inside the tunnel.")

#: BGP log `message.details` texts (BGPStatus and RouteStatus rows, in the documentation's words).
BGP_MESSAGES: tuple[MessageRule, ...] = (
    MessageRule(
        "bgp_cease", _p(r"notification 6/(?P<sub>\d)"), Cause.BGP_SESSION_DOWN,
        "a BGP Cease notification ended the session", _BGP_ADVICE, ("aws-bgp-status",)),
    MessageRule(
        "bgp_hold_timer", _p(r"Hold Timer Expired"), Cause.BGP_SESSION_DOWN,
        "no BGP keepalive arrived within the hold time, so the session was closed",
        "Keepalives were lost: check the tunnel underneath at that time, the device's CPU and BGP process, and "
        "that its keepalive/hold timers are compatible (AWS: hold time 30 s).",
        ("aws-bgp-status",)),
    MessageRule(
        "bgp_prefix_exceeded", _p(r"maximum prefix limit was exceeded"), Cause.BGP_SESSION_DOWN,
        "the peer advertised more prefixes than allowed", CEASE_REASONS["1"][1].capitalize() + ".",
        ("aws-bgp-status",)),
    MessageRule(
        "bgp_bad_open", _p(r"bad OPEN message"), Cause.BGP_SESSION_DOWN,
        "the peer's OPEN message was rejected (typically its ASN is not the one configured in AWS)",
        "Make the device's local ASN equal the customer gateway's BGP ASN in AWS, and its neighbor ASN equal the "
        "virtual private or transit gateway's ASN.", ("aws-bgp-status",)),
    MessageRule(
        "bgp_established_to_idle", _p(r"changed from Established to Idle"), Cause.BGP_SESSION_DOWN,
        "the BGP session dropped (Established to Idle) and its routes were withdrawn", _BGP_ADVICE,
        ("aws-bgp-status",)),
    MessageRule(
        "bgp_stuck_active", _p(r"changed from Connect to Active"), None,
        "AWS could not open the TCP session to the BGP neighbor (Connect to Active)",
        "If the session stays in Active, check that TCP 179 reaches the device inside the tunnel and that its "
        "neighbor address is AWS's inside IP.", ("aws-bgp-status",)),
    MessageRule(
        "bgp_prefix_warning", _p(r"maximum prefix limit warning"), None,
        "the number of prefixes received is close to the limit",
        "Summarise the routes the device advertises before the limit ends the session.",
        ("aws-bgp-status",)),
    MessageRule(
        "bgp_established", _p(r"changed from OpenConfirm to Established"), None,
        "the BGP session came up", "", ("aws-bgp-status",)),
    MessageRule(
        "bgp_fsm", _p(r"(state has changed from|OPEN message (to|from)|initiating a connection|End-of-RIB|"
                      r"received update with attributes)"), None,
        "a step of the BGP session set-up", "", ("aws-bgp-status",)),
    MessageRule(
        "route_denied_own_as", _p(r"DENIED due to:? as-path contains our own AS"), Cause.BGP_ROUTE_REJECTED,
        "AWS denied a route the customer gateway advertised because its AS path contains the AWS side's own ASN (to "
        "AWS a route that already went through AWS is a loop)",
        "Do not advertise routes the device learned from AWS back to AWS (limit what it advertises to its own "
        "networks), and give the customer gateway a BGP ASN different from the Amazon-side ASN (64512 unless another "
        "was chosen when the gateway was created); where a path must cross AWS twice, remove the AWS ASN from it on "
        "the device (remove-private-as for private ASNs).",
        ("aws-route-status", "aws-bgp-route-limits"), title="AWS denied a route: its AS path contains AWS's own AS"),
    MessageRule(
        "route_denied_next_hop", _p(r"DENIED due to:? non-connected next-hop"), Cause.BGP_ROUTE_REJECTED,
        "AWS denied a route the customer gateway advertised because its next hop is not an address AWS is connected "
        "to (the device's tunnel inside IP)",
        "Advertise the prefix with the device's own tunnel inside address as next hop (next-hop-self), not the "
        "address of another router.",
        ("aws-route-status",), title="AWS denied a route: its next hop is not the tunnel's"),
    MessageRule(
        "route_denied", _p(r"\bDENIED\b"), Cause.BGP_ROUTE_REJECTED,
        "AWS denied a route the customer gateway advertised",
        "Check the prefix against what AWS accepts from the device: at most 100 routes per VPN connection (a quota "
        "that cannot be increased: summarise), an AS path without the AWS side's ASN, and the device's tunnel inside "
        "address as next hop.", ("aws-route-status", "aws-bgp-route-limits"), title="AWS denied a route"),
)


def classify_message(text: str, bgp: bool = False) -> MessageRule | None:
    """The first rule of the table whose pattern occurs in `text`, None when no row knows it."""
    for rule in BGP_MESSAGES if bgp else TUNNEL_MESSAGES:
        if rule.pattern.search(text):
            return rule
    return None


def classify(event: Event) -> MessageRule | None:
    return classify_message(event.message, bgp=is_bgp(event))


def proposal_phase(rule: MessageRule, event: Event) -> str:
    """Which phase a proposal mismatch is about. "No Proposal Match Found by AWS" covers phase 1 (IKEv1) or
    phase 1 or 2 (IKEv2, docs/sources.md#aws-ikev2-errors): when phase 1 was up at that moment, the failing proposal
    was phase 2's."""
    if rule.phase:
        return rule.phase
    phase1, _ = phases(event)
    return "2" if phase1 in UP_STATES else "1"


def cease_reason(text: str) -> tuple[str, str, str] | None:
    """(subcode, name, meaning) of a `notification 6/N` message, with who sent it."""
    match = re.search(r"(sent|received) (?:a )?notification 6/(\d)", text, re.I)
    if not match or match[2] not in CEASE_REASONS:
        return None
    name, meaning = CEASE_REASONS[match[2]]
    who = "AWS sent" if match[1].lower() == "sent" else "the customer gateway sent"
    return match[2], name, f"{who} Cease 6/{match[2]} ({name}): {meaning}"


def _rules(rows: tuple[MessageRule, ...]) -> tuple[Rule, ...]:
    seen: dict[Cause, int] = {}
    out = []
    for row in rows:
        if row.cause is None:
            continue
        place = seen[row.cause] = seen.get(row.cause, -1) + 1
        out.append(Rule(id=row.id, cause=row.cause, kind=Kind.MESSAGE, priority=CAUSE_PRIORITY[row.cause] + place,
                        provider="aws", detects=f"AWS logs: {row.meaning}", sources=row.sources,
                        origin=row.cause in ORIGIN))
    return tuple(out)


#: The table's rows as rules of the registry.
RULES = _rules(TUNNEL_MESSAGES + BGP_MESSAGES)
_PRIORITY = {rule.id: rule.priority for rule in RULES}


def priority_of(rule_id: str) -> int:
    """The priority of the row that made a finding (`Finding.rule`), for ranking an AWS drop's findings."""
    return _PRIORITY.get(rule_id, UNRANKED)
