"""traffic_selector_mismatch: the traffic selectors (encryption domains) of the two sides differ.

Detects: error 13999 / TS_UNACCEPTABLE ("Traffic selectors unacceptable"), or a negotiation that timed out
(0x35ED "Negotiation timed out", `[IkeEvent] SA_NEGOTIATION_FAILED`) after a traffic-selector exchange
(docs/sources.md#azure-traffic-selectors: "A Received Traffic Selector payload request whose StartAddress/EndAddress
ranges don't match your side, followed by … Negotiation timed out"), or `Invalid payload received` when Azure
initiates to a peer that only accepts narrow selectors (same section, Microsoft's support content; medium
confidence).

Why it matters: phase 1 works, so people look at keys and proposals; the ranges are what must match.
"""

from __future__ import annotations

from diagnostics.azure.ike_errors import Failure
from diagnostics.azure.negotiation import NegotiationGroup
from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.negotiations import down_period, runs, sample_rows


def _is_ts_failure(group: NegotiationGroup) -> bool:
    outcome, _, initiator, exchanged = group.signature
    return outcome == Failure.TRAFFIC_SELECTORS or (outcome == Failure.TIMED_OUT and exchanged) or \
        (outcome == Failure.INVALID_PAYLOAD and initiator == "azure")


def traffic_selector_mismatch(ctx: RuleContext) -> Finding | None:
    period = down_period(ctx)
    if period is None:
        return None
    found = runs(ctx, period, _is_ts_failure)
    if not found:
        return None
    run = found[0]
    shown = run.group.with_selectors or run.sample
    sides = []
    if shown.peer_ts is not None:
        sides.append(f"the device proposes {shown.peer_ts.describe()}")
    if shown.azure_ts is not None:
        sides.append(f"Azure proposes {shown.azure_ts.describe()}")
    ranges = "; ".join(sides) if sides else "the selectors themselves were not logged"
    narrow = shown.failure is Failure.INVALID_PAYLOAD
    text = (f"Phase 2 fails on traffic selectors ({shown.failure_text!r}): {ranges}. {run.repeated(ctx)}")
    if narrow:
        text += (" 'Invalid payload received' while Azure initiates usually means the device accepts only narrow "
                 "selectors (one pair of prefixes) and Azure proposed its whole address space.")
    return Finding(
        cause=Cause.TRAFFIC_SELECTOR_MISMATCH,
        confidence=Confidence.MEDIUM if narrow or shown.failure is Failure.TIMED_OUT else Confidence.HIGH,
        title="Traffic selector mismatch",
        explanation=text,
        advice=("Make both sides use the same prefixes: the local network gateway's address space must equal the "
                "device's protected (local) networks, and the device's remote networks must equal the VNet ranges. "
                "For a policy-based device, enable UsePolicyBasedTrafficSelectors on the connection (and define the "
                "matching pairs), or configure the device with 0.0.0.0/0 selectors (route-based)."),
        evidence=sample_rows(ctx, shown),
    )


RULE = Rule(
    id="traffic_selector_mismatch", cause=Cause.TRAFFIC_SELECTOR_MISMATCH, kind=Kind.NEGOTIATION,
    priority=30, provider="azure", origin=True,
    detects="the traffic selectors (encryption domains) of the two sides differ",
    sources=("azure-traffic-selectors", "azure-ike-errors"), check=traffic_selector_mismatch,
)
