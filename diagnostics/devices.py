"""The on-premises device's own log (strongSwan, Libreswan, Cisco ASA, FortiGate), explained as its side of the
negotiation.

A device log is not an Azure or AWS export: it tells what the device saw of the negotiation with the cloud gateway,
in its vendor's words (docs/sources.md#device-logs). The failure vocabulary is close across vendors because it is
IKE's own (RFC 7296 notify names: NO_PROPOSAL_CHOSEN, AUTHENTICATION_FAILED, TS_UNACCEPTABLE), plus each vendor's
phrases for the same things (strongSwan "no acceptable proposal found", ASA "Mismatched attribute types for class
…", FortiGate "peer SA proposal not match local policy"). Where the log lists both sides' proposals (strongSwan's
"received proposals:" and "configured proposals:", ASA's "Rcv'd: … Cfg'd: …") the parameter that differs is named.

Pure functions of the lines: `explain_device_lines(lines, vendor)`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from diagnostics.model import Cause, Confidence
from diagnostics.pasted import Line, LineAnalysis, LineFinding, quote

#: (cause, what a line says when the negotiation failed that way), the most decisive cause first.
SIGNALS: list[tuple[Cause, re.Pattern[str]]] = [
    (Cause.PSK_MISMATCH, re.compile(
        r"AUTHENTICATION_FAILED|AUTH_FAILED|MAC mismatched|pre-?shared (?:key|secret) mismatch|"
        r"authentication of .+ failed|something is wrong with our message|probable pre-shared|"
        r"mismatch of pre-?shared secrets|Failed to authenticate the IKE SA|failed its sanity check or is malformed",
        re.I)),
    (Cause.IKE_PROPOSAL_MISMATCH, re.compile(
        r"NO_PROPOSAL_CHOSEN|N\(NO_PROP\)|no acceptable proposal|no (?:IKE |suitable )?proposal (?:found|chosen)|"
        r"Mismatched attribute types|proposals? (?:were |found )?unacceptable|SA proposal not match|"
        r"no SA proposal chosen|matching (?:IKE |IPsec )?policy|INVALID_KE_PAYLOAD|no matching proposal|"
        r"atts are not acceptable|no offers accepted", re.I)),
    (Cause.TRAFFIC_SELECTOR_MISMATCH, re.compile(
        r"TS_UNACCEPTABLE|traffic selectors? .*unacceptable|no matching CHILD_SA config|compatible Traffic Selectors|"
        r"no matching crypto map entry|no matching phase ?2|INVALID_ID_INFORMATION", re.I)),
    (Cause.REMOTE_INITIATED, re.compile(
        r"received DELETE for IKE_SA|received Delete SA payload|Reason: Peer Terminate", re.I)),
    (Cause.DPD_TIMEOUT, re.compile(
        r"\bDPD\b.{0,40}(?:fail|timed out|timeout|expired|dead)|peer (?:is )?(?:not responsive|dead)|"
        r"Reason: Lost Service|dpd_failure", re.I)),
    (Cause.PEER_UNREACHABLE, re.compile(
        r"giving up after \d+ retransmits|max(?:imum)? number of retransmissions|retransmission; will wait|"
        r"retransmit \d+ of request|negotiation timeout|no response from (?:the )?peer", re.I)),
]
#: Words before a failure token that say the peer (the cloud gateway) sent it: the peer refused the device.
_FROM_PEER = re.compile(r"\b(?:received|receiving|ignoring|rcv'?d|peer sent|un-encrypted|parsed)\b", re.I)
#: Words that say the device refused what the peer sent.
_BY_DEVICE = re.compile(r"\b(?:no acceptable|sending|generating|responding|not match local policy|Mismatched attribute"
                        r"|no (?:suitable )?proposal found|no matching|atts are not acceptable|no offers accepted"
                        r"|failed its sanity check)\b", re.I)
_SUCCESS = re.compile(r"(?:IKE_SA|CHILD_SA) .*established|PHASE [12] COMPLETED|established (?:IKE|Child) SA|"
                      r"status=\"?success", re.I)

# --- proposals as the devices log them ------------------------------------------------------------------------
_STRONGSWAN_PROPOSALS = re.compile(r"\b(received|configured) proposals:\s*(.+)$", re.I)
_ASA_MISMATCH = re.compile(r"Mismatched attribute types for class\s+(.+?):\s*Rcv'd:\s*(.+?)\s+Cfg'd:\s*(.+?)\s*$", re.I)
_FORTINET_PHASE = re.compile(r"IPsec phase ([12]) error", re.I)
#: strongSwan / Libreswan DH group names -> the group number (the DH mapping of docs/sources.md#azure-ipsec-defaults).
GROUP_NUMBERS = {"MODP_768": "1", "MODP_1024": "2", "MODP_1536": "5", "MODP_2048": "14", "MODP_3072": "15",
                 "MODP_4096": "16", "ECP_256": "19", "ECP_384": "20", "ECP_521": "21", "MODP_2048_256": "24",
                 "CURVE25519": "31"}
_PARTS = {"dh": "PFS/DH group", "encryption": "encryption", "integrity": "integrity",
          "prf": "pseudo-random function"}
_ASA_CLASSES = {"group description": "DH group", "encryption algorithm": "encryption", "hash algorithm": "integrity",
                "life time": "lifetime", "life type": "lifetime type", "authentication method": "authentication"}


@dataclass
class _Seen:
    failures: dict[Cause, list[Line]] = field(default_factory=dict)
    by_device: dict[Cause, bool] = field(default_factory=dict)  # the device refused (else the peer did)
    tokens: dict[Cause, str] = field(default_factory=dict)  # the words of the first line that said so
    received: list[str] = field(default_factory=list)  # the peer's proposals, as the device logged them
    configured: list[str] = field(default_factory=list)
    proposal_lines: list[Line] = field(default_factory=list)
    asa: tuple[str, str, str] | None = None  # (class, received, configured)
    phase: str = ""
    established: list[Line] = field(default_factory=list)


def explain_device_lines(lines: Sequence[Line], vendor: str) -> LineAnalysis:
    """The findings of a device's log lines, the most decisive cause first."""
    seen = _Seen()
    understood = 0
    for line in lines:
        text = line.text
        known = _read_proposals(seen, line)
        for cause, pattern in SIGNALS:
            found = pattern.search(text)
            if found:
                seen.failures.setdefault(cause, []).append(line)
                seen.tokens.setdefault(cause, found.group(0).lower())
                before, around = text[:found.start()], text[found.start():found.end() + 30]
                device = bool(_BY_DEVICE.search(around) or _BY_DEVICE.search(before)) and not \
                    _FROM_PEER.search(before[-40:])
                seen.by_device.setdefault(cause, device)
                known = True
                break
        if _SUCCESS.search(text):
            seen.established.append(line)
            known = True
        understood += known
    findings = [_finding(cause, seen, vendor) for cause, _ in SIGNALS if cause in seen.failures]
    if len(findings) > 1:  # a peer that refused something did answer: its retransmissions are not the story
        findings = [f for f in findings if f.cause is not Cause.PEER_UNREACHABLE]
    notes = [f"This is the {vendor} device's side of the negotiation; the cloud gateway's own logs (`vpnbot ask`, "
             "or an export given to `vpnbot explain`) tell when the tunnel dropped."]
    if not findings:
        notes.insert(0, f"No failure in these {vendor} lines" + (": the negotiation they show succeeded."
                                                                if seen.established else "."))
    return LineAnalysis(findings, len(lines), understood, notes)


def _read_proposals(seen: _Seen, line: Line) -> bool:
    proposals = _STRONGSWAN_PROPOSALS.search(line.text)
    if proposals:
        listed = [p.strip() for p in proposals.group(2).split(",") if p.strip()]
        (seen.received if proposals.group(1).lower() == "received" else seen.configured)[:] = listed
        seen.proposal_lines.append(line)
        return True
    mismatch = _ASA_MISMATCH.search(line.text)
    if mismatch:
        seen.asa = (mismatch.group(1).strip(), mismatch.group(2).strip(), mismatch.group(3).strip())
    phase = _FORTINET_PHASE.search(line.text)
    if phase:
        seen.phase = phase.group(1)
    return False


def components(proposal: str) -> dict[str, set[str]]:
    """`ESP:AES_CBC_256/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ` -> {"encryption": {…}, "integrity": {…}, "dh": {…}}
    (an ESP proposal without a DH group proposes no PFS: "none")."""
    protocol, _, algorithms = proposal.partition(":")
    parts: dict[str, set[str]] = {"encryption": set(), "integrity": set(), "dh": set(), "prf": set()}
    for token in filter(None, (t.strip() for t in algorithms.split("/"))):
        if token.startswith(("MODP_", "ECP_", "CURVE", "ECP")):
            parts["dh"].add(token)
        elif token.startswith(("HMAC_", "AES_XCBC", "AES_CMAC")):
            parts["integrity"].add(token)
        elif token.startswith("PRF_"):
            parts["prf"].add(token)
        elif "EXT_SEQ" not in token:
            parts["encryption"].add(token)
    for key in ("integrity", "dh", "prf"):
        if not parts[key]:
            parts[key].add("none")  # AEAD ciphers carry no integrity; ESP without a group has no PFS
    if protocol.strip().upper() == "IKE":
        parts["prf"].discard("none")
    return parts


def differing(received: Sequence[str], configured: Sequence[str]) -> list[tuple[str, set[str], set[str]]]:
    """(part, what the peer offers, what the device is configured for) for each part of the proposals that has
    no value in common between the two sides."""
    theirs: dict[str, set[str]] = {}
    ours: dict[str, set[str]] = {}
    for listed, into in ((received, theirs), (configured, ours)):
        for proposal in listed:
            for key, values in components(proposal).items():
                into.setdefault(key, set()).update(values)
    return [(key, theirs[key], ours[key]) for key in _PARTS if theirs.get(key) and ours.get(key)
            and not theirs[key] & ours[key]]


def _group_words(values: set[str]) -> str:
    return " or ".join(f"{v} (group {GROUP_NUMBERS[v]})" if v in GROUP_NUMBERS else v for v in sorted(values))


def _finding(cause: Cause, seen: _Seen, vendor: str) -> LineFinding:
    lines = seen.failures[cause]
    repeats = sum(seen.tokens[cause] in line.text.lower() for line in lines)
    times = f" ({repeats} times in these lines)" if repeats > 1 else ""
    first = lines[0].text.strip()
    refused = "the device refused what the peer (the cloud gateway) proposed" if seen.by_device.get(cause) else \
        "the peer (the cloud gateway) refused what the device proposed"
    if cause is Cause.IKE_PROPOSAL_MISMATCH:
        return _proposal_finding(seen, vendor, refused, times, lines)
    texts = {
        Cause.PSK_MISMATCH: ("Pre-shared key mismatch", f"IKE authentication fails on the {vendor} device{times}: "
                             f"{refused} at the authentication step. The two sides do not have the same "
                             "pre-shared key.",
                             "Set the same shared key on the device and on the cloud side (the Azure connection or "
                             "the AWS tunnel's options); watch for trailing spaces and characters the device escapes."),
        Cause.TRAFFIC_SELECTOR_MISMATCH: ("Traffic selector mismatch", f"Phase 2 fails on the traffic selectors "
                                          f"(encryption domains){times}: {refused}.",
                                          "Make the device's local and remote networks the mirror of the cloud "
                                          "side's (the Azure connection's address spaces, or the AWS tunnel's "
                                          "local/remote IPv4 network CIDRs)."),
        Cause.REMOTE_INITIATED: ("The peer deleted the tunnel", f"The cloud gateway deleted the SA{times}.",
                                 "Look at the cloud side's logs for why (a rekey, a maintenance failover, a "
                                 "configuration change)."),
        Cause.DPD_TIMEOUT: ("Dead-peer detection gave up", f"The {vendor} device stopped hearing from the cloud "
                            f"gateway and gave up on dead-peer detection{times}.",
                            "Check the path between the device and the cloud gateway (UDP 500/4500) and keep DPD at "
                            "30–45 s; a failover on the cloud side also looks like this from the device."),
        Cause.PEER_UNREACHABLE: ("The peer does not answer", f"The {vendor} device keeps sending and gets no "
                                 f"answer{times}.",
                                 "Check that UDP 500/4500 reach the cloud gateway's public IP from the device (its "
                                 "firewall, NAT, the right peer address)."),
    }
    title, explanation, advice = texts[cause]
    confidence = Confidence.HIGH if (cause is Cause.PSK_MISMATCH and "AUTHENTICATION_FAILED" in first.upper()) or \
        cause is Cause.TRAFFIC_SELECTOR_MISMATCH else Confidence.MEDIUM
    return LineFinding(cause, confidence, title, f"{explanation} First line: {first!r}.", advice, quote(lines))


def _proposal_finding(seen: _Seen, vendor: str, refused: str, times: str, lines: list[Line]) -> LineFinding:
    phase = f" in phase {seen.phase}" if seen.phase else ""
    parts = [f"No common proposal{phase}{times}: {refused}."]
    parameter = ""
    advice = ("Make one proposal match on both sides: compare the device's encryption, integrity and DH/PFS group "
              "with the cloud gateway's (Azure's default policy: phase 1 AES256/AES128/3DES with SHA1/SHA256 and DH "
              "group 2; a custom policy, or the AWS tunnel's options, names the others).")
    if seen.received or seen.configured:
        parts.append(f"The peer offers {', '.join(seen.received) or 'nothing logged'}; the device is configured for "
                     f"{', '.join(seen.configured) or 'nothing logged'}.")
        for key, theirs, ours in differing(seen.received, seen.configured):
            words = (_group_words if key == "dh" else lambda v: " or ".join(sorted(v)))
            parts.append(f"What differs: the {_PARTS[key]}: the peer offers {words(theirs)}, the device requires "
                         f"{words(ours)}.")
            parameter = parameter or _PARTS[key]
            if key == "dh":
                instead = "disable PFS on the device (the peer proposes none)" if theirs == {"none"} else \
                    f"change the device's proposal to a group the peer offers ({_group_words(theirs)})"
                advice = ("Use the same PFS/DH group on both sides: either configure the cloud side for the device's "
                          "(Azure: a custom IPsec policy's PfsGroup, e.g. PFS2048 for group 14; AWS: the tunnel's "
                          f"phase 2 DH group numbers) or {instead}.")
    elif seen.asa is not None:
        klass, theirs_asa, ours_asa = seen.asa
        parameter = _ASA_CLASSES.get(klass.lower(), klass)
        parts.append(f"The device received {theirs_asa} and is configured for {ours_asa} (class {klass}): the "
                     f"{parameter} differs.")
    title = f"IKE proposal mismatch{f' ({parameter})' if parameter else ''}"
    return LineFinding(Cause.IKE_PROPOSAL_MISMATCH, Confidence.HIGH if parameter else Confidence.MEDIUM, title,
                       " ".join(parts), advice, quote(seen.proposal_lines + lines))
