"""Excel workbooks of a unit's device register: read one as offices make it, and hand
out its template.

Pure: bytes in, bytes out, no database. The upload is read as every uploaded workbook is
(server.documents.workbooks: identified by its content, bounded, formulas read as text,
never evaluated). Registers are kept by hand, so the reader is lenient where a person would
be: a title or notes above the header row, a header over two rows with merged cells,
blank and pre-numbered empty rows, numbers typed as text or text typed as numbers,
是/否 and the Chinese kind names.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from server.core.errors import ValidationFailed
from server.core.i18n import LazyString, _, _l
from server.documents import workbooks
from server.documents.workbooks import SheetRow
from server.documents.xlsx import save

COLUMNS = ("kind", "label", "classified", "holder", "location")
REQUIRED = ("kind", "label", "classified")
MAX_DATA_ROWS = 5000  # far above any unit's register
HEADER_ROWS = 10  # the header is among the first filled rows (a title and notes may come first)

LABELS: dict[str, LazyString] = {
    "kind": _l("Kind"),
    "label": _l("Label"),
    "classified": _l("Classified"),
    "holder": _l("Holder"),
    "location": _l("Location"),
}

# the template's header row, in Chinese whatever the user's language: it reads back as is
TEMPLATE_HEADERS = {
    "kind": "设备类型",
    "label": "名称或编号",
    "classified": "是否涉密",
    "holder": "责任人",
    "location": "存放位置",
}

_ALIASES = {
    "kind": ("设备类型", "类型", "设备种类", "种类", "类别", "设备类别", "kind", "type"),
    "label": (
        "名称或编号",
        "名称/编号",
        "设备名称",
        "名称",
        "资产编号",
        "设备编号",
        "编号",
        "邮箱地址",
        "邮箱账号",
        "标识",
        "label",
    ),
    "classified": ("是否涉密", "涉密与否", "密级", "涉密情况", "classified"),
    "holder": ("责任人", "使用人", "保管人", "使用责任人", "holder"),
    "location": ("存放位置", "存放地点", "放置地点", "位置", "地点", "location"),
}

# what offices write in the kind column; "涉密"/"非涉密" before a kind name are dropped
_KINDS = {
    "computer": (
        "computer",
        "计算机",
        "电脑",
        "台式机",
        "台式计算机",
        "笔记本",
        "笔记本电脑",
        "便携式计算机",
        "便携机",
    ),
    "it_device": (
        "it_device",
        "itdevice",
        "信息设备",
        "办公自动化设备",
        "办公设备",
        "打印机",
        "复印机",
        "扫描仪",
        "传真机",
        "多功能一体机",
        "一体机",
    ),
    "mailbox": ("mailbox", "邮箱", "电子邮箱", "电子邮件", "邮件账户"),
}
_YES = ("是", "涉密", "绝密", "机密", "秘密", "yes", "y", "true", "1", "√", "✓")
_NO = ("否", "非涉密", "不涉密", "非密", "no", "n", "false", "0", "×", "✗")

# "*" and "(必填)" mark required columns in many offices' sheets
_HEADER_NOISE = re.compile(r"[\s*＊:：]|[（(](必填|选填|可选)[)）]")


def text_key(text: Any) -> str:
    """Headers and codes match whatever their case, spacing and required-marks."""
    return _HEADER_NOISE.sub("", str(text)).casefold()


HEADER_KEYS: dict[str, str] = {text_key(alias): k for k, aliases in _ALIASES.items() for alias in aliases}
KIND_CODES: dict[str, str] = {text_key(name): code for code, names in _KINDS.items() for name in names}
CLASSIFIED: dict[str, bool] = {text_key(v): True for v in _YES} | {text_key(v): False for v in _NO}


def kind_code(text: str, english: dict[str, str]) -> str | None:
    """The kind a cell names: a code, a Chinese name (涉密计算机 too) or the kind's name
    in the reader's language (`english`: name → code)."""
    key = text_key(text)
    for prefix in ("非涉密", "涉密"):
        if key.startswith(prefix) and key[len(prefix) :] in KIND_CODES:
            key = key[len(prefix) :]
    return KIND_CODES.get(key) or english.get(key)


def classified_value(text: str) -> bool | None:
    return CLASSIFIED.get(text_key(text))


# -- reading ------------------------------------------------------------------------


async def parse_register(data: bytes) -> list[SheetRow]:
    """read_register in a worker process, within workbooks.PARSE_SECONDS."""
    return await workbooks.parse(read_register, data)


def read_register(data: bytes) -> list[SheetRow]:
    """The data rows of the first worksheet (every key of COLUMNS as text; "" when blank);
    ValidationFailed on "file" when the upload is not a readable .xlsx device register.
    CPU-bound on untrusted bytes: call parse_register from the server."""
    return workbooks.read(data, _read)


def _read(book: Any) -> list[SheetRow]:
    too_wide = _(
        "The sheet has more than %(max)s columns; keep only the register's columns.", max=workbooks.MAX_COLUMNS
    )
    header = _Header()
    rows: list[SheetRow] = []
    for line, raw in workbooks.sheet_rows(book, too_wide=too_wide):
        if not header.done:
            header.take(raw)
            continue
        if header.continues(raw):
            continue
        row = workbooks.sheet_row(line, raw, header.columns, COLUMNS, _text)
        if not any(row.values.values()):
            continue  # blank, or only a pre-filled row number
        if len(rows) >= MAX_DATA_ROWS:
            raise workbooks.too_many_rows(MAX_DATA_ROWS)
        rows.append(row)
    if not header.done:
        header.fail()
    return rows


class _Header:
    """The header: the first filled rows are read until the required columns are named,
    a two-row header (merged group cells above the column names) adding up; a row just
    below that names further columns belongs to it too."""

    def __init__(self) -> None:
        self.columns: dict[int, str] = {}
        self.done = False
        self.seen = 0  # filled rows read while looking
        self.just_done = False

    def _names(self, raw: tuple[Any, ...]) -> dict[int, str]:
        found = {}
        for index, text in enumerate(raw):
            if isinstance(text, str) and (key := HEADER_KEYS.get(text_key(text))):
                found[index] = key
        return found

    def _add(self, found: dict[int, str]) -> None:
        for index, key in found.items():
            if index in self.columns:
                continue
            if key in self.columns.values():
                raise workbooks.repeated_column(LABELS[key])
            self.columns[index] = key

    def take(self, raw: tuple[Any, ...]) -> None:
        if not any(workbooks.filled(v) for v in raw):
            return
        self.seen += 1
        self._add(self._names(raw))
        if all(k in self.columns.values() for k in REQUIRED):
            self.done = self.just_done = True
        elif self.seen >= HEADER_ROWS:
            self.fail()

    def continues(self, raw: tuple[Any, ...]) -> bool:
        """Whether the row right after the header is more of it: it names only columns
        not named yet (a data row's cells sit under named columns)."""
        if not self.just_done:
            return False
        self.just_done = False
        found = self._names(raw)
        if not found or any(i in self.columns or k in self.columns.values() for i, k in found.items()):
            return False
        self._add(found)
        return True

    def fail(self) -> None:
        if not self.seen:
            raise workbooks.empty()
        missing = [k for k in REQUIRED if k not in self.columns.values()]
        raise ValidationFailed(
            {
                "file": _(
                    "No header row names the register's columns; missing: %(columns)s.",
                    columns=", ".join(str(LABELS[k]) for k in missing),
                )
            }
        )


def _text(value: Any) -> str:
    """A cell as the text a person typed: 1001.0 is "1001", a date its ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


# -- the template -------------------------------------------------------------------

_HELP = {
    "kind": (
        _l(
            "The kind of device: %(values)s (a computer; an IT device such as a printer, copier or scanner; a mailbox)."
        ),
        {"values": "计算机, 信息设备, 邮箱"},
    ),
    "label": (_l("How the unit names the device: its asset number, or the mailbox address. Unique per kind."), {}),
    "classified": (_l("%(values)s: whether the device is classified."), {"values": "是 / 否"}),
    "holder": (_l("Optional. The person responsible for the device."), {}),
    "location": (_l("Optional. Where the device is kept."), {}),
}
_HELP_NOTE = _l(
    "One row per device on the first sheet, under the header row; a title above it and other columns are "
    "ignored. A device already in the register (same kind and label) is updated, not added again."
)


def register_template() -> bytes:
    """An empty register with example rows, drop-down lists for the coded columns, and
    a bilingual help sheet."""
    book = Workbook()
    examples = [
        ["计算机", "ZC-2024-0012", "否", "张三", "三楼301办公室"],
        ["信息设备", "打印机 HP-M403", "是", "李四", "机要室"],
        ["邮箱", "bgs@example.gov.cn", "否", "王五", ""],
    ]
    headers = [TEMPLATE_HEADERS[k] for k in COLUMNS]
    sheet = workbooks.template_sheet(book, "设备台账", headers, examples, (12, 28, 10, 12, 24))
    # asset numbers are codes: as text they keep their leading zeros
    sheet.column_dimensions["B"].number_format = "@"
    for letter, values in (("A", "计算机,信息设备,邮箱"), ("C", "是,否")):
        choice = DataValidation(type="list", formula1=f'"{values}"', allow_blank=True)
        choice.add(f"{letter}2:{letter}1000")
        sheet.add_data_validation(choice)
    rows = [
        [
            TEMPLATE_HEADERS[key],
            workbooks.bilingual(LABELS[key])[1],  # the English name, beside the Chinese header
            *workbooks.bilingual(_l("Yes") if key in REQUIRED else _l("No")),
            *workbooks.bilingual(_HELP[key][0], **_HELP[key][1]),
        ]
        for key in COLUMNS
    ]
    header = [
        text for name in (_l("Column"), _l("Must be filled"), _l("Description")) for text in workbooks.bilingual(name)
    ]
    workbooks.help_sheet(book, header, rows, _HELP_NOTE, (12, 14, 10, 10, 50, 60))
    return save(book)
