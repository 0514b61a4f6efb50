"""Attendance workbooks as offices make them: a title merged across the columns above the
header, notes, a 说明 sheet first, their own header wordings, full-width text, names padded
to line up, dates typed as text, hours with units, total rows and staff numbers."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest

from server.core.errors import ValidationFailed
from server.documents import workbooks
from server.documents.workbooks import HELP_TITLE, SheetRow, read_date, read_number
from server.training.service import _ImportRows
from server.training.workbook import LABELS, attendance_template, read_attendance
from server.units import service as units
from tests.conftest import csrf, login
from tests.factories import make_world, token_for

OFFICE_HEADER = ["序号", "姓名", "所在单位", "培训内容", "培训日期", "培训学时", "人员编号", "备注"]


def office_book(rows: list[list], *, header=OFFICE_HEADER, title="2026年度保密教育培训签到汇总表", notes=True):
    """A 签到汇总表 as a clerk makes it: a 说明 sheet first, then the sheet with a title row
    merged across the columns, a note line, the header, the rows."""
    book = openpyxl.Workbook()
    readme = book.active
    readme.title = "说明"
    readme.append(["本表由各单位保密员填写，于每季度末报送市保密局。"])
    readme.append(["日期请写成 2026-03-05 或 2026年3月5日。"])
    sheet = book.create_sheet("签到表")
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    if notes:
        sheet.append(["填报单位：市保密局（盖章）", None, None, None, None, "填报日期：2026年12月1日"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def refused(data: bytes) -> str:
    with pytest.raises(ValidationFailed) as caught:
        read_attendance(data)
    return caught.value.errors["file"]


# -- reading, no database -------------------------------------------------------------


def test_the_header_is_found_below_a_merged_title_and_notes_on_the_second_sheet():
    rows = read_attendance(
        office_book(
            [
                [1, "李　四", "甲区财政局", "保密法规讲座", "2026年3月5日", "2学时", "0001", None],
                [2, " 王 五 ", "乙区财政局", "保密法规讲座", date(2026, 3, 5), 1.5, None, "补签"],
            ]
        )
    )
    assert rows.sheet == "签到表"
    assert [r.line for r in rows] == [4, 5]
    first = rows[0].values
    assert (first["name"], first["unit"], first["course"]) == ("李　四", "甲区财政局", "保密法规讲座")
    assert (first["date"], first["hours"], first["person_id"]) == ("2026年3月5日", "2学时", "0001")
    # the error table names a column as the file does
    assert rows.headers == {
        "name": "姓名",
        "unit": "所在单位",
        "course": "培训内容",
        "date": "培训日期",
        "hours": "培训学时",
        "person_id": "人员编号",
    }


@pytest.mark.parametrize(
    "header",
    [
        ["工号", "名字", "工作单位", "培训课程", "培训时间", "学时数", "考试成绩"],
        ["编号", "姓 名", "单位名称", "课程名称", "日期", "课时", "得分"],
        ["人员ＩＤ", "姓　名", "ＵＮＩＴ", "培训名称", "Date", "时长", "成绩"],  # full-width forms
    ],
)
def test_office_header_wordings(header):
    rows = read_attendance(office_book([["7", "李四", "甲区财政局", "讲座", "2026.3.5", "2", 90]], header=header))
    assert rows[0].values == {
        "person_id": "7",
        "name": "李四",
        "unit": "甲区财政局",
        "course": "讲座",
        "date": "2026.3.5",
        "hours": "2",
        "score": 90,
    }


def test_total_and_blank_rows_are_skipped_and_counted():
    rows = read_attendance(
        office_book(
            [
                [1, "李四", "甲区财政局", "讲座", "2026-03-05", 2, None, None],
                [None] * 8,
                [2, "王五", "乙区财政局", "讲座", "2026-03-05", 2, None, None],
                ["合 计", None, None, None, None, "=SUM(F4:F6)", None, None],
                [None, "总计：", None, None, None, 4, None, None],
                [None, None, None, None, None, None, None, "Total"],
            ]
        )
    )
    assert [r.line for r in rows] == [4, 6]
    assert rows.totals == [7, 8, 9]


def test_no_header_in_the_first_rows_names_the_closest_candidate():
    # the header lacks 学时: the message says so, not that every column is missing
    lacking = ["姓名", "单位", "课程", "日期"]
    message = refused(office_book([["李四", "甲区财政局", "讲座", "2026-03-05"]], header=lacking))
    assert str(LABELS["hours"]) in message and "10" in message
    assert all(str(LABELS[k]) not in message for k in ("name", "course", "date"))
    # eleven filled rows above it: too far down to be taken for the header
    book = openpyxl.Workbook()
    sheet = book.active
    for i in range(10):
        sheet.append([f"备注 {i}"])
    sheet.append(["姓名", "课程", "日期", "学时"])
    sheet.append(["李四", "讲座", "2026-03-05", 2])
    buffer = io.BytesIO()
    book.save(buffer)
    message = refused(buffer.getvalue())
    assert all(str(LABELS[k]) in message for k in ("name", "course", "date", "hours"))


def test_the_first_sheet_with_a_header_is_read_and_the_help_sheet_never():
    book = openpyxl.load_workbook(io.BytesIO(attendance_template()))
    book.move_sheet(HELP_TITLE, offset=-1)  # the help sheet first: still passed over
    extra = book.create_sheet("第二季度")
    extra.append(["姓名", "课程", "日期", "学时"])
    extra.append(["王五", "讲座", "2026-06-01", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = read_attendance(buffer.getvalue())
    assert rows.sheet == "签到表" and [r.values["name"] for r in rows] == ["张三"]


@pytest.mark.parametrize(
    ("text", "expected", "yearless"),
    [
        ("2026-03-05", date(2026, 3, 5), False),
        ("2026/3/5", date(2026, 3, 5), False),
        ("2026.3.5", date(2026, 3, 5), False),
        ("2026年3月5日", date(2026, 3, 5), False),
        (" 2026 年 3 月 5 日 ", date(2026, 3, 5), False),
        ("２０２６年３月５日", date(2026, 3, 5), False),
        ("20260305", date(2026, 3, 5), False),
        (20260305, date(2026, 3, 5), False),
        ("3月5日", date(2025, 3, 5), True),
        ("2026-02-30", None, False),
        ("三月五日", None, False),
        ("3/5", None, False),
    ],
)
def test_dates_typed_as_text(text, expected, yearless):
    assert read_date(text, 2025) == (expected, yearless)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2学时", 2.0), ("1.5h", 1.5), ("2 小时", 2.0), ("2课时", 2.0), ("1,5", 1.5), ("２", 2.0), (3, 3.0)],
)
def test_hours_with_units_and_decimal_commas(text, expected):
    assert read_number(text, hours=True) == expected


@pytest.mark.parametrize("text", ["两小时", "1,500", "nan", "inf", True, "2学时", None])
def test_what_is_no_number(text):
    assert read_number(text) is None


def test_the_templates_help_lists_the_wordings_and_date_forms():
    help_sheet = openpyxl.load_workbook(io.BytesIO(attendance_template()))[HELP_TITLE]
    rows = {r[0]: r for r in help_sheet.iter_rows(min_row=2, values_only=True) if r[0]}
    assert "所在单位" in rows["单位"][1] and "培训日期" in rows["日期"][1] and "培训学时" in rows["学时"][1]
    assert workbooks.DATE_FORMS in rows["日期"][4]  # the English description


def test_text_keys():
    assert workbooks.text_key("　姓　名 ") == workbooks.text_key("姓名")
    assert workbooks.text_key("ＵＮＩＴ") == "unit"
    assert workbooks.is_total(["合　计", None]) and not workbooks.is_total(["合计培训", 2])


def test_rows_checked_against_people_padded_names_ids_and_yearless_dates():
    li = {"person_id": "5f0c7a56-3a1b-4c1e-9a55-0c1f5b0e8a01", "person_name": "卢海", "unit_name": "市教育局"}
    rows = _ImportRows([li], 2026, date(2026, 6, 30))

    def check(**values):
        base = {"person_id": None, "name": "卢 海", "unit": "市教育局", "course": "讲座", "date": "3月5日"}
        return rows.check(SheetRow(line=4, values={**base, "hours": "2学时", "score": None, **values}))

    checked, problems = check()
    assert problems == [] and checked["person_id"] == li["person_id"] and checked["date"] == "2026-03-05"
    assert "2026" in checked["note"]
    checked, problems = check(person_id="0001", course="另一讲座", name="卢　海", unit="市 教育局")
    assert problems == [] and "0001" in checked["note"]  # a staff number: matched by name, and said
    checked, problems = check(person_id=li["person_id"].upper(), course="第三讲")
    assert problems == [] and checked["person_name"] == "卢海"
    _checked, problems = check(person_id="00000000-0000-0000-0000-000000000000")
    assert [f for f, _m in problems] == ["person_id"]
    _checked, problems = check(date="12月5日", course="第四讲")  # the assumed year makes it a future date
    assert [f for f, _m in problems] == ["date"] and "2026" in problems[0][1]
    _checked, problems = check(date="三月五日")
    assert "2026年3月5日" in problems[0][1]


# -- the import, on both databases ----------------------------------------------------


def _day(world) -> date:
    today = units.today(world.tenant)
    return max(date(today.year, 1, 1), today - timedelta(days=3))


async def test_an_office_workbook_previews_clean_and_applies(client):
    world = await make_world()
    client.headers["Authorization"] = "Bearer " + await token_for(world, "office")
    base = f"/api/v1/t/{world.slug}"
    day = _day(world)
    year = day.year
    rows = [
        [1, "李　四", "甲区财政局", "保密法规讲座", f"{year}年{day.month}月{day.day}日", "2学时", "0001", None],
        [2, "王 五", "乙区财政局", "保密法规讲座", f"{year}/{day.month}/{day.day}", "1.5h", "0002", None],
        [3, "赵六", "市教育局", "网络安全", f"{day.month}月{day.day}日", "2 小时", None, None],
        [4, "张三", "甲区财政局", "网络安全", f"{year}{day.month:02}{day.day:02}", "1,5", None, None],
        ["合计", None, None, None, None, "=SUM(F4:F7)", None, None],
    ]
    made = await client.post(f"{base}/training/imports", files={"file": ("签到.xlsx", office_book(rows))})
    assert made.status_code == 201, made.text
    preview = made.json()
    assert preview["errors"] == [] and preview["counts"] == {"new": 4}
    assert [(r["person_name"], r["hours"]) for r in preview["rows"]] == [
        ("李四", 2.0),
        ("王五", 1.5),
        ("赵六", 2.0),
        ("张三", 1.5),
    ]
    assert {r["date"] for r in preview["rows"]} == {day.isoformat()}
    # the API says what the pages say: the sheet read, the total row skipped, the notes
    assert preview["sheet"] == "签到表" and preview["totals"] == [len(rows) + 3]
    assert str(year) in preview["rows"][2]["note"] and "0001" in preview["rows"][0]["note"]

    await login(client, world.slug, "office")
    page = await client.get(f"/t/{world.slug}/training/imports/{preview['id']}")
    assert page.status_code == 200
    assert 'data-totals="1"' in page.text and "签到表" in page.text
    assert str(year) in page.text and "0001" in page.text  # the notes: year assumed, staff number unused

    applied = await client.post(f"{base}/training/imports/{preview['id']}/apply")
    assert applied.status_code == 201 and applied.json() == {"written": 4, "courses_created": 2, "unchanged": 0}
    again = (await client.post(f"{base}/training/imports", files={"file": ("签到.xlsx", office_book(rows))})).json()
    assert again["counts"] == {"same": 4}
    rows[0][5] = "3学时"
    changed = (await client.post(f"{base}/training/imports", files={"file": ("签到.xlsx", office_book(rows))})).json()
    assert changed["counts"] == {"update": 1, "same": 3}
    page = await client.get(f"/t/{world.slug}/training/imports/{changed['id']}")
    assert "2.0 → 3.0" in page.text  # a changed row shows old → new


async def test_errors_name_the_files_columns_and_the_accepted_date_forms(client):
    world = await make_world()
    await login(client, world.slug, "office")
    token = await csrf(client, f"/t/{world.slug}/training/import")
    day = _day(world)
    rows = [
        [1, "李四", "甲区财政局", "讲座", "五日", "2", None, None],
        [2, "王五", "乙区财政局", "讲座", day, "两小时", None, None],
        [3, "无名氏", "", "讲座", day, 2, None, None],
    ]
    upload = await client.post(
        f"/t/{world.slug}/training/import", data={"_csrf": token}, files={"file": ("a.xlsx", office_book(rows))}
    )
    assert upload.status_code == 303
    page = (await client.get(upload.headers["location"])).text
    for header in ("<td>培训日期</td>", "<td>培训学时</td>", "<td>姓名</td>"):
        assert header in page
    assert "<td>hours</td>" not in page and "<td>date</td>" not in page
    assert "2026年3月5日" in page and "20260305" in page  # the forms a date may take
