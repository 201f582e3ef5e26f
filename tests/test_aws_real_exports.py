"""Real AWS exports (tests/fixtures/real/aws/README.md): every shape people hand over is read right, refused in one
line that says what the file is and what to do instead, or read partly with the answer saying so first. Each row
goes through `vpnbot ask` as a user runs it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from support.cli import run
from support.fixture_logs import FIXTURES

REAL = FIXTURES / "real" / "aws"
DPD_QUESTION = ("why did vpn-0123456789abcdef0 drop at 14:02", "2026-11-21T18:00:00Z")
BGP_QUESTION = ("why did vpn-1234abcd drop at 05:26", "2025-11-08T08:00:00Z")
STREAM = "vpn-0123456789abcdef0-52.95.10.1-IKE"
ONE_CONNECTION = """
timezone = "UTC"

[[tunnels]]
name = "dc1"
aws_vpn_connection = "vpn-0123456789abcdef0"
aws_outside_ips = ["52.95.10.1", "52.95.10.2"]
"""
TWO_CONNECTIONS = ONE_CONNECTION + """
[[tunnels]]
name = "dc2"
aws_vpn_connection = "vpn-0fedcba9876543210"
"""


@pytest.fixture(autouse=True)
def no_export_cache(monkeypatch: pytest.MonkeyPatch, here: Path) -> None:
    monkeypatch.setenv("VPNBOT_CACHE_DIR", "off")


def ask_json(capsys, export: Path | str, question=DPD_QUESTION, *extra: str) -> tuple[int, dict | None, str]:
    text, now = question
    code, out, err = run(capsys, "ask", text, "--aws-export", str(export), "--now", now, "--format", "json", *extra)
    return code, (json.loads(out) if code == 0 else None), err


READ_RIGHT = [
    ("filter-log-events.json", DPD_QUESTION, "dpd_timeout", None),
    ("filter-log-events-pages.json", DPD_QUESTION, "dpd_timeout", None),
    ("filter-log-events-newest-first-utf16.json", DPD_QUESTION, "dpd_timeout", None),
    ("filter-log-events.txt", DPD_QUESTION, "dpd_timeout", None),
    ("logs-insights.csv", DPD_QUESTION, "dpd_timeout", None),
    ("logs-insights-fields.csv", DPD_QUESTION, "dpd_timeout", None),
    ("get-query-results.json", DPD_QUESTION, "dpd_timeout", None),
    ("aws-logs-tail.txt", DPD_QUESTION, "dpd_timeout", None),
    ("aws-logs-tail-json.txt", DPD_QUESTION, "dpd_timeout", None),
    ("filter-log-events-with-command.json", DPD_QUESTION, "dpd_timeout", None),
    (f"{STREAM}.json", DPD_QUESTION, "dpd_timeout", "the file's name says vpn-0123456789abcdef0-52.95.10.1"),
    (f"s3-export/{STREAM}/000000.gz", DPD_QUESTION, "dpd_timeout", "the file's folder says"),
    ("logs-insights-local-time.csv", DPD_QUESTION, "dpd_timeout", "+1 h from the events' own event_timestamp"),
    ("bgp-docs-example.json", BGP_QUESTION, "bgp_route_rejected", None),
    ("bgp-route-denied.json", BGP_QUESTION, "bgp_route_rejected", None),
]


@pytest.mark.parametrize(("name", "question", "cause", "caveat"), READ_RIGHT, ids=[r[0] for r in READ_RIGHT])
def test_every_shape_that_holds_the_incident_answers_with_its_cause(capsys, name, question, cause, caveat):
    code, answer, _ = ask_json(capsys, REAL / name, question)
    assert code == 0 and answer is not None
    assert answer["findings"][0]["cause"] == cause, answer["findings"][0]["explanation"]
    assert answer["findings"][0]["evidence"]
    if caveat:
        assert any(caveat in c for c in answer["caveats"]), answer["caveats"]
        assert answer["notes"][0] == answer["caveats"][0]  # said first
    else:
        assert not answer.get("caveats")


def test_the_dpd_answer_is_the_same_whatever_the_shape(capsys):
    answers = [ask_json(capsys, REAL / name)[1] for name, question, *_ in READ_RIGHT if question is DPD_QUESTION]
    drops = {json.dumps(a["drops"]) for a in answers if a}
    assert len(answers) == 13 and len(drops) == 1
    assert json.loads(drops.pop())[0]["down_at"] == "2026-11-21T14:02:05Z"


REFUSED = [
    ("get-log-events.json", ["the JSON of `aws logs get-log-events`", "carry no stream name", "--aws-stream"]),
    ("get-log-events.txt", ["`--output text` of `aws logs get-log-events`", "--aws-stream"]),
    ("console-messages.jsonl", ["tunnel log messages in JSON", "--aws-stream"]),
    ("tunnel-logs-text-format.log", ["text output format", "LogOutputFormat to json", "aws logs filter-log-events"]),
    ("azure-tunnel-export.csv", ["looks like an Azure Log Analytics export", "--azure-export"]),
    ("lambda-filter-log-events.json", ["none of its 3 events is a Site-to-Site VPN", "START RequestId",
                                       "--log-stream-name-prefix"]),
    ("empty-filter-log-events.json", ["no log events in it", "--start-time"]),
    ("filter-log-events.yaml", ["the `--output yaml` of the AWS CLI", "--output json"]),
]


@pytest.mark.parametrize(("name", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_files_that_cannot_answer_are_refused_in_one_line_saying_what_to_do(capsys, name, words):
    code, _, err = ask_json(capsys, REAL / name)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vpnbot: error: {Path(name).name}: ")
    for word in words:
        assert word in lines[0]
    assert "Traceback" not in err


def test_the_command_pasted_above_the_json_is_reported_and_skipped(capsys):
    code, answer, err = ask_json(capsys, REAL / "filter-log-events-with-command.json")
    assert code == 0 and answer is not None
    assert answer["drops"][0]["down_at"] == "2026-11-21T14:02:05Z"
    skipped = ("filter-log-events-with-command.json:1: line 1 is not part of the JSON after it ('$ aws logs "
               "filter-log-events")
    assert any(n.startswith(skipped) for n in answer["notes"]), answer["notes"]
    assert "Traceback" not in err


def test_json_messages_in_a_layout_that_is_no_export_are_refused_as_such_not_as_the_text_format(capsys, here):
    events = json.loads((REAL / "filter-log-events.json").read_text())["events"]
    wrapped = here / "app.log"  # an application's own log lines around the messages it forwarded
    wrapped.write_text("".join(f"INFO [forwarder] {e['logStreamName']} {e['message']}\n" for e in events))
    code, _, err = ask_json(capsys, wrapped)
    assert code == 2
    assert err.startswith("vpnbot: error: app.log: holds tunnel log messages in JSON (line 1), but in a layout that is "
                          "none of the exports read")
    assert "LogOutputFormat" not in err and "aws logs filter-log-events" in err


@pytest.mark.parametrize("name", ["get-log-events.json", "get-log-events.txt", "console-messages.jsonl"])
def test_aws_stream_names_the_stream_of_events_that_carry_none(capsys, name):
    code, answer, _ = ask_json(capsys, REAL / name, DPD_QUESTION, "--aws-stream", STREAM)
    assert code == 0 and answer is not None
    assert answer["findings"][0]["cause"] == "dpd_timeout"
    assert answer["drops"][0]["down_at"] == "2026-11-21T14:02:05Z"
    assert not answer.get("caveats")  # the person said which stream it was
    # one stream was read: the other tunnel's state is not in the file, and the answer says so
    explanation = answer["findings"][0]["explanation"]
    assert "whether the connection's other tunnel carried the traffic is unknown" in explanation


def test_one_aws_stream_for_two_files_without_stream_names_is_refused_rather_than_merging_two_tunnels(capsys):
    code, _, err = ask_json(capsys, REAL / "get-log-events.json", DPD_QUESTION, "--aws-export",
                            str(REAL / "console-messages.jsonl"), "--aws-stream", STREAM)
    assert code == 2
    line = err.strip()
    assert line.startswith("vpnbot: error: console-messages.jsonl: --aws-stream vpn-0123456789abcdef0-52.95.10.1-IKE "
                           "was already taken for the events of get-log-events.json") and "\n" not in line
    assert "name each file after its stream" in line


def test_with_one_aws_connection_configured_streamless_events_are_its_and_the_answer_says_so(capsys, here):
    (here / "vpnbot.toml").write_text(ONE_CONNECTION)
    code, answer, _ = ask_json(capsys, REAL / "get-log-events.json", ("why did dc1 drop at 14:02",
                                                                       DPD_QUESTION[1]))
    assert code == 0 and answer is not None
    assert answer["findings"][0]["cause"] == "dpd_timeout"
    caveat = answer["caveats"][0]
    assert "attributed to dc1 (vpn-0123456789abcdef0), the only AWS VPN connection in the configuration" in caveat
    assert "Which of its tunnels logged them is unknown" in caveat and "--aws-stream" in caveat
    assert "If the file holds both tunnels' events, their states are read as one tunnel's" in caveat
    assert "Which of the connection's tunnels this was is unknown" in answer["findings"][0]["explanation"]


def test_an_insights_csv_without_streams_of_both_tunnels_warns_that_their_states_are_mixed(capsys, here):
    name = "logs-insights-no-stream.csv"
    code, _, err = ask_json(capsys, REAL / name)
    assert code == 2 and "carry no stream name" in err and "--aws-stream" in err
    (here / "vpnbot.toml").write_text(ONE_CONNECTION)
    code, answer, _ = ask_json(capsys, REAL / name, ("why did dc1 drop at 14:02", DPD_QUESTION[1]))
    assert code == 0 and answer is not None
    assert answer["findings"][0]["cause"] == "dpd_timeout"
    assert answer["drops"][0]["down_at"] == "2026-11-21T14:02:05Z"
    assert "a drop's start or end may be the other tunnel's" in answer["notes"][0]


def test_with_several_connections_configured_streamless_events_are_refused(capsys, here):
    (here / "vpnbot.toml").write_text(TWO_CONNECTIONS)
    code, _, err = ask_json(capsys, REAL / "console-messages.jsonl", ("why did dc1 drop at 14:02", DPD_QUESTION[1]))
    assert code == 2
    assert "the configuration has 2 AWS VPN connections" in err and "--aws-stream" in err


def test_a_bad_aws_stream_is_refused_with_an_example(capsys):
    with pytest.raises(SystemExit) as exit_:
        run(capsys, "ask", DPD_QUESTION[0], "--aws-export", str(REAL / "get-log-events.json"), "--aws-stream", "dc1")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--aws-stream" in err and "vpn-0123456789abcdef0-52.95.10.1" in err


def test_aws_stream_not_needed_is_said_once_before_the_answer(capsys):
    code, _, err = ask_json(capsys, REAL / "filter-log-events.json", DPD_QUESTION, "--aws-stream", STREAM)
    assert code == 0
    assert "--aws-stream vpn-0123456789abcdef0-52.95.10.1-IKE was not needed for filter-log-events.json" in err


def test_the_docs_route_denial_names_prefix_reason_and_fix(capsys):
    code, answer, _ = ask_json(capsys, REAL / "bgp-docs-example.json", BGP_QUESTION)
    assert code == 0 and answer is not None
    main = answer["findings"][0]
    assert main["cause"] == "bgp_route_rejected" and main["confidence"] == "high"
    assert "172.31.0.0/16" in main["title"] and "as-path contains our own AS" in main["explanation"]
    assert "64512 is the Amazon side's default ASN" in main["explanation"]
    assert "BGP ASN different from the Amazon-side ASN" in main["advice"]
    assert not answer["drops"] and [f["cause"] for f in answer["findings"]][1:] == ["no_drop_found"]


def test_the_evidence_bundle_of_a_denied_route_asks_aws_about_the_denied_routes(capsys, here):
    code, _, err = run(capsys, "evidence", "--question", BGP_QUESTION[0], "--aws-export",
                         str(REAL / "bgp-docs-example.json"), "--now", BGP_QUESTION[1], "--out", "bundle.zip")
    assert code == 0, err
    with zipfile.ZipFile(here / "bundle.zip") as bundle:
        case = next(bundle.read(n).decode() for n in bundle.namelist() if n.endswith(".txt") and "case" in n)
    assert "bgp_route_rejected" in case and "172.31.0.0/16" in case
    assert "routes the customer gateway advertised denied by" in case
    assert "no cause the bot recognises" not in case


def test_two_denied_prefixes_are_one_finding_with_each_reason_and_the_session_setup_is_no_drop(capsys):
    code, answer, _ = ask_json(capsys, REAL / "bgp-route-denied.json", BGP_QUESTION)
    assert code == 0 and answer is not None
    assert answer["drops"] == []
    main = answer["findings"][0]
    assert main["title"] == "AWS denied 2 routes the customer gateway advertised"
    assert "172.31.0.0/16" in main["explanation"] and "10.60.0.0/16" in main["explanation"]
    assert "'non-connected next-hop'" in main["explanation"] and "next-hop-self" in main["advice"]
    assert "10.50.0.0/16" not in main["explanation"]  # accepted
    assert {e["text"].split(" 1")[0] for e in main["evidence"]} and len(main["evidence"]) == 2
