"""The CSV and JSON Lines text of a batch (diagnostics/evidence/lines.py) is, for any cells, what the csv module and
the earlier row-by-row JSON Lines writer give (tests/test_evidence_golden.py pins whole bundles)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.evidence.lines import csv_text, json_lines

# The JSON Lines row as the earlier writer made it, cell by cell.
_encode = json.encoder.encode_basestring  # type: ignore[attr-defined]


def reference_json_value(value: Any) -> str:
    if value.__class__ is str:
        return _encode(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "null"
    return _encode(str(value))


cells = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list('ab ,"\r\n\x00é%{}:=')), max_size=6),
                  st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 4).flatmap(lambda width: st.lists(st.lists(cells, min_size=width, max_size=width),
                                                        min_size=1, max_size=6)))
def test_csv_and_json_lines_of_a_batch_are_what_the_csv_module_and_the_row_writer_give(batch):
    width = len(batch[0])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(batch)
    assert csv_text(batch, width) == buffer.getvalue()
    columns = [f"c{i}%" for i in range(width)]
    expected = "".join("{" + ",".join(_encode(c) + ":" + reference_json_value(v) for c, v in zip(columns, row,
                                                                                                  strict=True))
                       + "}\n" for row in batch)
    assert json_lines(columns, batch) == expected
