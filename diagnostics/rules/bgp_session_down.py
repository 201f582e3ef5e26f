"""bgp_session_down: the BGP session over the tunnel dropped (routes withdrawn).

Detects: RouteDiagnosticLog `BgpDisconnectedEvent` (docs/sources.md#azure-columns). Together with a
tunnel drop the tunnel is the cause and BGP the effect ("BGP session flapping often mirrors IPsec tunnel flapping");
alone, the usual causes are the hold timer (keepalive 60 s, hold 180 s), more than 4,000 prefixes from the device
("Azure drops the BGP session entirely"), or TCP 179 being blocked. "A pattern of BgpConnectedEvent followed
quickly by BgpDisconnectedEvent indicates the session is being established but then dropped" (all verbatim from
Microsoft's BGP troubleshooting article, docs/sources.md#azure-bgp).

Why it matters: a BGP drop without a tunnel drop is a routing problem, not an IPsec one.

Whose peer: RouteDiagnosticLog rows name the peer address only, not the connection, so on a gateway with several
tunnels a peer's drop is this tunnel's only when something says so: its `bgp_peer_ip` in the configuration (then
only that peer counts); else a peer address equal to the tunnel's remote IP or inside a traffic selector of its own
IKE negotiations (the session's TCP 179 runs inside the tunnel, so the peer lies within what it carries; not
any-to-any selectors: they cover every address); else the peer went down within `TIED_WITHIN` seconds
of this tunnel's own disconnect while no other tunnel of the gateway went down then. A peer nothing ties to the
tunnel is not reported as its BGP session: with `bgp_peer_ip` set, or when tunnels of the gateway dropped with it
(it is theirs as much as this one's), the answer says nothing of it; otherwise it says at low confidence that a BGP
peer of the gateway went down, without claiming it is this tunnel's.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Event, EventKind, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.scope import bgp_peer, names_peer, within_selectors

WITH_TUNNEL = 120.0  # a BGP drop this close to a tunnel drop is its effect
QUICK_DROP = 300.0  # connected then disconnected within this: "established but then dropped"
#: Without `bgp_peer_ip`, a peer that went down this close to this tunnel's own disconnect, with no other tunnel of
#: the gateway going down then, is this tunnel's (the demo's and the fixtures' sessions fall within a second).
TIED_WITHIN = 10.0


def bgp_session_down(ctx: RuleContext) -> Finding | None:
    gateway_downs = ctx.near([EventKind.BGP_DOWN], ctx.start, 0, ctx.end - ctx.start)
    downs = _mine(ctx, gateway_downs)
    if not downs:
        # With `bgp_peer_ip` configured, another peer's drop is known not to be this tunnel's: nothing to say.
        return None if ctx.tunnel.extra.get("bgp_peer_ip") else _unattributed(ctx, gateway_downs)
    first = downs[0]
    tunnel_drop = next((d for d in ctx.drops if abs(d.down_ts - first.ts) <= WITH_TUNNEL), None)
    if tunnel_drop is not None:
        return Finding(
            cause=Cause.BGP_SESSION_DOWN,
            confidence=Confidence.LOW,
            title="BGP went down with the tunnel (an effect)",
            explanation=(f"The BGP session dropped at {ctx.fmt(first.ts)}, with the tunnel drop at "
                         f"{ctx.fmt(tunnel_drop.down_ts)}: routes over the tunnel were withdrawn because the tunnel "
                         "went down, not the other way round."),
            advice="Fix the tunnel drop; BGP re-establishes on its own once the tunnel is up.",
            evidence=[first, tunnel_drop.down],
        )
    ups = ctx.near([EventKind.BGP_UP], first.ts, QUICK_DROP, 0)
    quick = bool(ups) and first.ts - ups[-1].ts <= QUICK_DROP
    text = f"The BGP session dropped at {ctx.fmt(first.ts)} while the tunnel stayed up"
    text += f" ({len(downs)} times in the window)." if len(downs) > 1 else "."
    if quick:
        text += (f" It had connected at {ctx.fmt(ups[-1].ts)}: a session established and then dropped points to "
                 "the hold timer, the prefix limit or a policy on the device.")
    if first.message:
        text += f" Logged: {first.message!r}."
    return Finding(
        cause=Cause.BGP_SESSION_DOWN,
        confidence=Confidence.HIGH if len(downs) > 1 or quick else Confidence.MEDIUM,
        title="BGP session down (tunnel up)",
        explanation=text,
        advice=("Check the device's BGP log for the notification it sent or received: hold timer expiry (Azure: "
                "keepalive 60 s, hold 180 s), more than 4,000 prefixes advertised to Azure (Azure then drops the "
                "session), the BGP peer addresses and ASNs, and that TCP 179 is allowed inside the tunnel."),
        evidence=[*ups[-1:], *downs[:5]],
    )


def _mine(ctx: RuleContext, downs: list[Event]) -> list[Event]:
    """The BGP drops of this tunnel's own peer: `bgp_peer_ip`'s when configured, else those its rows tie to it."""
    configured = str(ctx.tunnel.extra.get("bgp_peer_ip", ""))
    if configured:
        return [e for e in downs if names_peer(e.message, configured)]
    if not downs:
        return []
    tunnel = ctx.tunnel
    own_ike = [e for e in ctx.timeline.events if e.kind is EventKind.IKE
               and (not tunnel.azure_remote_ip or e.remote_ip == tunnel.azure_remote_ip)]
    # Each peer looked up once: a flapping session names the same peer on every drop, and a look walks the IKE rows.
    tied = {peer for peer in {bgp_peer(e) for e in downs} - {""}
            if peer == tunnel.azure_remote_ip or within_selectors(peer, own_ike)}
    return [e for e in downs if bgp_peer(e) in tied or _with_this_drop_alone(ctx, e.ts)]


def _with_this_drop_alone(ctx: RuleContext, ts: float) -> bool:
    """This tunnel went down within `TIED_WITHIN` s of `ts` and no other tunnel of the gateway did around then. A
    disconnect row without remoteIP_s may be any tunnel's, so it ties nothing."""
    if not any(abs(d.down_ts - ts) <= TIED_WITHIN and d.down.remote_ip for d in ctx.drops):
        return False
    return not any(ts - WITH_TUNNEL <= other <= ts + TIED_WITHIN for other in ctx.timeline.other_downs)


def _unattributed(ctx: RuleContext, downs: list[Event]) -> Finding | None:
    """A peer nothing ties to this tunnel, at a time no tunnel of the gateway went down: said at low confidence,
    without claiming it is this tunnel's. When a tunnel dropped with it, it is that drop's effect: nothing to say."""
    drops = [d.down_ts for d in ctx.drops] + ctx.timeline.other_downs
    alone = [e for e in downs if not any(abs(e.ts - t) <= WITH_TUNNEL for t in drops)]
    if not alone:
        return None
    first, peers = alone[0], sorted({p for e in alone if (p := bgp_peer(e))})
    named = f"BGP peer {', '.join(peers)}" if peers else "A BGP peer"
    return Finding(
        cause=Cause.BGP_SESSION_DOWN,
        confidence=Confidence.LOW,
        title="A BGP peer of the gateway went down (not known to be this tunnel's)",
        explanation=(f"{named} of {first.gateway} disconnected at {ctx.fmt(first.ts)}"
                     f"{f' ({len(alone)} times in the window)' if len(alone) > 1 else ''} while no tunnel of the "
                     f"gateway went down. The gateway's BGP rows name the peer, not the connection, and nothing in "
                     f"{ctx.tunnel.name}'s rows ties that peer to it, so it may be another connection's session."),
        advice=(f"If {ctx.tunnel.name} runs BGP, put its peer address in its configuration (bgp_peer_ip) so that "
                "only its own session is read as its; if that peer is its own, check the device's BGP log (hold "
                "timer, prefix limit, TCP 179 inside the tunnel)."),
        evidence=alone[:5],
    )


RULE = Rule(
    id="bgp_session_down", cause=Cause.BGP_SESSION_DOWN, kind=Kind.WINDOW, priority=10, provider="azure",
    detects="the BGP session over the tunnel dropped, alone or with the tunnel",
    sources=("azure-bgp",), check=bgp_session_down,
)
