"""The scheduler of daily summaries: wakes every 30 s, finds the runs due (bot/schedule.py), claims each in the
state store and posts it, exactly once across restarts and across several `vpnbot serve` processes on one database
(docs/summaries.md). Its wall clock is injected, so the tests pin time and call `tick(now)`.

A failed post is retried with a backoff while it is less than `LATE` late, and a channel is told once when its
summary failed for good; a run too late to post is skipped and logged, never posted.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.logs import logger
from bot.schedule import LATE, DueRun, Subscription, due_runs

if TYPE_CHECKING:
    from bot.state import StateStore

log = logger("vpnbot.schedule")

#: How long a claim protects a run whose owner stops answering (a crash). The owner renews it while it works.
LEASE = timedelta(minutes=10)
#: Waits after failed attempt 1, 2, … (a Slack or log-source outage is usually over in minutes).
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=30))
MAX_ATTEMPTS = len(BACKOFF) + 1
INTERVAL_S = 30.0


@dataclass(frozen=True)
class Outcome:
    """What one tick did with one run (for the log and the tests)."""

    channel: str
    day: date
    status: str  # posted | retry | failed | skipped
    detail: str = ""


Run = Callable[[Subscription, date], str]  # posts the summary of the day; returns the message ts; raises on failure
Prepare = Callable[[Sequence[DueRun]], None]  # told every run a tick is about to attempt, before the first
Notify = Callable[[Subscription, date, str], None]  # tells the channel a summary could not be posted


@dataclass
class Scheduler:
    """Wakes every `interval` seconds, finds the due runs, claims each in the state store and posts it.

    `subscriptions` is asked every tick (a `/vpn subscribe` in another process is seen at the next tick). `run`
    posts one summary (bot/slack/subscriptions.py wires `post_summary`); `notify` tells a channel once that its
    summary failed for good; `permanent(exc)` says a failure is not worth retrying (the bot was removed from the
    channel). `prepare(runs)` is told every run a tick is about to attempt, before the first: the summaries of the
    channels due at once then share their reads of the logs (diagnostics/summary/shared.py). The thread runs at a
    lower CPU priority (`nice`) than the question workers: 09:00 must not slow the questions asked meanwhile.
    """

    state: StateStore
    subscriptions: Callable[[], Sequence[Subscription]]
    run: Run
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    notify: Notify | None = None
    permanent: Callable[[BaseException], bool] = field(default=lambda exc: False)
    interval: float = INTERVAL_S
    lease: timedelta = LEASE
    renew_every: float | None = None  # seconds between lease renewals while posting; None: a third of the lease
    prepare: Prepare | None = None
    nice: int = 5  # added to the process's niceness, for this thread only (Linux; elsewhere ignored)
    owner: str = field(default_factory=lambda: f"{os.getpid()}-{uuid.uuid4().hex[:8]}")

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Lock()  # held while a tick runs: stop() waits for the post in progress

    # -- the thread ---------------------------------------------------------------------------------------------

    def start(self) -> Scheduler:
        self._thread = start_ticking(self, "vpnbot-scheduler", "scheduler tick")
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop ticking; wait up to `timeout` for a summary being posted (its lease covers it if we give up)."""
        return stop_ticking(self._stop, self._thread, timeout)

    # -- one tick -----------------------------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[Outcome]:
        """Handle every run due at `now`: post it if this process wins its claim, skip it when too late."""
        outcomes: list[Outcome] = []
        with self._busy:
            runs = due_runs(self.subscriptions(), now)
            settled = self.state.settled_runs({(r.subscription.channel, r.day) for r in runs}, now)
            if self.prepare is not None:
                attempted = [r for r in runs if (r.subscription.channel, r.day) not in settled and not r.too_late(now)]
                try:
                    self.prepare(attempted)
                except Exception:  # sharing is an optimisation: each run is still made alone
                    log.warning("could not plan the shared summaries of this tick", exc_info=True)
            for due in runs:
                if self._stop.is_set() and self._thread is not None:
                    break
                if (due.subscription.channel, due.day) in settled:
                    continue
                outcome = self._skip(due, now) if due.too_late(now) else self._attempt(due, now)
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    def _skip(self, due: DueRun, now: datetime) -> Outcome | None:
        late = due.lateness(now)
        reason = f"{_hours(late)} late (the limit is {_hours(LATE)}): not posted"
        if not self.state.skip_run(due.subscription.channel, due.day, now, reason, scheduled_at=due.at):
            return None
        log.warning("daily summary of %s for %s skipped: due at %s, %s", due.day, due.subscription.channel,
                    due.at.isoformat(), reason)
        return Outcome(due.subscription.channel, due.day, "skipped", reason)

    def _attempt(self, due: DueRun, now: datetime) -> Outcome | None:
        sub = due.subscription
        if not self.state.claim_run(sub.channel, due.day, self.owner, now, self.lease, scheduled_at=due.at,
                                    max_attempts=MAX_ATTEMPTS):
            return None
        try:
            with self._renewing(sub.channel, due.day):
                ts = self.run(sub, due.day)
        except Exception as exc:
            return self._failed(due, now, exc)
        # The message's ts was recorded as soon as Slack accepted it (`note_run_message`, before the picture's
        # upload); the one window left for a second copy is a crash between chat.postMessage returning and that
        # UPDATE.
        self.state.finish_run(sub.channel, due.day, self.owner, "posted", self.clock(), message_ts=ts)
        log.info("daily summary of %s posted in %s (ts %s)", due.day, sub.channel, ts)
        return Outcome(sub.channel, due.day, "posted", ts)

    def _failed(self, due: DueRun, now: datetime, exc: Exception) -> Outcome:
        sub = due.subscription
        error_id = uuid.uuid4().hex[:8]
        log.error("daily summary of %s for %s failed (error id %s): %s", due.day, sub.channel, error_id,
                  _first_line(exc), exc_info=exc)
        attempts = self.state.run_attempts(sub.channel, due.day)
        detail = f"{type(exc).__name__}: {_first_line(exc)} (error id {error_id})"
        retry_at = now + BACKOFF[min(attempts, len(BACKOFF)) - 1] if attempts else now
        final = self.permanent(exc) or attempts >= MAX_ATTEMPTS or retry_at - due.at >= LATE
        if not final:
            self.state.finish_run(sub.channel, due.day, self.owner, "retry", now, error=detail, retry_at=retry_at)
            return Outcome(sub.channel, due.day, "retry", detail)
        if self.state.finish_run(sub.channel, due.day, self.owner, "failed", now, error=detail) and self.notify:
            try:
                self.notify(sub, due.day, error_id)
            except Exception as notify_exc:  # "if possible": the channel may be what failed
                log.warning("could not tell %s its summary failed: %s", sub.channel, _first_line(notify_exc))
        return Outcome(sub.channel, due.day, "failed", detail)

    def _renewing(self, channel: str, day: date) -> _Renewer:
        return _Renewer(self, channel, day)


class _Renewer:
    """Extends this process's lease while a summary is being made, so a slow log source never lets another
    process take over a run that is still alive; only a dead (or hung) owner lets its lease run out."""

    def __init__(self, scheduler: Scheduler, channel: str, day: date) -> None:
        self.scheduler, self.channel, self.day = scheduler, channel, day
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="vpnbot-lease", daemon=True)

    def __enter__(self) -> _Renewer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(5)

    def _renew(self) -> None:
        every = self.scheduler.renew_every or self.scheduler.lease.total_seconds() / 3
        while not self._done.wait(every):
            try:
                if not self.scheduler.state.renew_run(self.channel, self.day, self.scheduler.owner,
                                                      self.scheduler.clock(), self.scheduler.lease):
                    log.warning("lost the claim on the summary of %s for %s", self.day, self.channel)
                    return
            except Exception as exc:
                log.warning("could not renew the claim on %s/%s: %s", self.channel, self.day, _first_line(exc))


class Ticks(Protocol):
    """What `start_ticking` runs: `tick(clock())` every `interval` seconds at `nice`, until `_stop` is set."""

    interval: float
    nice: int
    _stop: threading.Event

    def clock(self) -> datetime: ...

    def tick(self, now: datetime) -> object: ...


def start_ticking(ticks: Ticks, name: str, what: str) -> threading.Thread:
    """A started daemon thread calling `ticks.tick(ticks.clock())` every `ticks.interval` s at a lower CPU priority;
    a tick that fails (the database locked for long) is logged as `what` and retried at the next one."""
    def loop() -> None:
        lower_thread_priority(ticks.nice)
        while not ticks._stop.is_set():
            try:
                ticks.tick(ticks.clock())
            except Exception:
                log.error("%s failed", what, exc_info=True)
            ticks._stop.wait(ticks.interval)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


def stop_ticking(stop: threading.Event, thread: threading.Thread | None, timeout: float) -> bool:
    """Stop a `start_ticking` thread; False when the tick in progress outlasted `timeout`."""
    stop.set()
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def lower_thread_priority(nice: int) -> None:
    """Make the calling thread `nice` steps nicer (Linux schedules threads apart: the tid is a process id to
    setpriority). Where that is not possible, nothing changes."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError as exc:
        log.info("the scheduler keeps its CPU priority: %s", exc)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h".replace(".0 h", " h")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
