"""Answers in Block Kit stay within Slack's limits (every block validated with slack_sdk's block models); what does
not fit goes to a file in the thread (files_upload_v2, confirmed with files.info); the buttons work: "Show queries",
"Wider window", "Open in Log Analytics" (a portal link to the exact query and range), "Evidence bundle" hidden."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from support.fake_slack_api import answer_and_click, answered, buttons_of, final_answer, running_bot

from bot.slack import conversation
from bot.slack.buttons import wider_window
from bot.slack.core import BotOptions
from bot.workspace import Workspace
from diagnostics.azure import demo as demo_logs
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.sources import Sources
from handlers.ask import ask
from handlers.render.blockkit import MAX_BLOCKS, MAX_SECTION, MAX_TOTAL, limit_problems
from handlers.render.blocks import (
    EVIDENCE_BUNDLE,
    FILE_NOTE,
    OPEN_LOG_ANALYTICS,
    SHOW_QUERIES,
    WIDER_WINDOW,
    Buttons,
    LogAnalyticsLink,
    log_analytics_url,
    render_answer,
)

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
PARIS_TZ = ZoneInfo("Europe/Paris")
ALICE = "U0ALICE"
RESOURCE_ID = ("/subscriptions/5d2f7a91-3c48-4e0b-b6a2-9f1e8c7d4a30/resourceGroups/rg-monitoring/providers/"
               "Microsoft.OperationalInsights/workspaces/law-network")


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture(scope="module")
def flapping() -> LocalWorkspace:
    """paris dropping every 75 s for 100 minutes, each drop with a very long reason: an answer far over a message."""
    rows = []
    start = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    base = {"Category": "TunnelDiagnosticLog", "Resource": "VPNGW01", "ResourceGroup": "RG-NETWORK-WEU",
            "remoteIP_s": "203.0.113.10", "instance_s": "GatewayTenantWorker_IN_0", "Message": ""}
    for i in range(80):
        t = start + timedelta(seconds=75 * i)
        rows.append({**base, "TimeGenerated": t, "OperationName": "TunnelDisconnected", "status_s": "Disconnected",
                     "Level": "Warning", "stateChangeReason_s": "RemotelyTriggered <!channel> " + "x" * 500})
        rows.append({**base, "TimeGenerated": t + timedelta(seconds=20), "OperationName": "TunnelConnected",
                     "status_s": "Connected", "Level": "Informational", "stateChangeReason_s": ""})
    workspace = LocalWorkspace(label="flapping workspace", origin="fixture")
    workspace.load_rows(rows)
    return workspace


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


def assert_postable(message: dict) -> None:
    """What Slack accepts: slack_sdk's own validation of every block, and the message-level limits."""
    assert message["text"]
    assert 0 < len(message["blocks"]) <= MAX_BLOCKS
    assert len(json.dumps(message["blocks"])) <= MAX_TOTAL
    for block in message["blocks"]:
        Block.parse(block).validate_json()
        for text in [block.get("text", {}).get("text", "")] + [e.get("text", "") for e in block.get("elements", [])
                                                                if isinstance(e.get("text"), str)]:
            assert len(text) <= MAX_SECTION
    assert limit_problems(message) == []


# --------------------------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("question", [
    "why did paris drop yesterday at 15:02", "why did paris drop at 14:02", "status lyon", "drops hamburg today",
    "why did nice drop yesterday", "did berlin drop in the last hour", "drops munich since monday", "tunnels", "help",
])
def test_every_demo_answer_is_valid_block_kit_within_the_limits(demo, question):
    answer = ask(question, demo.registry, demo.sources, NOW, PARIS_TZ)
    assert_postable(render_answer(answer, Buttons(7), files=True).payload())


def test_an_answer_over_the_limits_is_cut_explicitly_and_says_the_file_follows(demo, flapping):
    answer = ask("drops paris between 10:00 and 12:00 UTC", demo.registry, Sources(kql=[flapping]), NOW, PARIS_TZ)
    rendered = render_answer(answer, Buttons(7), files=True)
    assert rendered.overflow
    assert_postable(rendered.payload())
    text = json.dumps(rendered.blocks, ensure_ascii=False)
    assert FILE_NOTE in text and "… and 70 more" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text  # a log line cannot ping the channel


def test_blocks_are_dropped_from_the_end_when_the_total_is_too_long(demo):
    answer = ask("why did paris drop yesterday at 15:02", demo.registry, demo.sources, NOW, PARIS_TZ)
    inv = answer.investigation
    long = dataclasses.replace(inv.findings[0], explanation="y" * 2900, advice="z" * 2900)
    answer.investigation = dataclasses.replace(inv, findings=[long, *inv.findings[1:]])
    answer.notes = [f"note {i}: " + "n" * 2900 for i in range(6)]
    rendered = render_answer(answer, files=True)
    assert rendered.overflow
    assert_postable(rendered.payload())
    assert [b["type"] for b in rendered.blocks[:2]] == ["context", "header"]
    assert rendered.blocks[-1]["type"] == "actions"
    assert rendered.blocks[0]["elements"][0]["text"].startswith("Why paris dropped · ")  # the question, understood
    assert "*Cause:*" in json.dumps(rendered.blocks)  # the cause is the last thing to go


def test_the_cli_blocks_have_the_same_buttons_without_a_file_note(demo, flapping):
    answer = ask("drops paris between 10:00 and 12:00 UTC", demo.registry, Sources(kql=[flapping]), NOW, PARIS_TZ)
    rendered = render_answer(answer)
    assert FILE_NOTE not in json.dumps(rendered.blocks)
    assert {e["action_id"] for e in rendered.blocks[-1]["elements"]} == {SHOW_QUERIES, WIDER_WINDOW}


def test_the_log_analytics_link_opens_the_exact_query_and_range_and_needs_the_workspace_resource_id(demo):
    answer = ask("why did paris drop yesterday at 15:02", demo.registry, demo.sources, NOW, PARIS_TZ)
    inv = answer.investigation
    assert OPEN_LOG_ANALYTICS not in json.dumps(render_answer(answer, Buttons(1, LogAnalyticsLink(RESOURCE_ID))).blocks)
    # The same answer, as if read from Log Analytics:
    answer.investigation = dataclasses.replace(inv, queries=[dataclasses.replace(q, backend="log-analytics")
                                                             for q in inv.queries])
    assert OPEN_LOG_ANALYTICS not in json.dumps(render_answer(answer, Buttons(1)).blocks)  # no resource id: hidden
    rendered = render_answer(answer, Buttons(1, LogAnalyticsLink(RESOURCE_ID)))
    assert_postable(rendered.payload())
    url = next(e["url"] for e in rendered.blocks[-1]["elements"] if e["action_id"] == OPEN_LOG_ANALYTICS)
    query = inv.queries[0]
    assert_portal_link(url, RESOURCE_ID, query.text, query.start, query.end)


def assert_portal_link(url: str, resource_id: str, query: str, start: datetime, end: datetime) -> None:
    prefix = "https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/"
    assert url.startswith(prefix)
    resource, rest = url[len(prefix):].split("/source/LogsBlade.AnalyticsShareLinkToQuery/q/")
    assert unquote(resource) == resource_id
    packed, span = rest.split("/timespan/")
    assert gzip.decompress(base64.b64decode(unquote(unquote(packed)))).decode() == query
    assert unquote(span) == (f"{start.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.000Z/"
                             f"{end.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.000Z")


def test_the_portal_link_of_a_sovereign_cloud_uses_its_portal():
    url = log_analytics_url(LogAnalyticsLink(RESOURCE_ID, "https://portal.azure.us"), "AzureDiagnostics",
                            datetime(2026, 11, 21, 13, 47, tzinfo=UTC), datetime(2026, 11, 21, 14, 17, tzinfo=UTC))
    assert url.startswith("https://portal.azure.us/#blade/")


def test_the_evidence_bundle_button_is_hidden_until_evidence_bundles_exist(demo):
    answer = ask("why did paris drop yesterday at 15:02", demo.registry, demo.sources, NOW, PARIS_TZ)
    assert EVIDENCE_BUNDLE not in json.dumps(render_answer(answer, Buttons(1)).blocks)
    assert EVIDENCE_BUNDLE in json.dumps(render_answer(answer, Buttons(1, evidence_bundle=True)).blocks)


def test_wider_window_is_one_hour_around_the_asked_time_then_grows_an_hour_a_side():
    anchor = datetime(2026, 11, 21, 14, 2, tzinfo=UTC)
    first = wider_window(anchor - timedelta(minutes=15), anchor + timedelta(minutes=15), anchor, NOW)
    assert first == (anchor - timedelta(hours=1), anchor + timedelta(hours=1))
    assert wider_window(*first, anchor, NOW) == (anchor - timedelta(hours=2), anchor + timedelta(hours=2))
    assert wider_window(NOW - timedelta(minutes=30), NOW, None, NOW) == (NOW - timedelta(minutes=90), NOW)


# ------------------------------------------------------------------------------------------------- in Slack


def test_an_answer_over_the_limits_overflows_to_a_file_in_the_thread_confirmed_by_files_info(api, demo, flapping,
                                                                                               tmp_path):
    workspace = Workspace(demo.registry, Sources(kql=[flapping]), "UTC")
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        _, ts = bot.sender.mention("drops paris between 10:00 and 12:00 UTC")
        api.wait_for(lambda a: a.calls_to("files.info"))
        answered(api)
        assert bot.pool.drain(10)
    final = final_answer(api)
    assert_postable({"text": final.text, "blocks": final.blocks})
    assert FILE_NOTE in json.dumps(final.blocks)
    (url_call,) = api.calls_to("files.getUploadURLExternal")
    (complete,) = api.calls_to("files.completeUploadExternal")
    assert complete["channel_id"] == "C0INCIDENT" and complete["thread_ts"] == ts
    (stored,) = api.files.values()
    assert stored.name == url_call["filename"] == "vpnbot-paris-20261122T1000Z.txt"
    content = stored.content.decode()
    assert "Drops (80):" in content and content.count("RemotelyTriggered") >= 1
    assert stored.shares["C0INCIDENT"][0]["thread_ts"] == ts
    info = api.calls_to("files.info")[-1]
    assert info["file"] == stored.id
    assert len(api.calls_to("chat.postMessage")) == 1  # files.info confirmed the share: no fallback message
    # The upload happened after the answer was shown, in the same thread.
    assert api.calls.index(final) < api.calls.index(url_call)


def test_a_file_slack_is_slow_to_share_is_checked_again_then_linked(api, demo, flapping, tmp_path, monkeypatch):
    monkeypatch.setattr(conversation, "SHARE_CHECKS", (0.0, 0.01, 0.01, 0.01))
    workspace = Workspace(demo.registry, Sources(kql=[flapping]), "UTC")
    api.unshared_checks = 2  # shared, but files.info shows it only on the third look
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("drops paris between 10:00 and 12:00 UTC")
        answered(api)
        assert bot.pool.drain(10)
        assert len(api.calls_to("files.info")) == 3 and len(api.calls_to("chat.postMessage")) == 1
        api.unshared_checks = 100  # never shown: the thread gets a link instead of silence
        bot.sender.mention("drops paris between 10:00 and 12:00 UTC")
        answered(api, 2)
        api.wait_for(lambda a: len(a.calls_to("chat.postMessage")) == 3)
    link = api.calls_to("chat.postMessage")[-1].text
    assert link.startswith("The full answer is in <https://fake.slack.com/files/")


def test_show_queries_posts_the_queries_in_the_thread(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        ts, _, reply = answer_and_click(bot, api, "why did paris drop yesterday at 15:02", SHOW_QUERIES)
        assert reply.status == 200
        api.wait_for(lambda a: len(a.calls_to("chat.postMessage")) == 2)
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    shown = api.calls_to("chat.postMessage")[-1]
    assert shown["thread_ts"] == ts
    assert_postable({"text": shown.text, "blocks": shown.blocks})
    text = json.dumps(shown.blocks, ensure_ascii=False)
    assert "AzureDiagnostics" in text and 'Resource =~ \\"VPNGW01\\"' in text
    assert "local on demo, 2026-11-21 12:47–16:17 CET (11:47–15:17 UTC), 38 rows" in text
    assert rows[-1]["source"] == "button" and rows[-1]["intent"] == SHOW_QUERIES and rows[-1]["outcome"] == "answered"


def test_wider_window_reruns_the_question_an_hour_around_the_asked_time_in_the_same_thread(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        ts, first, reply = answer_and_click(bot, api, "why did paris drop yesterday at 15:02", WIDER_WINDOW)
        assert reply.status == 200
        api.wait_for(lambda a: len([c for c in a.calls_to("chat.update") if any(b["type"] == "header"
                                                                                  for b in c.blocks)]) == 2)
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    looking = api.calls_to("chat.postMessage")[-1]
    assert looking["thread_ts"] == ts
    assert looking.text == "Looking at paris, 2026-11-21 14:02–16:02 CET (13:02–15:02 UTC)…"
    second = final_answer(api)
    assert second["ts"] != first["ts"] and api.messages[("C0INCIDENT", second["ts"])].thread_ts == ts
    assert "maintenance_failover" in json.dumps(second.blocks)
    assert json.loads(buttons_of(second)[WIDER_WINDOW]["value"])["start"] == "2026-11-21T13:02:00+00:00"
    assert rows[-1]["source"] == "button" and rows[-1]["window_start"] == "2026-11-21T13:02:00Z"


def test_the_evidence_bundle_button_is_shown_by_default_and_puts_a_zip_in_the_thread(api, demo, tmp_path):
    """(The bundle's contents and the upload sequence: tests/test_slack_evidence.py.)"""
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        ts, _, reply = answer_and_click(bot, api, "why did paris drop yesterday at 15:02", EVIDENCE_BUNDLE)
        assert reply.status == 200
        api.wait_for(lambda a: a.calls_to("files.info"))
        assert bot.pool.drain(10)
    (stored,) = [f for f in api.files.values() if not f.name.endswith(".png")]  # the answer's chart came first
    assert stored.name.endswith(".zip") and stored.shares["C0INCIDENT"][0]["thread_ts"] == ts
    assert BotOptions().evidence_bundle


def test_open_in_log_analytics_links_the_query_the_answer_ran_on_a_real_log_analytics_client(
        api, demo, tmp_path, log_analytics, azure_source):
    server = log_analytics({"ws-1": demo_logs.generate_rows(NOW)}, now=lambda: NOW)
    workspace = Workspace(demo.registry, Sources(kql=[azure_source(server, "ws-1")]), "UTC")
    options = BotOptions(log_analytics=LogAnalyticsLink(RESOURCE_ID))
    with running_bot(api, workspace, tmp_path / "state.db", NOW, options) as bot:
        bot.sender.mention("why did paris drop yesterday at 15:02")
        answered(api)
        assert bot.pool.drain(10)
        row = bot.state.questions()[-1]
    ran = server.requests[0].body
    final = final_answer(api)
    assert "maintenance_failover" in json.dumps(final.blocks)
    button = buttons_of(final)[OPEN_LOG_ANALYTICS]
    first = json.loads(row["queries_json"])[0]
    assert first["backend"] == "log-analytics" and first["text"] == ran["query"]
    assert_portal_link(button["url"], RESOURCE_ID, ran["query"], datetime.fromisoformat(first["start"]),
                       datetime.fromisoformat(first["end"]))
    assert "Log Analytics workspace" in json.dumps(api.calls_to("chat.postMessage")[0].blocks)
