"""Run the registry's rules over one tunnel's reading and rank what they find.

Ranking: confidence first, then the rules' priorities in the registry (most specific first). When nothing explains
the drop with at least medium confidence, `unknown` leads: an honest "unknown" beats a confident guess.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from diagnostics.model import Cause, Confidence, Drop, Finding
from diagnostics.rules import Kind, bgp_session_down, flapping, logs_not_ingested, no_drop_found, ordered, unknown
from diagnostics.rules.logs_not_ingested import leads
from diagnostics.rules.support.context import RuleContext

DROP_RULES = ordered(Kind.DROP, "azure")
#: Why a tunnel stays down: read from the negotiations of the period it was down.
NEGOTIATION_RULES = ordered(Kind.NEGOTIATION, "azure")


@dataclass
class Diagnosis:
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)  # what the answer says beside the findings


def explain(ctx: RuleContext) -> Diagnosis:
    """The ranked findings for the window (findings[0] is the primary cause), for either provider."""
    if ctx.aws is not None:
        # lazy load: the AWS rules, only for an AWS connection's question (an Azure one never imports them)
        from diagnostics.rules.aws_redundancy import annotate

        findings = diagnose_aws(ctx)
        primary = ctx.primary_drop()
        return Diagnosis(findings, annotate(ctx, ctx.aws, findings, primary) if primary is not None else [])
    return Diagnosis(diagnose(ctx))


def explain_drop(ctx: RuleContext, drop: Drop) -> list[Finding]:
    """Every explanation of one drop of an Azure tunnel, best first."""
    found = [(rule, f) for rule in DROP_RULES if (f := rule.run(ctx, drop)) is not None]
    found.sort(key=lambda pair: (-pair[1].confidence.weight, pair[0].priority))
    findings = [f for _, f in found]
    if not findings or findings[0].confidence is Confidence.LOW:
        findings.insert(0, _run(unknown.RULE, ctx, drop))
    return findings


def diagnose(ctx: RuleContext) -> list[Finding]:
    """The ranked findings of an Azure tunnel's window: findings[0] is the primary cause.

    A drop is explained by the drop rules; when the tunnel stayed down, what the negotiations say (psk, proposal,
    selectors, reachability) comes first, because that is what keeps it down and what someone must fix. With no
    drop in the window, failing negotiations or a BGP drop are the answer before "no drop found".
    """
    failing = _failing(ctx)
    bgp = bgp_session_down.RULE.run(ctx)
    primary = ctx.primary_drop()
    if primary is None:
        late, nothing = logs_not_ingested.RULE.run(ctx), no_drop_found.RULE.run(ctx)
        # Only a window that lies entirely within the ingestion lag, or whose rows stopped arriving from a gateway
        # that logs every few minutes, is "not ingested"; otherwise its settled part answers the question and the
        # lag is a caveat.
        ordered_ = (late, nothing) if late is not None and leads(ctx) else (nothing, late)
        # A BGP peer of the gateway not known to be this tunnel's (low) does not answer the question: it follows.
        ahead = [bgp] if bgp is not None and bgp.confidence is not Confidence.LOW else []
        behind = [bgp] if bgp is not None and not ahead else []
        return [*failing, *ahead, *(f for f in ordered_ if f is not None), *behind]
    explained = explain_drop(ctx, primary)
    if failing:
        explained = [*failing, *(f for f in explained if f.cause is not Cause.UNKNOWN)]
    causes = Counter(
        (explained if drop is primary else explain_drop(ctx, drop))[0].cause.value for drop in ctx.window_drops
    )
    flap = flapping.RULE.run(ctx, causes)
    return [*([flap] if flap else []), *explained, *([bgp] if bgp else [])]


def drop_causes(ctx: RuleContext) -> list[tuple[Drop, Finding]]:
    """Every drop in the window with the finding `diagnose` would put first for a question about it: what the
    negotiations say for the outage they were read for (the primary drop), else the best drop rule. The daily
    summary's "3 × dpd_timeout" comes from here, so it never disagrees with the answer to "why did it drop"."""
    failing = _failing(ctx)
    primary = ctx.primary_drop()
    return [(drop, failing[0] if failing and drop is primary else explain_drop(ctx, drop)[0])
            for drop in ctx.window_drops]


def diagnose_aws(ctx: RuleContext) -> list[Finding]:
    """The ranked findings of an AWS connection's window: findings[0] is the primary cause."""
    # lazy load: the AWS rules, only for an AWS connection's question (an Azure one never imports them)
    from diagnostics.rules import aws_route_rejected, rekey_collision
    from diagnostics.rules.aws_tunnel_drop import explain_drop as explain_aws_drop

    primary = ctx.primary_drop()
    # A route AWS denied is a finding of its own: nothing went down, but a network is unreachable.
    rejected = [f for f in (aws_route_rejected.RULE.run(ctx),) if f is not None]
    if primary is None:
        found = [f for rule in (no_drop_found.AWS_RULE, rekey_collision.RULE) if (f := rule.run(ctx)) is not None]
        return [*rejected, *found]
    explained = explain_aws_drop(ctx, primary)
    causes = Counter((explained if d is primary else explain_aws_drop(ctx, d))[0].cause.value
                     for d in ctx.window_drops)
    flap = flapping.AWS_RULE.run(ctx, causes)
    return [*([flap] if flap else []), *explained, *rejected]


def _failing(ctx: RuleContext) -> list[Finding]:
    """The first negotiation rule that explains why the tunnel stays down, if any."""
    return [f for rule in NEGOTIATION_RULES if (f := rule.run(ctx)) is not None][:1]


def _run(rule, *args) -> Finding:
    finding = rule.run(*args)
    assert finding is not None, f"{rule.id} always finds"
    return finding
