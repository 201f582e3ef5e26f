"""What a question asks for (its `Intent`), from its words: "why did paris drop" is why_drop, "status lyon" is
status, "which tunnels dropped yesterday" is a summary, "why can't alice@contoso.com connect" is point-to-site.

A leading command word decides ("drops paris", "/vpn status"); otherwise the first rule that recognises the words
wins, in a fixed order. The tunnel and the time are found separately (`question`, `compose`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class Intent(StrEnum):
    WHY_DROP = "why_drop"
    STATUS = "status"
    DROPS = "drops"
    TUNNELS = "tunnels"
    HELP = "help"
    SUMMARY = "summary"
    EVIDENCE = "evidence"
    P2S = "p2s"  # point-to-site connection attempts


NEEDS_TUNNEL = {Intent.WHY_DROP, Intent.STATUS, Intent.DROPS, Intent.EVIDENCE}

_COMMANDS = {
    "help": Intent.HELP, "usage": Intent.HELP, "commands": Intent.HELP,
    "tunnels": Intent.TUNNELS,
    "status": Intent.STATUS, "state": Intent.STATUS, "health": Intent.STATUS,
    "drops": Intent.DROPS, "history": Intent.DROPS, "flaps": Intent.DROPS,
    "summary": Intent.SUMMARY, "summarize": Intent.SUMMARY, "summarise": Intent.SUMMARY, "recap": Intent.SUMMARY,
    "evidence": Intent.EVIDENCE, "bundle": Intent.EVIDENCE,
    "why": Intent.WHY_DROP, "explain": Intent.WHY_DROP,
}
_DROP_WORDS = {
    "drop", "dropped", "dropping", "down", "fail", "failed", "failing", "failure", "happened", "happen",
    "disconnect", "disconnected", "disconnects", "flap", "flapped", "flapping", "outage", "broke", "broken",
    "bounce", "bounced", "died", "crashed", "went", "lost", "reset", "interrupted", "interruption",
}
_STATE_WORDS = {"up", "down", "ok", "okay", "healthy", "connected", "alive", "fine", "working", "running",
                "established", "online", "offline", "stable"}
_COUNT_WORDS = {"drops", "history", "flaps", "count", "outages", "disconnects"}


def detect_intent(words: Sequence[str]) -> Intent | None:
    """The intent of lower-cased words, or None when nothing says what is wanted (a tunnel may still)."""
    if not words:
        return Intent.HELP
    if _asks_p2s(words):  # "why can't alice@contoso.com connect" is about point-to-site, not a tunnel drop
        return Intent.P2S
    if words[0] == "list" and len(words) > 1 and words[1] in _COMMANDS:
        return _COMMANDS[words[1]]
    if words[0] in _COMMANDS:
        return _COMMANDS[words[0]]
    for rule in (_asks_why, _asks_count, _asks_summary, _asks_evidence, _asks_tunnel_list, _asks_status,
                 _asks_about_drop, _asks_help):
        intent = rule(words)
        if intent is not None:
            return intent
    return None


def _asks_p2s(words: Sequence[str]) -> Intent | None:
    """Point-to-site: "who failed to connect over p2s today", "why can't alice@contoso.com connect"."""
    text = " ".join(words)
    if {"p2s", "point-to-site", "openvpn"} & set(words) or "point to site" in text or "vpn client" in text:
        return Intent.P2S
    if any("@" in w for w in words) and any(w.startswith("connect") or w == "login" for w in words):
        return Intent.P2S
    return None


def _asks_why(words: Sequence[str]) -> Intent | None:
    return Intent.WHY_DROP if {"why", "explain", "cause", "reason"} & set(words) else None


def _asks_count(words: Sequence[str]) -> Intent | None:
    text = " ".join(words)
    if "how many" in text or "how often" in text or _COUNT_WORDS & set(words):
        return Intent.DROPS
    return None


def _asks_summary(words: Sequence[str]) -> Intent | None:
    return Intent.SUMMARY if {"summary", "summarize", "summarise", "recap", "report"} & set(words) else None


def _asks_evidence(words: Sequence[str]) -> Intent | None:
    return Intent.EVIDENCE if {"evidence", "bundle"} & set(words) else None


def _asks_tunnel_list(words: Sequence[str]) -> Intent | None:
    """ "which tunnels do you know" lists them; "which tunnels dropped yesterday" is a summary."""
    if "tunnels" not in words:
        return None
    return Intent.SUMMARY if _DROP_WORDS & set(words) else Intent.TUNNELS


def _asks_status(words: Sequence[str]) -> Intent | None:
    if words[0] in ("is", "are") and _STATE_WORDS & set(words):
        return Intent.STATUS
    if words[0] in ("how's", "hows") or words[:2] in (["how", "is"], ["how", "are"]):
        return Intent.STATUS
    return Intent.STATUS if {"status", "state", "health"} & set(words) else None


def _asks_about_drop(words: Sequence[str]) -> Intent | None:
    return Intent.WHY_DROP if _DROP_WORDS & set(words) else None


def _asks_help(words: Sequence[str]) -> Intent | None:
    return Intent.HELP if {"help", "usage", "commands"} & set(words) else None


# Every word the rules above read, for callers that must not mistake them for tunnel names.
INTENT_WORDS = frozenset(
    set(_COMMANDS) | _DROP_WORDS | _STATE_WORDS | _COUNT_WORDS
    | {"summary", "report", "evidence", "bundle", "cause", "reason", "help", "status", "explain", "happened"}
)
