"""`vpnbot` as users run it: the demo workspace, exports with a config, the real Log Analytics client over HTTPS,
and one-line errors with a non-zero exit on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.az_cli import fake_az
from support.cli import run
from support.fixture_logs import RULE_FIXTURES

from bot.cli import main
from diagnostics.azure.exports import read_azure_export

PARIS_CONFIG = """
timezone = "Europe/Paris"

[azure]
workspace_id = "{workspace}"
endpoint = "{endpoint}"
credential = "cli"

[[tunnels]]
name = "paris"
aliases = ["branch-paris", "par"]
azure_gateway = "VPNGW01"
azure_remote_ip = "203.0.113.10"

[[tunnels]]
name = "lyon"
azure_gateway = "VPNGW01"
azure_remote_ip = "203.0.113.20"
"""
SCHEMA_KEYS = {"schema", "question", "intent", "tunnel", "window", "drops", "findings", "queries", "notes"}
#: Keys an answer may add (docs/asking.md: extended, never changed).
EXTENSION_KEYS = {"understood", "attempts", "summary", "state", "tunnels", "caveats", "story", "traffic",
                  "traffic_note"}
CAUSES = {"maintenance_failover", "gateway_failover", "config_change", "dpd_timeout", "remote_initiated",
          "psk_mismatch", "ike_proposal_mismatch", "traffic_selector_mismatch", "peer_unreachable",
          "bgp_session_down", "rekey_collision", "flapping", "no_drop_found", "logs_not_ingested", "unknown",
          "traffic_selector_drops", "one_way_traffic", "no_routes", "no_traffic", "traffic_flowing"}


def assert_schema_1(doc: dict) -> None:
    """The JSON answer contract (docs/asking.md, "The JSON answer (`--format json`), schema 1"), key by key and type
    by type. A list may be empty there: tests that need its items checked ask for an answer that has some."""
    assert SCHEMA_KEYS <= set(doc) <= SCHEMA_KEYS | EXTENSION_KEYS and doc["schema"] == 1
    assert isinstance(doc["question"], str) and isinstance(doc["intent"], str)
    assert doc["tunnel"]["provider"] in ("azure", "aws") and isinstance(doc["tunnel"]["name"], str)
    assert doc["window"]["start"].endswith("Z") and doc["window"]["end"].endswith("Z")
    for drop in doc["drops"]:
        assert set(drop) - {"traffic"} == {"down_at", "up_at", "down_instance", "up_instance"}  # + a drop answer's
        assert drop.get("traffic") is None or isinstance(drop["traffic"]["resumed"], bool | None)
        assert drop["down_at"].endswith("Z") and (drop["up_at"] is None or drop["up_at"].endswith("Z"))
    for finding in doc["findings"]:
        assert set(finding) == {"cause", "confidence", "title", "explanation", "advice", "evidence"}
        assert finding["cause"] in CAUSES and finding["confidence"] in ("high", "medium", "low")
        for ev in finding["evidence"]:
            assert set(ev) == {"time", "source", "text"} and ev["time"].endswith("Z")
    for query in doc["queries"]:
        assert set(query) == {"backend", "text"}
        assert query["backend"] in ("log-analytics", "cloudwatch-logs", "local")
    assert isinstance(doc["notes"], list) and all(isinstance(n, str) for n in doc["notes"])


def test_no_config_runs_on_demo_workspace_and_says_so_in_one_line(capsys, here):
    code, out, err = run(capsys, "ask", "why did paris drop yesterday at 14:02", "--now", "2026-11-22T10:30:00Z")
    assert code == 0
    assert err.count("\n") == 1 and "demo workspace" in err
    assert "maintenance_failover (high confidence)" in out
    assert "Upgrade gateway started" in out
    assert "AzureDiagnostics" in out  # the query is shown


def test_json_answer_follows_schema_1_on_demo(capsys):
    code, out, _ = run(capsys, "ask", "why did lyon drop 2 days ago at 09:15", "--demo",
                       "--now", "2026-11-22T10:30:00Z", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert_schema_1(doc)
    assert doc["drops"] and doc["findings"] and doc["queries"]  # every item of them checked against the schema
    assert doc["findings"][0]["cause"] == "dpd_timeout"
    assert doc["tunnel"] == {"name": "lyon", "provider": "azure", "azure_gateway": "VPNGW01",
                             "azure_remote_ip": "203.0.113.20", "azure_resource_group": "RG-NETWORK-WEU",
                             "azure_subscription": doc["tunnel"]["azure_subscription"]}
    assert doc["drops"][0]["down_instance"] == doc["drops"][0]["up_instance"]


def test_export_with_config_explains_real_format_rows_in_the_askers_zone(capsys, tmp_path):
    config = tmp_path / "vpnbot.toml"
    config.write_text(PARIS_CONFIG.format(workspace="unused", endpoint="https://127.0.0.1:9"))
    code, out, err = run(capsys, "ask", "why did paris drop at 15:02", "--config", str(config),
                         "--azure-export", str(RULE_FIXTURES / "maintenance_failover.csv"),
                         "--now", "2026-11-21T18:00:00Z")
    assert code == 0, err
    # Config timezone is Europe/Paris: 15:02 CET is 14:02 UTC, and both are shown.
    assert "15:02:03 CET (14:02:03 UTC)" in out
    assert "maintenance_failover" in out


def test_blocks_format_is_valid_block_kit(capsys):
    from slack_sdk.models.blocks import Block

    code, out, _ = run(capsys, "ask", "why did hamburg drop in the last 4 hours", "--demo",
                       "--now", "2026-11-22T10:30:00Z", "--format", "blocks")
    doc = json.loads(out)
    assert code == 0 and doc["text"]
    assert 0 < len(doc["blocks"]) <= 50
    for block in doc["blocks"]:
        Block.parse(block).validate_json()  # raises on any Block Kit limit
    assert "flapping" in json.dumps(doc["blocks"])


def test_unknown_tunnel_exits_non_zero_with_closest_names(capsys):
    code, out, err = run(capsys, "ask", "why did pariss drop at 14:02", "--demo", "--now", "2026-11-22T10:30:00Z")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "'paris'" in err


def test_unparseable_time_exits_non_zero_with_an_example_that_works(capsys):
    code, _, err = run(capsys, "ask", "why did paris drop at 25:61", "--demo", "--now", "2026-11-22T10:30:00Z")
    assert code == 2
    assert err.count("\n") == 1 and "14:02" in err


def test_missing_export_file_exits_non_zero_naming_it(capsys):
    code, _, err = run(capsys, "ask", "why did paris drop at 14:02", "--azure-export", "nope.csv")
    assert code == 2 and "nope.csv: no such file" in err


def test_bad_export_rows_are_reported_and_the_answer_uses_the_good_ones(capsys, tmp_path):
    source = (RULE_FIXTURES / "dpd_timeout.csv").read_text().splitlines()
    broken = tmp_path / "paris.csv"
    broken.write_text("\n".join([*source[:2], "garbage,row", *source[2:]]) + "\n")
    config = tmp_path / "c.toml"
    config.write_text(PARIS_CONFIG.format(workspace="unused", endpoint="https://127.0.0.1:9"))
    code, out, err = run(capsys, "ask", "why did paris drop at 10:15", "--config", str(config),
                         "--azure-export", str(broken), "--now", "2026-11-20T12:00:00Z", "--format", "json")
    assert code == 0
    assert "paris.csv:3:" in err
    doc = json.loads(out)
    assert_schema_1(doc)  # with notes, each one checked
    assert doc["findings"][0]["cause"] == "dpd_timeout"
    assert any("paris.csv:3:" in n for n in doc["notes"])


def test_export_without_config_names_tunnels_by_remote_ip(capsys):
    code, out, _ = run(capsys, "ask", "what happened to 203.0.113.10 between 13:00 and 15:00 UTC",
                       "--azure-export", str(RULE_FIXTURES / "maintenance_failover.csv"),
                       "--now", "2026-11-21T18:00:00Z", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["tunnel"]["azure_remote_ip"] == "203.0.113.10"
    assert [d["down_at"] for d in doc["drops"]] == ["2026-11-21T14:02:03.120Z", "2026-11-21T14:40:11.610Z"]


def test_tunnels_lists_the_demo_tunnels(capsys):
    code, out, _ = run(capsys, "tunnels", "--demo", "--format", "json")
    names = [t["name"] for t in json.loads(out)]
    assert code == 0 and {"paris", "lyon", "berlin"} <= set(names)


def test_ask_through_real_logs_query_client_against_local_log_analytics(tmp_path, log_analytics):
    """The whole CLI path with a real credential class and the real LogsQueryClient over HTTPS."""
    rows = read_azure_export(RULE_FIXTURES / "maintenance_failover.csv").rows
    workspace_id = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
    token = "static-test-token"
    fake_az(tmp_path, token)
    server = log_analytics({workspace_id: rows}, token=token)
    config = tmp_path / "vpnbot.toml"
    config.write_text(PARIS_CONFIG.format(workspace=workspace_id, endpoint=server.endpoint))
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "REQUESTS_CA_BUNDLE": str(server.ca_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "why did paris drop at 14:02 UTC", "--config", str(config),
         "--now", "2026-11-21T18:00:00Z", "--format", "json"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    requests = list(server.requests)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert_schema_1(doc)
    assert doc["findings"][0]["cause"] == "maintenance_failover"
    assert doc["queries"][0]["backend"] == "log-analytics"
    assert requests and all(r.auth_valid for r in requests)
    assert requests[0].body["query"] == doc["queries"][0]["text"]
    assert token not in done.stdout + done.stderr


@pytest.mark.parametrize("argv", [["ask", "--help"], ["chat", "--help"], ["tunnels", "--help"], ["summary", "--help"],
                                  ["--help"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage: vpnbot" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "said"), [
    (["evidence"], "give --question"),
    (["evidence", "--id", "3"], "unknown investigation 3"),
])
def test_evidence_without_an_investigation_to_bundle_is_one_line_of_bad_input(argv, said, capsys, here):
    """(Bundles themselves: tests/test_evidence_cli.py.)"""
    code, out, err = run(capsys, *argv)  # no ./vpnbot.db here
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and said in err
    assert not (here / "vpnbot.db").exists()  # asking for an unknown id does not create a state store
