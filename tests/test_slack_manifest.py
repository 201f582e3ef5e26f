"""manifest.yml is a complete Slack app for both modes, and every scope it asks for is justified in README.md."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.slack.httpd import EVENTS_PATH
from bot.slack.jobs import COMMAND

ROOT = Path(__file__).parent.parent


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def test_the_manifest_declares_the_bot_the_command_the_events_and_interactivity():
    app = manifest()
    assert app["_metadata"]["major_version"] == 1
    assert app["features"]["bot_user"]["display_name"] == "vpnbot"
    (command,) = app["features"]["slash_commands"]
    assert command["command"] == COMMAND and "status paris" in command["usage_hint"]
    assert set(app["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im", "file_shared"}
    assert app["settings"]["interactivity"]["is_enabled"] is True
    assert app["features"]["app_home"]["messages_tab_enabled"] is True  # people can DM the bot
    assert app["settings"]["socket_mode_enabled"] is True


def test_http_mode_needs_only_the_host_changed_every_url_is_the_events_path():
    app = manifest()
    urls = [app["features"]["slash_commands"][0]["url"], app["settings"]["event_subscriptions"]["request_url"],
            app["settings"]["interactivity"]["request_url"]]
    assert urls and all(url.startswith("https://") and url.endswith(EVENTS_PATH) for url in urls)
    assert len({url.split("/")[2] for url in urls}) == 1


def test_every_scope_is_justified_in_the_readme_and_no_more():
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Slack app\n")
    end = readme.find("\n## ", start + 1)
    section = readme[start:end if end > 0 else None]
    justified = set(re.findall(r"^\| `([a-z_.:]+)` \| .+ \|$", section, re.MULTILINE))
    assert scopes == justified
    assert "channels:history" not in scopes  # the bot reads only what it is sent: mentions and its DMs
