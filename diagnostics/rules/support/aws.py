"""What the AWS rules share: which messages AWS logged around a drop, and how a tunnel is named in an answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnostics.aws.parser.rows import is_bgp
from diagnostics.model import Drop, Event
from diagnostics.rules.support.context import RuleContext
from diagnostics.timefmt import duration_text

if TYPE_CHECKING:  # the message table is imported when messages are classified: an Azure question never is
    from diagnostics.rules.aws_messages import MessageRule

#: Messages up to this long before the disconnect belong to it (a DELETE from the CGW precedes the state change).
BEFORE = 60.0
#: While a tunnel is still down, messages this long after the disconnect say why it stays down.
STILL_DOWN_LOOK = 30 * 60.0
#: The row that changed the state and a message logged within this many seconds of it are one event.
SAME_MOMENT = 2.0


@dataclass(frozen=True)
class Hit:
    rule: MessageRule
    event: Event


def tunnel_label(ctx: RuleContext, ip: str) -> str:
    """`tunnel 203.0.113.101 (1 of 2)` when both outside IPs are known, so people can tell them apart."""
    ips = list(ctx.tunnel.aws_outside_ips)
    if not ip:  # events of a file that named no stream (diagnostics/aws/attribution.py)
        return "the tunnel (its outside address is unknown)"
    return f"tunnel {ip} ({ips.index(ip) + 1} of {len(ips)})" if ip in ips else f"tunnel {ip}"


def hits_near(ctx: RuleContext, drop: Drop, bgp: bool = False) -> list[Hit]:
    """Classified messages of the drop's tunnel from BEFORE the disconnect to its recovery."""
    # lazy load: AWS's message table; this module is shared with the Azure rules (tunnel_label), which never need it
    from diagnostics.rules.aws_messages import classify

    ip = drop.down.instance
    end = drop.up_ts if drop.up is not None else drop.down_ts + STILL_DOWN_LOOK
    rows = ctx.timeline.between(drop.down_ts - BEFORE, end)
    out = []
    for event in rows:
        if event.instance != ip or is_bgp(event) != bgp:
            continue
        rule = classify(event)
        if rule is not None:
            out.append(Hit(rule, event))
    return out


def outage_text(ctx: RuleContext, drop: Drop, what: str) -> str:
    if drop.up is not None:
        return f"{what} was back at {ctx.fmt(drop.up.ts)}, after {duration_text(drop.duration)}."
    latest = ctx.timeline.events[-1].ts if ctx.timeline.events else drop.down_ts
    return f"{what} was still down at the end of the logs read ({ctx.fmt(latest)})."


def unique_sorted(events: list[Event]) -> list[Event]:
    """Evidence rows in time order, each once (a transition copy and the row it was made from count as one)."""
    seen: set[int] = set()
    out = []
    for event in sorted(events, key=lambda e: e.ts):
        if id(event) not in seen and not any(o.ts == event.ts and o.message == event.message for o in out):
            seen.add(id(event))
            out.append(event)
    return out


def quoted(event: Event) -> str:
    """The message as AWS logged it, without the phase states appended to it."""
    return event.message.split(" [phase", 1)[0]
