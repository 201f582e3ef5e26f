"""The AWS rules: an AWS connection's timeline and drops in, ranked findings out.

Small pure functions over the `AwsTimeline` (events in, findings out), driven by the message table of
`aws.rules`:

* `explain_drop`: the messages the tunnel logged just before and during one drop, grouped by cause. A message on
  the row that took the tunnel down, or repeated while it stayed down, is strong evidence (high); one message near
  it is medium. A cause that keeps the tunnel down (pre-shared key, proposals, selectors) outranks the event that
  started the drop (remote delete, DPD), whose message is still quoted. Benign rekey collisions are never primary
  (seed 004 / research §2.6: "the tunnel does not go down").
* `explain_bgp_drop`: a BGP session that fell while IPsec stayed up (Cease 6/N, hold timer, bad OPEN).
* `redundancy`: an AWS connection has two tunnels; when one drops and the other stays up there was no outage,
  but the connection ran without redundancy for that long (issue 4 §5).
* `flapping`: three or more drops of one tunnel in the window, with count and rhythm.
* `no_drop`: nothing went down in the window; the nearest drops and any benign collisions are named.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from ..events import Event, EventKind
from ..findings import Cause, Confidence, Drop, Finding
from ..rules.context import RuleContext, duration_text
from ..rules.flapping import causes_sentence, rhythm
from .parser import is_bgp
from .rules import MessageRule, cease_reason, classify, proposal_phase
from .timeline import AwsTimeline, is_bgp_drop

#: Messages up to this long before the disconnect belong to it (a DELETE from the CGW precedes the state change).
BEFORE = 60.0
#: While a tunnel is still down, messages this long after the disconnect say why it stays down.
STILL_DOWN_LOOK = 30 * 60.0
#: The row that changed the state and a message logged within this many seconds of it are one event.
SAME_MOMENT = 2.0
#: A cause that keeps a tunnel down outranks the one that started the drop (lower is more specific).
RANK = {
    Cause.PSK_MISMATCH: 0, Cause.IKE_PROPOSAL_MISMATCH: 1, Cause.TRAFFIC_SELECTOR_MISMATCH: 2,
    Cause.REMOTE_INITIATED: 3, Cause.DPD_TIMEOUT: 4, Cause.PEER_UNREACHABLE: 5, Cause.BGP_SESSION_DOWN: 6,
    Cause.REKEY_COLLISION: 9,
}
MIN_FLAP_DROPS = 3
#: AWS tunnel defaults (VPN tunnel options): phase 1 lifetime 28,800 s, phase 2 3,600 s, DPD timeout 30 s.
AWS_PHASE2_LIFETIME = 3600


@dataclass(frozen=True)
class Hit:
    rule: MessageRule
    event: Event


def tunnel_label(ctx: RuleContext, ip: str) -> str:
    """`tunnel 203.0.113.101 (1 of 2)` when both outside IPs are known, so people can tell them apart."""
    ips = list(ctx.tunnel.aws_outside_ips)
    return f"tunnel {ip} ({ips.index(ip) + 1} of {len(ips)})" if ip in ips else f"tunnel {ip or '?'}"


def hits_near(ctx: RuleContext, drop: Drop, bgp: bool = False) -> list[Hit]:
    """Classified messages of the drop's tunnel from BEFORE the disconnect to its recovery."""
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


def _outage_text(ctx: RuleContext, drop: Drop, what: str) -> str:
    if drop.up is not None:
        return f"{what} was back at {ctx.fmt(drop.up.ts)}, after {duration_text(drop.duration)}."
    latest = ctx.timeline.events[-1].ts if ctx.timeline.events else drop.down_ts
    return f"{what} was still down at the end of the logs read ({ctx.fmt(latest)})."


def _title(rule: MessageRule, hit: Event) -> str:
    cause = rule.cause
    if rule.key == "auth_failed":
        return "IKE authentication failed (pre-shared key, certificate or IKE identity)"
    if cause is Cause.PSK_MISMATCH:
        return "Pre-shared key mismatch"
    if cause is Cause.IKE_PROPOSAL_MISMATCH:
        phase = proposal_phase(rule, hit)
        return f"No common phase {phase} ({'IKE' if phase == '1' else 'IPsec'}) proposal"
    if cause is Cause.TRAFFIC_SELECTOR_MISMATCH:
        return "Traffic selectors (encryption domains) differ"
    if cause is Cause.REMOTE_INITIATED:
        return ("The customer gateway deleted the IKE SA (phase 1)" if rule.phase == "1"
                else "The customer gateway deleted the IPsec SA (phase 2)")
    if cause is Cause.DPD_TIMEOUT:
        return "Dead-peer detection timeout (the customer gateway stopped answering)"
    if cause is Cause.PEER_UNREACHABLE:
        return "The customer gateway does not answer IKE (UDP 500/4500)"
    if cause is Cause.REKEY_COLLISION:
        return "Rekey collision (benign)"
    return rule.meaning


def _finding_for(ctx: RuleContext, drop: Drop, cause: Cause, hits: list[Hit]) -> Finding:
    first = hits[0]
    rule = first.rule
    at_change = any(abs(h.event.ts - drop.down_ts) <= SAME_MOMENT for h in hits)
    during = [h for h in hits if h.event.ts > drop.down_ts + SAME_MOMENT]
    if rule.benign:
        confidence = Confidence.LOW
    elif at_change or len(during) >= 2:
        confidence = Confidence.HIGH
    else:
        confidence = Confidence.MEDIUM
    where = tunnel_label(ctx, drop.down.instance)
    quoted = first.event.message.split(" [phase", 1)[0]
    parts = [f"{where.capitalize()} of {ctx.tunnel.name} ({ctx.tunnel.aws_vpn_connection}) went down at "
             f"{ctx.fmt(drop.down_ts)}. AWS logged {quoted!r} at {ctx.fmt(first.event.ts)}: {rule.meaning}."]
    if cause is Cause.IKE_PROPOSAL_MISMATCH:
        phase = proposal_phase(rule, first.event)
        parts.append(f"This is a phase {phase} mismatch ("
                     + ("IKE SA: encryption, integrity, DH group or IKE version" if phase == "1"
                        else "IPsec SA: encryption, integrity, PFS DH group or lifetime") + ").")
    if len(hits) > 1:
        parts.append(f"AWS logged it {len(hits)} times between {ctx.fmt(hits[0].event.ts)} and "
                     f"{ctx.fmt(hits[-1].event.ts)}.")
    if rule.benign:
        parts.append("A rekey collision is expected behaviour and does not take a tunnel down by itself.")
    parts.append(_outage_text(ctx, drop, "The tunnel"))
    evidence = [h.event for h in hits[:3]]
    if len(hits) > 3:
        evidence.append(hits[-1].event)
    evidence += [drop.down, *([drop.up] if drop.up else [])]
    return Finding(cause=cause, confidence=confidence, title=_title(rule, first.event), explanation=" ".join(parts),
                   advice=rule.advice, evidence=_unique_sorted(evidence), rule=f"aws.{rule.key}", drop=drop)


def _unique_sorted(events: list[Event]) -> list[Event]:
    seen: set[int] = set()
    out = []
    for event in sorted(events, key=lambda e: e.ts):
        if id(event) not in seen and not any(o.ts == event.ts and o.message == event.message for o in out):
            seen.add(id(event))
            out.append(event)
    return out


def unknown(ctx: RuleContext, drop: Drop) -> Finding:
    """A drop no message explains: the rows around it are shown (DESIGN.md: an honest unknown)."""
    around = [e for e in ctx.timeline.between(drop.down_ts - 120, drop.down_ts + 120)
              if e.instance == drop.down.instance][:12]
    what = "BGP session" if is_bgp_drop(drop) else "tunnel"
    text = (f"The {what} on {tunnel_label(ctx, drop.down.instance)} of {ctx.tunnel.name} went down at "
            f"{ctx.fmt(drop.down_ts)} and AWS logged no message that explains it (no DPD timeout, delete from the "
            f"customer gateway, authentication, proposal or selector error). " + _outage_text(ctx, drop, "It"))
    return Finding(
        cause=Cause.UNKNOWN, confidence=Confidence.LOW, title="Drop found, cause not in the AWS logs",
        explanation=text,
        advice=("Read the rows below and the customer gateway's logs for the same minute. If neither shows a reason, "
                "open an AWS Support case with the VPN connection id, the tunnel outside IP and these UTC times."),
        evidence=_unique_sorted(around or [drop.down]), rule="aws.unknown", drop=drop)


def explain_drop(ctx: RuleContext, drop: Drop) -> list[Finding]:
    """Every explanation of one drop of an AWS tunnel, best first."""
    if is_bgp_drop(drop):
        return explain_bgp_drop(ctx, drop)
    grouped: dict[Cause, list[Hit]] = defaultdict(list)
    for hit in hits_near(ctx, drop):
        if hit.rule.cause is not None:
            grouped[hit.rule.cause].append(hit)
    findings = [_finding_for(ctx, drop, cause, hits) for cause, hits in grouped.items()]
    findings.sort(key=lambda f: (f.cause is Cause.REKEY_COLLISION, -f.confidence.weight, RANK.get(f.cause, 8)))
    real = [f for f in findings if f.cause is not Cause.REKEY_COLLISION]
    if len(real) > 1:
        # The message that started the drop, when the primary cause is what kept it down.
        first_seen = {cause: hits[0].event.ts for cause, hits in grouped.items()}
        starter = min(real[1:], key=lambda f: first_seen[f.cause])
        if first_seen[starter.cause] < first_seen[real[0].cause]:
            real[0].explanation += (f" The drop itself began with {starter.title[0].lower()}{starter.title[1:]} at "
                                    f"{ctx.fmt(first_seen[starter.cause])}.")
    bgp = bgp_with_tunnel(ctx, drop)
    if bgp is not None:
        findings.append(bgp)
    if not real or real[0].confidence is Confidence.LOW:
        findings.insert(0, unknown(ctx, drop))
    return findings


def bgp_with_tunnel(ctx: RuleContext, drop: Drop) -> Finding | None:
    """BGP fell with the IPsec tunnel: a consequence, said but never ranked above the tunnel's own cause."""
    lo, hi = drop.down_ts - 10, (drop.up_ts or drop.down_ts + STILL_DOWN_LOOK) + 120
    downs = [e for e in ctx.near([EventKind.BGP_DOWN], drop.down_ts, drop.down_ts - lo, hi - drop.down_ts)
             if e.instance == drop.down.instance]
    if not downs:
        return None
    ups = [e for e in ctx.near([EventKind.BGP_UP], downs[0].ts, 0, hi - downs[0].ts) if e.instance == downs[0].instance]
    back = f" and came back at {ctx.fmt(ups[0].ts)}" if ups else ""
    return Finding(
        cause=Cause.BGP_SESSION_DOWN, confidence=Confidence.LOW, title="BGP session dropped with the tunnel",
        explanation=(f"The BGP session over {tunnel_label(ctx, drop.down.instance)} went down at "
                     f"{ctx.fmt(downs[0].ts)}{back}: a consequence of the tunnel drop; the routes learned over it "
                     "were withdrawn meanwhile."),
        advice="Nothing to fix in BGP itself: fix the tunnel drop above.",
        evidence=[downs[0], *ups[:1]], rule="aws.bgp_with_tunnel", drop=drop)


def explain_bgp_drop(ctx: RuleContext, drop: Drop) -> list[Finding]:
    """A BGP session that fell while IPsec stayed up."""
    hits = [h for h in hits_near(ctx, drop, bgp=True) if h.event.ts <= drop.down_ts + SAME_MOMENT + 5]
    causal = [h for h in hits if h.rule.cause is Cause.BGP_SESSION_DOWN]
    specific = [h for h in causal if h.rule.key != "bgp_established_to_idle"]
    if not causal:
        return [unknown(ctx, drop)]
    main = (specific or causal)[0]
    where = tunnel_label(ctx, drop.down.instance)
    cease = cease_reason(main.event.message)
    reason = cease[2] if cease else main.rule.meaning
    text = (f"The BGP session over {where} of {ctx.tunnel.name} went down at {ctx.fmt(drop.down_ts)} while IPsec "
            f"stayed up: {reason}. Routes learned over this tunnel were withdrawn, so traffic used the other "
            "tunnel if its session was up. " + _outage_text(ctx, drop, "The session"))
    advice = main.rule.advice
    if cease and cease[0] == "1":
        advice = main.rule.advice + " " + "Summarise the routes the device advertises: AWS accepts at most 100."
    return [Finding(
        cause=Cause.BGP_SESSION_DOWN, confidence=Confidence.HIGH if specific else Confidence.MEDIUM,
        title=f"BGP session down{': Cease ' + cease[1] if cease else ''}",
        explanation=text, advice=advice,
        evidence=_unique_sorted([*(h.event for h in (specific or causal)[:3]), drop.down,
                                 *([drop.up] if drop.up else [])]),
        rule=f"aws.{main.rule.key}", drop=drop)]


def redundancy(ctx: RuleContext, atl: AwsTimeline, drop: Drop) -> str:
    """What the connection's other tunnel did while this one was down (issue 4 §5)."""
    if is_bgp_drop(drop):
        return ""
    ip = drop.down.instance
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


def flapping(ctx: RuleContext, drops: list[Drop], causes: Counter[str]) -> Finding | None:
    """Three or more drops of one tunnel in the window: count, rhythm, and each drop's cause."""
    by_tunnel: dict[str, list[Drop]] = defaultdict(list)
    for drop in drops:
        if not is_bgp_drop(drop):
            by_tunnel[drop.down.instance].append(drop)
    ip, worst = max(by_tunnel.items(), key=lambda kv: len(kv[1]), default=("", []))
    if len(worst) < MIN_FLAP_DROPS:
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
        evidence=[e for d in worst[:6] for e in (d.down, d.up) if e is not None], rule="aws.flapping")


def benign_in(ctx: RuleContext, start: float, end: float) -> Finding | None:
    """Rekey collisions logged in a window without a drop: expected, said so that nobody chases them."""
    hits = [Hit(r, e) for e in ctx.timeline.between(start, end, [EventKind.IKE, EventKind.TUNNEL_UP])
            if (r := classify(e)) is not None and r.benign]
    if not hits:
        return None
    first = hits[0]
    return Finding(
        cause=Cause.REKEY_COLLISION, confidence=Confidence.HIGH if len(hits) == 1 else Confidence.MEDIUM,
        title="Rekey collision (benign, no outage)",
        explanation=(f"AWS logged {first.event.message.split(' [phase', 1)[0]!r} at {ctx.fmt(first.event.ts)} on "
                     f"{tunnel_label(ctx, first.event.instance)}"
                     + (f" ({len(hits)} collisions in the window)" if len(hits) > 1 else "")
                     + f": {first.rule.meaning}. The tunnel stayed up."),
        advice=first.rule.advice, evidence=[h.event for h in hits[:6]], rule=f"aws.{first.rule.key}")


def no_drop(ctx: RuleContext, nearest: tuple[Drop | None, Drop | None], lookaround_days: int) -> Finding:
    before, after = nearest
    parts = [f"No tunnel of {ctx.tunnel.name} ({ctx.tunnel.aws_vpn_connection}) went down between "
             f"{ctx.fmt(ctx.start, seconds=False)} and {ctx.fmt(ctx.end, seconds=False)}."]
    for label, drop in (("before", before), ("after", after)):
        if drop is not None:
            parts.append(f"Nearest drop {label}: {tunnel_label(ctx, drop.down.instance)} at "
                         f"{ctx.fmt(drop.down_ts, seconds=False)} on {drop.down.time:%Y-%m-%d} (outage "
                         f"{duration_text(drop.duration)}).")
    if before is None and after is None:
        parts.append(f"No other drop was logged within {lookaround_days} days either side.")
    return Finding(
        cause=Cause.NO_DROP_FOUND,
        confidence=Confidence.HIGH if ctx.rows_in_window or ctx.timeline.events else Confidence.MEDIUM,
        title="No drop found in that window", explanation=" ".join(parts),
        advice=("If users saw an outage then, ask about the nearest drop, or check routing (route tables, BGP "
                "routes, security groups) and the TunnelState metric of both tunnels."),
        evidence=[d.down for d in (before, after) if d is not None], rule="aws.no_drop_found")


def diagnose(ctx: RuleContext, atl: AwsTimeline, window: list[Drop], primary: Drop | None,
             nearest: tuple[Drop | None, Drop | None] = (None, None), lookaround_days: int = 3) -> list[Finding]:
    """The ranked findings of the window: findings[0] is the primary cause."""
    if primary is None:
        found = [no_drop(ctx, nearest, lookaround_days)]
        benign = benign_in(ctx, ctx.start, ctx.end)
        return found + ([benign] if benign else [])
    explained = explain_drop(ctx, primary)
    causes = Counter((explained if d is primary else explain_drop(ctx, d))[0].cause.value for d in window)
    flap = flapping(ctx, window, causes)
    return [flap, *explained] if flap else explained
