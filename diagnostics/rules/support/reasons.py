"""What a TunnelDiagnosticLog `stateChangeReason_s` says, as data.

No public row shows real values; the vocabulary below is Microsoft's support troubleshooting wording for the
telemetry column it comes from (docs/sources.md#azure-tunnel-reasons; uncertain), so matching is by case-insensitive
substrings with an "unknown reason" bucket.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Reason(StrEnum):
    DPD = "dpd"
    REMOTE = "remote"
    STANDBY = "standby"  # planned failover or a reset: GlobalStandbyChanged / StandbyChanged / Locally Triggered
    CONFIG = "config"
    CREDENTIALS = "credentials"
    OTHER = "other"
    NONE = "none"


#: Checked in order; the first match wins. Each pattern cites the reason group it comes from
#: (docs/sources.md#azure-tunnel-reasons).
REASON_PATTERNS: list[tuple[Reason, re.Pattern[str]]] = [
    # "DPD timed out / Main mode SA assumed to be invalid because peer stopped responding"
    (Reason.DPD, re.compile(r"\bdpd\b|peer stopped responding|assumed to be invalid", re.I)),
    # "RemotelyTriggered / RemoteCrashTriggered"; "The customers on-prem device has sent a disconnect",
    # "Received MM delete"
    (Reason.REMOTE, re.compile(r"remote(ly)?[ _-]?(crash)?[ _-]?trigger|remotecrash|\bmm delete|"
                               r"peer sent .*delete|received delete|sent a disconnect", re.I)),
    # "IKE authentication credentials are unacceptable / Pre-shared Key Changed" (before the generic "changed")
    (Reason.CREDENTIALS, re.compile(r"credentials are unacceptable|pre-?shared key", re.I)),
    # "isPlannedFailover … GlobalStandbyChanged, StandbyChanged, Locally Triggered"
    (Reason.STANDBY, re.compile(r"standby ?changed|locally ?triggered|service ?triggered", re.I)),
    # "DhGroup changed / EncryptionType changed / … / UseNarrowTrafficSelectors changed", "TunnelRemoved",
    # connection trigger "UserTriggered … config change"
    (Reason.CONFIG, re.compile(r"\bchanged\b|tunnel ?removed|user ?triggered", re.I)),
]


def classify_reason(text: str) -> Reason:
    if not text or not text.strip():
        return Reason.NONE
    for reason, pattern in REASON_PATTERNS:
        if pattern.search(text):
            return reason
    return Reason.OTHER
