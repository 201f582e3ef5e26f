"""The state store's watching side: a watermark per log source, and the claims that make each drop told once.

A drop (`diagnostics.watch.model.drop_key`: gateway, remote IP, down time, instance) is claimed in one serialised
transaction with the incident it belongs to; whoever inserts the first of an incident's drops tells it. A claim is
a lease, as the daily summaries' runs are (bot/state/summaries.py): the claimant records `posted` once it told the
incident; a claim still `claimed` when its lease ran out (the claimant died between claim and post) is taken over
by the next poll and told then. The remaining window is the summaries' one: told, but the process died before the
UPDATE that records it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.state.database import Database, retried
from bot.state.schema import iso
from bot.state.watch_recoveries import first_key_first as _first
from bot.state.watch_recoveries import load_incidents
from diagnostics.watch.model import Incident


class WatchStore(Database):
    """Watermarks and drop claims."""

    @retried(read=True)
    def watermark(self, source: str) -> datetime | None:
        with self.connection() as conn:
            row = conn.execute("SELECT at FROM watch_marks WHERE source = ?", (source,)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None  # a failing source's row has none yet

    @retried
    def set_watermark(self, source: str, at: datetime, now: datetime) -> None:
        """Keep `at` as the source's watermark (microseconds: a row ingested within the second is not re-read)."""
        with self.connection() as conn:
            conn.execute(
                "INSERT INTO watch_marks (source, at, updated_at) VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE "
                "SET at = excluded.at, updated_at = excluded.updated_at", (source, at.isoformat(), iso(now)))

    @retried(read=True)
    def claimed_keys(self, keys: list[str]) -> set[str]:
        """Which of these drops someone claimed already (told, or being told)."""
        found: set[str] = set()
        with self.connection() as conn:
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                found |= {r[0] for r in conn.execute(
                    "SELECT key FROM watch_claims WHERE key IN (" + ",".join("?" * len(part)) + ")", part)}
        return found

    @retried
    def claim_incident(self, incident: Incident, owner: str, now: datetime, lease: timedelta) -> bool:
        """Claim the incident's drops for `owner` in one transaction: True when at least one was not claimed yet
        (then `owner` tells the incident, and holds it until now + lease)."""
        payload = json.dumps(incident.to_payload())
        won = False
        with self.transaction(lock="watch_claims") as conn:
            for key in incident.keys:
                cursor = conn.execute(
                    "INSERT INTO watch_claims (key, incident, status, owner, claimed_at, lease_until, "
                    "payload) VALUES (?, ?, 'claimed', ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                    (key, incident.id, owner, iso(now), iso(now + lease), payload))
                won = won or cursor.rowcount > 0
            if won:  # the incident grew (a flap series, a tunnel of the gateway told late): all its rows say so
                conn.execute("UPDATE watch_claims SET payload = ? WHERE incident = ?", (payload, incident.id))
        return won

    @retried
    def expired_incidents(self, owner: str, now: datetime, lease: timedelta) -> list[Incident]:
        """Incidents claimed but never recorded as told whose lease ran out, taken over by `owner` (one
        transaction: two pollers never both take one)."""
        taken: list[Incident] = []
        with self.transaction(lock="watch_claims") as conn:
            rows = conn.execute("SELECT incident, key, payload FROM watch_claims WHERE status = 'claimed' "
                                "AND lease_until <= ? ORDER BY incident, key", (iso(now),)).fetchall()
            by_incident: dict[str, tuple[list[str], str]] = {}
            for incident, key, payload in rows:
                by_incident.setdefault(incident, ([], payload))[0].append(key)
            for incident_id, (keys, payload) in by_incident.items():
                keys = _first(incident_id, keys)
                conn.execute("UPDATE watch_claims SET owner = ?, claimed_at = ?, lease_until = ? "
                             "WHERE incident = ? AND status = 'claimed'",
                             (owner, iso(now), iso(now + lease), incident_id))
                taken.append(Incident.from_json(json.loads(payload), keys))
        return taken

    @retried(read=True)
    def recent_incidents(self, since: datetime) -> list[Incident]:
        """The incidents claimed since `since` (told or being told), as last told, with every drop of each and
        each tunnel back since (bot/state/watch_recoveries.py)."""
        with self.connection() as conn:
            return load_incidents(conn, "incident IN (SELECT DISTINCT incident FROM watch_claims WHERE "
                                        "claimed_at >= ?)", (iso(since),))

    @retried
    def incident_posted(self, incident: Incident, now: datetime, message_ts: str = "") -> None:
        """The incident was told (`message_ts`: its Slack message, for the edits when it comes back)."""
        with self.transaction(lock="watch_claims") as conn:  # never between a claim's read and its write
            conn.execute(
                "UPDATE watch_claims SET status = 'posted', posted_at = ?, message_ts = ? WHERE key IN ("
                + ",".join("?" * len(incident.keys)) + ")", (iso(now), message_ts, *incident.keys))

    @retried(read=True)
    def watch_claims(self) -> list[dict]:
        with self.connection() as conn:
            return conn.select("watch_claims", order_by="incident, key")

