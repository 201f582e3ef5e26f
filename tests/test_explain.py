"""`vpnbot explain FILE|-`, run through `bot.cli.main`: an export is investigated over its time span and answered as
`ask` answers; Network Watcher files, IKE messages without times and device logs get the negotiation analysis
without a timeline; anything else is refused in one line saying what is accepted."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.cli import run
from support.fixture_logs import RULE_FIXTURES

from diagnostics import troubleshoot_zip as troubleshoot
from handlers.render.blockkit import limit_problems

FOREIGN = RULE_FIXTURES.parent / "real" / "foreign"
AWS = RULE_FIXTURES.parent / "aws"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("VPNBOT_CACHE_DIR", str(tmp_path / "cache"))


def explain_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, "explain", *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_network_watcher_ikelogs_is_explained_as_the_device_proposing_des_md5_for_phase_2(here, capsys):
    code, out, err = run(capsys, "explain", str(FOREIGN / "IKElogs.txt"))
    assert code == 0 and err == ""
    first = out.splitlines()[0]
    assert first.startswith("IKElogs.txt: a Network Watcher VPN troubleshoot IKElogs.txt")
    assert "ike_proposal_mismatch" in first
    assert "The device proposes DES/MD5 for phase 2; Azure's default policy does not accept it" in out
    assert "no timeline" in out


def test_the_json_of_lines_without_times_has_no_window_and_quotes_lines_by_number(here, capsys):
    doc = explain_json(capsys, str(FOREIGN / "IKElogs.txt"))
    assert doc["schema"] == 1 and doc["intent"] == "explain" and doc["window"] is None and doc["drops"] == []
    assert doc["input"] == {"name": "IKElogs.txt", "kind": "network_watcher_ike_logs", "lines": 6,
                            "what": doc["input"]["what"]}
    finding = doc["findings"][0]
    assert finding["cause"] == "ike_proposal_mismatch"
    assert [e["source"] for e in finding["evidence"]] == ["IKElogs.txt:4", "IKElogs.txt:5", "IKElogs.txt:6"]
    assert all(e["time"] is None for e in finding["evidence"])


def test_a_pasted_ike_exchange_on_standard_input_is_explained_as_a_psk_mismatch(here, capsys, monkeypatch):
    data = (FOREIGN / "ike-exchange-psk.txt").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    doc = explain_json(capsys, "-")
    assert doc["question"] == "explain -" and doc["findings"][0]["cause"] == "psk_mismatch"
    assert doc["findings"][0]["evidence"][0]["source"].startswith("-:")


def test_utf16_ike_errors_saved_by_powershell_are_read(here, capsys, tmp_path):
    path = tmp_path / "IKEErrors.txt"
    path.write_bytes((FOREIGN / "IKEErrors.txt").read_text(encoding="utf-8").encode("utf-16"))
    assert explain_json(capsys, str(path))["findings"][0]["cause"] == "psk_mismatch"


@pytest.mark.parametrize(("name", "cause"), [
    ("Scrubbed-wfpdiag.txt", "psk_mismatch"),
    ("ike-exchange-dh-group.txt", "ike_proposal_mismatch"),
    ("strongswan-child-sa-pfs.log", "ike_proposal_mismatch"),
    ("libreswan-ikev2-no-proposal.log", "ike_proposal_mismatch"),
    ("cisco-asa-phase1-dh-group.log", "ike_proposal_mismatch"),
    ("fortigate-phase2-proposal.log", "ike_proposal_mismatch"),
])
def test_each_public_sample_gets_its_cause(here, capsys, name, cause):
    assert explain_json(capsys, str(FOREIGN / name))["findings"][0]["cause"] == cause


def test_network_watcher_statistics_are_recognised_with_nothing_to_explain(here, capsys):
    code, out, _ = run(capsys, "explain", str(FOREIGN / "ConnectionStats.txt"))
    assert code == 0 and "statistics" in out.splitlines()[0] and "IKElogs.txt" in out


def test_a_portal_csv_is_investigated_over_its_span_with_the_answer_ask_gives(here, capsys):
    path = str(RULE_FIXTURES / "maintenance_failover.csv")
    explained = explain_json(capsys, path)
    _, out, _ = run(capsys, "ask", "drops 203.0.113.10 between 2026-11-21T13:00Z and 2026-11-21T15:00Z",
                         "--azure-export", path, "--now", "2026-11-22T00:00:00Z", "--format", "json")
    asked = json.loads(out)
    assert explained["intent"] == "explain" and explained["input"]["kind"] == "azure_export"
    assert explained["findings"][0]["cause"] == asked["findings"][0]["cause"] == "maintenance_failover"
    assert explained["drops"] == asked["drops"] and len(explained["drops"]) == 2
    assert explained["tunnel"]["azure_remote_ip"] == "203.0.113.10"


def test_the_configuration_names_the_tunnel_of_the_rows(here, capsys):
    (here / "vpnbot.toml").write_text('[[tunnels]]\nname = "paris"\nazure_gateway = "VPNGW01"\n'
                                      'azure_remote_ip = "203.0.113.10"\n\n[[tunnels]]\nname = "lyon"\n'
                                      'azure_gateway = "VPNGW01"\nazure_remote_ip = "203.0.113.20"\n')
    doc = explain_json(capsys, str(RULE_FIXTURES / "psk_mismatch.csv"))
    assert doc["tunnel"]["name"] == "paris" and doc["findings"][0]["cause"] == "psk_mismatch"


def test_an_export_of_microsofts_ike_query_is_investigated_as_its_peers_negotiations(here, capsys, tmp_path):
    """The IKE log events query projects `SessionID, RemoteIP, LocalIP, IKEMessage`: no Resource, no tunnel rows."""
    rows = ["TimeGenerated [UTC],SessionID,RemoteIP,LocalIP,IKEMessage"]
    for i, line in enumerate((FOREIGN / "ike-exchange-psk.txt").read_text(encoding="utf-8").splitlines()):
        message = line.split(": Local 203.0.113.235:500: ", 1)[1].replace('"', '""')
        rows.append(f'2026-11-21T14:02:{i:02d}.000Z,3baa1cd0-77ec-40e6-b0d6-7ef40b2372a5,198.51.100.148,'
                    f'203.0.113.235,"{message}"')
    path = tmp_path / "query_data.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    doc = explain_json(capsys, str(path))
    assert doc["tunnel"]["azure_remote_ip"] == "198.51.100.148"
    assert doc["findings"][0]["cause"] == "psk_mismatch"


def test_aws_filter_log_events_output_is_investigated(here, capsys):
    doc = explain_json(capsys, str(AWS / "dpd_timeout.json"))
    assert doc["input"]["kind"] == "aws_export" and doc["findings"][0]["cause"] == "dpd_timeout"


def test_blocks_fit_slack_and_carry_no_buttons_that_would_read_other_logs(here, capsys):
    for path in (FOREIGN / "IKElogs.txt", RULE_FIXTURES / "maintenance_failover.csv"):
        code, out, _ = run(capsys, "explain", str(path), "--format", "blocks")
        message = json.loads(out)
        assert code == 0 and limit_problems(message) == []
        assert not [b for b in message["blocks"] if b["type"] == "actions"]


@pytest.mark.parametrize("content", [b"hello team, the tunnel is down again\nany idea?\n",
                                     b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_unrecognisable_input_is_refused_in_one_line_saying_what_is_accepted(here, capsys, tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    code, out, err = run(capsys, "explain", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("vpnbot: error: ") and "notes.txt" in err


def test_unrecognisable_text_says_which_inputs_explain_reads(here, capsys, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello team, the tunnel is down again\nany idea?\n")
    _, _, err = run(capsys, "explain", str(path))
    assert "IKElogs.txt" in err and "filter-log-events" in err and "strongSwan" in err


def test_a_missing_file_is_one_line(here, capsys):
    code, _, err = run(capsys, "explain", "nowhere.csv")
    assert code == 2 and err.strip() == "vpnbot: error: nowhere.csv: no such file"


def test_an_unknown_tunnel_asked_for_gets_the_closest_names(here, capsys):
    code, _, err = run(capsys, "explain", str(RULE_FIXTURES / "maintenance_failover.csv"), "--tunnel", "pariss",
                       "--demo")
    assert code == 2 and "paris" in err


REAL = RULE_FIXTURES.parent / "real"


def test_pasted_rows_are_called_standard_input_never_by_the_copy_the_readers_read(here, capsys, monkeypatch):
    """The readers read a scratch copy of standard input: its name or path never reaches the answer."""
    data = (REAL / "azure" / "jpaztech-gateway-tunnel.csv").read_bytes()  # no Resource column
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, err = run(capsys, "explain", "-")
    assert code == 0, err
    assert "maintenance_failover" in out.splitlines()[0]
    assert "Read partly: standard input names no gateway" in out
    assert "local on standard input" in out  # the queries name the input too
    assert "stdin.txt" not in out + err and "vpnbot-explain-" not in out + err


def test_a_file_without_resource_is_the_configured_gateways_and_named_as_the_configuration_names_it(here, capsys):
    (here / "vpnbot.toml").write_text((REAL / "azure" / "vpnbot.toml").read_text(encoding="utf-8"))
    doc = explain_json(capsys, str(REAL / "azure" / "jpaztech-gateway-tunnel.csv"))
    assert doc["tunnel"]["name"] == "paris" and doc["tunnel"]["azure_gateway"] == "VPNGW01"
    assert doc["findings"][0]["cause"] == "maintenance_failover"
    assert any("VPNGW01" in c and "no `Resource`" in c for c in doc["caveats"])


def test_aws_messages_without_their_stream_are_attributed_to_the_only_configured_connection(here, capsys):
    (here / "vpnbot.toml").write_text('[[tunnels]]\nname = "dc1"\naws_vpn_connection = "vpn-0123456789abcdef0"\n'
                                      'aws_outside_ips = ["52.95.10.1", "52.95.10.2"]\n')
    code, out, err = run(capsys, "explain", str(REAL / "aws" / "console-messages.jsonl"))
    assert code == 0, err
    assert out.splitlines()[0] == "console-messages.jsonl: an AWS log export: dpd_timeout"
    assert "attributed to dc1 (vpn-0123456789abcdef0), the only AWS VPN connection in the configuration" in out


def test_aws_messages_without_their_stream_and_no_configuration_ask_for_the_stream(here, capsys):
    code, out, err = run(capsys, "explain", str(REAL / "aws" / "console-messages.jsonl"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "carry no stream name" in err and "--aws-stream" in err


def test_aws_tunnel_logs_in_the_text_format_get_the_aws_readers_refusal(here, capsys):
    code, _, err = run(capsys, "explain", str(REAL / "aws" / "tunnel-logs-text-format.log"))
    assert code == 2 and err.startswith("vpnbot: error: tunnel-logs-text-format.log: AWS tunnel log messages")
    assert "LogOutputFormat" in err


def test_a_fresh_process_refuses_binary_input_in_one_line_without_a_traceback(tmp_path):
    """In a fresh process no export reader is loaded yet when the file is refused for not being text."""
    path = tmp_path / "screenshot.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    env = {**os.environ, "VPNBOT_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("VPNBOT_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "explain", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("vpnbot: error: screenshot.txt: ") and done.stderr.count("\n") == 1


def troubleshoot_zip(path, **members: str):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:  # as Network Watcher leaves it
        for name, content in members.items():
            archive.writestr(f"vpn-troubleshoot/{name.replace('_', '.')}", content)
    return path


def test_network_watchers_troubleshoot_zip_is_explained_from_the_ike_log_inside(here, capsys, tmp_path):
    path = troubleshoot_zip(tmp_path / "troubleshoot.zip",
                            ConnectionStats_txt=(FOREIGN / "ConnectionStats.txt").read_text(),
                            IKEErrors_txt=(FOREIGN / "IKEErrors.txt").read_text(),
                            IKElogs_txt=(FOREIGN / "IKElogs.txt").read_text())
    doc = explain_json(capsys, str(path))
    assert doc["input"]["name"] == "troubleshoot.zip/IKElogs.txt"  # the newer, complete log over IKEErrors.txt
    assert doc["findings"][0]["cause"] == "ike_proposal_mismatch"
    assert doc["findings"][0]["evidence"][0]["source"] == "troubleshoot.zip/IKElogs.txt:4"
    assert "Read from troubleshoot.zip, which also holds ConnectionStats.txt, IKEErrors.txt." in doc["notes"]


def test_an_older_gateways_zip_is_explained_from_its_ike_errors(here, capsys, tmp_path):
    path = troubleshoot_zip(tmp_path / "old.zip", IKEErrors_txt=(FOREIGN / "IKEErrors.txt").read_text(),
                            Scrubbed_wfpdiag_txt=(FOREIGN / "Scrubbed-wfpdiag.txt").read_text())
    assert explain_json(capsys, str(path))["findings"][0]["cause"] == "psk_mismatch"


def test_a_zip_without_network_watchers_logs_is_refused_saying_what_it_holds(here, capsys, tmp_path):
    path = troubleshoot_zip(tmp_path / "stats.zip", CPUStats_txt="Current CPU Usage : 3 %")
    code, _, err = run(capsys, "explain", str(path))
    assert code == 2 and err.count("\n") == 1
    assert "stats.zip: a zip archive without Network Watcher's IKElogs.txt" in err and "CPUStats.txt" in err


def test_a_zip_whose_log_expands_past_the_cap_is_refused_unread(here, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(troubleshoot, "MAX_MEMBER_BYTES", 1024)
    path = troubleshoot_zip(tmp_path / "big.zip", IKElogs_txt=(FOREIGN / "IKElogs.txt").read_text() * 20)
    code, _, err = run(capsys, "explain", str(path))
    assert code == 2 and "big.zip: its vpn-troubleshoot/IKElogs.txt is larger than the 1 KB read from a zip" in err


def ike_rows(*, zone: str = "Z", sep: str = "\t") -> str:
    """IKE rows as copied out of Log Analytics' results grid (`TimeGenerated`, `Message`), without the header."""
    messages = (FOREIGN / "ike-exchange-dh-group.txt").read_text(encoding="utf-8").splitlines()
    return "".join(f"2026-11-21T14:02:0{i}.123{zone}{sep}{m}\n" for i, m in enumerate(messages))


def test_rows_pasted_without_their_header_are_read_by_what_their_columns_hold(here, capsys, monkeypatch):
    rows = ike_rows() + "yesterday\tSESSION_ID :{26097afb-e960-4f7c-87db-65ab85bdb299} Remote 198.51.100.148:500\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(rows.encode())))
    code, out, err = run(capsys, "explain", "-")
    assert code == 0, err
    assert out.splitlines()[0] == "-: an Azure log export: ike_proposal_mismatch"
    assert "the device offers DH group 14 only" in out  # the first row is a row, not a header
    assert "The rows came without their header: the first column was read as their time" in out
    assert "standard input:5: unreadable time 'yesterday'" in err  # the line as it was pasted
    assert "Column" not in out + err


def test_rows_without_their_header_whose_times_have_no_zone_need_export_tz(here, capsys, tmp_path):
    path = tmp_path / "grid.tsv"
    path.write_text(ike_rows(zone=""), encoding="utf-8")
    code, _, err = run(capsys, "explain", str(path))
    assert code == 2 and err.count("\n") == 1
    assert "grid.tsv: the times of these rows carry no zone" in err and "--export-tz ZONE" in err
    doc = explain_json(capsys, str(path), "--export-tz", "Europe/Paris")
    assert doc["findings"][0]["cause"] == "ike_proposal_mismatch"
    assert doc["window"]["start"].startswith("2026-11-21T13:02:00")  # 14:02 in Paris is 13:02 UTC


def test_rows_no_configured_gateway_can_own_are_explained_named_after_their_peer(here, capsys, tmp_path):
    """Without Resource, and from a peer none of the demo's gateways has: `ask` would refuse to guess the gateway,
    explain names the tunnel after the remote IP its rows show."""
    path = tmp_path / "grid.tsv"
    path.write_text(ike_rows(), encoding="utf-8")
    doc = explain_json(capsys, str(path), "--demo")
    assert doc["tunnel"]["azure_remote_ip"] == "198.51.100.148"
    assert doc["findings"][0]["cause"] == "ike_proposal_mismatch"


def test_lines_that_name_no_tunnel_say_a_custom_policy_could_change_the_comparison(here, capsys):
    (here / "vpnbot.toml").write_text('[[tunnels]]\nname = "paris"\nazure_gateway = "VPNGW01"\n'
                                      'azure_remote_ip = "203.0.113.10"\n'
                                      'ipsec_policy = { ike_encryption = "AES256", ike_integrity = "SHA256", '
                                      'dh_group = "DHGroup14" }\n')
    doc = explain_json(capsys, str(FOREIGN / "ike-exchange-dh-group.txt"))
    assert doc["tunnel"] is None and "DH group 2" in doc["findings"][0]["explanation"]  # the default policy's
    assert any("paris has a custom IPsec policy: `--tunnel paris` compares with it" in n for n in doc["notes"])
    named = explain_json(capsys, str(FOREIGN / "ike-exchange-dh-group.txt"), "--tunnel", "paris")
    assert named["tunnel"]["name"] == "paris"
    assert not any("DH group" in f["title"] for f in named["findings"])  # group 14 is what paris's policy asks for
    assert not any("custom IPsec policy" in n for n in named["notes"])


def test_ike_messages_each_after_its_time_are_investigated_with_their_times(here, capsys, tmp_path):
    path = tmp_path / "ike.log"
    lines = (FOREIGN / "ike-exchange-dh-group.txt").read_text(encoding="utf-8").splitlines()
    path.write_text("".join(f"2026-11-21T14:02:0{i}Z {line}\n" for i, line in enumerate(lines)), encoding="utf-8")
    doc = explain_json(capsys, str(path))
    assert doc["input"]["kind"] == "azure_export" and doc["findings"][0]["cause"] == "ike_proposal_mismatch"
    assert doc["findings"][0]["evidence"][0]["time"].startswith("2026-11-21T14:02:0")
