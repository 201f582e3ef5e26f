"""Log lines and files sent to the bot in Slack are explained in the thread, read with the same readers as the CLI:
signed requests through the real Bolt app, files read with files.info and downloaded from their url_private with
the bot token, from the local fake Web API. A limited channel is never told about another tunnel."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from support.fake_slack_api import BOT_TOKEN, BOT_USER, answered, running_bot
from support.fixture_logs import RULE_FIXTURES

from bot.config import ChannelSettings
from bot.slack import explain as slack_explain
from bot.slack.core import BotOptions
from bot.workspace import Workspace

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
ALICE = "U0ALICE"
FOREIGN = RULE_FIXTURES.parent / "real" / "foreign"
IKELOGS = (FOREIGN / "IKElogs.txt").read_text(encoding="utf-8")
CHECKED = ("white_check_mark",)


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


def thread_texts(api, channel: str, thread_ts: str) -> str:
    """Everything the bot said in the thread, blocks included (its messages as they stand after their edits)."""
    return "\n".join(message.text + json.dumps(message.blocks, ensure_ascii=False)
                     for message in api.messages.values()
                     if message.channel == channel and message.thread_ts == thread_ts)


def test_ike_lines_pasted_in_a_direct_message_are_explained_as_a_des_md5_proposal_mismatch(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        reply, ts = bot.sender.direct_message(f"what does this mean?\n```{IKELOGS}```")
        assert reply.status == 200
        answered(api, outcomes=CHECKED)
    said = thread_texts(api, "D0ALICE", ts)
    assert "ike_proposal_mismatch" in said
    assert "DES/MD5" in said and "phase 2" in said
    assert "Network Watcher" in said
    assert not api.calls_to("files.info")  # the lines were in the message: nothing downloaded


def everything_said(api) -> str:
    """Every message, edit and uploaded file of the bot, as text."""
    files = "\n".join(f.content.decode("utf-8", "replace") for f in api.files.values() if f.user == BOT_USER)
    return "\n".join(m.text + json.dumps(m.blocks, ensure_ascii=False) for m in api.messages.values()) + files


def said_to(api, demo, tmp_path, text: str, channel: str = "D0ALICE", until=None) -> str:
    """What the bot said in the thread of a message holding `text` (a DM, else a mention), once it answered (or once
    `until(api)`)."""
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        send = bot.sender.direct_message if channel == "D0ALICE" else bot.sender.mention
        _, ts = send(text, channel=channel)
        if until is None:
            answered(api, outcomes=CHECKED)
        else:
            api.wait_for(until)
    return thread_texts(api, channel, ts)


AWS_MESSAGES = (RULE_FIXTURES.parent / "real" / "aws" / "console-messages.jsonl").read_text(encoding="utf-8")


def test_export_rows_pasted_in_a_code_block_after_a_question_are_investigated_without_showing_where_they_were_read(
        api, demo, tmp_path):
    rows = (RULE_FIXTURES.parent / "real" / "azure" / "jpaztech-gateway-tunnel.csv").read_text(encoding="utf-8-sig")
    said = said_to(api, demo, tmp_path, f"what happened here?\n```{rows}```\nthanks")
    assert "maintenance_failover" in said and "paris" in said
    assert "the message names no gateway" in said  # no Resource column: read as paris's gateway, VPNGW01
    everything = everything_said(api)
    assert str(tmp_path) not in everything and "message.txt" not in everything and "vpnbot-explain" not in everything


def test_rows_copied_from_the_results_grid_without_their_header_are_investigated(api, demo, tmp_path):
    messages = (FOREIGN / "ike-exchange-dh-group.txt").read_text(encoding="utf-8").splitlines()
    rows = "".join(f"2026-11-21T14:02:0{i}.123Z\t{m}\n" for i, m in enumerate(messages))
    said = said_to(api, demo, tmp_path, f"what is this? ```{rows}```", channel="C0INCIDENT")
    assert "ike_proposal_mismatch" in said and "DH group 14" in said
    assert "without their header" in said


def test_aws_messages_pasted_with_their_stream_named_in_the_message_are_investigated(api, demo, tmp_path):
    said = said_to(api, demo, tmp_path, f"from vpn-0a1b2c3d4e5f60718-203.0.113.130, any idea?\n```{AWS_MESSAGES}```")
    assert "dpd_timeout" in said and "dc1" in said


def test_aws_messages_pasted_without_their_stream_are_refused_saying_how_to_name_it_in_slack(api, demo, tmp_path):
    said = said_to(api, demo, tmp_path, f"```{AWS_MESSAGES}```",
                   until=lambda a: any("no stream name" in m.text for m in a.messages.values()))
    assert "name the stream in the message" in said and "dpd_timeout" not in said


def test_an_upload_is_written_nowhere_but_under_the_state_directory(api, demo, tmp_path, monkeypatch):
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("VPNBOT_CACHE_DIR", str(cache))  # where `vpnbot ask --azure-export` would cache it
    uploads = [api.user_upload("query_data.csv", (RULE_FIXTURES / "maintenance_failover.csv").read_bytes(), "D0ALICE"),
               api.user_upload("events.json", (RULE_FIXTURES.parent / "aws" / "dpd_timeout.json").read_bytes(),
                               "D0ALICE")]
    with running_bot(api, demo, tmp_path / "state" / "state.db", NOW) as bot:
        for upload in uploads:
            bot.sender.file_message(upload)
        answered(api, n=2, outcomes=CHECKED)
    said = everything_said(api)
    assert "maintenance_failover" in said and "dpd_timeout" in said
    assert not cache.exists()
    assert {p.name for p in (tmp_path / "state").iterdir() if not p.name.startswith("state.db")} == {"vpnbot-explain"}
    assert not list((tmp_path / "state" / "vpnbot-explain").iterdir())  # each upload removed once explained


def test_a_portal_csv_uploaded_with_a_mention_in_a_thread_gets_the_investigation_ask_would_give(api, demo,
                                                                                               tmp_path):
    data = (RULE_FIXTURES / "maintenance_failover.csv").read_bytes()
    upload = api.user_upload("query_data.csv", data, "C0INCIDENT", thread_ts="1763700000.000001")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        assert bot.sender.file_message(upload, "what happened here?", channel="C0INCIDENT", mention=True).status == 200
        answered(api, outcomes=CHECKED)
    (download,) = api.calls_to("download")
    assert download.auth_ok and download["file"] == upload.id  # fetched from url_private with the bot token
    said = thread_texts(api, "C0INCIDENT", "1763700000.000001")
    assert "maintenance_failover" in said and "query_data.csv" in said
    assert "paris" in said  # the rows' gateway and remote IP are the demo's paris
    assert not list(tmp_path.glob("vpnbot-explain/*/*"))  # the upload was removed once explained


def test_a_long_paste_slack_turned_into_an_untitled_snippet_is_explained(api, demo, tmp_path):
    snippet = api.user_upload("Untitled", IKELOGS.encode(), "D0ALICE", filetype="text", mode="snippet")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.file_message(snippet)
        answered(api, outcomes=CHECKED)
    said = thread_texts(api, "D0ALICE", snippet.shares["D0ALICE"][0]["ts"])
    assert "Untitled: a Network Watcher VPN troubleshoot IKElogs.txt" in said and "DES/MD5" in said


LOCAL_TIME_CSV = (RULE_FIXTURES.parent / "real" / "azure" / "portal-local-time.csv").read_bytes()


def test_a_portal_csv_in_local_time_is_read_in_the_zone_the_message_names(api, demo, tmp_path):
    upload = api.user_upload("query_data.csv", LOCAL_TIME_CSV, "D0ALICE")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.file_message(upload, "the portal showed Europe/Paris time")
        answered(api, outcomes=CHECKED)
    said = thread_texts(api, "D0ALICE", upload.shares["D0ALICE"][0]["ts"])
    assert "maintenance_failover" in said
    assert "14:40:11 UTC" in said  # the row's 3:40:11 PM, in Paris
    assert "times read as Europe/Paris local time" in said


def test_a_portal_csv_in_local_time_without_a_zone_is_refused_saying_how_to_name_it_here(api, demo, tmp_path):
    upload = api.user_upload("query_data.csv", LOCAL_TIME_CSV, "D0ALICE")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.file_message(upload)
        api.wait_for(lambda a: any("Local Time" in m.text for m in a.messages.values()))
    said = thread_texts(api, "D0ALICE", upload.shares["D0ALICE"][0]["ts"])
    assert "name the zone in the message" in said and "maintenance_failover" not in said


def test_a_file_shared_without_mention_in_a_thread_the_bot_answered_in_is_explained(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        _, thread = bot.sender.mention("why did paris drop yesterday at 14:02", channel="C0INCIDENT")
        answered(api)
        upload = api.user_upload("IKEErrors.txt", (FOREIGN / "IKEErrors.txt").read_bytes(), "C0INCIDENT",
                                 thread_ts=thread)
        assert bot.sender.file_shared(upload, "C0INCIDENT").status == 200
        answered(api, n=2)
    said = thread_texts(api, "C0INCIDENT", thread)
    assert "psk_mismatch" in said and "IKEErrors.txt" in said


@pytest.mark.parametrize("file_shared_first", [True, False])
def test_a_file_sent_in_a_dm_arrives_twice_and_is_explained_once(api, demo, tmp_path, file_shared_first):
    upload = api.user_upload("ike.txt", (FOREIGN / "ike-exchange-dh-group.txt").read_bytes(), "D0ALICE")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        deliveries = [lambda: bot.sender.file_shared(upload, "D0ALICE"), lambda: bot.sender.file_message(upload)]
        for deliver in deliveries if file_shared_first else deliveries[::-1]:
            assert deliver().status == 200
        answered(api, outcomes=CHECKED)
        bot.pool.close(timeout=30)  # both deliveries handled
    assert len(api.calls_to("download")) == 1
    assert len([c for c in api.calls_to("reactions.add") if c["name"] == "white_check_mark"]) == 1
    assert "DH group 14" in thread_texts(api, "D0ALICE", upload.shares["D0ALICE"][0]["ts"])


def test_a_utf16_export_from_excel_uploaded_in_a_dm_is_read(api, demo, tmp_path):
    text = (RULE_FIXTURES / "psk_mismatch.csv").read_text(encoding="utf-8")
    upload = api.user_upload("excel.txt", text.replace(",", "\t").encode("utf-16"), "D0ALICE")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.file_message(upload)
        answered(api, outcomes=CHECKED)
    assert "psk_mismatch" in thread_texts(api, "D0ALICE", upload.shares["D0ALICE"][0]["ts"])


def test_a_file_shared_in_a_thread_the_bot_is_not_part_of_is_left_alone(api, demo, tmp_path):
    upload = api.user_upload("IKElogs.txt", IKELOGS.encode(), "C0INCIDENT", thread_ts="1763700000.000099")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        assert bot.sender.file_shared(upload, "C0INCIDENT").status == 200
        api.wait_for(lambda a: a.calls_to("files.info"))
        bot.pool.close(timeout=30)  # every job done: nothing more will come
    assert api.method_names(ignore=("auth.test", "files.info")) == []


def test_a_file_over_the_upload_cap_is_refused_naming_the_cap_and_never_downloaded(api, demo, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr(slack_explain, "MAX_UPLOAD_BYTES", 1024)
    upload = api.user_upload("big.csv", b"TimeGenerated,Message\n" + b"x" * 4096, "D0ALICE")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.file_message(upload)
        api.wait_for(lambda a: any("up to" in c.text for c in a.calls_to("chat.postMessage")))
    refusal = next(c.text for c in api.calls_to("chat.postMessage") if "up to" in c.text)
    assert "big.csv is 4.0 KB" in refusal and "up to 1 KB" in refusal
    assert not api.calls_to("download")


def zipped(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name.replace("_", "."), content)
    return buffer.getvalue()


def test_network_watchers_troubleshoot_zip_is_explained_from_the_ikelogs_inside(api, demo, tmp_path):
    data = zipped(IKElogs_txt=IKELOGS.encode(), ConnectionStats_txt=(FOREIGN / "ConnectionStats.txt").read_bytes())
    upload = api.user_upload("troubleshoot.zip", data, "D0ALICE")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.file_message(upload)
        answered(api, outcomes=CHECKED)
    said = thread_texts(api, "D0ALICE", upload.shares["D0ALICE"][0]["ts"])
    assert "troubleshoot.zip/IKElogs.txt" in said and "ike_proposal_mismatch" in said and "DES/MD5" in said
    assert not list(tmp_path.glob("vpnbot-explain/*/*"))


def test_a_zip_without_network_watchers_logs_is_refused_saying_what_it_holds(api, demo, tmp_path):
    upload = api.user_upload("photos.zip", zipped(portal_png=b"\x89PNG\r\n\x1a\n"), "D0ALICE")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.file_message(upload)
        api.wait_for(lambda a: any("portal.png" in m.text for m in a.messages.values()))
    said = thread_texts(api, "D0ALICE", upload.shares["D0ALICE"][0]["ts"])
    assert "photos.zip: a zip archive without Network Watcher's IKElogs.txt" in said and "unzip it" in said


def test_a_file_with_rows_of_a_tunnel_the_channel_may_not_see_is_refused_without_naming_it(api, demo, tmp_path):
    data = (RULE_FIXTURES / "psk_mismatch.csv").read_bytes()  # paris only: VPNGW01 ↔ 203.0.113.10
    upload = api.user_upload("rows.csv", data, "C0BERLIN", thread_ts="1763700000.000007")
    options = BotOptions(channels=(ChannelSettings("C0BERLIN", ("berlin",)),), admins="<@U0NETOPS>")
    with running_bot(api, demo, tmp_path / "state.db", NOW, options=options) as bot:
        bot.sender.file_message(upload, "explain", channel="C0BERLIN", mention=True)
        api.wait_for(lambda a: any("berlin" in m.text for m in a.messages.values()))
    said = thread_texts(api, "C0BERLIN", "1763700000.000007")
    assert "limited to berlin" in said
    for hidden in ("paris", "203.0.113.10", "lyon", "nice"):
        assert hidden not in said


def test_a_file_with_rows_of_several_tunnels_is_explained_for_the_one_the_channel_may_see(api, demo, tmp_path):
    data = (RULE_FIXTURES / "maintenance_failover.csv").read_bytes()  # paris (VPNGW01) and berlin (VPNGW02) rows
    upload = api.user_upload("rows.csv", data, "C0BERLIN", thread_ts="1763700000.000008")
    options = BotOptions(channels=(ChannelSettings("C0BERLIN", ("berlin",)),))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options=options) as bot:
        bot.sender.file_message(upload, "explain", channel="C0BERLIN", mention=True)
        answered(api, outcomes=CHECKED)
    said = thread_texts(api, "C0BERLIN", "1763700000.000008")
    assert "berlin" in said
    for hidden in ("paris", "203.0.113.10", "maintenance_failover"):
        assert hidden not in said


def test_a_question_in_a_message_is_still_a_question(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.direct_message("why did paris drop yesterday at 14:02 UTC")
        answered(api, outcomes=CHECKED)
    # No file read as logs: the only file is the answer's own chart (docs/asking.md#the-chart-of-an-incident)
    assert [api.files[c["file"]].name for c in api.calls_to("files.info")] == ["vpnbot-paris-20261121T1332Z.png"]
    assert any("maintenance_failover" in str(c.blocks) for c in api.calls_to("chat.update"))


def test_a_question_with_a_screenshot_attached_is_answered_as_a_question(api, demo, tmp_path):
    shot = api.user_upload("portal.png", b"\x89PNG\r\n\x1a\n", "C0INCIDENT")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.file_message(shot, "why did paris drop yesterday at 14:02 UTC", channel="C0INCIDENT", mention=True)
        answered(api, outcomes=CHECKED)
    assert not api.calls_to("download")
    assert any("maintenance_failover" in str(c.blocks) for c in api.calls_to("chat.update"))


def test_a_screenshot_shared_in_the_bots_thread_is_not_commented_on(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        _, thread = bot.sender.mention("why did paris drop yesterday at 14:02", channel="C0INCIDENT")
        answered(api)
        api.reset()
        shot = api.user_upload("portal.png", b"\x89PNG\r\n\x1a\n", "C0INCIDENT", thread_ts=thread)
        bot.sender.file_shared(shot, "C0INCIDENT")
        api.wait_for(lambda a: a.calls_to("files.info"))
        bot.pool.close(timeout=30)
    assert api.method_names(ignore=("auth.test", "files.info")) == []


def test_the_download_sends_the_bot_token_only_to_slack():
    assert slack_explain.allowed_host("https://files.slack.com/files-pri/T1-F1/a.csv", "https://slack.com/api/")
    assert slack_explain.allowed_host("https://files.slack-gov.com/files-pri/T1-F1/a.csv", "https://slack-gov.com/api/")
    assert not slack_explain.allowed_host("https://evil.example/files-pri/T1-F1/a.csv", "https://slack.com/api/")
    assert not slack_explain.allowed_host("http://files.slack.com/a.csv", "https://slack.com/api/")  # never in clear
    assert not slack_explain.allowed_host("https://slack.com.evil.example/a.csv", "https://slack.com/api/")
    assert BOT_TOKEN.startswith("xoxb-")
