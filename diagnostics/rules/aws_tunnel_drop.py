"""aws_tunnel_drop: one drop of an AWS tunnel, explained by the messages AWS logged around it.

Detects: the `details` messages of the drop's tunnel from a minute before the disconnect to its recovery,
classified by the message table (`aws_messages`) and grouped by cause. A message on the row that took the tunnel
down, or repeated while it stayed down, is strong evidence (high); one message near it is medium. A cause that keeps
the tunnel down (pre-shared key, proposals, selectors) outranks the event that started the drop (remote delete,
DPD), whose message is still quoted: the table's priorities say which. Benign rekey collisions are never primary
(docs/sources.md#aws-ikev2-errors: "the tunnel does not go down").

Why it matters: AWS says in words why a tunnel went down; the answer quotes those words and AWS's advice.
"""

from __future__ import annotations

from collections import defaultdict

from diagnostics.aws.timeline import is_bgp_drop
from diagnostics.model import Cause, Confidence, Drop, Event, Finding
from diagnostics.rules.aws_bgp import bgp_with_tunnel, explain_bgp_drop
from diagnostics.rules.aws_messages import MessageRule, priority_of, proposal_phase
from diagnostics.rules.support.aws import SAME_MOMENT, Hit, hits_near, outage_text, quoted, tunnel_label, unique_sorted
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.unknown import aws_unknown


def explain_drop(ctx: RuleContext, drop: Drop) -> list[Finding]:
    """Every explanation of one drop of an AWS tunnel, best first."""
    if is_bgp_drop(drop):
        return explain_bgp_drop(ctx, drop)
    grouped: dict[Cause, list[Hit]] = defaultdict(list)
    for hit in hits_near(ctx, drop):
        if hit.rule.cause is not None:
            grouped[hit.rule.cause].append(hit)
    findings = [_finding_for(ctx, drop, cause, hits) for cause, hits in grouped.items()]
    findings.sort(key=lambda f: (f.cause is Cause.REKEY_COLLISION, -f.confidence.weight, priority_of(f.rule)))
    real = [f for f in findings if f.cause is not Cause.REKEY_COLLISION]
    if len(real) > 1:
        # The message that started the drop, when the primary cause is what kept it down.
        first_seen = {cause: hits[0].event.ts for cause, hits in grouped.items()}
        starter = min(real[1:], key=lambda f: first_seen[f.cause])
        if first_seen[starter.cause] < first_seen[real[0].cause]:
            real[0].explanation += (f" The drop itself began with {starter.title[0].lower()}{starter.title[1:]} at "
                                    f"{ctx.fmt(first_seen[starter.cause])}.")
    bgp = bgp_with_tunnel(ctx, drop)
    if bgp is not None:
        findings.append(bgp)
    if not real or real[0].confidence is Confidence.LOW:
        findings.insert(0, aws_unknown(ctx, drop))
    return findings


def _finding_for(ctx: RuleContext, drop: Drop, cause: Cause, hits: list[Hit]) -> Finding:
    first = hits[0]
    rule = first.rule
    at_change = any(abs(h.event.ts - drop.down_ts) <= SAME_MOMENT for h in hits)
    during = [h for h in hits if h.event.ts > drop.down_ts + SAME_MOMENT]
    if rule.benign:
        confidence = Confidence.LOW
    elif at_change or len(during) >= 2:
        confidence = Confidence.HIGH
    else:
        confidence = Confidence.MEDIUM
    where = tunnel_label(ctx, drop.down.instance)
    parts = [f"{where.capitalize()} of {ctx.tunnel.name} ({ctx.tunnel.aws_vpn_connection}) went down at "
             f"{ctx.fmt(drop.down_ts)}. AWS logged {quoted(first.event)!r} at {ctx.fmt(first.event.ts)}: "
             f"{rule.meaning}."]
    if cause is Cause.IKE_PROPOSAL_MISMATCH:
        phase = proposal_phase(rule, first.event)
        parts.append(f"This is a phase {phase} mismatch ("
                     + ("IKE SA: encryption, integrity, DH group or IKE version" if phase == "1"
                        else "IPsec SA: encryption, integrity, PFS DH group or lifetime") + ").")
    if len(hits) > 1:
        parts.append(f"AWS logged it {len(hits)} times between {ctx.fmt(hits[0].event.ts)} and "
                     f"{ctx.fmt(hits[-1].event.ts)}.")
    if rule.benign:
        parts.append("A rekey collision is expected behaviour and does not take a tunnel down by itself.")
    parts.append(outage_text(ctx, drop, "The tunnel"))
    evidence = [h.event for h in hits[:3]]
    if len(hits) > 3:
        evidence.append(hits[-1].event)
    evidence += [drop.down, *([drop.up] if drop.up else [])]
    return Finding(cause=cause, confidence=confidence, title=_title(rule, first.event), explanation=" ".join(parts),
                   advice=rule.advice, evidence=unique_sorted(evidence), rule=rule.id, drop=drop)


def _title(rule: MessageRule, hit: Event) -> str:
    if rule.cause is Cause.IKE_PROPOSAL_MISMATCH:
        phase = proposal_phase(rule, hit)
        return f"No common phase {phase} ({'IKE' if phase == '1' else 'IPsec'}) proposal"
    return rule.title or rule.meaning
