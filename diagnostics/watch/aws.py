"""The AWS side of watching: per log group, `filter_log_events` (paginated) from the last event seen.

AWS tunnel logs carry the phase states on every IKE event rather than a "disconnected" row
(docs/sources.md#aws-log-fields), so a drop is a transition computed over the events (`build_aws_timeline`): a
`down` following an `up` of the same tunnel. Each read starts `OVERLAP` before the last event seen, so the state
before the first new event is known (a tunnel already down when the read begins is not a new drop) and events
delivered late by up to that much are still read; drops read twice are told once (their claims).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from diagnostics.aws.parser.rows import iter_events
from diagnostics.aws.sources import AwsLogSource, GroupLogRequest
from diagnostics.aws.timeline import build_aws_timeline
from diagnostics.model import EventKind, Provenance, QueryRecord
from diagnostics.tunnels import Tunnel
from diagnostics.watch.model import StateChange

#: An established tunnel renews its phase-2 SA at least hourly (`Phase2LifetimeSeconds` is at most 3,600,
#: docs/sources.md#aws-tunnel-options), and logs each rekey: reading this far back finds its state before the new
#: events.
OVERLAP = timedelta(minutes=65)


def read_changes(source: AwsLogSource, tunnels: Sequence[Tunnel], since: datetime, until: datetime,
                 key: str) -> tuple[list[StateChange], QueryRecord, datetime | None]:
    """The watched connections' state changes in the events from `since` − OVERLAP to `until`, and the time of the
    last event read (the next watermark; None when there was none). Raises SourceError when the source fails."""
    start = since - OVERLAP
    request = GroupLogRequest(tuple((t.aws_vpn_connection.lower(), tuple(ip.lower() for ip in t.aws_outside_ips))
                                    for t in tunnels), start, until)
    read = source.read_group(request)  # type: ignore[attr-defined]  # CloudWatch Logs and the in-memory sources
    last = max((r.timestamp for r in read.records), default=None)
    events = list(iter_events(read.records, Provenance(source.backend, source.origin, read.table, read.command)))
    changes = []
    for tunnel in tunnels:
        timeline = build_aws_timeline(events, tunnel)
        for transitions in timeline.by_tunnel.values():
            for before, event in itertools.pairwise(transitions):
                if event.kind is EventKind.TUNNEL_DOWN and before.kind is EventKind.TUNNEL_UP:
                    changes.append(StateChange(tunnel.name, True, event.time, event.time, event.instance, key))
    record = QueryRecord(source.backend, read.command, read.origin, start, until, len(read.records))
    return changes, record, datetime.fromtimestamp(last / 1000, UTC) if last is not None else None
