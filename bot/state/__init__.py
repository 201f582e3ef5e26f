"""The state store: one SQLite file that every `vpnbot serve` process of a deployment shares (bot/state/schema.py
says what it keeps, and why).

    state = StateStore("vpnbot.db", retention_days=90)
"""

from bot.state.audit import Claim
from bot.state.database import StoreUnavailable
from bot.state.schema import DEFAULT_RETENTION_DAYS
from bot.state.store import StateStore

__all__ = ["DEFAULT_RETENTION_DAYS", "Claim", "StateStore", "StoreUnavailable"]
