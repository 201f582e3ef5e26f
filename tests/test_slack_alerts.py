"""Azure Monitor alerts posted to `POST /alerts/azure?token=…` (docs/alerts.md), through the real HTTP server, the
worker pool and the fake Slack Web API, on the demo's week: VPNGW01's maintenance moved paris, lyon and nice to the
other instance on 2026-11-21 at 14:02:06 UTC.

The payloads are the common alert schema as Azure Monitor sends it (the public samples' shape: essentials, then
alertContext.condition.allOf with the metric or query, its dimensions and the evaluated window)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
from datetime import UTC, datetime
from http.client import HTTPConnection
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from support.fake_slack_api import buttons_of, running_bot

from bot.config import AlertRoute, ChannelSettings, ConfigError, config_from_mapping
from bot.slack.core import BotOptions
from bot.state import StateStore
from diagnostics.azure.alerts import alert_tunnels, read_alert
from handlers.alert import investigate_alert
from handlers.render.blocks import EVIDENCE_BUNDLE, SHOW_QUERIES, WIDER_WINDOW
from handlers.render.incident_png import render_incident_png

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
TOKEN = "s3cret-alerts-token-5f1c"
ALERTS = "C0ALERTS"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
GATEWAY_ID = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/RG-NETWORK-WEU/providers/"
              "Microsoft.Network/virtualNetworkGateways/VPNGW01")
ALERT_ID = (f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.AlertsManagement/alerts/"
            "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")


def metric_alert(condition: str = "Fired", dimensions: tuple[tuple[str, str], ...] = (
        ("ConnectionName", "cn-vpngw01-paris"), ("RemoteIP", "203.0.113.10")),
                 alert_id: str = ALERT_ID, target: str = GATEWAY_ID, rule: str = "VPNGW01 tunnel bandwidth") -> str:
    """A metric alert on TunnelAverageBandwidth of VPNGW01, split by connection, as an action group's webhook posts
    it: fired at 14:07:10 for the window 14:02–14:07 (the drop), resolved at 14:12:10."""
    return json.dumps({
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": alert_id, "alertRule": rule, "severity": "Sev2", "signalType": "Metric",
                "monitorCondition": condition, "monitoringService": "Platform", "alertTargetIDs": [target.lower()],
                "configurationItems": ["VPNGW01"],
                "originAlertId": f"{SUBSCRIPTION}_RG-NETWORK-WEU_microsoft.insights_metricAlerts_{rule}_-1127781227",
                "firedDateTime": "2026-11-21T14:07:10.5204817Z",
                **({"resolvedDateTime": "2026-11-21T14:12:10.1938271Z"} if condition == "Resolved" else {}),
                "description": "A tunnel's bandwidth fell to zero", "essentialsVersion": "1.0",
                "alertContextVersion": "1.0",
            },
            "alertContext": {
                "properties": None, "conditionType": "SingleResourceMultipleMetricCriteria",
                "condition": {
                    "windowSize": "PT5M",
                    "allOf": [{
                        "metricName": "TunnelAverageBandwidth", "metricNamespace": "Microsoft.Network/"
                        "virtualNetworkGateways", "operator": "LessThanOrEqual", "threshold": "0",
                        "timeAggregation": "Average",
                        "dimensions": [{"name": n, "value": v} for n, v in dimensions],
                        "metricValue": 0.0, "webTestName": None,
                    }],
                    "windowStartTime": "2026-11-21T14:02:00Z", "windowEndTime": "2026-11-21T14:07:00Z",
                },
            },
            "customProperties": None,
        },
    })


def log_alert() -> str:
    """A log search alert (Log Alerts V2) on the workspace: disconnects in AzureDiagnostics, one per Resource and
    remoteIP_s (the rule's dimensions)."""
    workspace = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/RG-MONITOR/providers/"
                 "Microsoft.OperationalInsights/workspaces/law-network")
    return json.dumps({
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": ALERT_ID.replace("0a1b", "9f8e"), "alertRule": "S2S tunnel disconnected",
                "severity": "Sev1", "signalType": "Log", "monitorCondition": "Fired",
                "monitoringService": "Log Alerts V2", "alertTargetIDs": [workspace.lower()],
                "configurationItems": ["law-network"], "originAlertId": "5a6b7c8d",
                "firedDateTime": "2026-11-21T14:08:31.0000000Z", "description": "", "essentialsVersion": "1.0",
                "alertContextVersion": "1.0",
            },
            "alertContext": {
                "properties": {}, "conditionType": "LogQueryCriteria",
                "condition": {
                    "windowSize": "PT5M",
                    "allOf": [{
                        "searchQuery": 'AzureDiagnostics | where Category == "TunnelDiagnosticLog" and '
                                       'status_s == "Disconnected" | summarize count() by Resource, remoteIP_s',
                        "metricMeasureColumn": None,
                        "targetResourceTypes": "['Microsoft.OperationalInsights/workspaces']",
                        "operator": "GreaterThan", "threshold": "0", "timeAggregation": "Count",
                        "dimensions": [{"name": "Resource", "value": "VPNGW01"},
                                       {"name": "remoteIP_s", "value": "203.0.113.10"}],
                        "metricValue": 1.0, "failingPeriods": {"numberOfEvaluationPeriods": 1,
                                                               "minFailingPeriodsToAlert": 1},
                    }],
                    "windowStartTime": "2026-11-21T14:03:00Z", "windowEndTime": "2026-11-21T14:08:00Z",
                },
            },
        },
    })


def post(bot: Any, body: str | bytes, query: str = f"?token={TOKEN}") -> tuple[int, str]:
    """`body` posted to the bot's /alerts/azure (a RunningBot, or `vpnbot serve` in its own process)."""
    port = bot.server.port if hasattr(bot, "server") else bot.port
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/alerts/azure" + query, body=body if isinstance(body, bytes) else body.encode(),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def post_big(bot: Any, body: bytes) -> bytes:
    """A big body sent as a client would: the head, then the body, which the server may refuse before it is sent
    (it answers at the head and closes); the reply as received."""
    with socket.create_connection(("127.0.0.1", bot.server.port), timeout=30) as sock:
        sock.sendall(f"POST /alerts/azure?token={TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(body)
        out = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                out += chunk
    return out


def top_messages(api: Any, channel: str = ALERTS) -> list[Any]:
    return [m for m in api.messages.values() if m.channel == channel and not m.thread_ts]


def thread_of(api: Any, ts: str) -> list[Any]:
    return [m for m in api.messages.values() if m.thread_ts == ts]


@pytest.fixture
def api(slack_api):
    return slack_api({"U0ALICE": "Europe/Paris"})


@pytest.fixture
def demo(demo_at):
    return demo_at(NOW)


EVERY_ALERT = (AlertRoute("*", ALERTS),)


def alerts_bot(api, demo, tmp_path, routes=EVERY_ALERT, channels=()):
    options = BotOptions(alerts=tuple(routes), channels=tuple(channels), default_tz="Europe/Paris")
    return running_bot(api, demo, tmp_path / "state.db", NOW, options, alerts_token=TOKEN)


def test_a_fired_metric_alert_is_posted_once_naming_the_tunnel_and_its_cause_then_resolved_in_place(
        api, demo, tmp_path):
    with alerts_bot(api, demo, tmp_path) as bot:
        assert post(bot, metric_alert()) == (202, '{"accepted": true}')
        (message,) = api.wait_for(lambda a: [m for m in top_messages(a) if thread_of(a, m.ts)], timeout=60)
        assert "VPNGW01 tunnel bandwidth" in message.text and "fired at 2026-11-21 15:07" in message.text
        assert "paris" in message.text and "maintenance failover (high)" in message.text
        assert "lyon" not in message.text and "nice" not in message.text  # the alert's dimensions name paris alone
        details = thread_of(api, message.ts)[0]
        assert "maintenance_failover" in json.dumps(details.blocks) or "maintenance" in details.text.lower()

        assert post(bot, metric_alert("Resolved"))[0] == 202
        api.wait_for(lambda a: a.messages[(ALERTS, message.ts)].edits == 1, timeout=60)
        edited = api.messages[(ALERTS, message.ts)]
        assert edited.text.startswith(":white_check_mark: Resolved at 2026-11-21 15:12")
        assert "maintenance failover (high)" in edited.text
        assert bot.pool.drain(60)
        assert len(top_messages(api)) == 1 and len(api.calls_to("chat.update")) == 1
        assert bot.state.alert_row(ALERT_ID)["status"] == "Resolved"


def test_an_alert_message_carries_the_usual_buttons_show_queries_works_and_the_resolved_edit_keeps_them(
        api, demo, tmp_path):
    with alerts_bot(api, demo, tmp_path) as bot:
        assert post(bot, metric_alert())[0] == 202
        assert bot.pool.drain(60)
        (message,) = top_messages(api)
        (stored,) = [q for q in bot.state.questions() if q["source"] == "alert"]
        bot.sender.click(buttons_of(message)[SHOW_QUERIES], message_ts=message.ts, thread_ts=message.ts,
                         channel=ALERTS)
        shown = api.wait_for(lambda a: [m for m in thread_of(a, message.ts) if m.text.startswith("Queries behind")])
        assert post(bot, metric_alert("Resolved"))[0] == 202
        assert bot.pool.drain(60)
        edited = api.messages[(ALERTS, message.ts)]
    assert set(buttons_of(message)) == {SHOW_QUERIES, WIDER_WINDOW, EVIDENCE_BUNDLE}
    assert json.loads(buttons_of(message)[SHOW_QUERIES]["value"])["id"] == stored["id"]
    assert (stored["channel"], stored["tunnel"], stored["thread_ts"], stored["cause"]) == (
        ALERTS, "paris", message.ts, "maintenance_failover")
    assert "AzureDiagnostics" in json.dumps(shown[0].blocks)
    assert edited.text.startswith(":white_check_mark: Resolved") and buttons_of(edited) == buttons_of(message)


def test_an_alert_gets_the_chart_of_its_tunnels_drop_in_its_thread_once_and_not_again_when_resolved(
        api, demo, tmp_path):
    with alerts_bot(api, demo, tmp_path) as bot:
        assert post(bot, metric_alert())[0] == 202
        assert bot.pool.drain(60)
        (message,) = top_messages(api)
        assert post(bot, metric_alert("Resolved"))[0] == 202
        assert bot.pool.drain(60)
        edited = api.messages[(ALERTS, message.ts)]
    (chart,) = [f for f in api.files.values() if f.content.startswith(b"\x89PNG\r\n\x1a\n")]
    (complete,) = [c for c in api.calls_to("files.completeUploadExternal") if chart.id in c["files"]]
    assert (complete["channel_id"], complete["thread_ts"]) == (ALERTS, message.ts)
    assert chart.name == "vpnbot-paris-20261121T1332Z.png" and chart.title == "Chart: paris around the drop"
    picture = Image.open(io.BytesIO(chart.content))
    picture.verify()
    assert picture.format == "PNG" and picture.size[0] == 1200
    assert edited.edits == 1 and edited.text.startswith(":white_check_mark: Resolved")
    # The chart of the investigation in the thread, its axis in the channel's zone: the same bytes drawn here.
    alert = read_alert(metric_alert())
    expected = investigate_alert(alert, alert_tunnels(alert, demo.registry), demo.registry, demo.sources, NOW,
                                 ZoneInfo("Europe/Paris"))
    assert expected.incident is not None and expected.incident.chart is not None
    assert expected.incident.chart.zone == "Europe/Paris" and expected.incident.chart.has_traffic
    assert chart.content == render_incident_png(expected.incident.chart)


def test_a_resolved_alert_arriving_while_the_fired_one_is_being_posted_edits_that_message(api, demo, tmp_path, caplog):
    with alerts_bot(api, demo, tmp_path) as bot, caplog.at_level(logging.INFO):
        with api.hold("chat.postMessage") as posting:  # the Fired message is on its way to Slack
            assert post(bot, metric_alert())[0] == 202
            posting.wait_reached()
            assert post(bot, metric_alert("Resolved"))[0] == 202
            api.wait_for(lambda _: any("waits for the Fired one" in r.getMessage() for r in caplog.records), 30)
        assert bot.pool.drain(60)
    (message,) = top_messages(api)
    assert message.edits == 1 and message.text.startswith(":white_check_mark: Resolved")


def test_the_same_alert_posted_twice_is_posted_once(api, demo, tmp_path):
    with alerts_bot(api, demo, tmp_path) as bot:
        assert post(bot, metric_alert())[0] == 202
        assert post(bot, metric_alert())[0] == 202  # Azure retries a webhook it thinks failed
        assert bot.pool.drain(60)
        assert len(top_messages(api)) == 1
        # A third delivery once the first was answered (its delivery settled): the stored message stops it too.
        assert post(bot, metric_alert())[0] == 202
        assert bot.pool.drain(60)
        assert len(top_messages(api)) == 1 and not api.calls_to("chat.update")


def test_a_log_search_alert_on_azure_diagnostics_maps_through_its_resource_and_remote_ip_dimensions(
        api, demo, tmp_path):
    with alerts_bot(api, demo, tmp_path) as bot:
        assert post(bot, log_alert())[0] == 202
        assert bot.pool.drain(60)
        (message,) = top_messages(api)
        assert "S2S tunnel disconnected" in message.text and "(Sev1)" in message.text
        assert "paris" in message.text and "maintenance failover" in message.text


def test_an_alert_on_the_gateway_without_dimensions_covers_its_tunnels_but_a_limited_channel_hears_of_its_own(
        api, demo, tmp_path):
    channels = (ChannelSettings(ALERTS, ("paris",)),)
    with alerts_bot(api, demo, tmp_path, channels=channels) as bot:
        assert post(bot, metric_alert(dimensions=()))[0] == 202
        assert bot.pool.drain(60)
        (message,) = top_messages(api)
        assert "paris" in message.text and "lyon" not in message.text and "nice" not in message.text
        assert all("lyon" not in m.text and "nice" not in m.text for m in thread_of(api, message.ts))


def test_an_alert_about_tunnels_a_limited_channel_may_not_see_is_not_posted_there(api, demo, tmp_path, caplog):
    channels = (ChannelSettings(ALERTS, ("berlin",)),)
    with alerts_bot(api, demo, tmp_path, channels=channels) as bot, caplog.at_level(logging.INFO):
        assert post(bot, metric_alert())[0] == 202
        assert bot.pool.drain(60)
    assert top_messages(api) == []
    assert any("may not see" in r.getMessage() for r in caplog.records)


def test_an_alert_matching_no_tunnel_is_posted_saying_so(api, demo, tmp_path):
    other = GATEWAY_ID.replace("VPNGW01", "VPNGW09")
    with alerts_bot(api, demo, tmp_path) as bot:
        assert post(bot, metric_alert(dimensions=(), target=other))[0] == 202
        assert bot.pool.drain(60)
    (message,) = top_messages(api)
    assert "matches no tunnel I know (VPNGW09)" in message.text


def test_an_alert_no_alerts_entry_matches_is_accepted_logged_and_not_posted(api, demo, tmp_path, caplog):
    with alerts_bot(api, demo, tmp_path, routes=[AlertRoute("VPNGW02*", ALERTS)]) as bot, \
            caplog.at_level(logging.INFO):
        assert post(bot, metric_alert())[0] == 202
        assert bot.pool.drain(60)
    assert api.calls_to("chat.postMessage") == []
    assert any("matches no [[alerts]] entry" in r.getMessage() for r in caplog.records)


def test_the_route_is_the_first_entry_whose_match_fits_rule_gateway_or_tunnel(api, demo, tmp_path):
    routes = [AlertRoute("lyon", "C0LYON"), AlertRoute("paris", "C0PARIS"), AlertRoute("*", ALERTS)]
    with alerts_bot(api, demo, tmp_path, routes=routes) as bot:
        assert post(bot, metric_alert())[0] == 202
        assert bot.pool.drain(60)
    assert [m.channel for m in top_messages(api, "C0PARIS")] == ["C0PARIS"] and top_messages(api) == []


@pytest.mark.parametrize("query", ["", "?token=", "?token=wrong", f"?token={TOKEN}x", f"?token={TOKEN}&token=x"])
def test_a_missing_or_wrong_token_gets_401_and_is_never_processed(api, demo, tmp_path, caplog, query):
    with alerts_bot(api, demo, tmp_path) as bot, caplog.at_level(logging.DEBUG):
        status, _ = post(bot, metric_alert(), query)
        assert status == 401
        assert bot.pool.drain(30)
    assert api.calls_to("chat.postMessage", "chat.update") == []
    store = StateStore(tmp_path / "state.db")
    try:
        assert store.alert_row(ALERT_ID) is None
    finally:
        store.close()


def test_a_body_over_1_mb_gets_413_and_malformed_or_other_schemas_get_400_with_one_line(api, demo, tmp_path):
    padded = json.loads(metric_alert())
    padded["data"]["essentials"]["description"] = "x" * (2 << 20)
    with alerts_bot(api, demo, tmp_path) as bot:
        assert post_big(bot, json.dumps(padded).encode()).startswith(b"HTTP/1.1 413 ")
        status, reply = post(bot, b'{"schemaId": "azureMonitorCommonAlertSchema", "data": {')
        assert status == 400 and reply.startswith("the body is not JSON") and reply.count("\n") == 1
        status, reply = post(bot, json.dumps({"schemaId": "Microsoft.Insights/activityLogs", "data": {}}))
        assert status == 400 and "common alert schema" in reply and reply.count("\n") == 1
        status, reply = post(bot, metric_alert().encode("utf-16"))
        assert status == 400 and reply == "the body is not UTF-8 JSON: send the common alert schema\n"
        broken = json.loads(metric_alert())
        broken["data"]["essentials"]["firedDateTime"] = "yesterday"
        status, reply = post(bot, json.dumps(broken))
        assert status == 400 and "firedDateTime is not an ISO 8601 time" in reply
        assert bot.pool.drain(30)
    assert api.calls_to("chat.postMessage") == []


def test_the_token_never_reaches_the_logs(api, demo, tmp_path, caplog):
    with alerts_bot(api, demo, tmp_path) as bot, caplog.at_level(logging.DEBUG):
        post(bot, metric_alert(), f"?token={TOKEN}0")
        post(bot, b"not json")
        assert post(bot, metric_alert())[0] == 202
        assert bot.pool.drain(60)
    assert len(top_messages(api)) == 1
    assert caplog.records and not [r for r in caplog.records if TOKEN in r.getMessage()]


def test_alerts_entries_are_read_from_the_configuration_and_checked():
    entries = [{"match": "VPNGW01", "channel": "C0NET"}, {"match": "*", "channel": "C0"}]
    config = config_from_mapping({"slack": {"alerts_token": TOKEN}, "alerts": entries})
    assert config.alerts == (AlertRoute("VPNGW01", "C0NET"), AlertRoute("*", "C0"))
    assert config.slack.alerts_token == TOKEN
    with pytest.raises(ConfigError, match=r"\[\[alerts\]\] entry 1 needs match and channel"):
        config_from_mapping({"alerts": [{"channel": "C0NET"}]})
    with pytest.raises(ConfigError, match="unknown keys token"):
        config_from_mapping({"alerts": [{"match": "*", "channel": "C0", "token": "x"}]})


@pytest.mark.both_stores
def test_claiming_an_alert_lets_one_process_post_the_others_wait_or_take_over_a_dead_one_then_edit(state):
    now = datetime(2026, 11, 21, 14, 7, tzinfo=UTC)
    assert state.claim_alert("a1", ALERTS, "host-1-aa", "rule", now)[0] == "post"
    assert state.claim_alert("a1", ALERTS, "host-2-bb", "rule", now)[0] == "held"
    assert state.claim_alert("a1", ALERTS, "host-2-bb", "rule", now, live=frozenset({"host-2-bb"}))[0] == "post"
    later = datetime(2026, 11, 21, 14, 20, tzinfo=UTC)  # the second claimant died: its lease ran out
    assert state.claim_alert("a1", ALERTS, "host-2-bb", "rule", later)[0] == "post"
    state.note_alert_message("a1", "1763700000.000100", "Fired")
    action, row = state.claim_alert("a1", ALERTS, "host-1-aa", "rule", later)
    assert (action, row["message_ts"], row["status"]) == ("edit", "1763700000.000100", "Fired")


def test_vpnbot_serve_takes_alerts_with_the_token_from_the_environment_and_never_logs_it(api, serve, tmp_path):
    config = tmp_path / "vpnbot.toml"
    config.write_text(f'timezone = "Europe/Paris"\n[[alerts]]\nmatch = "VPNGW01*"\nchannel = "{ALERTS}"\n')
    bot = serve("--demo", "--config", str(config), env={"VPNBOT_ALERTS_TOKEN": TOKEN}).wait_listening()
    assert post(bot, metric_alert(), "?token=wrong")[0] == 401
    assert post(bot, metric_alert())[0] == 202
    (message,) = api.wait_for(lambda a: top_messages(a), timeout=60)
    assert "paris" in message.text and "maintenance failover (high)" in message.text
    assert bot.terminate() == 0
    assert TOKEN not in "".join(bot.stderr)
    assert len(top_messages(api)) == 1


def test_vpnbot_serve_without_an_alerts_token_does_not_serve_alerts(api, serve):
    bot = serve("--demo").wait_listening()
    assert post(bot, metric_alert())[0] == 404
    assert bot.terminate() == 0
