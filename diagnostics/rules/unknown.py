"""unknown: a drop was found but no rule explains it; the evidence is still shown.

DESIGN.md: "an honest 'unknown' beats a confident guess". The finding lists what was ruled out and carries the
raw rows around the drop so a person can read them. Seed 003: when there is no trace of maintenance and nothing
on the on-premises side, the next step is a support case.
"""

from __future__ import annotations

from ..events import EventKind
from ..findings import Cause, Confidence, Drop, Finding
from .context import RuleContext, duration_text, short_instance

AROUND = 120
MAX_ROWS = 12


def unknown(ctx: RuleContext, drop: Drop) -> Finding:
    around = ctx.timeline.between(drop.down_ts - AROUND, drop.down_ts + AROUND)
    kinds = {EventKind.TUNNEL_DOWN, EventKind.TUNNEL_UP}
    around = sorted(around, key=lambda e: (e.kind not in kinds, e.ts))[:MAX_ROWS]
    text = (f"The tunnel dropped at {ctx.fmt(drop.down_ts)} on {short_instance(drop.down_instance)} and was "
            f"{'back after ' + duration_text(drop.duration) if drop.up else 'not back by the end of the logs'}"
            f"{' on ' + short_instance(drop.up_instance) if drop.up else ''}. No maintenance, configuration change, "
            "DPD or remote-trigger reason was logged around it"
            f"{', and the disconnect reason was ' + repr(drop.down.reason) if drop.down.reason else ''}.")
    return Finding(
        cause=Cause.UNKNOWN,
        confidence=Confidence.LOW,
        title="Drop found, cause not in the logs",
        explanation=text,
        advice=("Read the rows below and the on-premises device's logs for the same minute. If neither side shows "
                "a reason, open a case with Azure support with the gateway, the connection and these UTC times."),
        evidence=sorted(around, key=lambda e: e.ts) or [drop.down],
        rule="unknown",
        drop=drop,
    )
