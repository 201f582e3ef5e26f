"""The state file: one SQLite file (sqlite-utils, WAL) that every `vpnbot serve` process of a deployment shares.

WAL lets readers run while one process writes; writers wait on each other (`busy_timeout`) instead of failing.
When the file itself fails (locked by another program for longer than that, replaced under the process, a full
disk), every operation is retried with backoff for as long as the question it serves may take
(`diagnostics.deadline`; `STORE_PATIENCE_S` outside a question), then raises `StoreUnavailable` with the real
error, and `health` says the store is failing until an operation succeeds again.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from bot.logs import logger
from bot.state.schema import DEFAULT_RETENTION_DAYS, create_tables
from diagnostics import deadline

log = logger("vpnbot.state")

#: How long one statement waits for another process's write lock before SQLite gives up on it.
BUSY_TIMEOUT_S = 5.0
#: How long an operation outside a question (the scheduler, the command line) keeps retrying a failing store.
STORE_PATIENCE_S = 10.0
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.1, 5.0
#: How long a statement waits for another process's lock while the store is failing, or when a caller cannot wait.
QUICK_BUSY_MS = 200

T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """The state store failed and kept failing for as long as the caller could wait; the message says why."""


class StoreHealth:
    """Whether the state store works, as the last operation found it (for /healthz and the answers' notes)."""

    def __init__(self) -> None:
        self.error: str = ""  # "" while it works
        self.since: float = 0.0  # time.monotonic() of the first failure of the current run of failures

    @property
    def ok(self) -> bool:
        return not self.error

    def failed(self, exc: BaseException) -> None:
        if self.ok:
            self.since = time.monotonic()
        self.error = f"{type(exc).__name__}: {exc}"

    def recovered(self) -> None:
        if not self.ok:
            log.warning("the state store works again (it failed for %.0f s)", time.monotonic() - self.since)
        self.error = ""


def retried(method: Callable[..., T] | None = None, *, patient: bool = False, read: bool = False) -> Any:
    """Run a store operation, retrying SQLite errors with backoff for up to STORE_PATIENCE_S (never past the
    caller's deadline). While the store is known to be failing an operation is tried once and quickly (a question
    must not spend its deadline on every write of its audit row), unless it is `patient` (a delivery's claim, which
    decides whether the question is answered at all). A `read` that succeeds does not say the store works again:
    readers are not blocked by what blocks writers."""

    def wrap(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def call(self: Database, *args: Any, **kwargs: Any) -> T:
            left = deadline.remaining()
            patience = STORE_PATIENCE_S if left is None else min(left, STORE_PATIENCE_S)
            if not self.health.ok and not patient:
                patience = 0.0
            give_up = time.monotonic() + patience
            backoff = FIRST_BACKOFF_S
            while True:
                try:
                    result = method(self, *args, **kwargs)
                except sqlite3.Error as exc:
                    self.failing(exc, method.__name__)
                    wait = min(backoff, give_up - time.monotonic())
                    if wait <= 0:
                        raise StoreUnavailable(f"the state store ({self.path}) is failing: {self.health.error}") \
                            from exc
                    time.sleep(wait)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                    continue
                if not read:
                    self.working()
                return result

        return call

    return wrap(method) if method is not None else wrap


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


class Database:
    """Thread-safe (one connection, one lock) and process-safe (SQLite locking) access to the state file."""

    def __init__(self, path: str | Path, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self.path = str(path)
        self.retention = timedelta(days=retention_days)
        self.health = StoreHealth()
        self._lock = threading.Lock()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit (isolation_level=None): transactions are opened explicitly where several statements must
            # be atomic (claim), everything else is one statement.
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
            self.db = sqlite_utils.Database(self._conn)
            with self._lock:
                if self.path != ":memory:":
                    self.db.enable_wal()
                # WAL with synchronous=NORMAL never corrupts the file; a power cut may lose the last commits (a
                # claim: its delivery could be answered twice). Commits then cost no fsync: a burst of arrivals
                # is claimed in milliseconds.
                self._conn.execute("PRAGMA synchronous = NORMAL")
                self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                create_tables(self.db)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open the state store {self.path}: {_reason(exc)}") from None

    @contextmanager
    def immediate(self, busy_ms: int | None = None) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction under the lock: the write lock is taken at once, so two processes doing
        a read-then-write cannot both read the old state; committed on success, rolled back on any error.

        SQLite rolls a transaction back by itself on some errors (a full disk, an I/O error): the ROLLBACK is then
        skipped, so the error raised is the real one, not "cannot rollback - no transaction is active".
        `busy_ms` waits that long (instead of the connection's busy timeout) for another process's lock."""
        with self._lock:
            if busy_ms is not None:
                self._conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):  # the error to report is the one that got here
                            self._conn.execute("ROLLBACK")
                    raise
            finally:
                if busy_ms is not None:
                    busy = QUICK_BUSY_MS if not self.health.ok else int(BUSY_TIMEOUT_S * 1000)
                    self._conn.execute(f"PRAGMA busy_timeout = {busy}")

    def failing(self, exc: BaseException, what: str) -> None:
        """An operation failed: said once per run of failures, with the real error; until an operation succeeds
        again, statements wait only briefly for another process's lock."""
        if self.health.ok:
            log.error("state store %s: %s failed: %s: %s", self.path, what, type(exc).__name__, exc)
            self._busy(QUICK_BUSY_MS)
        self.health.failed(exc)

    def working(self) -> None:
        if not self.health.ok:
            self._busy(int(BUSY_TIMEOUT_S * 1000))
        self.health.recovered()

    def _busy(self, ms: int) -> None:
        with contextlib.suppress(sqlite3.Error), self._lock:
            self._conn.execute(f"PRAGMA busy_timeout = {int(ms)}")

    def probe(self) -> bool:
        """One quick try at taking and releasing the write lock (it fails while the file is locked elsewhere,
        unreadable or replaced); updates `health`."""
        try:
            with self.immediate(QUICK_BUSY_MS) as conn:
                conn.execute("SELECT COUNT(*) FROM owners").fetchone()
        except sqlite3.Error as exc:
            self.failing(exc, "probe")
            return False
        self.working()
        return True

    def close(self) -> None:
        with self._lock:
            self._conn.close()
