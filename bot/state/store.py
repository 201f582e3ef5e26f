"""`StateStore`: the state file with every table's reads and writes, and their retention."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.state.alerts import AlertStore
from bot.state.audit import AuditStore
from bot.state.database import retried
from bot.state.schema import iso, retention_limits
from bot.state.summaries import SummaryStore
from bot.state.watch import WatchStore
from bot.state.watches import WatchesStore


class StateStore(AuditStore, SummaryStore, AlertStore, WatchStore, WatchesStore):
    """The Slack bot's and the command line's state (bot/state/schema.py says what it keeps, and why)."""

    # -- retention ----------------------------------------------------------------------------------------------

    @retried
    def purge(self, now: datetime | None = None) -> dict[str, int]:
        """Delete what is older than its retention; returns the number of rows deleted per table."""
        now = now or datetime.now(UTC)
        limits = retention_limits(now, self.retention)
        deleted = {}
        with self._lock:
            for table, (column, oldest) in limits.items():
                cursor = self._conn.execute(f"DELETE FROM {table} WHERE {column} < ?", (iso(oldest),))
                deleted[table] = cursor.rowcount
        return deleted
