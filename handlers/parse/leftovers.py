"""The words of a question nothing read that still look like a time or a date: refused with a suggestion, never
skipped. A skipped "1402", "yesterdy" or "hier" would answer about another window and say nothing about it.

Refused: a number that counts nothing ("paris drop 3"), a word for a time of day we do not read ("after lunch",
"eod"), "half past two", a month without its day ("in august"), a misspelt time word ("yesterdy": did you mean
"yesterday"?), and another language's time word in an English question ("why did paris drop hier").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from handlers.parse.languages import LANGUAGES, OTHER_TIME_WORDS
from handlers.parse.lexicon import (
    COUNTED_NOUNS,
    DAY_WORDS,
    MONTHS,
    PERIODS,
    REFERENCE_WORDS,
    TIME_HINT,
    VAGUE_TIME_WORDS,
    WEEKDAYS,
    WEEKEND_WORDS,
)
from handlers.parse.naming import ID_LIKE

_NUMBERISH = re.compile(r"\d+(?:[.,]\d+)?(?:st|nd|rd|th|h|m|min|mins|hrs?|s)?", re.ASCII)
# "22.11.2026", "2026.11.22", "22-11" (a dotted pair is refused as a time: "14.02"); IPs are read before this
_DATE_LIKE = re.compile(r"\d{1,4}(?:[./-]\d{1,4}){2}\.?|\d{1,2}-\d{1,2}", re.ASCII)
_EVERY_PERIOD = {"weekly", "monthly", "hourly", "nightly", "yearly", "annual", "quarterly", "biweekly"}
_COUNTING = {"top", "first", "than", "over", "under", "least", "most", "x", "#", "number", "no", "about", "around",
             "like", "maybe", "approx", "roughly", "some",
             *REFERENCE_WORDS}
_MONTH_NAMES = {"january", "february", "april", "june", "july", "august", "september", "october", "november",
                "december"}
_SHORT_WEEKDAYS = {short: full for full, index in WEEKDAYS.items() if len(full) > 5
                   for short, same in WEEKDAYS.items() if same == index and len(short) <= 5}
_TIME_WORDS = sorted(set(DAY_WORDS) | set(PERIODS) | set(WEEKDAYS) | set(MONTHS) | WEEKEND_WORDS
                     | {"yesterday", "midnight", "minutes", "seconds", "tonight", "fortnight", "o'clock"})
_MEANINGS_OF_TIME = {"yesterday", "today", "tomorrow", "day", "this", "last", "morning", "afternoon", "evening",
                     "night", "tonight", "noon", "midnight", "weekend", "am", "pm", "monday", "tuesday", "wednesday",
                     "thursday", "friday", "saturday", "sunday", *MONTHS}


@lru_cache(maxsize=1)
def _foreign_time_words() -> frozenset[str]:
    """Time words of the other languages we read ("hier", "gestern", "ayer") and of a few we do not ("ieri")."""
    words = {key for lang in LANGUAGES for key, meaning in lang.words.items()
             if " " not in key and meaning and meaning.split()[0] in _MEANINGS_OF_TIME}
    return frozenset(words | OTHER_TIME_WORDS)


def time_like_leftover(tokens: Sequence[str], used: frozenset[int], known: Callable[[str], bool],
                       english: bool, example: str) -> str | None:
    """The refusal (one line) for the first word no reader took that looks like a time, else None. `known` says
    which words are understood otherwise (tunnel names, the parser's vocabulary); `english` whether the question
    was read as English (another language's time words are then refused)."""
    low = [token.lower() for token in tokens]
    for i, word in enumerate(low):
        if i in used or ID_LIKE.fullmatch(word):
            continue
        following = low[i + 1] if i + 1 < len(low) else ""
        if word in ("half", "quarter") and following in ("past", "to"):
            raw = " ".join(tokens[i:i + 3])
            return f'can\'t read the time "{raw}": try "at 2:30pm" or "at 14:30"'
        if i - 1 in used and 2 <= len(word) <= 5 and word.isalpha() and tokens[i].isupper() and word.endswith("t"):
            return f'unknown time zone "{tokens[i]}": try UTC, CET or a name like Europe/Paris'
        if known(tokens[i]) or known(word):
            continue
        problem = _problem(low, i, tokens[i], english, example)
        if problem is not None:
            return problem
    return None


def _problem(low: Sequence[str], i: int, raw: str, english: bool, example: str) -> str | None:
    word = low[i]
    following = low[i + 1] if i + 1 < len(low) else ""
    previous = low[i - 1] if i else ""
    if word in VAGUE_TIME_WORDS:
        return f'can\'t read the time "{raw}": {TIME_HINT}'
    if word in _EVERY_PERIOD:  # "weekly summary": a summary is one day's, and a window is one stretch of time
        return (f'can\'t read "{raw}": ask about one stretch of time, e.g. "summary yesterday" or "drops paris in the'
                ' last 7 days"')
    if word == "ago":  # "an hour and a half ago": how long ago was not read
        return 'can\'t read how long ago: try "2 hours ago", "90 min ago" or "at 14:02"'
    if _DATE_LIKE.fullmatch(word):
        return f'can\'t read the date "{raw}": try "on 2026-11-20", "on 20 Nov" or "yesterday"'
    if _NUMBERISH.fullmatch(word) and following not in COUNTED_NOUNS and previous not in _COUNTING:
        return f'can\'t read the time "{raw}": {TIME_HINT}'
    if word in _MONTH_NAMES:
        return f'can\'t read the date "{raw}": which day? try "on 20 {raw[:3].title()}"'
    if word in _SHORT_WEEKDAYS:  # "dc1 drop sat": "sat", "sun", "wed" alone are also other words
        return f'can\'t read the day "{raw}": try "on {_SHORT_WEEKDAYS[word]}" or "last {_SHORT_WEEKDAYS[word]}"'
    if english and word in _foreign_time_words():
        return f'can\'t read "{raw}" in an English question: ask in one language, e.g. "{example}"'
    if len(word) >= 5 and word.isalpha():
        close = difflib.get_close_matches(word, _TIME_WORDS, n=1, cutoff=0.8)
        if close:
            return f'can\'t read the time "{raw}": did you mean "{close[0]}"?'
    return None
