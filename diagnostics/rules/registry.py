"""What one rule is: the record each rule module declares, from which the engine takes its order and the docs
their table (docs/rules.md, generated from `diagnostics.rules.REGISTRY` and checked by a test).

A rule's `check` is a small pure function: a drop rule takes (context, drop), a negotiation or window rule takes
(context), and returns a `Finding` or None. AWS message rules are rows of a table instead (`aws_messages`): a log
message that names its own cause; the AWS drop explanation groups them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from diagnostics.model import Cause, Finding


class Kind(StrEnum):
    DROP = "drop"  # explains one drop
    NEGOTIATION = "negotiation"  # why a tunnel stays down, read from its failing negotiations
    WINDOW = "window"  # about the whole window (flapping, no drop, too recent, BGP alone)
    MESSAGE = "message"  # an AWS log message that names its cause (a row of the message table)
    FALLBACK = "fallback"  # a drop nothing else explains: the honest "unknown"
    TRAFFIC = "traffic"  # a traffic question: the tunnel's state and its metrics (`support.traffic.TrafficContext`)


@dataclass(frozen=True)
class Rule:
    id: str  # stable: the `rule` of the findings it makes, in evidence bundles and the docs
    cause: Cause
    kind: Kind
    #: Which of two findings of equal confidence explains better: lower is more specific. Unique per kind and
    #: provider, so no tie is ever settled by the order rules happen to be listed in.
    priority: int
    provider: str  # "azure" | "aws" | "any"
    detects: str  # one line, for people
    sources: tuple[str, ...] = ()  # anchors of docs/sources.md this rule relies on
    #: The cause starts on the side that logs it: at the other end of an Azure↔AWS link the same incident shows as
    #: a consequence (a DPD timeout, a delete from the peer), which this cause outranks.
    origin: bool = False
    check: Callable[..., Finding | None] | None = field(default=None, compare=False, repr=False)

    def run(self, *args: Any) -> Finding | None:
        """The rule's finding for these inputs, labelled with this rule's id."""
        assert self.check is not None, f"rule {self.id} has no check"
        finding = self.check(*args)
        if finding is not None and not finding.rule:
            finding.rule = self.id
        return finding
