"""`vpnbot serve`: the Slack bot's process. Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP.

Two processes, so that Slack is acknowledged at once and the work runs off the request path
(docs/sources.md#slack-ack):

* the acknowledging process (bot/slack/front.py): the Bolt app behind `POST /slack/events` (events, the /vpn
  command and interactivity on one URL; every request's signature checked by Bolt against SLACK_SIGNING_SECRET
  with Slack's 5-minute replay window) and `GET /healthz`, or the Socket Mode connection. Its listeners only
  put jobs on a queue;
* this process: the worker pool that answers (pool.py), running the routes (questions.py, buttons.py) on the
  bot's shared parts (core.py: the Web API client, the state store, the log sources); `answering()` wires them.

SIGTERM (and Ctrl-C) stop the acknowledging process first (no new requests; the jobs it acknowledged are flushed
to the queue), then let the questions already accepted finish (up to 30 s), close the state store and exit 0.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.config import Config, ConfigError, SlackSettings, state_path
from bot.slack import buttons, questions
from bot.slack.app import make_client
from bot.slack.core import BotOptions, SlackBot
from bot.slack.front import FrontSettings, run_front
from bot.slack.jobs import Job, QuestionJob
from bot.slack.logs import configure_logging, register_secrets
from bot.slack.pool import WorkerPool
from bot.slack.subscriptions import summary_scheduler
from bot.state import DEFAULT_RETENTION_DAYS, StateStore
from bot.workspace import Workspace
from handlers.render.blocks import PORTAL, LogAnalyticsLink

log = logging.getLogger("vpnbot.slack")

SHUTDOWN_GRACE_S = 30.0
START_TIMEOUT_S = 60.0
#: Portals of the sovereign clouds, by the Log Analytics query endpoint's host.
PORTALS = {"api.loganalytics.us": "https://portal.azure.us", "api.loganalytics.azure.cn": "https://portal.azure.cn"}


def bot_options(config: Config | None, zone: ZoneInfo) -> BotOptions:
    """The bot's settings from the configuration (keys missing from an older Config fall back to defaults)."""
    slack = config.slack if config else SlackSettings()
    try:
        retention = int(getattr(slack, "retention_days", DEFAULT_RETENTION_DAYS))
    except ValueError:
        raise ConfigError(f"{config.path if config else 'configuration'}: [slack] retention_days must be a "
                          "number of days") from None
    link = None
    # The portal opens a workspace by its ARM resource id, not by the GUID the query API uses: without it
    # configured, the "Open in Log Analytics" button is not shown.
    resource_id = getattr(config.azure, "workspace_resource_id", "") if config else ""
    if config and resource_id:
        host = urlsplit(config.azure.endpoint).hostname or ""
        link = LogAnalyticsLink(resource_id, PORTALS.get(host, PORTAL))
    return BotOptions(admins=getattr(slack, "admins", ""), channels=config.channels if config else (),
                      log_analytics=link, default_tz=zone.key, retention_days=retention)


def answering(client: WebClient, workspace: Workspace, state: StateStore, options: BotOptions | None = None,
              clock: Callable[[], datetime] | None = None,
              on_done: Callable[[], None] | None = None) -> tuple[SlackBot, WorkerPool]:
    """The answering side: the bot's shared parts, and the worker pool that runs each job's route on them."""
    bot = SlackBot(client, workspace, state, options, clock)

    def run(job: Job) -> None:
        try:
            if isinstance(job, QuestionJob):
                questions.answer(bot, job)
            else:
                buttons.click(bot, job)
        finally:
            bot.purge_now_and_then()

    pool = WorkerPool(run, client, bot.options.workers, bot.options.queue_limit, bot.options.worker_nice, on_done)
    return bot, pool


def serve(config: Config | None, workspace: Workspace, zone: ZoneInfo, pinned_now: datetime | None,
          host: str = "0.0.0.0", port: int = 3000, environ: Mapping[str, str] = os.environ,
          say: Callable[[str], None] | None = None) -> int:
    """Run the bot until SIGTERM/SIGINT. Raises ConfigError (one line) when it cannot start."""
    token = environ.get("SLACK_BOT_TOKEN", "")
    app_token = environ.get("SLACK_APP_TOKEN", "")
    secret = environ.get("SLACK_SIGNING_SECRET", "")
    if not token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: give the bot token (xoxb-…) of the app made from manifest.yml")
    if not app_token and not secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set (HTTP mode); set SLACK_APP_TOKEN instead for Socket Mode")
    register_secrets(token, app_token, secret)
    configure_logging()
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    options = bot_options(config, zone)
    api_url = environ.get("SLACK_API_URL") or (config.slack.api_url if config else SlackSettings().api_url)

    # spawn, not fork: this process already runs DuckDB's and the HTTP clients' threads.
    ctx = multiprocessing.get_context("spawn")
    jobs_in, jobs_out = ctx.Pipe(duplex=False)
    pending = ctx.Value("i", 0)
    heartbeat = ctx.Value("d", time.time())
    status_in, status_out = ctx.Pipe(duplex=False)
    settings = FrontSettings(token, secret, app_token, api_url, host, port, options.queue_limit)
    front = ctx.Process(target=run_front, args=(settings, jobs_out, pending, heartbeat, status_out),
                        name="vpnbot-front")

    stop = threading.Event()
    crashed = False
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    state = StateStore(state_path(config), options.retention_days)
    try:
        state.purge()
        front.start()
        jobs_out.close()  # the acknowledging process holds the only writing ends: its exit ends the pipes
        status_out.close()
        kind, message = _first_word(status_in, front)
        if kind != "ready":
            front.join(10)
            raise ConfigError(message)
        say(f"vpnbot: {message}")
        lower_priority(options.worker_nice)  # after the start: the acknowledging process keeps its priority

        def done() -> None:
            with pending.get_lock():
                pending.value -= 1

        clock = (lambda: pinned_now) if pinned_now else (lambda: datetime.now(UTC))
        bot, pool = answering(make_client(token, api_url), workspace, state, options, clock, on_done=done)
        dispatcher = threading.Thread(target=_dispatch, args=(jobs_in, pool), name="vpnbot-dispatch", daemon=True)
        dispatcher.start()
        # Daily summaries: the configuration's [[subscriptions]] join the Slack-made ones in the state file.
        scheduler = summary_scheduler(bot, config.subscriptions if config else ()).start()
        while not stop.wait(0.2) and front.is_alive():
            heartbeat.value = time.time()
        crashed = not stop.is_set()
        if crashed:
            log.error("the acknowledging process exited (code %s): stopping", front.exitcode)
        say("vpnbot: stopping: finishing the questions already accepted…")
        if not scheduler.stop(SHUTDOWN_GRACE_S):  # no new summary once stopping; one being posted may finish
            log.warning("a daily summary was still being posted at exit: its claim expires and another run takes it")
        if front.is_alive():
            front.terminate()  # SIGTERM: it stops listening, then closes the pipe behind its last job
            front.join(15)
        dispatcher.join(15)
        if not pool.close(SHUTDOWN_GRACE_S):
            log.warning("stopped with %d questions unanswered", pool.pending)
    finally:
        if front.is_alive():
            front.kill()
        state.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("vpnbot: stopped")
    return 1 if crashed else 0


def lower_priority(nice: int) -> None:
    """Run every thread of this process (the log sources' too, e.g. DuckDB's) at `nice`, and the threads they
    start after it: answering may wait a few milliseconds for the CPU, acknowledging may not. Linux only."""
    if not nice or not hasattr(os, "setpriority") or not os.path.isdir("/proc/self/task"):
        return
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError, ValueError):
            os.setpriority(os.PRIO_PROCESS, int(tid), nice)


def _first_word(status: Connection, front: BaseProcess) -> tuple[str, str]:
    """("ready", where) or ("error", why) from the acknowledging process."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if status.poll(0.2):
                kind, message = status.recv()
                return kind, message
        except (EOFError, OSError):
            pass  # it exited without a word: said below
        if not front.is_alive():
            return "error", f"the acknowledging process exited at start (code {front.exitcode})"
    return "error", f"the acknowledging process did not start within {START_TIMEOUT_S:g} s"


def _dispatch(jobs: Connection, pool: WorkerPool) -> None:
    """Pipe → worker pool, until the acknowledging process has closed its end (after its last job)."""
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return
        pool.submit(job, acknowledged=True)
