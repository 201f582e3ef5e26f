"""The state database, whichever engine holds it: a SQLite file (bot/state/sqlite.py, the default) or a PostgreSQL
server shared by several `vpnbot serve` replicas (bot/state/postgres.py). Store code (the mixins of bot/state/) never
sees the engine: it runs the same SQL through `connection()` and `transaction()` (see /docs/state.md).

When the store fails (a SQLite file locked by another program for longer than the busy timeout, replaced under the
process, a full disk; a PostgreSQL server gone or restarting), every operation is retried with backoff for as long as
the question it serves may take (`diagnostics.deadline`; `STORE_PATIENCE_S` outside a question), then raises
`StoreUnavailable` with the real error, and `health` says the store is failing until an operation succeeds again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from bot.logs import logger
from bot.state import migrations
from bot.state.errors import StoreUnavailable
from bot.state.location import is_postgres_url, redact
from bot.state.schema import DEFAULT_RETENTION_DAYS, quote
from diagnostics import deadline

log = logger("vpnbot.state")

#: How long one statement waits for another process's lock (SQLite's write lock, PostgreSQL's advisory lock, a pool
#: connection) before it gives up.
BUSY_TIMEOUT_S = 5.0
#: How long an operation outside a question (the scheduler, the command line) keeps retrying a failing store.
STORE_PATIENCE_S = 10.0
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.1, 5.0
#: How long a statement waits for another process's lock while the store is failing, or when a caller cannot wait.
QUICK_BUSY_MS = 200

T = TypeVar("T")
__all__ = ["Conn", "Database", "StoreHealth", "StoreUnavailable", "quote", "retried"]


class Engine(Protocol):
    """What bot/state/sqlite.py and bot/state/postgres.py provide: raw DB-API connections of one engine."""

    dialect: str  # "sqlite" | "postgresql"
    errors: tuple[type[BaseException], ...]  # what a failing store raises (retried, then StoreUnavailable)
    where: str  # the location for people: a path, or the URL without its password

    def connection(self, quick: bool) -> Any: ...  # context manager: a connection in autocommit

    def transaction(self, busy_ms: int, lock: str) -> Any: ...  # context manager: a serialised transaction

    def migrating(self) -> Any: ...  # context manager: a transaction holding the migration lock

    def busy(self, ms: int) -> None: ...

    def close(self) -> None: ...


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled). Store SQL never has `?` inside a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


class Conn:
    """One connection, as store code sees it: the same SQL (`?` placeholders) on either engine."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect

    def _args(self, sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any]]:
        if self.dialect == "sqlite":
            return sql, params
        # PostgreSQL does not cast a boolean to an INTEGER column: the store keeps flags as 0/1.
        return _pg_sql(sql), [int(p) if isinstance(p, bool) else p for p in params]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The cursor: `.fetchone()` / `.fetchall()` give tuples, `.rowcount` the rows changed."""
        return self.raw.execute(*self._args(sql, params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.dialect == "sqlite":
            self.raw.executemany(sql, rows)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(_pg_sql(sql), [self._args(sql, r)[1] for r in rows])

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.execute(sql, params)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def select(self, table: str, where: str | None = None, args: Sequence[Any] = (), order_by: str | None = None,
               limit: int | None = None) -> list[dict[str, Any]]:
        """Every column of `table`'s rows (sqlite-utils' `rows_where`)."""
        sql = f"SELECT * FROM {quote(table)}" + (f" WHERE {where}" if where else "")
        sql += (f" ORDER BY {order_by}" if order_by else "") + (f" LIMIT {int(limit)}" if limit is not None else "")
        return self.rows(sql, args)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert `row` into a table with an `id`; returns the new id."""
        names = ", ".join(quote(k) for k in row)
        marks = ", ".join("?" * len(row))
        return int(self.execute(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks}) RETURNING id",
                                list(row.values())).fetchone()[0])

    def upsert(self, table: str, row: dict[str, Any], pk: Sequence[str]) -> None:
        """Insert `row`, or set its other columns when a row with its primary key `pk` exists."""
        names = ", ".join(quote(k) for k in row)
        marks = ", ".join("?" * len(row))
        others = [k for k in row if k not in pk]
        action = ("DO UPDATE SET " + ", ".join(f"{quote(k)} = excluded.{quote(k)}" for k in others)) if others \
            else "DO NOTHING"
        self.execute(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks}) "
                     f"ON CONFLICT ({', '.join(quote(k) for k in pk)}) {action}", list(row.values()))


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
    """Run a store operation, retrying the engine's errors with backoff for up to STORE_PATIENCE_S (never past the
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
                except self.errors as exc:
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


def open_engine(location: str, busy: Callable[[], float]) -> Engine:
    """The engine of `location`: a postgresql:// URL, else a SQLite file path (":memory:" too)."""
    if is_postgres_url(location):
        from bot.state.postgres import PostgresEngine  # lazy load: psycopg only for a PostgreSQL store

        return PostgresEngine(location, busy)
    from bot.state.sqlite import SqliteEngine  # lazy load: sqlite-utils only for a SQLite store

    return SqliteEngine(location, busy)


class Database:
    """Thread-safe, process-safe access to the state database (either engine); applies the schema's pending
    migration steps when opened (`migrate=False`: `vpnbot db status`, which only looks)."""

    def __init__(self, location: Any, retention_days: int = DEFAULT_RETENTION_DAYS, migrate: bool = True) -> None:
        self.location = str(location)
        self.path = redact(self.location)  # what messages and logs name
        self.retention = timedelta(days=retention_days)
        self.health = StoreHealth()
        self.engine = open_engine(self.location, lambda: BUSY_TIMEOUT_S)
        self.dialect = self.engine.dialect
        self.errors: tuple[type[BaseException], ...] = self.engine.errors
        if migrate:
            try:
                migrations.upgrade(self)
            except self.errors as exc:
                self.engine.close()
                raise StoreUnavailable(f"cannot prepare the state store {self.path}: "
                                       f"{redact(str(exc), self.location)}") from None

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        """One connection for statements that stand alone (each commits by itself)."""
        with self.engine.connection(not self.health.ok) as raw:
            yield Conn(raw, self.dialect)

    @contextmanager
    def transaction(self, busy_ms: int | None = None, lock: str = "state") -> Iterator[Conn]:
        """One transaction serialised with every other `transaction(lock=…)` of every process (SQLite: BEGIN
        IMMEDIATE takes the file's write lock at once; PostgreSQL: pg_advisory_xact_lock of `lock`), so two processes
        doing a read-then-write cannot both read the old state; committed on success, rolled back on any error.
        `busy_ms` waits that long (instead of the busy timeout) for another process's lock."""
        if busy_ms is None:
            busy_ms = QUICK_BUSY_MS if not self.health.ok else int(BUSY_TIMEOUT_S * 1000)
        with self.engine.transaction(int(busy_ms), lock) as raw:
            yield Conn(raw, self.dialect)

    @contextmanager
    def migrating(self) -> Iterator[Conn]:
        """The transaction migration steps run in, holding the migration lock (bot/state/migrations.py)."""
        with self.engine.migrating() as raw:
            yield Conn(raw, self.dialect)

    def failing(self, exc: BaseException, what: str) -> None:
        """An operation failed: said once per run of failures, with the real error; until an operation succeeds
        again, statements wait only briefly for another process's lock."""
        if self.health.ok:
            log.error("state store %s: %s failed: %s: %s", self.path, what, type(exc).__name__,
                      redact(str(exc), self.location))
            self.engine.busy(QUICK_BUSY_MS)
        self.health.failed(exc)
        self.health.error = redact(self.health.error, self.location)

    def working(self) -> None:
        if not self.health.ok:
            self.engine.busy(int(BUSY_TIMEOUT_S * 1000))
        self.health.recovered()

    def probe(self) -> bool:
        """One quick try at taking and releasing the write lock (it fails while the store is locked elsewhere,
        unreadable, replaced or unreachable); updates `health`."""
        try:
            with self.transaction(QUICK_BUSY_MS) as conn:
                conn.execute("SELECT COUNT(*) FROM owners").fetchone()
        except self.errors as exc:
            self.failing(exc, "probe")
            return False
        self.working()
        return True

    def close(self) -> None:
        self.engine.close()
