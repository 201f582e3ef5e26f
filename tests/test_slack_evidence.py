"""Evidence bundles from Slack, through the real Bolt app with signed requests and the fake Web API: the
"Evidence bundle" button, `/vpn evidence 42` and "evidence paris at 14:02" put the zip in the answer's thread with
files_upload_v2 (confirmed by files.info) and a message with its SHA-256 and the support-case text; ids from
another channel and tunnels a channel may not see are refused; every bundle is recorded."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime

import pytest
from support.fake_slack_api import FakeSlackAPI, answered, buttons_of, final_answer, running_bot

from bot.config import ChannelSettings
from bot.slack.core import BotOptions
from bot.slack.evidence import options_in, stored_id, wants_stored
from bot.workspace import Workspace
from diagnostics.evidence import verify
from handlers.render.blocks import EVIDENCE_BUNDLE

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
ALICE = "U0ALICE"
CHANNEL = "C0INCIDENT"


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "UTC"})


def uploaded_zip(api: FakeSlackAPI) -> tuple[str, bytes]:
    (stored,) = [f for f in api.files.values() if f.name.endswith(".zip")]
    return stored.name, stored.content


def bundle_completes(api: FakeSlackAPI) -> list:
    """The completed uploads of bundles (a drop answer's chart is uploaded into its thread too)."""
    return [c for c in api.calls_to("files.completeUploadExternal")
            if any(api.files[f["id"]].name.endswith(".zip") for f in json.loads(c["files"]))]


def test_the_button_puts_a_verified_bundle_and_the_case_text_in_the_answers_thread(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        _, ts = bot.sender.mention("why did paris drop yesterday at 14:02")
        answered(api)
        final = final_answer(api)
        assert bot.pool.drain(30)  # the answer's job is over: nothing of it comes after the reset
        api.reset()
        reply = bot.sender.click(buttons_of(final)[EVIDENCE_BUNDLE], message_ts=final["ts"], thread_ts=ts)
        assert reply.status == 200
        api.wait_for(lambda a: a.calls_to("files.info"))
        assert bot.pool.drain(30)
        question_id = json.loads(buttons_of(final)[EVIDENCE_BUNDLE]["value"])["id"]
        bundles = bot.state.bundles(question_id)
        audit = bot.state.questions()[-1]
    # The sequence: "Making…" in the thread, edited into the summary, then the zip with files_upload_v2 (URL,
    # upload, complete into the thread) and files.info until Slack shows it shared there.
    assert api.method_names() == ["chat.postMessage", "chat.update", "files.getUploadURLExternal", "upload",
                                  "files.completeUploadExternal", "files.info"]
    making, summary = api.calls_to("chat.postMessage", "chat.update")
    assert making["thread_ts"] == ts and making.text.startswith(f"Making the evidence bundle of investigation "
                                                                f"{question_id} (paris)")
    assert summary["ts"] == api.messages[(CHANNEL, summary["ts"])].ts and summary["channel"] == CHANNEL
    (complete,) = api.calls_to("files.completeUploadExternal")
    assert complete["channel_id"] == CHANNEL and complete["thread_ts"] == ts
    name, data = uploaded_zip(api)
    assert name == f"vpnbot-evidence-{question_id}-paris-20261121T1347Z.zip"
    digest = hashlib.sha256(data).hexdigest()
    # What support receives can be checked against the thread and the state store.
    text = json.dumps(summary.blocks)
    assert digest in summary.text and digest in text
    (row,) = bundles
    assert row["sha256"] == digest and row["size"] == len(data) and row["created_by"] == ALICE
    assert row["file_name"] == name
    bundle = tmp_path / "received.zip"
    bundle.write_bytes(data)
    assert verify(bundle) == []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        case = zf.read("case.txt").decode()
        report = zf.read("report.md").decode()
    assert "Support-case text" in text and "Please confirm the platform maintenance on VPNGW01" in text
    assert case.startswith("Subject: Site-to-site VPN paris (VPNGW01")
    assert f"investigation {question_id}" in report and "Asked by U0ALICE in C0INCIDENT (mention)" in report
    assert audit["source"] == "button" and audit["intent"] == EVIDENCE_BUNDLE and audit["outcome"] == "answered"
    assert audit["detail"] == f"bundle {row['id']}: {name} sha256 {digest}"


def test_slash_evidence_with_an_id_bundles_into_that_answers_thread_with_ips_redacted(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        _, ts = bot.sender.mention("why did lyon drop 2 days ago at 09:15")
        answered(api)
        question_id = json.loads(buttons_of(final_answer(api))[EVIDENCE_BUNDLE]["value"])["id"]
        assert bot.pool.drain(30)
        api.reset()
        bot.sender.command(f"evidence {question_id} redact ips", response_url=api.response_url())
        api.wait_for(lambda a: a.calls_to("files.info"))
        assert bot.pool.drain(30)
        (row,) = bot.state.bundles(question_id)
    (complete,) = bundle_completes(api)
    assert complete["thread_ts"] == ts  # a slash command has no thread: the answer's own
    _, data = uploaded_zip(api)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        everything = b"".join(zf.read(n) for n in zf.namelist() if not n.endswith(".png")).decode()
    assert "203.0.113.20" not in everything and "IP-1" in everything
    assert row["redact_ips"] == 1


def test_evidence_without_an_id_bundles_the_threads_last_investigation(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("evidence", channel="C0EMPTY")
        api.wait_for(lambda a: a.calls_to("chat.postMessage"))
        _, ts = bot.sender.mention("why did lyon drop 2 days ago at 09:15")
        answered(api)
        bot.sender.mention("why did paris drop yesterday at 14:02")  # a later answer, in another thread
        answered(api, 2)
        lyon = next(q["id"] for q in bot.state.questions() if "lyon" in q["text"])
        bot.sender.mention("evidence hash users", thread_ts=ts)
        api.wait_for(lambda a: a.calls_to("files.info"))
        assert bot.pool.drain(30)
        (row,) = bot.state.bundles(lyon)
    assert api.calls_to("chat.postMessage")[0].text.startswith("There is no answer to bundle here yet")
    (complete,) = bundle_completes(api)
    assert complete["thread_ts"] == ts and row["hash_users"] == 1
    assert uploaded_zip(api)[0].startswith(f"vpnbot-evidence-{lyon}-lyon-")


def test_an_id_from_another_channel_is_refused_politely_and_nothing_is_uploaded(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("why did paris drop yesterday at 14:02", channel="C0OTHER")
        answered(api)
        assert bot.pool.drain(30)
        question_id = bot.state.questions()[-1]["id"]
        api.reset()
        bot.sender.mention(f"evidence {question_id}")
        api.wait_for(lambda a: a.calls_to("chat.postMessage"))
        assert bot.pool.drain(30)
        audit = bot.state.questions()[-1]
        bundles = bot.state.bundles(question_id)
    (said,) = api.calls_to("chat.postMessage")
    assert said["channel"] == CHANNEL
    assert said.text.startswith(f"Sorry, I can only bundle investigations asked in this channel, and {question_id} "
                                "is not one of them")
    assert not api.calls_to("files.getUploadURLExternal") and bundles == []
    assert audit["outcome"] == "bad_input" and audit["intent"] == "evidence"


def test_a_channel_limited_to_other_tunnels_gets_no_bundle_of_this_one(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings(CHANNEL, ("lyon",)),))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        # Stored before the channel was limited (or by hand): the bundle still checks the channel's tunnels.
        question_id = bot.state.start_question(
            channel=CHANNEL, user=ALICE, text="why did paris drop", intent="why_drop", tunnel="paris",
            outcome="answered", answer_json={"schema": 1}, queries_json=[{"backend": "local", "origin": "demo"}])
        bot.sender.mention(f"evidence {question_id}")
        api.wait_for(lambda a: a.calls_to("chat.postMessage"))
        assert bot.pool.drain(30)
    assert "can't be asked in this channel" in api.calls_to("chat.postMessage")[-1].text
    assert not api.calls_to("files.getUploadURLExternal")


def test_evidence_about_a_tunnel_and_a_time_answers_then_bundles_in_the_same_thread(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        _, ts = bot.sender.mention("evidence madrid yesterday at 10:00")
        api.wait_for(lambda a: a.calls_to("files.info"))
        answered(api, 1)
        assert bot.pool.drain(30)
        (question,) = bot.state.questions()
        (row,) = bot.state.bundles(question["id"])
    assert question["intent"] == "evidence" and question["cause"] == "psk_mismatch"
    answer = final_answer(api)
    assert api.messages[(CHANNEL, answer["ts"])].thread_ts == ts
    name, data = uploaded_zip(api)
    (complete,) = [c for c in api.calls_to("files.completeUploadExternal") if name in json.dumps(c.args)
                   or any(api.files[f["id"]].name == name for f in json.loads(c["files"]))]
    assert complete["thread_ts"] == ts
    assert row["sha256"] == hashlib.sha256(data).hexdigest() and name == row["file_name"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert json.loads(zf.read("answer.json"))["findings"][0]["rule"] == "psk_mismatch"
    # The answer came first, the bundle after it.
    assert api.calls.index(answer) < api.calls.index(complete)


def test_a_file_slack_is_slow_to_show_is_linked_in_the_thread(api, demo, tmp_path, monkeypatch):
    from bot.slack import conversation

    monkeypatch.setattr(conversation, "SHARE_CHECKS", (0.0, 0.01))
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        _, ts = bot.sender.mention("why did paris drop yesterday at 14:02")
        answered(api)
        final = final_answer(api)
        api.unshared_checks = 100
        bot.sender.click(buttons_of(final)[EVIDENCE_BUNDLE], message_ts=final["ts"], thread_ts=ts)
        api.wait_for(lambda a: len(a.calls_to("chat.postMessage")) == 3)
        assert bot.pool.drain(30)
    link = api.calls_to("chat.postMessage")[-1]
    assert link["thread_ts"] == ts
    assert re.match(r"The evidence bundle is <https://fake\.slack\.com/files/.+\.zip\|vpnbot-evidence-", link.text)


@pytest.mark.parametrize(("text", "expected"), [
    ("evidence", None), ("evidence redact ips", None),
    ("evidence 42", 42), ("bundle #7 redact ips", 7), ("evidence for investigation 12", 12),
    ("<@U0000BOT> evidence 42", 42), ("/vpn evidence 42", 42),
    ("evidence 203.0.113.10 at 14:02", None), ("evidence paris at 14:02", None), ("why did 42 drop", None),
])
def test_stored_ids_are_told_apart_from_tunnel_references(text, expected):
    assert stored_id(text) == expected
    assert wants_stored(text) == (expected is not None or (text.startswith("evidence") and "at" not in text))


def test_redaction_words_in_a_request():
    assert options_in("evidence 42 redact ips hash users").redact_ips
    assert options_in("evidence 42 --redact-ips --hash-users").hash_users
    assert not options_in("evidence 42").redact_ips and not options_in("evidence paris at 14:02").hash_users
