"""The log sources a command reads, split by kind once (where they are opened, in `bot/workspace.py`).

Azure sources run KQL (`diagnostics.azure.sources.KqlBackend`); AWS sources read tunnel log events
(`diagnostics.aws.sources.AwsLogSource`). Nothing downstream filters a mixed list by type.

`metrics` are the gateways' platform metrics (`diagnostics.traffic.model.MetricsSource`: Azure Monitor, CloudWatch
AWS/VPN, the demo's): read apart from the logs, they never make a workspace "have sources" on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: a command that opens no source (`vpnbot tunnels`) loads no reader
    from diagnostics.aws.sources import AwsLogSource
    from diagnostics.azure.sources import KqlBackend
    from diagnostics.traffic.model import MetricsSource


@dataclass(frozen=True)
class Sources:
    kql: Sequence[KqlBackend] = ()
    aws: Sequence[AwsLogSource] = ()
    metrics: Sequence[MetricsSource] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kql", tuple(self.kql))
        object.__setattr__(self, "aws", tuple(self.aws))
        object.__setattr__(self, "metrics", tuple(self.metrics))

    @property
    def labels(self) -> list[str]:
        """Every source's name for people, Azure first (the order progress lines are shown in)."""
        return [s.label for s in (*self.kql, *self.aws)]

    def __bool__(self) -> bool:
        return bool(self.kql or self.aws)
