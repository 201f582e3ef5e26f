"""docs/asking.md's "How a question is read" matches the parser: every question its tables quote is read as the
table says (the intent and tunnels of "What is asked", a window for every time form of "Times", the language of
"Other languages")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.phrasings import registry

from handlers.parse.intent import Intent
from handlers.parse.question import parse_question

DOC = (Path(__file__).resolve().parent.parent / "docs" / "asking.md").read_text(encoding="utf-8")
SECTION = DOC.split("## How a question is read", 1)[1].split("\n## ", 1)[0]
REGISTRY = registry()
NOW = datetime(2026, 11, 23, 22, 40, tzinfo=UTC)  # Monday 23:40 in Paris: this evening and last night are over
PARIS = ZoneInfo("Europe/Paris")
QUOTED = re.compile(r'"([^"]+)"')


def _table(title: str) -> list[tuple[str, str]]:
    part = SECTION.split(f"### {title}", 1)[1].split("\n### ", 1)[0]
    rows = [line.split(" | ", 1) for line in part.splitlines() if line.startswith("| ") and "---" not in line]
    return [(left, right) for left, right in rows[1:]]  # without the header


def _asked() -> list[tuple[str, Intent]]:
    cases = []
    for left, right in _table("What is asked"):
        intent = next((Intent(word) for word in re.findall(r"`(\w+)`", right) if word in Intent._value2member_map_),
                      None)
        if intent is not None and "`p2s`" not in right:  # the last row lists several intents, one per example
            cases += [(text, intent) for text in QUOTED.findall(left)]
    return cases


def _time_forms() -> list[str]:
    return [text for left, right in _table("Times") if "refused" not in right for text in QUOTED.findall(left)]


def test_the_docs_quote_enough_questions_to_be_checked():
    assert len(_asked()) >= 25 and len(_time_forms()) >= 40


@pytest.mark.parametrize(("text", "intent"), _asked())
def test_every_question_of_what_is_asked_is_read_with_the_documented_intent(text, intent):
    assert parse_question(text, REGISTRY, NOW, PARIS).intent is intent


@pytest.mark.parametrize("form", _time_forms())
def test_every_documented_time_form_is_read_not_refused(form):
    question = parse_question(f"why did paris drop {form}", REGISTRY, NOW, PARIS)
    assert question.explicit_window and question.window.start < question.window.end


def test_ambiguous_abbreviations_are_refused_with_the_choices_outside_their_regions():
    with pytest.raises(ValueError, match="Asia/Kolkata"):
        parse_question("why did paris drop at 14:02 IST", REGISTRY, NOW, ZoneInfo("UTC"))
    assert parse_question("why did paris drop at 14:02 IST", REGISTRY, NOW, ZoneInfo("Europe/Dublin")).anchor == \
        datetime(2026, 11, 23, 14, 2, tzinfo=UTC)


def test_every_question_of_other_languages_is_read_in_its_language():
    part = SECTION.split("### Other languages", 1)[1]
    questions = [q for q in QUOTED.findall(part.split("Answers stay", 1)[0]) if len(q) > 8]
    assert len(questions) >= 8
    for text in questions:
        assert parse_question(text, REGISTRY, NOW, PARIS).language != "en", text
