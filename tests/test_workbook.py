"""Attendance workbooks in, exports out: headers in either language, untrusted bytes
refused by content, formulas read as text, and exports that cannot run a formula."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from server.core.errors import ValidationFailed
from server.documents.xlsx import write_workbook
from server.training.workbook import (
    COLUMNS,
    LABELS,
    SheetRow,
    attendance_template,
    read_attendance,
)


def xlsx(*rows: list, title: str = "Sheet") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def refused(data: bytes, **kwargs) -> str:
    with pytest.raises(ValidationFailed) as caught:
        read_attendance(data, **kwargs)
    assert list(caught.value.errors) == ["file"]
    return caught.value.errors["file"]


def test_the_template_reads_back_as_its_example_row():
    data = attendance_template()
    rows = read_attendance(data)
    assert len(rows) == 1
    row = rows[0]
    assert isinstance(row, SheetRow) and row.line == 2 and row.formulas == []
    assert list(row.values) == list(COLUMNS)
    v = row.values
    assert v["person_id"] is None
    assert (v["name"], v["unit"], v["course"]) == ("张三", "市教育局", "保密法规专题讲座")
    assert isinstance(v["date"], datetime) and v["date"].date() == date(2025, 1, 15)
    assert (v["hours"], v["score"]) == (2, 90)

    book = openpyxl.load_workbook(io.BytesIO(data))
    first, help_sheet = book.worksheets
    assert [c.value for c in first[1]] == ["人员编号", "姓名", "单位", "课程", "日期", "学时", "成绩"]
    assert all(c.font.b for c in first[1])
    assert first["E2"].is_date and first["E2"].number_format == "yyyy-mm-dd"
    assert first.column_dimensions["D"].width > first.column_dimensions["F"].width
    assert help_sheet.title == "说明 Help"
    described = [help_sheet.cell(row=r, column=1).value for r in range(2, 9)]
    assert described == ["人员编号", "姓名", "单位", "课程", "日期", "学时", "成绩"]
    assert "name" in help_sheet["B3"].value and help_sheet["E3"].value  # English alias and description


def test_headers_in_either_language_any_case_and_spacing():
    data = xlsx(
        [],  # a blank first line: the header is the first non-empty row
        [" 姓 名 ", "Remarks", "UNIT", "course", "Date", " hours ", "成绩", "Person ID"],
        ["李四", "ignored", "市公安局", "保密培训", date(2025, 3, 1), 1.5, None, 1024],
        [None, "  ", None, None, None, None, None, None],  # blank: skipped, still counted as a line
        ["  王五  ", None, "", "网络安全", datetime(2025, 3, 2, 9, 30), "2", 88, "  P-7 "],
    )
    rows = read_attendance(data)
    assert [r.line for r in rows] == [3, 5]
    first, second = (r.values for r in rows)
    assert first == {
        "person_id": 1024,
        "name": "李四",
        "unit": "市公安局",
        "course": "保密培训",
        "date": datetime(2025, 3, 1),
        "hours": 1.5,
        "score": None,
    }
    assert "Remarks" not in first and "ignored" not in first.values()
    # strings are stripped, blank strings become None, types are left to the caller
    assert second["name"] == "王五" and second["unit"] is None and second["person_id"] == "P-7"
    assert second["hours"] == "2" and second["date"] == datetime(2025, 3, 2, 9, 30)


def test_other_header_aliases():
    data = xlsx(
        ["人员ID", "name", "单位", "课程", "日期", "学时", "score"], ["7", "A", "U", "C", date(2025, 1, 2), 1, 3]
    )
    assert read_attendance(data)[0].values["person_id"] == "7"
    data = xlsx(["person_id", "Name", "Course", "DATE", "Hours"], ["8", "A", "C", date(2025, 1, 2), 1])
    row = read_attendance(data)[0]
    assert row.values["person_id"] == "8" and row.values["unit"] is None and row.values["score"] is None


def test_header_only_gives_no_rows():
    assert read_attendance(xlsx(["姓名", "课程", "日期", "学时"])) == []


def test_missing_required_columns_are_named():
    message = refused(xlsx(["姓名", "单位", "学时"], ["A", "U", 1]))
    assert str(LABELS["course"]) in message and str(LABELS["date"]) in message
    assert str(LABELS["name"]) not in message and str(LABELS["hours"]) not in message


def test_a_column_given_twice_is_refused():
    message = refused(xlsx(["姓名", "Name", "课程", "日期", "学时"], ["A", "B", "C", date(2025, 1, 2), 1]))
    assert str(LABELS["name"]) in message


def test_an_empty_sheet_is_refused():
    refused(xlsx())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"just some text\n",
        "姓名,课程,日期,学时\n张三,保密,2025-01-02,2\n".encode(),
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,  # a .xls, or a password-protected .xlsx
        b"PK\x03\x04 truncated",
    ],
    ids=["empty", "text", "csv", "ole", "broken-zip"],
)
def test_what_is_not_an_xlsx_is_refused(data):
    refused(data)


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    refused(buffer.getvalue())


def test_a_damaged_workbook_is_refused():
    # a real package whose worksheet XML is cut short
    source = zipfile.ZipFile(io.BytesIO(xlsx(["姓名", "课程", "日期", "学时"], ["A", "C", date(2025, 1, 2), 1])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            archive.writestr(item, content)
    refused(buffer.getvalue())


def test_too_many_rows_are_refused():
    header = ["姓名", "课程", "日期", "学时"]
    rows = [[f"P{i}", "C", date(2025, 1, 2), 1] for i in range(11)]
    assert len(read_attendance(xlsx(header, *rows[:10]), max_rows=10)) == 10
    assert "10" in refused(xlsx(header, *rows), max_rows=10)


def test_formulas_are_reported_and_never_evaluated():
    data = xlsx(
        ["姓名", "课程", "日期", "学时"],
        ['=HYPERLINK("http://evil.example","click")', "C", date(2025, 1, 2), "=1+1"],
        ["B", "C", date(2025, 1, 2), 2],
    )
    first, second = read_attendance(data)
    assert sorted(first.formulas) == ["hours", "name"]
    assert first.values["hours"] == "=1+1"
    assert first.values["name"] == '=HYPERLINK("http://evil.example","click")'
    assert second.formulas == []


def test_exports_neutralise_formula_injection():
    risky = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx"]
    data = write_workbook([("Export", ["A", "B", "C", "D", "E"], [risky, [-5, 3.5, 0, "plain", None]])])
    sheet = openpyxl.load_workbook(io.BytesIO(data), data_only=False).active
    for cell, original in zip(sheet[2], risky, strict=True):
        assert cell.data_type == "s" and cell.value == "'" + original
    numbers = sheet[3]
    assert [c.value for c in numbers[:3]] == [-5, 3.5, 0]
    assert all(c.data_type == "n" for c in numbers[:3])
    assert numbers[3].value == "plain" and numbers[4].value is None
    assert all(c.font.b for c in sheet[1]) and not sheet["A2"].font.b


def test_exports_neutralise_headers_and_keep_error_like_text_as_text():
    data = write_workbook([("S", ["=HEADER", "ok"], [["#N/A", "bad\x00char"]])])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == "'=HEADER" and sheet["A1"].data_type == "s"
    assert sheet["A2"].value == "#N/A" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == "badchar"


def test_exports_format_dates_and_size_columns():
    long_text = "x" * 500
    rows = [[date(2025, 1, 15), datetime(2025, 1, 15, 8, 30), "保密法规专题讲座", long_text]]
    data = write_workbook([("Dates", ["Day", "When", "课程", "Long"], rows)])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].is_date and sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["A2"].value == datetime(2025, 1, 15)
    assert sheet["B2"].is_date and sheet["B2"].value == datetime(2025, 1, 15, 8, 30)
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCD"}
    assert widths["C"] >= 16  # eight CJK characters take two columns each
    assert widths["D"] == 60  # capped


def test_exports_make_sheet_titles_valid_and_unique():
    long = "A very long sheet title that Excel would refuse"
    data = write_workbook(
        [
            (long, ["h"], []),
            (long, ["h"], []),
            ("summary", ["h"], []),
            ("Summary", ["h"], []),
            ("a/b:c", ["h"], []),
            ("", ["h"], []),
        ]
    )
    titles = openpyxl.load_workbook(io.BytesIO(data)).sheetnames
    assert all(len(t) <= 31 for t in titles)
    assert titles[0] == long[:31]
    assert titles[1].endswith("(2)") and titles[1] != titles[0]
    assert titles[2] == "summary" and titles[3] == "Summary (2)"
    assert titles[4] == "a_b_c" and titles[5]
    assert len({t.casefold() for t in titles}) == len(titles)


def test_an_export_needs_a_sheet():
    with pytest.raises(ValueError):
        write_workbook([])


def test_a_large_sheet_reads_in_full():
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["人员编号", "姓名", "单位", "课程", "日期", "学时", "成绩"])
    for i in range(5000):
        sheet.append([f"P{i}", f"Name {i}", "Unit", "Course", date(2025, 1, 2), 2, 90])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = read_attendance(buffer.getvalue())
    assert len(rows) == 5000 and rows[-1].line == 5001 and rows[-1].values["name"] == "Name 4999"
