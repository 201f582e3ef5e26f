"""Big `filter-log-events` files are indexed instead of read whole (diagnostics/aws/export_index.py): the same events
and answers as the general reader, whatever the page layout or order, the index kept in the export cache by the
file's content hash, and anything off the CLI's layout left to the general reader. The size threshold and the chunk
size are lowered so that small files take the big-file path and events straddle chunk boundaries."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import aws_shapes as shapes

from diagnostics.aws import export_index
from diagnostics.aws.export_index import IndexedExportSource, open_index
from diagnostics.aws.export_sources import load_aws_exports
from diagnostics.aws.exports import AwsExportError, read_aws_export
from diagnostics.aws.sources import MemoryLogSource, TunnelLogRequest
from diagnostics.azure.workspace_cache import WorkspaceCache
from diagnostics.investigate import investigate
from diagnostics.model import Cause
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

EVENTS = shapes.events_of("dpd_timeout.json")
DC1 = Tunnel(name="dc1", aws_vpn_connection="vpn-0123456789abcdef0", aws_outside_ips=("52.95.10.1", "52.95.10.2"))
DROP = datetime(2026, 11, 21, 14, 2, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def small_files_are_indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_index, "INDEX_MIN_BYTES", 0)
    monkeypatch.setattr(export_index, "CHUNK_BYTES", 1500)  # a few events per chunk, cut anywhere


def key(record) -> tuple:
    return record.stream, record.timestamp, record.message


LAYOUTS = {
    "pretty": lambda ev: shapes.filter_json(ev),
    "compact": lambda ev: shapes.filter_json(ev, indent=None),
    "pages": lambda ev: shapes.filter_json(ev, pages=3),
    "newest first": lambda ev: shapes.filter_json(list(reversed(ev))),
    "minimal keys": lambda ev: shapes.filter_json(ev, minimal=True),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_an_indexed_file_holds_the_events_the_general_reader_reads(tmp_path, layout):
    path = shapes.write(tmp_path / "events.json", LAYOUTS[layout](EVENTS))
    indexed = open_index(path)
    assert isinstance(indexed, IndexedExportSource) and len(indexed) == len(EVENTS)
    assert [key(r) for r in indexed.records] == sorted(map(key, read_aws_export(path).records), key=lambda k: k[1])
    assert indexed.connections() == {"vpn-0123456789abcdef0": {"52.95.10.1", "52.95.10.2"}}


def test_reads_by_stream_and_time_match_the_in_memory_source(tmp_path):
    path = shapes.write(tmp_path / "events.json", shapes.filter_json(list(reversed(EVENTS)), pages=2))
    indexed, memory = open_index(path), MemoryLogSource(read_aws_export(path).records, label="m", origin="m")
    assert indexed is not None
    for start, minutes, ips in [(DROP - timedelta(minutes=3), 10, ("52.95.10.1",)), (DROP, 1, ()),
                                (DROP - timedelta(hours=3), 600, ("52.95.10.2",))]:
        request = TunnelLogRequest("vpn-0123456789abcdef0", ips, start, start + timedelta(minutes=minutes))
        got, want = indexed.read_tunnel_logs(request), memory.read_tunnel_logs(request)
        assert got.records and [key(r) for r in got.records] == [key(r) for r in want.records]
        assert got.streams == want.streams


def test_the_line_of_an_indexed_event_is_in_the_event(tmp_path):
    path = shapes.write(tmp_path / "events.json", shapes.filter_json(EVENTS))
    lines = path.read_text().splitlines()
    indexed = open_index(path)
    assert indexed is not None
    for record in indexed.records:
        assert lines[record.line - 1].strip().startswith('"message":')
        assert record.message[:30] in lines[record.line - 1].replace('\\"', '"')


def test_the_answer_from_an_indexed_file_is_the_answer_from_the_file(tmp_path):
    path = shapes.write(tmp_path / "events.json", shapes.filter_json(EVENTS, pages=2))
    loaded = load_aws_exports([path])
    assert [type(s) for s in loaded.sources] == [IndexedExportSource]
    result = investigate(DC1, DROP - timedelta(minutes=15), DROP + timedelta(minutes=15), Sources(aws=loaded.sources),
                         now=DROP + timedelta(hours=4), anchor=DROP)
    assert result.findings[0].cause is Cause.DPD_TIMEOUT
    assert result.drops[0].down.time == DROP
    assert loaded.tunnels() == [Tunnel(name="vpn-0123456789abcdef0", aws_vpn_connection="vpn-0123456789abcdef0",
                                       aws_outside_ips=("52.95.10.1", "52.95.10.2"))]


def test_the_second_open_reads_the_index_from_the_cache_by_content_hash(tmp_path):
    cache = WorkspaceCache(tmp_path / "cache")
    path = shapes.write(tmp_path / "events.json", shapes.filter_json(EVENTS))
    first, second = open_index(path, cache=cache), open_index(path, cache=cache)
    assert first is not None and second is not None
    assert (first.from_cache, second.from_cache) == (False, True)
    assert [key(r) for r in second.records] == [key(r) for r in first.records]
    copy = shapes.write(tmp_path / "elsewhere" / "copy.json", path.read_bytes())  # same content, another name
    third = open_index(copy, cache=cache)
    assert third is not None and third.from_cache
    assert [e.name for e in (tmp_path / "cache").glob("aws-export-*")] == [
        f"aws-export-{cache.content_hash(path)}-i{export_index.INDEX_VERSION}.duckdb"]


def test_a_changed_file_is_indexed_again(tmp_path):
    cache = WorkspaceCache(tmp_path / "cache")
    path = shapes.write(tmp_path / "events.json", shapes.filter_json(EVENTS))
    assert open_index(path, cache=cache) is not None
    shapes.write(path, shapes.filter_json(EVENTS[:10]))
    again = open_index(path, cache=cache)
    assert again is not None and not again.from_cache and len(again) == 10


@pytest.mark.parametrize("render", [
    lambda ev: shapes.filter_json(ev, capitalised=True),  # PowerShell's keys
    lambda ev: shapes.filter_json(ev, rng=random.Random(3)),  # keys in another order
    lambda ev: shapes.event_lines(ev),
], ids=["powershell keys", "keys reordered", "json lines"])
def test_files_off_the_cli_layout_go_to_the_general_reader(tmp_path, render):
    path = shapes.write(tmp_path / "events.json", render(EVENTS))
    loaded = load_aws_exports([path])
    assert [type(s) for s in loaded.sources] == [MemoryLogSource]
    assert len(loaded.sources[0]) == len(EVENTS)


def test_an_event_off_the_layout_deep_in_the_file_sends_it_to_the_general_reader(tmp_path):
    text = shapes.filter_json(EVENTS)
    cut = text.index('"logStreamName"', len(text) // 2)
    broken = text[:cut] + text[cut:].replace('"timestamp"', '"timestamp_ms"', 1)
    path = shapes.write(tmp_path / "events.json", broken)
    assert export_index.indexable(path)
    assert open_index(path) is None
    assert len(read_aws_export(path).records) == len(EVENTS)


def test_a_bad_message_in_an_indexed_file_is_reported_with_its_line_and_the_rest_answers(tmp_path):
    events = list(EVENTS)
    bad = next(i for i, e in enumerate(events) if e.timestamp > DROP.timestamp() * 1000)
    events[bad] = shapes.CwEvent(events[bad].stream, events[bad].timestamp, "REPORT not a tunnel log", 0, "x")
    path = shapes.write(tmp_path / "events.json", shapes.filter_json(events))
    line = path.read_text().splitlines().index('            "message": "REPORT not a tunnel log",') + 1
    loaded = load_aws_exports([path])
    result = investigate(DC1, DROP - timedelta(minutes=15), DROP + timedelta(minutes=15), Sources(aws=loaded.sources),
                         now=DROP + timedelta(hours=4), anchor=DROP)
    assert result.findings[0].cause is Cause.DPD_TIMEOUT
    assert any(f"{path}:{line}: message is not JSON" in note for note in result.notes), result.notes


def test_a_big_export_of_another_log_group_is_refused_as_the_general_reader_refuses_it(tmp_path):
    lambda_events = [shapes.CwEvent("2026/11/21/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0", 1795269725000 + i,
                                    f"START RequestId: 8f5b2c1e-{i:04d}-4c1d-9e7a-3b2f1a0c9d8e Version: $LATEST\n",
                                    1795269725500 + i, str(i)) for i in range(40)]
    path = shapes.write(tmp_path / "events.json", shapes.filter_json(lambda_events))
    assert open_index(path) is not None  # the layout is the CLI's
    with pytest.raises(AwsExportError, match="none of its 40 events is a Site-to-Site VPN tunnel or BGP log"):
        load_aws_exports([path])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-crlf"])
def test_a_utf16_file_is_indexed_through_a_utf8_copy_with_the_same_events_and_lines(tmp_path, encoding):
    path = shapes.write(tmp_path / "events.json", shapes.encoded(shapes.filter_json(EVENTS), encoding))
    assert export_index.indexable(path)
    loaded = load_aws_exports([Path(path)])
    indexed = loaded.sources[0]
    assert isinstance(indexed, IndexedExportSource) and indexed.origin == str(path)
    general = sorted(read_aws_export(path).records, key=lambda r: r.timestamp)
    assert [key(r) for r in indexed.records] == [key(r) for r in general]
    lines = path.read_bytes().decode("utf-16").splitlines()  # the lines of the file given, not of its copy
    assert all(lines[r.line - 1].strip().startswith('"message":') for r in indexed.records)


def test_the_utf8_copy_of_a_utf16_file_is_kept_in_the_cache_with_its_index(tmp_path):
    cache = WorkspaceCache(tmp_path / "cache")
    path = shapes.write(tmp_path / "events.json", shapes.encoded(shapes.filter_json(EVENTS), "utf-16"))
    first, second = open_index(path, cache=cache), open_index(path, cache=cache)
    assert first is not None and second is not None
    assert (first.from_cache, second.from_cache) == (False, True)
    assert [key(r) for r in second.records] == [key(r) for r in first.records]
    digest = cache.content_hash(path)
    assert sorted(e.name for e in (tmp_path / "cache").glob("aws-export-*")) == [
        f"aws-export-{digest}-i{export_index.INDEX_VERSION}.duckdb", f"aws-export-utf8-{digest}.duckdb"]
