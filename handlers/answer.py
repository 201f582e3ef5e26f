"""`Answer`: what every command hands back, ready for any renderer (`render.text`, `render.json`, `render.blocks`).

One question in, one Answer out: the parsed question, and the result its intent produced (an investigation, the
tunnel registry, a point-to-site report or a daily summary), plus notes for the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from diagnostics.azure.p2s import P2SReport
from diagnostics.model import Investigation
from diagnostics.summary.model import DaySummary
from diagnostics.tunnels import TunnelRegistry
from handlers.parse.intent import Intent
from handlers.parse.question import Question


@dataclass
class Answer:
    question: Question
    investigation: Investigation | None = None
    registry: TunnelRegistry | None = None  # for the `tunnels` intent
    p2s: P2SReport | None = None  # for the point-to-site intent
    summary: DaySummary | None = None  # for the summary intent
    notes: list[str] = field(default_factory=list)

    @property
    def intent(self) -> Intent:
        return self.question.intent
