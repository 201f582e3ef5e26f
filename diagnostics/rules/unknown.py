"""unknown: a drop was found but no rule explains it; the evidence is still shown.

Detects: a drop (Azure or AWS) that no other rule explains with at least medium confidence. The finding lists what
was ruled out and carries the raw rows around the drop so a person can read them. docs/sources.md#azure-maintenance:
when there is no trace of maintenance and nothing on the on-premises side, the next step is a support case.

Why it matters: an honest "unknown" beats a confident guess (docs/rules.md).
"""

from __future__ import annotations

from diagnostics.aws.timeline import is_bgp_drop
from diagnostics.model import Cause, Confidence, Drop, EventKind, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.aws import outage_text, tunnel_label, unique_sorted
from diagnostics.rules.support.context import RuleContext
from diagnostics.timefmt import duration_text, short_instance

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
        drop=drop,
    )


RULE = Rule(
    id="unknown", cause=Cause.UNKNOWN, kind=Kind.FALLBACK, priority=99, provider="azure",
    detects="a drop no rule explains with at least medium confidence; the rows around it are shown",
    sources=("azure-maintenance",), check=unknown,
)


def aws_unknown(ctx: RuleContext, drop: Drop) -> Finding:
    """A drop of an AWS tunnel that no message explains: the tunnel's rows around it are shown."""
    around = [e for e in ctx.timeline.between(drop.down_ts - AROUND, drop.down_ts + AROUND)
              if e.instance == drop.down.instance][:MAX_ROWS]
    what = "BGP session" if is_bgp_drop(drop) else "tunnel"
    text = (f"The {what} on {tunnel_label(ctx, drop.down.instance)} of {ctx.tunnel.name} went down at "
            f"{ctx.fmt(drop.down_ts)} and AWS logged no message that explains it (no DPD timeout, delete from the "
            f"customer gateway, authentication, proposal or selector error). " + outage_text(ctx, drop, "It"))
    return Finding(
        cause=Cause.UNKNOWN, confidence=Confidence.LOW, title="Drop found, cause not in the AWS logs",
        explanation=text,
        advice=("Read the rows below and the customer gateway's logs for the same minute. If neither shows a reason, "
                "open an AWS Support case with the VPN connection id, the tunnel outside IP and these UTC times."),
        evidence=unique_sorted(around or [drop.down]), rule=AWS_RULE.id, drop=drop)


AWS_RULE = Rule(
    id="aws.unknown", cause=Cause.UNKNOWN, kind=Kind.FALLBACK, priority=199, provider="aws",
    detects="a drop of an AWS tunnel that no logged message explains; the tunnel's rows around it are shown",
    sources=("aws-log-fields",), check=aws_unknown,
)
