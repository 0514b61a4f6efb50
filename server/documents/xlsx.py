"""Excel exports (openpyxl): one sheet per table, safe to open anywhere."""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

_MAX_TITLE = 31
_INVALID_TITLE_CHARS = str.maketrans({c: "_" for c in "\\/*?:[]"})
RISKY_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_MAX_CELL_TEXT = 32767  # Excel's limit; longer text makes Excel "repair" the file
_MAX_WIDTH = 60
_MIN_WIDTH = 8
DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write_workbook(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """One sheet per (title, headers, rows), safe to open: text that a spreadsheet would
    take for a formula is neutralised. Datetimes must be naive (local time)."""
    if not sheets:
        raise ValueError("write_workbook needs at least one sheet")
    book = Workbook(write_only=True)  # streams rows: exports can be large
    bold = Font(bold=True)
    titles: set[str] = set()
    for title, headers, rows in sheets:
        sheet = book.create_sheet(_unique_title(title, titles))
        for index, width in enumerate(_widths(headers, rows), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        header_cells = []
        for text in headers:
            cell = _cell(sheet, text)
            if not isinstance(cell, Cell):  # WriteOnlyCell is a factory, not a class
                cell = WriteOnlyCell(sheet, value=cell)
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
    return save(book)


def _cell(sheet: Any, value: Any) -> Any:
    """A value as openpyxl should write it: plain values pass, the rest get a cell."""
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, datetime):
        return _styled(sheet, value, _DATETIME_FORMAT)
    if isinstance(value, date):
        return _styled(sheet, value, DATE_FORMAT)
    if isinstance(value, time):
        return _styled(sheet, value, "hh:mm")
    text = _clean_text(value)
    if text.startswith(RISKY_PREFIXES):
        # would be run as a formula when edited or saved as CSV: show it as text instead
        return _text_cell(sheet, "'" + text[: _MAX_CELL_TEXT - 1])
    if text in ERROR_CODES:
        return _text_cell(sheet, text)  # openpyxl would store "#N/A" as an error value
    return text


def _text_cell(sheet: Any, text: str) -> Any:
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # never "f" or "e", whatever openpyxl infers from the text
    return cell


def _styled(sheet: Any, value: Any, number_format: str) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _clean_text(value: Any) -> str:
    # control characters make openpyxl refuse the whole export
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))[:_MAX_CELL_TEXT]


def _unique_title(title: Any, taken: set[str]) -> str:
    """Excel wants titles of at most 31 characters, without \\ / * ? : [ ], not starting
    or ending with an apostrophe, and unique regardless of case."""
    base = _clean_text(title).translate(_INVALID_TITLE_CHARS).strip().strip("'").strip()
    base = base[:_MAX_TITLE].rstrip() or "Sheet"
    candidate, n = base, 1
    while candidate.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = base[: _MAX_TITLE - len(suffix)].rstrip() + suffix
    taken.add(candidate.casefold())
    return candidate


def _widths(headers: list[Any], rows: list[list[Any]]) -> list[float]:
    count = max([len(headers), *(len(r) for r in rows)], default=0)
    widths = [_MIN_WIDTH] * count
    for row in (headers, *rows):
        for index, value in enumerate(row):
            widths[index] = max(widths[index], _display_width(value) + 2)
    return [min(w, _MAX_WIDTH) for w in widths]


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value)
    longest = max(text.split("\n"), key=len)
    # CJK characters take two columns
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest[: _MAX_WIDTH * 2])


def save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
