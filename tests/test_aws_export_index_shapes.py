"""The other AWS export shapes through the big-file index (diagnostics/aws/export_layouts.py): a Logs Insights CSV,
`get-log-events`, the log messages one a line, `aws logs tail` and an export to S3's lines are indexed like a
`filter-log-events` file, and `vpnbot ask` answers exactly what it answers when the same file is read whole; a file
that breaks its layout anywhere is read whole. The size threshold and the chunk size are lowered so that small files
take the big-file path and events straddle chunk boundaries."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from support import aws_shapes as shapes

from bot.cli import main
from diagnostics.aws import export_index
from diagnostics.aws.export_index import IndexedExportSource
from diagnostics.aws.export_sources import load_aws_exports
from diagnostics.aws.exports import read_aws_export
from diagnostics.aws.sources import MemoryLogSource
from diagnostics.tunnels import Tunnel

ALL = shapes.events_of("dpd_timeout.json")
STREAM = "vpn-0123456789abcdef0-52.95.10.1-IKE"
ONE = shapes.one_stream(ALL, STREAM)
DC1 = Tunnel(name="dc1", aws_vpn_connection="vpn-0123456789abcdef0", aws_outside_ips=("52.95.10.1", "52.95.10.2"))
QUESTION = "why did vpn-0123456789abcdef0 drop at 14:02"
CONFIG = shapes.CONFIG

#: shape -> (the file's text, extra `vpnbot ask` arguments: how the events that name no stream are attributed)
SHAPES = {
    "insights csv": (shapes.insights_csv(list(reversed(ALL))), ()),  # newest first, as Insights sorts
    "insights csv ;": (shapes.insights_csv(ALL, ";"), ()),
    "insights csv tab": (shapes.insights_csv(ALL, "\t"), ()),
    "get-log-events": (shapes.get_log_events(ONE), ("--aws-stream", STREAM)),
    "messages": (shapes.messages(ONE), ("--aws-stream", STREAM)),
    "messages, configuration": (shapes.messages(ONE), ("--config", "CONFIG")),
    "tail": (shapes.tail_output(ALL), ()),
    "tail, --aws-stream not needed": (shapes.tail_output(ALL), ("--aws-stream", STREAM)),
    "tail short": (shapes.tail_output(ONE, "short"), ("--aws-stream", STREAM)),
    "s3 export lines": (shapes.stamped_lines(ONE), ("--config", "CONFIG")),
}


@pytest.fixture(autouse=True)
def small_files_are_indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_index, "INDEX_MIN_BYTES", 0)
    monkeypatch.setattr(export_index, "CHUNK_BYTES", 1500)  # a few events per chunk, cut anywhere
    monkeypatch.setenv("VPNBOT_CACHE_DIR", "off")


def vpnbot(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def ask(path: Path, extra: tuple[str, ...]) -> dict:
    extra = tuple(str(shapes.write(path.parent / "vpnbot.toml", CONFIG)) if a == "CONFIG" else a for a in extra)
    code, out, err = vpnbot("ask", QUESTION, "--aws-export", str(path), "--now", "2026-11-21T18:00:00Z",
                            "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def key(record) -> tuple:
    return record.stream, record.timestamp, record.message


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_big_file_of_each_shape_is_indexed_and_answers_as_the_file_read_whole(monkeypatch, tmp_path, shape):
    text, extra = SHAPES[shape]
    path = shapes.write(tmp_path / "events.txt", text)
    stream = extra[1] if extra[:1] == ("--aws-stream",) else ""
    loaded = load_aws_exports([path], stream=stream, tunnels=[DC1])
    assert [type(s) for s in loaded.sources] == [IndexedExportSource]
    indexed = ask(path, extra)

    monkeypatch.setattr(export_index, "INDEX_MIN_BYTES", 1 << 40)  # the same file read whole
    assert [type(s) for s in load_aws_exports([path], stream=stream, tunnels=[DC1]).sources] == [MemoryLogSource]
    whole = ask(path, extra)

    assert indexed["findings"][0]["cause"] == "dpd_timeout"
    assert indexed["drops"][0]["down_at"] == "2026-11-21T14:02:05Z"
    for part in ("findings", "drops", "caveats", "notes", "verdict", "tunnel"):
        assert indexed.get(part) == whole.get(part), part


@pytest.mark.parametrize("encoding", ["utf-8-crlf", "utf-16"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_an_indexed_file_holds_the_events_and_lines_the_general_reader_reads(tmp_path, shape, encoding):
    text, extra = SHAPES[shape]
    path = shapes.write(tmp_path / "events.txt", shapes.encoded(text, encoding))
    stream = extra[1] if extra[:1] == ("--aws-stream",) else ""
    loaded = load_aws_exports([path], stream=stream, tunnels=[DC1])
    (indexed,) = loaded.sources
    assert isinstance(indexed, IndexedExportSource)
    general = sorted(read_aws_export(path, stream=stream, tunnels=[DC1]).records, key=lambda r: r.timestamp)
    assert len(general) == len(indexed) >= len(ONE)
    assert sorted(map(key, indexed.records)) == sorted(map(key, general))
    if "get" not in shape:  # one event a line: the line is the general reader's
        assert sorted((r.line, r.timestamp) for r in indexed.records) == sorted((r.line, r.timestamp) for r in general)


def test_the_second_question_about_a_csv_reads_its_index_from_the_cache(tmp_path, monkeypatch):
    from diagnostics.azure.workspace_cache import WorkspaceCache  # the export cache the CLI uses

    cache = WorkspaceCache(tmp_path / "cache")
    path = shapes.write(tmp_path / "logs-insights.csv", shapes.insights_csv(list(reversed(ALL))))
    first, second = (load_aws_exports([path], cache=cache).sources[0] for _ in range(2))
    assert isinstance(first, IndexedExportSource) and isinstance(second, IndexedExportSource)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert [key(r) for r in second.records] == [key(r) for r in first.records]


@pytest.mark.parametrize("render", [
    # a line that is no event: the general reader reports it and reads the rest
    lambda: shapes.insights_csv(ALL) + "this is not a row\n" + shapes.insights_csv(ALL).split("\n", 1)[1],
    # a sheet re-saved in UTC+1: the general reader uses the events' own times and says so
    lambda: shapes.insights_csv([shapes.CwEvent(e.stream, e.timestamp + 3_600_000, e.message, 0, "") for e in ALL]),
    # the messages of another shape of one line each: JSON lines of events
    lambda: shapes.event_lines(ALL),
    # `aws logs tail --format json`: messages over several lines
    lambda: shapes.tail_output(ALL, "json"),
    # a Logs Insights CSV of the fields a query projected
    lambda: shapes.insights_csv(ALL, fields=True),
], ids=["csv with a stray line", "csv times an hour off", "event lines", "tail json", "insights fields"])
def test_a_file_off_its_layout_is_read_whole(tmp_path, render):
    path = shapes.write(tmp_path / "events.txt", render())
    loaded = load_aws_exports([path])
    assert [type(s) for s in loaded.sources] == [MemoryLogSource]
    assert len(loaded.sources[0]) >= len(ALL)


def test_streamless_messages_that_name_their_connection_are_read_whole(tmp_path):
    bgp = json.dumps({"resource_id": "vpn-0123456789abcdef0", "event_timestamp": 1795269725, "type": "BGPStatus",
                      "status": "UP", "message": {"details": "BGP session is up"}})
    path = shapes.write(tmp_path / "messages.jsonl", shapes.messages(ONE) + bgp + "\n")
    loaded = load_aws_exports([path])
    assert [type(s) for s in loaded.sources] == [MemoryLogSource]


def test_streamless_indexed_events_without_anything_naming_their_tunnel_are_refused_saying_what_to_give(tmp_path):
    path = shapes.write(tmp_path / "events.json", shapes.get_log_events(ONE))
    code, out, err = vpnbot("ask", QUESTION, "--aws-export", str(path), "--now", "2026-11-21T18:00:00Z")
    assert code == 2, out
    assert len(err.strip().splitlines()) == 1 and "--aws-stream" in err and "no stream name" in err
