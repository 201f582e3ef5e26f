"""`vpnbot watch`: poll the log sources, print each new incident once and record it in the state store as told,
as the bot records what it posts (docs/watch.md)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.config import Config, state_location
from bot.state import StateStore
from bot.workspace import Workspace
from diagnostics.model import iso_z
from diagnostics.watch.poll import poll
from handlers.watch import watch_json, watch_text


def watch_command(args: argparse.Namespace, config: Config | None, workspace: Workspace, zone: ZoneInfo,
                  now: datetime, since: datetime | None) -> int:
    """One poll (`--once`), or one every `--every` seconds until SIGINT/SIGTERM (the poll under way is finished,
    then a last line says so). Exit 0 whether or not anything dropped."""
    path = args.state_db or state_location(config)
    state = StateStore(path)
    owner = f"cli-{os.getpid()}-{secrets.token_hex(3)}"
    stop = Stopping() if not args.once else None
    polls = 0
    try:
        while True:
            result = poll(list(workspace.registry), workspace.sources, state, now, owner=owner, since=since, tz=zone)
            polls += 1
            for line in result.notes:
                print(line, file=sys.stderr)
            if args.format == "json":
                print(json.dumps(watch_json(result), indent=2, ensure_ascii=False))
            else:
                print(watch_text(result, zone), end="")
            sys.stdout.flush()
            for incident in result.incidents:  # printed: recorded as told, so no later run prints it again
                state.incident_posted(incident, now)
            for incident in result.recovered:
                state.recovery_posted(incident, now)
            if stop is None:
                return 0
            print(f"poll {polls} at {iso_z(now)}: {len(result.incidents)} new, {len(result.recovered)} back, "
                  f"{result.changes} state changes read; next in {max(1, args.every)} s", file=sys.stderr, flush=True)
            if stop.wait(max(1, args.every)):
                # state.path, not the location given: a PostgreSQL URL from $VPNBOT_STATE_URL may hold a password
                print(f"stopped ({stop.why}) after {polls} polls; the watermarks are kept in {state.path}: the next "
                      "run continues from them.", file=sys.stderr, flush=True)
                return 0
            now, since = datetime.now(UTC), None
    finally:
        if stop is not None:
            stop.restore()
        state.close()


class Stopping:
    """SIGINT (Ctrl-C) and SIGTERM end the loop between polls: a poll under way is finished and recorded, so a drop
    it claimed is not left to the lease."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.why = ""
        self._previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}

    def _stop(self, signum: int, _frame: object) -> None:
        if self._event.is_set() and signum == signal.SIGINT:  # Ctrl-C twice: not worth waiting for the poll
            raise KeyboardInterrupt
        self.why = signal.Signals(signum).name
        self._event.set()

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds`; True when told to stop (at once when it was told during the poll)."""
        return self._event.wait(seconds)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
