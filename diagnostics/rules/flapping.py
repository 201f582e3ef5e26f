"""flapping: repeated drops in the window; the explanation gives the count and the pattern.

Detects: three or more drops of the tunnel in the window asked about. Tells a regular rhythm (a timer: SA
lifetimes, IKEv1 main-mode rekey every 28,800 s, docs/sources.md#azure-ipsec-defaults) from an irregular one (the
path or the device), and whether the drops stayed on one instance (the same-instance vs failover distinction of
docs/sources.md#azure-failover). docs/sources.md#azure-bgp: "BGP session flapping often mirrors IPsec tunnel
flapping".

Why it matters: one drop is an incident; a flap is a condition, and its rhythm says where to look.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from statistics import median, pstdev

from diagnostics.aws.timeline import is_bgp_drop
from diagnostics.model import Cause, Confidence, Drop, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.aws import tunnel_label
from diagnostics.rules.support.context import RuleContext
from diagnostics.timefmt import duration_text, short_instance

MIN_DROPS = 3
REGULAR_SPREAD = 0.2  # gap standard deviation / median below this reads as a timer
IKEV1_REKEY = 28_800
#: AWS tunnel defaults (VPN tunnel options): phase 1 lifetime 28,800 s, phase 2 3,600 s, DPD timeout 30 s.
AWS_PHASE2_LIFETIME = 3600


def rhythm(ctx: RuleContext, drops: list[Drop], subject: str, timer: float, timer_text: str) -> list[str]:
    """The sentences Azure and AWS flaps share: count and spacing, outage lengths, whether the tunnel is still
    down, and what the rhythm points to (`timer` is the period of the platform's own rekey, explained by
    `timer_text` when the drops follow it)."""
    gaps = [b.down_ts - a.down_ts for a, b in itertools.pairwise(drops)]
    typical = median(gaps)
    regular = typical > 0 and pstdev(gaps) / typical < REGULAR_SPREAD
    outages = [d.duration for d in drops if d.duration is not None]
    parts = [
        f"{subject} {len(drops)} times between {ctx.fmt(drops[0].down_ts, seconds=False)} and "
        f"{ctx.fmt(drops[-1].down_ts, seconds=False)}: one drop every {duration_text(min(gaps))} to "
        f"{duration_text(max(gaps))} (median {duration_text(typical)})."
    ]
    if outages:
        parts.append(f"Outages lasted {duration_text(min(outages))} to {duration_text(max(outages))}.")
    if drops[-1].up is None:
        parts.append("The tunnel is still down after the last one.")
    if regular and abs(typical - timer) < timer * 0.1:
        parts.append(timer_text)
    elif regular:
        parts.append("The rhythm is regular, which points to a timer (an SA lifetime or rekey setting that "
                     "differs between the two sides, or DPD timers) rather than the network.")
    else:
        parts.append("The rhythm is irregular, which points to the path (packet loss) or the device.")
    return parts


def causes_sentence(causes: Counter[str] | None) -> list[str]:
    return ["Causes: " + ", ".join(f"{n} × {c}" for c, n in causes.most_common()) + "."] if causes else []


def flapping(ctx: RuleContext, causes: Counter[str] | None = None) -> Finding | None:
    drops = ctx.window_drops
    if len(drops) < MIN_DROPS:
        return None
    instances = {short_instance(d.down_instance) for d in drops}
    parts = rhythm(ctx, drops, f"{ctx.tunnel.name} dropped", IKEV1_REKEY,
                   "The drops come every ~8 h, the IKEv1 main-mode rekey interval: an IKEv1 connection may "
                   "reconnect on rekeys; IKEv2 avoids it.")
    parts.insert(-1, "All on the same instance." if len(instances) == 1
                 else f"Instances: {', '.join(sorted(instances))}.")
    parts += causes_sentence(causes)
    return Finding(
        cause=Cause.FLAPPING,
        confidence=Confidence.HIGH,
        title=f"Flapping: {len(drops)} drops",
        explanation=" ".join(parts),
        advice=("For a regular rhythm, compare IKE/IPsec lifetimes and DPD settings on both sides (Azure: 28,800 s "
                "phase 1, 27,000 s phase 2, DPD 45 s). For an irregular one, check the internet path and the "
                "device's logs at the drop times. If BGP runs over the tunnel, expect it to flap with it."),
        evidence=[e for d in drops[:6] for e in (d.down, d.up) if e is not None],
    )


RULE = Rule(
    id="flapping", cause=Cause.FLAPPING, kind=Kind.WINDOW, priority=20, provider="azure",
    detects="three or more drops in the window, with their rhythm and causes",
    sources=("azure-failover",), check=flapping,
)


def aws_flapping(ctx: RuleContext, causes: Counter[str] | None = None) -> Finding | None:
    """Three or more drops of one tunnel of an AWS connection in the window: count, rhythm, and each drop's cause."""
    by_tunnel: dict[str, list[Drop]] = defaultdict(list)
    for drop in ctx.window_drops:
        if not is_bgp_drop(drop):
            by_tunnel[drop.down.instance].append(drop)
    ip, worst = max(by_tunnel.items(), key=lambda kv: len(kv[1]), default=("", []))
    if len(worst) < MIN_DROPS:
        return None
    parts = rhythm(ctx, worst, f"{tunnel_label(ctx, ip).capitalize()} of {ctx.tunnel.name} went down",
                   AWS_PHASE2_LIFETIME,
                   "The drops come every ~1 h, AWS's default phase 2 lifetime: the rekey fails each time; compare "
                   "the device's phase 2 lifetime and PFS settings with the tunnel options.")
    others = {k: len(v) for k, v in by_tunnel.items() if k != ip}
    if others:
        parts.insert(-1, "Other tunnel: " + ", ".join(f"{k} {n} drop{'s' if n > 1 else ''}"
                                                      for k, n in others.items()) + ".")
    parts += causes_sentence(causes)
    return Finding(
        cause=Cause.FLAPPING, confidence=Confidence.HIGH, title=f"Flapping: {len(worst)} drops of one tunnel",
        explanation=" ".join(parts),
        advice=("For a regular rhythm compare IKE/IPsec lifetimes and DPD settings on both sides (AWS defaults: phase "
                "1 28,800 s, phase 2 3,600 s, DPD timeout 30 s). For an irregular one check the internet path and "
                "the device's logs at the drop times. If BGP runs over the tunnel, it flaps with it."),
        evidence=[e for d in worst[:6] for e in (d.down, d.up) if e is not None])


AWS_RULE = Rule(
    id="aws.flapping", cause=Cause.FLAPPING, kind=Kind.WINDOW, priority=120, provider="aws",
    detects="three or more drops of one tunnel of an AWS connection in the window, with their rhythm and causes",
    sources=("aws-tunnel-options",), check=aws_flapping,
)
