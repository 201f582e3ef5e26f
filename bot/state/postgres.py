"""The PostgreSQL engine of the state store: one database that every `vpnbot serve` replica shares (psycopg 3 and a
psycopg_pool connection pool).

Statements run on a pool connection in autocommit. A read-then-write (a claim) runs in a transaction that first takes
`pg_advisory_xact_lock` of its table group: claims are serialised across replicas exactly as SQLite's BEGIN IMMEDIATE
serialises them across processes, and the lock goes with the transaction (a replica killed mid-claim releases it).
A lost server shows as psycopg's OperationalError (retried, then StoreUnavailable); the pool checks a connection
before lending it and reconnects in the background with backoff, so the store works again once the server is back.
The password comes from PGPASSWORD, ~/.pgpass or a libpq service file: never from the URL in the configuration.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool

from bot.state.errors import StoreUnavailable
from bot.state.location import redact

#: Connections one process keeps: the answering workers, the scheduler, the watcher, the HTTP handlers' claims.
POOL_MIN, POOL_MAX = 1, 10
CONNECT_TIMEOUT_S = 5
#: The pool's own reconnection attempts back off exponentially without a cap; it gives a lost connection up after
#: this long instead, and the next operation that needs one starts a fresh attempt at once: while the server is gone
#: the operations' retries (bot/state/database.py `retried`) are the backoff, and the first one after it is back
#: reconnects.
RECONNECT_GIVE_UP_S = 2.0
#: A replica migrating a large store holds the others' start for at most this long.
MIGRATION_LOCK_MS = 120_000


def lock_key(name: str) -> int:
    """The advisory lock of a table group (the same number in every replica)."""
    return zlib.crc32(f"vpnbot:{name}".encode())


def _one_line(exc: BaseException, location: str) -> str:
    return redact(re.sub(r"\s+", " ", str(exc)).strip(), location)


def _advice(text: str) -> str:
    low = text.lower()
    if "password" in low or "authentication" in low:
        return "check the user, and the password in PGPASSWORD, ~/.pgpass or the libpq service file"
    if "does not exist" in low:
        return "create the database and its user first (docs/state.md), or fix the URL"
    if "service" in low:
        return "check the libpq service file (PGSERVICEFILE or ~/.pg_service.conf) and the service name"
    if "invalid" in low or "missing" in low:
        return "check the URL's syntax and parameters (docs/state.md)"
    if "is the server running" in low:
        return "check state_db / VPNBOT_STATE_URL, and that the server runs and this host may reach it"
    return "is the server running and reachable from here? check state_db / VPNBOT_STATE_URL"


class PostgresEngine:
    dialect = "postgresql"
    errors: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError,
                                               psycopg_pool.PoolTimeout)

    def __init__(self, url: str, busy_s: Callable[[], float]) -> None:
        self.url = url
        self.where = redact(url)
        self._busy_s = busy_s
        self._quick_s: float | None = None
        kwargs: dict[str, Any] = {"autocommit": True, "application_name": "vpnbot"}
        if "connect_timeout" not in url:
            kwargs["connect_timeout"] = CONNECT_TIMEOUT_S
        try:
            # One connection first: its error says what is wrong (the pool's would only say it timed out).
            psycopg.connect(url, **kwargs).close()
            self.pool = psycopg_pool.ConnectionPool(
                url, kwargs=kwargs, min_size=POOL_MIN, max_size=POOL_MAX, open=False, name="vpnbot-state",
                check=psycopg_pool.ConnectionPool.check_connection, timeout=busy_s(),
                reconnect_timeout=RECONNECT_GIVE_UP_S)
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            text = _one_line(exc, url)
            raise StoreUnavailable(f"cannot open the state store {self.where}: {text} ({_advice(text)})") from None

    def _timeout(self, quick: bool) -> float:
        return self._quick_s if quick and self._quick_s is not None else self._busy_s()

    @contextmanager
    def connection(self, quick: bool = False) -> Iterator[psycopg.Connection]:
        with self.pool.connection(timeout=self._timeout(quick)) as conn:
            yield conn

    @contextmanager
    def transaction(self, busy_ms: int, lock: str = "state") -> Iterator[psycopg.Connection]:
        with self.pool.connection(timeout=max(busy_ms / 1000, 0.05)) as conn, conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = {int(busy_ms)}")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(lock),))
            yield conn

    def migrating(self) -> Any:
        return self.transaction(MIGRATION_LOCK_MS, "migrate")

    def busy(self, ms: int) -> None:
        """Wait at most `ms` for a pool connection from now on (while the server is gone, not the busy timeout)."""
        self._quick_s = ms / 1000 if ms < self._busy_s() * 1000 else None

    def close(self) -> None:
        self.pool.close()
