"""The worker pool behind the listeners: each job (a question, a button click) runs on a worker thread, through the
function the pool is given (server.py hands it the routes); a job refused for a full queue is told "busy".
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.slack.jobs import BUSY, Job, QuestionJob
from bot.slack.logs import redact

log = logging.getLogger("vpnbot.slack")


class WorkerPool:
    """Runs `run(job)` for every job submitted, `workers` at a time, at most `queue_limit` waiting."""

    def __init__(self, run: Callable[[Job], None], client: WebClient, workers: int = 4, queue_limit: int = 500,
                 nice: int = 10, on_done: Callable[[], None] | None = None) -> None:
        self.run = run
        self.client = client  # to say "busy" where a refused job's answer would have gone
        self.queue_limit = queue_limit
        self.on_done = on_done  # told when a job submitted to this pool is finished (or refused)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vpnbot-worker",
                                        initializer=_be_nice, initargs=(nice,))
        self._notices = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vpnbot-notice")
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False

    def submit(self, job: Job, acknowledged: bool = False) -> bool:
        """Queue `job` and return at once; False when the pool is shutting down or the queue is full.

        A refused job is told "busy" where its answer would have gone, except a slash command still being
        acknowledged (`acknowledged=False`): its listener says it in the ack.
        """
        with self._idle:
            accepted = not self._closed and self._pending < self.queue_limit
            if accepted:
                self._pending += 1
        if accepted:
            self._pool.submit(self._run, job)
            return True
        in_ack = not acknowledged and isinstance(job, QuestionJob) and job.source == "slash"
        if not self._closed and not in_ack:
            self._notices.submit(self._busy, job)
        elif self.on_done:
            self.on_done()
        return False

    @property
    def pending(self) -> int:
        return self._pending

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued job is done; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 30.0) -> bool:
        """Stop taking jobs, finish the queued ones (up to `timeout`), stop the threads."""
        with self._idle:
            self._closed = True
        done = self.drain(timeout)
        self._pool.shutdown(wait=done, cancel_futures=True)
        self._notices.shutdown(wait=False, cancel_futures=True)
        return done

    def _run(self, job: Job) -> None:
        try:
            self.run(job)
        except Exception:  # the routes report their own failures; this is the last resort
            log.error("job failed: %s", redact(traceback.format_exc()))
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
            if self.on_done:
                self.on_done()

    def _busy(self, job: Job) -> None:
        """Never silent: a job refused for a full queue is told so where its answer would have gone."""
        try:
            if isinstance(job, QuestionJob) and job.source == "slash" and job.response_url:
                WebhookClient(job.response_url).send(text=BUSY, response_type="ephemeral")
            else:
                self.client.chat_postMessage(channel=job.channel, thread_ts=job.thread_ts or None, text=BUSY)
        except Exception as exc:
            log.warning("could not say busy in %s: %s", job.channel, redact(str(exc)))
        finally:
            if self.on_done:
                self.on_done()


def _be_nice(nice: int) -> None:
    """Lower this worker thread's CPU priority (Linux schedules threads one by one); elsewhere, do nothing."""
    if nice and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
