"""One poll: the state changes ingested since each source's watermark, the new drops among them explained by the
usual investigation, grouped into incidents, and each incident claimed in the state store before anyone tells it.

    result = poll(registry, sources, state, now, owner="cli-1234")
    for incident in result.incidents:
        post(incident)                       # print, or post in Slack
        state.incident_posted(incident, now)

Exactly once: a drop is claimed (state store, one transaction) by the first poller that finds it settled; a second
poller, a restart or a re-run finds the claim and tells nothing. A claim not recorded as posted within its lease
(the claimant died between claim and post) is handed to the next poll, which tells it (`expired_incidents`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from diagnostics.investigate import investigate
from diagnostics.model import Cause, Drop, Finding, Investigation, InvestigationError, QueryRecord, SourceError, iso_z
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel
from diagnostics.watch import aws, azure
from diagnostics.watch.incidents import absorb, flap_series, incident_of, joins, settled, together
from diagnostics.watch.model import (
    CATCH_UP,
    FAILING_POLLS,
    FIRST_LOOK_BACK,
    FLAP_WINDOW,
    LEASE,
    SETTLE,
    PollResult,
    StateChange,
    WatchState,
    drop_key,
    key_of,
)

if TYPE_CHECKING:  # types only: the watch reads through the sources it is given
    from diagnostics.aws.sources import AwsLogSource
    from diagnostics.azure.sources import KqlBackend

#: What one source's read gives: its state changes, the query run, and the source's next watermark.
SourceRead = tuple[list[StateChange], QueryRecord, datetime]

#: The investigation of a new drop reads this much before it (the maintenance or configuration change that caused
#: it), as an answer to "why did it drop at …" does.
BEFORE = timedelta(minutes=15)
JUST_BEFORE = timedelta(microseconds=1)
#: Incidents told this recently may still gain tunnels of their gateway whose rows arrive late.
RECENT = timedelta(hours=1)
#: The last minutes are read again by the next poll: a row stamped as ingested may take a moment more to be
#: returned by queries. Drops read twice are skipped before any investigation (their claims).
REREAD = timedelta(minutes=2)


def poll(tunnels: Sequence[Tunnel], sources: Sources, state: WatchState, now: datetime, *, owner: str,
         since: datetime | None = None, tz: ZoneInfo | None = None, settle: timedelta = SETTLE,
         lease: timedelta = LEASE) -> PollResult:
    """The incidents to tell now (claimed by `owner`, to be recorded with `state.incident_posted` once told)."""
    result = PollResult()
    result.incidents += state.expired_incidents(owner, now, lease)
    changes, marks = _read(tunnels, sources, state, now, since, result)
    result.changes = len(changes)
    by_name = {t.name: t for t in tunnels}
    fresh: dict[str, list[StateChange]] = defaultdict(list)
    keyed = {drop_key(by_name[c.tunnel], c.at.timestamp(), c.instance): c for c in changes if c.down}
    claimed = state.claimed_keys(list(keyed))
    for key, change in keyed.items():
        if key not in claimed:
            fresh[change.tunnel].append(change)
    found, deferred = [], []
    recent = state.recent_incidents(now - RECENT) if fresh else []
    for name, downs in fresh.items():
        # A flap series told already is read from its first drop on, so that its new drops join it.
        since_told = min((r.down_at for r in recent if name in r.tunnels), default=None)
        told, waiting = _incidents(by_name[name], downs, sources, now, tz, settle, result, since_told)
        found += told
        deferred += waiting

    def gateway_of(name: str) -> str:
        return _gateway(by_name[name]) if name in by_name else ""  # a told incident may name a removed tunnel

    for incident in together(found, gateway_of):
        earlier = next((r for r in recent if joins(r, incident, gateway_of)), None)
        if earlier is not None:  # its gateway's other tunnels were told a poll earlier: one incident, updated
            absorb(earlier, incident)
            incident = earlier
        if state.claim_incident(incident, owner, now, lease):
            result.incidents.append(incident)
    _recoveries(changes, state, now, owner, lease, result)
    for change in deferred:  # read again next time: the drop is told once it settled
        marks[change.source] = min(marks.get(change.source, now), change.ingested - JUST_BEFORE)
    result.waiting = len(deferred)
    for key, mark in marks.items():
        state.set_watermark(key, mark, now)
    return result


def _recoveries(changes: list[StateChange], state: WatchState, now: datetime, owner: str, lease: timedelta,
                result: PollResult) -> None:
    """The tunnels of incidents told "still down" whose reconnect arrived, each recovery claimed in the state store
    (a lease, like a drop's: whoever polls, it is told once) and returned in `result.recovered` (each incident once,
    its `newly_back` tunnels to be told); recoveries claimed by a poller that died before telling them are taken
    over once their lease ran out. An incident of several tunnels is followed tunnel by tunnel."""
    found = {i.id: i for i in state.expired_recoveries(owner, now, lease)}
    ups = [c for c in changes if not c.down]
    now_told = {i.id for i in result.incidents}
    # A long outage is followed up to the catch-up limit, not only while the incident is "recent".
    for incident in state.recent_incidents(now - CATCH_UP) if ups else ():
        if incident.up_at is not None or incident.id in now_told:
            continue
        for name in incident.tunnels:
            back = [c.at for c in ups if c.tunnel == name and c.at > incident.down_since(name)]
            if name in incident.back or not back:
                continue
            if state.claim_recovery(incident.id, name, min(back), owner, now, lease):
                host = found.setdefault(incident.id, incident)
                host.came_back(name, min(back))
    result.recovered += found.values()


def _read(tunnels: Sequence[Tunnel], sources: Sources, state: WatchState, now: datetime, since: datetime | None,
          result: PollResult) -> tuple[list[StateChange], dict[str, datetime]]:
    """Every source's state changes since its watermark, and each answering source's next watermark."""
    changes: list[StateChange] = []
    marks: dict[str, datetime] = {}
    on_azure = [t for t in tunnels if t.azure_gateway]
    on_aws = [t for t in tunnels if not t.azure_gateway and t.aws_vpn_connection]

    def read_one(key: str, label: str, read: Callable[[datetime], SourceRead]) -> None:
        """One source read from its watermark; a failing one keeps its watermark and is told apart."""
        start = _start(state, key, label, since, now, result)
        try:
            found, record, mark = read(start)
        except SourceError as exc:
            _failed(result, label, exc)
            result.read[label] = str(exc)
            if state.source_failed(key, now, FAILING_POLLS):  # counted by every poller: told once, by this one
                result.failing[label] = str(exc)
                result.notes.append(f"{label} could not be read for {FAILING_POLLS} polls in a row.")
            return
        result.read[label] = ""
        if state.source_answered(key):
            result.answering.append(label)
            result.notes.append(f"{label} answers again after failing {FAILING_POLLS} polls in a row or more.")
        changes.extend(found)
        result.queries.append(record)
        marks[key] = max(mark, start)

    def azure_changes(backend: KqlBackend, key: str, start: datetime) -> SourceRead:
        found, record = azure.read_changes(backend, on_azure, start, now, key)
        return found, record, now - REREAD  # everything ingested up to now was read (the last minutes again)

    def aws_changes(source: AwsLogSource, key: str, start: datetime) -> SourceRead:
        found, record, last = aws.read_changes(source, on_aws, start, now, key)
        return found, record, last if last is not None else start

    for backend in sources.kql if on_azure else ():
        key = f"azure:{backend.origin}"
        read_one(key, backend.label, partial(azure_changes, backend, key))
    for source in sources.aws if on_aws else ():
        key = f"aws:{source.origin}"
        read_one(key, source.label, partial(aws_changes, source, key))
    return changes, marks


def _start(state: WatchState, key: str, label: str, since: datetime | None, now: datetime,
           result: PollResult) -> datetime:
    """The source's watermark (first poll: `since`, else now − 15 min), moved up to now − 24 h at the most."""
    mark = state.watermark(key) or since or now - FIRST_LOOK_BACK
    oldest = now - CATCH_UP
    if mark < oldest:
        result.notes.append(f"{label}: skipped the state changes ingested between {iso_z(mark)} and "
                            f"{iso_z(oldest)} (catching up at most {CATCH_UP.total_seconds() / 3600:.0f} h); "
                            "`vpnbot summary` covers those days.")
        mark = oldest
    return mark


def _failed(result: PollResult, label: str, exc: Exception) -> None:
    result.failures.append(str(exc))
    result.notes.append(f"{label} failed: {exc}; its watermark stays, the next poll reads again.")


def _incidents(tunnel: Tunnel, downs: list[StateChange], sources: Sources, now: datetime, tz: ZoneInfo | None,
               settle: timedelta, result: PollResult,
               since_told: datetime | None = None) -> tuple[list, list[StateChange]]:
    """The tunnel's settled incidents holding a new drop, and the new drops not settled yet (or not readable);
    `since_told`: the first drop of the tunnel's incidents told lately (a flap series going on)."""
    first = min(c.at for c in downs)
    start = min(first - FLAP_WINDOW, since_told) if since_told else first - FLAP_WINDOW
    try:
        inv = investigate(tunnel, start, now, sources, now, anchor=first, tz=tz, widen=False)
    except InvestigationError as exc:
        _failed(result, f"The investigation of {tunnel.name}", exc)
        return [], downs
    keys = {drop_key(tunnel, c.at.timestamp(), c.instance): c for c in downs}
    told, waiting, seen = [], [], set()
    for series in flap_series(inv.drops):
        mine = [keys[k] for d in series if (k := key_of(tunnel, d)) in keys]
        seen.update(id(c) for c in mine)
        if not mine:
            continue
        if not settled(series, now, settle):
            waiting += mine
            continue
        told.append(incident_of(tunnel, series, _cause(inv, series, tunnel, sources, now, tz)))
    missing = [c for c in downs if id(c) not in seen]
    if missing:
        result.notes.append(f"{tunnel.name}: {len(missing)} disconnect(s) logged at "
                            f"{', '.join(iso_z(c.at) for c in missing)} are not a drop the investigation pairs "
                            "(a repeated disconnect row); not told.")
    return told, waiting


def _cause(inv: Investigation, series: list[Drop], tunnel: Tunnel, sources: Sources, now: datetime,
           tz: ZoneInfo | None) -> Finding | None:
    """What an answer about the series' first drop puts first (not "flapping": the incident says that itself)."""
    if inv.anchor is None or int(series[0].down_ts) != int(inv.anchor.timestamp()):
        at = datetime.fromtimestamp(series[0].down_ts, now.tzinfo)
        try:
            inv = investigate(tunnel, at - BEFORE, now, sources, now, anchor=at, tz=tz, widen=False)
        except InvestigationError:
            return None
    return next((f for f in inv.findings if f.cause is not Cause.FLAPPING), None)


def _gateway(tunnel: Tunnel) -> str:
    return tunnel.azure_gateway.upper() or tunnel.aws_vpn_connection.lower()
