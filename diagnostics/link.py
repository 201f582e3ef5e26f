"""Both ends of an Azure↔AWS link in one answer.

A tunnel configured with azure_* and aws_* keys is an Azure VPN gateway connected to an AWS VPN connection. Each
side's logs are investigated as usual (the Azure KQL path, the AWS CloudWatch path), then merged: one list of
drops and events in time order, both sides' queries, and findings ranked across the two sides. When both ends
logged a drop within a few minutes of each other, the answer says which side saw what first, and the cause that
originates on one side (a gateway failover, a configuration change, a key or proposal mismatch) outranks what
the other side saw as its consequence (a DPD timeout, a delete from the peer): "AWS DPD timeout at 14:02:05 after
Azure's gateway failover at 14:02:01". Which causes originate where is declared by the rules (`Rule.origin`).

A side whose sources fail does not sink the answer: the other side answers and the failure is named.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from zoneinfo import ZoneInfo

from diagnostics.at_once import at_once
from diagnostics.model import Cause, Drop, Event, Finding, Investigation, InvestigationError, SourcesFailed
from diagnostics.rules import origin_causes
from diagnostics.timefmt import duration_text, local_and_utc
from diagnostics.tunnels import Tunnel

#: Drops of the two ends this close together are one incident seen from both sides.
CORRELATION_SECONDS = 180.0
SIDE_NAMES = {"azure": "Azure", "aws": "AWS"}


def azure_part(tunnel: Tunnel) -> Tunnel:
    return dataclasses.replace(tunnel, aws_vpn_connection="", aws_outside_ips=())


def aws_part(tunnel: Tunnel) -> Tunnel:
    return dataclasses.replace(tunnel, azure_gateway="", azure_remote_ip="", azure_resource_group="",
                               azure_subscription="")


def investigate_both(tunnel: Tunnel, run: Callable[[str, Tunnel], Investigation], tz: ZoneInfo) -> Investigation:
    """Both ends of the link for one window (`run(provider, tunnel)` investigates one end), merged. A side that
    cannot be read is named, and the other side answers; what a failed side tried is kept, so it can be re-run.
    The two ends are read at the same time: Log Analytics and CloudWatch are separate round trips."""
    (azure, azure_error), (amazon, aws_error) = at_once(lambda: _attempt(lambda: run("azure", azure_part(tunnel))),
                                                        lambda: _attempt(lambda: run("aws", aws_part(tunnel))))
    if azure is None and amazon is None:
        raise InvestigationError(f"Azure side: {azure_error}; AWS side: {aws_error}")
    result = merge(tunnel, azure, str(azure_error), amazon, str(aws_error), tz)
    for error in (azure_error, aws_error):
        if isinstance(error, SourcesFailed):
            result.queries += error.queries
    return result


def _attempt(run: Callable[[], Investigation]) -> tuple[Investigation | None, InvestigationError | None]:
    try:
        return run(), None
    except InvestigationError as exc:
        return None, exc


def side_of(finding: Finding) -> str:
    events = [finding.drop.down] if finding.drop else finding.evidence
    return events[0].provider if events else ""


def labelled(finding: Finding, side: str) -> Finding:
    return dataclasses.replace(finding, title=f"{SIDE_NAMES.get(side, side)}: {finding.title}")


def merge(tunnel: Tunnel, azure: Investigation | None, azure_error: str, amazon: Investigation | None,
          aws_error: str, tz: ZoneInfo) -> Investigation:
    base = azure or amazon
    assert base is not None
    notes: list[str] = []
    failures: list[str] = []
    caveats = [*(azure.caveats if azure else []), *(amazon.caveats if amazon else [])]
    for name, side, error in (("Azure", azure, azure_error), ("AWS", amazon, aws_error)):
        if side is None:
            failures.append(f"{name} side: {error}")
            notes.append(f"The {name} side of {tunnel.name} could not be read, answering from the other side only: "
                         f"{error}")
        else:
            failures += side.failures
            notes += side.notes
    findings = rank(tunnel, azure, amazon, tz, notes)
    drops = sorted([*(azure.drops if azure else []), *(amazon.drops if amazon else [])], key=lambda d: d.down_ts)
    events = sorted([*(azure.events if azure else []), *(amazon.events if amazon else [])], key=lambda e: e.ts)
    return Investigation(
        tunnel=tunnel, start=base.start, end=base.end, now=base.now, anchor=base.anchor, drops=drops,
        findings=findings, queries=[*(azure.queries if azure else []), *(amazon.queries if amazon else [])],
        notes=notes, failures=failures, events=events, caveats=caveats,
    )


def _primary_drop(inv: Investigation | None) -> Drop | None:
    if inv is None or not inv.drops:
        return None
    if inv.findings and inv.findings[0].drop is not None:
        return inv.findings[0].drop
    anchor = inv.anchor.timestamp() if inv.anchor else None
    return min(inv.drops, key=lambda d: abs(d.down_ts - anchor)) if anchor is not None else inv.drops[-1]


def _cause_of(inv: Investigation) -> Finding:
    """The side's own primary cause (flapping describes the pattern, the drop's cause is the next finding)."""
    for finding in inv.findings:
        if finding.drop is not None:
            return finding
    return inv.findings[0]


def rank(tunnel: Tunnel, azure: Investigation | None, amazon: Investigation | None, tz: ZoneInfo,
         notes: list[str]) -> list[Finding]:
    """Findings of both sides, the link's primary cause first."""
    sides = [(s, inv) for s, inv in (("azure", azure), ("aws", amazon)) if inv is not None]
    with_drops = [(s, inv) for s, inv in sides if _primary_drop(inv) is not None]
    if not with_drops:
        return [labelled(f, s) for s, inv in sides for f in inv.findings]
    if len(with_drops) == 1:
        side, inv = with_drops[0]
        others = [(s, i) for s, i in sides if s != side]
        for other_side, _ in others:
            notes.append(f"The {SIDE_NAMES[other_side]} side logged no drop of {tunnel.name} in the window.")
        return [labelled(f, side) for f in inv.findings] + [labelled(f, s) for s, i in others for f in i.findings]
    assert azure is not None and amazon is not None
    da, dw = _primary_drop(azure), _primary_drop(amazon)
    assert da is not None and dw is not None
    fa, fw = _cause_of(azure), _cause_of(amazon)
    if abs(da.down_ts - dw.down_ts) > CORRELATION_SECONDS:
        anchor = azure.anchor.timestamp() if azure.anchor else None
        first_side = "azure" if (abs(da.down_ts - anchor) <= abs(dw.down_ts - anchor) if anchor is not None
                                 else da.down_ts >= dw.down_ts) else "aws"
        other = "aws" if first_side == "azure" else "azure"
        notes.append(f"The two ends' drops ({local_and_utc(da.down_ts, tz)} on Azure, "
                     f"{local_and_utc(dw.down_ts, tz)} on AWS) are more than {int(CORRELATION_SECONDS)} s apart: "
                     "separate events.")
        by_side = {"azure": azure, "aws": amazon}
        return [labelled(f, s) for s in (first_side, other) for f in by_side[s].findings]
    # One incident seen from both ends.
    earlier, later = ("azure", "aws") if da.down_ts <= dw.down_ts else ("aws", "azure")
    cause = {"azure": fa, "aws": fw}
    drop = {"azure": da, "aws": dw}
    lead = earlier
    # Causes that start on the side that logs them; the other end's DPD timeout or delete is their consequence.
    # Read from every rule (all of them imported), so only when both ends of a link dropped together.
    origins = origin_causes()
    if cause[later].cause in origins and cause[earlier].cause not in origins:
        lead = later
    follow = "aws" if lead == "azure" else "azure"
    sequence = order_sentence(tunnel, drop, cause, earlier, later, lead, tz)
    primary = labelled(cause[lead], lead)
    primary.explanation = f"{primary.explanation} {sequence}"
    primary.evidence = sorted({id(e): e for e in [*cause[lead].evidence, *cause[follow].evidence[:3]]}.values(),
                              key=lambda e: e.ts)
    rest = [labelled(f, s) for s, inv in (("azure", azure), ("aws", amazon)) for f in inv.findings
            if f is not cause[lead]]
    flaps = [f for f in rest if f.cause is Cause.FLAPPING]
    return [*flaps, primary, *[f for f in rest if f.cause is not Cause.FLAPPING]]


def _moment(finding: Finding, drop: Drop) -> tuple[float, str]:
    """When and how a side saw the incident: its first classified AWS message, or the disconnect row."""
    if drop.down.provider == "aws":
        from diagnostics.rules.aws_messages import classify  # lazy load: AWS's message table, for an AWS side only

        messages = [e for e in finding.evidence if classify(e) is not None and e.ts <= drop.down_ts + 2]
        event: Event = messages[0] if messages else drop.down
        return event.ts, repr(event.message.split(" [phase", 1)[0]) + f" on tunnel {event.instance}"
    return drop.down.ts, f"{drop.down.operation or 'a disconnect'} on {drop.down.gateway} ({drop.down.instance})"


def order_sentence(tunnel: Tunnel, drop: dict[str, Drop], cause: dict[str, Finding], earlier: str, later: str,
                   lead: str, tz: ZoneInfo) -> str:
    t1, what1 = _moment(cause[earlier], drop[earlier])
    t2, what2 = _moment(cause[later], drop[later])
    gap = duration_text(max(0.0, t2 - t1))
    first, second = SIDE_NAMES[earlier], SIDE_NAMES[later]
    text = (f"Both ends of {tunnel.name} saw it: {first} first, {what1} at {local_and_utc(t1, tz)} "
            f"({cause[earlier].cause.value}); then {second}, {what2} at {local_and_utc(t2, tz)}, {gap} later "
            f"({cause[later].cause.value}).")
    follow = later if lead == earlier else earlier
    if cause[lead].cause is not cause[follow].cause:
        text += (f" The {SIDE_NAMES[follow]} side's {cause[follow].cause.value} is the consequence of the "
                 f"{SIDE_NAMES[lead]} side's {cause[lead].cause.value}.")
    return text



