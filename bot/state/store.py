"""`StateStore`: the state store (a SQLite file or a PostgreSQL database) with every table's reads and writes, and
their retention."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.state.alerts import AlertStore
from bot.state.audit import AuditStore
from bot.state.database import retried
from bot.state.schema import DEFAULT_RETENTION_DAYS, iso, retention_limits
from bot.state.summaries import SummaryStore
from bot.state.watch import WatchStore
from bot.state.watch_recoveries import WatchRecoveryStore
from bot.state.watches import WatchesStore


class StateStore(AuditStore, SummaryStore, AlertStore, WatchStore, WatchRecoveryStore, WatchesStore):
    """The Slack bot's and the command line's state (bot/state/schema.py says what it keeps, and why)."""

    # -- retention ----------------------------------------------------------------------------------------------

    @retried
    def purge(self, now: datetime | None = None) -> dict[str, int]:
        """Delete what is older than its retention; returns the number of rows deleted per table."""
        now = now or datetime.now(UTC)
        limits = retention_limits(now, self.retention)
        deleted = {}
        for table, (column, oldest) in limits.items():
            # One table at a time, one replica at a time (the next finds little to delete), without holding the
            # store for the whole purge.
            with self.transaction(lock="purge") as conn:
                cursor = conn.execute(f'DELETE FROM {table} WHERE "{column}" < ?', (iso(oldest),))
                deleted[table] = cursor.rowcount
        return deleted


def open_store(location: str | Path, retention_days: int = DEFAULT_RETENTION_DAYS, migrate: bool = True) -> StateStore:
    """The state store at `location`: a postgresql:// URL (psycopg, a connection pool), else a SQLite file path;
    pending migration steps applied unless `migrate` is False. Raises StoreUnavailable (one line, no password)."""
    return StateStore(location, retention_days, migrate=migrate)
