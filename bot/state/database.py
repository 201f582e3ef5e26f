"""The state file: one SQLite file (sqlite-utils, WAL) that every `vpnbot serve` process of a deployment shares.

WAL lets readers run while one process writes; writers wait on each other (`busy_timeout`) instead of failing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import sqlite_utils

from bot.state.schema import DEFAULT_RETENTION_DAYS, create_tables

BUSY_TIMEOUT_S = 10.0


class Database:
    """Thread-safe (one connection, one lock) and process-safe (SQLite locking) access to the state file."""

    def __init__(self, path: str | Path, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self.path = str(path)
        self.retention = timedelta(days=retention_days)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit (isolation_level=None): transactions are opened explicitly where several statements must be
        # atomic (claim), everything else is one statement.
        self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                     check_same_thread=False)
        self._lock = threading.Lock()
        self.db = sqlite_utils.Database(self._conn)
        with self._lock:
            if self.path != ":memory:":
                self.db.enable_wal()
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            create_tables(self.db)

    @contextmanager
    def immediate(self) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction under the lock: the write lock is taken at once, so two processes doing
        a read-then-write cannot both read the old state; committed on success, rolled back on any error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
