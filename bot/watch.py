"""`vpnbot watch`: poll the log sources, print each new incident once and record it in the state store as told,
as the bot records what it posts (docs/watch.md)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.config import Config, state_path
from bot.state import StateStore
from bot.workspace import Workspace
from diagnostics.watch.poll import poll
from handlers.watch import watch_json, watch_text


def watch_command(args: argparse.Namespace, config: Config | None, workspace: Workspace, zone: ZoneInfo,
                  now: datetime, since: datetime | None) -> int:
    """One poll (`--once`), or one every `--every` seconds until interrupted. Exit 0 whether or not anything
    dropped."""
    state = StateStore(args.state_db or state_path(config))
    owner = f"cli-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        while True:
            result = poll(list(workspace.registry), workspace.sources, state, now, owner=owner, since=since, tz=zone)
            for line in result.notes:
                print(line, file=sys.stderr)
            if args.format == "json":
                print(json.dumps(watch_json(result), indent=2, ensure_ascii=False))
            else:
                print(watch_text(result, zone), end="")
            sys.stdout.flush()
            for incident in result.incidents:  # printed: recorded as told, so no later run prints it again
                state.incident_posted(incident, now)
            if args.once:
                return 0
            time.sleep(max(1, args.every))
            now, since = datetime.now(UTC), None
    finally:
        state.close()
