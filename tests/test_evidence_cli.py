"""`vpnbot evidence` as users run it, offline: `--question` answers, stores and bundles; `--id N` bundles a stored
investigation (the same files again); `vpnbot ask` keeps its answers when a state store exists; the rows come
through the real LogsQueryClient from a Log Analytics endpoint over HTTPS and through boto3 from moto; one-line
errors with exit 2 (bad input) or 1 (no source could answer)."""

from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.az_cli import fake_az
from support.cli import run
from support.fixture_logs import FIXTURES, RULE_FIXTURES
from support.moto_server import REGION, rebase, seed

from bot.state import StateStore
from diagnostics.aws.exports import read_aws_export
from diagnostics.azure.exports import read_azure_export
from diagnostics.evidence import verify

NOW = "2026-11-22T10:30:00Z"
WORKSPACE_ID = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
TOKEN = "static-test-token"
AZURE_CONFIG = """
timezone = "UTC"
state_db = "state.db"

[azure]
workspace_id = "{workspace}"
endpoint = "{endpoint}"
credential = "cli"

[[tunnels]]
name = "paris"
azure_gateway = "VPNGW01"
azure_remote_ip = "203.0.113.10"
azure_resource_group = "RG-NETWORK-WEU"
"""
GROUP = "/aws/vendedlogs/vpn"
VPN = "vpn-0123456789abcdef0"
AWS_CONFIG = f"""
timezone = "UTC"
state_db = "state.db"

[aws]
region = "{REGION}"
log_group = "{GROUP}"

[[tunnels]]
name = "dc1"
aws_vpn_connection = "{VPN}"
aws_outside_ips = ["52.95.10.1", "52.95.10.2"]
"""


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_question_on_the_demo_writes_a_bundle_and_its_id_bundles_the_same_files_again(here, capsys):
    code, out, err = run(capsys, "evidence", "--question", "why did paris drop yesterday at 14:02", "--now", NOW)
    assert code == 0, err
    assert err.count("\n") == 1 and "demo workspace" in err  # the demo says so, once
    path, title, summary = out.splitlines()
    assert path == "vpnbot-evidence-1-paris-20261121T1347Z.zip" and (here / path).is_file()
    assert title == "investigation 1: paris, 2026-11-21 13:47–14:17 UTC: maintenance_failover (high)"
    digest = hashlib.sha256((here / path).read_bytes()).hexdigest()
    assert summary.endswith(f"SHA-256 {digest}") and " rows, " in summary
    assert verify(here / path) == []
    # Later, from the state store: no --now needed (the stored answer's own time rebuilds the same demo week).
    code, out, err = run(capsys, "evidence", "--id", "1", "--out", "again.zip")
    assert code == 0, err
    assert out.splitlines()[0] == "again.zip"
    first, again = members(here / path), members(here / "again.zip")
    assert first.keys() == again.keys()
    assert {name for name in first if first[name] != again[name]} <= {"manifest.json"}  # its time, to the second
    one, two = (json.loads(files["manifest.json"]) for files in (first, again))
    one.pop("generated_at"), two.pop("generated_at")
    assert one == two
    state = StateStore(here / "vpnbot.db")
    try:
        bundles = state.bundles(1)
    finally:
        state.close()
    assert [b["file_name"] for b in bundles] == [path, "again.zip"]
    assert bundles[0]["sha256"] == digest and bundles[0]["created_by"].startswith("cli")


def test_ask_keeps_its_answer_when_the_configuration_names_a_state_db_and_says_its_id_on_stderr(here, capsys):
    question = "why did paris drop at 10:15"
    export = str(RULE_FIXTURES / "dpd_timeout.csv")
    plain_config = here / "plain.toml"
    plain_config.write_text(AZURE_CONFIG.format(workspace="unused", endpoint="https://127.0.0.1:9")
                            .replace('state_db = "state.db"\n', ""))
    code, plain, err = run(capsys, "ask", question, "--config", str(plain_config), "--azure-export", export,
                           "--now", "2026-11-20T12:00:00Z", "--format", "json")
    assert code == 0 and "Saved as" not in err
    assert not list(here.glob("*.db"))  # no state_db named: nothing written, wherever it is asked from
    config = here / "vpnbot.toml"
    config.write_text(AZURE_CONFIG.format(workspace="unused", endpoint="https://127.0.0.1:9"))
    code, out, err = run(capsys, "ask", question, "--config", str(config), "--azure-export", export,
                         "--now", "2026-11-20T12:00:00Z", "--format", "json")
    assert code == 0 and out == plain  # stdout is the answer, unchanged
    assert err.splitlines()[-1] == ("Saved as investigation 1 in state.db: `vpnbot evidence --id 1` packages it "
                                    "for support.")
    code, out, err = run(capsys, "evidence", "--id", "1", "--config", str(config), "--azure-export", export,
                         "--out", "paris.zip")
    assert code == 0, err
    answer = json.loads(members(here / "paris.zip")["answer.json"])
    assert answer["findings"][0]["cause"] == json.loads(plain)["findings"][0]["cause"] == "dpd_timeout"
    assert answer["findings"][0]["rule"] == "dpd_timeout"


@pytest.mark.parametrize(("argv", "said"), [
    (["evidence", "--question", "help"], "reads no logs, so there is nothing to bundle"),
    (["evidence", "--question", "why did pariss drop at 14:02"], "'paris'"),
    (["evidence", "--id", "99"], "unknown investigation 99 in vpnbot.db"),
])
def test_bad_input_is_one_line_and_exit_2(here, capsys, argv, said):
    StateStore(here / "vpnbot.db").close()
    code, out, err = run(capsys, *argv, "--now", NOW)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and said in err


def test_an_investigation_that_read_no_logs_is_refused(here, capsys):
    state = StateStore(here / "vpnbot.db")
    question_id = state.start_question(channel="C1", user="U1", text="tunnels", intent="tunnels", outcome="answered")
    state.close()
    code, out, err = run(capsys, "evidence", "--id", str(question_id))
    assert code == 2 and out == "" and "was a 'tunnels' question: it read no logs" in err


def test_no_source_that_can_rerun_the_queries_is_exit_1_and_no_bundle(here, capsys):
    run(capsys, "evidence", "--question", "why did paris drop yesterday at 14:02", "--now", NOW)
    code, out, err = run(capsys, "evidence", "--id", "1", "--out", "x.zip",
                         "--azure-export", str(RULE_FIXTURES / "dpd_timeout.csv"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "none of the investigation's queries could be re-run" in err
    assert not (here / "x.zip").exists() and not list(here.glob(".vpnbot-*"))


def test_rows_are_reread_from_log_analytics_through_the_real_client_with_the_exact_queries(here, capsys,
                                                                                          monkeypatch, log_analytics):
    rows = read_azure_export(RULE_FIXTURES / "maintenance_failover.csv").rows
    bin_dir = here / "bin"
    bin_dir.mkdir()
    fake_az(bin_dir, TOKEN)
    server = log_analytics({WORKSPACE_ID: rows}, token=TOKEN)
    (here / "vpnbot.toml").write_text(AZURE_CONFIG.format(workspace=WORKSPACE_ID, endpoint=server.endpoint))
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_path)
    code, _, err = run(capsys, "evidence", "--question", "why did paris drop at 14:02 UTC",
                       "--now", "2026-11-21T18:00:00Z", "--out", "la.zip")
    requests = list(server.requests)
    assert code == 0, err
    files = members(here / "la.zip")
    queries = json.loads(files["queries/queries.json"])
    assert queries and all(q["backend"] == "log-analytics" and q["origin"] == WORKSPACE_ID for q in queries)
    # Every query ran twice through the real client: once for the answer, once (identical, same timespan) for the
    # bundle's rows.
    # (A drop answer also reads the gateway's metrics, whose source looks the gateway's resource id up in the logs
    # once: diagnostics/azure/metrics.py; that lookup is no query of the answer's.)
    asked = [(r.body["query"], r.body.get("timespan")) for r in requests if "by ResourceId" not in r.body["query"]]
    half = len(asked) // 2
    assert len(asked) == 2 * len(queries) and asked[:half] == asked[half:]
    assert [text for text, _ in asked[half:]] == [q["text"] for q in queries]
    assert requests and all(r.auth_valid for r in requests)
    table = files[queries[0]["rows_files"][0]].decode().splitlines()
    assert len(table) - 1 == queries[0]["rows_in_bundle"] == queries[0]["rows_when_answered"] > 0
    assert "| Remote (on-premises) IP | 203.0.113.10 |" in files["report.md"].decode()
    for data in files.values():
        assert TOKEN.encode() not in data


def test_an_aws_bundle_rereads_cloudwatch_through_boto3(here, capsys, aws):
    records = read_aws_export(FIXTURES / "aws" / "dpd_timeout.json").records
    moved = rebase(records, int(time.time() * 1000) - 3_600_000)  # moto keeps the last 14 days of events only
    seed(aws, GROUP, moved)
    shift = (moved[0].timestamp - records[0].timestamp) / 1000
    at = datetime.fromtimestamp(datetime(2026, 11, 21, 14, 2, 5, tzinfo=UTC).timestamp() + shift, UTC)
    (here / "vpnbot.toml").write_text(AWS_CONFIG)
    code, _, err = run(capsys, "evidence", "--question", f"why did dc1 drop at {at:%H:%M} UTC",
                       "--now", datetime.now(UTC).isoformat(), "--out", "aws.zip")
    calls = aws.calls
    assert code == 0, err
    assert calls.count("FilterLogEvents") >= 2  # the answer's read, and the bundle's
    files = members(here / "aws.zip")
    command = files["queries/q01-cloudwatch-logs.sh"].decode()
    assert f"aws logs filter-log-events --region {REGION} --log-group-name {GROUP}" in command
    events = [json.loads(line) for line in files["rows/q01-cloudwatch-logs.jsonl"].decode().splitlines()]
    assert {e["logStreamName"] for e in events} == {f"{VPN}-52.95.10.1-IKE", f"{VPN}-52.95.10.2-IKE"}
    assert len(events) == json.loads(files["queries/queries.json"])[0]["rows_when_answered"]
    case = files["case.txt"].decode()
    assert f"VPN connection id: {VPN}" in case and "dpd_timeout" in case
