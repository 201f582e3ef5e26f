"""The Bolt app: listeners that acknowledge, hand a job to a submitter and return.

Nothing here reads a log, calls the Web API or touches the state store: Slack wants an answer to every request
within 3 s (docs/sources.md#slack-ack), and a listener that only enqueues answers in microseconds whatever the log
sources are doing. The worker pool (bot/slack/pool.py) runs the rest, which renders in the thread; under `vpnbot
serve` it lives in another process, and the submitter is the pipe to it (bot/slack/front.py).
`process_before_response=True` runs a listener where its request was read, so the HTTP response leaves exactly when
the listener returns, with no thread hop or polling.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.logs import logger, quiet_bolt, redact
from bot.slack.jobs import (
    BUSY,
    COMMAND,
    Job,
    click_from_action,
    file_from_event,
    question_from_command,
    question_from_event,
)
from handlers.render.blocks import EVIDENCE_BUNDLE, OPEN_LOG_ANALYTICS, SHOW_QUERIES, WIDER_WINDOW

log = logger("vpnbot.slack")


class Submitter(Protocol):
    """Where listeners hand their jobs: the worker pool itself, or the queue to it from the acknowledging process."""

    def submit(self, job: Job) -> bool: ...


def make_client(token: str, api_url: str) -> WebClient:
    """The Web API client: GovSlack and tests change `api_url`; 429s wait for Retry-After and try again."""
    return WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/",
                     retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                                     RateLimitErrorRetryHandler(max_retry_count=3)])


def build_app(submitter: Submitter, client: WebClient, signing_secret: str | None, socket_mode: bool = False) -> App:
    """The app for `client`'s token. In HTTP mode every request must carry a valid Slack signature."""
    quiet_bolt()  # a request Bolt refuses is one short line, not its whole body
    app = App(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        request_verification_enabled=not socket_mode,  # Socket Mode is authenticated by the app-level token
        logger=logging.getLogger("vpnbot.slack.bolt"),
    )

    @app.command(COMMAND)
    def on_command(ack: Ack, body: dict[str, Any]) -> None:
        if submitter.submit(question_from_command(body)):
            ack()
        else:
            ack(text=BUSY)

    @app.event("app_mention")
    def on_mention(body: dict[str, Any]) -> None:
        job = question_from_event(body)
        if job is not None:
            submitter.submit(job)

    @app.event("message")
    def on_message(body: dict[str, Any]) -> None:
        # Every message event is acknowledged (a 404 counts as a failed delivery); only DMs are questions.
        job = question_from_event(body)
        if job is not None:
            submitter.submit(job)

    @app.event("file_shared")
    def on_file(body: dict[str, Any]) -> None:
        # A file shared where the bot is: explained when it is in a DM or a thread the bot answers in.
        job = file_from_event(body)
        if job is not None:
            submitter.submit(job)

    @app.action(SHOW_QUERIES)
    @app.action(WIDER_WINDOW)
    @app.action(EVIDENCE_BUNDLE)
    def on_click(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        submitter.submit(click_from_action(body))

    @app.action(OPEN_LOG_ANALYTICS)
    def on_link(ack: Ack) -> None:
        ack()  # a link button still reports its click; the browser does the rest

    @app.error
    def on_error(error: Exception) -> None:
        log.error("Slack listener failed: %s", redact(f"{type(error).__name__}: {error}"))

    return app
