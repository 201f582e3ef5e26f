"""What every route of the Slack bot works with: the Web API client, the log sources, the state store, the options,
the clock, the channel policy, and the audit row each question or click leaves in the state store.

The routes (questions.py, buttons.py, evidence.py, subscriptions.py, summaries.py) are functions of a `SlackBot`
and a job; the worker pool (pool.py) runs them, wired by server.py.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.config import ChannelSettings
from bot.slack.conversation import Conversation
from bot.slack.logs import redact
from bot.slack.policy import ChannelPolicy, user_zone
from bot.state import StateStore
from bot.workspace import Workspace
from handlers.render.blocks import LogAnalyticsLink

log = logging.getLogger("vpnbot.slack")

#: How long a click waits for the answer it belongs to to be stored (it is, milliseconds after it is shown).
SETTLE_S = 10.0


@dataclass
class BotOptions:
    admins: str = ""  # who can change [[channels]], named in refusals
    channels: tuple[ChannelSettings, ...] = ()
    log_analytics: LogAnalyticsLink | None = None  # "Open in Log Analytics" needs the workspace's resource id
    evidence_bundle: bool = True  # the "Evidence bundle" button (bot/slack/evidence.py); False hides it
    default_tz: str = "UTC"  # for askers whose users.info has no zone
    workers: int = 4
    queue_limit: int = 500
    retention_days: int = 90
    #: Worker threads run this much nicer than the rest (Linux): answering may wait a few ms, acknowledging not.
    worker_nice: int = 10


@dataclass
class Audit:
    """The audit row of one question, filled as the answer progresses."""

    fields: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def set(self, **values: Any) -> None:
        self.fields.update({k: v for k, v in values.items() if v is not None})


class SlackBot:
    """The bot's shared parts, handed to every route."""

    def __init__(self, client: WebClient, workspace: Workspace, state: StateStore, options: BotOptions | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.client = client
        self.workspace = workspace
        self.state = state
        self.options = options or BotOptions()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.policy = ChannelPolicy(self.options.channels, workspace.registry, self.options.admins)
        self._last_purge = 0.0

    def user_zone(self, user: str) -> ZoneInfo:
        """The asker's zone: users.info, cached in the state store; the configured zone when Slack has none."""
        return user_zone(self.client, self.state, user, self.options.default_tz)

    # -- audit ----------------------------------------------------------------------------------------------

    def record(self, audit: Audit, **values: Any) -> None:
        """The audit row of a question answered (or refused) in one step."""
        audit.set(**values)
        self.state.start_question(**audit.fields, duration_ms=_elapsed_ms(audit))

    def finish(self, question_id: int, audit: Audit) -> None:
        """Complete the audit row started when the investigation began."""
        self.state.finish_question(question_id, **audit.fields, duration_ms=_elapsed_ms(audit))

    def apologise(self, conv: Conversation, audit: Audit) -> None:
        error_id = conv.apologise(self.options.admins)
        try:
            self.record(audit, outcome="error", error_id=error_id)
        except Exception:
            log.error("could not audit error %s: %s", error_id, redact(traceback.format_exc()))

    def wait_stored(self, question_id: int) -> None:
        """Wait (a little) for an answer still being stored: its buttons are on screen a moment before the worker
        that posted it has written the answer's row, and a quick click must not be told there is nothing there."""
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            row = self.state.question(question_id)
            if row is None or row.get("outcome") != "running":
                return
            time.sleep(0.05)

    def purge_now_and_then(self) -> None:
        """The state store's retention, applied at most once an hour (after a job)."""
        if time.monotonic() - self._last_purge > 3600:
            self._last_purge = time.monotonic()
            try:
                self.state.purge()
            except Exception as exc:
                log.warning("state purge failed: %s", redact(str(exc)))


def _elapsed_ms(audit: Audit) -> int:
    return int((time.monotonic() - audit.started) * 1000)
