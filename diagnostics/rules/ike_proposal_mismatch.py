"""ike_proposal_mismatch: no common IKE (phase 1) or IPsec (phase 2) proposal; names the differing parameter.

Detects: `Notify Message - Policy Mismatch` (sent or received), `with status Policy match error`, error 13868 /
0x362C (ERROR_IPSEC_IKE_POLICY_MATCH), NO_PROPOSAL_CHOSEN, 13825 "No policy configured", 13822 DH failure
(docs/sources.md#azure-ike-errors, docs/sources.md#azure-traffic-selectors). The parameter is named by comparing
the device's proposals (`[RECEIVED]Received Ike payload: Policy1:Cipher=… Integrity=… DhGroup=…`, `Received IPSec
payload: …`) with what the gateway accepts or offers on its default policy (docs/sources.md#azure-ipsec-defaults)
or on the custom policy in the tunnel's config, as in Microsoft's walkthrough (docs/sources.md#azure-ike-errors:
"remote VPN device is sending Diffie-Hellman Group 14 while Azure VPN Gateway expects only Group 2").

Why it matters: the fix is one setting on one side, and the answer should say which.
"""

from __future__ import annotations

from diagnostics.azure.negotiation import Negotiation, NegotiationGroup
from diagnostics.azure.policy import Mismatch, compare, policy_from_config
from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.negotiations import down_period, groups_in, runs, sample_rows

POLICY_FAILURES = ("policy", "no_policy", "unsupported")


def find_mismatch(ctx: RuleContext, groups: list[NegotiationGroup]) -> tuple[Mismatch | None, Negotiation | None]:
    """The differing parameter, from a negotiation of the period in which the device showed its proposals (the
    device may show them only when it initiates: the walkthrough in docs/sources.md#azure-ike-errors forces that
    to see both sides)."""
    policy = policy_from_config(ctx.tunnel.extra)
    for n in (g.with_proposals for g in groups if g.with_proposals is not None):
        role = "responder" if n.initiator == "peer" else "initiator"
        for proposals in (n.peer_p2, n.peer_p1):
            mismatch = compare(proposals, policy, role)
            if mismatch is not None:
                return mismatch, n
    return None, None


def ike_proposal_mismatch(ctx: RuleContext) -> Finding | None:
    period = down_period(ctx)
    if period is None:
        return None
    found = runs(ctx, period, lambda g: g.outcome in POLICY_FAILURES)
    if not found:
        return None
    run = found[0]
    mismatch, shown = find_mismatch(ctx, groups_in(ctx, period))
    sample = shown or run.sample
    if mismatch is not None:
        text = f"No common proposal: {mismatch.sentence()} The {mismatch.parameter} is what differs."
        advice = mismatch.advice
        confidence = Confidence.HIGH
    else:
        offers = ", ".join(p.describe() for p in sample.azure_p1[:6]) or "its proposals"
        text = (f"No common proposal ({sample.failure_text!r}). The device rejected every offer of the gateway "
                f"({offers}) without showing its own, so the differing parameter cannot be read from these logs.")
        advice = ("Start the negotiation from the device (bring the tunnel up from its side) so that its proposal "
                  "is logged, or compare its IKE/IPsec settings with Azure's: phase 1 AES256/AES128/3DES with SHA1/"
                  "SHA256 and DH group 2 on the default policy; a PFS mismatch is the most common cause of "
                  "NO_PROPOSAL_CHOSEN in phase 2.")
        confidence = Confidence.HIGH if run.count > 1 else Confidence.MEDIUM
    return Finding(
        cause=Cause.IKE_PROPOSAL_MISMATCH,
        confidence=confidence,
        title=f"IKE proposal mismatch{f' (phase {mismatch.phase}: {mismatch.parameter})' if mismatch else ''}",
        explanation=f"{text} {run.repeated(ctx)}",
        advice=advice,
        evidence=sample_rows(ctx, sample),
    )


RULE = Rule(
    id="ike_proposal_mismatch", cause=Cause.IKE_PROPOSAL_MISMATCH, kind=Kind.NEGOTIATION,
    priority=20, provider="azure", origin=True,
    detects="no common IKE or IPsec proposal; names the differing parameter",
    sources=("azure-ike-errors", "azure-ipsec-defaults"), check=ike_proposal_mismatch,
)
