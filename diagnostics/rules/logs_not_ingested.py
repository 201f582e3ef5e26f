"""logs_not_ingested: the window's logs have not arrived yet.

Detects: no drop is visible and either the window ends within INGESTION_LAG of now, or the gateway, which logged
steadily before the window (a row in at least STEADY_SHARE of the 5-minute bins), has no row for more than SILENCE
before the window's end while the read reached up to now. docs/sources.md#azure-ingestion-lag: "It may take up to 15
minutes between when an event is emitted and when it appears in a Log Analytics workspace", so a missing row in the
last ~15 minutes must not be read as "the event did not happen"; and a workspace can lag longer than that, which the
clock alone cannot tell, but the gateway's own rhythm can: a gateway that logs every few minutes does not fall
silent for half an hour while its tunnels run. A gateway that is simply quiet (no cadence before the window) is not
judged this way.

Why it matters: "no drop found" about minutes whose rows have not arrived would be a confident falsehood; saying
when to ask again is the honest answer.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext

INGESTION_LAG = 15 * 60
#: A gateway with a row in this share of the 5-minute bins before the window logs every few minutes.
STEADY_SHARE = 2 / 3
#: Silence this long (three bins) from such a gateway up to the window's end is rows not yet arrived.
SILENCE = 15 * 60


def entirely_recent(ctx: RuleContext) -> bool:
    """The whole window is within the ingestion lag: nothing in it can be trusted as absent yet."""
    return ctx.start >= ctx.now - INGESTION_LAG


def stalled_since(ctx: RuleContext) -> float | None:
    """The newest row of a gateway that logs every few minutes, when its rows stop more than SILENCE before the
    window's end and the read reached up to now (older reads cannot tell a lag from a gap); else None."""
    seen = ctx.activity
    if seen is None or seen.latest is None or not seen.bins or seen.until < ctx.now - 1:
        return None
    if seen.active_bins < STEADY_SHARE * seen.bins or min(ctx.end, ctx.now) - seen.latest <= SILENCE:
        return None
    return seen.latest


def leads(ctx: RuleContext) -> bool:
    """The finding answers the question (rather than being a caveat to "no drop found")."""
    return entirely_recent(ctx) or stalled_since(ctx) is not None


def logs_not_ingested(ctx: RuleContext) -> Finding | None:
    if ctx.window_drops:
        return None
    stalled = stalled_since(ctx) if not entirely_recent(ctx) else None
    if stalled is not None:
        return _stalled(ctx, stalled)
    if ctx.end < ctx.now - INGESTION_LAG:
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


def _stalled(ctx: RuleContext, latest: float) -> Finding:
    """The gateway's rows stop well before the window's end although it logs every few minutes."""
    assert ctx.activity is not None
    gateway = ctx.tunnel.azure_gateway or ctx.tunnel.name
    age = round((ctx.now - latest) / 60)
    return Finding(
        cause=Cause.LOGS_NOT_INGESTED,
        confidence=Confidence.HIGH,
        title=f"The logs have not arrived: the newest row from {gateway} is {age} min old",
        explanation=(
            f"The newest row from {gateway} is {age} min old (from {ctx.fmt(latest, seconds=False)}), though it "
            f"logged in {ctx.activity.active_bins} of the {ctx.activity.bins} five-minute intervals before the "
            "window: its rows since have not reached the workspace yet (ingestion usually takes up to ~15 minutes "
            "and can take longer), so the window's silence is no evidence that nothing happened."),
        advice=("Ask again later; meanwhile the connection's status in the portal (or `az network vpn-connection "
                "show`) tells whether it is up now. If the rows still do not come, check that the gateway's "
                "diagnostic setting still sends to this workspace."),
        evidence=[],
    )


RULE = Rule(
    id="logs_not_ingested", cause=Cause.LOGS_NOT_INGESTED, kind=Kind.WINDOW, priority=30, provider="azure",
    detects="the window's logs have not arrived: it is too recent, or a gateway that logs every few minutes has no "
            "row for well before its end",
    sources=("azure-ingestion-lag",), check=logs_not_ingested,
)
