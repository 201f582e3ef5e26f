"""Point-to-site connection attempts from P2SDiagnosticLog, with usernames exactly as masked in the logs.

Rows (docs/sources.md#azure-p2s, verbatim from Microsoft's troubleshooting article, OpenVPN with Entra ID):
    [MSG] [default] [OVPN_xxxx] Connect request received. IP=0.X.X.X:XXX
    [MSG] [default] [OVPN_xxxx] AAD authentication succeeded. Username=***tosouser@contoso.com
    [MSG] [default] [OVPN_xxxx] Connection successful. Username=***tosouser@contoso.com IP=10.0.0.1
Microsoft's own queries count `Message has "Connection successful"` / `"Connection failed"` (AzureMonitorCommunity);
the failure row's other words are not public, so anything after "Connection failed" is shown as logged.
"In the point-to-site log, the username is partially obscured": the bot never tries to unmask it; a user asked
about is matched against the visible tail of the masked name only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from diagnostics.azure.kql import kql_datetime, kql_string
from diagnostics.azure.parser.rows import make_normaliser
from diagnostics.azure.sources import KqlBackend
from diagnostics.model import Event, Provenance, QueryRecord, SourceError

_SESSION = re.compile(r"\[(OVPN_[^\]]+|IKEv2_[^\]]+)\]")
_USER = re.compile(r"Username=(\S+)")
_CLIENT_IP = re.compile(r"\bIP=(\S+)")
OUTCOMES = (("connection successful", "connected"), ("connection failed", "failed"),
            ("authentication failed", "failed"), ("authentication succeeded", "authenticated"),
            ("connect request received", "request"))


@dataclass
class Attempt:
    session: str
    gateway: str
    start: float
    outcome: str = "request"  # "connected" | "failed" | "authenticated" | "request"
    user: str = ""  # as masked in the log
    client_ip: str = ""  # as logged (first octet already replaced by 0)
    detail: str = ""  # the failure row's text after "Connection failed", as logged
    rows: list[Event] = field(default_factory=list)


@dataclass
class P2SReport:
    gateways: list[str]
    attempts: list[Attempt]
    queries: list[QueryRecord]
    notes: list[str]
    user: str = ""

    @property
    def failed(self) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome == "failed"]

    @property
    def connected(self) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome == "connected"]


def build_p2s_query(gateways: Sequence[str], start: datetime, end: datetime) -> str:
    names = ", ".join(kql_string(g) for g in gateways)
    return "\n".join([
        "AzureDiagnostics",
        f"| where TimeGenerated between ({kql_datetime(start)} .. {kql_datetime(end)})",
        '| where Category == "P2SDiagnosticLog"',
        f"| where Resource in~ ({names})",
        "| project TimeGenerated, Category, OperationName, Message, Resource",
        "| sort by TimeGenerated asc",
    ])


def masked_matches(masked: str, user: str) -> bool:
    """`***tosouser@contoso.com` may be `contosouser@contoso.com`: the visible tail must end the name asked."""
    visible = masked.lstrip("*").lower()
    return bool(visible) and user.lower().endswith(visible)


def p2s_report(gateways: Sequence[str], start: datetime, end: datetime, backends: Sequence[KqlBackend],
               user: str = "") -> P2SReport:
    text = build_p2s_query(gateways, start, end)
    report = P2SReport(list(gateways), [], [], [], user)
    by_session: dict[str, Attempt] = {}
    for backend in backends:
        try:
            result = backend.run_kql(text, start, end)
        except SourceError as exc:
            report.notes.append(f"{backend.label} failed: {exc}")
            continue
        normalise = make_normaliser(result.columns, Provenance(backend.backend, backend.origin, "AzureDiagnostics",
                                                               text))
        count = 0
        for row in result.rows:
            count += 1
            _absorb(normalise(row, None), by_session, report)
        report.queries.append(QueryRecord(backend.backend, text, backend.origin, start, end, count))
    attempts = sorted(by_session.values(), key=lambda a: a.start)
    if user:
        attempts = [a for a in attempts if a.user and masked_matches(a.user, user)]
        if not attempts:
            report.notes.append(f"No point-to-site attempt matches {user} (names are masked in the logs; "
                                "only their visible ends are compared).")
    report.attempts = attempts
    report.notes.append("Only IKEv2 and OpenVPN clients are logged in P2SDiagnosticLog (not SSTP).")
    return report


def _absorb(event: Event, by_session: dict[str, Attempt], report: P2SReport) -> None:
    session_match = _SESSION.search(event.message)
    key = session_match.group(1) if session_match else f"{event.gateway}@{event.ts:.0f}"
    attempt = by_session.get(key)
    if attempt is None:
        attempt = by_session[key] = Attempt(key, event.gateway, event.ts)
    attempt.rows.append(event)
    lowered = event.message.lower()
    for needle, outcome in OUTCOMES:
        if needle in lowered:
            if outcome == "failed" or attempt.outcome not in ("failed", "connected"):
                attempt.outcome = outcome
            if outcome == "failed":
                rest = event.message[lowered.index(needle) + len(needle):]
                attempt.detail = _USER.sub("", _CLIENT_IP.sub("", rest)).strip(" .")
            break
    user = _USER.search(event.message)
    if user:
        attempt.user = user.group(1)
    client = _CLIENT_IP.search(event.message)
    if client and not attempt.client_ip:
        attempt.client_ip = client.group(1)
