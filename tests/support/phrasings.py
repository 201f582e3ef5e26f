"""The phrasings corpus (tests/phrasings/): loading it, and judging how the parser read each question.

`test_phrasings.py` fails on any entry not judged right; `benchmarks/bench_parse.py` times the same questions and
prints the counts (understood / refused with a suggestion / misread).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from diagnostics.tunnels import AmbiguousTunnel, Tunnel, TunnelRegistry, UnknownTunnel
from handlers.parse.question import Question, QuestionError, parse_question

CORPUS = Path(__file__).resolve().parent.parent / "phrasings"
NOW = datetime(2026, 11, 23, 15, 40, tzinfo=UTC)  # Monday: 16:40 in Paris, 10:40 in New York, Tue 00:40 in Tokyo
REFUSALS = (QuestionError, UnknownTunnel, AmbiguousTunnel)

UNDERSTOOD = "understood"
REFUSED = "refused with a suggestion"
MISREAD = "misread"
WRONGLY_REFUSED = "refused, but should be understood"
BAD_REFUSAL = "refused, without the expected suggestion"


@dataclass(frozen=True)
class Phrasing:
    source: str  # file name, for the test id
    text: str
    tz: ZoneInfo
    expected: dict[str, Any] = field(hash=False)

    @property
    def id(self) -> str:
        return f"{self.source}:{self.text}"


@dataclass(frozen=True)
class Verdict:
    outcome: str
    detail: str = ""


def registry() -> TunnelRegistry:
    data = tomllib.loads((CORPUS / "tunnels.toml").read_text(encoding="utf-8"))
    return TunnelRegistry(Tunnel.from_mapping(entry) for entry in data["tunnels"])


def phrasings() -> list[Phrasing]:
    found: list[Phrasing] = []
    for path in sorted(CORPUS.glob("*.toml")):
        if path.name == "tunnels.toml":
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for entry in data["q"]:
            expected = {"language": data.get("language"), **entry}
            tz = ZoneInfo(entry.get("tz", data.get("tz", "UTC")))
            found.append(Phrasing(path.stem, entry["text"], tz, expected))
    return found


def ask(phrasing: Phrasing, tunnels: TunnelRegistry) -> Question:
    return parse_question(phrasing.text, tunnels, NOW, phrasing.tz)


def judge(phrasing: Phrasing, tunnels: TunnelRegistry) -> Verdict:
    """How the parser read one entry, against what a colleague would have understood."""
    expected = phrasing.expected
    try:
        question = ask(phrasing, tunnels)
    except REFUSALS as refusal:
        message = str(refusal)
        if "refused" not in expected:
            return Verdict(WRONGLY_REFUSED, message)
        if expected["refused"].lower() not in message.lower() or "\n" in message:
            return Verdict(BAD_REFUSAL, message)
        return Verdict(REFUSED, message)
    if "refused" in expected:
        return Verdict(MISREAD, f"expected a refusal mentioning {expected['refused']!r}, read {describe(question)}")
    problems = list(_problems(question, expected, phrasing.tz))
    if problems:
        return Verdict(MISREAD, "; ".join(problems) + f" (read {describe(question)})")
    return Verdict(UNDERSTOOD)


def _problems(question: Question, expected: dict[str, Any], tz: ZoneInfo) -> Iterator[str]:
    if question.intent.value != expected["intent"]:
        yield f"intent {question.intent.value}, expected {expected['intent']}"
    names = [t.name for t in question.tunnels]
    if names != expected["tunnels"]:
        yield f"tunnels {names}, expected {expected['tunnels']}"
    if len(expected["tunnels"]) == 1 and (question.tunnel is None or question.tunnel.name != expected["tunnels"][0]):
        yield "Question.tunnel is not the one tunnel named"
    if len(expected["tunnels"]) != 1 and question.tunnel is not None:
        yield "Question.tunnel is set while not exactly one tunnel is named"
    for text in _listed(expected.get("contains")):
        instant = instant_of(text, tz)
        if not question.window.start <= instant <= question.window.end:
            yield f"window does not contain {text}"
    for text in _listed(expected.get("excludes")):
        instant = instant_of(text, tz)
        if question.window.start <= instant <= question.window.end:
            yield f"window contains {text}"
    language = expected.get("language")
    if language and question.language != language:
        yield f"language {question.language}, expected {language}"
    note = expected.get("note")
    if note and not any(note in n for n in question.notes):
        yield f"no note mentioning {note!r} in {list(question.notes)}"


def _listed(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def instant_of(text: str, tz: ZoneInfo) -> datetime:
    """ "now", or "YYYY-MM-DD HH:MM" in `tz`, or "YYYY-MM-DD HH:MM Zone/Name"."""
    if text == "now":
        return NOW
    day, clock, *zone = text.split()
    local = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZoneInfo(zone[0]) if zone else tz)
    return local.astimezone(UTC)


def describe(question: Question) -> str:
    names = ",".join(t.name for t in question.tunnels) or "-"
    start, end = (question.window.start.strftime("%a %d %H:%M"), question.window.end.strftime("%a %d %H:%M"))
    return f"{question.intent.value} [{names}] {start}..{end} UTC lang={question.language}"
