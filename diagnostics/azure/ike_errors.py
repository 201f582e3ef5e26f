"""What an IKE failure signal means, as data: Windows error numbers, notify texts and status texts.

Sources: docs/sources.md#azure-ike-errors (Windows IKE error codes from Microsoft's site-to-site error-code
article, the notify and status wordings seen in real rows, the PSK and policy mismatch walkthroughs),
docs/sources.md#azure-traffic-selectors (traffic-selector and invalid-payload wordings) and
docs/sources.md#azure-tunnel-reasons (Microsoft's support troubleshooting groupings).
"""

from __future__ import annotations

from enum import StrEnum

from diagnostics.azure.ike import IkeMessage


class Failure(StrEnum):
    AUTH = "auth"  # pre-shared key / authentication
    POLICY = "policy"  # no common proposal
    TRAFFIC_SELECTORS = "traffic_selectors"
    TIMED_OUT = "timed_out"  # negotiation timed out: TS mismatch after a TS exchange, else the peer went quiet
    PEER_DEAD = "peer_dead"  # DPD: main mode SA assumed invalid
    PEER_DELETE = "peer_delete"  # the peer deleted the SA
    INVALID_PAYLOAD = "invalid_payload"  # narrow-TS peer, Azure initiating: docs/sources.md#azure-traffic-selectors
    UNSUPPORTED = "unsupported"  # IKE version, cookie, header
    NO_POLICY = "no_policy"  # gateway not configured for that peer


#: Windows error number -> (documented text, what it means). docs/sources.md#azure-ike-errors.
ERROR_CODES: dict[int, tuple[str, Failure]] = {
    13801: ("IKE authentication credentials are unacceptable", Failure.AUTH),  # 0x35E9
    13826: ("Failed to verify signature", Failure.AUTH),  # 0x3602
    13868: ("Policy match error", Failure.POLICY),  # 0x362C
    13822: ("Failure in Diffie-Hellman computation", Failure.POLICY),  # 0x35FE: DH group mismatch
    13825: ("No policy configured", Failure.NO_POLICY),  # 0x3601
    13999: ("Traffic selectors unacceptable", Failure.TRAFFIC_SELECTORS),  # 0x36AF
    13805: ("Negotiation timed out", Failure.TIMED_OUT),  # 0x35ED
    13843: ("Invalid payload received", Failure.INVALID_PAYLOAD),  # 0x3613
    13846: ("Invalid cookie received", Failure.UNSUPPORTED),  # 0x3616
    13824: ("Invalid header", Failure.UNSUPPORTED),  # 0x3600
    13880: ("The recipient cannot handle version of IKE specified in the header", Failure.UNSUPPORTED),  # 0x3638
    13886: ("Main mode SA assumed to be invalid because peer stopped responding", Failure.PEER_DEAD),  # 0x363E
    13885: ("Received MM delete", Failure.PEER_DELETE),  # 0x363D
}

#: Case-insensitive substrings of notify/status/error texts -> meaning; checked in order.
TEXT_SIGNALS: list[tuple[str, Failure]] = [
    ("authentication failed", Failure.AUTH),  # [RECEIVED][NOTIFY] Received Notify Message - Authentication failed
    ("credentials are unacceptable", Failure.AUTH),  # … with status IKE authentication credentials are unacceptable
    ("failed to verify signature", Failure.AUTH),
    ("user name or password is incorrect", Failure.AUTH),  # support troubleshooting content: status text
    ("policy mismatch", Failure.POLICY),  # [SEND|RECEIVED][NOTIFY] … Notify Message - Policy Mismatch
    ("policy match error", Failure.POLICY),  # … with status Policy match error
    ("no_proposal_chosen", Failure.POLICY),  # Network Watcher: Peer sent NO_PROPOSAL_CHOSEN notify
    ("no proposal chosen", Failure.POLICY),
    ("ts_unacceptable", Failure.TRAFFIC_SELECTORS),
    ("traffic selectors unacceptable", Failure.TRAFFIC_SELECTORS),
    ("negotiation timed out", Failure.TIMED_OUT),  # [ErrorMessage] Negotiation timed out (0x35ED)
    ("wait operation timed out", Failure.TIMED_OUT),
    ("peer stopped responding", Failure.PEER_DEAD),
    ("mm delete", Failure.PEER_DELETE),
    ("invalid payload", Failure.INVALID_PAYLOAD),
    ("invalid_ke_payload", Failure.POLICY),  # unsupported/mismatched DH group in KE (2026 decision tree)
    ("unsupported ike version", Failure.UNSUPPORTED),
    ("no policy configured", Failure.NO_POLICY),
]


def failure_of(message: IkeMessage) -> Failure | None:
    """What this row says went wrong, if anything."""
    if message.error_code in ERROR_CODES:
        return ERROR_CODES[message.error_code][1]
    for text in (message.notify, message.status, message.error_message, message.ike_event, message.text):
        if text:
            lowered = text.lower()
            for needle, failure in TEXT_SIGNALS:
                if needle in lowered:
                    return failure
    return None


def error_text(code: int) -> str:
    known = ERROR_CODES.get(code)
    return f"{code} (0x{code:X}: {known[0]})" if known else f"{code} (0x{code:X})"
