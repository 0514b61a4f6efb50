"""Workbooks that users fill in: reading an uploaded .xlsx, and writing its template.

Uploads are untrusted, so the file is identified by its content (never its name), its
zip container is bounded before anything is inflated, sheets are read within limits of
rows and columns, in a worker process (server.documents.safe), and formulas are read as
text, never evaluated. Templates carry a help sheet in Chinese and English whatever the
user's language, as sheets get passed on. Exports are written by server.documents.xlsx.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import openpyxl
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from piccolo.table import Table

from server.core.errors import Conflict, ValidationFailed
from server.core.i18n import LazyString, _, _l, translations
from server.core.once import update_once
from server.documents import safe, xlsx

T = TypeVar("T")

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, and any password-protected workbook
# Limits far above any real sheet (20,000 attendance rows unpack to ~5 MB) and far below
# what would keep a worker busy for long: every entry counts, whatever its name.
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
MAX_RATIO = 100  # real sheets deflate 5-20 times; blank rows and zeros by hundreds or more
_RATIO_FROM = 1024 * 1024  # small entries may deflate well, they cost nothing
MAX_SHEET_ROWS = 25000  # blank rows count: each costs time to read
MAX_COLUMNS = 200
PARSE_SECONDS = 4.0  # 20,000 rows take about 1 s
HELP_TITLE = "说明 Help"  # Excel forbids "/" in sheet titles
HEADER_ROWS = 10  # the header is looked for in a sheet's first filled rows (titles, notes above it)
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "total"})  # a row holding one of these sums the rows above


@dataclass
class SheetRow:
    line: int  # the row number Excel shows, to point the user at it
    values: dict[str, Any]  # every key the reader knows; blank when absent
    formulas: list[str] = field(default_factory=list)  # keys whose cell held a formula (kept as text)


class SheetRows(list):
    """The data rows (SheetRow) of the sheet read, and what was learnt of it: its title,
    the header text each key was read from, and the lines skipped as total rows."""

    def __init__(self, rows: Iterable[SheetRow] = (), *, sheet: str = "", headers: dict[str, str] | None = None):
        super().__init__(rows)
        self.sheet = sheet
        self.headers = headers or {}
        self.totals: list[int] = []


class HeaderRefused(ValidationFailed):
    """A row refused as the header row; `named`: how many known columns it names, so that
    of the rows tried the one closest to a header says what is missing."""

    def __init__(self, errors: dict[str, str], named: int) -> None:
        super().__init__(errors)
        self.named = named


def text_key(text: Any) -> str:
    """Text as headers and names are compared: full-width forms as half-width (NFKC),
    without any whitespace (full-width spaces too), case-folded."""
    return _compact(text).casefold()


def _compact(text: Any) -> str:
    """Full-width forms as half-width (NFKC), without any whitespace."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


# -- reading ------------------------------------------------------------------------


async def parse(read: Callable[[bytes], T], data: bytes) -> T:
    """read(data) in a worker process, so that neither a hostile file nor a big one holds
    the event loop, and within PARSE_SECONDS. `read` is a module-level function."""
    try:
        return await safe.run(read, data, seconds=PARSE_SECONDS)
    except safe.Overrun:
        raise ValidationFailed(
            {"file": _("The workbook takes too long to read; split it into smaller files.")}
        ) from None
    except safe.Crashed:
        raise ValidationFailed({"file": _("The workbook is too large; split it into smaller files.")}) from None


def read(data: bytes, read_book: Callable[[Any], T]) -> T:
    """read_book(workbook) on the uploaded bytes, opened read-only with formulas as text;
    ValidationFailed on "file" when they are not a sound .xlsx workbook. CPU-bound on
    untrusted bytes: run it through parse()."""
    check_container(data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # untrusted bytes: any failure of the parser means an unreadable file
        raise ValidationFailed({"file": damaged()}) from None
    try:
        return read_book(book)
    except ValidationFailed:
        raise
    except Exception:  # sheets are parsed lazily, so a broken sheet fails only here
        raise ValidationFailed({"file": damaged()}) from None
    finally:
        book.close()


def damaged() -> str:
    return _("The workbook could not be read; it may be damaged. Save it again as .xlsx and retry.")


def check_container(data: bytes) -> None:
    """ValidationFailed on "file" unless the bytes are an .xlsx zip whose entries inflate
    within the limits."""
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
        raise ValidationFailed({"file": damaged()}) from None
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


def sheet_rows(book: Any, *, too_wide: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(line, cells) of the first sheet's rows, blank ones included, within MAX_SHEET_ROWS
    and MAX_COLUMNS (`too_wide`: the message for a sheet with more columns)."""
    if not book.worksheets:
        raise ValidationFailed({"file": _("The workbook has no worksheet.")})
    return _lines(book.worksheets[0], too_wide)


def _lines(sheet: Any, too_wide: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    too_many = ValidationFailed(
        {
            "file": _(
                "The sheet has more than %(max)s rows, blank ones included; split it into smaller files.",
                max=MAX_SHEET_ROWS,
            )
        }
    )
    # a declared size is refused before reading; it may also understate, hence the counts below
    if (sheet.max_row or 0) > MAX_SHEET_ROWS:
        raise too_many
    if (sheet.max_column or 0) > MAX_COLUMNS:
        raise ValidationFailed({"file": too_wide})
    # the stored dimensions may be wrong (some tools write A1:A1); read what is there
    sheet.reset_dimensions()
    for line, raw in enumerate(sheet.iter_rows(values_only=True), start=1):
        if line > MAX_SHEET_ROWS:
            raise too_many
        if len(raw) > MAX_COLUMNS:
            raise ValidationFailed({"file": too_wide})
        yield line, raw


def filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def sheet_row(
    line: int, raw: tuple[Any, ...], columns: dict[int, str], keys: Sequence[str], convert: Callable[[Any], Any]
) -> SheetRow:
    """The row's value for each of `keys` (column position → key in `columns`), made by
    `convert` (convert(None) for a blank); a formula is kept as its text, never its result."""
    values = {key: convert(None) for key in keys}
    formulas: list[str] = []
    for index, key in columns.items():
        if index >= len(raw):  # rows are as long as their last filled cell
            continue
        value = raw[index]
        if isinstance(value, (ArrayFormula, DataTableFormula)):
            value = getattr(value, "text", None) or "="
        # with data_only=False openpyxl gives a formula as its text, never its result
        if isinstance(value, str) and value.startswith("="):
            formulas.append(key)
        elif isinstance(value, str) and value.startswith("'") and value[1:].startswith(xlsx.RISKY_PREFIXES):
            value = value[1:]  # our exports' guard against formulas (xlsx._cell), not part of the text
        values[key] = convert(value)
    return SheetRow(line=line, values=values, formulas=formulas)


def data_rows(
    book: Any,
    *,
    too_wide: str,
    header: Callable[[tuple[Any, ...]], dict[int, str]],
    keys: Sequence[str],
    convert: Callable[[Any], Any],
    max_rows: int,
    skip_unread: bool = False,
) -> SheetRows:
    """The data rows below the header row of the first sheet that has one, each with every
    key of `keys` made by `convert`. The header row is the first of a sheet's first
    HEADER_ROWS filled rows that header(cells) accepts (it gives the columns, position →
    key, and raises ValidationFailed otherwise), so titles and notes above it are passed
    over; the template's help sheet is never read. Blank rows are passed over, total rows
    (a cell reading 合计, 总计, 小计 or total) too, noted in the result's `totals`, and with
    skip_unread the rows filled only in columns no key reads. At most max_rows of them."""
    title, raw_header, columns, lines = _find_header(book, too_wide, header)
    rows = SheetRows(sheet=title, headers={key: str(raw_header[i]).strip() for i, key in columns.items()})
    for line, raw in lines:
        if not any(filled(v) for v in raw):
            continue  # blank rows, trailing ones too
        if is_total(raw):
            rows.totals.append(line)
            continue
        row = sheet_row(line, raw, columns, keys, convert)
        if skip_unread and not any(v is not None for v in row.values.values()):
            continue
        if len(rows) >= max_rows:
            raise too_many_rows(max_rows)
        rows.append(row)
    return rows


def _find_header(
    book: Any, too_wide: str, header: Callable[[tuple[Any, ...]], dict[int, str]]
) -> tuple[str, tuple[Any, ...], dict[int, str], Iterator[tuple[int, tuple[Any, ...]]]]:
    """The sheet's title, its header row, its columns and the rest of its lines; when no
    sheet has a header row, the refusal of the row that names the most known columns."""
    best: ValidationFailed | None = None
    best_named = -1
    for sheet in book.worksheets:
        if sheet.title == HELP_TITLE:
            continue
        lines = _lines(sheet, too_wide)
        tried = 0
        for _line, raw in lines:
            if not any(filled(v) for v in raw):
                continue
            try:
                return sheet.title, raw, header(raw), lines
            except ValidationFailed as refused:
                named = getattr(refused, "named", 0)
                if named > best_named:
                    best, best_named = refused, named
            tried += 1
            if tried >= HEADER_ROWS:
                break
    raise best or empty()


def is_total(raw: Iterable[Any]) -> bool:
    """Whether a row is a total row: one of its cells reads 合计, 总计, 小计 or total."""
    # short cells only: the words padded with spaces fit, a course title seldom does
    return any(isinstance(v, str) and len(v) <= 12 and text_key(v).rstrip(":") in TOTAL_WORDS for v in raw)


def header_columns(
    header: Iterable[Any],
    key_of: Callable[[Any], str | None],
    labels: Mapping[str, LazyString],
    required: Sequence[str],
) -> dict[int, str]:
    """Position → key for the known columns of the header row (key_of(text): the key a
    header names, None for one the reader ignores); HeaderRefused on "file" when a column
    appears twice or one of `required` is missing."""
    named = [(index, key_of(text)) for index, text in enumerate(header) if filled(text)]
    named = [(index, key) for index, key in named if key is not None]
    count = len({key for _index, key in named})
    columns: dict[int, str] = {}
    for index, key in named:
        if key in columns.values():
            raise HeaderRefused(repeated_column(labels[key]).errors, count)
        columns[index] = key
    missing = [k for k in required if k not in columns.values()]
    if missing:
        message = _(
            "No header row found in the first %(rows)s rows; missing: %(columns)s.",
            rows=HEADER_ROWS,
            columns=", ".join(str(labels[k]) for k in missing),
        )
        raise HeaderRefused({"file": message}, count)
    return columns


# Dates as offices type them: 2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日, 20260305, and
# 3月5日 without a year. Full-width digits and separators are read through NFKC.
DATE_FORMS = "2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日, 20260305, 3月5日"
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_DATE_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_NO_YEAR = re.compile(r"(\d{1,2})月(\d{1,2})日?")
_HOUR_UNITS = re.compile(r"(学时|小时|课时|hours?|hrs?|h)$")


def read_date(value: Any, year: int) -> tuple[date | None, bool]:
    """A cell as a date, and whether its year was missing (then `year`, the import's);
    None when it reads as no date of the forms in DATE_FORMS (or a date cell)."""
    if isinstance(value, datetime):
        return value.date(), False
    if isinstance(value, date):
        return value, False
    if isinstance(value, bool) or value is None:
        return None, False
    text = _compact(value)
    parts = _DATE.fullmatch(text) or _DATE_DIGITS.fullmatch(text)
    yearless = parts is None and (parts := _DATE_NO_YEAR.fullmatch(text)) is not None
    if parts is None:
        return None, False
    numbers = [int(n) for n in parts.groups()]
    try:
        return (date(year, *numbers) if yearless else date(*numbers)), yearless
    except ValueError:
        return None, False


def read_number(value: Any, *, hours: bool = False) -> float | None:
    """A cell as a number: a number cell, or text with a decimal point or comma (1,5);
    with `hours`, a unit after it too (2学时, 1.5h, 2 小时, 2课时). None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = text_key(value)
    if hours:
        text = _HOUR_UNITS.sub("", text)
    if re.fullmatch(r"\d+,\d{1,2}", text):
        text = text.replace(",", ".")  # a decimal comma; "1,500" stays refused
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def upload_message(kind: str) -> str:
    """What an upload form says of a workbook "missing" or "too_large" (over 5 MB)."""
    return {
        "missing": _("Choose an .xlsx file to upload."),
        "too_large": _("The file is too large (at most 5 MB)."),
    }[kind]


def preview_summary(rows: list[dict], errors: list[dict]) -> dict:
    """An import preview's checked rows and errors as its pages show them: the rows, the
    errors, how many rows have each status, and whether it is clean (no error)."""
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["status"]] += 1
    return {"rows": rows, "errors": errors, "counts": dict(counts), "clean": not errors}


def too_many_rows(count: int) -> ValidationFailed:
    return ValidationFailed(
        {"file": _("The sheet has more than %(max)s rows; split it into smaller files.", max=count)}
    )


def empty() -> ValidationFailed:
    return ValidationFailed({"file": _("The first worksheet is empty.")})


def repeated_column(label: LazyString) -> ValidationFailed:
    # two columns for one field: guessing which holds the data would be silent loss
    return ValidationFailed({"file": _("The column %(column)s appears more than once.", column=str(label))})


# -- templates ----------------------------------------------------------------------


def template_sheet(
    book: Workbook, title: str, header: list[str], examples: list[list[Any]], widths: Sequence[float]
) -> Any:
    """The template's first sheet: its header row in bold and frozen, example rows, and
    the widths of its columns."""
    sheet = book.active
    sheet.title = title
    sheet.append(header)
    for row in examples:
        sheet.append(row)
    _header_style(sheet, widths)
    sheet.freeze_panes = "A2"
    return sheet


def bilingual(text: LazyString, **values: Any) -> list[str]:
    """The text in Chinese, then in English."""
    found = [t.gettext(text.message) for t in (translations("zh_CN"), translations("en"))]
    return [t % values for t in found] if values else found


def bilingual_cell(text: LazyString) -> str:
    """Both languages in one cell, or one when they read the same."""
    chinese, english = bilingual(text)
    return chinese if chinese == english else f"{chinese} / {english}"


def help_sheet(
    book: Workbook, header: list[str], rows: list[list[Any]], note: LazyString, widths: Sequence[float]
) -> None:
    """The help sheet after the template's: a row per column of the template, and a note
    in its last two columns (the descriptions, in Chinese and English, where text is wide)."""
    sheet = book.create_sheet(HELP_TITLE)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    sheet.append([])
    sheet.append([*[None] * (len(widths) - 2), *bilingual(note)])
    _header_style(sheet, widths)


def columns_help(
    book: Workbook,
    keys: Sequence[str],
    headers: Mapping[str, str],
    aliases: Mapping[str, Sequence[str]],
    required: Sequence[str],
    descriptions: Mapping[str, LazyString],
    note: LazyString,
    widths: Sequence[float],
    values: Mapping[str, dict[str, Any]] | None = None,
) -> None:
    """The help sheet of a template whose header row is headers[key] for each of `keys`:
    a row per column with the other headers read as it, whether it must be filled, and
    its description in Chinese and English (formatted with values[key], if any)."""
    cell = bilingual_cell
    rows = [
        [
            headers[key],
            ", ".join(a for a in aliases[key] if a != headers[key]),
            cell(_l("Yes")) if key in required else cell(_l("No")),
            *bilingual(descriptions[key], **(values or {}).get(key, {})),
        ]
        for key in keys
    ]
    header = [
        cell(_l("Column")),
        cell(_l("Also accepted")),
        cell(_l("Must be filled")),
        *bilingual(_l("Description")),
    ]
    help_sheet(book, header, rows, note, widths)


def _header_style(sheet: Any, widths: Sequence[float]) -> None:
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


# ---------------------------------------------------------------- applying a preview


def applicable(detail: Mapping[str, Any]) -> None:
    """Refuse to apply a preview already applied, or one with errors (409 each)."""
    if detail["status"] != "preview":
        raise Conflict(_("This import has already been applied."))
    if not detail["clean"]:
        raise Conflict(_("The file has errors; correct them and upload it again. Nothing was written."))


async def claim(table: type[Table], import_pk: int) -> None:
    """Mark a preview applied, once: one conditional state change, so of two applies at
    the same moment the second is refused (409) and its transaction writes nothing."""
    await update_once(
        table,
        {table.status: "applied", table.applied_at: datetime.now(UTC)},
        (table.id == import_pk, table.status == "preview"),
        Conflict(_("This import has already been applied.")),
    )
