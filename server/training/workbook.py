"""Excel workbooks for training records: read an uploaded attendance sheet, hand out
its template, and write recorded attendance in the template's layout.

Pure: bytes in, bytes out, no database. The upload is read as every uploaded workbook
is (server.documents.workbooks: identified by its content, never its name, bounded, and
formulas read as text, never evaluated). Exports are written by server.documents.xlsx.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from server.core.i18n import LazyString, _, _l
from server.documents import workbooks
from server.documents.workbooks import SheetRow as SheetRow  # the rows' type, for callers
from server.documents.workbooks import SheetRows
from server.documents.xlsx import DATE_FORMAT, save, write_workbook

SHEET_TITLE = "签到表"
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

# The export's file name: in Chinese like the sheet it holds.
EXPORT_NAME = "{year}年参训记录.xlsx"

# The wordings offices give these columns, matched after workbooks.text_key (any width,
# spacing and case); the template's help sheet lists them.
_ALIASES = {
    "person_id": ("人员编号", "人员ID", "工号", "编号", "person id", "person_id", "id"),
    "name": ("姓名", "名字", "name"),
    "unit": ("单位", "所在单位", "工作单位", "单位名称", "unit"),
    "course": ("课程", "培训内容", "培训课程", "课程名称", "培训名称", "course"),
    "date": ("日期", "培训日期", "培训时间", "date"),
    "hours": ("学时", "培训学时", "学时数", "课时", "时长", "hours"),
    "score": ("成绩", "考试成绩", "得分", "score"),
}

HEADER_KEYS: dict[str, str] = {workbooks.text_key(alias): key for key, aliases in _ALIASES.items() for alias in aliases}

_HELP = {
    "person_id": _l("Optional. The person's number in the registry; it identifies people who share a name."),
    "name": _l("The attendee's full name, as written in the registry."),
    "unit": _l("The attendee's unit. Strongly recommended: it tells apart people with the same name."),
    "course": _l("The name of the course or session attended."),
    "date": _l("The date of the session: a date cell, or text such as %(forms)s (without a year, the import's year)."),
    "hours": _l("Training hours earned, a number such as 2 or 1.5 (2学时, 1.5h and 1,5 are read too)."),
    "score": _l("Optional. The exam or assessment score."),
}
_HELP_NOTE = _l(
    "Fill one row per attendee and keep the header row (a title may sit above it); other columns, "
    "blank rows and total rows (合计) are ignored."
)
MAX_DATA_ROWS = 20000


# -- reading ------------------------------------------------------------------------


async def parse_attendance(data: bytes) -> SheetRows:
    """read_attendance in a worker process, within workbooks.PARSE_SECONDS."""
    return await workbooks.parse(read_attendance, data)


def read_attendance(data: bytes, *, max_rows: int = MAX_DATA_ROWS) -> SheetRows:
    """The data rows of the first worksheet with an attendance header (found below titles
    and notes), keyed by column (every key of COLUMNS; None when absent or blank), with
    the sheet's header texts and skipped total rows (workbooks.data_rows); ValidationFailed
    on "file" when the upload is not a readable .xlsx attendance sheet. CPU-bound on
    untrusted bytes: call parse_attendance from the server."""
    return workbooks.read(data, lambda book: _read_rows(book, max_rows))


def _read_rows(book: Any, max_rows: int) -> SheetRows:
    too_wide = _(
        "The sheet has more than %(max)s columns; keep only the attendance columns.", max=workbooks.MAX_COLUMNS
    )
    return workbooks.data_rows(
        book, too_wide=too_wide, header=_columns, keys=COLUMNS, convert=_stripped, max_rows=max_rows
    )


def _columns(header: Iterable[Any]) -> dict[int, str]:
    """Position → key for the known columns of the header row; unknown ones are ignored."""
    return workbooks.header_columns(header, lambda text: HEADER_KEYS.get(workbooks.text_key(text)), LABELS, REQUIRED)


def _stripped(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


# -- the template -------------------------------------------------------------------


def attendance_template() -> bytes:
    """An empty attendance sheet with one example row, and a bilingual help sheet."""
    book = Workbook()
    widths = {"person_id": 14, "name": 12, "unit": 24, "course": 32, "date": 13, "hours": 8, "score": 8}
    sheet = workbooks.template_sheet(
        book,
        SHEET_TITLE,
        [TEMPLATE_HEADERS[k] for k in COLUMNS],
        [[None, "张三", "市教育局", "保密法规专题讲座", date(2025, 1, 15), 2, 90]],
        [widths[k] for k in COLUMNS],
    )
    date_column = get_column_letter(COLUMNS.index("date") + 1)
    sheet.column_dimensions[date_column].number_format = DATE_FORMAT  # for the rows users add
    sheet[f"{date_column}2"].number_format = DATE_FORMAT
    # ids are codes: as text they keep their leading zeros
    sheet.column_dimensions[get_column_letter(COLUMNS.index("person_id") + 1)].number_format = "@"

    workbooks.columns_help(
        book,
        COLUMNS,
        TEMPLATE_HEADERS,
        _ALIASES,
        REQUIRED,
        _HELP,
        _HELP_NOTE,
        (12, 28, 14, 50, 60),
        values={"date": {"forms": workbooks.DATE_FORMS}},
    )
    return save(book)


# -- the export ---------------------------------------------------------------------


def attendance_export(rows: Iterable[dict[str, Any]]) -> bytes:
    """Recorded attendance (dicts keyed by COLUMNS) on the template's sheet under its
    header row: dates as date cells, ids as text, so that the file reads back as is."""
    header = [TEMPLATE_HEADERS[k] for k in COLUMNS]
    return write_workbook([(SHEET_TITLE, header, [[r[k] for k in COLUMNS] for r in rows])])
