"""Excel workbooks for training records: read an uploaded attendance sheet, hand out
and hand out its template.

Pure: bytes in, bytes out, no database. Uploads are untrusted, so the file is
identified by its content (never its name) and formulas are read as text, never
evaluated. Exports are written by server.documents.xlsx.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import openpyxl
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from server.core.errors import ValidationFailed
from server.core.i18n import LazyString, _, _l, translations
from server.documents import safe
from server.documents.xlsx import DATE_FORMAT, save

COLUMNS = ("person_id", "name", "unit", "course", "date", "hours", "score")
REQUIRED = ("name", "course", "date", "hours")

# "Full name" rather than "Name": the catalog already says 名称 (the name of a thing)
# for "Name", while this column holds a person's name (姓名).
LABELS: dict[str, LazyString] = {
    "person_id": _l("Person id"),
    "name": _l("Full name"),
    "unit": _l("Unit"),
    "course": _l("Course"),
    "date": _l("Date"),
    "hours": _l("Hours"),
    "score": _l("Score"),
}

# The template's header row; kept in Chinese whatever the user's language, since
# the people filling the sheet in work in Chinese and it must read back as is.
TEMPLATE_HEADERS = {
    "person_id": "人员编号",
    "name": "姓名",
    "unit": "单位",
    "course": "课程",
    "date": "日期",
    "hours": "学时",
    "score": "成绩",
}

_ALIASES = {
    "person_id": ("人员编号", "人员ID", "person id", "person_id", "id"),
    "name": ("姓名", "name"),
    "unit": ("单位", "unit"),
    "course": ("课程", "course"),
    "date": ("日期", "date"),
    "hours": ("学时", "hours"),
    "score": ("成绩", "score"),
}


def _header_key(text: Any) -> str:
    """Headers match whatever their case and spacing (full-width spaces too)."""
    return "".join(str(text).split()).casefold()


HEADER_KEYS: dict[str, str] = {_header_key(alias): key for key, aliases in _ALIASES.items() for alias in aliases}

_HELP = {
    "person_id": _l("Optional. The person's number in the registry; it identifies people who share a name."),
    "name": _l("The attendee's full name, as written in the registry."),
    "unit": _l("The attendee's unit. Strongly recommended: it tells apart people with the same name."),
    "course": _l("The name of the course or session attended."),
    "date": _l("The date of the session, entered as a date (for example 2025-01-15)."),
    "hours": _l("Training hours earned, a number such as 2 or 1.5."),
    "score": _l("Optional. The exam or assessment score."),
}
_HELP_NOTE = _l("Fill one row per attendee on the first sheet and keep its header row; other columns are ignored.")
_HELP_TITLE = "说明 Help"  # Excel forbids "/" in sheet titles

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, and any password-protected workbook
# Limits far above any real attendance sheet (20,000 rows unpack to ~5 MB) and far
# below what would keep a worker busy for long: every entry counts, whatever its name.
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
MAX_RATIO = 100  # real sheets deflate 5-20 times; blank rows and zeros by hundreds or more
_RATIO_FROM = 1024 * 1024  # small entries may deflate well, they cost nothing
MAX_DATA_ROWS = 20000
MAX_SHEET_ROWS = 25000  # blank rows count: each costs time to read
MAX_COLUMNS = 200
PARSE_SECONDS = 4.0  # 20,000 rows take about 1 s


@dataclass
class SheetRow:
    line: int  # the row number Excel shows, to point the user at it
    values: dict[str, Any]  # every key of COLUMNS; None when absent or blank
    formulas: list[str] = field(default_factory=list)  # keys whose cell held a formula (kept as text)


# -- reading ------------------------------------------------------------------------


async def parse_attendance(data: bytes) -> list[SheetRow]:
    """read_attendance in a worker process, so that neither a hostile file nor a big one
    holds the event loop, and within PARSE_SECONDS."""
    try:
        return await safe.run(read_attendance, data, seconds=PARSE_SECONDS)
    except safe.Overrun:
        raise ValidationFailed(
            {"file": _("The workbook takes too long to read; split it into smaller files.")}
        ) from None
    except safe.Crashed:
        raise ValidationFailed({"file": _("The workbook is too large; split it into smaller files.")}) from None


def read_attendance(data: bytes, *, max_rows: int = MAX_DATA_ROWS) -> list[SheetRow]:
    """The data rows of the first worksheet, keyed by column; ValidationFailed on "file"
    when the upload is not a readable .xlsx attendance sheet. CPU-bound on untrusted
    bytes: call parse_attendance from the server."""
    _check_container(data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # untrusted bytes: any failure of the parser means an unreadable file
        raise ValidationFailed({"file": _damaged()}) from None
    try:
        return _read_rows(book, max_rows)
    except ValidationFailed:
        raise
    except Exception:  # sheets are parsed lazily, so a broken sheet fails only here
        raise ValidationFailed({"file": _damaged()}) from None
    finally:
        book.close()


def _damaged() -> str:
    return _("The workbook could not be read; it may be damaged. Save it again as .xlsx and retry.")


def _check_container(data: bytes) -> None:
    if data.startswith(_OLE_MAGIC):
        raise ValidationFailed(
            {
                "file": _(
                    "The file is an old-format (.xls) or password-protected workbook. "
                    "Save it as an unprotected .xlsx workbook and upload it again."
                )
            }
        )
    not_xlsx = ValidationFailed(
        {"file": _("The file is not an Excel workbook (.xlsx). Save it as .xlsx and upload it again.")}
    )
    if not data.startswith(_ZIP_MAGIC):
        raise not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValidationFailed({"file": _damaged()}) from None
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise not_xlsx  # a zip, but not a spreadsheet (e.g. a .docx or an archive)
    # zipfile never inflates an entry beyond its declared size, so these are real bounds
    too_large = ValidationFailed({"file": _("The workbook is too large; split it into smaller files.")})
    if sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
        raise too_large
    for entry in entries:
        if entry.file_size > MAX_ENTRY_BYTES:
            raise too_large
        if entry.file_size > _RATIO_FROM and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise ValidationFailed(
                {"file": _("The workbook is compressed suspiciously well; save it again as .xlsx and retry.")}
            )


def _read_rows(book: Any, max_rows: int) -> list[SheetRow]:
    if not book.worksheets:
        raise ValidationFailed({"file": _("The workbook has no worksheet.")})
    sheet = book.worksheets[0]
    too_many = ValidationFailed(
        {
            "file": _(
                "The sheet has more than %(max)s rows, blank ones included; split it into smaller files.",
                max=MAX_SHEET_ROWS,
            )
        }
    )
    too_wide = ValidationFailed(
        {"file": _("The sheet has more than %(max)s columns; keep only the attendance columns.", max=MAX_COLUMNS)}
    )
    # a declared size is refused before reading; it may also understate, hence the counts below
    if (sheet.max_row or 0) > MAX_SHEET_ROWS:
        raise too_many
    if (sheet.max_column or 0) > MAX_COLUMNS:
        raise too_wide
    # the stored dimensions may be wrong (some tools write A1:A1); read what is there
    sheet.reset_dimensions()
    columns: dict[int, str] | None = None
    rows: list[SheetRow] = []
    for line, raw in enumerate(sheet.iter_rows(values_only=True), start=1):
        if line > MAX_SHEET_ROWS:
            raise too_many
        if len(raw) > MAX_COLUMNS:
            raise too_wide
        if not any(_present(v) for v in raw):
            continue
        if columns is None:
            columns = _columns(raw)
            continue
        if len(rows) >= max_rows:
            raise ValidationFailed(
                {"file": _("The sheet has more than %(max)s rows; split it into smaller files.", max=max_rows)}
            )
        rows.append(_row(line, raw, columns))
    if columns is None:
        raise ValidationFailed({"file": _("The first worksheet is empty.")})
    return rows


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _columns(header: Iterable[Any]) -> dict[int, str]:
    """Position → key for the known columns of the header row; unknown ones are ignored."""
    columns: dict[int, str] = {}
    for index, text in enumerate(header):
        if not _present(text):
            continue
        key = HEADER_KEYS.get(_header_key(text))
        if key is None:
            continue
        if key in columns.values():
            # two columns for one field: guessing which holds the data would be silent loss
            raise ValidationFailed(
                {"file": _("The column %(column)s appears more than once.", column=str(LABELS[key]))}
            )
        columns[index] = key
    missing = [k for k in REQUIRED if k not in columns.values()]
    if missing:
        raise ValidationFailed(
            {
                "file": _(
                    "The first row must hold the column headers; missing: %(columns)s.",
                    columns=", ".join(str(LABELS[k]) for k in missing),
                )
            }
        )
    return columns


def _row(line: int, raw: tuple[Any, ...], columns: dict[int, str]) -> SheetRow:
    values: dict[str, Any] = dict.fromkeys(COLUMNS)
    formulas: list[str] = []
    for index, key in columns.items():
        if index >= len(raw):  # rows are as long as their last filled cell
            continue
        value = raw[index]
        if isinstance(value, (ArrayFormula, DataTableFormula)):
            value = getattr(value, "text", None) or "="
        if isinstance(value, str):
            # with data_only=False openpyxl gives a formula as its text, never its result
            if value.startswith("="):
                formulas.append(key)
            value = value.strip() or None
        values[key] = value
    return SheetRow(line=line, values=values, formulas=formulas)


# -- the template -------------------------------------------------------------------


def attendance_template() -> bytes:
    """An empty attendance sheet with one example row, and a bilingual help sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = "签到表"
    sheet.append([TEMPLATE_HEADERS[k] for k in COLUMNS])
    sheet.append([None, "张三", "市教育局", "保密法规专题讲座", date(2025, 1, 15), 2, 90])
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    widths = {"person_id": 14, "name": 12, "unit": 24, "course": 32, "date": 13, "hours": 8, "score": 8}
    for index, key in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = widths[key]
    date_column = get_column_letter(COLUMNS.index("date") + 1)
    sheet.column_dimensions[date_column].number_format = DATE_FORMAT  # for the rows users add
    sheet[f"{date_column}2"].number_format = DATE_FORMAT
    # ids are codes: as text they keep their leading zeros
    sheet.column_dimensions[get_column_letter(COLUMNS.index("person_id") + 1)].number_format = "@"
    sheet.freeze_panes = "A2"

    # The help is in both languages whatever the user's own, as the sheet gets passed on.
    zh, en = translations("zh_CN"), translations("en")

    def both(text: LazyString) -> tuple[str, str]:
        return zh.gettext(text.message), en.gettext(text.message)

    def pair(text: LazyString) -> str:
        chinese, english = both(text)
        return chinese if chinese == english else f"{chinese} / {english}"

    help_sheet = book.create_sheet(_HELP_TITLE)
    help_sheet.append(
        [pair(_l("Column")), pair(_l("Also accepted")), pair(_l("Must be filled")), *both(_l("Description"))]
    )
    for key in COLUMNS:
        required = pair(_l("Yes")) if key in REQUIRED else pair(_l("No"))
        others = ", ".join(a for a in _ALIASES[key] if a != TEMPLATE_HEADERS[key])
        help_sheet.append([TEMPLATE_HEADERS[key], others, required, *both(_HELP[key])])
    help_sheet.append([])
    help_sheet.append([None, None, None, *both(_HELP_NOTE)])  # under the descriptions, where text is wide
    for cell in help_sheet[1]:
        cell.font = bold
    for letter, width in zip("ABCDE", (12, 28, 14, 50, 60), strict=True):
        help_sheet.column_dimensions[letter].width = width
    return save(book)
