"""Files that are not exports at all: what they are, recognised from their lines, and what to export instead.

People hand over what they have: the zip Network Watcher's VPN troubleshoot writes (IKElogs.txt, IKEErrors.txt,
Scrubbed-wfpdiag.txt, ConnectionStats.txt: docs/sources.md#network-watcher-files), the IKE messages of an exchange
copied without their times, or the on-premises device's own log (strongSwan, Libreswan, Cisco ASA, FortiGate:
docs/sources.md#device-logs). None of them is a Log Analytics or CloudWatch export, so `--azure-export` /
`--aws-export` refuse them in one line that says what the file is and what to export instead, and `vpnbot explain`
reads them (docs/explain.md).

Text in, what it is out: `recognise(text)`. Only the first lines are looked at, and a line counts only when it
starts the way its kind does (a CSV export whose Message cells hold IKE text starts each row with a time, so it is
never mistaken for pasted IKE messages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from diagnostics.pasted import rows_without_header

#: How many non-empty lines decide what a text is.
SAMPLE_LINES = 200


class Kind(StrEnum):
    NW_IKE_LOGS = "network_watcher_ike_logs"
    NW_IKE_ERRORS = "network_watcher_ike_errors"
    NW_WFPDIAG = "network_watcher_wfpdiag"
    NW_STATS = "network_watcher_stats"
    IKE_MESSAGES = "ike_messages"
    STRONGSWAN = "strongswan"
    LIBRESWAN = "libreswan"
    CISCO = "cisco"
    FORTINET = "fortinet"


@dataclass(frozen=True)
class Foreign:
    """What a text that is not an export is."""

    kind: Kind
    what: str  # in words, for "<file>: this is <what>"
    lines: int  # non-empty lines of the text that look like this kind

    @property
    def device(self) -> str:
        """The on-premises device's vendor ("strongSwan", …), "" for Azure's own files."""
        return DEVICES.get(self.kind, "")

    @property
    def network_watcher(self) -> bool:
        return self.kind.value.startswith("network_watcher")


DEVICES = {Kind.STRONGSWAN: "strongSwan", Kind.LIBRESWAN: "Libreswan", Kind.CISCO: "Cisco",
           Kind.FORTINET: "FortiGate"}

#: (kind, what, the start of a line of that kind; a device's mark anywhere in the line, after its syslog or journal
#: prefix). Checked in order: the first pattern a line matches counts.
_SIGNATURES: list[tuple[Kind, str, re.Pattern[str]]] = [
    (Kind.NW_WFPDIAG, "a Network Watcher VPN troubleshoot Scrubbed-wfpdiag.txt (the gateway's WFP/IKE trace)",
     re.compile(r"^\[\d+\][0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}::\d{2}/\d{2}/\d{4}-\d{2}:\d{2}:\d{2}")),
    (Kind.NW_IKE_ERRORS, "a Network Watcher VPN troubleshoot IKEErrors.txt (IKE errors, no timestamps)",
     re.compile(r"^(?:Error: .+|\s*based on log\s*:.*)$")),
    (Kind.NW_STATS, "a Network Watcher VPN troubleshoot statistics file (ConnectionStats.txt, CPUStats.txt or "
     "wfpdiag.txt.sum)",
     re.compile(r"^(?:Connectivity State\s*:|Remote Tunnel Endpoint\s*:|Ingress Bytes|Egress Bytes|Connected Since\s*:"
                r"|Current CPU Usage\s*:|Files Processed:|Total (?:Buffers|Events|Format)|Elapsed Time\s)")),
    (Kind.IKE_MESSAGES, "IKE messages of the Azure gateway (IKEDiagnosticLog) without their times",
     re.compile(r"^\s*(?:SESSION_ID\s*:\s*\{|\[(?:SEND|RECEIVED|RECEIVE|LOCAL_MSG)\])")),
    (Kind.NW_IKE_LOGS, "a Network Watcher VPN troubleshoot IKElogs.txt (the gateway's IKE activity, no timestamps)",
     re.compile(r"^\s*(?:Remote \S+:\d+: Local \S+:\d+: |Ike\w+ called with error \d+)")),
    (Kind.STRONGSWAN, "a strongSwan (charon) log of the on-premises device",
     re.compile(r"(?:^|\s)\d{1,3}\[(?:IKE|CFG|NET|ENC|CHD|KNL|MGR|JOB|LIB|ESP|ASN|DMN|APP|TLS)\d?\]\s")),
    (Kind.LIBRESWAN, "a Libreswan (pluto) log of the on-premises device",
     re.compile(r"(?:^|\s)\"[^\"]+\"(?:\[\d+\])?(?:\s+\S+)?\s+#\d+:\s|\bpluto\[\d+\]:\s")),
    (Kind.CISCO, "a Cisco ASA/IOS syslog of the on-premises device",
     re.compile(r"%(?:ASA|FTD|PIX|FWSM)-\d-\d{6}\b|%CRYPTO-\d-[A-Z_]+|\bISAKMP ?\(\d+(?::\d+)?\)\s*:|"
                r"\bIKEv2-\w+:\s*\(SESSION ID")),
    (Kind.FORTINET, "a FortiGate log of the on-premises device",
     re.compile(r"(?:\blogid=\"?\d{10}\"?.*\b(?:sub)?type=\"?(?:vpn|event)\"?|^ike \d+:)")),
]


def _sample(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        if line.strip():
            lines.append(line.rstrip())
            if len(lines) >= SAMPLE_LINES:
                break
    return lines


def _looks_like_an_export(first: str) -> bool:
    """A JSON document or a CSV/TSV header row: an export (or one of its shapes), never one of these kinds."""
    head = first.lstrip("\ufeff \t")
    if head.startswith("{") or re.match(r"^\[\s*(?:$|[{\[\"])", head):
        return True
    header = head.lower()
    return bool(re.match(r"^\"?(?:timegenerated|@timestamp|time|timestamp)\b", header)) and (
        "," in header or "\t" in header or ";" in header)


def recognise(text: str) -> Foreign | None:
    """What `text` is when it is one of the kinds above, else None (an export, or something else entirely).

    >>> recognise("Error: Authentication failed. Check shared key.\\n\\t based on log : Peer failed").kind
    <Kind.NW_IKE_ERRORS: 'network_watcher_ike_errors'>
    """
    lines = _sample(text)
    if not lines or _looks_like_an_export(lines[0]):
        return None
    counts: dict[Kind, int] = {}
    whats: dict[Kind, str] = {}
    for line in lines:
        for kind, what, pattern in _SIGNATURES:
            if pattern.search(line) if kind in DEVICES else pattern.match(line):
                counts[kind] = counts.get(kind, 0) + 1
                whats[kind] = what
                break
    if not counts:
        return None
    kind = max(counts, key=lambda k: counts[k])
    # A few matching lines among many others: a log of something else that happens to quote one.
    if counts[kind] * 4 < len(lines) and counts[kind] < 3:
        return None
    # IKElogs.txt mixes `Remote …: Local …:` lines with bare IKE messages: the file's own shape wins.
    if kind is Kind.IKE_MESSAGES and counts.get(Kind.NW_IKE_LOGS, 0) and not any("SESSION_ID" in line
                                                                                for line in lines):
        kind = Kind.NW_IKE_LOGS
    return Foreign(kind, whats.get(kind) or next(w for k, w, _ in _SIGNATURES if k is kind), counts[kind])


#: What to export instead, per provider of the option the file was given to.
EXPORT_INSTEAD = {
    "azure": ("export the gateway's AzureDiagnostics rows instead (Log Analytics → Logs → `AzureDiagnostics | where "
              "ResourceType == \"VIRTUALNETWORKGATEWAYS\"` → Export → CSV) and give that CSV to --azure-export"),
    "aws": ("export the tunnel logs instead (`aws logs filter-log-events --log-group-name GROUP --log-stream-names "
            "vpn-… > events.json`) and give that file to --aws-export"),
}


def refusal(found: Foreign, name: str, provider: str) -> str:
    """The one line that refuses `found` given to --azure-export / --aws-export: what it is, what to export
    instead, and that `vpnbot explain` reads it."""
    option = "--aws-export" if provider == "aws" else "--azure-export"
    return (f"{name}: this is {found.what}, not a log export {option} can read; {EXPORT_INSTEAD[provider]}, or run "
            f"`vpnbot explain {name}` to have these lines explained")


def refusal_for(text: str, name: str, provider: str) -> str | None:
    """`refusal` when `text` is one of these kinds, else None (the reader's own reason stands)."""
    found = recognise(text)
    return refusal(found, name, provider) if found is not None else None


# --- lines pasted in a chat message -------------------------------------------------------------------------------

#: Lines of the exports themselves, pasted as they are (a CSV row, a JSON log event).
_EXPORT_LINE = re.compile(
    r"(?:TunnelDiagnosticLog|IKEDiagnosticLog|GatewayDiagnosticLog|RouteDiagnosticLog|TunnelDisconnected"
    r"|TunnelConnected|\"(?:vpn_connection_id|VpnConnectionId|ike_phase1_state|TunnelIKEPhase1State|details"
    r"|VpnLogDetail|logStreamName)\")")


def _is_header(line: str) -> bool:
    """A CSV/TSV header row of an export (a time column, then at least two more), not words that start the same."""
    head = line.lstrip("\ufeff \t")
    return not head.startswith(("{", "[")) and _looks_like_an_export(head) and "?" not in head and max(
        head.count(sep) for sep in (",", ";", "\t")) >= 2


def looks_like_log_lines(text: str) -> bool:
    """Whether a chat message holds log lines to explain rather than a question: lines of a kind above, or rows
    of an export (a tunnel log category, a JSON tunnel log event)."""
    if recognise(text) is not None:
        return True
    lines = _sample(text)
    if (len(lines) > 1 and _is_header(lines[0])) or rows_without_header(text):
        return True  # an export's rows under their header row, whatever its columns, or without it
    return any(_EXPORT_LINE.search(line) for line in lines) and (len(lines) > 1 or text.lstrip().startswith("{"))
