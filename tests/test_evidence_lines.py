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


def reference_json_value(value: Any) -> str:
    """One cell as the earlier writer wrote it, said through json.dumps (not through the code under test): strings
    unescaped beyond JSON's own escapes, NaN and infinities as null, anything else as its text."""
    if isinstance(value, float) and (value != value or abs(value) == float("inf")):
        return "null"
    if value is None or isinstance(value, (str, bool, int, float)):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(str(value), ensure_ascii=False)


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
    cell = reference_json_value
    expected = "".join("{" + ",".join(cell(c) + ":" + cell(v) for c, v in zip(columns, row, strict=True)) + "}\n"
                       for row in batch)
    assert json_lines(columns, batch) == expected
