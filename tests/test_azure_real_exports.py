"""Every Azure export shape of tests/fixtures/real/azure/ (README.md there cites where each comes from) through the
real CLI: the answer the rows give, with a caveat naming what the file could not show, or a one-line refusal that
says what to do instead. Never a traceback, never "no drop found" for a file that shows the incident."""

from __future__ import annotations

import csv
import json
import os
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from support.cli import run

REAL = Path(__file__).parent / "fixtures" / "real" / "azure"
CASES = tomllib.loads((REAL / "cases.toml").read_text())["case"]
NOW = "2026-11-22T00:00:00Z"


def argv(case: dict, fmt: str = "json") -> list[str]:
    config = case.get("config", "vpnbot.toml")
    return ["ask", case["question"], *(["--config", str(REAL / config)] if config else []),
            "--azure-export", str(REAL / case["file"]), "--now", NOW, *case.get("args", []), "--format", fmt]


def case_id(case: dict) -> str:
    config = case.get("config", "vpnbot.toml")
    return f"{case['file']}{'' if config == 'vpnbot.toml' else ' config=' + config}" \
           f"{' ' + ' '.join(case['args']) if case.get('args') else ''}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_each_real_shape_is_read_right_or_refused_in_one_line(case, capsys, here):
    code, out, err = run(capsys, *argv(case))
    assert "Traceback" not in out + err
    if "refused" in case:
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("vpnbot: error: "), err
        for word in case["refused"]:
            assert word in lines[0], (word, lines[0])
        assert case["file"] in lines[0]
        return
    assert code == 0, err
    answer = json.loads(out)
    primary = answer["findings"][0]
    assert primary["cause"] == case["cause"], (primary["title"], answer["caveats"])
    for word in case.get("mentions", []):
        assert word.lower() in primary["explanation"].lower(), primary["explanation"]
    for word in case.get("caveats", []):
        assert any(word in caveat for caveat in answer["caveats"]), (word, answer["caveats"])
    assert answer["notes"][:len(answer["caveats"])] == answer["caveats"]
    for words in case.get("notes", []):
        assert any(words in note for note in answer["notes"]), (words, answer["notes"])
    if "down_at" in case:
        assert case["down_at"] in [d["down_at"] for d in answer["drops"]]


def test_caveats_come_first_in_the_text_answer(capsys, here):
    case = next(c for c in CASES if c["file"] == "operation-only.csv" and "cause" in c)
    code, out, _ = run(capsys, *argv(case, "text"))
    lines = out.splitlines()
    cause = next(i for i, line in enumerate(lines) if line.startswith("Cause:"))
    said = [line for line in lines[:cause] if line.startswith("Read partly: ")]
    assert code == 0 and any("look alike" in line for line in said)


def test_the_second_question_about_a_file_reads_it_from_the_cache(capsys, here, tmp_path, monkeypatch):
    """A rebuilt entry would be a new file renamed into place (another inode)."""
    monkeypatch.setenv("VPNBOT_CACHE_DIR", str(tmp_path / "cache"))
    case = next(c for c in CASES if c["file"] == "semicolon-resourceid-multiline.csv")
    first = run(capsys, *argv(case))
    entries = sorted((tmp_path / "cache" / "exports").glob("*.duckdb"))
    inode = entries[0].stat().st_ino
    renamed = tmp_path / "copy of the export.csv"  # the same content under another name: the same entry
    renamed.write_bytes((REAL / case["file"]).read_bytes())
    second = run(capsys, *argv({**case, "file": str(renamed)}))
    assert len(entries) == 1 and first[0] == second[0] == 0
    assert json.loads(first[1])["findings"] == json.loads(second[1])["findings"]
    assert sorted((tmp_path / "cache" / "exports").glob("*.duckdb")) == entries
    assert entries[0].stat().st_ino == inode


def cached_entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "exports").glob("*.duckdb"))


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_cache_entry_is_loaded_again_never_trusted(capsys, here, tmp_path, monkeypatch, damage):
    monkeypatch.setenv("VPNBOT_CACHE_DIR", str(tmp_path / "cache"))
    case = next(c for c in CASES if c["file"] == "semicolon-resourceid-multiline.csv")
    first = run(capsys, *argv(case))
    [entry] = cached_entries(tmp_path)
    whole = entry.read_bytes()
    entry.write_bytes(whole[: len(whole) // 2] if damage == "truncated" else b"\0" * len(whole))
    again = run(capsys, *argv(case))
    assert again[0] == 0, again[2]
    assert json.loads(again[1])["findings"] == json.loads(first[1])["findings"]
    assert cached_entries(tmp_path) == [entry] and entry.stat().st_size == len(whole)  # written again, whole
    inode = entry.stat().st_ino
    assert json.loads(run(capsys, *argv(case))[1])["findings"] == json.loads(first[1])["findings"]
    assert entry.stat().st_ino == inode  # and trusted now


def test_a_cache_entry_left_half_written_by_a_killed_process_is_never_read(capsys, here, tmp_path, monkeypatch):
    """A writer killed midway leaves its `.partial` file: no entry for the next process, which loads the file again
    (and, when that partial is old, removes it)."""
    monkeypatch.setenv("VPNBOT_CACHE_DIR", str(tmp_path / "cache"))
    case = next(c for c in CASES if c["file"] == "semicolon-resourceid-multiline.csv")
    first = run(capsys, *argv(case))
    [entry] = cached_entries(tmp_path)
    whole = entry.read_bytes()
    entry.unlink()
    partial = entry.with_name(entry.name + ".k1ll3d.partial")
    partial.write_bytes(whole[: len(whole) // 3])
    os.utime(partial, (1_000_000_000, 1_000_000_000))  # left there long ago
    again = run(capsys, *argv(case))
    assert again[0] == 0 and json.loads(again[1])["findings"] == json.loads(first[1])["findings"]
    assert cached_entries(tmp_path) == [entry] and not partial.exists()


def grid_rows(zone: str = "Z") -> str:
    """ms-tunnel-query.csv's rows as copied out of Log Analytics' results grid: tab-separated, no header line."""
    rows = list(csv.reader((REAL / "ms-tunnel-query.csv").read_text(encoding="utf-8-sig").splitlines()))[1:]
    iso = [datetime.strptime(r[0], "%m/%d/%Y, %I:%M:%S.%f %p").isoformat(timespec="milliseconds") for r in rows]
    return "".join("\t".join([at + zone, *r[1:]]) + "\n" for at, r in zip(iso, rows, strict=True))


def test_rows_copied_without_their_header_keep_their_first_row_and_the_answer_says_so(capsys, here, tmp_path):
    grid = tmp_path / "grid.tsv"
    grid.write_text(grid_rows(), encoding="utf-8")
    case = {"file": str(grid), "question": "why did paris drop at 14:02"}
    code, out, err = run(capsys, *argv(case))
    assert code == 0, err
    answer = json.loads(out)
    assert answer["findings"][0]["cause"] == "gateway_failover"
    assert any(d["down_at"].startswith("2026-11-21T14:02:03.12") for d in answer["drops"])  # the first row's drop
    assert any(n.startswith("grid.tsv: the rows came without their header: the first column was read as their time")
               for n in answer["notes"]), answer["notes"]
    assert "Column" not in out


def test_rows_copied_without_their_header_whose_times_have_no_zone_are_refused_until_export_tz(capsys, here, tmp_path):
    grid = tmp_path / "grid.tsv"
    grid.write_text(grid_rows(zone=""), encoding="utf-8")
    case = {"file": str(grid), "question": "why did paris drop at 14:02"}
    code, _, err = run(capsys, *argv(case))
    assert code == 2 and err.count("\n") == 1, err
    assert "grid.tsv: the times of these rows carry no zone" in err and "--export-tz ZONE" in err
    code, out, err = run(capsys, *argv({**case, "args": ["--export-tz", "UTC"]}))
    assert code == 0, err
    assert json.loads(out)["findings"][0]["cause"] == "gateway_failover"
