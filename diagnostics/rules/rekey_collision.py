"""rekey_collision: both peers rekeyed at once; benign, and said so that nobody chases it.

Detects: in a window without a drop, AWS messages of the table's benign rows ("(CHILD_REKEY) collision",
"redundant SA is being deleted"): expected behaviour of IKEv2 (docs/sources.md#rfc7296-rekey-collision), and AWS
says the tunnel does not go down (docs/sources.md#aws-ikev2-errors).

Why it matters: the message sounds alarming in a log search; the answer says it explains no outage.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, EventKind, Finding
from diagnostics.rules.aws_messages import classify
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.aws import Hit, quoted, tunnel_label
from diagnostics.rules.support.context import RuleContext


def rekey_collision(ctx: RuleContext) -> Finding | None:
    """Rekey collisions logged in a window without a drop."""
    hits = [Hit(r, e) for e in ctx.timeline.between(ctx.start, ctx.end, [EventKind.IKE, EventKind.TUNNEL_UP])
            if (r := classify(e)) is not None and r.benign]
    if not hits:
        return None
    first = hits[0]
    return Finding(
        cause=Cause.REKEY_COLLISION, confidence=Confidence.HIGH if len(hits) == 1 else Confidence.MEDIUM,
        title="Rekey collision (benign, no outage)",
        explanation=(f"AWS logged {quoted(first.event)!r} at {ctx.fmt(first.event.ts)} on "
                     f"{tunnel_label(ctx, first.event.instance)}"
                     + (f" ({len(hits)} collisions in the window)" if len(hits) > 1 else "")
                     + f": {first.rule.meaning}. The tunnel stayed up."),
        advice=first.rule.advice, evidence=[h.event for h in hits[:6]], rule=first.rule.id)


RULE = Rule(
    id="aws.rekey_collision", cause=Cause.REKEY_COLLISION, kind=Kind.WINDOW, priority=130, provider="aws",
    detects="rekey collisions in a window without a drop (benign: the tunnel stayed up)",
    sources=("aws-ikev2-errors", "rfc7296-rekey-collision"), check=rekey_collision,
)
