"""`--aws-export`: the JSON of `aws logs filter-log-events`, in the shapes people send, with bad events reported as
file:line and skipped while the rest are used."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from support.fixture_logs import FIXTURES, utc

from diagnostics.aws.exports import AwsExportError, read_aws_export
from diagnostics.aws.sources import MemoryLogSource
from diagnostics.azure.exports import ExportError
from diagnostics.investigate import investigate
from diagnostics.model import Cause
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

AWS = FIXTURES / "aws"
DC1 = Tunnel(name="dc1", aws_vpn_connection="vpn-0123456789abcdef0", aws_outside_ips=("52.95.10.1", "52.95.10.2"))


def test_cli_output_is_read_with_every_event_and_its_line():
    read = read_aws_export(AWS / "dpd_timeout.json")
    document = json.loads((AWS / "dpd_timeout.json").read_text())
    assert len(read.records) == len(document["events"]) and not read.problems
    first = read.records[0]
    assert first.stream == document["events"][0]["logStreamName"] and first.line == 3
    lines = (AWS / "dpd_timeout.json").read_text().splitlines()
    assert read.records and all(lines[r.line - 1].strip() == "{" for r in read.records)


def test_bad_events_are_reported_as_file_and_line_and_the_rest_still_answer():
    read = read_aws_export(AWS / "bad_rows.json")
    assert read.problems == [
        "bad_rows.json:13: unreadable event (not JSON: Invalid control character at); skipped",
        "bad_rows.json:17: message is not JSON (JSONDecodeError); text output format is not supported, set the "
        "tunnel's LogOutputFormat to json; event skipped",
    ]
    anchor = utc("2026-11-21T14:02:00Z")
    source = MemoryLogSource(read.records, label="export", origin="bad_rows.json")
    result = investigate(DC1, anchor - timedelta(minutes=15), anchor + timedelta(minutes=15), Sources(aws=[source]),
                         now=anchor + timedelta(hours=4), anchor=anchor)
    assert result.findings[0].cause is Cause.DPD_TIMEOUT


def test_pages_saved_one_after_the_other_bare_lists_and_json_lines_are_read(tmp_path):
    document = json.loads((AWS / "remote_delete.json").read_text())
    events = document["events"]
    half = len(events) // 2
    pages = tmp_path / "pages.json"
    pages.write_text(json.dumps({"events": events[:half], "nextToken": "abc"}, indent=4) + "\n"
                     + json.dumps({"events": events[half:], "searchedLogStreams": []}, indent=4))
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(events))
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    for path in (pages, bare, lines):
        read = read_aws_export(path)
        assert [r.message for r in read.records] == [e["message"] for e in events], path.name
        assert not read.problems
    assert read_aws_export(lines).records[4].line == 5


def test_a_broken_json_line_loses_only_that_line(tmp_path):
    events = json.loads((AWS / "remote_delete.json").read_text())["events"]
    text = [json.dumps(e) for e in events]
    text[2] = text[2][:40]
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join(text))
    read = read_aws_export(path)
    assert len(read.records) == len(events) - 1
    assert read.problems and read.problems[0].startswith("cut.jsonl:3: not JSON")


@pytest.mark.parametrize(("content", "message"), [
    ("", "the file is empty"),
    ('{"events": [], "searchedLogStreams": []}', "no log events in it"),
    ("not json at all", "not JSON"),
])
def test_unreadable_files_stop_with_their_name(tmp_path, content, message):
    path = tmp_path / "export.json"
    path.write_text(content)
    with pytest.raises(AwsExportError, match=message) as info:
        read_aws_export(path)
    assert str(info.value).startswith("export.json") or str(info.value).startswith(str(path))
    assert isinstance(info.value, ExportError)  # the CLI's bad-input handling covers it


def test_missing_file_is_named(tmp_path):
    with pytest.raises(AwsExportError, match="no such file"):
        read_aws_export(tmp_path / "nope.json")


def test_memory_source_reads_like_cloudwatch_by_connection_streams_and_inclusive_range():
    read = read_aws_export(AWS / "dpd_timeout.json")
    source = MemoryLogSource(read.records, label="x", origin="x")
    from diagnostics.aws.sources import TunnelLogRequest

    start = utc("2026-11-21T14:02:05Z")
    request = TunnelLogRequest("vpn-0123456789abcdef0", ("52.95.10.1",), start, start + timedelta(seconds=41))
    got = source.read_tunnel_logs(request)
    assert got.records[0].timestamp == request.start_ms
    assert got.records[-1].timestamp == request.end_ms
    assert {r.stream for r in got.records} == {"vpn-0123456789abcdef0-52.95.10.1-IKE"}
    other = TunnelLogRequest("vpn-0fffffffffffffff0", (), start, start + timedelta(hours=1))
    assert source.read_tunnel_logs(other).records == []
