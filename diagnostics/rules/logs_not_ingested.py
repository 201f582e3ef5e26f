"""logs_not_ingested: the window is too recent for its logs to have arrived.

Detects: the window ends within INGESTION_LAG of now and no drop is visible. docs/sources.md#azure-ingestion-lag:
"It may take up to 15 minutes between when an event is emitted and when it appears in a Log Analytics workspace",
so a missing row in the last ~15 minutes must not be read as "the event did not happen".

Why it matters: "no drop found" about the last minutes would be a confident falsehood; saying when to ask again
is the honest answer.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext

INGESTION_LAG = 15 * 60


def entirely_recent(ctx: RuleContext) -> bool:
    """The whole window is within the ingestion lag: nothing in it can be trusted as absent yet."""
    return ctx.start >= ctx.now - INGESTION_LAG


def logs_not_ingested(ctx: RuleContext) -> Finding | None:
    if ctx.window_drops or ctx.end < ctx.now - INGESTION_LAG:
        return None
    recent_from = max(ctx.start, ctx.now - INGESTION_LAG)
    ago = round(max(0.0, ctx.now - ctx.end) / 60)
    parts = [
        ("The window reaches up to now" if ago == 0 else f"The window ends {ago} min before now")
        + ", and Log Analytics can take up to ~15 minutes to ingest VPN gateway logs."
    ]
    if ctx.latest_row is not None:
        lag = round((ctx.now - ctx.latest_row) / 60)
        parts.append(f"The newest row from {ctx.tunnel.azure_gateway or ctx.tunnel.name} is from "
                     f"{ctx.fmt(ctx.latest_row, seconds=False)} ({lag} min ago).")
    else:
        parts.append("No row at all has arrived for this window yet.")
    parts.append(f"A drop after {ctx.fmt(recent_from, seconds=False)} may simply not be visible yet.")
    whole = entirely_recent(ctx)
    return Finding(
        cause=Cause.LOGS_NOT_INGESTED,
        confidence=Confidence.HIGH if whole else Confidence.MEDIUM,
        title="Too recent: the logs may not have arrived yet" if whole
        else "The last minutes of the window may not be ingested yet",
        explanation=" ".join(parts),
        advice=(f"Ask again after {ctx.fmt(ctx.end + INGESTION_LAG, seconds=False)}; meanwhile the connection's "
                "status in the portal (or `az network vpn-connection show`) tells whether it is up now."),
        evidence=[],
    )


RULE = Rule(
    id="logs_not_ingested", cause=Cause.LOGS_NOT_INGESTED, kind=Kind.WINDOW, priority=30, provider="azure",
    detects="the window is too recent for its logs to have arrived",
    sources=("azure-ingestion-lag",), check=logs_not_ingested,
)
