"""Parsing a chat question into an intent, the tunnels it names and a time window.

"why did tunnel paris drop at 14:02?", "/vpn status lyon", "<@U123> drops dc1 since monday", "what's down right
now?", "paris and lyon down?", "pourquoi paris est tombé hier à 14h02": people type these in a hurry during an
incident, so the parser accepts any case, punctuation, mentions, Slack formatting, word order and five languages,
reads times in the asker's zone, and when it cannot understand it raises one line that says what to type instead
(with the closest tunnel names, or an example that works). Every word is understood or the question is refused:
a word that looks like a time nobody read is never skipped. It only parses: no log is read and no user text is
ever evaluated.

This module cleans the text and puts the pieces together: the language is `translate`'s, the intent `intent`'s, the
tunnels `naming`'s, the time words `lexer`'s and `compose`'s, the words still looking like a time `leftovers`'.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from diagnostics.tunnels import AmbiguousTunnel, Tunnel, TunnelRegistry, UnknownTunnel
from handlers.help import help_examples
from handlers.parse.compose import TimeReading, TimeWordsError, read_time
from handlers.parse.intent import (
    INTENT_WORDS,
    Intent,
    IntentReading,
    asks_about_the_fleet,
    is_state_question,
    mentions_one_thing,
    read_intent,
)
from handlers.parse.leftovers import time_like_leftover
from handlers.parse.lexicon import TIME_HINT, VOCABULARY
from handlers.parse.naming import (
    ID_LIKE,
    Named,
    NamingError,
    find_tunnels,
    index_of,
    is_name,
    is_number,
    unknown_reference,
)
from handlers.parse.translate import ENGLISH, Translation, UnsupportedLanguage, translate


@dataclass(frozen=True)
class TimeWindow:
    start: datetime  # tz-aware, UTC
    end: datetime  # tz-aware, UTC


@dataclass(frozen=True)
class Question:
    """What was asked. `tunnels` is every tunnel named, in order (all of them: the answer caps how many it answers
    and names the rest); `tunnel` is the tunnel when exactly one is named, else None. A STATUS question with no
    tunnel is about every tunnel (the fleet); a SUMMARY with none covers every tunnel. `language` is the language
    the question was read in ("en", "fr", "de", "es", "ja"): answers are in English and say so when it is not "en".
    `notes` are what the answer should say about how the question was read."""

    text: str  # the question as asked, without the leading mention or "/vpn"
    intent: Intent
    tunnel: Tunnel | None  # the one tunnel named; None for none or several, HELP and TUNNELS
    window: TimeWindow
    anchor: datetime | None  # the instant asked about ("at 14:02"), UTC; None for a range/default question
    tz: ZoneInfo  # the asker's zone used to read the times (a zone named in the text wins)
    explicit_window: bool  # True when the user gave a time or range; False for the default window
    user: str = ""  # a user named in a point-to-site question ("why can't alice@contoso.com connect")
    tunnels: tuple[Tunnel, ...] = ()  # every tunnel named, in order; `tunnel` is set when exactly one is
    language: str = "en"  # the language the question was asked in (answers stay in English)
    notes: tuple[str, ...] = ()  # '"local time" is read in your zone (…): no tunnel asked about has a timezone'
    target: str = ""  # a traffic question's address behind the tunnel ("why can't we reach 10.1.2.3 over lyon")

    def __post_init__(self) -> None:
        if self.tunnel is not None and not self.tunnels:  # built with one tunnel (a button, `vpnbot status X`)
            object.__setattr__(self, "tunnels", (self.tunnel,))


class QuestionError(ValueError):
    """A question we cannot answer as written; str() is ONE line a user can act on."""


# ------------------------------------------------------------------------------------------ cleaning

_LEADING_NOISE = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>|@[\w.\-]+|/vpn\b)[\s,:]*", re.IGNORECASE)
_SLACK_LINK = re.compile(r"<(?:[a-z]+:(?://)?)?([^<>|]*)\|([^<>]*)>|<(?:[a-z]+:(?://)?)?([^<>@#!|][^<>|]*)>",
                         re.IGNORECASE)
_SLACK_REFERENCE = re.compile(r"<[@#!][^<>]*>")
_EMOJI_CODE = re.compile(r"(?<!\w):[a-z][a-z0-9_+\-]*:", re.IGNORECASE)  # Slack's ":rotating_light:", not "2001:db8:"
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def clean_text(text: str) -> str:
    """Drop the leading mention/"/vpn", unwrap Slack links, undo Slack's escaping, drop emoji, make full-width
    characters plain (NFKC: "１４：０２" is "14:02"), collapse blanks."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    previous = None
    while previous != text:
        previous, text = text, _LEADING_NOISE.sub("", text, count=1)
    text = _SLACK_LINK.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(3), text)
    text = _SLACK_REFERENCE.sub(" ", text)  # other mentions and channel references are not the question
    text = _EMOJI_CODE.sub(" ", text)
    text = "".join(" " if unicodedata.category(c) == "So" else c for c in text)
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------- words

_STOP_WORDS = {
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "did", "does", "do", "doing", "done", "to",
    "of", "for", "on", "in", "at", "by", "with", "from", "and", "or", "it", "its", "it's", "this", "that",
    "these", "those", "my", "our", "your", "me", "us", "we", "i", "you", "please", "pls", "plz", "can", "could",
    "would", "will", "there", "any", "all", "some", "again", "just", "still", "so", "hey", "hi", "hello",
    "thanks", "what", "what's", "whats", "when", "where", "which", "who", "how", "how's", "hows", "why",
    "go", "going", "gone", "get", "got", "have", "has", "had", "happening", "tunnel", "tunnels", "vpn",
    "vpns", "link", "links", "connection", "connections", "site", "s2s", "ipsec", "ike", "bgp", "list",
    "show", "tell", "give", "many", "much", "often", "times", "about", "around", "near", "approximately",
    "roughly", "exactly", "ago", "last", "past", "since", "between", "until", "before", "after", "today",
    "yesterday", "not", "no", "yes", "too", "also", "ever", "anything", "something", "why's", "right", "now",
    "rn", "atm", "currently", "yet", "side", "only", "looking", "looks", "look", "seems", "confirm",
    "here", "someone", "anyone", "everyone", "guys", "folks", "team", "know", "idea", "like", "wtf",
    "keep", "keeps", "that's", "thats", "being", "having", "stp", "svp", "asap", "ok?",
    "then", "twice", "once", "both", "each", "they", "them", "their", "says", "said", "come", "came",
    "who's", "whos", "where's", "wheres", "what're", "whatre", "as", "if", "whether", "else", "other", "others",
}
_VOCABULARY = _STOP_WORDS | VOCABULARY | INTENT_WORDS
_ACTIONS = {"restart", "reboot", "reset", "bounce", "kick", "fix", "disable", "enable", "delete", "remove", "clear",
            "flush", "shutdown", "rekey", "reconnect", "create", "add", "configure", "change", "update", "deploy",
            "ping", "traceroute", "tracert", "mtr", "ssh"}
_REACTIONS = {"thanks", "thank", "thx", "ty", "cheers", "great", "cool", "awesome", "lol", "merci", "danke", "gracias"}
_STRONG_TRIGGERS = {"tunnel", "to", "with", "status", "of", "check", "about", "is", "did", "does", "in"}
_ARTICLES = {"the", "a", "an", "this", "that", "our", "my"}


def _is_vocabulary(word: str) -> bool:
    return word in _VOCABULARY


# ------------------------------------------------------------------------------------------- parsing


def parse_question(text: str, registry: TunnelRegistry, now: datetime, tz: ZoneInfo, *, tz_is_askers: bool = True
                   ) -> Question:
    """Read `text` as asked at `now` by someone in zone `tz`; `tz_is_askers` False when `tz` is only the configured
    default (Slack gave no zone for the asker), so it says nothing of the asker's region: "14:02 IST" is then refused
    with the choices rather than resolved from it.

    Raises QuestionError (one actionable line), or the registry's UnknownTunnel (with the closest names)
    or AmbiguousTunnel (a gateway that carries several tunnels). Against a view of the registry (what a channel
    may see: `TunnelRegistry.only`) every suggestion, list and example comes from the view, and a word naming a
    tunnel outside it raises OutsideTunnel.

    A question that names no tunnel but asks about the state or the drops of "anything" ("what's down right now?",
    "any tunnels down?", "anything dropping today", "what dropped at 14:02 yesterday", "status") is a status
    question about every tunnel: intent STATUS, `tunnels == ()`. Its window is the one asked about: "today", "this
    morning", "last hour" run to now, "at 14:02" is 14:02 ±15 min (`anchor` set); with no time (or "right now") it
    is the default last 24 h up to now (`explicit_window` False), in which the state now is read.
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    cleaned = clean_text(text)
    translation = _translation(cleaned, registry)
    tokens = list(translation.tokens)
    words = [token.lower() for token in tokens]
    if words and words[0] in _ACTIONS:
        raise QuestionError(f'I only read logs, I can\'t {words[0]} tunnels: try "{help_examples(registry)[4]}"'
                            f' or "{help_examples(registry)[0]}"')
    places = index_of(registry).places
    reading = _read(tokens, now, tz, places, translation.clock24, region=tz_is_askers)
    said = read_intent(words)
    target = _target(said.intent, tokens, reading, registry)
    if target is not None:  # an address asked about is not a tunnel to look up
        reading = replace(reading, used=reading.used | {target})
    named, fleet = _tunnels_for(said.intent, tokens, words, reading, registry, cleaned)
    if reading.local and named.tunnels:
        reading = _read(tokens, now, tz, places, translation.clock24, _local_zone(named.tunnels), region=tz_is_askers)
    intent = _settled(said, words, named.tunnels, fleet, reading, now)
    _refuse_time_like(tokens, reading, registry, translation.language)
    _refuse_unread_times(reading, named.tunnels, registry)
    _refuse_what_cannot_be_answered(intent, named.tunnels, reading, registry)
    tunnels = named.tunnels[:1] if intent is Intent.P2S else named.tunnels
    return Question(
        text=cleaned,
        intent=intent,
        tunnel=tunnels[0] if len(tunnels) == 1 else None,
        window=_default_window(intent, now, reading),
        anchor=reading.anchor,
        tz=reading.tz,
        explicit_window=reading.explicit,
        user=next((t for t in tokens if "@" in t and "." in t.split("@")[-1]), "") if intent is Intent.P2S else "",
        tunnels=tunnels,
        language=translation.language,
        notes=reading.notes,
        target=tokens[target] if target is not None and intent is Intent.TRAFFIC else "",
    )


def _target(intent: Intent | None, tokens: Sequence[str], reading: TimeReading, registry: TunnelRegistry
            ) -> int | None:
    """The index of the address a traffic question asks about: the first IP that names no tunnel."""
    if intent is not Intent.TRAFFIC:
        return None
    for i, token in enumerate(tokens):
        if i not in reading.used and _IP.fullmatch(token) and not is_name(token, registry):
            return i
    return None


_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|(?=[^:]*[0-9a-f])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}", re.I | re.ASCII)


#: "is traffic flowing over paris?" asks about now: the metrics of the last hour (a day of them would hide a stop).
TRAFFIC_DEFAULT = timedelta(hours=1)


def _default_window(intent: Intent, now: datetime, reading: TimeReading) -> TimeWindow:
    """The window read: the one asked about, else the intent's default."""
    if intent is Intent.SUMMARY and not reading.explicit:
        return _yesterday(now, reading.tz)
    if intent is Intent.TRAFFIC and not reading.explicit:
        return TimeWindow(now - TRAFFIC_DEFAULT, now)
    return TimeWindow(reading.start, reading.end)


def _yesterday(now: datetime, tz: ZoneInfo) -> TimeWindow:
    """ "summary" alone is yesterday's (what the morning message covers): its window says so."""
    today = now.astimezone(tz).date()
    start = datetime.combine(today - timedelta(days=1), datetime.min.time(), tzinfo=tz)
    end = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    return TimeWindow(start.astimezone(UTC), end.astimezone(UTC))


def _translation(cleaned: str, registry: TunnelRegistry) -> Translation:
    """The question in English words; refused when it is in a language we do not read, or holds words we do not
    know in one we do ("never misread": one unknown word may turn the question around)."""
    example = help_examples(registry)[0]
    try:
        translation = translate(cleaned, lambda token: is_name(token, registry), _VOCABULARY)
    except UnsupportedLanguage as problem:
        raise QuestionError(f'{problem}: ask in English, e.g. "{example}"') from None
    if translation.unknown:
        close = next((w for w in translation.unknown if ID_LIKE.fullmatch(w) or _close_to_a_name(w, registry)), None)
        if close is not None:
            raise UnknownTunnel(close, registry.suggest(close), registry.names())
        shown = " ".join(translation.unknown[:3])
        raise QuestionError(f'I didn\'t understand "{shown}" in this {translation.name} question: ask in English,'
                            f' e.g. "{example}" (answers are in English anyway)')
    return translation


def _close_to_a_name(word: str, registry: TunnelRegistry) -> bool:
    return bool(index_of(registry).close(word))


def _read(tokens: Sequence[str], now: datetime, tz: ZoneInfo, places: dict[str, str], clock24: bool,
          local: ZoneInfo | None = None, region: bool = True) -> TimeReading:
    try:
        return read_time(tokens, now, tz, places=places, local=local, clock24=clock24, region=region)
    except TimeWordsError as problem:
        raise QuestionError(str(problem)) from None


def _local_zone(tunnels: Sequence[Tunnel]) -> ZoneInfo | None:
    """ "local time" in a question about tunnels that share a configured zone is that zone."""
    zones = {tunnel.timezone for tunnel in tunnels}
    return ZoneInfo(zones.pop()) if len(zones) == 1 and "" not in zones else None


def _tunnels_for(intent: Intent | None, tokens: Sequence[str], words: Sequence[str], reading: TimeReading,
                 registry: TunnelRegistry, cleaned: str) -> tuple[Named, bool]:
    """The tunnels the question is about, and whether it is about every tunnel (the fleet); or the error that
    explains why there is none."""
    if intent is Intent.HELP:
        return Named(()), False
    try:
        named = find_tunnels(tokens, reading.used, registry)
    except AmbiguousTunnel as ambiguous:
        if intent is not Intent.P2S:
            raise
        return Named((registry.resolve(ambiguous.candidates[0]),)), False  # point-to-site is per gateway
    except NamingError as problem:
        raise QuestionError(str(problem)) from None
    if named.tunnels and intent is None and not reading.explicit and _REACTIONS & set(words):
        raise QuestionError(_not_understood(cleaned, registry))  # "nice, thanks!" (a tunnel named nice) is no question
    if named.tunnels and intent not in (Intent.EVIDENCE, Intent.TRAFFIC) and _besides(words):
        # "anything else down besides paris?", "summary except paris": every tunnel, paris among them
        return Named(()), intent is not Intent.SUMMARY
    if named.tunnels or intent is Intent.TUNNELS:
        return named, False
    reference = unknown_reference(tokens, reading.used, registry, _is_vocabulary)
    if intent is None and not reading.explicit:
        if reference is not None and (index_of(registry).close(reference, 0.6) or ID_LIKE.fullmatch(reference)):
            raise UnknownTunnel(reference, registry.suggest(reference), registry.names())
        raise QuestionError(_not_understood(cleaned, registry))
    if intent is Intent.P2S:  # about users, not tunnels: only an unknown address or id is worth refusing
        if reference is not None and "@" not in reference and ID_LIKE.fullmatch(reference):
            raise UnknownTunnel(reference, registry.suggest(reference), registry.names())
        return named, False
    if intent == Intent.SUMMARY:
        _optional_tunnel(reference, registry)
        return named, False
    if len(registry) == 1 and (reference is None or not ID_LIKE.fullmatch(reference)):
        return Named((registry.tunnels[0],)), False  # one tunnel configured: a question can only be about it
    if _fleet_wide(intent, words):
        _refuse_a_named_stranger(tokens, reading.used, registry)
        return named, True
    if reference is not None:
        raise UnknownTunnel(reference, registry.suggest(reference), registry.names())
    if intent is Intent.TRAFFIC and registry.names():
        names = registry.names()
        raise QuestionError(f'which tunnel does the traffic go over? I know {", ".join(names[:12])}'
                            f'{"…" if len(names) > 12 else ""}: try "is traffic flowing over {names[0]}"')
    raise QuestionError(_which_tunnel(registry))


def _besides(words: Sequence[str]) -> bool:
    """ "anything else down besides paris?", "all tunnels except paris", "is paris the only one down?": about the
    others too, which only an answer about every tunnel gives."""
    if "why" in words:  # "why did paris drop, anything else?": paris' drop is asked for
        return False
    if _EXCLUDING & set(words) or any(a == "other" and b == "than" for a, b in pairwise(words)):
        return True
    return (bool(_OTHERS & set(words)) and asks_about_the_fleet(words)) or ("only" in words and "one" in words)


_EXCLUDING = {"besides", "beside", "except", "excluding", "apart"}
_OTHERS = {"else", "but", "other", "others"}


def _fleet_wide(intent: Intent | None, words: Sequence[str]) -> bool:
    """Status without a tunnel is every tunnel's; "any tunnels down", "what dropped at 14:02", "how many drops
    today" too; "why did it drop", "why did the tunnel drop" ask which tunnel."""
    if intent is Intent.STATUS:
        return True
    if intent is Intent.DROPS:
        return not mentions_one_thing(words)
    return intent in (Intent.WHY_DROP, None) and asks_about_the_fleet(words)


def _refuse_a_named_stranger(tokens: Sequence[str], used: frozenset[int], registry: TunnelRegistry) -> None:
    """ "what's up with kyoto", "kyoto down?", "anything down in kyoto", "paris-lyon status": the word right after
    "with"/"to"/"in"/"status"…, or before the state word it is the subject of, or glued to a tunnel name, names a
    tunnel we do not know; answering about every tunnel instead would be a misread."""
    low = [token.lower() for token in tokens]
    for i, word in enumerate(low):
        if word not in _STRONG_TRIGGERS:
            continue
        j = i + 1
        while j < len(low) and low[j] in _ARTICLES:
            j += 1
        if j < len(low) and j not in used and not _is_vocabulary(low[j]) and not is_number(low[j]):
            raise UnknownTunnel(tokens[j], registry.suggest(tokens[j]), registry.names())
    for i, token in enumerate(tokens):
        if i in used or _is_vocabulary(low[i]) or not any(c.isalnum() for c in token):
            continue
        subject = all(_is_vocabulary(word) for word in low[:i]) and _said_to_be_in_a_state(low, i)
        if ID_LIKE.fullmatch(token) or _close_to_a_name(token, registry) or subject or _names_inside(token, registry):
            raise UnknownTunnel(token, registry.suggest(token), registry.names())


def _said_to_be_in_a_state(low: Sequence[str], i: int) -> bool:
    """ "kyoto down?", "kyoto is down", "madrid is still flapping": the word is the one thing said to be in a state."""
    j = i + 1
    while j < len(low) and low[j] in _LINKING:
        j += 1
    return j < len(low) and is_state_question(low[j:j + 1])


_LINKING = {"is", "are", "was", "were", "has", "have", "been", "being", "still", "keeps", "keep", "again", "just",
            "now", "currently", "seems", "looks", "also", "too", "totally", "completely"}


def _names_inside(token: str, registry: TunnelRegistry) -> bool:
    """ "paris-lyon": names glued together are no tunnel of that name, and not every tunnel either."""
    parts = [part for part in re.split(r"[-_.+]", token) if part]
    return len(parts) > 1 and any(is_name(part, registry) for part in parts)


def _settled(said: IntentReading, words: Sequence[str], tunnels: Sequence[Tunnel], fleet: bool,
             reading: TimeReading, now: datetime) -> Intent:
    """The intent once the tunnels and the time are known."""
    if fleet:
        return Intent.STATUS
    intent = said.intent
    if intent is Intent.TUNNELS and tunnels:  # "all tunnels on VPNGW01": their status, not the list
        return Intent.STATUS
    if intent is Intent.TUNNELS and reading.explicit:  # "tunnels yesterday": what they did, not the list
        return Intent.STATUS
    if intent is None:
        return Intent.WHY_DROP  # no verb, but a tunnel or a time: the usual question is "why did it drop"
    if intent is Intent.STATUS and not said.command and tunnels and is_state_question(words) and _in_the_past(reading,
                                                                                                           now):
        return Intent.WHY_DROP  # "paris down 1402 yesterday": what happened then, not its state now
    return intent


def _in_the_past(reading: TimeReading, now: datetime) -> bool:
    """An instant, or a window that ended before now ("yesterday"), not one that runs to now ("since 9am")."""
    return reading.explicit and (reading.anchor is not None or reading.end < now - _NOW_ISH)


_NOW_ISH = timedelta(minutes=1)


def _optional_tunnel(reference: str | None, registry: TunnelRegistry) -> None:
    """A summary covers every tunnel unless one is named; a misspelt or unknown IP name is still refused."""
    if reference is not None and (index_of(registry).close(reference, 0.6) or ID_LIKE.fullmatch(reference)):
        raise UnknownTunnel(reference, registry.suggest(reference), registry.names())


def _refuse_unread_times(reading: TimeReading, tunnels: Sequence[Tunnel], registry: TunnelRegistry) -> None:
    """ "at lunch": a word where a time belongs that is neither a time nor a tunnel is worth refusing."""
    for word in reading.unread:
        if registry.is_known_word(word) or ID_LIKE.fullmatch(word):
            continue
        if not tunnels and index_of(registry).close(word, 0.6):
            continue  # already reported as an unknown tunnel, or not needed
        raise QuestionError(f'can\'t read the time "{word}": {TIME_HINT}')


def _refuse_time_like(tokens: Sequence[str], reading: TimeReading, registry: TunnelRegistry, language: str) -> None:
    def known(word: str) -> bool:
        return is_name(word, registry) or (word.lower() in _VOCABULARY and word.lower() not in _TIME_ISH_VOCABULARY)

    problem = time_like_leftover(tokens, reading.used, known, language == ENGLISH, _example_yesterday(registry))
    if problem is not None:
        raise QuestionError(problem)


# Vocabulary words that are times: left over (not read as a time), they are refused rather than skipped.
_TIME_ISH_VOCABULARY = frozenset({"january", "february", "april", "june", "july", "august", "september", "october",
                                  "november", "december", "mon", "tue", "tues", "wed", "thu", "thurs", "fri", "sat",
                                  "sun", "ago"})


def _example_yesterday(registry: TunnelRegistry) -> str:
    return help_examples(registry)[0].replace(" at ", " yesterday at ")


def _refuse_what_cannot_be_answered(intent: Intent, tunnels: Sequence[Tunnel], reading: TimeReading,
                                    registry: TunnelRegistry) -> None:
    if intent is Intent.EVIDENCE and len(tunnels) > 1:
        raise QuestionError(f"an evidence bundle holds one tunnel's investigation: ask about one at a time, e.g."
                            f' "evidence {tunnels[0].name} at 14:02"')
    if intent is Intent.SUMMARY and reading.explicit:
        first = reading.start.astimezone(reading.tz).date()
        last = (reading.end - timedelta(microseconds=1)).astimezone(reading.tz).date()
        if last > first:
            raise QuestionError('a summary covers one day: try "summary yesterday", "summary saturday" or'
                                ' "summary 2026-11-20"')


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
    return (f'which tunnel? I know {shown}: try "why did {names[0]} drop at 14:02", or "status" for every tunnel'
            ' now, "summary" for yesterday')
