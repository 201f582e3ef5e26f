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

from bot.config import Config, ConfigError, SlackSettings, state_location
from bot.logs import configure_logging, logger, register_secrets
from bot.slack import alerts, buttons, deliveries, questions
from bot.slack.app import make_client
from bot.slack.core import BotOptions, SlackBot
from bot.slack.front import FrontSettings, run_front
from bot.slack.jobs import QUEUE_LIMIT, AlertJob, Job, QuestionJob
from bot.slack.pool import LOGS, QUICK, WorkerPool
from bot.slack.subscriptions import is_subscription_command, summary_scheduler
from bot.slack.watches import Watcher
from bot.state import DEFAULT_RETENTION_DAYS, Claim, StateStore, StoreUnavailable
from bot.workspace import Workspace
from handlers.parse.intent import Intent, detect_intent
from handlers.parse.lexer import tokenize
from handlers.parse.question import clean_text
from handlers.render.blocks import PORTAL, SHOW_QUERIES, LogAnalyticsLink
from handlers.watch_command import is_watch_command

log = logger("vpnbot.slack")

START_TIMEOUT_S = 60.0
#: The largest `[slack] queue_limit` taken: 100,000 questions of Slack's largest (40,000 characters) would hold ~4 GB.
MAX_QUEUE_LIMIT = 100_000
#: Portals of the sovereign clouds, by the Log Analytics query endpoint's host.
PORTALS = {"api.loganalytics.us": "https://portal.azure.us", "api.loganalytics.azure.cn": "https://portal.azure.cn"}


def bot_options(config: Config | None, zone: ZoneInfo) -> BotOptions:
    """The bot's settings from the configuration (keys missing from an older Config fall back to defaults)."""
    slack = config.slack if config else SlackSettings()
    where = config.path if config else "configuration"
    try:
        retention = int(getattr(slack, "retention_days", DEFAULT_RETENTION_DAYS))
    except ValueError:
        raise ConfigError(f"{where}: [slack] retention_days must be a number of days") from None
    queue_limit = _queue_limit(slack, where)
    deadline_s, grace_s, watch_s = (_seconds(slack, key, where)
                                    for key in ("question_deadline_s", "shutdown_grace_s", "watch_every_s"))
    link = None
    # The portal opens a workspace by its ARM resource id, not by the GUID the query API uses: without it
    # configured, the "Open in Log Analytics" button is not shown.
    resource_id = getattr(config.azure, "workspace_resource_id", "") if config else ""
    if config and resource_id:
        host = urlsplit(config.azure.endpoint).hostname or ""
        link = LogAnalyticsLink(resource_id, PORTALS.get(host, PORTAL))
    return BotOptions(admins=getattr(slack, "admins", ""), channels=config.channels if config else (),
                      dm_tunnels=getattr(slack, "dm_tunnels", None),
                      log_analytics=link, default_tz=zone.key, retention_days=retention,
                      question_deadline_s=deadline_s, shutdown_grace_s=grace_s, queue_limit=queue_limit,
                      alerts=getattr(config, "alerts", ()) if config else (),
                      watches=getattr(config, "watches", ()) if config else (), watch_every_s=watch_s)


def _queue_limit(slack: SlackSettings, where: str) -> int:
    """[slack] queue_limit: a whole number of questions, bounded so a typo cannot make the queue unbounded."""
    try:
        value = int(getattr(slack, "queue_limit", QUEUE_LIMIT))
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_QUEUE_LIMIT:
        raise ConfigError(f"{where}: [slack] queue_limit must be a number of questions from 1 to {MAX_QUEUE_LIMIT:,}, "
                          f"e.g. {QUEUE_LIMIT}")
    return value


def _seconds(slack: SlackSettings, key: str, where: str) -> float:
    try:
        value = float(getattr(slack, key))
    except ValueError:
        value = -1.0
    if not 0 < value < 86_400:
        raise ConfigError(f"{where}: [slack] {key} must be a number of seconds, e.g. {getattr(SlackSettings, key)}")
    return value


def answering(client: WebClient, workspace: Workspace, state: StateStore, options: BotOptions | None = None,
              clock: Callable[[], datetime] | None = None, on_done: Callable[[], None] | None = None,
              resubmit: Callable[[Job, Claim], object] | None = None) -> tuple[SlackBot, WorkerPool]:
    """The answering side: the bot's shared parts, the worker pool that runs each job's route on them, and the
    keeper of the pool's claims (which hands the jobs dead processes left to `resubmit`, by default the pool)."""
    bot = SlackBot(client, workspace, state, options, clock)

    def run(job: Job, admitted: Claim | str) -> None:
        try:
            if isinstance(job, QuestionJob):
                questions.answer(bot, job, admitted)
            elif isinstance(job, AlertJob):  # an Azure Monitor alert: docs/alerts.md
                alerts.answer(bot, job, admitted)
            else:
                buttons.click(bot, job, admitted)
        finally:
            bot.purge_now_and_then()

    pool = WorkerPool(run, client, bot.options.workers, bot.options.queue_limit, bot.options.worker_nice, on_done,
                      admit=lambda job: deliveries.admit(bot, job), lane=lane,
                      deadline_s=bot.options.question_deadline_s)
    keeper = deliveries.Keeper(bot, resubmit or (lambda job, claim: pool.submit(job, True, claim))).start()
    pool.on_close.append(keeper.stop)
    return bot, pool


def lane(job: Job) -> str:
    """Jobs that read no logs (help, the tunnel list, subscriptions, Show queries) never wait behind those that do."""
    if isinstance(job, QuestionJob):
        if is_subscription_command(job.text) or is_watch_command(job.text):
            return QUICK
        intent = detect_intent([token.lower() for token in tokenize(clean_text(job.text))])
        return QUICK if intent in (Intent.HELP, Intent.TUNNELS) else LOGS
    if isinstance(job, AlertJob):  # investigated like a question
        return LOGS
    return QUICK if job.action == SHOW_QUERIES else LOGS


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
    alerts_token = alerts_token_of(config, environ)
    register_secrets(token, app_token, secret, alerts_token)
    configure_logging()
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    options = bot_options(config, zone)
    api_url = environ.get("SLACK_API_URL") or (config.slack.api_url if config else SlackSettings().api_url)

    # spawn, not fork: this process already runs DuckDB's and the HTTP clients' threads.
    ctx = multiprocessing.get_context("spawn")
    jobs_in, jobs_out = ctx.Pipe(duplex=False)
    pending = ctx.Value("i", 0)
    heartbeat = ctx.Value("d", time.time())
    troubles = ctx.Array("b", 2)  # for /healthz: [0] the state store is failing, [1] every worker is stuck
    status_in, status_out = ctx.Pipe(duplex=False)
    settings = FrontSettings(token, secret, app_token, api_url, host, port, options.queue_limit,
                             alerts_token="" if app_token else alerts_token)  # alerts need HTTP mode
    front = ctx.Process(target=run_front, args=(settings, jobs_out, pending, heartbeat, status_out, troubles),
                        name="vpnbot-front")

    stop = threading.Event()
    crashed = False
    unfinished: list[Job] = []
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    state = StateStore(state_location(config), options.retention_days)
    try:
        with contextlib.suppress(StoreUnavailable):  # retention waits for a store that works (each hour after)
            state.purge()
        front.start()
        jobs_out.close()  # the acknowledging process holds the only writing ends: its exit ends the pipes
        status_out.close()
        kind, message = _first_word(status_in, front)
        if kind != "ready":
            front.join(10)
            raise ConfigError(message)
        say(f"vpnbot: {message}")
        if app_token and alerts_token:
            say("vpnbot: Azure Monitor alerts need HTTP mode (a URL Azure can post to): /alerts/azure is off in "
                "Socket Mode")
        lower_priority(options.worker_nice)  # after the start: the acknowledging process keeps its priority

        def done() -> None:
            with pending.get_lock():
                pending.value -= 1

        def resubmit(job: Job, claim: Claim) -> None:  # a job taken over from a dead process counts as pending
            with pending.get_lock():
                pending.value += 1
            pool.submit(job, True, claim)

        clock = (lambda: pinned_now) if pinned_now else (lambda: datetime.now(UTC))
        bot, pool = answering(make_client(token, api_url), workspace, state, options, clock, on_done=done,
                              resubmit=resubmit)
        dispatcher = threading.Thread(target=_dispatch, args=(jobs_in, pool), name="vpnbot-dispatch", daemon=True)
        dispatcher.start()
        # Daily summaries: the configuration's [[subscriptions]] join the Slack-made ones in the state file.
        scheduler = summary_scheduler(bot, config.subscriptions if config else ()).start()
        # Watching: every new drop of a watched tunnel posted in the channels watching it (docs/watch.md).
        watcher = Watcher(bot, options.watch_every_s, options.summary_nice).start()
        while not stop.wait(0.2) and front.is_alive():
            heartbeat.value = time.time()
            troubles[0], troubles[1] = (not state.health.ok), pool.stuck()
        crashed = not stop.is_set()
        if crashed:
            log.error("the acknowledging process exited (code %s): stopping", front.exitcode)
        say("vpnbot: stopping: finishing the questions already accepted…")
        ends = time.monotonic() + options.shutdown_grace_s  # a hard limit: what is not done by then is told

        def left() -> float:
            return max(0.0, ends - time.monotonic())

        if front.is_alive():
            front.terminate()  # SIGTERM: it stops listening, then closes the pipe behind its last job
            front.join(min(15.0, left()))
        dispatcher.join(left())
        if not watcher.stop(left()):  # an incident being posted: its claim's lease hands it to the next poll
            log.warning("an incident was still being posted at exit: the next poll tells it")
        if not scheduler.stop(left()):  # no new summary once stopping; one being posted may finish
            log.warning("a daily summary was still being posted at exit: its claim expires and another run takes it")
        unfinished = pool.close(left())
        if unfinished:
            log.warning("stopping with %d questions unanswered: told, and left for the next process", len(unfinished))
            questions.tell_stopping(bot, unfinished)
    finally:
        if front.is_alive():
            front.kill()
        state.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("vpnbot: stopped")
    if unfinished:  # worker threads still stuck in a source: the interpreter would wait for them at exit
        logging.shutdown()
        os._exit(1 if crashed else 0)
    return 1 if crashed else 0


def alerts_token_of(config: Config | None, environ: Mapping[str, str]) -> str:
    """The token /alerts/azure requires: VPNBOT_ALERTS_TOKEN, else [slack] alerts_token; "" turns the endpoint off."""
    return environ.get("VPNBOT_ALERTS_TOKEN") or (getattr(config.slack, "alerts_token", "") if config else "")


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
