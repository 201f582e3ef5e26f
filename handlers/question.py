"""Parsing a chat question into an intent, a tunnel and a time window.

"why did tunnel paris drop at 14:02?", "/vpn status lyon", "<@U123> drops dc1 since monday": people
type these in a hurry during an incident, so the parser accepts any case, punctuation, mentions and
word order, reads times in the asker's zone, and when it cannot understand it raises one line that
says what to type instead (with the closest tunnel names, or an example that works). It only parses:
no log is read and no user text is ever evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from diagnostics.tunnels import AmbiguousTunnel, Tunnel, TunnelRegistry, UnknownTunnel
from handlers.timewords import TIME_HINT, VOCABULARY, TimeReading, TimeWordsError, read_time, tokenize


class Intent(StrEnum):
    WHY_DROP = "why_drop"
    STATUS = "status"
    DROPS = "drops"
    TUNNELS = "tunnels"
    HELP = "help"
    SUMMARY = "summary"
    EVIDENCE = "evidence"
    P2S = "p2s"  # point-to-site connection attempts (issue 3)


@dataclass(frozen=True)
class TimeWindow:
    start: datetime  # tz-aware, UTC
    end: datetime  # tz-aware, UTC


@dataclass(frozen=True)
class Question:
    text: str  # the question as asked, without the leading mention or "/vpn"
    intent: Intent
    tunnel: Tunnel | None  # None for HELP and TUNNELS, and for a SUMMARY of every tunnel
    window: TimeWindow
    anchor: datetime | None  # the instant asked about ("at 14:02"), UTC; None for a range/default question
    tz: ZoneInfo  # the asker's zone used to read the times (a zone named in the text wins)
    explicit_window: bool  # True when the user gave a time or range; False for the default window
    user: str = ""  # a user named in a point-to-site question ("why can't alice@contoso.com connect")


class QuestionError(ValueError):
    """A question we cannot answer as written; str() is ONE line a user can act on."""


_EXAMPLE_TEMPLATES = (
    "why did tunnel {t} drop at 14:02",
    "why did {t} go down yesterday around 2pm",
    "what happened to {t} between 13:00 and 15:00 UTC",
    "did {t} drop in the last hour",
    "status {t}",
    "drops {t} since monday",
    "evidence {t} at 14:02",
    "summary yesterday",
    "who failed to connect over point-to-site today",
    "tunnels",
    "help",
)
HELP_EXAMPLES: list[str] = [template.format(t="paris") for template in _EXAMPLE_TEMPLATES]
NEEDS_TUNNEL = {Intent.WHY_DROP, Intent.STATUS, Intent.DROPS, Intent.EVIDENCE}


def help_examples(registry: TunnelRegistry | None = None) -> list[str]:
    """HELP_EXAMPLES, naming the workspace's first tunnel so every example can be pasted as is."""
    name = registry.names()[0] if registry is not None and len(registry) else "paris"
    return [template.format(t=name) for template in _EXAMPLE_TEMPLATES]


# ------------------------------------------------------------------------------------------ cleaning

_LEADING_NOISE = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>|@[\w.\-]+|/vpn\b)[\s,:]*", re.IGNORECASE)
_SLACK_LINK = re.compile(r"<(?:[a-z]+:(?://)?)?([^<>|]*)\|([^<>]*)>|<(?:[a-z]+:(?://)?)?([^<>@#!|][^<>|]*)>",
                         re.IGNORECASE)
_SLACK_REFERENCE = re.compile(r"<[@#!][^<>]*>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def clean_text(text: str) -> str:
    """Drop the leading mention/"/vpn", unwrap Slack links, undo Slack's escaping, collapse blanks."""
    previous = None
    while previous != text:
        previous, text = text, _LEADING_NOISE.sub("", text, count=1)
    text = _SLACK_LINK.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(3), text)
    text = _SLACK_REFERENCE.sub(" ", text)  # other mentions and channel references are not the question
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return " ".join(text.split())


# -------------------------------------------------------------------------------------------- intent

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


# -------------------------------------------------------------------------------------------- tunnel

_STOP_WORDS = {
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "did", "does", "do", "doing", "done", "to",
    "of", "for", "on", "in", "at", "by", "with", "from", "and", "or", "it", "its", "it's", "this", "that",
    "these", "those", "my", "our", "your", "me", "us", "we", "i", "you", "please", "pls", "can", "could",
    "would", "will", "there", "any", "all", "some", "again", "just", "still", "so", "hey", "hi", "hello",
    "thanks", "what", "what's", "whats", "when", "where", "which", "who", "how", "how's", "hows", "why",
    "go", "going", "gone", "get", "got", "have", "has", "had", "happening", "tunnel", "tunnels", "vpn",
    "vpns", "link", "links", "connection", "connections", "site", "s2s", "ipsec", "ike", "bgp", "list",
    "show", "tell", "give", "many", "much", "often", "times", "about", "around", "near", "approximately",
    "roughly", "exactly", "ago", "last", "past", "since", "between", "until", "before", "after", "today",
    "yesterday", "not", "no", "yes", "too", "also", "ever", "anything", "something", "why's",
}
_VOCABULARY = (
    _STOP_WORDS | VOCABULARY | set(_COMMANDS) | _DROP_WORDS | _STATE_WORDS | _COUNT_WORDS
    | {"summary", "report", "evidence", "bundle", "cause", "reason", "help", "status", "explain", "happened"}
)
_TRIGGERS = {"tunnel", "did", "does", "to", "is", "for", "about", "of", "on", "with", "status", "drops",
             "history", "evidence", "summary", "explain", "vpn", "link", "site", "connection"}
_ID_LIKE = re.compile(  # IPv4, AWS VPN connection id, IPv6
    r"\d{1,3}(?:\.\d{1,3}){3}|vpn-[0-9a-f]{8,17}|(?=[^:]*[0-9a-f])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}",
    re.IGNORECASE | re.ASCII,
)


def _variants(token: str) -> list[str]:
    """The token and its non-possessive form ("paris's" -> "paris")."""
    for suffix in ("'s", "’s"):
        if token.lower().endswith(suffix):
            return [token, token[: -len(suffix)]]
    return [token]


def find_tunnel(tokens: Sequence[str], used: frozenset[int], registry: TunnelRegistry) -> tuple[Tunnel | None, str]:
    """The one tunnel the free tokens name, and the word that named it.

    A name or alias wins over a shared identifier (a gateway carries several tunnels), so "paris on
    VPNGW01" is paris; a gateway alone that carries several tunnels raises AmbiguousTunnel; naming two
    different tunnels is a QuestionError (one question, one tunnel).
    """
    found: dict[str, tuple[Tunnel, str]] = {}
    ambiguous: list[AmbiguousTunnel] = []
    for index, token in enumerate(tokens):
        if index in used:
            continue
        for variant in _variants(token):
            try:
                tunnel = registry.lookup(variant)
            except AmbiguousTunnel as problem:
                ambiguous.append(problem)
                break
            if tunnel is not None:
                found.setdefault(tunnel.name, (tunnel, token))
                break
    if len(found) > 1:
        names = list(found)
        raise QuestionError(
            f"you named several tunnels ({', '.join(names)}): ask about one at a time,"
            f' e.g. "why did {names[0]} drop at 14:02"'
        )
    if found:
        tunnel, word = next(iter(found.values()))
        for problem in ambiguous:
            if tunnel.name not in problem.candidates:  # "berlin on VPNGW01": that gateway is not berlin's
                raise QuestionError(
                    f"{tunnel.name} is not on {problem.reference} (it carries {', '.join(problem.candidates)}):"
                    " name one tunnel"
                )
        return tunnel, word
    if ambiguous:
        raise ambiguous[0]
    return None, ""


def unknown_reference(tokens: Sequence[str], used: frozenset[int], registry: TunnelRegistry) -> str | None:
    """The word most likely meant as a tunnel that the registry does not know, or None.

    An IP or a vpn-… id is the strongest sign; then the word after "tunnel", "did", "to", "is"…
    (skipping question, time and stop words); a word that resembles a known name counts too.
    """
    free = [(i, token) for i, token in enumerate(tokens) if i not in used and not _is_number(token)]
    ids = [token for _, token in free if _ID_LIKE.fullmatch(token)]
    if ids:
        return ids[0]
    candidates = [token for _, token in free if token.lower() not in _VOCABULARY]
    after_trigger = _words_after_triggers(tokens, used)
    for word in after_trigger + candidates:
        if registry.suggest(word):
            return word
    return after_trigger[0] if after_trigger else None


def _words_after_triggers(tokens: Sequence[str], used: frozenset[int]) -> list[str]:
    words: list[str] = []
    low = [token.lower() for token in tokens]
    for i, token in enumerate(low):
        if token not in _TRIGGERS:
            continue
        for j in range(i + 1, len(low)):
            if j in used or low[j] in _VOCABULARY or _is_number(low[j]):
                continue
            if tokens[j] not in words:
                words.append(tokens[j])
            break
    return words


def _is_number(token: str) -> bool:
    return token.replace(".", "", 1).isdigit() and token.isascii()


# ------------------------------------------------------------------------------------------- parsing


def parse_question(text: str, registry: TunnelRegistry, now: datetime, tz: ZoneInfo) -> Question:
    """Read `text` as asked at `now` by someone in zone `tz`.

    Raises QuestionError (one actionable line), or the registry's UnknownTunnel (with the closest names)
    or AmbiguousTunnel (a gateway that carries several tunnels).
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    cleaned = clean_text(text)
    tokens = tokenize(cleaned)
    try:
        reading = read_time(tokens, now, tz)
    except TimeWordsError as problem:
        raise QuestionError(str(problem)) from None
    intent = detect_intent([token.lower() for token in tokens])
    tunnel = _tunnel_for(intent, tokens, reading, registry, cleaned)
    if intent is None:
        intent = Intent.WHY_DROP  # no verb, but a tunnel or a time: the usual question is "why did it drop"
    _refuse_unread_times(reading, tunnel, registry)
    return Question(
        text=cleaned,
        intent=intent,
        tunnel=tunnel,
        window=TimeWindow(reading.start, reading.end),
        anchor=reading.anchor,
        tz=reading.tz,
        explicit_window=reading.explicit,
        user=next((t for t in tokens if "@" in t and "." in t.split("@")[-1]), "") if intent is Intent.P2S else "",
    )


def _tunnel_for(intent: Intent | None, tokens: Sequence[str], reading: TimeReading, registry: TunnelRegistry,
                cleaned: str) -> Tunnel | None:
    """The tunnel the question is about, or the error that explains why there is none."""
    if intent in (Intent.HELP, Intent.TUNNELS):
        return None
    try:
        tunnel, _word = find_tunnel(tokens, reading.used, registry)
    except AmbiguousTunnel as ambiguous:
        if intent is not Intent.P2S:
            raise
        return registry.resolve(ambiguous.candidates[0])  # point-to-site is per gateway: any of its tunnels names it
    if tunnel is not None:
        return tunnel
    reference = unknown_reference(tokens, reading.used, registry)
    if intent is None and not reading.explicit:
        if reference is not None and (registry.suggest(reference) or _ID_LIKE.fullmatch(reference)):
            raise UnknownTunnel(reference, registry.suggest(reference), registry.names())
        raise QuestionError(_not_understood(cleaned, registry))
    if intent is Intent.P2S:  # about users, not tunnels: only an unknown address or id is worth refusing
        if reference is not None and "@" not in reference and _ID_LIKE.fullmatch(reference):
            raise UnknownTunnel(reference, registry.suggest(reference), registry.names())
        return None
    if intent == Intent.SUMMARY:
        return _optional_tunnel(reference, registry)
    if len(registry) == 1 and (reference is None or not _ID_LIKE.fullmatch(reference)):
        return registry.tunnels[0]  # one tunnel configured: a question can only be about it
    if reference is not None:
        raise UnknownTunnel(reference, registry.suggest(reference), registry.names())
    raise QuestionError(_which_tunnel(registry))


def _optional_tunnel(reference: str | None, registry: TunnelRegistry) -> None:
    """A summary covers every tunnel unless one is named; a misspelt or unknown IP name is still refused."""
    if reference is not None and (registry.suggest(reference) or _ID_LIKE.fullmatch(reference)):
        raise UnknownTunnel(reference, registry.suggest(reference), registry.names())
    return None


def _refuse_unread_times(reading: TimeReading, tunnel: Tunnel | None, registry: TunnelRegistry) -> None:
    """ "at lunch": a word where a time belongs that is neither a time nor a tunnel is worth refusing."""
    for word in reading.unread:
        if registry.is_known_word(word) or _ID_LIKE.fullmatch(word):
            continue
        if tunnel is None and registry.suggest(word):
            continue  # already reported as an unknown tunnel, or not needed
        raise QuestionError(f'can\'t read the time "{word}": {TIME_HINT}')


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return '"' + (text if len(text) <= limit else text[: limit - 1] + "…") + '"'


def _not_understood(cleaned: str, registry: TunnelRegistry) -> str:
    first, second, third = (help_examples(registry)[k] for k in (0, 4, 8))
    return f'I didn\'t understand {_quote(cleaned)}: try "{first}", "{second}" or "{third}"'


def _which_tunnel(registry: TunnelRegistry) -> str:
    names = registry.names()
    if not names:
        return "no tunnels are configured: add a [[tunnels]] entry to the configuration"
    shown = ", ".join(names[:12]) + ("…" if len(names) > 12 else "")
    return f'which tunnel? I know {shown}: try "why did {names[0]} drop at 14:02"'
