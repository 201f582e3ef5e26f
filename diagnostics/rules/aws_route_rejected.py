"""aws_route_rejected: AWS denied a route the customer gateway advertised over BGP.

Detects: BGP log RouteStatus events (ADVERTISED / UPDATED) whose `message.details` says AWS denied the prefix:
"DENIED due to: as-path contains our own AS" ("BGP update messages for a new prefix from CGW was denied by AWS due to
the route containing the AWS-side peers own AS"), "DENIED due to: non-connected next-hop"
(docs/sources.md#aws-route-status), or another reason, which is quoted. The finding names the prefix, the tunnel, the
reason (AWS's words and what they mean, with the AS path and next hop the update carried) and the fix, from the
message table's rows (`aws_messages`). A denial logged in the window is certain; one logged before it and not
followed by an accepted update of the same prefix is still in effect as far as the logs show (medium).

Why it matters: nothing is down (the tunnel and the BGP session stay up, so a drop question finds no drop), yet the
VPC has no route to that prefix over this connection: traffic from AWS to the network behind the device does not
arrive. Without this finding the answer would be "no drop found" while the file shows the incident.
"""

from __future__ import annotations

import re

from diagnostics.model import Cause, Confidence, Event, EventKind, Finding
from diagnostics.rules.aws_messages import MessageRule, classify
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.aws import tunnel_label
from diagnostics.rules.support.context import RuleContext
from diagnostics.timefmt import duration_text

#: Evidence rows shown per denied prefix, at most.
SHOWN = 3
_REASON = re.compile(r"DENIED(?: due to)?:?\s*(?P<reason>.*)", re.I)
#: The Amazon-side ASN a virtual private gateway gets when none is chosen (docs/sources.md#aws-bgp-route-limits).
DEFAULT_AWS_ASN = "64512"
#: What AWS's reason means, by the message table's row.
_WHY = {
    "route_denied_own_as": "the AS path holds the AWS side's own ASN, and to AWS a path that already went through "
                           "AWS is a loop",
    "route_denied_next_hop": "the next hop is not an address AWS is connected to (the device's tunnel inside IP)",
}


def route_rejected(ctx: RuleContext) -> Finding | None:
    denied = _denied(ctx)
    if not denied:
        return None
    in_window = {prefix for prefix, (event, _) in denied.items() if event.ts >= ctx.start}
    first_prefix, (_, main) = next(iter(denied.items()))
    back = {prefix: _accepted_after(ctx, prefix, event) for prefix, (event, _) in denied.items()}
    parts = [_sentence(ctx, prefix, event, why, back[prefix]) for prefix, (event, why) in denied.items()]
    networks = "that network" if len(denied) == 1 else "those networks"
    if all(back.values()):
        parts.append("The BGP session and the tunnel stayed up, so nothing looked down, but meanwhile the VPC had no "
                     f"route to {_names(list(denied))} over {ctx.tunnel.name}: traffic from AWS to {networks} did not "
                     "arrive over this connection.")
    else:
        parts.append("The BGP session and the tunnel stayed up, so nothing looks down, but the VPC has no route to "
                     f"{_names(list(denied))} over {ctx.tunnel.name}: traffic from AWS to {networks} does not arrive "
                     "over this connection.")
    earlier = [p for p in denied if p not in in_window]
    if earlier:
        parts.append(f"{_names(earlier)} {'was' if len(earlier) == 1 else 'were'} denied before the window and no "
                     "later update of the same prefix was accepted in the logs read, so the denial still stood.")
    advice = " ".join(dict.fromkeys(why.advice for _, why in denied.values()))
    title = (f"{main.title or 'AWS denied a route'}: {first_prefix}" if len(denied) == 1
             else f"AWS denied {len(denied)} routes the customer gateway advertised")
    evidence = sorted((e for e in _rows(ctx) if _prefix(e) in denied), key=lambda e: e.ts)
    return Finding(
        cause=Cause.BGP_ROUTE_REJECTED, confidence=Confidence.HIGH if in_window else Confidence.MEDIUM,
        title=title, explanation=" ".join(parts), advice=advice, evidence=_few(evidence), rule=main.id,
    )


def _rows(ctx: RuleContext) -> list[Event]:
    """RouteStatus rows read up to the end of the window (a denial stands until the prefix is accepted)."""
    return ctx.timeline.between(float("-inf"), ctx.end, [EventKind.ROUTE])


def _denied(ctx: RuleContext) -> dict[str, tuple[Event, MessageRule]]:
    """prefix -> (its latest denial, the row that explains it), for prefixes whose latest update was denied and
    that were denied in the window or still denied when it began."""
    latest: dict[str, tuple[Event, MessageRule | None]] = {}
    for event in _rows(ctx):
        rule = classify(event)
        latest[_prefix(event)] = (event, rule if rule is not None and rule.cause is Cause.BGP_ROUTE_REJECTED else None)
    return {prefix: (event, rule) for prefix, (event, rule) in latest.items() if rule is not None}


def _prefix(event: Event) -> str:
    return event.get("prefix") or event.message.split(" ", 1)[0]


def _accepted_after(ctx: RuleContext, prefix: str, denial: Event) -> Event | None:
    """The first update of the same prefix over the same tunnel that AWS took after the denial, in the logs read."""
    for event in ctx.timeline.between(denial.ts, float("inf"), [EventKind.ROUTE]):
        if event.ts > denial.ts and _prefix(event) == prefix and event.instance == denial.instance:
            return event if classify(event) is None else None
    return None


def _sentence(ctx: RuleContext, prefix: str, event: Event, rule: MessageRule, accepted: Event | None) -> str:
    reason = _REASON.search(event.message)
    words = reason["reason"].strip() if reason and reason["reason"].strip() else event.message
    update = ", ".join(f"{label} {value}" for label, key in (("AS path", "asPath"), ("next hop", "nextHopIp"))
                       if (value := event.get(key)))
    why = _WHY.get(rule.key, "")
    text = (f"AWS denied the route {prefix} that the customer gateway advertised over "
            f"{tunnel_label(ctx, event.instance)} at {ctx.fmt(event.ts)} (RouteStatus {event.status or '?'}"
            f"{', ' + update if update else ''}): {words!r}{': ' + why if why else ''}.")
    if rule.key == "route_denied_own_as" and DEFAULT_AWS_ASN in event.get("asPath").split():
        text += (f" {DEFAULT_AWS_ASN} is the Amazon side's default ASN: the device either uses the same ASN as the "
                 "AWS side or re-advertises a route it learned from AWS.")
    if accepted is not None:
        path = f" (AS path {accepted.get('asPath')})" if accepted.get("asPath") else ""
        text += (f" AWS accepted an update of {prefix}{path} at {ctx.fmt(accepted.ts)}, "
                 f"{duration_text(accepted.ts - event.ts)} later: the route was back from then on.")
    return text


def _names(prefixes: list[str]) -> str:
    return prefixes[0] if len(prefixes) == 1 else ", ".join(prefixes[:-1]) + " and " + prefixes[-1]


def _few(events: list[Event]) -> list[Event]:
    per: dict[str, int] = {}
    out = []
    for event in events:
        prefix = _prefix(event)
        per[prefix] = per.get(prefix, 0) + 1
        if per[prefix] <= SHOWN:
            out.append(event)
    return out


RULE = Rule(
    id="aws.bgp_route_rejected", cause=Cause.BGP_ROUTE_REJECTED, kind=Kind.WINDOW, priority=115, provider="aws",
    detects="AWS denied a route the customer gateway advertised (RouteStatus DENIED): the prefix, the reason, the fix",
    sources=("aws-route-status", "aws-bgp-route-limits"), check=route_rejected,
)
