"""Questions about several tunnels ("paris and lyon", "all tunnels on VPNGW01"): one answer per tunnel in one reply,
at most `MAX_TUNNELS` of them, the rest named in a note so nobody thinks they were looked at."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from diagnostics.model import InvestigationError
from diagnostics.tunnels import Tunnel
from handlers.answer import Answer
from handlers.parse.intent import Intent
from handlers.parse.question import Question

MAX_TUNNELS = 10


def asked_tunnels(question: Question) -> tuple[Tunnel, ...]:
    """Every tunnel the question names (none for a question about every tunnel)."""
    return question.tunnels or ((question.tunnel,) if question.tunnel is not None else ())


def covers_several(question: Question) -> bool:
    """Answered for several tunnels at once: the status of every tunnel ("what's down"), or several named."""
    named = asked_tunnels(question)
    return len(named) > 1 or (question.intent is Intent.STATUS and not named)


def capped(tunnels: Sequence[Tunnel]) -> tuple[list[Tunnel], list[str]]:
    """The first `MAX_TUNNELS` tunnels, and the note that names the others."""
    if len(tunnels) <= MAX_TUNNELS:
        return list(tunnels), []
    rest = ", ".join(t.name for t in tunnels[MAX_TUNNELS:])
    return list(tunnels[:MAX_TUNNELS]), [f"You named {len(tunnels)} tunnels: this answers the first {MAX_TUNNELS} "
                                         f"(at most {MAX_TUNNELS} in one question); ask again about {rest}."]


def one_question(question: Question, tunnel: Tunnel) -> Question:
    """The same question about one of its tunnels."""
    return dataclasses.replace(question, tunnel=tunnel, tunnels=(tunnel,))


def answer_each(question: Question, answer_one: Callable[[Question], Answer]) -> Answer:
    """One answer per tunnel named (`Answer.parts`); a tunnel that cannot be answered says why in its part, and the
    others are still answered."""
    tunnels, notes = capped(asked_tunnels(question))
    parts = []
    for tunnel in tunnels:
        single = one_question(question, tunnel)
        try:
            parts.append(answer_one(single))
        except InvestigationError as exc:
            parts.append(Answer(single, notes=[f"{tunnel.name} could not be answered: {exc}"]))
    return Answer(question, parts=parts, notes=notes)
