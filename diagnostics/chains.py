"""Causal chains: linked findings told as one story ("the key was changed, then every negotiation failed").

The rules explain causes one by one; an answer that lists "pre-shared key mismatch" and, separately, "configuration
change 19 s before" leaves the reader to join them. This module joins them, and only when the logs allow it: a pure
function, an investigation (its findings and events, and metrics when there are) in, the chain the answer's primary
cause belongs to out. Nothing here queries anything or changes a finding.

A chain is made of steps (what happened, when, on which gateway and endpoint, and which cause code it belongs to)
joined by the links of `LINKS`, a table: which step follows which, within how long, in which order, on which shared
identifier, in which words. A link is made only when all of that fits: the cause is logged before its effect (never
after), within the link's window, on the same gateway or the same tunnel endpoint, and each step concerns this
tunnel (a configuration change of another connection, a BGP peer that is not the tunnel's, an AWS tunnel whose
outside IP is not the Azure side's peer are not steps of its story). When nothing links, there is no story and the
answer is exactly what it was without this module.

The chains, each a path through `LINKS`:

- **Key change → authentication failures** (`key_changed` → `auth_failing`): a SetConnectionConfiguration of this
  tunnel's connection, at most 15 minutes before the tunnel went down and stayed down failing IKE authentication.
  Why: changing a connection's shared key re-negotiates the tunnel with the new key; a device that still has the
  old one fails every authentication from then on (docs/sources.md#azure-config-change, "Comparing the results
  from the GatewayDiagnosticLog table with the results of the TunnelDiagnosticLog table can help determine if a
  tunnel connectivity failure happened during a configuration change",
  https://learn.microsoft.com/en-us/troubleshoot/azure/vpn-gateway/troubleshoot-vpn-with-azure-diagnostics;
  docs/sources.md#azure-tunnel-reasons, the reason "Pre-shared Key Changed"; docs/sources.md#azure-ike-errors,
  "IKE authentication credentials are unacceptable", https://github.com/dmauser/Lab/tree/master/VPN-gateway-IKE-logs).
  The change must name this connection (its name, an alias, `azure_connection`, or its remote endpoint) and say it
  set the key, or name none while the tunnel's own disconnect reason says its key changed ("Pre-shared Key
  Changed"); a change of another connection, or of something else, is no step of this story.
- **Maintenance → failover** (`maintenance` → `failover`): a maintenance record (HostMaintenanceEvent, "Upgrade
  gateway started") on the tunnel's gateway at most an hour before the tunnel switched gateway instance
  (docs/sources.md#azure-maintenance, https://jpaztech.github.io/blog/network/vpngw-how-to-check-maintenance;
  docs/sources.md#azure-failover, "a disconnection event on one gateway instance, followed by a connection event on
  a different gateway instance within a few seconds, it indicates a gateway failover").
- **Tunnel down → BGP withdrawn** (`failover` or `auth_failing` → `bgp_withdrawn`): the tunnel's own BGP peer
  (`bgp_peer_ip` in its configuration; without it the gateway's BGP events may be another connection's, so there is
  no such step) disconnected within 2 minutes after the tunnel went down: "BGP session flapping often mirrors IPsec
  tunnel flapping" (docs/sources.md#azure-bgp,
  https://learn.microsoft.com/en-us/troubleshoot/azure/vpn-gateway/vpn-gateway-troubleshoot-bgp).
- **Azure failover → AWS dead-peer detection** (`failover` → `peer_dpd`), across an Azure↔AWS link
  (diagnostics/link.py): AWS declared its peer dead on the tunnel whose outside IP is the Azure connection's remote
  endpoint, at most 3 minutes after the Azure side went down: the Azure gateway stopped answering while it failed
  over (docs/sources.md#azure-failover; docs/sources.md#aws-ikev2-errors, "AWS tunnel DPD timed out after N
  retransmits", https://docs.aws.amazon.com/vpn/latest/s2svpn/monitoring-logs.html).
- **… → traffic gap** (`failover`, `auth_failing`, `bgp_withdrawn` or `peer_dpd` → `traffic_gap`): given the tunnel's
  `Traffic` (the gateway's byte counters, diagnostics/traffic/), traffic that stopped with the drop and stayed
  stopped longer than the logged outage (or has not resumed since the reconnect) ends the story: "traffic stopped by
  … and came back at …: at least … without any". The gap is what `diagnostics.traffic.drops` reads from the counters
  (the answer's traffic line), so the two never disagree. handlers/render/story.py's
  `answer_story` passes a drop answer's metrics when it has them; without metrics there is no such step. The byte
  counts' own sources are cited with the metrics readers, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from diagnostics.model import Cause, Drop, Event, EventKind, Finding, Investigation
from diagnostics.rules.bgp_session_down import WITH_TUNNEL
from diagnostics.rules.config_change import CHANGE_BEFORE
from diagnostics.rules.maintenance_failover import MARKER_BEFORE
from diagnostics.rules.support.reasons import Reason, classify_reason
from diagnostics.rules.support.scope import bgp_peer, concerns_tunnel
from diagnostics.timefmt import duration_text, local_and_utc, short_instance
from diagnostics.timeline import answered_drop
from diagnostics.traffic.drops import SURE, drop_traffic
from diagnostics.traffic.model import Traffic

#: Drops of the two ends of a link this close together are one incident (as diagnostics/link.py merges them).
ACROSS_LINK = 180.0
#: A traffic gap starts with the drop to within `SURE` (metrics come in intervals), so it may be logged that much
#: before the BGP withdrawal that came with the drop.
TRAFFIC_SLACK = WITH_TUNNEL + SURE


@dataclass(frozen=True)
class Step:
    """One thing that happened, as a chain tells it. `gateway` is the Azure gateway or the AWS VPN connection;
    `endpoint` the tunnel's peer address as this side logs it (Azure: the remote IP; AWS: the tunnel's outside IP),
    which is how the two ends of a link are matched. `words` fill the link's sentence."""

    kind: str  # key_changed, auth_failing, maintenance, failover, bgp_withdrawn, peer_dpd, traffic_gap
    cause: Cause | None  # the cause code the step belongs to; None for a metrics step (no cause of its own yet)
    ts: float
    side: str  # "azure" | "aws"
    gateway: str = ""
    endpoint: str = ""
    event: Event | None = None
    words: dict[str, str] = field(default_factory=dict)
    drop: Drop | None = None  # the drop the step is (a failover, AWS's DPD timeout, the failures' outage)


@dataclass(frozen=True)
class Link:
    """`effect` follows `cause` when it is logged at most `within` seconds after it (never before, but for `slack`:
    metrics come in intervals) and both steps share the identifiers in `same`. `says` is the effect's clause in the
    story; `sources` the docs/sources.md anchors the link relies on."""

    cause: str
    effect: str
    within: float
    same: tuple[str, ...]
    says: str
    sources: tuple[str, ...]
    slack: float = 0.0


#: Every link a story may be made of. A story is the longest path through these links that holds the answer's
#: primary cause; the clause of each link follows the previous one, after the opening of the first step (`OPENS`).
LINKS: tuple[Link, ...] = (
    Link("key_changed", "auth_failing", CHANGE_BEFORE, ("gateway",),
         " and the device still uses the old one; since then every negotiation fails authentication (the tunnel "
         "dropped {gap} later{reason})",
         ("azure-config-change", "azure-tunnel-reasons", "azure-ike-errors")),
    Link("maintenance", "failover", MARKER_BEFORE, ("gateway",),
         "{gap} later the tunnel failed over from {down_on} to {up_on} at {time}, {back}",
         ("azure-maintenance", "azure-failover")),
    Link("failover", "bgp_withdrawn", WITH_TUNNEL, ("gateway",),
         "BGP peer {peer} went down with it at {time}, withdrawing the routes learned over the tunnel",
         ("azure-bgp",)),
    Link("auth_failing", "bgp_withdrawn", WITH_TUNNEL, ("gateway",),
         "BGP peer {peer} went down with the tunnel at {time}, withdrawing the routes learned over it",
         ("azure-bgp",)),
    Link("failover", "peer_dpd", ACROSS_LINK, ("endpoint",),
         "{gap} later AWS declared its peer dead on tunnel {endpoint} ({message!r}) at {time}: a consequence of the "
         "failover, not a second fault", ("azure-failover", "aws-ikev2-errors")),
    # The metrics hook: the sources of the byte counts are cited with the metrics (issue 18 item 5), not here.
    Link("bgp_withdrawn", "traffic_gap", WITH_TUNNEL, (), "{traffic}", (), slack=TRAFFIC_SLACK),
    Link("failover", "traffic_gap", WITH_TUNNEL, (), "{traffic}", (), slack=TRAFFIC_SLACK),
    Link("auth_failing", "traffic_gap", WITH_TUNNEL, (), "{traffic}", (), slack=TRAFFIC_SLACK),
    Link("peer_dpd", "traffic_gap", WITH_TUNNEL, (), "{traffic}", (), slack=TRAFFIC_SLACK + ACROSS_LINK),
)

#: How a story opens with its first step.
OPENS: dict[str, str] = {
    "key_changed": "The connection's shared key was changed at {time} ({operation} on {gateway})",
    "maintenance": "Platform maintenance started on {gateway} at {time} ({operation}{said})",
    "failover": "The gateway {gateway} failed over from {down_on} to {up_on} at {time}, {back}",
    "auth_failing": "The tunnel went down at {time}{why} and every negotiation since fails IKE authentication",
    "bgp_withdrawn": "BGP peer {peer} went down at {time}",
    "peer_dpd": "AWS declared its peer dead on tunnel {endpoint} at {time} ({message!r})",
    "traffic_gap": "{traffic}",
}


@dataclass(frozen=True)
class Chain:
    """Steps in time order and the link that joins each to the one before (`links[i]` leads to `steps[i + 1]`)."""

    steps: tuple[Step, ...]
    links: tuple[Link, ...]

    @property
    def causes(self) -> list[Cause]:
        return list(dict.fromkeys(s.cause for s in self.steps if s.cause is not None))

    def sentence(self, tz: ZoneInfo) -> str:
        """The story in one sentence, times in the asker's zone."""
        first = self.steps[0]
        parts = [OPENS[first.kind].format(**_words(first, None, tz))]
        for before, link, step in zip(self.steps, self.links, self.steps[1:], strict=False):
            clause = link.says.format(**_words(step, before, tz))
            parts.append(clause if clause.startswith(" and ") else f"; {clause}")
        text = "".join(parts).replace(" ; ", "; ")
        return text[:1].upper() + text[1:] + "."

    def step_lines(self, tz: ZoneInfo) -> list[tuple[Step, str]]:
        """Each step with what it was, in a few words (the JSON `story.steps[].text`, the text answer's lines)."""
        return [(s, STEP_TEXT[s.kind].format(**_words(s, None, tz))) for s in self.steps]


STEP_TEXT: dict[str, str] = {
    "key_changed": "{operation} on {gateway}: the connection's shared key was changed",
    "auth_failing": "the tunnel went down{why} and every negotiation since fails IKE authentication",
    "maintenance": "{operation} on {gateway}{said}",
    "failover": "the tunnel failed over from {down_on} to {up_on} ({back})",
    "bgp_withdrawn": "BGP peer {peer} disconnected: its routes were withdrawn",
    "peer_dpd": "AWS tunnel {endpoint}: {message!r}",
    "traffic_gap": "{traffic}",
}


def _words(step: Step, before: Step | None, tz: ZoneInfo) -> dict[str, str]:
    """What a step's template may say: its own words over those of the step before it (a link's clause may speak of
    its cause), its time in the asker's zone, and how long after that cause it came."""
    words = {**(before.words if before is not None else {}), "time": local_and_utc(step.ts, tz),
             "gateway": step.gateway, "endpoint": step.endpoint,
             "gap": duration_text(step.ts - before.ts) if before is not None else "", **step.words}
    if step.kind == "traffic_gap":
        end = step.words.get("until_ts")
        stop = f"traffic stopped by {local_and_utc(step.ts, tz)}"
        words["traffic"] = (f"{stop} and came back at {local_and_utc(float(end), tz)}: at least "
                            f"{duration_text(float(step.words.get('gap_s') or float(end) - step.ts))} without any "
                            "(gateway metrics)" if end
                            else f"{stop} and has not come back since the reconnect (gateway metrics)")
    return words


# ------------------------------------------------------------------------------------------------ the steps


def steps_of(inv: Investigation, traffic: Traffic | None = None) -> list[Step]:
    """Every step the investigation's findings and rows show for its tunnel, oldest first."""
    tunnel = inv.tunnel
    azure_drops = [d for d in inv.drops if d.down.provider == "azure"]
    drop = answered_drop(inv, azure_drops)
    found: list[Step] = []
    causes = {f.cause for f in inv.findings}
    if Cause.PSK_MISMATCH in causes and drop is not None:
        found += _key_steps(inv, drop)
    for finding in inv.findings:
        if finding.cause in (Cause.MAINTENANCE_FAILOVER, Cause.GATEWAY_FAILOVER) and finding.drop is not None \
                and finding.drop.switched_instance:
            found.append(_failover_step(finding.cause, finding.drop))
        if finding.cause is Cause.DPD_TIMEOUT and finding.drop is not None and finding.drop.down.provider == "aws":
            found.append(_dpd_step(finding))
    if Cause.MAINTENANCE_FAILOVER in causes:
        found += [Step("maintenance", Cause.MAINTENANCE_FAILOVER, e.ts, "azure", e.gateway, event=e,
                       words={"operation": e.operation or "maintenance", "said": f": {e.message!r}" if e.message
                              else ""})
                  for e in inv.events if e.kind is EventKind.MAINTENANCE and _same(e.gateway, tunnel.azure_gateway)]
    # The BGP drops bgp_session_down tied to this tunnel (its `bgp_peer_ip`, its address or selectors, or the
    # timing): the story and the finding never disagree on whose session it was.
    found += [Step("bgp_withdrawn", Cause.BGP_SESSION_DOWN, e.ts, "azure", e.gateway, event=e,
                   words={"peer": bgp_peer(e) or str(tunnel.extra.get("bgp_peer_ip", ""))})
              for f in inv.findings if f.cause is Cause.BGP_SESSION_DOWN
              for e in f.evidence if e.kind is EventKind.BGP_DOWN and _same(e.gateway, tunnel.azure_gateway)]
    stopped = answered_drop(inv)  # the metrics hook: whichever side's drop the answer is about
    if traffic is not None and stopped is not None:
        found += traffic_gap_steps(traffic, stopped)
    return sorted(found, key=lambda s: s.ts)


def _same(a: str, b: str) -> bool:
    return bool(a) and a.lower() == b.lower()


_KEY_WORDS = re.compile(r"pre-?shared key|shared key|\bpsk\b", re.I)


def _key_steps(inv: Investigation, drop: Drop) -> list[Step]:
    """The configuration changes of this tunnel's connection that may have changed its key (the drop's failing
    authentication is the `auth_failing` step)."""
    tunnel = inv.tunnel
    reason = drop.down.reason
    key_reason = classify_reason(reason) is Reason.CREDENTIALS and "changed" in reason.lower()
    changes = []
    for e in inv.events:
        if e.kind is not EventKind.CONFIG_CHANGE or not _same(e.gateway, drop.down.gateway) \
                or e.operation == "SetGatewayConfiguration" or e.get("operationStatus_s").lower() == "failed":
            continue
        mine = concerns_tunnel(e, tunnel)
        # A change of this connection that says it set the key, or any change that names no connection when the
        # tunnel's own disconnect says its key changed; a change of something else is not the failures' cause.
        if (mine and (key_reason or _KEY_WORDS.search(e.message))) or (mine is None and key_reason):
            changes.append(e)
    if not changes:
        return []
    failing = Step("auth_failing", Cause.PSK_MISMATCH, drop.down_ts, "azure", drop.down.gateway, drop.down.remote_ip,
                   drop.down, {"reason": f", {reason!r}" if reason else "", "why": f" ({reason!r})" if reason else ""},
                   drop)
    return [failing, *(Step("key_changed", Cause.CONFIG_CHANGE, e.ts, "azure", e.gateway, event=e,
                            words={"operation": e.operation})
                       for e in changes)]


def _failover_step(cause: Cause, drop: Drop) -> Step:
    back = f"back after {duration_text(drop.duration)}" if drop.up is not None else "not back yet"
    return Step("failover", cause, drop.down_ts, "azure", drop.down.gateway, drop.down.remote_ip, drop.down,
                {"down_on": short_instance(drop.down_instance), "up_on": short_instance(drop.up_instance),
                 "back": back}, drop)


def _dpd_step(finding: Finding) -> Step:
    """When AWS declared the peer dead: its DPD message on the drop's tunnel (else the drop's own row)."""
    from diagnostics.rules.aws_messages import classify  # lazy load: AWS's message table, for an AWS drop only

    drop = finding.drop
    assert drop is not None
    said = [e for e in finding.evidence if e.instance == drop.down.instance and e.ts <= drop.down_ts + 2
            and (rule := classify(e)) is not None and rule.cause is Cause.DPD_TIMEOUT]
    event = said[0] if said else drop.down
    return Step("peer_dpd", Cause.DPD_TIMEOUT, event.ts, "aws", drop.down.gateway, drop.down.instance, event,
                {"message": event.message.split(" [phase", 1)[0]}, drop)


def traffic_gap_steps(traffic: Traffic, drop: Drop) -> list[Step]:
    """The metrics hook: when the byte counters stopped with the drop and stayed without traffic longer than the logs
    say the tunnel was down, or have not carried traffic since the reconnect (`diagnostics.traffic.drops`, so the
    story and the answer's traffic line never disagree), the gap. Nothing when the counters add nothing sure: no byte
    series, no traffic before the drop, no value since the reconnect yet, a gap no longer than the logged outage, or
    traffic that stopped well before the disconnect (not its consequence)."""
    counted = drop_traffic(drop, traffic)
    if counted is None or counted.stopped_at is None or counted.resumed is None \
            or drop.down_ts - counted.stopped_at >= SURE:
        return []
    if counted.resumed and drop.duration is not None and (counted.gap_s or 0.0) - drop.duration < SURE:
        return []  # no longer without traffic than the logs say: the counters add nothing to the story
    return [Step("traffic_gap", None, counted.stopped_at, drop.down.provider,
                 words={"until_ts": str(counted.resumed_at) if counted.resumed_at is not None else "",
                        "gap_s": str(counted.gap_s) if counted.gap_s is not None else ""})]


# ------------------------------------------------------------------------------------------------ the chains


def _fits(link: Link, a: Step, b: Step) -> bool:
    if a.kind != link.cause or b.kind != link.effect:
        return False
    if not (a.ts - link.slack <= b.ts <= a.ts + link.within):
        return False
    if "gateway" in link.same and not _same(a.gateway, b.gateway):
        return False
    return "endpoint" not in link.same or (bool(a.endpoint) and a.endpoint == b.endpoint)


def chains(steps: list[Step]) -> list[Chain]:
    """Every longest path through `LINKS` (two steps or more), oldest first. Each effect takes the nearest cause
    before it (the latest maintenance record before a failover, the last change before the failures)."""
    memo: dict[int, Chain] = {}

    def ending_at(j: int) -> Chain:
        # The kinds of `LINKS` form no cycle, so this recursion ends.
        if j not in memo:
            b, options = steps[j], [Chain((steps[j],), ())]
            for link in LINKS:
                causes = [i for i, a in enumerate(steps) if i != j and _fits(link, a, b)]
                if causes:
                    before = ending_at(max(causes, key=lambda k: (steps[k].ts, k)))
                    options.append(Chain((*before.steps, b), (*before.links, link)))
            memo[j] = max(options, key=lambda c: len(c.steps))
        return memo[j]

    found = [ending_at(j) for j in range(len(steps))]
    inner = {id(s) for c in found for s in c.steps[:-1]}
    return sorted((c for c in found if len(c.steps) > 1 and id(c.steps[-1]) not in inner),
                  key=lambda c: c.steps[0].ts)


def story(inv: Investigation, traffic: Traffic | None = None) -> Chain | None:
    """The chain the answer's primary cause belongs to (the longest), or None: then the answer tells no story. An
    answer led by flapping tells none either: its pattern of several drops is the answer, and a chain of one of them
    would read as the story of all."""
    primary = inv.findings[0] if inv.findings else None
    if primary is None or primary.cause in (Cause.FLAPPING, Cause.UNKNOWN, Cause.NO_DROP_FOUND,
                                            Cause.LOGS_NOT_INGESTED):
        return None
    found = [c for c in chains(steps_of(inv, traffic)) if _holds(c, primary)]
    return max(found, key=lambda c: len(c.steps)) if found else None


def _holds(chain: Chain, primary: Finding) -> bool:
    if primary.drop is not None:
        return any(s.cause is primary.cause and s.drop is primary.drop for s in chain.steps)
    return primary.cause in chain.causes
