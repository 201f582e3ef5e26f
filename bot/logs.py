"""Logging for the Slack bot without secrets: tokens and the signing secret never reach a log line.

Slack tokens have recognisable shapes (xoxb-…, xapp-…), the signing secret does not, so the values the process
was started with are registered and replaced too. The filter rewrites each record's final message, which covers
the messages of Bolt, slack_sdk and the exceptions they carry.
"""

from __future__ import annotations

import logging
import re
import sys
import threading

REDACTED = "[redacted]"
_TOKEN = re.compile(r"\bx(?:ox[abposre]|app)-[0-9A-Za-z-]+")
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secrets(*values: str | None) -> None:
    """Values to hide wherever they appear (short values are ignored: they would mask ordinary words)."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= 8)


def redact(text: str) -> str:
    text = _TOKEN.sub(REDACTED, text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Formats the record's message (and its exception) once, redacted, so no handler sees the original."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = redact(message), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """A stderr handler for the process (unless the host already logs somewhere), every handler redacting."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
