"""The state store's watching side, continued (engineer G, issue 16): the tunnels of an incident told "still down"
that came back, each claimed once, and the log sources that keep failing, counted by every poller.

* `watch_recoveries`: one row per (incident, tunnel) back, claimed in one statement before it is told (whoever
  inserts it tells it), a lease like a drop's claim (bot/state/watch.py): a poller that died before telling it leaves
  it to the next poll once the lease ran out. The rows are also each tunnel's recovery state: an incident of a
  gateway's three tunnels knows which are back and which still down.
* `watch_marks.failing` / `failing_told`: the failed polls in a row of a log source, counted by every poller and
  process on the store (one counter, kept across restarts); "told" is set by one statement, so the watching channels
  hear it once when the count reaches its limit, and once again when the source answers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.state.database import Database, retried
from bot.state.schema import iso
from diagnostics.timefmt import parse_iso
from diagnostics.watch.model import Incident


class WatchRecoveryStore(Database):
    """Recoveries of incidents told "still down", and the failing log sources."""

    @retried
    def claim_recovery(self, incident: str, tunnel: str, at: datetime, owner: str, now: datetime,
                       lease: timedelta) -> bool:
        """Claim `tunnel` of `incident` back at `at` for `owner`: True for the one poller that tells it."""
        with self.connection() as conn:
            cursor = conn.execute(
                "INSERT INTO watch_recoveries (incident, tunnel, up_at, status, owner, claimed_at, lease_until) "
                "VALUES (?, ?, ?, 'claimed', ?, ?, ?) ON CONFLICT (incident, tunnel) DO NOTHING",
                (incident, tunnel, at.isoformat(), owner, iso(now), iso(now + lease)))
        return cursor.rowcount > 0

    @retried
    def expired_recoveries(self, owner: str, now: datetime, lease: timedelta) -> list[Incident]:
        """Recoveries claimed but never recorded as told whose lease ran out, taken over by `owner` (one
        transaction: two pollers never both take one): their incidents, `newly_back` naming them."""
        with self.transaction(lock="watch_claims") as conn:
            rows = conn.rows("SELECT incident, tunnel FROM watch_recoveries WHERE status = 'claimed' AND "
                             "lease_until <= ? ORDER BY incident, up_at, tunnel", (iso(now),))
            if not rows:
                return []
            conn.execute("UPDATE watch_recoveries SET owner = ?, claimed_at = ?, lease_until = ? "
                         "WHERE status = 'claimed' AND lease_until <= ?",
                         (owner, iso(now), iso(now + lease), iso(now)))
            ids = sorted({r["incident"] for r in rows})
            incidents = load_incidents(conn, "incident IN (" + ",".join("?" * len(ids)) + ")", ids)
        for incident in incidents:
            incident.newly_back = [r["tunnel"] for r in rows if r["incident"] == incident.id]
        return [i for i in incidents if i.newly_back]

    @retried
    def recovery_posted(self, incident: Incident, now: datetime) -> None:
        """The incident's `newly_back` tunnels were told back."""
        if not incident.newly_back:
            return
        with self.transaction(lock="watch_claims") as conn:  # not between another poller's read and take-over
            conn.execute("UPDATE watch_recoveries SET status = 'posted', posted_at = ? WHERE incident = ? AND tunnel "
                         "IN (" + ",".join("?" * len(incident.newly_back)) + ")",
                         (iso(now), incident.id, *incident.newly_back))

    @retried(read=True)
    def watch_recoveries(self) -> list[dict[str, Any]]:
        with self.connection() as conn:
            return conn.select("watch_recoveries", order_by="incident, tunnel")

    # -- log sources failing ------------------------------------------------------------------------------------

    @retried
    def source_failed(self, source: str, now: datetime, limit: int) -> bool:
        """One more failed poll of `source` (its watermark key); True for the one caller that should now tell the
        channels (the count reached `limit` and nobody told it yet)."""
        with self.connection() as conn:
            conn.execute("INSERT INTO watch_marks (source, updated_at, failing, failing_told) VALUES (?, ?, 1, 0) "
                         "ON CONFLICT (source) DO UPDATE SET failing = COALESCE(watch_marks.failing, 0) + 1, "
                         "updated_at = excluded.updated_at", (source, iso(now)))
            cursor = conn.execute("UPDATE watch_marks SET failing_told = 1 WHERE source = ? AND failing >= ? AND "
                                  "COALESCE(failing_told, 0) = 0", (source, limit))
        return cursor.rowcount > 0

    @retried
    def source_answered(self, source: str) -> bool:
        """`source` was read: its count starts again; True for the one caller that should tell the channels it
        answers again (they were told it failed)."""
        with self.connection() as conn:
            cursor = conn.execute("UPDATE watch_marks SET failing = 0, failing_told = 0 WHERE source = ? AND "
                                  "failing_told = 1", (source,))
            if cursor.rowcount == 0:
                conn.execute("UPDATE watch_marks SET failing = 0 WHERE source = ? AND failing > 0", (source,))
        return cursor.rowcount > 0


def load_incidents(conn: Any, where: str, args: Sequence[Any]) -> list[Incident]:
    """The incidents of the watch_claims rows matching `where`, as last told, with every drop of each and each
    tunnel back since (watch_recoveries)."""
    rows = conn.execute(f"SELECT incident, key, payload FROM watch_claims WHERE {where} "
                        "ORDER BY incident, claimed_at, key", args).fetchall()
    by_incident: dict[str, tuple[list[str], str]] = {}
    for incident, key, payload in rows:
        by_incident.setdefault(incident, ([], payload))[0].append(key)
    incidents = [Incident.from_json(json.loads(payload), first_key_first(incident, keys))
                 for incident, (keys, payload) in by_incident.items()]
    if incidents:
        ids = list(by_incident)
        back: dict[str, dict[str, datetime]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            for incident, tunnel, up_at in conn.execute(
                    "SELECT incident, tunnel, up_at FROM watch_recoveries WHERE incident IN ("
                    + ",".join("?" * len(part)) + ")", part).fetchall():
                back.setdefault(incident, {})[tunnel] = parse_iso(up_at)
        for incident in incidents:
            if incident.id in back:
                incident.back.update(back[incident.id])
                incident.settle_up()
    return incidents


def first_key_first(incident: str, keys: list[str]) -> list[str]:
    """The incident's keys with its own (its first drop's) first: `Incident.id` is keys[0]."""
    return [incident, *(k for k in keys if k != incident)] if incident in keys else keys
