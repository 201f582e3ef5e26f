"""The worker pool behind the listeners: each job (a question, a button click) runs on a worker thread, through the
function the pool is given (server.py hands it the routes).

* **Admission.** A job is admitted as it arrives (`admit`: its delivery claimed in the state store, so a repeat
  is dropped before it queues and a job is recorded before anything can lose it), by a thread of the pool's own:
  `submit` returns at once, so the reader of the acknowledging process's pipe never waits on the store (the
  acknowledgements would). What admission found travels with the job to `run`.
* **Two lanes.** Jobs that read logs and jobs that do not (help, the tunnel list, Show queries, subscriptions) have
  workers of their own (`lane`), so `help` never waits behind investigations.
* **A deadline per job** (`diagnostics.deadline`): the log sources bound their calls by it.
* **Busy.** At most `queue_limit` jobs (waiting or being answered, both lanes; `[slack] queue_limit`, default
  `jobs.QUEUE_LIMIT`); the one past it is refused and told "busy" where its answer would have gone.
* **Stuck workers** (busy past their deadline with every worker of the lane) make `stuck()` true: /healthz says so.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.logs import logger, redact
from bot.slack.jobs import BUSY, QUEUE_LIMIT, Job, QuestionJob
from diagnostics import deadline

log = logger("vpnbot.slack")

LOGS, QUICK = "logs", "quick"
#: A job still running this long after its deadline is stuck (its source ignored the deadline).
STUCK_AFTER_S = 30.0


@dataclass
class _Running:
    job: Job
    lane: str
    started: float = field(default_factory=time.monotonic)


class WorkerPool:
    """Runs `run(job, admitted)` for every job submitted, `workers` at a time per lane, at most `queue_limit`
    waiting; `admitted` is what `admit(job)` returned when the job arrived (None: the job is dropped)."""

    def __init__(self, run: Callable[[Job, Any], None], client: WebClient, workers: int = 4,
                 queue_limit: int = QUEUE_LIMIT, nice: int = 10, on_done: Callable[[], None] | None = None,
                 admit: Callable[[Job], Any] | None = None, lane: Callable[[Job], str] | None = None,
                 deadline_s: float | None = None, quick_workers: int = 2) -> None:
        self.run = run
        self.client = client  # to say "busy" where a refused job's answer would have gone
        self.queue_limit = queue_limit
        self.on_done = on_done  # told when a job submitted to this pool is finished (or refused, or dropped)
        self.admit = admit or (lambda job: True)
        self.lane = lane or (lambda job: LOGS)
        self.deadline_s = deadline_s
        self.workers = {LOGS: workers, QUICK: quick_workers}
        self._lanes = {name: ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"vpnbot-{name}",
                                                initializer=_be_nice, initargs=(nice,))
                       for name, n in self.workers.items()}
        self._notices = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vpnbot-notice")
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False
        self._queued: dict[int, Job] = {}  # id(job) -> job, from its arrival until a worker takes it
        self._arrivals: deque[tuple[Job, Any]] = deque()  # submitted, not admitted yet
        self._running: dict[int, _Running] = {}  # worker thread id -> what it runs
        self.on_close: list[Callable[[], None]] = []  # what stops with the pool (the keeper of its claims)
        self._admitter = threading.Thread(target=self._admit_arrivals, name="vpnbot-admit", daemon=True)
        self._admitter.start()

    def submit(self, job: Job, acknowledged: bool = False, admitted: Any = None) -> bool:
        """Admit `job` and queue it; return at once. False when the pool is shutting down or the queue is full.

        A refused job is told "busy" where its answer would have gone, except a slash command still being
        acknowledged (`acknowledged=False`): its listener says it in the ack. A job admission drops (a repeat
        delivery) counts as accepted: there is nothing to say about it. `admitted`: what admission would say, when
        the caller knows already (a job taken over from a dead process).
        """
        with self._idle:
            accepted = not self._closed and self._pending < self.queue_limit
            if accepted:
                self._pending += 1
        if not accepted:
            in_ack = not acknowledged and isinstance(job, QuestionJob) and job.source == "slash"
            if not self._closed and not in_ack:
                self._notices.submit(self._busy, job)
            elif self.on_done:
                self.on_done()
            return False
        with self._idle:
            self._queued[id(job)] = job
            self._arrivals.append((job, admitted))
            self._idle.notify_all()
        return True

    @property
    def pending(self) -> int:
        return self._pending

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued job is done; False on timeout."""
        ends = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = ends - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 30.0) -> list[Job]:
        """Stop taking jobs, let the accepted ones finish for up to `timeout`; the jobs still unfinished then
        (running or waiting), which the caller tells. Threads still running are left behind (daemon-like: the
        process exits without them)."""
        with self._idle:
            self._closed = True
            self._idle.notify_all()
        for stop in self.on_close:
            stop()
        self.drain(timeout)
        with self._idle:
            unfinished = [r.job for r in self._running.values()] + list(self._queued.values())
        for executor in (*self._lanes.values(), self._notices):
            executor.shutdown(wait=not unfinished, cancel_futures=True)
        return unfinished

    def stuck(self) -> bool:
        """Every worker of the log lane is busy with a job past its deadline (plus STUCK_AFTER_S)."""
        if self.deadline_s is None:
            return False
        limit = time.monotonic() - self.deadline_s - STUCK_AFTER_S
        with self._idle:
            late = [r for r in self._running.values() if r.lane == LOGS and r.started < limit]
        return len(late) >= self.workers[LOGS]

    def _admit_arrivals(self) -> None:
        while True:
            with self._idle:
                self._idle.wait_for(lambda: self._arrivals or self._closed)
                if not self._arrivals:
                    return
                job, admitted = self._arrivals.popleft()
            try:
                admitted = self.admit(job) if admitted is None else admitted
            except Exception:  # admission reports its own failures; never lose the job over it
                log.error("admitting a job failed", exc_info=True)
                admitted = True
            if admitted is None:  # a repeat: nothing to answer
                with self._idle:
                    self._queued.pop(id(job), None)
                self._done()
            else:
                try:
                    self._lanes[self.lane(job)].submit(self._run, job, admitted)
                except RuntimeError:  # the pool closed meanwhile: the job stays unfinished, and is told so
                    return

    def _run(self, job: Job, admitted: Any) -> None:
        me = threading.get_ident()
        with self._idle:
            self._queued.pop(id(job), None)
            self._running[me] = _Running(job, self.lane(job))
        try:
            with deadline.within(self.deadline_s):
                self.run(job, admitted)
        except Exception:  # the routes report their own failures; this is the last resort
            log.error("job failed", exc_info=True)
        finally:
            with self._idle:
                self._running.pop(me, None)
            self._done()

    def _done(self) -> None:
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
