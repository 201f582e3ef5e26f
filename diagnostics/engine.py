"""Run the rules over a tunnel's timeline and rank what they find.

Ranking: confidence first, then the rule order of `rules.DROP_RULES` (most specific first). When nothing explains
the drop with at least medium confidence, `unknown` leads: an honest "unknown" beats a confident guess.
"""

from __future__ import annotations

from collections import Counter

from .findings import Cause, Confidence, Drop, Finding
from .rules import DROP_RULES, NEGOTIATION_RULES, bgp_session_down, flapping, logs_not_ingested, no_drop_found, unknown
from .rules.context import RuleContext
from .rules.logs_not_ingested import entirely_recent


def explain_drop(ctx: RuleContext, drop: Drop) -> list[Finding]:
    """Every explanation of one drop, best first."""
    order = {rule: i for i, rule in enumerate(DROP_RULES)}
    found = [(rule, f) for rule in DROP_RULES if (f := rule(ctx, drop)) is not None]
    found.sort(key=lambda pair: (-pair[1].confidence.weight, order[pair[0]]))
    findings = [f for _, f in found]
    if not findings or findings[0].confidence is Confidence.LOW:
        findings.insert(0, unknown(ctx, drop))
    return findings


def diagnose(ctx: RuleContext) -> list[Finding]:
    """The ranked findings for the window: findings[0] is the primary cause.

    A drop is explained by the drop rules; when the tunnel stayed down, what the negotiations say (psk, proposal,
    selectors, reachability) comes first, because that is what keeps it down and what someone must fix. With no
    drop in the window, failing negotiations or a BGP drop are the answer before "no drop found".
    """
    failing = [f for rule in NEGOTIATION_RULES if (f := rule(ctx)) is not None][:1]
    bgp = bgp_session_down(ctx)
    primary = ctx.primary_drop()
    if primary is None:
        late, nothing = logs_not_ingested(ctx), no_drop_found(ctx)
        # Only a window that lies entirely within the ingestion lag is "too recent"; otherwise its settled part
        # answers the question and the lag is a caveat.
        ordered = (late, nothing) if late is not None and entirely_recent(ctx) else (nothing, late)
        return [*failing, *([bgp] if bgp else []), *(f for f in ordered if f is not None)]
    explained = explain_drop(ctx, primary)
    if failing:
        explained = [*failing, *(f for f in explained if f.cause is not Cause.UNKNOWN)]
    causes = Counter(
        (explained if drop is primary else explain_drop(ctx, drop))[0].cause.value for drop in ctx.window_drops
    )
    flap = flapping(ctx, causes)
    return [*([flap] if flap else []), *explained, *([bgp] if bgp else [])]


def drop_causes(ctx: RuleContext) -> list[tuple[Drop, Finding]]:
    """Every drop in the window with the finding `diagnose` would put first for a question about it: what the
    negotiations say for the outage they were read for (the primary drop), else the best drop rule. The daily
    summary's "3 × dpd_timeout" comes from here, so it never disagrees with the answer to "why did it drop"."""
    failing = [f for rule in NEGOTIATION_RULES if (f := rule(ctx)) is not None][:1]
    primary = ctx.primary_drop()
    return [(drop, failing[0] if failing and drop is primary else explain_drop(ctx, drop)[0])
            for drop in ctx.window_drops]
