"""The state store's audit side: the Slack deliveries already taken, the askers' zones, one row per question or
click, one row per evidence bundle."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.state.database import Database
from bot.state.schema import ZONE_MAX_AGE, iso, question_row


class AuditStore(Database):
    """Deliveries, zones, questions and bundles."""

    # -- Slack deliveries ---------------------------------------------------------------------------------------

    def claim(self, keys: Iterable[str], now: datetime | None = None) -> bool:
        """True when none of `keys` was claimed before (and claims them all); False for a repeat delivery.

        One IMMEDIATE transaction, so two processes racing on the same delivery cannot both win.
        """
        keys = [k for k in keys if k]
        if not keys:
            return True
        seen_at = iso(now or datetime.now(UTC))
        with self.immediate() as conn:
            marks = ",".join("?" * len(keys))
            seen = conn.execute(f"SELECT 1 FROM slack_events WHERE key IN ({marks}) LIMIT 1", keys).fetchone()
            if seen is None:
                conn.executemany("INSERT INTO slack_events (key, seen_at) VALUES (?, ?)",
                                 [(k, seen_at) for k in keys])
        return seen is None

    # -- time zones ---------------------------------------------------------------------------------------------

    def zone(self, user: str, now: datetime | None = None) -> str | None:
        """The cached zone of `user`, or None when unknown or older than a day."""
        oldest = iso((now or datetime.now(UTC)) - ZONE_MAX_AGE)
        with self._lock:
            row = self._conn.execute("SELECT tz FROM user_zones WHERE user = ? AND fetched_at >= ?",
                                     (user, oldest)).fetchone()
        return row[0] if row else None

    def remember_zone(self, user: str, tz: str, now: datetime | None = None) -> None:
        with self._lock:
            self.db.table("user_zones").upsert(
                {"user": user, "tz": tz, "fetched_at": iso(now or datetime.now(UTC))}, pk="user")

    # -- questions (the audit trail) -------------------------------------------------------------------------------

    def start_question(self, **fields: Any) -> int:
        row = {"outcome": "running", "asked_at": iso(datetime.now(UTC)), **question_row(fields)}
        with self._lock:
            table = self.db.table("questions").insert(row)
            return int(table.last_pk)

    def finish_question(self, question_id: int, **fields: Any) -> None:
        with self._lock:
            self.db.table("questions").update(question_id, question_row(fields))

    def question(self, question_id: int) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db.table("questions").rows_where("id = ?", [question_id]))
        return rows[0] if rows else None

    def questions(self, where: str | None = None, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db.table("questions").rows_where(where, list(args), order_by="id"))

    # -- evidence bundles ---------------------------------------------------------------------------------------

    def record_bundle(self, question_id: int, sha256: str, size: int, file_name: str, created_by: str,
                      redact_ips: bool = False, hash_users: bool = False, now: datetime | None = None) -> int:
        """Record one bundle made from investigation `question_id`; returns the bundle's id."""
        row = {"question_id": question_id, "sha256": sha256, "size": size, "file_name": file_name,
               "created_by": created_by, "created_at": iso(now or datetime.now(UTC)),
               "redact_ips": int(redact_ips), "hash_users": int(hash_users)}
        with self._lock:
            table = self.db.table("bundles").insert(row)
            return int(table.last_pk)

    def bundles(self, question_id: int | None = None) -> list[dict[str, Any]]:
        where, args = ("question_id = ?", [question_id]) if question_id is not None else (None, [])
        with self._lock:
            return list(self.db.table("bundles").rows_where(where, args, order_by="id"))
