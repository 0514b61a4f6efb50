"""Excel workbooks of the declassification register: read one (the template filled in,
or the register's own export), and hand out its template.

Pure: bytes in, bytes out, no database. The upload is read as every uploaded workbook is
(server.documents.workbooks: identified by its content, bounded, formulas read as text,
never evaluated). Values come as people type them: a level as 绝密 or its code, a date as
a real Excel date or as text (2024-01-31, 2024/1/31, 2024年1月31日), a term as years
("10年", 10), an end date, or words (a condition).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from server.core.i18n import LazyString, _, _l
from server.declassification import register, terms
from server.documents import workbooks
from server.documents.workbooks import SheetRow
from server.documents.xlsx import DATE_FORMAT, save

COLUMNS = (
    "reference",
    "public_title",
    "level",
    "classified_on",
    "term",
    "knowledge_scope",
    "origin",
    "source",
    "originating_unit",
    "custodian_unit",
    "responsible_person",
    "handler",
    "basis",
)
# the header row must name these; the others may be left out
REQUIRED = ("reference", "public_title", "level", "classified_on")
# a bureau's whole register in one file, and the bench's 10,000 items with room to spare
MAX_DATA_ROWS = 20000

# the register's field each column fills (its name too, and its header in the register's export)
REGISTER_FIELDS = {
    "reference": "reference",
    "public_title": "public_title",
    "level": "level",
    "classified_on": "classified_on",
    "term": "term_kind",
    "knowledge_scope": "knowledge_scope",
    "origin": "origin",
    "source": "source_item_id",
    "originating_unit": "originating_unit_id",
    "originating_body": "originating_body",
    "custodian_unit": "custodian_unit_id",
    "responsible_person": "responsible_person_id",
    "handler": "handler",
    "basis": "basis",
}
LABELS: dict[str, LazyString] = {
    **{key: register.LABELS[name] for key, name in REGISTER_FIELDS.items()},
    "term": _l("Secrecy term"),  # the register's export names it by its kind
}
# read when present (the register's export has it), not in the template: a body outside
# the tenant that classified the source, when the originating unit column names none
EXTRA_COLUMNS = ("originating_body",)

# the template's header row, in Chinese whatever the user's language: it reads back as is
TEMPLATE_HEADERS = {
    "reference": "编号",
    "public_title": "名称（非涉密）",
    "level": "密级",
    "classified_on": "定密日期",
    "term": "保密期限",
    "knowledge_scope": "知悉范围",
    "origin": "定密方式",
    "source": "派生来源",
    "originating_unit": "原定密单位",
    "custodian_unit": "保管单位",
    "responsible_person": "定密责任人",
    "handler": "承办人",
    "basis": "定密依据",
}

_ALIASES = {
    "reference": ("编号", "事项编号", "文号", "国家秘密事项编号", "reference", "ref", "no", "number"),
    "public_title": (
        "名称（非涉密）",
        "名称",
        "事项名称",
        "非涉密名称",
        "公开名称",
        "public title",
        "public_title",
        "title",
    ),
    "level": ("密级", "level", "classification"),
    "classified_on": ("定密日期", "定密时间", "classified on", "classified_on", "date"),
    "term": ("保密期限", "期限", "term", "secrecy term"),
    "knowledge_scope": ("知悉范围", "knowledge scope", "knowledge_scope", "scope"),
    "origin": ("定密方式", "定密类型", "原始或派生", "origin"),
    "source": ("派生来源", "派生依据", "来源", "source", "derived from", "source item"),
    "originating_unit": ("原定密单位", "定密机关", "originating unit", "originating_unit", "originator"),
    "custodian_unit": ("保管单位", "单位", "定密单位", "custodian unit", "custodian_unit", "custodian", "unit"),
    "responsible_person": ("定密责任人", "责任人", "responsible person", "responsible_person", "responsible"),
    "handler": ("承办人", "经办人", "handler"),
    "basis": ("定密依据", "依据", "basis"),
    "originating_body": ("原定密机关", "原定密机关（外部）", "originating body", "originating_body"),
}

# "*" and "(必填)" mark required columns in many offices' sheets
_HEADER_NOISE = re.compile(r"[\s*:]|\((必填|选填|可选)\)")


def text_key(text: Any) -> str:
    """Headers and codes match whatever their case, spacing, width (full-width brackets
    too) and required-marks."""
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", str(text))).casefold()


def _named(names: dict[str, Iterable[str]]) -> dict[str, str]:
    return {text_key(name): code for code, found in names.items() for name in found}


@cache
def header_keys() -> dict[str, str]:
    """Header text → column: the aliases, and the register's names of its fields in both
    languages (so that its export reads back)."""
    keys: dict[str, str] = {}
    for key, label in LABELS.items():  # first: a translation may be another column's alias
        for name in (*workbooks.bilingual(label), *workbooks.bilingual(register.LABELS[REGISTER_FIELDS[key]])):
            keys.setdefault(text_key(name), key)
    for name, key in _named(_ALIASES).items():
        keys.setdefault(name, key)
    return keys


_LEVEL_NAMES = {
    "top_secret": ("绝密", "top secret", "top_secret"),
    "secret": ("机密", "secret", "secret (level)"),
    "confidential": ("秘密", "confidential"),
}
_ORIGIN_NAMES = {
    "original": ("原始", "原始定密", "original"),
    "derived": ("派生", "派生定密", "derived"),
}


@cache
def _level_codes() -> dict[str, str]:
    """The levels' names; the register's export writes them in the reader's language, so
    both catalogs' names count."""
    codes = _named(_LEVEL_NAMES)
    for code, name in terms.LEVELS.items():
        codes.update({text_key(n): code for n in workbooks.bilingual(name)})
    return codes


@cache
def _origin_codes() -> dict[str, str]:
    codes = _named(_ORIGIN_NAMES)
    for code, name in register.ORIGINS.items():
        codes.update({text_key(n): code for n in workbooks.bilingual(name)})
    return codes


# how the register's export writes a term (register._term_text), in both languages
_TERM_YEARS = _l("%(years)s years")
_TERM_DEFAULTED = _l("(by default of its level)")
_TERM_UNTIL = _l("Until %(date)s")
_TERM_CONDITION = _l("Until: %(condition)s")


def _pattern(text: str, name: str, group: str) -> re.Pattern:
    head, _sep, tail = text.partition(name)
    return re.compile("^" + re.escape(head.strip()) + r"\s*" + group + r"\s*" + re.escape(tail.strip()) + "$")


@cache
def _term_patterns() -> list[tuple[str, re.Pattern]]:
    found = []
    for text in workbooks.bilingual(_TERM_YEARS):
        found.append(("years", _pattern(text, "%(years)s", r"(\d{1,3})")))
    for text in workbooks.bilingual(_TERM_UNTIL):
        found.append(("date", _pattern(text, "%(date)s", r"(.+?)")))
    for text in workbooks.bilingual(_TERM_CONDITION):
        found.append(("condition", _pattern(text, "%(condition)s", r"(.+?)")))
    return found


_YEARS = re.compile(r"^(\d{1,3})(?:年|years?|yrs?|y)?$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATETIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2})?$")


def level_code(value: Any) -> str | None:
    """The level a cell names: 绝密/机密/秘密 (a star or 级 after it too), a code, or a
    level's name in English."""
    if value is None:
        return None
    key = text_key(value).replace("★", "").replace("☆", "")
    codes = _level_codes()
    return codes.get(key) or codes.get(key.removesuffix("级"))


def origin_code(value: Any) -> str | None:
    return None if value is None else _origin_codes().get(text_key(value))


def as_date(value: Any) -> date | None:
    """A real date cell, or a date typed as text (2024-01-31, 2024/1/31, 2024.1.31,
    2024年1月31日, with a time after it ignored)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    match = _DATE.match(_DATETIME_TAIL.sub("", value.strip()))
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def term_values(value: Any) -> dict[str, Any]:
    """A term as the register keeps it: years ("10年", "10 years", 10), an end date (a date
    cell or date text), or a condition in words; {} for a blank (a derived item's term
    then defaults by level)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"term_kind": "condition", "term_condition": str(value)}
    if isinstance(value, (int, float)):
        if float(value).is_integer():
            return {"term_kind": "years", "term_years": int(value)}
        return {"term_kind": "condition", "term_condition": str(value)}
    end = as_date(value)
    if end is not None:
        return {"term_kind": "date", "term_until": end}
    text = str(value).strip()
    exported = _exported_term(text)
    if exported is not None:
        return exported
    match = _YEARS.match(text_key(text))
    if match:
        return {"term_kind": "years", "term_years": int(match.group(1))}
    return {"term_kind": "condition", "term_condition": text}


def _exported_term(text: str) -> dict[str, Any] | None:
    """A term as the register's export writes it; a term it marks as its level's default
    is left blank (a derived item's default again)."""
    if any(mark.strip() and mark.strip() in text for mark in workbooks.bilingual(_TERM_DEFAULTED)):
        return {}
    for kind, pattern in _term_patterns():
        match = pattern.match(text)
        if not match:
            continue
        found = match.group(1).strip()
        if kind == "years":
            return {"term_kind": "years", "term_years": int(found)}
        if kind == "date" and as_date(found):
            return {"term_kind": "date", "term_until": as_date(found)}
        if kind == "condition":
            return {"term_kind": "condition", "term_condition": found}
    return None


# -- reading ------------------------------------------------------------------------


async def parse_items(data: bytes) -> list[SheetRow]:
    """read_items in a worker process, within workbooks.PARSE_SECONDS."""
    return await workbooks.parse(read_items, data)


def read_items(data: bytes, *, max_rows: int = MAX_DATA_ROWS) -> list[SheetRow]:
    """The data rows of the first worksheet, keyed by column (every key of COLUMNS; None
    when absent or blank; text stripped, dates as dates); ValidationFailed on "file" when
    the upload is not a readable .xlsx register. CPU-bound on untrusted bytes: call
    parse_items from the server."""
    return workbooks.read(data, lambda book: _read_rows(book, max_rows))


def _read_rows(book: Any, max_rows: int) -> list[SheetRow]:
    too_wide = _(
        "The sheet has more than %(max)s columns; keep only the register's columns.", max=workbooks.MAX_COLUMNS
    )
    return workbooks.data_rows(
        book,
        too_wide=too_wide,
        header=_columns,
        keys=(*COLUMNS, *EXTRA_COLUMNS),
        convert=_cell,
        max_rows=max_rows,
        skip_unread=True,  # filled only in columns the register does not read
    )


def _columns(header: Iterable[Any]) -> dict[int, str]:
    """Position → key for the known columns of the header row; unknown ones are ignored."""
    return workbooks.header_columns(header, lambda text: header_keys().get(text_key(text)), LABELS, REQUIRED)


def _cell(value: Any) -> Any:
    """A cell as the reader keeps it: text stripped (None when blank), a date without its
    time, a whole number as an int; other numbers as they are."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def text(value: Any) -> str:
    """A cell as text: a number as typed ("1001", not "1001.0"), a date in ISO form."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# -- the template -------------------------------------------------------------------

_HELP = {
    "reference": _l("The item's number in the unit's register. Unique within the custodian unit."),
    "public_title": _l(
        "A title that is not itself secret: the register holds no secrets, so never the real title if it is."
    ),
    "level": _l("The classification level: %(values)s."),
    "classified_on": _l("The date the item was classified, entered as a date (for example 2024-03-01)."),
    "term": _l(
        "Years (for example 10年), an end date (for example 2034-12-31), or a condition in words. "
        "Left blank on a derived item: 30, 20 or 10 years by level."
    ),
    "knowledge_scope": _l("Who may know the item (知悉范围)."),
    "origin": _l("%(values)s: classified by the unit itself, or derived from another classified item."),
    "source": _l(
        "For a derived item: the reference of the source item in the register, or the source outside it in words."
    ),
    "originating_unit": _l("For a derived item: the unit that classified the source, by its name or code."),
    "custodian_unit": _l(
        "The unit that keeps the item, by its name or code. A unit's officer may leave it blank (their own unit)."
    ),
    "responsible_person": _l("Optional. The person responsible for classification, by name, in the custodian unit."),
    "handler": _l("Optional. Who handled the classification."),
    "basis": _l("The item of the secrecy-matters scope the item falls under."),
}
_HELP_VALUES = {"level": {"values": "绝密 / 机密 / 秘密"}, "origin": {"values": "原始 / 派生"}}
_HELP_NOTE = _l(
    "One row per item on the first sheet, under the header row; other columns are ignored. "
    "The whole file is checked first and written only when no row has an error."
)
_WIDTHS = {
    "reference": 16,
    "public_title": 30,
    "level": 8,
    "classified_on": 12,
    "term": 12,
    "knowledge_scope": 20,
    "origin": 10,
    "source": 18,
    "originating_unit": 18,
    "custodian_unit": 18,
    "responsible_person": 12,
    "handler": 10,
    "basis": 24,
}


def items_template(example_unit: str = "市教育局") -> bytes:
    """An empty register with one example row, drop-down lists for the coded columns,
    and a bilingual help sheet."""
    book = Workbook()
    example = {
        "reference": "JY-2024-001",
        "public_title": "2024年全市教育工作会议材料",
        "level": "秘密",
        "classified_on": date(2024, 3, 1),
        "term": "10年",
        "knowledge_scope": "局领导班子成员",
        "origin": "原始",
        "source": None,
        "originating_unit": None,
        "custodian_unit": example_unit,
        "responsible_person": None,
        "handler": None,
        "basis": "教育工作国家秘密范围的规定 第三条",
    }
    sheet = workbooks.template_sheet(
        book,
        "国家秘密事项",
        [TEMPLATE_HEADERS[k] for k in COLUMNS],
        [[example[k] for k in COLUMNS]],
        [_WIDTHS[k] for k in COLUMNS],
    )
    letter = {k: get_column_letter(i) for i, k in enumerate(COLUMNS, start=1)}
    sheet.column_dimensions[letter["classified_on"]].number_format = DATE_FORMAT  # for the rows users add
    sheet[f"{letter['classified_on']}2"].number_format = DATE_FORMAT
    # references are codes: as text they keep their leading zeros
    sheet.column_dimensions[letter["reference"]].number_format = "@"
    for key, values in (("level", "绝密,机密,秘密"), ("origin", "原始,派生")):
        choice = DataValidation(type="list", formula1=f'"{values}"', allow_blank=True)
        choice.add(f"{letter[key]}2:{letter[key]}{MAX_DATA_ROWS}")
        sheet.add_data_validation(choice)
    workbooks.columns_help(
        book, COLUMNS, TEMPLATE_HEADERS, _ALIASES, REQUIRED, _HELP, _HELP_NOTE, (14, 28, 14, 50, 60), _HELP_VALUES
    )
    return save(book)
