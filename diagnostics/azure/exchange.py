"""The Azure gateway's IKE lines without their times, explained as one exchange.

What Network Watcher's VPN troubleshoot writes (IKElogs.txt, IKEErrors.txt, Scrubbed-wfpdiag.txt:
docs/sources.md#network-watcher-files) and IKE messages someone copied out of Log Analytics without the time column
tell how a negotiation went, not when the tunnel dropped. They are read with the same grammar (`ike`), the same
failure vocabulary (`ike_errors`) and the same policies (`policy`) as the rows of an investigation; a failure is
named with the parameter that differs when the device's proposal is in the lines, as in Microsoft's own sample:
`[RECEIVED]Received IPSec payload: Policy1:Cipher=DESIntegrity=Md5` then `Sending Notify Message - Policy Mismatch`
is the device proposing DES/MD5 for phase 2, which Azure's default policy does not accept.

Pure functions of the lines: `explain_exchange(lines, policy)`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from diagnostics.azure.ike import IkeMessage, Proposal, TrafficSelectors, parse_ike_message
from diagnostics.azure.ike_errors import Failure, error_text, failure_of
from diagnostics.azure.policy import DEFAULT_POLICY, Policy, canonical, compare
from diagnostics.model import Cause, Confidence
from diagnostics.pasted import Line, LineAnalysis, LineFinding, quote

#: The prefix of a Scrubbed-wfpdiag.txt line: `[0]0368.03A4::02/02/2017-17:36:01.496 [ikeext] 3038|52.161.24.36|`.
_WFP_PREFIX = re.compile(r"^\[\d+\][0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}::\S+\s+\[\w+\]\s+\w+\|[^|]*\|")
#: IKEErrors.txt: `Error: <what>` and its `based on log : <the gateway's own line>` continuation.
_BASED_ON = re.compile(r"^\s*based on log\s*:\s*", re.I)
#: The side that failed in a wfpdiag failure record (`Failure point: Remote`).
_FAILURE_POINT = re.compile(r"Failure point:\s*(\w+)", re.I)
#: Exchanges that only the initiator of an IKEv2 negotiation sends, so receiving one makes Azure the responder.
_PEER_INITIATES = ("Received IKE AUTH message", "Traffic Selector payload request")

#: Which failure explains the exchange when several show: a decisive one before the consequences it causes.
_RANK = [Failure.AUTH, Failure.POLICY, Failure.NO_POLICY, Failure.UNSUPPORTED, Failure.TRAFFIC_SELECTORS,
         Failure.INVALID_PAYLOAD, Failure.PEER_DELETE, Failure.PEER_DEAD, Failure.TIMED_OUT]
NO_TIMELINE = ("These lines carry no times, so this is how the negotiation went, with no timeline: for when the "
               "tunnel dropped and came back, export the gateway's AzureDiagnostics rows (Log Analytics → Export → "
               "CSV) and run `vpnbot explain` or `vpnbot ask --azure-export` on that file.")


@dataclass
class _Exchange:
    """What the lines showed, gathered in one pass."""

    failures: dict[Failure, list[Line]] = field(default_factory=dict)
    failure_texts: dict[Failure, str] = field(default_factory=dict)
    peer: dict[int, list[Proposal]] = field(default_factory=dict)  # phase -> the device's proposals
    azure: dict[int, list[Proposal]] = field(default_factory=dict)
    proposal_lines: list[Line] = field(default_factory=list)
    peer_ts: TrafficSelectors | None = None
    azure_ts: TrafficSelectors | None = None
    ts_lines: list[Line] = field(default_factory=list)
    role: str = ""  # Azure's: "responder" | "initiator" | ""
    received: bool = False
    initiations: list[Line] = field(default_factory=list)  # [SEND][SA_INIT] … rCookie 0x0
    remote_failed: bool = False  # wfpdiag: Failure point: Remote
    understood: int = 0


def message_of(text: str) -> str:
    """The IKE message in a line of any of these files: without a wfpdiag prefix or IKEErrors' `based on log :`."""
    text = _WFP_PREFIX.sub("", text.strip(), count=1).strip()
    return _BASED_ON.sub("", text, count=1)


def explain_exchange(lines: Sequence[Line], policy: Policy = DEFAULT_POLICY) -> LineAnalysis:
    """The findings of one exchange's lines, the most telling first; none when nothing in them failed."""
    seen = _read(lines)
    findings = [f for f in (_finding(failure, seen, policy) for failure in _RANK if failure in seen.failures) if f]
    if not findings and seen.initiations and not seen.received:
        findings.append(_unanswered(seen))
    notes = [NO_TIMELINE]
    if not findings:
        notes.insert(0, "No failure in these lines: the negotiation they show did not fail (or failed outside "
                        "them).")
    return LineAnalysis(findings, len(lines), seen.understood, notes)


def _read(lines: Sequence[Line]) -> _Exchange:
    seen = _Exchange()
    for line in lines:
        text = message_of(line.text)
        if not text:
            continue
        msg = parse_ike_message(text)
        if msg.direction or msg.session or msg.remote_ip or msg.error_code is not None or msg.notify or msg.status:
            seen.understood += 1
        if msg.direction == "received":
            seen.received = True
        _read_role(seen, msg, line)
        _read_payloads(seen, msg, line)
        point = _FAILURE_POINT.search(text)
        if point is not None:
            seen.remote_failed = seen.remote_failed or point.group(1).lower() == "remote"
        failure = failure_of(msg)
        if failure is not None:
            seen.failures.setdefault(failure, []).append(line)
            if msg.notify or failure not in seen.failure_texts:  # a notify is the wording people search for
                seen.failure_texts[failure] = _failure_words(msg)
    return seen


def _read_role(seen: _Exchange, msg: IkeMessage, line: Line) -> None:
    """Who started: the first SA_INIT carries rCookie 0x0 (docs/sources.md#azure-ike-log); an IKE_AUTH or a
    traffic-selector request received comes from the initiator."""
    if msg.starts_negotiation and msg.direction == "send":
        seen.initiations.append(line)
        seen.role = seen.role or "initiator"
    elif (msg.starts_negotiation and msg.direction == "received") or (
            (msg.direction == "received" or "Received" in msg.text) and any(p in msg.text for p in _PEER_INITIATES)):
        seen.role = seen.role or "responder"


def _read_payloads(seen: _Exchange, msg: IkeMessage, line: Line) -> None:
    proposals = msg.proposals()
    if proposals:
        mine = msg.direction == "send" or msg.text.startswith("Sending")
        (seen.azure if mine else seen.peer).setdefault(proposals[0].phase, []).extend(proposals)
        seen.proposal_lines.append(line)
    selectors = msg.traffic_selectors()
    if selectors is not None:
        if "Received" in msg.text or msg.direction == "received":
            seen.peer_ts = seen.peer_ts or selectors
        else:
            seen.azure_ts = selectors
        seen.ts_lines.append(line)


def _failure_words(msg: IkeMessage) -> str:
    words = msg.notify or msg.status or msg.error_message or msg.text
    if msg.error_code is not None and str(msg.error_code) not in words:
        words += f" (Windows error {error_text(msg.error_code)})"
    return words


def proposal_words(proposals: Sequence[Proposal]) -> str:
    """`DES/MD5`, `AES256/SHA256/DH group 14`: the proposals in the policy's vocabulary."""
    out = []
    for proposal in proposals:
        cipher, integrity, group = canonical(proposal)
        label = "DH group" if proposal.phase == 1 else "PFS group"
        out.append("/".join(p for p in (cipher, integrity) if p) + (f"/{label} {group}" if group != "none" else ""))
    return ", ".join(dict.fromkeys(out))


def _finding(failure: Failure, seen: _Exchange, policy: Policy) -> LineFinding | None:
    lines = seen.failures[failure]
    words = seen.failure_texts[failure]
    repeats = sum(words in message_of(line.text) for line in lines)
    times = f" ({repeats} times)" if repeats > 1 else ""
    if failure in (Failure.POLICY, Failure.NO_POLICY, Failure.UNSUPPORTED):
        return _proposal_finding(seen, policy, words, lines)
    if failure is Failure.AUTH:
        side = " The device rejected the gateway's authentication (the failure point is Remote)." \
            if seen.remote_failed else ""
        return LineFinding(
            Cause.PSK_MISMATCH, Confidence.HIGH, "Pre-shared key mismatch",
            f"IKE authentication fails: {words!r}{times}.{side} The proposals were agreed, then the authentication "
            "step failed: the two sides do not have the same pre-shared key.",
            "Set the same shared key on the Azure connection and on the on-premises device (watch for trailing spaces "
            "and characters the device escapes); Azure retries every few seconds, so the tunnel comes up once they "
            "match.", quote(lines))
    if failure in (Failure.TRAFFIC_SELECTORS, Failure.INVALID_PAYLOAD) or (
            failure is Failure.TIMED_OUT and seen.ts_lines):
        return _selector_finding(seen, words, lines, failure)
    if failure is Failure.PEER_DELETE:
        return LineFinding(
            Cause.REMOTE_INITIATED, Confidence.MEDIUM, "The device deleted the security association",
            f"The on-premises device tore the SA down: {words!r}{times}.",
            "Look at the device's log for why it deleted the SA (a rekey, a configuration change, a reboot).",
            quote(lines))
    if failure is Failure.PEER_DEAD:
        return LineFinding(
            Cause.DPD_TIMEOUT, Confidence.MEDIUM, "The device stopped answering dead-peer detection",
            f"The gateway gave up on the device: {words!r}{times}.",
            "Check the path between the device and Azure (UDP 500/4500) and whether the device was up; keep DPD at "
            "30–45 s on the device.", quote(lines))
    if failure is Failure.TIMED_OUT:
        return _unanswered(seen, words, lines)
    return None


def _proposal_finding(seen: _Exchange, policy: Policy, words: str, lines: list[Line]) -> LineFinding:
    role = seen.role or "responder"
    for phase in (2, 1):
        offered = seen.peer.get(phase) or []
        mismatch = compare(offered, policy, role) if offered else None
        if mismatch is None:
            continue
        name = policy.name.removeprefix("the ")
        return LineFinding(
            Cause.IKE_PROPOSAL_MISMATCH, Confidence.HIGH,
            f"IKE proposal mismatch (phase {phase}: {mismatch.parameter})",
            f"The device proposes {proposal_words(offered)} for phase {phase}; Azure's {name} does not accept "
            f"{'it' if len(offered) == 1 else 'them'}: the device offers {mismatch.peer}, and the gateway on "
            f"{mismatch.azure}. The {mismatch.parameter} is what differs ({words!r}).",
            _advice(mismatch.advice, offered), quote(seen.proposal_lines + lines))
    offers = proposal_words(seen.azure.get(1, []) + seen.azure.get(2, [])) or "its proposals"
    return LineFinding(
        Cause.IKE_PROPOSAL_MISMATCH, Confidence.MEDIUM if len(lines) == 1 else Confidence.HIGH,
        "IKE proposal mismatch",
        f"No common proposal ({words!r}). The lines do not show the device's own proposal next to the gateway's "
        f"({offers}), so the differing parameter cannot be read from them.",
        "Bring the tunnel up from the device so its proposal is logged, or compare its IKE/IPsec settings with "
        "Azure's: phase 1 AES256/AES128/3DES with SHA1/SHA256 and DH group 2 on the default policy; a PFS mismatch "
        "is the most common cause of NO_PROPOSAL_CHOSEN in phase 2.", quote(seen.proposal_lines + lines))


#: Algorithms too weak to lower the Azure side to: the device is what should change.
WEAK = {"DES", "MD5"}


def _advice(advice: str, offered: Sequence[Proposal]) -> str:
    weak = sorted({part for p in offered for part in canonical(p)[:2] if part in WEAK})
    if not weak:
        return advice
    return (f"Configure the device to offer what the gateway accepts (AES256 or AES128 with SHA256 or SHA1 on the "
            f"default policy, or the connection's custom policy): {' and '.join(weak)} "
            f"{'is' if len(weak) == 1 else 'are'} too weak to set on the Azure side instead.")


def _selector_finding(seen: _Exchange, words: str, lines: list[Line], failure: Failure) -> LineFinding:
    shown = []
    if seen.peer_ts is not None:
        shown.append(f"the device asks for {seen.peer_ts.describe()}")
    if seen.azure_ts is not None:
        shown.append(f"the gateway proposes {seen.azure_ts.describe()}")
    detail = f" ({'; '.join(shown)})" if shown else ""
    why = {Failure.INVALID_PAYLOAD: "the device rejected the gateway's traffic selectors (a device that accepts only "
                                    "narrow selectors answers Azure's wide ones with an invalid payload)",
           Failure.TIMED_OUT: "the negotiation timed out after the traffic-selector exchange"}.get(
        failure, "the traffic selectors were refused")
    return LineFinding(
        Cause.TRAFFIC_SELECTOR_MISMATCH, Confidence.HIGH if failure is Failure.TRAFFIC_SELECTORS else Confidence.MEDIUM,
        "Traffic selector mismatch",
        f"Phase 2 fails on the traffic selectors: {why}: {words!r}{detail}.",
        "Make the encryption domains match: the device's local and remote networks must be the Azure connection's "
        "address spaces, or set UsePolicyBasedTrafficSelectors on the connection for a policy-based device.",
        quote(seen.ts_lines + lines))


def _unanswered(seen: _Exchange, words: str = "", lines: list[Line] | None = None) -> LineFinding:
    said = f" ({words!r})" if words else ""
    return LineFinding(
        Cause.PEER_UNREACHABLE, Confidence.MEDIUM, "The device does not answer",
        f"The gateway starts negotiations and nothing comes back from the device{said}.",
        "Check that the local network gateway has the device's public IP, that UDP 500/4500 reach the device (its "
        "firewall, NAT), and that no NSG or route on the GatewaySubnet blocks them.",
        quote((lines or []) + seen.initiations))
