"""Every delivery answered once, none lost: claims in the state store that a process holds while it lives.

A job is claimed when it arrives (`admit`, one quick try) or, when the store did not answer then, by its worker
(`take`, retried within the question's deadline). The claim names this process (`SlackBot.owner`), whose heartbeat
(`beat`) keeps it; a process killed while answering stops beating, and its unanswered jobs, stored with their
claims, are taken over (`recover`) by the next process to look: the same one restarted, or another replica. A
delivery is settled once answered, so nothing takes it over again. When the store fails outright the question is
answered all the same (a repeat is then possible, a lost question is not), with a note that its buttons won't
work.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.logs import logger
from bot.slack.core import SlackBot
from bot.slack.jobs import Job, job_from_json, job_json
from bot.state import Claim, StoreUnavailable

log = logger("vpnbot.slack")

#: What admission says when the store did not answer at once: the worker claims, patiently.
UNCLAIMED = "unclaimed"


@dataclass(frozen=True)
class Delivery:
    claim: Claim
    stored: bool = True  # False: the store failed, the job is answered without its claim (or its record)

    @property
    def resumed(self) -> bool:
        return self.claim is Claim.RESUMED


def admit(bot: SlackBot, job: Job) -> Claim | str | None:
    """At arrival: the claim (NEW or RESUMED), UNCLAIMED when the store did not answer at once, None for a repeat
    (dropped before it queues)."""
    claim = bot.state.try_claim(job.keys, bot.owner, job_json(job))
    if claim is Claim.REPEAT:
        log.info("repeat delivery of %s ignored", job.keys[0])
        return None
    return UNCLAIMED if claim is None else claim


def take(bot: SlackBot, job: Job, admitted: Claim | str) -> Delivery | None:
    """The job's claim as its worker starts it: what admission found, else claimed now (patiently); None for a
    repeat. A store that keeps failing gives an unstored delivery: the question is answered anyway."""
    if isinstance(admitted, Claim):
        return Delivery(admitted)
    try:
        claim = bot.state.claim(job.keys, bot.owner, job_json(job), dead=dead_here(bot))
    except StoreUnavailable as exc:
        log.error("answering %s without its claim: %s", job.keys[0] if job.keys else "a job", exc)
        return Delivery(Claim.NEW, stored=False)
    if claim is Claim.REPEAT:
        log.info("repeat delivery of %s ignored", job.keys[0])
        return None
    return Delivery(claim)


def settle(bot: SlackBot, job: Job) -> None:
    """The job is answered (or refused): never taken over again."""
    try:
        bot.state.settle(job.keys)
    except StoreUnavailable as exc:
        log.warning("could not mark %s answered: %s", job.keys[0] if job.keys else "a job", exc)


def beat(bot: SlackBot) -> bool:
    """This process is alive (its claims stay its own); False when the store could not record it."""
    try:
        bot.state.beat(bot.owner)
    except StoreUnavailable as exc:
        log.warning("heartbeat not recorded: %s", exc)
        return False
    return True


def recover(bot: SlackBot) -> list[Job]:
    """The jobs a dead process claimed and never answered, now claimed by this one (RESUMED): to answer. Two
    processes recovering at once each take a distinct share."""
    dead = dead_here(bot)
    try:
        jobs = [job_from_json(text) for text in bot.state.abandoned(dead=dead)]
        return [job for job in jobs if bot.state.claim(job.keys, bot.owner, job_json(job), dead=dead)
                is Claim.RESUMED]
    except StoreUnavailable as exc:
        log.warning("could not look for questions a stopped process left unanswered: %s", exc)
        return []


def dead_here(bot: SlackBot) -> frozenset[str]:
    """Owners of this host whose process is gone although their heartbeat is recent (killed moments ago: a
    restart need not wait for their heartbeat to go stale)."""
    host = bot.owner.rsplit("-", 2)[0]
    try:
        owners = bot.state.live_owners()
    except StoreUnavailable:
        return frozenset()
    dead = set()
    for owner in owners:
        name, pid, _ = [*owner.rsplit("-", 2), "", ""][:3]
        if name == host and owner != bot.owner and pid.isdigit() and not _running(int(pid)):
            dead.add(owner)
    return frozenset(dead)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class Keeper:
    """Keeps this process's claims alive (a heartbeat every `beat_s`, which also tells whether the store works) and
    takes over, every `recover_s`, the jobs dead processes left unanswered (at once when started, and at the next
    beat when a process of this host is seen gone: a replica killed beside it need not wait for the next round),
    handing each to `submit(job, Claim.RESUMED)`."""

    def __init__(self, bot: SlackBot, submit: Callable[[Job, Claim], object], beat_s: float = 2.0,
                 recover_s: float = 30.0) -> None:
        self.bot = bot
        self.submit = submit
        self.beat_s = beat_s
        self.recover_s = recover_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vpnbot-keeper", daemon=True)

    def start(self) -> Keeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        since_recovery = self.recover_s
        known_dead: frozenset[str] = frozenset()
        while True:
            beat(self.bot)
            dead = dead_here(self.bot)
            if since_recovery >= self.recover_s or dead - known_dead:
                since_recovery = 0.0
                for job in recover(self.bot):
                    log.warning("answering %s, left unanswered by a stopped process", job.keys[0])
                    self.submit(job, Claim.RESUMED)
            known_dead = dead
            if self._stop.wait(self.beat_s):
                return
            since_recovery += self.beat_s
