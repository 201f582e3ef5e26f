"""The SQLite engine of the state store: one file (WAL) that every `vpnbot serve` process of one host shares.

WAL lets readers run while one process writes; writers wait on each other (`busy_timeout`) instead of failing.
One connection per process, used under a lock (thread-safe); transactions are BEGIN IMMEDIATE (process-safe).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from bot.state.errors import StoreUnavailable


def _reason(exc: BaseException) -> str:
    """What to do about a state file that cannot be opened, after what SQLite said."""
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return f"{text}: it is not a vpnbot state file (move it aside, or point state_db at another path)"
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
        return f"{text}: the file or its directory is not writable by this user"
    if "locked" in text:
        return f"{text}: another program holds it; try again, or point state_db at another path"
    if "unable to open" in text:
        return f"{text}: state_db must be a file in a directory that exists and this user may write to"
    return text


class SqliteEngine:
    dialect = "sqlite"
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, path: str, busy_s: Callable[[], float]) -> None:
        self.path = self.where = path
        self._busy_s = busy_s
        self._lock = threading.Lock()
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit (isolation_level=None): transactions are opened explicitly where several statements must
            # be atomic (claim), everything else is one statement.
            self.raw = sqlite3.connect(path, timeout=busy_s(), isolation_level=None, check_same_thread=False)
            self.db = sqlite_utils.Database(self.raw)
            with self._lock:
                if path != ":memory:":
                    self._enable_wal(time.monotonic() + busy_s())
                # WAL with synchronous=NORMAL never corrupts the file; a power cut may lose the last commits (a
                # claim: its delivery could be answered twice). Commits then cost no fsync: a burst of arrivals
                # is claimed in milliseconds.
                self.raw.execute("PRAGMA synchronous = NORMAL")
                self._set_busy(int(busy_s() * 1000))
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open the state store {path}: {_reason(exc)}") from None

    def _enable_wal(self, give_up: float) -> None:
        """Switch a new file to WAL. Processes opening the same new file together may get "database is locked" at
        once (the switch takes its lock without SQLite's busy handler), so it is tried again until `give_up`."""
        backoff = 0.01
        while True:
            try:
                self.db.enable_wal()
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() + backoff > give_up:
                    raise
            time.sleep(backoff)
            backoff = min(backoff * 2, 0.5)

    @contextmanager
    def connection(self, quick: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self.raw

    @contextmanager
    def transaction(self, busy_ms: int, lock: str = "state") -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE under the lock: the write lock is taken at once. SQLite rolls a transaction back by
        itself on some errors (a full disk, an I/O error): the ROLLBACK is then skipped, so the error raised is the
        real one, not "cannot rollback - no transaction is active". `lock` is for PostgreSQL: SQLite has one."""
        with self._lock:
            restore = self._busy_ms
            if busy_ms != restore:
                self._set_busy(busy_ms)
            try:
                self.raw.execute("BEGIN IMMEDIATE")
                try:
                    yield self.raw
                    self.raw.execute("COMMIT")
                except BaseException:
                    if self.raw.in_transaction:
                        with contextlib.suppress(sqlite3.Error):  # the error to report is the one that got here
                            self.raw.execute("ROLLBACK")
                    raise
            finally:
                if self._busy_ms != restore:
                    self._set_busy(restore)

    def migrating(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self.transaction(int(self._busy_s() * 1000))

    def _set_busy(self, ms: int) -> None:
        self.raw.execute(f"PRAGMA busy_timeout = {int(ms)}")
        self._busy_ms = int(ms)

    def busy(self, ms: int) -> None:
        """Statements (outside `transaction`) wait `ms` for another process's lock from now on."""
        with contextlib.suppress(sqlite3.Error), self._lock:
            self._set_busy(ms)

    def close(self) -> None:
        with self._lock:
            self.raw.close()
