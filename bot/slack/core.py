"""What every route of the Slack bot works with: the Web API client, the log sources, the state store, the options,
the clock, the channel policy, and the audit row each question or click leaves in the state store.

The routes (questions.py, buttons.py, evidence.py, subscriptions.py, summaries.py) are functions of a `SlackBot`
and a job; the worker pool (pool.py) runs them, wired by server.py.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.config import AlertRoute, ChannelSettings, WatchSettings
from bot.logs import logger
from bot.slack.conversation import Conversation
from bot.slack.jobs import QUEUE_LIMIT
from bot.slack.policy import ChannelPolicy, asker_zone, user_zone
from bot.state import StateStore, StoreUnavailable
from bot.workspace import Workspace
from handlers.render.blocks import LogAnalyticsLink

log = logger("vpnbot.slack")

#: Said under an answer the state store could not record.
NOT_STORED = ("I could not record this answer (my state store is failing), so the buttons that need it (Show queries, "
              "Evidence bundle) won't work: ask again later for those.")


@dataclass
class BotOptions:
    admins: str = ""  # who can change [[channels]], named in refusals
    channels: tuple[ChannelSettings, ...] = ()
    dm_tunnels: tuple[str, ...] | None = None  # [slack] dm_tunnels: the only tunnels DMs may ask about (None: all)
    log_analytics: LogAnalyticsLink | None = None  # "Open in Log Analytics" needs the workspace's resource id
    evidence_bundle: bool = True  # the "Evidence bundle" button (bot/slack/evidence.py); False hides it
    default_tz: str = "UTC"  # for askers whose users.info has no zone
    workers: int = 4
    queue_limit: int = QUEUE_LIMIT  # `[slack] queue_limit`: jobs waiting or being answered, then "busy"
    retention_days: int = 90
    #: Worker threads run this much nicer than the rest (Linux): answering may wait a few ms, acknowledging not.
    worker_nice: int = 10
    #: The daily summaries' thread runs this much nicer again (Linux): 09:00 must not slow the questions meanwhile.
    summary_nice: int = 5
    #: How long one question may take: the log sources bound their calls by it (`[slack] question_deadline_s`).
    question_deadline_s: float = 90.0
    #: On SIGTERM, how long the questions already accepted may take; then the process exits (`shutdown_grace_s`).
    shutdown_grace_s: float = 30.0
    #: [[alerts]]: where Azure Monitor alerts posted to /alerts/azure go (bot/slack/alerts.py)
    alerts: tuple[AlertRoute, ...] = ()
    #: [[watches]]: channels told every new drop of their tunnels, with the Slack-made ones (bot/slack/watches.py)
    watches: tuple[WatchSettings, ...] = ()
    #: seconds between the watcher's polls (`[slack] watch_every_s`)
    watch_every_s: float = 60.0


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
        self.policy = ChannelPolicy(self.options.channels, workspace.registry, self.options.admins,
                                    self.options.dm_tunnels)
        #: This process, as the owner of the deliveries it claims (its heartbeat keeps them its own).
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._last_purge = 0.0

    def user_zone(self, user: str) -> ZoneInfo:
        """The asker's zone: users.info, cached in the state store; the configured zone when Slack has none."""
        return user_zone(self.client, self.state, user, self.options.default_tz)

    def asker_zone(self, user: str) -> tuple[ZoneInfo, bool]:
        """`user_zone`, and whether Slack gave it (False: the configured zone stands in)."""
        return asker_zone(self.client, self.state, user, self.options.default_tz)

    # -- audit ----------------------------------------------------------------------------------------------

    def record(self, audit: Audit, **values: Any) -> int | None:
        """The audit row of a question answered (or refused) in one step; None when the store could not take it
        (the person was answered all the same: the store's failure is logged and shown by /healthz)."""
        audit.set(**values)
        try:
            return self.state.start_question(**audit.fields, duration_ms=_elapsed_ms(audit))
        except StoreUnavailable as exc:
            log.warning("question not audited: %s", exc)
            return None

    def finish(self, question_id: int | None, audit: Audit) -> bool:
        """Complete the audit row started when the investigation began; False when the store could not."""
        if question_id is None:
            return False
        try:
            self.state.finish_question(question_id, **audit.fields, duration_ms=_elapsed_ms(audit))
        except StoreUnavailable as exc:
            log.warning("question %s not audited: %s", question_id, exc)
            return False
        return True

    def apologise(self, conv: Conversation, audit: Audit) -> None:
        error_id = conv.apologise(self.options.admins)
        self.record(audit, outcome="error", error_id=error_id)

    def purge_now_and_then(self) -> None:
        """The state store's retention, applied at most once an hour (after a job)."""
        if time.monotonic() - self._last_purge > 3600:
            self._last_purge = time.monotonic()
            try:
                self.state.purge()
            except StoreUnavailable as exc:
                log.warning("state purge failed: %s", exc)


def _elapsed_ms(audit: Audit) -> int:
    return int((time.monotonic() - audit.started) * 1000)
