"""What a question asks for (its `Intent`), from its words: "why did paris drop" is why_drop, "status lyon", "paris
down?", "what's wrong with lyon" and "is hamburg still flapping" are status, "summary for friday" is a summary, "why
can't alice@contoso.com connect" is point-to-site.

A leading command word decides ("drops paris", "/vpn status"); otherwise the first rule that recognises the words
wins, in a fixed order. The tunnel and the time are found separately (`question`, `compose`); `question` then turns
a question about no tunnel in particular ("what's down", "anything dropping today", "what dropped at 14:02") into
the status of every tunnel (`asks_about_the_fleet`), and a state word about a past time ("paris down at 14:02
yesterday") into why_drop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise


class Intent(StrEnum):
    WHY_DROP = "why_drop"
    STATUS = "status"
    DROPS = "drops"
    TUNNELS = "tunnels"
    HELP = "help"
    SUMMARY = "summary"
    EVIDENCE = "evidence"
    P2S = "p2s"  # point-to-site connection attempts
    TRAFFIC = "traffic"  # does traffic flow over a tunnel ("paris is up but nothing gets through")


# Intents that need a tunnel. A status question without one is the status of every tunnel (the fleet).
NEEDS_TUNNEL = {Intent.WHY_DROP, Intent.DROPS, Intent.EVIDENCE, Intent.TRAFFIC}

_COMMANDS = {
    "help": Intent.HELP, "usage": Intent.HELP, "commands": Intent.HELP,
    "tunnels": Intent.TUNNELS,
    "status": Intent.STATUS, "state": Intent.STATUS, "health": Intent.STATUS, "sitrep": Intent.STATUS,
    "drops": Intent.DROPS, "history": Intent.DROPS, "flaps": Intent.DROPS,
    "summary": Intent.SUMMARY, "summarize": Intent.SUMMARY, "summarise": Intent.SUMMARY, "recap": Intent.SUMMARY,
    "evidence": Intent.EVIDENCE, "bundle": Intent.EVIDENCE,
    "why": Intent.WHY_DROP, "explain": Intent.WHY_DROP, "rca": Intent.WHY_DROP, "why'd": Intent.WHY_DROP,
}
_WHY_WORDS = {"why", "why'd", "why's", "whys", "explain", "cause", "caused", "reason", "rca"}
_DROP_WORDS = {
    "drop", "dropped", "dropping", "drops", "down", "fail", "failed", "failing", "failure", "happened", "happen",
    "disconnect", "disconnected", "disconnects", "flap", "flapped", "flapping", "flaps", "outage", "broke", "broken",
    "bounce", "bounced", "bouncing", "die", "died", "dies", "crashed", "crash", "went", "lost", "lose", "reset",
    "interrupted", "interruption", "outages",
}
# Words that describe a tunnel's state now: a question with one is a status question ("paris down?").
_STATE_WORDS = {
    "up", "down", "ok", "okay", "healthy", "connected", "alive", "fine", "working", "running", "established",
    "online", "offline", "stable", "unstable", "flapping", "broken", "dead", "back", "reachable", "unreachable",
    "recovered", "recover", "wrong", "issue", "issues", "problem", "problems", "trouble", "weird", "red", "degraded",
    "unhealthy", "disconnected", "good",
    "dwn", "donw", "downn", "dowm", "dwon", "flaping", "flappin", "flapin", "flappping",  # typed fast
}
_STATUS_TYPOS = {"staus", "stauts", "statsu", "satus", "statys", "sttaus"}
_NOW_WORDS = {"now", "rn", "atm", "currently", "presently"}
# "go down", "went down": an event (why_drop), not a state.
_GOING = {"go", "goes", "going", "went", "gone", "come", "came"}
_STATUS_PHRASES = (("what's", "wrong"), ("whats", "wrong"), ("what", "is", "wrong"), ("what's", "up"),
                   ("whats", "up"), ("what", "is", "up"), ("going", "on"), ("how's",), ("hows",), ("how", "is"),
                   ("how", "are"), ("how", "does"), ("how", "did"), ("how", "was"), ("how", "were"))
_COUNT_WORDS = {"drops", "history", "flaps", "count", "outages", "disconnects"}
# Words that make a question about no tunnel in particular one about all of them ("any tunnels down?").
_FLEET_WORDS = {
    "any", "anything", "anyone", "anybody", "everything", "everyone", "everybody", "all", "every", "tunnels", "vpns",
    "links", "connections", "sites", "fleet", "something", "someone", "there", "we", "overall", "nothing",
    "everything's", "anything's", "something's", "nothing's", "things", "stuff", "network", "networking",
    "connectivity",
}
_ASKING_WHICH = {"what", "what's", "whats", "which", "who", "who's", "whos"}
_ONE_THING = {"tunnel", "vpn", "link", "connection", "site"}


@dataclass(frozen=True)
class IntentReading:
    intent: Intent | None
    command: bool  # said by a leading command word ("status paris"), not read from the sentence


def detect_intent(words: Sequence[str]) -> Intent | None:
    """The intent of lower-cased words, or None when nothing says what is wanted (a tunnel may still)."""
    return read_intent(words).intent


def read_intent(words: Sequence[str]) -> IntentReading:
    if not words:
        return IntentReading(Intent.HELP, True)
    if _asks_p2s(words):  # "why can't alice@contoso.com connect" is about point-to-site, not a tunnel drop
        return IntentReading(Intent.P2S, False)
    if words[0] == "list" and len(words) > 1 and words[1] in _COMMANDS:
        return IntentReading(_COMMANDS[words[1]], True)
    if _COMMANDS.get(words[0]) is Intent.WHY_DROP and asks_traffic(words):
        return IntentReading(Intent.TRAFFIC, False)  # "why can't we reach 10.1.2.3 over lyon": not a drop
    if words[0] in _COMMANDS and not (words[0] == "tunnels" and (_STATE_WORDS | _DROP_WORDS) & set(words)):
        return IntentReading(_COMMANDS[words[0]], True)  # "tunnels down again??" is not the list
    for rule in (_asks_traffic, _asks_why, _asks_count, _asks_summary, _asks_evidence, _asks_status,
                 _asks_tunnel_list, _asks_about_drop, _asks_help):
        intent = rule(words)
        if intent is not None:
            return IntentReading(intent, False)
    return IntentReading(None, False)


def asks_about_the_fleet(words: Sequence[str]) -> bool:
    """ "any tunnels down", "what dropped at 14:02", "is everything ok": about every tunnel, not one left unsaid
    ("why did the tunnel drop", "why did it drop": which tunnel?)."""
    if _FLEET_WORDS & set(words):
        return True
    return bool(_ASKING_WHICH & set(words)) and not mentions_one_thing(words)


def mentions_one_thing(words: Sequence[str]) -> bool:
    """ "the tunnel", "the vpn", "it": one tunnel the asker has in mind and did not name."""
    definite = any(a == "the" and b in _ONE_THING for a, b in pairwise(words))
    return definite or bool({"it", "its", "it's"} & set(words))


def is_state_question(words: Sequence[str]) -> bool:
    """ "paris down?", "is lyon up", "what's wrong with nice": about the state of a tunnel (its status now, or then)."""
    return _asks_status(words) is not None and not _asks_why(words) and not _asks_count(words)


def _asks_p2s(words: Sequence[str]) -> Intent | None:
    """Point-to-site: "who failed to connect over p2s today", "why can't alice@contoso.com connect"."""
    text = " ".join(words)
    if {"p2s", "point-to-site", "openvpn"} & set(words) or "point to site" in text or "vpn client" in text:
        return Intent.P2S
    if any("@" in w for w in words) and any(w.startswith("connect") or w == "login" for w in words):
        return Intent.P2S
    return None


# Words about what goes through a tunnel rather than about the tunnel itself.
_TRAFFIC_WORDS = {"traffic", "throughput", "bandwidth", "bytes", "packets", "flowing", "flow", "flows", "trafic"}
# "reach 10.1.2.3 over lyon", "can't ping the file server over paris": a host behind the tunnel.
_REACH_WORDS = {"reach", "ping", "access"}
# "nothing gets through", "traffic isn't going through", "can't get through"
_THROUGH_VERBS = {"get", "gets", "getting", "got", "go", "goes", "going", "pass", "passes", "passing", "come",
                  "comes", "coming", "make", "makes", "making", "flow", "flows", "flowing"}
_TRAFFIC_PHRASES = (("no", "traffic"), ("any", "traffic"), ("how", "much", "data"), ("data", "through"))


def asks_traffic(words: Sequence[str]) -> bool:
    """ "is traffic flowing over paris", "paris is up but nothing gets through", "why can't we reach 10.1.2.3 over
    lyon", "paris traffic last hour": about what goes through the tunnel, not whether it is up."""
    if _TRAFFIC_WORDS & set(words) or _REACH_WORDS & set(words[1:]):
        return True  # a leading "ping" is a request to act (refused), not a question
    if any(a in _THROUGH_VERBS and b in ("through", "thru") for a, b in pairwise(words)) \
            and not {"log", "logs"} & set(words):  # "can you go through paris' logs" asks to read them
        return True
    return any(tuple(words[i:i + len(phrase)]) == phrase for phrase in _TRAFFIC_PHRASES for i in range(len(words)))


def _asks_traffic(words: Sequence[str]) -> Intent | None:
    return Intent.TRAFFIC if asks_traffic(words) else None


def _asks_why(words: Sequence[str]) -> Intent | None:
    return Intent.WHY_DROP if _WHY_WORDS & set(words) else None


def _asks_count(words: Sequence[str]) -> Intent | None:
    text = " ".join(words)
    if "how many" in text or "how often" in text or _COUNT_WORDS & set(words):
        return Intent.DROPS
    return None


def _asks_summary(words: Sequence[str]) -> Intent | None:
    summary = {"summary", "summarize", "summarise", "recap", "report", "overview", "digest"}
    return Intent.SUMMARY if summary & set(words) else None


def _asks_evidence(words: Sequence[str]) -> Intent | None:
    return Intent.EVIDENCE if {"evidence", "bundle"} & set(words) else None


def _asks_tunnel_list(words: Sequence[str]) -> Intent | None:
    """ "which tunnels do you know" lists them; "which tunnels dropped yesterday" is about their drops."""
    if "tunnels" not in words or _DROP_WORDS & set(words):
        return None
    return Intent.TUNNELS


def _asks_status(words: Sequence[str]) -> Intent | None:
    """A state word ("down", "up", "ok", "flapping", "wrong"), not after "go"/"went"; "how is", "what's up with";
    "status"; "now" in a question about no drop ("paris now?")."""
    if {"status", "state", "health", "sitrep", "check", *_STATUS_TYPOS} & set(words):
        return Intent.STATUS
    if any(tuple(words[i:i + len(phrase)]) == phrase for phrase in _STATUS_PHRASES for i in range(len(words))):
        return Intent.STATUS
    if _NOW_WORDS & set(words) and not _DROP_WORDS & set(words):
        return Intent.STATUS  # "paris now?", "lyon rn": its state now
    states = [i for i, word in enumerate(words) if word in _STATE_WORDS]
    if any(not (words[i] == "down" and i and words[i - 1] in _GOING) for i in states):
        return Intent.STATUS
    return None


def _asks_about_drop(words: Sequence[str]) -> Intent | None:
    return Intent.WHY_DROP if _DROP_WORDS & set(words) else None


def _asks_help(words: Sequence[str]) -> Intent | None:
    return Intent.HELP if {"help", "usage", "commands"} & set(words) else None


# Every word the rules above read, for callers that must not mistake them for tunnel names.
INTENT_WORDS = frozenset(
    set(_COMMANDS) | _DROP_WORDS | _STATE_WORDS | _COUNT_WORDS | _WHY_WORDS | _FLEET_WORDS | _GOING | _NOW_WORDS
    | _STATUS_TYPOS | _TRAFFIC_WORDS | _REACH_WORDS
    | {"summary", "report", "evidence", "bundle", "help", "status", "happened", "overview", "digest", "wrong",
       "sitrep", "check"}
)
