"""psk_mismatch: the pre-shared keys differ, so IKE authentication fails.

Detects: negotiations of the down period that end with `[RECEIVED][NOTIFY] Received Notify Message - Authentication
failed` or `IKE Tunnel closed … with status IKE authentication credentials are unacceptable` (the verbatim rows of
the PSK walkthrough, docs/sources.md#azure-ike-errors), Windows error 13801 / 0x35E9 or 13826 / 0x3602 (same
section).

Why it matters: nothing else is wrong; the fix is to set the same key on both sides.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.negotiations import down_period, runs, sample_rows


def psk_mismatch(ctx: RuleContext) -> Finding | None:
    period = down_period(ctx)
    if period is None:
        return None
    found = runs(ctx, period, lambda g: g.outcome == "auth")
    if not found:
        return None
    run = found[0]
    sample = run.sample
    who = "Azure started it" if sample.initiator == "azure" else "the device started it" \
        if sample.initiator == "peer" else "the start was not logged"
    text = (f"IKE authentication fails: {sample.failure_text!r} ({who}; the proposals were agreed, then the "
            f"authentication step failed). {run.repeated(ctx)} The two sides do not have the same pre-shared key.")
    return Finding(
        cause=Cause.PSK_MISMATCH,
        confidence=Confidence.HIGH,
        title="Pre-shared key mismatch",
        explanation=text,
        advice=("Set the same shared key on the Azure connection and on the on-premises device (watch for trailing "
                "spaces and special characters the device escapes). Azure keeps retrying every few seconds, so the "
                "tunnel comes up by itself once the keys match."),
        evidence=sample_rows(ctx, sample),
    )


RULE = Rule(
    id="psk_mismatch", cause=Cause.PSK_MISMATCH, kind=Kind.NEGOTIATION, priority=10, provider="azure", origin=True,
    detects="negotiations of the outage fail IKE authentication: the pre-shared keys differ",
    sources=("azure-ike-errors", "azure-ike-log"), check=psk_mismatch,
)
