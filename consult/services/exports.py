"""How exports are encoded: CSV for spreadsheets and JSON as one document, both produced piece by piece.

Pure: plain values in, strings out (no Flask, no database), so a view streams the pieces as they come and a large
export never sits whole in memory. The services decide what the rows hold; this module only writes them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping

CHUNK_ROWS = 200  # CSV rows per piece handed to the response
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula: risky first characters get a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_chunks(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """A CSV file in pieces: a byte-order mark (so spreadsheets read UTF-8), the header, then the rows with every
    cell made excel_safe, CHUNK_ROWS rows to a piece."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(list(header))
    for n, row in enumerate(rows, 1):
        writer.writerow([excel_safe(value) for value in row])
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(head: Mapping, key: str, rows: Iterable[Mapping]) -> Iterator[str]:
    """One JSON object in pieces: the (non-empty) head's members, then `key` holding the rows, one per line."""
    yield json.dumps(head, ensure_ascii=False)[:-1] + f", {json.dumps(key)}: ["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]}\n"
