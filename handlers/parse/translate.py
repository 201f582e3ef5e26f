"""Which language a question is in, and the same question in the English words the parser reads.

"pourquoi paris est tombé hier à 14h02" becomes "why paris dropped yesterday at 14h02"; "parisはなぜ昨日14時02分に落ちた
の？" becomes "paris why yesterday 14:02 dropped". Tunnel names, addresses, ids and times pass through as typed. The
tables are `languages`'; this module only detects and rewrites. In another language, a word no table knows makes
the whole question not understood (`Translation.unknown`): a word we cannot read may turn the question around, so
the caller refuses it rather than guesses. English questions pass through untouched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from handlers.parse.formats import CLOCK_LIKE_RE
from handlers.parse.languages import (
    JAPANESE,
    JAPANESE_DATE,
    JAPANESE_PARTICLES,
    JAPANESE_QUESTIONS,
    JAPANESE_TIME_WORDS,
    JAPANESE_TIMES,
    LANGUAGES,
    MONTHS_EN,
    UNSUPPORTED_MARKERS,
    Language,
)
from handlers.parse.lexer import tokenize
from handlers.parse.lexicon import AMBIGUOUS_ZONES, ZONE_ABBREVIATIONS

ENGLISH = "en"
READ = "English, French, German, Spanish and Japanese"
# English words that say a question is English (not "status", "ok", "down": every language borrows those).
_ENGLISH_MARKERS = frozenset({
    "why", "what", "what's", "whats", "which", "who", "who's", "did", "does", "do", "is", "are", "was", "were", "has",
    "have", "the", "any", "anything", "everything", "at", "since", "between", "yesterday", "today", "drop", "dropped",
    "happened", "went", "go", "how", "many", "with", "to", "of", "for", "and", "or", "it", "my", "me", "please",
    "pls", "last", "ago", "this", "in", "on", "from", "after", "before", "around", "about", "can", "someone",
    "anyone", "still", "again", "right", "there", "when", "morning", "afternoon", "night", "hour", "hours",
})
# A word of one of these meanings says little about the language ("stp" in "status paris stp").
_NEUTRAL_MEANINGS = {"please", "thanks", "hi"}
_KANA = re.compile(r"[\u3040-\u30ff]")
_IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff65]+")
_DIGIT_START = re.compile(r"[\d~]")
_LATIN_WORD = re.compile(r"[^\W\d_]", re.UNICODE)
_REORDER = (  # English word order after a word-for-word rewrite
    (re.compile(r"\bfrom (\S+) at (\S+)"), r"from \1 to \2"),  # "de 13h à 15h"
    (re.compile(r"\b(\d+(?:\.\d+)?) last (\w+)"), r"last \1 \2"),  # "les 30 dernières minutes"
)


@dataclass(frozen=True)
class Translation:
    language: str  # "en", "fr", "de", "es", "ja"
    tokens: tuple[str, ...]  # the question as English tokens
    unknown: tuple[str, ...] = ()  # words no table of `language` knows: the question must be refused
    clock24: bool = False

    @property
    def name(self) -> str:
        return next((lang.name for lang in (*LANGUAGES, JAPANESE) if lang.code == self.language), "English")


class UnsupportedLanguage(ValueError):
    """A question in a language (or script) we do not read; str() is one line with an English example."""


def translate(text: str, is_name: Callable[[str], bool], english: Collection[str]) -> Translation:
    """`text` (cleaned) as English tokens. `is_name` says which words are tunnel names (kept as typed); `english`
    are the English words the parser reads (kept in a question in another language: "paris est down")."""
    if _KANA.search(text) or _IDEOGRAPH.search(text):
        return _japanese(text, is_name, english)
    foreign = next((c for c in text if c.isalpha() and not _is_latin(c)), None)
    if foreign is not None:
        raise UnsupportedLanguage(f"I read questions in {READ}, not in this script")
    tokens = tokenize(text)
    language = _detect(tokens, is_name)
    if language is None:
        return Translation(ENGLISH, tuple(tokens))
    return _rewrite(tokens, language, is_name, english)


def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def fold(word: str) -> str:
    """Lower case, no accents ("Tombé" -> "tombe", "läuft" -> "lauft"), typographic apostrophes made plain."""
    decomposed = unicodedata.normalize("NFD", word.lower().replace("’", "'").replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# ------------------------------------------------------------------------------------------ detection


@lru_cache(maxsize=1)
def _marker_weights() -> Mapping[str, Mapping[str, float]]:
    """For each language, the words that say it (single-word keys that are no English word), each weighted by how
    many languages share it ("de" is French and Spanish: half a vote each)."""
    sets: dict[str, frozenset[str]] = {
        lang.name: frozenset(
            key for key, value in (*lang.words.items(), *((k, v[1]) for k, v in lang.numeric.items()))
            if " " not in key and key not in _ENGLISH_WORDS and value not in _NEUTRAL_MEANINGS
        )
        for lang in LANGUAGES
    }
    sets.update({name: frozenset(words - _ENGLISH_WORDS) for name, words in UNSUPPORTED_MARKERS.items()})
    counts: dict[str, int] = {}
    for words in sets.values():
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    return {name: {word: 1 / counts[word] for word in words} for name, words in sets.items()}


# Words of English (or of every language: "status", "tunnel") that never tell another language.
_ENGLISH_WORDS = _ENGLISH_MARKERS | {
    "a", "am", "an", "as", "be", "by", "die", "hat", "war", "so", "no", "not", "up", "down", "ok", "okay", "status",
    "tunnel", "tunnels", "vpn", "vpns", "link", "links", "weekend", "minute", "minutes", "problem", "problems",
    "summary", "history", "evidence", "online", "offline", "recap", "uhr", "see", "man", "fast", "also", "all",
    "now", "we", "us", "he", "hi", "if", "go", "art", "bin", "rat", "mist", "gift", "tag", "will",
}


def _detect(tokens: Sequence[str], is_name: Callable[[str], bool]) -> Language | None:
    """The language of the question, None for English; raises UnsupportedLanguage for one we do not read."""
    words = [part for i, token in enumerate(tokens) if not is_name(token) and not is_zone_by_a_clock(tokens, i)
             for part in _parts(fold(token), _ALL_ELISIONS)]
    scores = {name: sum(weights.get(word, 0.0) for word in words) for name, weights in _marker_weights().items()}
    english = sum(word in _ENGLISH_MARKERS for word in words)
    best = max(scores, key=lambda name: scores[name])
    if scores[best] <= english:  # a shared word ("la") is half a vote: "peux-tu redémarrer le tunnel" is French
        return None
    language = next((lang for lang in LANGUAGES if lang.name == best), None)
    if language is None:
        raise UnsupportedLanguage(f"I read questions in {READ}, not in {best}")
    return language


_ALL_ELISIONS = tuple(e for lang in LANGUAGES for e in lang.elisions)


def is_zone_by_a_clock(tokens: Sequence[str], i: int) -> bool:
    """ "14:02 EST", "9am PST", "EST 14:02": a zone abbreviation next to a clock is a zone in every language (and
    says nothing about the language), while "est" elsewhere is French for "is"."""
    word = tokens[i].lower()
    if word not in ZONE_ABBREVIATIONS and word not in AMBIGUOUS_ZONES:
        return False
    return any(0 <= j < len(tokens) and CLOCK_LIKE_RE.fullmatch(tokens[j].lower()) for j in (i - 1, i + 1))


def _parts(word: str, elisions: Sequence[str]) -> list[str]:
    """ "qu'est-ce" -> ["qu", "est-ce"]; "aujourd'hui" (a word of its own) stays whole."""
    for elision in elisions:
        if word.startswith(elision) and len(word) > len(elision) + 1 and word not in _WHOLE:
            return [elision[:-1], word[len(elision):]]
    return [word]


_WHOLE = frozenset(key for lang in LANGUAGES for key in lang.words if "'" in key)


# -------------------------------------------------------------------------------------------- rewrite


def _rewrite(tokens: Sequence[str], language: Language, is_name: Callable[[str], bool],
             english: Collection[str]) -> Translation:
    """Word for word, the longest known phrase first; names, numbers, times and English words as typed."""
    original: list[str] = []
    folded: list[str] = []
    for token in tokens:
        parts = [token] if is_name(token) else _parts(fold(token), language.elisions)
        original.extend(parts if len(parts) > 1 else [token])
        folded.extend(parts)
    out: list[str] = []
    unknown: list[str] = []
    longest = max(key.count(" ") for key in (*language.words, *language.numeric)) + 1
    i = 0
    while i < len(folded):
        if (is_name(original[i]) or _DIGIT_START.match(folded[i]) or not _LATIN_WORD.search(folded[i])
                or is_zone_by_a_clock(original, i)):
            out.append(original[i])
            i += 1
            continue
        found = _phrase(folded, i, language, longest)
        if found is not None:
            size, meaning = found
            out.extend(meaning.split())
            i += size
            continue
        (out if folded[i] in english else unknown).append(original[i] if folded[i] not in english else folded[i])
        i += 1
    text = " ".join(out)
    for pattern, replacement in _REORDER:
        text = pattern.sub(replacement, text)
    return Translation(language.code, tuple(text.split()), tuple(unknown), language.clock24)


def _phrase(folded: Sequence[str], i: int, language: Language, longest: int) -> tuple[int, str] | None:
    for size in range(min(longest, len(folded) - i), 0, -1):
        key = " ".join(folded[i:i + size])
        if key in language.numeric:
            before_number = i + size < len(folded) and _DIGIT_START.match(folded[i + size]) is not None
            return size, language.numeric[key][0 if before_number else 1]
        if key in language.words:
            return size, language.words[key]
    return None


# ------------------------------------------------------------------------------------------- Japanese


def _japanese(text: str, is_name: Callable[[str], bool], english: Collection[str]) -> Translation:
    """Times first ("14時02分" -> "14:02", "13時から15時" -> "from 13:00 to 15:00"), then the words, longest first;
    particles are dropped. Ideographs alone may be Chinese: if a word is not ours the question is not understood."""
    text = re.sub(JAPANESE_DATE, lambda m: f" {m[2]} {MONTHS_EN[int(m[1]) - 1]} " if 1 <= int(m[1]) <= 12
                  else m[0], text)
    for pattern, replacement in (*JAPANESE_TIMES, *JAPANESE_TIME_WORDS, *JAPANESE_QUESTIONS):
        text = re.sub(pattern, replacement, text)
    unknown: list[str] = []
    english_text = _CJK_RUN.sub(lambda run: f" {_segment(run[0], unknown)} ", text)
    tokens = tokenize(english_text)
    unknown += [t for t in tokens if _LATIN_WORD.search(t) and not _DIGIT_START.match(t) and not is_name(t)
                and t.lower() not in english and t.lower() not in _JAPANESE_MEANINGS]
    if unknown and not _KANA.search(text):
        raise UnsupportedLanguage(f"I read questions in {READ}, not in this language")
    return Translation(JAPANESE.code, tuple(tokens), tuple(unknown), JAPANESE.clock24)


_LONGEST_JAPANESE = max(len(key) for key in JAPANESE.words)
_JAPANESE_MEANINGS = frozenset(word for meaning in JAPANESE.words.values() for word in meaning.split())


def _segment(run: str, unknown: list[str]) -> str:
    words: list[str] = []
    pending = ""
    i = 0
    while i < len(run):
        for size in range(min(_LONGEST_JAPANESE, len(run) - i), 0, -1):
            if run[i:i + size] in JAPANESE.words:
                words.append(JAPANESE.words[run[i:i + size]])
                i += size
                break
        else:
            if run[i] not in JAPANESE_PARTICLES:
                pending += run[i]
            elif pending:
                unknown.append(pending)
                pending = ""
            i += 1
            continue
        if pending:
            unknown.append(pending)
            pending = ""
    if pending:
        unknown.append(pending)
    return " ".join(word for word in words if word)
