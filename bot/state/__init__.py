"""The state store: a SQLite file (the default, one host) or a PostgreSQL database (several replicas) that every
`vpnbot serve` process of a deployment shares (bot/state/schema.py says what it keeps, and why; docs/state.md how).

    state = open_store("vpnbot.db", retention_days=90)       # or "postgresql://vpnbot@db.example/vpnbot"
"""

from bot.state import admin, migrations
from bot.state.audit import Claim
from bot.state.database import StoreUnavailable
from bot.state.location import is_postgres_url, redact
from bot.state.schema import DEFAULT_RETENTION_DAYS
from bot.state.store import StateStore, open_store

__all__ = ["DEFAULT_RETENTION_DAYS", "Claim", "StateStore", "StoreUnavailable", "admin", "is_postgres_url",
           "migrations", "open_store", "redact"]
