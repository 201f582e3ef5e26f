"""Evidence bundles as this process makes them: `handlers.evidence` does the work; this adds what only the running
bot knows, the secrets it holds (the Slack tokens, a client secret in the environment: handed to the redactor as
exact values, so a row or a note that quotes one is masked), the vpnbot version the manifest names, and who made a
bundle from the command line; and the investigations the command line keeps in the state store, to bundle later.

    made = make_bundle(state, question_id, workspace, "bundle.zip", RedactionOptions(), created_by=cli_user())
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.config import Config, names_state_db, state_location
from bot.state import StateStore, is_postgres_url, redact
from bot.workspace import Workspace
from diagnostics.evidence import RedactionOptions
from handlers import evidence
from handlers.answer import Answer
from handlers.evidence import EvidenceError, MadeBundle, record_answer

#: Environment variables whose values are secret (the bot's tokens, cloud credentials): masked in every bundle.
SECRET_ENVIRONMENT = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "AZURE_CLIENT_SECRET",
                      "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                      "AZURE_FEDERATED_TOKEN")


def version() -> str:
    try:
        return metadata.version("vpnbot")
    except metadata.PackageNotFoundError:
        return "unknown"


def secrets_from_env(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    return tuple(environ[name] for name in SECRET_ENVIRONMENT if environ.get(name))


def cli_user() -> str:
    """Who made a bundle from the command line, for the `bundles` row."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # a container user with no passwd entry and no $USER
        return "cli"


def make_bundle(state: StateStore, question_id: int, workspace: Workspace, out: str | Path | None,
                options: RedactionOptions, created_by: str, *, channel: str | None = None,
                directory: str | Path = ".", progress: Callable[[str], None] | None = None,
                now: datetime | None = None) -> MadeBundle:
    """`handlers.evidence.make_bundle`, with this process's secrets masked and its version in the manifest."""
    options = RedactionOptions(redact_ips=options.redact_ips, hash_users=options.hash_users,
                               secrets=(*options.secrets, *secrets_from_env()))
    return evidence.make_bundle(state, question_id, workspace, out, options, created_by, channel=channel,
                                directory=directory, progress=progress, now=now, version=version())


def keep_answer(config: Config | None, answer: Answer, now: datetime) -> tuple[int, str] | None:
    """`vpnbot ask` keeps its answer as an investigation when the configuration names a `state_db` (a deployment's
    store, which the Slack bot writes too), so `vpnbot evidence --id N` can bundle it. Only an explicit `state_db`:
    a question asked with the demo or an ad-hoc configuration must not write a database into whatever directory it
    was asked from. Returns the investigation's id and the store's path; None when nothing was kept."""
    if config is None or not names_state_db(config):
        return None
    path = state_location(config)
    state = StateStore(path)
    try:
        question_id = record_answer(state, answer, user=cli_user(), source="cli", now=now)
    finally:
        state.close()
    return None if question_id is None else (question_id, redact(path))


def open_investigation(path: str, question_id: int) -> tuple[StateStore, dict[str, Any]]:
    """The state store at `path`, open, and the row of investigation `question_id` in it; EvidenceError (and the
    store closed) when either does not exist."""
    if not is_postgres_url(path) and not Path(path).is_file():
        raise EvidenceError(f"unknown investigation {question_id}: there is no state store at {path} (set state_db "
                            "in the configuration, or ask with --question)")
    state = StateStore(path)
    row = state.question(question_id)
    if row is None:
        state.close()
        raise EvidenceError(f"unknown investigation {question_id} in {redact(path)}")
    return state, row


def store_answer(path: str, answer: Answer, now: datetime) -> tuple[StateStore, int]:
    """The state store at `path`, open, with `answer` recorded in it as an investigation asked from the command line,
    and its id; EvidenceError (and the store closed) for an answer that read no logs."""
    state = StateStore(path)
    question_id = record_answer(state, answer, user=cli_user(), source="cli", now=now)
    if question_id is None:
        state.close()
        raise EvidenceError(f"'{answer.intent.value}' reads no logs, so there is nothing to bundle; try: "
                            '--question "why did paris drop at 14:02"')
    return state, question_id


__all__ = ["SECRET_ENVIRONMENT", "cli_user", "keep_answer", "make_bundle", "open_investigation", "secrets_from_env",
           "store_answer", "version"]
