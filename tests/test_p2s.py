"""Point-to-site questions: failures and successes with usernames exactly as masked in P2SDiagnosticLog."""

from __future__ import annotations

from datetime import timedelta

from support.fixture_logs import REGISTRY, utc, workspace_of

from diagnostics.azure.p2s import masked_matches, p2s_report
from diagnostics.sources import Sources
from handlers.ask import ask
from handlers.render.text import render_text

NOW = utc("2026-11-21T18:00:00Z")
P2S_SOURCES = Sources(kql=[workspace_of("p2s.csv")])


def test_failures_and_successes_are_listed_per_gateway_with_masked_names():
    report = p2s_report(["VPNGW01"], NOW - timedelta(hours=12), NOW, [workspace_of("p2s.csv")])
    assert [(a.outcome, a.user) for a in report.attempts] == [
        ("connected", "***tosouser@contoso.com"), ("failed", "***ice@contoso.com")]
    assert report.attempts[1].client_ip == "0.51.100.77:60001"


def test_a_named_user_is_matched_on_the_visible_end_only_and_never_unmasked():
    from zoneinfo import ZoneInfo

    answer = ask("why can't alice@contoso.com connect today", REGISTRY, P2S_SOURCES, NOW,
                 ZoneInfo("UTC"))
    text = render_text(answer)
    assert "1 failed, 0 connected" in text
    assert "***ice@contoso.com" in text and "alice@contoso.com  " not in text.split("Failed")[1]
    assert masked_matches("***ice@contoso.com", "alice@contoso.com")
    assert not masked_matches("***ice@contoso.com", "bob@contoso.com")


def test_without_a_tunnel_every_configured_gateway_is_asked():
    from zoneinfo import ZoneInfo

    answer = ask("who failed to connect over point-to-site today", REGISTRY, P2S_SOURCES, NOW, ZoneInfo("UTC"))
    assert answer.p2s is not None and answer.p2s.gateways == ["VPNGW01", "VPNGW02"]
    assert len(answer.p2s.connected) == 2 and len(answer.p2s.failed) == 1


def test_point_to_site_answer_is_valid_block_kit_with_masked_names():
    from zoneinfo import ZoneInfo

    from slack_sdk.models.blocks import Block

    from handlers.render.blocks import render_blocks

    answer = ask("who failed to connect over point-to-site today", REGISTRY, P2S_SOURCES, NOW, ZoneInfo("UTC"))
    doc = render_blocks(answer)
    for block in doc["blocks"]:
        Block.parse(block).validate_json()
    assert "1 failed" in doc["text"] and "***ice@contoso.com" in str(doc["blocks"])
