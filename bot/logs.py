"""Logging for the Slack bot: no secrets, no forged lines, no request bodies by the megabyte.

* **Secrets.** `redact` masks with the evidence bundles' `Redactor` (diagnostics/evidence/redact.py): Slack tokens,
  AWS access key ids, `psk=…` / `password: …`, bearer tokens, JWTs, SAS signatures, and the exact values the process
  was started with (`register_secrets`: the signing secret has no recognisable shape). The filter rewrites each
  record's final message and its traceback, which covers the messages of Bolt, slack_sdk and the exceptions they
  carry.
* **One record, one line.** Line breaks and other control characters in a message are escaped (`\\n`, `\\x1b`), so a
  user value ("paris\\n… ERROR … error id `deadbeef`") cannot pose as a line of its own. Tracebacks are logged with
  `exc_info` and keep their lines.
* **Refused requests.** Bolt logs the whole body of every request whose signature it refuses; the front refuses
  them before Bolt sees them, and what reaches Bolt's logger anyway is cut to a short prefix (`preview`), at most
  one line per `Throttle` period with the count of those held back.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from diagnostics.evidence.redact import REDACTED, RedactionOptions, Redactor

__all__ = ["REDACTED", "RedactingFilter", "RefusalLog", "Throttle", "configure_logging", "escape_controls", "logger",
           "preview", "quiet_bolt", "redact", "register_secrets"]

#: How much of a refused request's body a log line shows.
PREVIEW_CHARS = 80
#: At most one line per this many seconds about refused requests; the others are counted.
REFUSED_LOG_EVERY_S = 10.0

_secrets: set[str] = set()
_lock = threading.Lock()
_redactor = Redactor(RedactionOptions())

#: C0 controls, DEL, C1 controls and Unicode's own line breaks, as escapes a reader can still decipher.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0))}
_CONTROLS.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"})


def register_secrets(*values: str | None) -> None:
    """Values to hide wherever they appear (short values are ignored: they would mask ordinary words)."""
    global _redactor
    with _lock:
        _secrets.update(v for v in values if v)
        _redactor = Redactor(RedactionOptions(secrets=tuple(sorted(_secrets))))


def redact(text: str) -> str:
    """`text` with every secret masked as evidence bundles mask them (line breaks are kept)."""
    return _redactor.text(text)


def escape_controls(text: str) -> str:
    r"""`text` on one line: line breaks and other control characters as `\n`, `\r`, `\x1b`…"""
    return text if text.isprintable() else text.translate(_CONTROLS)


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The start of an untrusted value for a log line: redacted (before it is cut, so no secret is shown in part),
    escaped, cut, and how long the whole was."""
    head = redact(text[:limit + 1024])[:limit]
    return f"'{escape_controls(head)}'" + (f"… ({len(text)} characters)" if len(text) > limit else "")


class Throttle:
    """Lets one event through per `every` seconds; `admit()` is the number held back since the last one admitted,
    or None when this one is held back too."""

    def __init__(self, every: float = REFUSED_LOG_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._next = float("-inf")
        self._held = 0
        self._lock = threading.Lock()

    def admit(self) -> int | None:
        with self._lock:
            now = self.clock()
            if now < self._next:
                self._held += 1
                return None
            held, self._held, self._next = self._held, 0, now + self.every
            return held


class RedactingFilter(logging.Filter):
    """Formats the record's message (and its exception) once, redacted and on one line, so no handler sees the
    original."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = escape_controls(redact(message)), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def logger(name: str) -> logging.Logger:
    """The logger `name` with redaction built in: its records are masked and put on one line before any handler
    sees them (a test's capture included), whatever handlers the host configured."""
    log = logging.getLogger(name)
    if _FILTER not in log.filters:
        log.addFilter(_FILTER)
    return log


class _BoltRefusals(logging.Filter):
    """On Bolt's request-verification logger: its "Invalid request signature detected (signature: …, timestamp: …,
    body: <the whole body>)" becomes one short line, throttled."""

    def __init__(self) -> None:
        super().__init__()
        self.throttle = Throttle()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        _, found, body = message.partition("body: ")
        held = self.throttle.admit()
        if held is None:
            return False
        record.msg = "refused a request with an invalid Slack signature: %s%s"
        record.args = (preview(body.removesuffix(")") if found else message), _held_back(held))
        return True


def _held_back(held: int) -> str:
    return f" ({held} more refused since the last such line)" if held else ""


class RefusalLog:
    """One line about a refused request, then none for `every` seconds: the next says how many were held back."""

    def __init__(self, logger: logging.Logger, every: float = REFUSED_LOG_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.throttle = Throttle(every, clock)

    def refused(self, reason: str, body: str) -> None:
        held = self.throttle.admit()
        if held is not None:
            self.logger.info("refused a request (%s): %s%s", reason, preview(body), _held_back(held))


#: The filter on Bolt's request-verification logger (its throttle is shared by every app of the process).
bolt_refusals = _BoltRefusals()


def quiet_bolt() -> None:
    """Cut Bolt's log line about a request it refused to a short, throttled one (idempotent)."""
    logger = logging.getLogger("slack_bolt.RequestVerification")
    if bolt_refusals not in logger.filters:
        logger.addFilter(bolt_refusals)


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
    quiet_bolt()
