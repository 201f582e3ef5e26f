"""The phrasings corpus: hundreds of questions typed the way on-call engineers type them in incident channels
(tests/phrasings/*.toml, written from how people talk, not from the parser). Each is understood as a colleague
would understand it, or refused in one line that says what to type instead; none is misread."""

from __future__ import annotations

import pytest
from support.phrasings import REFUSED, UNDERSTOOD, judge, phrasings, registry

PHRASINGS = phrasings()
REGISTRY = registry()


def test_the_corpus_holds_at_least_300_phrasings_in_five_languages():
    assert len(PHRASINGS) >= 300
    languages = {p.expected.get("language") for p in PHRASINGS if "refused" not in p.expected}
    assert {"en", "fr", "de", "es", "ja"} <= languages


@pytest.mark.parametrize("phrasing", PHRASINGS, ids=lambda p: p.id)
def test_every_phrasing_is_understood_or_refused_with_a_suggestion_never_misread(phrasing):
    verdict = judge(phrasing, REGISTRY)
    assert verdict.outcome in (UNDERSTOOD, REFUSED), f"{verdict.outcome}: {verdict.detail}"
    if "refused" in phrasing.expected:
        assert verdict.outcome == REFUSED
