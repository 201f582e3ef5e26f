"""What the other tunnel of an AWS connection did while one was down: an outage, or only lost redundancy.

An AWS VPN connection has two tunnels; when one drops and the other stays up there was no outage, but the
connection ran without redundancy for that long (docs/sources.md#aws-tunnel-options). Not a rule of its own: the
sentence completes the drop's explanation.
"""

from __future__ import annotations

from diagnostics.aws.timeline import AwsTimeline, is_bgp_drop
from diagnostics.model import Drop, Finding
from diagnostics.rules.support.aws import tunnel_label
from diagnostics.rules.support.context import RuleContext
from diagnostics.timefmt import duration_text


def redundancy(ctx: RuleContext, atl: AwsTimeline, drop: Drop) -> str:
    """What the connection's other tunnel did while this one was down."""
    if is_bgp_drop(drop):
        return ""
    ip = drop.down.instance
    if not ip:
        return ("Which of the connection's tunnels this was is unknown (its events named no stream), so whether the "
                "other tunnel carried the traffic is unknown too.")
    others = [t for t in dict.fromkeys([*ctx.tunnel.aws_outside_ips, *atl.tunnels]) if t and t != ip]
    if not others:
        return (f"Only {tunnel_label(ctx, ip)} logged in the range read, so whether the connection's other tunnel "
                "carried the traffic is unknown.")
    end = drop.up_ts if drop.up_ts is not None else ctx.timeline.events[-1].ts
    sentences = []
    for other in others:
        overlapping = atl.down_between(other, drop.down_ts, end)
        if overlapping:
            lo = max(drop.down_ts, overlapping[0].down_ts)
            ups = [t for t in (drop.up_ts, overlapping[-1].up_ts) if t is not None]
            hi = min(ups) if len(ups) == 2 else None
            span = (f"from {ctx.fmt(lo)} to {ctx.fmt(hi)}: a full outage of {duration_text(hi - lo)}" if hi
                    else f"from {ctx.fmt(lo)} on: a full outage, not over at the end of the logs read")
            sentences.append(f"{tunnel_label(ctx, other).capitalize()} was down too, {span} of "
                             f"{ctx.tunnel.name}.")
        elif atl.state_at(other, drop.down_ts) == "up" or (atl.first_state.get(other) == "up"
                                                           and not atl.by_tunnel.get(other)):
            sentences.append(f"{tunnel_label(ctx, other).capitalize()} stayed up: no outage of {ctx.tunnel.name}, "
                             "but the connection ran without redundancy for "
                             f"{duration_text(drop.duration) if drop.up else 'the rest of the logs read'}.")
        elif atl.state_at(other, drop.down_ts) == "down":
            sentences.append(f"{tunnel_label(ctx, other).capitalize()} was already down: {ctx.tunnel.name} had no "
                             "working tunnel left, a full outage.")
        else:
            sentences.append(f"{tunnel_label(ctx, other).capitalize()} logged no state in the range read, so "
                             "whether the traffic failed over to it is unknown.")
    return " ".join(sentences)


def annotate(ctx: RuleContext, atl: AwsTimeline, findings: list[Finding], primary: Drop) -> list[str]:
    """Complete the primary finding with what the other tunnel did (or say it in a note when the primary finding
    is about another drop), and note a tunnel that was already down when the window began."""
    notes = []
    said = redundancy(ctx, atl, primary)
    if said:
        main = findings[0]
        if main.drop is primary or main.drop is None:
            main.explanation += " " + said
        else:
            notes.append(said)
    if primary.down_ts < ctx.start:
        notes.append(f"{tunnel_label(ctx, primary.down.instance).capitalize()} was already down when the window "
                     f"began (down since {ctx.fmt(primary.down_ts)}).")
    return notes
