"""`case.txt`: a support-case description to paste into the Azure or the AWS support form.

Support's first questions are always the same: which resource (ids), when exactly (UTC), what the logs
show, what was already tried. The text answers them up front, in plain sentences a support engineer can act on,
and ends with the questions only the provider can answer for this cause (was there platform maintenance, is the
instance healthy…). What the customer did themselves is not known to the bot, so that line is left to fill in
rather than invented. docs/sources.md#support-handoff: AWS's own chat hand-off (`support create-case`) cannot attach
files, so the text must stand on its own and name the bundle's files for when they can be attached.

The form's field names differ between clouds; the text gives the values for both forms' first fields (Azure:
subscription, resource, problem start; AWS: the VPN connection id, the time), then a description body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from diagnostics.evidence.model import EvidenceRecord, Identifiers

#: Evidence lines quoted in the case text (the rest is in the bundle: forms limit the description's length).
MAX_EVIDENCE_LINES = 12

#: What to ask the provider, by cause code (docs/rules.md#cause-codes), for the side the cause is on.
QUESTIONS: dict[str, str] = {
    "maintenance_failover": "Please confirm the platform maintenance on {resource} at this time, and tell us when "
                            "further maintenance of this gateway is planned.",
    "gateway_failover": "The gateway switched instances within seconds and no maintenance was logged: was there "
                        "unlogged maintenance, a host event or an instance reset on {resource} at this time?",
    "config_change": "A configuration change was applied just before the drop: please confirm it caused the "
                     "tunnel reset, and whether such a reset can be avoided for this kind of change.",
    "dpd_timeout": "The peer stopped answering dead-peer detection: please check for packet loss or a platform "
                   "event on {resource}'s side of the path at this time.",
    "remote_initiated": "The logs show the tear-down came from the on-premises / customer gateway side: please "
                        "confirm nothing on {resource}'s side initiated it.",
    "psk_mismatch": "Negotiations fail authentication (pre-shared key). Please confirm the key configured on "
                    "{resource}'s connection was not changed on the provider side at this time (do not send the "
                    "key itself).",
    "ike_proposal_mismatch": "Negotiations fail on the IKE/IPsec proposal: please confirm the policy {resource} "
                             "offers and accepts for this connection.",
    "traffic_selector_mismatch": "Negotiations fail on traffic selectors: please confirm the traffic selectors "
                                 "{resource} proposes for this connection.",
    "peer_unreachable": "Our side keeps initiating and the peer never answers: please check that {resource}'s "
                        "public endpoint was reachable and healthy at this time.",
    "bgp_session_down": "The BGP session dropped: please check the BGP speaker of {resource} at this time.",
    "bgp_route_rejected": "The BGP log shows routes the customer gateway advertised denied by {resource} (prefix and "
                          "reason above): please confirm which routes the AWS side accepts from it and why these "
                          "were denied.",
    "rekey_collision": "The logs show a benign rekey collision: please confirm no outage on {resource}.",
    "flapping": "The tunnel dropped repeatedly: please check the health of {resource}'s instances over the window.",
    "unknown": "The logs show the drop but no cause the bot recognises: please check the platform side of "
               "{resource} (instance health, maintenance, host events) at this time.",
    "no_drop_found": "Our logs show no drop in this window: please check whether the platform saw one on "
                     "{resource}.",
    "logs_not_ingested": "The window is too recent for the logs to have been ingested; please check {resource} "
                         "directly.",
}

Redact = Callable[[str], str]


def render_case(record: EvidenceRecord, ids: Identifiers, files: Sequence[str], redact: Redact) -> str:
    """The case text. For a link (Azure ↔ AWS) the provider is the side of the primary finding."""
    answer = record.answer
    primary = record.primary or {}
    side = _side(record, primary)
    window = answer.get("window") or {}
    drops = answer.get("drops") or []
    start = drops[0].get("down_at") if drops else window.get("start", "?")
    end = (drops[-1].get("up_at") or "ongoing") if drops else window.get("end", "?")
    out: list[str] = []
    add = out.append

    resource = ids.gateway if side == "azure" else ids.vpn_connection
    cause = str(primary.get("cause", "unknown"))
    summary = _subject(record, ids, side, drops)
    add(f"Subject: {redact(summary)}")
    add("")
    if side == "azure":
        add("Azure support request (Help + support > Create a support request)")
        add("Issue type: Technical")
        add("Service: VPN Gateway")
        add(f"Subscription: {ids.subscription or 'unknown (fill in)'}")
        add(f"Resource: {redact(ids.gateway_id or ids.gateway or 'unknown (fill in)')}")
        if ids.connection_id or ids.connection:
            add(f"Connection: {redact(ids.connection_id or ids.connection)}")
        add(f"Remote (on-premises) device IP: {redact(ids.remote_ip or 'unknown (fill in)')}")
    else:
        add("AWS Support case (Support Center > Create case)")
        add("Case type: Technical")
        add("Service: Site-to-Site VPN (Virtual Private Cloud)")
        add(f"VPN connection id: {ids.vpn_connection or 'unknown (fill in)'}")
        add(f"Tunnel outside IPs: {redact(', '.join(ids.outside_ips) or 'unknown (fill in)')}")
    add(f"Problem start (UTC): {start}")
    add(f"Problem end (UTC): {end}")
    add(f"Window examined (UTC): {window.get('start', '?')} .. {window.get('end', '?')}")
    add("")
    add("Description:")
    add("")
    add(redact(_symptoms(record, ids, drops)))
    add("")
    if primary:
        rule = primary.get("rule") or "not recorded"
        add(f"What the logs show (vpnbot's analysis: {cause}, {primary.get('confidence')} confidence, "
            f"rule {rule}):")
        add(redact(f"{primary.get('title', '')}. {primary.get('explanation', '')}"))
        add("")
        evidence = list(primary.get("evidence") or [])
        if evidence:
            add("Key log rows (UTC):")
            for e in evidence[:MAX_EVIDENCE_LINES]:
                add(f"  {e.get('time')}  {e.get('source')}  {redact(str(e.get('text', '')))}")
            if len(evidence) > MAX_EVIDENCE_LINES:
                add(f"  … {len(evidence) - MAX_EVIDENCE_LINES} more in the attached report")
            add("")
    others = [f for f in record.findings[1:] if f.get("cause")]
    if others:
        add("Also considered:")
        for f in others:
            add(f"  - {f.get('cause')} ({f.get('confidence')}): {redact(str(f.get('title', '')))}")
        add("")
    ruled_out = _ruled_out(record)
    if ruled_out:
        add("Checked by the bot's rules, no sign of in the gateway's logs: " + ", ".join(ruled_out) + ".")
        add("")
    add("Steps already taken on our side: (fill in)")
    add("")
    add("Question for support:")
    add(redact(QUESTIONS.get(cause, QUESTIONS["unknown"]).format(resource=resource or "the gateway")))
    add("")
    add(f"Attached: vpnbot evidence bundle for investigation {record.investigation_id} (zip). It holds "
        + ", ".join(files) + ". manifest.json lists the SHA-256 of every file.")
    return "\n".join(out) + "\n"


def _side(record: EvidenceRecord, primary: Mapping[str, Any]) -> str:
    if record.provider != "link":
        return "aws" if record.provider == "aws" else "azure"
    title = str(primary.get("title", ""))
    return "aws" if title.startswith("AWS") else "azure"


def _subject(record: EvidenceRecord, ids: Identifiers, side: str, drops: Sequence[Mapping[str, Any]]) -> str:
    what = (f"Site-to-site VPN {record.tunnel_name} ({ids.gateway} ↔ {ids.remote_ip or '?'})" if side == "azure"
            else f"Site-to-Site VPN {ids.vpn_connection} ({record.tunnel_name})")
    if drops:
        return f"{what} dropped at {_short(drops[0].get('down_at'))} UTC" + (
            f" ({len(drops)} drops)" if len(drops) > 1 else "")
    return f"{what}: connectivity question for {_short((record.answer.get('window') or {}).get('start'))} UTC"


def _symptoms(record: EvidenceRecord, ids: Identifiers, drops: Sequence[Mapping[str, Any]]) -> str:
    name = record.tunnel_name or "the tunnel"
    if not drops:
        return f"We investigated {name} for the window above; the logs show no drop in it."
    parts = []
    for drop in drops[:5]:
        if drop.get("up_at"):
            parts.append(f"down at {drop['down_at']}, back at {drop['up_at']} ({_duration(drop)})")
        else:
            parts.append(f"down at {drop['down_at']}, not back by the end of the logs read")
    more = f" (and {len(drops) - 5} more drops)" if len(drops) > 5 else ""
    return f"The site-to-site tunnel {name} dropped: " + "; ".join(parts) + more + "."


def _duration(drop: Mapping[str, Any]) -> str:
    try:
        down = datetime.fromisoformat(str(drop["down_at"]).replace("Z", "+00:00"))
        up = datetime.fromisoformat(str(drop["up_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return "?"
    seconds = round((up - down).total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min {seconds % 60} s"


def _short(value: Any) -> str:
    text = str(value or "?")
    return text.replace("T", " ")[:19]


#: What the Azure rule engine checks for every drop asked about (diagnostics/engine.py: every DROP_RULE runs on the
#: primary drop; every NEGOTIATION_RULE runs, the first that finds something is kept).
_AZURE_DROP_CAUSES = ("config_change", "maintenance_failover", "remote_initiated", "dpd_timeout", "gateway_failover")
_AZURE_NEGOTIATION_CAUSES = ("psk_mismatch", "ike_proposal_mismatch", "traffic_selector_mismatch", "peer_unreachable")


def _ruled_out(record: EvidenceRecord) -> list[str]:
    """Causes the Azure rules checked for the drop asked about and found no sign of. Only said for a drop on the
    Azure side, where every such rule is known to have run (the AWS rules match messages instead)."""
    if not record.answer.get("drops") or record.provider != "azure":
        return []
    found = {str(f.get("cause")) for f in record.findings}
    out = [c for c in _AZURE_DROP_CAUSES if c not in found]
    if not found & set(_AZURE_NEGOTIATION_CAUSES):
        out += list(_AZURE_NEGOTIATION_CAUSES)
    return out
