"""The export encoders: CSV for spreadsheets and JSON, both produced piece by piece."""

import csv
import io
import json

from consult.services.exports import CHUNK_ROWS, csv_chunks, excel_safe, json_chunks


def test_csv_has_a_byte_order_mark_a_header_and_safe_cells_in_pieces():
    rows = [[n, "=1+1" if n == 3 else f"row {n}", None] for n in range(CHUNK_ROWS * 2 + 5)]
    pieces = list(csv_chunks(["id", "text", "empty"], rows))
    assert len(pieces) == 3  # two full pieces and the rest
    text = "".join(pieces)
    assert text.startswith("\ufeffid,text,empty\r\n")
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(parsed) == len(rows) + 1
    assert parsed[4] == ["3", "'=1+1", ""]


def test_excel_safe_quotes_what_a_spreadsheet_would_run():
    assert [excel_safe(v) for v in ("=A1", "+1", "-2", "@x", "\tx", "\rx", "fine", 7, None)] == [
        "'=A1",
        "'+1",
        "'-2",
        "'@x",
        "'\tx",
        "'\rx",
        "fine",
        "7",
        "",
    ]


def test_json_is_one_document_with_the_head_and_the_rows():
    rows = [{"id": n, "text": "évaluation"} for n in range(3)]
    text = "".join(json_chunks({"document": "sample-code", "version": 2}, "comments", iter(rows)))
    assert json.loads(text) == {"document": "sample-code", "version": 2, "comments": rows}
    assert "évaluation" in text  # not escaped
    assert json.loads("".join(json_chunks({"document": "x"}, "comments", []))) == {"document": "x", "comments": []}
