"""`Answer`: what every command hands back, ready for any renderer (`render.text`, `render.json`, `render.blocks`).

One question in, one Answer out: the parsed question, and the result its intent produced (an investigation, the
tunnel registry, a point-to-site report, a daily summary, a fleet status), plus notes for the reader. A question
about several tunnels has one answer per tunnel in `parts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from diagnostics.azure.p2s import P2SReport
from diagnostics.fleet.model import FleetStatus, TunnelStatus
from diagnostics.model import Investigation, QueryRecord
from diagnostics.summary.model import DaySummary
from diagnostics.tunnels import TunnelRegistry
from handlers.parse.intent import Intent
from handlers.parse.question import Question

if TYPE_CHECKING:  # types only: the traffic check's readers load with a traffic question (handlers/traffic.py)
    from diagnostics.traffic_check import TrafficCheck

if TYPE_CHECKING:  # types only: the chart's and the metrics' modules load with a drop answer, not with every command
    from handlers.incident import IncidentTraffic
    from handlers.incident_chart import IncidentChart


@dataclass
class Answer:
    question: Question
    investigation: Investigation | None = None
    registry: TunnelRegistry | None = None  # for the `tunnels` intent
    p2s: P2SReport | None = None  # for the point-to-site intent
    summary: DaySummary | None = None  # for the summary intent
    notes: list[str] = field(default_factory=list)
    #: status: every tunnel's state now (the fleet), or the reads behind the named tunnels' `state`
    fleet: FleetStatus | None = None
    state: TunnelStatus | None = None  # status of one tunnel: its state now (`investigation`: its latest drop)
    parts: list[Answer] = field(default_factory=list)  # several tunnels: one answer each
    traffic: TrafficCheck | None = None  # traffic: the metrics and what they say (`investigation`: its logs)
    #: A drop answer: the traffic around its drops and the chart of them (handlers/incident.py)
    incident: IncidentTraffic | None = None

    @property
    def intent(self) -> Intent:
        return self.question.intent

    @property
    def queries(self) -> list[QueryRecord]:
        """Every query or read run to answer, once each: the investigation's, the fleet's, each part's."""
        found = [*(self.investigation.queries if self.investigation else []),
                 *(self.fleet.queries if self.fleet else [])]
        for part in self.parts:
            found += [q for q in part.queries if q not in found]
        return found

    @property
    def charts(self) -> list[IncidentChart]:
        """The chart of each drop answered: this answer's, or each part's (a question about several tunnels)."""
        return [one.incident.chart for one in (self, *self.parts) if one.incident is not None and one.incident.chart]

    @property
    def failures(self) -> list[str]:
        """The log sources that failed while answering, in words."""
        found = [*(self.investigation.failures if self.investigation else []),
                 *(self.fleet.failures if self.fleet else []), *(self.summary.failures if self.summary else [])]
        for part in self.parts:
            found += [f for f in part.failures if f not in found]
        return found
