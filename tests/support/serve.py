"""`vpnbot serve` in a child process, as deployed (HTTP mode on 127.0.0.1, a local fake Slack): for the tests that
need the real processes, signals included."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

from support.fake_slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlackAPI

NOW = "2026-11-22T18:00:00Z"
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:(\d+)/slack/events)")


class Serve:
    """`python -m bot.cli serve …` in a child process; stderr is collected line by line."""

    def __init__(self, api: FakeSlackAPI, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VPNBOT_"))}
        environ.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                        "SLACK_API_URL": api.base_url, **(env or {})})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0", "--now", NOW, *args],
            cwd=cwd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)  # its own process group: `kill9` takes the acknowledging process too
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = ""
        self.port = 0

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_line(self, pattern: re.Pattern[str], timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError("vpnbot serve exited: " + "".join(self.stderr)) from None
                continue
            match = pattern.search(line)
            if match:
                return match
        raise AssertionError(f"vpnbot serve never said {pattern.pattern!r}: " + "".join(self.stderr))

    def wait_listening(self, timeout: float = 60) -> Serve:
        match = self.wait_line(LISTENING, timeout)
        self.url, self.port = match.group(1), int(match.group(2))
        return self

    def get(self, path: str) -> tuple[int, str]:
        connection = HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def wait_health(self, status: int, timeout: float = 60, **fields: object) -> tuple[int, str]:
        """Ask /healthz until it answers `status` with these `fields` (what a load balancer's probe sees then)."""
        ends = time.monotonic() + timeout
        while True:
            got = self.get("/healthz")
            doc = json.loads(got[1]) if got[1].startswith("{") else {}
            if got[0] == status and all(doc.get(k) == v for k, v in fields.items()):
                return got
            if time.monotonic() > ends:
                raise AssertionError(f"/healthz never answered {status} {fields}: last {got}")
            time.sleep(0.1)

    def terminate(self, timeout: float = 40) -> int:
        """SIGTERM, then its exit status once it has finished what it accepted."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def kill9(self) -> None:
        """SIGKILL to both processes at once, as a node going away would: nothing gets to clean up."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
