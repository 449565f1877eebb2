"""CSV for spreadsheets: the one writer every export uses, with cells that cannot run.

A spreadsheet opening a CSV runs a cell that starts with ``= + - @`` (and, in some, tab or CR)
as a formula, so caller-controlled text such as an intent could reach a shell through DDE. As
OWASP advises, such text cells get a leading single quote; numbers are written as numbers.
Rows end in CRLF (RFC 4180), which also makes the writer quote a lone CR inside a cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

Cell = str | int | float | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: Cell) -> Cell:
    """The cell as a spreadsheet shows it without evaluating it."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([defuse(c) for c in header])
    writer.writerows([defuse(c) for c in row] for row in rows)
    return out.getvalue()
