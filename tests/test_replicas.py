"""Two real `vpnbot serve` replicas (HTTP mode, Bolt checking every signature, the Web API client on the local fake
Slack) on one state store, behind a round-robin load balancer with no stickiness (tests/support/round_robin_proxy.py):
every question answered once although each Slack retry reaches the *other* replica, each channel's daily summary
posted once although both schedulers run, and a replica killed with SIGKILL mid-answer leaves nothing unanswered and
nothing missing from the audit trail: the other replica takes its claim over; a "Show queries" click and
`/vpn evidence N` reaching the replica that did not give the answer are served from the shared store."""

from __future__ import annotations

import hashlib
import json
import queue
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.fake_slack_api import BOT_USER, FakeSlackAPI, Reply, SlackSender, answered, buttons_of, final_answer
from support.round_robin_proxy import RoundRobinProxy
from support.serve import Serve
from support.waiting import wait_until

from bot.slack.app import make_client
from bot.slack.core import SlackBot
from bot.slack.deliveries import Keeper
from bot.slack.jobs import QuestionJob, job_json
from bot.slack.questions import RESTARTED
from bot.state import Claim, StateStore, open_store
from handlers.render.blocks import EVIDENCE_BUNDLE, SHOW_QUERIES

CHANNEL = "C0INCIDENT"
#: Cheap questions (no log read, or one tunnel's status from the demo), so 200 of them stay quick.
CHEAP = ("help", "tunnels", "status paris", "tunnels", "help")
SLOW = "why did paris drop yesterday at 15:02"  # reads the demo's logs, answers with buttons


@pytest.fixture
def api(slack_api) -> FakeSlackAPI:
    return slack_api({"U0ALICE": "Europe/Paris"})


def stored(state_url: str) -> StateStore:
    """The replicas' state store, opened by the test as a third process would."""
    return open_store(state_url)


@dataclass
class Replicas:
    processes: list[Serve]
    proxy: RoundRobinProxy

    def sender(self, backend: int | None = None) -> SlackSender:
        """Slack delivering through the load balancer: in turn, or to one replica."""
        return SlackSender(self.proxy.url if backend is None else self.proxy.pinned_url(backend))

    def idle(self) -> bool:
        """Every job each live replica accepted is done (repeats dropped included): nothing more will be posted."""
        return all(json.loads(p.get("/healthz")[1])["pending"] == 0 for p in self.processes if p.proc.poll() is None)


@pytest.fixture
def replicas(api: FakeSlackAPI, tmp_path: Path, state_url: str) -> Iterator[Callable[..., Replicas]]:
    """`replicas(config_lines)`: two `vpnbot serve --demo` processes sharing `state_url` (conftest's: a SQLite file,
    or a PostgreSQL database), and the proxy before them; all stopped when the test ends. The first finds the store
    in its configuration's state_db, the second in VPNBOT_STATE_URL (its state_db names a file nobody uses: the
    variable wins)."""
    processes: list[Serve] = []
    proxies: list[RoundRobinProxy] = []

    def start(config: str = "") -> Replicas:
        paths = [tmp_path / "replica0.toml", tmp_path / "replica1.toml"]
        for path, state_db in zip(paths, (state_url, str(tmp_path / "unused.db")), strict=True):
            path.write_text(f"state_db = {json.dumps(state_db)}\n{config}", encoding="utf-8")
        pair = [Serve(api, tmp_path, "--demo", "--config", str(paths[0])),
                Serve(api, tmp_path, "--demo", "--config", str(paths[1]), env={"VPNBOT_STATE_URL": state_url})]
        processes.extend(pair)
        for process in pair:
            process.wait_listening()
        proxies.append(RoundRobinProxy([p.url for p in pair]).start())
        return Replicas(pair, proxies[-1])

    yield start
    for proxy in proxies:
        proxy.stop()
    for process in processes:
        process.kill()


def test_every_question_is_answered_once_when_each_slack_retry_reaches_the_other_replica(api, replicas, state_url):
    pair = replicas()
    n = 200
    asked = [(f"Ev{uuid.uuid4().hex[:12]}", f"1763700000.{i:06d}", CHEAP[i % len(CHEAP)]) for i in range(n)]

    def deliver(i: int) -> list[Reply]:
        event_id, ts, text = asked[i]
        if i % 10 == 0:  # the retry races the first delivery: both in flight at once, one to each replica
            with ThreadPoolExecutor(2) as both:
                first = both.submit(pair.sender(i % 2).mention, text, ts=ts, event_id=event_id)
                retry = both.submit(pair.sender(1 - i % 2).mention, text, ts=ts, event_id=event_id, retry_num=1)
                return [first.result()[0], retry.result()[0]]
        first, _ = pair.sender().mention(text, ts=ts, event_id=event_id)  # the load balancer's turn
        other = 1 - pair.proxy.backend_of(event_id.encode())
        retry, _ = pair.sender(other).mention(text, ts=ts, event_id=event_id, retry_num=1)
        return [first, retry]

    with ThreadPoolExecutor(8) as slack:
        replies = [reply for both in slack.map(deliver, range(n)) for reply in both]
    assert [r.status for r in replies] == [200] * 2 * n
    assert pair.proxy.counts() == [n, n]  # each question's two deliveries went one to each replica

    answered(api, n=n, outcomes=("white_check_mark",), timeout=180)  # a cap for a loaded CI box, not a speed
    wait_until(pair.idle, "both replicas have handled every delivery, the dropped repeats included", timeout=60)
    posted = Counter(c["thread_ts"] for c in api.calls_to("chat.postMessage") if c["channel"] == CHANNEL)
    done = Counter(c["timestamp"] for c in api.calls_to("reactions.add") if c["name"] == "white_check_mark")
    threads = {ts for _, ts, _ in asked}
    assert posted == dict.fromkeys(threads, 1)  # one answer in each question's thread, none twice
    assert done == dict.fromkeys(threads, 1)

    store = stored(state_url)
    try:
        rows = store.questions()
    finally:
        store.close()
    assert Counter(r["outcome"] for r in rows) == {"answered": n}  # the audit trail of both replicas, one table
    assert sorted(r["text"] for r in rows) == sorted(f"<@{BOT_USER}> {text}" for _, _, text in asked)


#: The day each summary is of: the one before the pinned now (2026-11-22 18:00 UTC); the day before that is too late.
DAY = "2026-11-21"
SUBSCRIPTIONS = {  # channel: (local time, zone), all due before the pinned now, none too late
    "C0SUMMARY1": ("17:00", "UTC"),
    "C0SUMMARY2": ("18:30", "Europe/Paris"),
    "C0SUMMARY3": ("09:00", "America/New_York"),
    "C0SUMMARY4": ("09:00", "Europe/Paris"),
}


def test_each_channels_daily_summary_is_posted_once_with_a_scheduler_in_each_replica(api, replicas, state_url):
    config = "".join(f'[[subscriptions]]\nchannel = "{channel}"\ntime = "{at}"\ntimezone = "{zone}"\n'
                     f'tunnels = ["paris", "dc1"]\n' for channel, (at, zone) in SUBSCRIPTIONS.items())
    pair = replicas(config)

    def posted_runs() -> bool:
        store = stored(state_url)
        try:
            runs = {r["channel"]: r["status"] for r in store.summary_runs() if r["day"] == DAY}
            return runs == dict.fromkeys(SUBSCRIPTIONS, "posted")
        finally:
            store.close()

    wait_until(posted_runs, "every subscribed channel's summary is recorded as posted", timeout=120)
    # SIGTERM lets a summary being posted finish: once both have exited, nothing more can be posted.
    assert [p.terminate(timeout=60) for p in pair.processes] == [0, 0]
    summaries = Counter(c["channel"] for c in api.calls_to("chat.postMessage")
                        if c["channel"] in SUBSCRIPTIONS and not c.get("thread_ts"))
    assert summaries == dict.fromkeys(SUBSCRIPTIONS, 1)
    store = stored(state_url)
    try:
        attempts = [r["attempts"] for r in store.summary_runs() if r["day"] == DAY]
        assert attempts == [1] * len(SUBSCRIPTIONS)  # each run claimed once, by one of the two schedulers
    finally:
        store.close()


def showing_the_answer(args) -> bool:
    return "vpn_show_queries" in str(args.get("blocks", ""))


def test_a_replica_killed_mid_answer_leaves_its_question_to_the_other_which_answers_it_and_audits_both(
        api, replicas, state_url):
    pair = replicas()
    event_id = f"Ev{uuid.uuid4().hex[:12]}"
    with api.hold("chat.update", when=showing_the_answer) as shown:
        reply, asked = pair.sender().mention(SLOW, event_id=event_id)
        assert reply.status == 200
        shown.wait_reached()  # the answer is on its way to Slack when the replica's node goes away
        owner = pair.proxy.backend_of(event_id.encode())
        pair.processes[owner].kill9()
    looking_ts = next(c["ts"] for c in api.calls_to("chat.update") if showing_the_answer(c.args))
    survivor = pair.processes[1 - owner]

    answered(api, outcomes=("white_check_mark",), timeout=120)  # the survivor took the dead replica's claim over
    assert survivor.proc.poll() is None
    edits = api.calls_to("chat.update")
    assert [e.text for e in edits if e["ts"] == looking_ts][-1] == RESTARTED  # the interrupted answer says so
    assert showing_the_answer(edits[-1].args) and edits[-1]["ts"] != looking_ts
    assert {c["thread_ts"] for c in api.calls_to("chat.postMessage")} == {asked}  # all of it in the asker's thread

    store = stored(state_url)
    try:
        rows = store.questions()
    finally:
        store.close()
    assert sorted(r["outcome"] for r in rows) == ["answered", "restarted"]
    assert {r["text"] for r in rows} == {f"<@{BOT_USER}> {SLOW}"}


def test_a_button_click_and_slash_evidence_are_served_from_the_shared_store_by_the_replica_that_did_not_answer(
        api, replicas, state_url):
    pair = replicas()
    reply, asked = pair.sender(0).mention(SLOW)  # replica A answers
    assert reply.status == 200
    answered(api, outcomes=("white_check_mark",), timeout=120)
    final = final_answer(api)
    buttons = buttons_of(final)
    question_id = json.loads(buttons[EVIDENCE_BUNDLE]["value"])["id"]
    wait_until(pair.idle, "replica A has finished the answer (its chart included)", timeout=60)
    api.reset()

    # Replica B never saw the question: the queries and the bundle can only come from the shared store.
    clicked = pair.sender(1).click(buttons[SHOW_QUERIES], message_ts=final["ts"], thread_ts=asked)
    assert clicked.status == 200
    (shown,) = api.wait_for(lambda a: a.calls_to("chat.postMessage"), timeout=60)
    queries = json.dumps(shown.blocks)
    assert shown["thread_ts"] == asked and "AzureDiagnostics" in queries and 'Resource =~ \\"VPNGW01\\"' in queries
    wait_until(pair.idle, "replica B has finished the click", timeout=60)
    command = pair.sender(1).command(f"evidence {question_id}", response_url=api.response_url())
    assert command.status == 200
    api.wait_for(lambda a: a.calls_to("files.info"), timeout=60)
    wait_until(pair.idle, "replica B has finished the bundle", timeout=60)
    assert [r.backend for r in pair.proxy.forwarded] == [0, 1, 1]  # A got the question; B the click and the command

    (bundle,) = [f for f in api.files.values() if f.name.endswith(".zip")]
    assert bundle.name.startswith(f"vpnbot-evidence-{question_id}-paris-")
    (complete,) = [c for c in api.calls_to("files.completeUploadExternal") if bundle.id in c["files"]]
    assert complete["channel_id"] == CHANNEL and complete["thread_ts"] == asked  # into the answer's thread
    store = stored(state_url)
    try:
        rows = store.questions()
        bundles = store.bundles(question_id)
    finally:
        store.close()
    assert [(r["source"], r["intent"], r["outcome"]) for r in rows] == [
        ("mention", "why_drop", "answered"), ("button", SHOW_QUERIES, "answered"), ("slash", "evidence", "answered")]
    assert json.loads(rows[1]["text"])["id"] == question_id == rows[0]["id"]  # B's click, in the one audit trail
    digest = hashlib.sha256(bundle.content).hexdigest()
    assert [(b["file_name"], b["sha256"]) for b in bundles] == [(bundle.name, digest)]  # recorded by B, as uploaded


def test_a_replica_takes_over_the_claims_of_a_sibling_of_its_host_at_its_next_heartbeat_not_its_next_round(
        state_url, demo):
    store = open_store(state_url)
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        job = QuestionJob("mention", "T0000TEAM", CHANNEL, "U0ALICE", SLOW, message_ts="1763700000.000001",
                          thread_ts="1763700000.000001", keys=("event:EvSIBLING",))
        # The sibling replica (alive, beating) claimed a question; this replica starts beside it.
        assert store.claim(job.keys, f"{socket.gethostname()}-{sibling.pid}-5b1b1e", job_json(job)) is Claim.NEW
        bot = SlackBot(make_client("xoxb-never-used", "http://127.0.0.1:9/api/"), demo, store)
        taken: queue.Queue[tuple[object, Claim]] = queue.Queue()
        # Its periodic round is an hour away: only seeing the sibling gone can make it take the question now.
        keeper = Keeper(bot, lambda job, claim: taken.put((job, claim)), beat_s=0.05, recover_s=3600).start()
        try:
            assert taken.empty()  # a live sibling's claim is its own
            sibling.kill()  # SIGKILL: its heartbeat stays recent for 30 s more
            sibling.wait(10)
            assert taken.get(timeout=15) == (job, Claim.RESUMED)
        finally:
            keeper.stop()
    finally:
        sibling.kill()
        store.close()

