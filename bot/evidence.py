"""Evidence bundles as this process makes them: `handlers.evidence` does the work; this adds what only the running
bot knows, the secrets it holds (the Slack tokens, a client secret in the environment: handed to the redactor as
exact values, so a row or a note that quotes one is masked), the vpnbot version the manifest names, and who made a
bundle from the command line.

    made = make_bundle(state, question_id, workspace, "bundle.zip", RedactionOptions(), created_by=cli_user())
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import metadata
from pathlib import Path

from bot.state import StateStore
from bot.workspace import Workspace
from diagnostics.evidence import RedactionOptions
from handlers import evidence
from handlers.evidence import MadeBundle

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


__all__ = ["SECRET_ENVIRONMENT", "cli_user", "make_bundle", "secrets_from_env", "version"]
