"""The acknowledging half of `POST /alerts/azure?token=…` (bot/slack/alerts.py is the answering half): the token,
the body, then an `AlertJob` handed on and 202. It runs on the HTTP server's loop, so it does no I/O, and it imports
only the alert reader: the acknowledging process stays free of the investigation code.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from bot.logs import RefusalLog, logger, redact
from bot.slack.jobs import AlertJob, Job
from diagnostics.azure.alerts import AlertError, read_alert

log = logger("vpnbot.alerts")

ACCEPTED = b'{"accepted": true}'
JSON = {"content-type": ["application/json"]}


class AlertReceiver:
    """The /alerts/azure route of the HTTP server (`EventsServer(alerts=…)`): checks, then `submit(AlertJob)`."""

    def __init__(self, token: str, submit: Callable[[Job], bool], clock: Callable[[], float] = time.monotonic):
        if not token:
            raise ValueError("the alerts endpoint needs a token")
        self._token = token.encode()
        self.submit = submit
        self.refusals = RefusalLog(log, clock=clock)

    def __call__(self, query: str, headers: Mapping[str, str],
                 body: bytes | bytearray | memoryview) -> tuple[int, Mapping[str, Any], bytes]:
        given = parse_qs(query, keep_blank_values=True).get("token", [])
        # compare_digest on bytes: constant time whatever the token's characters; one token, not several.
        if len(given) != 1 or not hmac.compare_digest(given[0].encode(), self._token):
            self.refusals.refused("no token" if not given else "a wrong token", "")
            return 401, {}, b"unauthorized: the URL needs ?token= with the alerts token"
        try:
            text = str(body, "utf-8")
            alert = read_alert(text)
        except UnicodeDecodeError:
            log.warning("refused an alert: the body is not UTF-8")
            return 400, {}, b"the body is not UTF-8 JSON: send the common alert schema\n"
        except AlertError as exc:
            log.warning("refused an alert: %s", exc)
            return 400, {}, f"{exc}\n".encode()
        job = AlertJob(body=text, keys=(f"azure-alert:{alert.alert_id}:{alert.condition}",))
        if not self.submit(job):
            return 503, {}, b"busy"
        log.info("accepted Azure Monitor alert %s (%s, %s)", alert.alert_id, redact(alert.rule), alert.condition)
        return 202, JSON, ACCEPTED
