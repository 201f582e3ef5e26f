"""`vpnbot db status | upgrade | copy`: what a store holds and at which schema version, its pending migration steps
applied, and a whole store copied into another (SQLite to PostgreSQL when an installation grows replicas).
Each returns the lines to print; errors are StoreUnavailable or DbError, one line each, never with a password."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.state import migrations
from bot.state.database import Conn, quote
from bot.state.location import is_postgres_url, redact
from bot.state.schema import TABLES
from bot.state.store import StateStore, open_store

#: Rows read and written per statement by `copy`.
COPY_BATCH = 500


class DbError(ValueError):
    """A `vpnbot db` request that cannot be done as asked (the message says what to do instead)."""


def _existing(location: str) -> None:
    if not is_postgres_url(location) and location != ":memory:" and not Path(location).is_file():
        raise DbError(f"there is no state store at {location} (it is made when the bot first runs, or by "
                      "`vpnbot db upgrade`)")


def counts(conn: Conn) -> dict[str, int]:
    """Rows per table of the schema, for the tables the store has."""
    return {t.name: int(conn.execute(f"SELECT COUNT(*) FROM {quote(t.name)}").fetchone()[0])
            for t in TABLES if migrations.table_exists(conn, t.name)}


def status(location: str) -> list[str]:
    _existing(location)
    store = open_store(location, migrate=False)
    try:
        with store.connection() as conn:
            done = migrations.applied(conn)
            todo = migrations.pending(conn)
            rows = counts(conn)
    finally:
        store.close()
    latest = migrations.STEPS[-1].version
    if done:
        version = f"{max(done)} (latest {latest})"
    elif rows:
        version = f"none: a store from before versioned migrations (latest {latest})"
    else:
        version = f"none: an empty store (latest {latest})"
    lines = [f"backend: {store.dialect}", f"location: {store.path}", f"schema version: {version}"]
    lines.append("pending steps: " + ("; ".join(f"{s.version} ({s.name})" for s in todo) if todo else "none")
                 + (" — `vpnbot db upgrade` (or the next start) applies them" if todo else ""))
    lines.append("rows: " + (", ".join(f"{name} {n}" for name, n in rows.items()) or "no tables yet"))
    return lines


def upgrade(location: str) -> list[str]:
    store = open_store(location, migrate=False)
    try:
        done = migrations.upgrade(store)
        with store.connection() as conn:
            version = max(migrations.applied(conn))
    finally:
        store.close()
    if not done:
        return [f"{store.path}: schema version {version}, nothing to do"]
    return [*(f"{store.path}: applied step {s.version} ({s.name})" for s in done),
            f"{store.path}: schema version {version}"]


def _columns(conn: Conn, table: str) -> list[str]:
    return migrations.Migrator(conn).columns(table)


def copy(source: str, target: str, force: bool = False, progress: Callable[[str], None] | None = None) -> list[str]:
    """Every row of every table of `source` into `target` (ids kept; PostgreSQL's id sequences set after), both
    upgraded to the latest schema first; refused when `target` has rows, unless `force` (its rows are replaced).
    The target is written in one transaction: a copy that fails leaves it as it was."""
    _existing(source)
    if redact(source) == redact(target) or Path(source).resolve() == Path(target).resolve():
        raise DbError("--from and --to are the same store")
    say = progress or (lambda line: None)
    src = open_store(source)
    try:
        dst = open_store(target)
    except BaseException:
        src.close()
        raise
    try:
        return _copy(src, dst, force, say)
    finally:
        src.close()
        dst.close()


def _copy(src: StateStore, dst: StateStore, force: bool, say: Callable[[str], None]) -> list[str]:
    with dst.connection() as conn:
        held = {name: n for name, n in counts(conn).items() if n}
    if held and not force:
        raise DbError(f"{dst.path} is not empty ({', '.join(f'{k} {v}' for k, v in held.items())}): copy into an "
                      "empty store, or add --force to replace its rows")
    copied: dict[str, int] = {}
    with dst.transaction(lock="copy") as out:
        for table in TABLES:
            if held:
                out.execute(f"DELETE FROM {quote(table.name)}")
            kept = set(_columns(out, table.name))
            with src.connection() as conn:
                names = [c for c in _columns(conn, table.name) if c in kept]
            insert = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in names)}) "
                      f"VALUES ({', '.join('?' * len(names))})")
            select = (f"SELECT {', '.join(quote(c) for c in names)} FROM {quote(table.name)} "
                      f"ORDER BY {', '.join(quote(c) for c in table.pk)} LIMIT {COPY_BATCH} OFFSET ?")
            n = 0
            while True:
                with src.connection() as conn:
                    batch = conn.execute(select, (n,)).fetchall()
                if not batch:
                    break
                out.executemany(insert, [tuple(r) for r in batch])
                n += len(batch)
            copied[table.name] = n
            say(f"{table.name}: {n} rows")
        if dst.dialect == "postgresql":
            for table in TABLES:
                if table.pk == ("id",):  # the next id after the copied ones
                    out.execute(f"SELECT setval(pg_get_serial_sequence(?, 'id'), COALESCE(MAX(id), 1), "
                                f"MAX(id) IS NOT NULL) FROM {quote(table.name)}", (table.name,))
        written = counts(out)
    with src.connection() as conn:
        there = counts(conn)
    wrong = [f"{name} {there[name]} -> {written.get(name)}" for name in there if written.get(name) != there[name]]
    if wrong:
        raise DbError(f"the copy does not match its source ({'; '.join(wrong)}): was the bot writing to "
                      f"{src.path}? stop it and copy again with --force")
    total = sum(copied.values())
    return [f"copied {total} rows of {len(copied)} tables from {src.path} to {dst.path}; every table's row count "
            "matches"]
