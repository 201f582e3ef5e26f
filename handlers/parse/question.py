"""Parsing a chat question into an intent, a tunnel and a time window.

"why did tunnel paris drop at 14:02?", "/vpn status lyon", "<@U123> drops dc1 since monday": people
type these in a hurry during an incident, so the parser accepts any case, punctuation, mentions and
word order, reads times in the asker's zone, and when it cannot understand it raises one line that
says what to type instead (with the closest tunnel names, or an example that works). It only parses:
no log is read and no user text is ever evaluated.

This module cleans the text, finds the tunnel and puts the pieces together; the intent is `intent`'s, the time
words are `lexer`'s and `compose`'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from diagnostics.tunnels import AmbiguousTunnel, Tunnel, TunnelRegistry, UnknownTunnel
from handlers.help import help_examples
from handlers.parse.compose import TimeReading, TimeWordsError, read_time
from handlers.parse.intent import INTENT_WORDS, Intent, detect_intent
from handlers.parse.lexer import tokenize
from handlers.parse.lexicon import TIME_HINT, VOCABULARY


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
_VOCABULARY = _STOP_WORDS | VOCABULARY | INTENT_WORDS
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
    or AmbiguousTunnel (a gateway that carries several tunnels). Against a view of the registry (what a channel
    may see: `TunnelRegistry.only`) every suggestion, list and example comes from the view, and a word naming a
    tunnel outside it raises OutsideTunnel.
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
    if not names and registry.limited:
        return "there is no tunnel you can ask about here"
    if not names:
        return "no tunnels are configured: add a [[tunnels]] entry to the configuration"
    shown = ", ".join(names[:12]) + ("…" if len(names) > 12 else "")
    return f'which tunnel? I know {shown}: try "why did {names[0]} drop at 14:02"'
