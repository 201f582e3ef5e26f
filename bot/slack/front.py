"""The acknowledging process of `vpnbot serve`: the Bolt app and its HTTP server (or Socket Mode connection),
handing every job to the answering process through a queue.

Why a process of its own: answering is CPU work in Python (parsing rows, the rule engine, rendering), and in one
process it holds the GIL that the acknowledgements need; under a burst of questions acks then took ~0.9 s at p99
instead of tens of milliseconds (benchmarks/bench_ack.py). In their own process the acks only share the CPU,
and the answering threads run at a lower priority. Jobs are small frozen dataclasses, pickled down a pipe.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any
from urllib.error import URLError

from slack_bolt.error import BoltError

from bot.logs import configure_logging, logger, redact, register_secrets
from bot.slack.alert_intake import AlertReceiver
from bot.slack.app import build_app, make_client
from bot.slack.httpd import EventsServer
from bot.slack.jobs import Job, QuestionJob

log = logger("vpnbot.slack")

#: The answering process updates its heartbeat every 0.2 s; older than this, /healthz says it is not answering.
HEARTBEAT_STALE_S = 5.0


@dataclass(frozen=True)
class FrontSettings:
    token: str
    signing_secret: str
    app_token: str
    api_url: str
    host: str
    port: int
    queue_limit: int
    alerts_token: str = ""  # POST /alerts/azure?token=… (bot/slack/alerts.py); "": the endpoint is off (404)


class QueueSubmitter:
    """What the listeners call in this process: count the job as pending and send it to the answering process.

    A pipe written in the listener's own thread, not a multiprocessing.Queue: the Queue's feeder thread costs a
    thread hand-off per job, which under a burst doubled the time an acknowledgement takes.
    """

    def __init__(self, jobs: Connection, pending: Any, limit: int) -> None:
        self.jobs = jobs
        self.pending = pending  # multiprocessing.Value("i"): decremented by the answering process
        self.limit = limit
        self._lock = threading.Lock()  # Socket Mode runs listeners on several threads

    def submit(self, job: Job) -> bool:
        with self.pending.get_lock():
            if self.pending.value >= self.limit and isinstance(job, QuestionJob) and job.source == "slash":
                return False  # the ack says "busy"; events go through and the answering side says it in the thread
            self.pending.value += 1
        with self._lock:
            self.jobs.send(job)
        return True


def run_front(settings: FrontSettings, jobs: Connection, pending: Any, heartbeat: Any, status: Connection,
              troubles: Any = None) -> None:
    """Entry point of the acknowledging process: serve until SIGTERM, then close the job pipe and return."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()
    register_secrets(settings.token, settings.app_token, settings.signing_secret, settings.alerts_token)
    configure_logging()
    client = make_client(settings.token, settings.api_url)
    submitter = QueueSubmitter(jobs, pending, settings.queue_limit)
    try:
        app = build_app(submitter, client, settings.signing_secret or None, socket_mode=bool(settings.app_token))
    except BoltError as exc:
        status.send(("error", f"Slack refused SLACK_BOT_TOKEN at {settings.api_url}: {redact(str(exc))}"))
        return
    except (OSError, URLError) as exc:  # auth.test never got an answer: the network, a proxy, a wrong api_url
        reason = getattr(exc, "reason", None) or exc
        status.send(("error", f"cannot reach the Slack Web API at {settings.api_url} ({redact(str(reason))}): check "
                              "the network, the proxy settings (HTTPS_PROXY) and [slack] api_url / SLACK_API_URL"))
        return

    def health() -> dict[str, Any]:
        answering = time.time() - heartbeat.value < HEARTBEAT_STALE_S
        # `troubles` (set by the answering process): [0] the state store is failing, [1] every worker is stuck.
        store_ok = not (troubles is not None and troubles[0])
        stuck = troubles is not None and bool(troubles[1])
        return {"ok": answering and store_ok and not stuck, "mode": "http", "answering": answering,
                "store": "ok" if store_ok else "failing", "workers": "stuck" if stuck else "ok",
                "pending": pending.value}

    # Everything loaded so far lives as long as the process: keep it out of the cyclic collector's full passes,
    # which otherwise land in the middle of a burst of acknowledgements.
    gc.freeze()
    closer: Any
    if settings.app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler  # its WebSocket client: Socket Mode only

        handler = SocketModeHandler(app, settings.app_token, web_client=client)
        try:
            handler.connect()
        except Exception as exc:
            status.send(("error", f"cannot connect to Slack in Socket Mode: {redact(str(exc))}"))
            return
        status.send(("ready", "connected to Slack (Socket Mode)"))
        closer = handler.close
    else:
        try:
            receiver = AlertReceiver(settings.alerts_token, submitter.submit) if settings.alerts_token else None
            server = EventsServer(app, health, settings.host, settings.port,
                                  signing_secret=settings.signing_secret, alerts=receiver).start()
        except OSError as exc:
            status.send(("error", f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"))
            return
        alerts = "; Azure Monitor alerts: POST /alerts/azure?token=…" if receiver else ""
        status.send(("ready", f"listening on {server.url} (HTTP mode; health: http://{server.host}:{server.port}"
                              f"/healthz{alerts})"))
        closer = server.stop
    while not stop.wait(0.2):
        if os.getppid() != parent:  # the answering process is gone (even SIGKILLed): nobody would answer
            log.error("the answering process exited: stopping")
            break
    with contextlib.suppress(Exception):
        closer()
    jobs.close()  # every acknowledged job was written; the answering process reads them, then sees the end
