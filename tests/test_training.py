"""Training records: requirements by role and level, hours, courses, the import."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl

from server import db
from server.training import service as training
from server.training.tables import Attendance, Course
from server.units import service as units
from tests.conftest import SYSTEM, csrf, login
from tests.factories import make_person, make_world, token_for


def workbook(rows: list[list], headers=("姓名", "单位", "课程", "日期", "学时", "成绩")) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def counts(world) -> tuple[int, int]:
    async with db.transaction(world.tenant.id):
        return (
            await Course.count().where(Course.tenant == world.tenant.id),
            await Attendance.count().where(Attendance.tenant == world.tenant.id),
        )


async def api(client, world, key="office"):
    client.headers["Authorization"] = "Bearer " + await token_for(world, key)
    return f"/api/v1/t/{world.slug}"


def this_year(world) -> int:
    return units.today(world.tenant).year


def a_past_day(world) -> date:
    today = units.today(world.tenant)
    return max(date(today.year, 1, 1), today - timedelta(days=3))


async def test_requirements_by_role_and_level(client):
    world = await make_world()
    req = await _run(world, training.requirements, this_year(world))
    assert req == {"leader": 4.0, "core": 12.0, "important": 8.0, "general": 6.0}
    assert training.required_of(req, True, "none") == 4.0
    assert training.required_of(req, True, "core") == 12.0  # both: the higher figure
    assert training.required_of(req, False, "general") == 6.0
    assert training.required_of(req, False, "none") == 0.0
    await _run(
        world,
        training.set_requirements,
        SYSTEM,
        this_year(world),
        {"leader": "6", "core": "10", "important": "8", "general": "4"},
    )
    assert (await _run(world, training.requirements, this_year(world)))["leader"] == 6.0
    base = await api(client, world)
    lead = (await client.get(f"{base}/people/{world.people['a_lead']['id']}/training")).json()
    assert lead["required"] == 10.0 and lead["hours"] == 0 and lead["shortfall"] == 10.0


async def _run(world, fn, *args):
    async with db.transaction(world.tenant.id):
        return await fn(world.tenant, *args)


async def test_courses_attendance_and_hour_totals(client):
    world = await make_world()
    base = await api(client, world)
    day = a_past_day(world).isoformat()
    course = await client.post(
        f"{base}/training/courses", json={"title": "保密法规讲座", "kind": "lecture", "hours": "3", "date": day}
    )
    assert course.status_code == 201
    course_id = course.json()["id"]
    for bad, field in (
        ({"hours": "0"}, "hours"),
        ({"hours": "500"}, "hours"),
        ({"hours": "x"}, "hours"),
        ({"date": "2999-01-01"}, "date"),
        ({"kind": "party"}, "kind"),
    ):
        refused = await client.post(
            f"{base}/training/courses", json={"title": "x", "kind": "lecture", "hours": "2", "date": day, **bad}
        )
        assert refused.status_code == 422 and field in {e["field"] for e in refused.json()["errors"]}
    async with db.transaction(world.tenant.id):
        await training.add_attendance(world.tenant, SYSTEM, course_id, {"person_id": world.people["a_lead"]["id"]})
        await training.add_attendance(
            world.tenant, SYSTEM, course_id, {"person_id": world.people["a_principal"]["id"], "hours": "1.5"}
        )
    lead = (await client.get(f"{base}/people/{world.people['a_lead']['id']}/training")).json()
    assert lead["hours"] == 3.0 and lead["required"] == 12.0 and lead["shortfall"] == 9.0
    assert lead["attendances"][0]["title"] == "保密法规讲座"
    unit = (await client.get(f"{base}/units/{world.units['district_a']['id']}/training")).json()
    assert unit["leaders"] == {"total": 2, "met": 0, "rate": 0.0}
    assert [r["name"] for r in unit["short"]] == ["李四", "张三"]  # the longest shortfall first
    other = await make_world()
    outsider = await client.post(
        f"/t/{world.slug}/training/courses/{course_id}/attendance", data={"person_id": other.people["a_lead"]["id"]}
    )
    assert outsider.status_code == 422 and "person_id" in outsider.text  # another tenant's person: no such person


async def test_unit_officer_sees_and_records_only_their_unit(make_client):
    world = await make_world()
    officer = await make_client()
    await login(officer, world.slug, "officer")
    token = await csrf(officer, f"/t/{world.slug}/training")
    day = a_past_day(world).isoformat()
    created = await officer.post(
        f"/t/{world.slug}/training/courses",
        data={"_csrf": token, "title": "处内学习", "kind": "lecture", "hours": "2", "date": day},
    )
    assert created.status_code == 303
    course_url = created.headers["location"]
    outside = await officer.post(
        f"{course_url}/attendance", data={"_csrf": token, "person_id": world.people["b_principal"]["id"]}
    )
    assert outside.status_code == 422
    inside = await officer.post(
        f"{course_url}/attendance", data={"_csrf": token, "person_id": world.people["a_principal"]["id"]}
    )
    assert inside.status_code == 303
    page = await officer.get(f"/t/{world.slug}/training")
    assert "张三" in page.text and "王五" not in page.text and "处内学习" in page.text


async def test_import_preview_lists_every_bad_row_and_writes_nothing(client):
    world = await make_world()
    await make_person(world.tenant, world.units["b_unit"], "张三", "staff")  # a second 张三: ambiguous
    base = await api(client, world)
    day = a_past_day(world)
    last_year = date(day.year - 1, 6, 1)
    future = units.today(world.tenant) + timedelta(days=5)
    rows = [
        ["李四", "甲区财政局", "保密讲座", day, 2, 90],  # good
        ["无名氏", "", "保密讲座", day, 2, None],  # unknown person
        ["张三", "", "保密讲座", day, 2, None],  # ambiguous name
        ["赵六", "", "保密讲座", day, "两小时", None],  # hours not a number
        ["赵六", "", "保密讲座", last_year, 2, None],  # outside the year
        ["赵六", "", "保密讲座", future, 2, None],  # future (when still in this year) or outside it
        ["李四", "甲区财政局", "保密讲座", day, 2, 90],  # duplicate of row 2
        ["王五", "", "=1+1", day, "=2*2", None],  # formulas
        ["王五", "", "保密讲座", day, -1, None],  # hours <= 0
    ]
    before = await counts(world)
    preview = await client.post(f"{base}/training/imports", files={"file": ("a.xlsx", workbook(rows))})
    assert preview.status_code == 201
    body = preview.json()
    problems = {(e["line"], e["field"]) for e in body["errors"]}
    assert {
        (3, "name"),
        (4, "name"),
        (5, "hours"),
        (6, "date"),
        (7, "date"),
        (8, "name"),
        (9, "course"),
        (9, "hours"),
        (10, "hours"),
    } <= problems
    assert [r["line"] for r in body["rows"]] == [2] and body["clean"] is False
    applied = await client.post(f"{base}/training/imports/{body['id']}/apply")
    assert applied.status_code == 409
    assert await counts(world) == before


async def test_a_clean_import_is_applied_in_one_go_and_is_idempotent(client):
    world = await make_world()
    base = await api(client, world)
    day = a_past_day(world)
    rows = [
        ["李四", "甲区财政局", "保密讲座", day, 2, 90],
        ["王五", "乙区财政局", "保密讲座", day, 2, 80],
        ["赵六", "", "网络安全", day, 1.5, None],
    ]
    english = workbook(rows, headers=("Name", "Unit", "Course", "Date", "Hours", "Score"))
    preview = (await client.post(f"{base}/training/imports", files={"file": ("b.xlsx", english)})).json()
    assert preview["clean"] and preview["counts"] == {"new": 3}
    before = await counts(world)
    done = await client.post(f"{base}/training/imports/{preview['id']}/apply")
    assert done.status_code == 201 and done.json() == {"written": 3, "courses_created": 2, "unchanged": 0}
    assert await counts(world) == (before[0] + 2, before[1] + 3)
    assert (await client.post(f"{base}/training/imports/{preview['id']}/apply")).status_code == 409
    again = (await client.post(f"{base}/training/imports", files={"file": ("b.xlsx", english)})).json()
    assert again["counts"] == {"same": 3}
    rows[0][4] = 3
    changed = (
        await client.post(
            f"{base}/training/imports",
            files={"file": ("c.xlsx", workbook(rows, ("Name", "Unit", "Course", "Date", "Hours", "Score")))},
        )
    ).json()
    assert changed["counts"] == {"update": 1, "same": 2}
    await client.post(f"{base}/training/imports/{changed['id']}/apply")
    lead = (await client.get(f"{base}/people/{world.people['a_lead']['id']}/training")).json()
    assert lead["hours"] == 3.0


async def test_files_that_are_not_workbooks_are_refused(client):
    world = await make_world()
    base = await api(client, world)
    for name, content in (("a.xlsx", b"name,course\n"), ("a.csv", "姓名,课程".encode()), ("a.xlsx", b"")):
        refused = await client.post(f"{base}/training/imports", files={"file": (name, content)})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "file"
    huge = await client.post(f"{base}/training/imports", files={"file": ("big.xlsx", b"PK" + b"0" * 6_000_000)})
    assert huge.status_code == 422


async def test_exports_neutralise_formulas(client):
    world = await make_world()
    base = await api(client, world)
    day = a_past_day(world).isoformat()
    await client.post(
        f"{base}/training/courses",
        json={"title": '=HYPERLINK("http://x")', "kind": "lecture", "hours": "2", "date": day},
    )
    await login(client, world.slug, "office")
    export = await client.get(f"/t/{world.slug}/training/courses.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    titles = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert titles == ['\'=HYPERLINK("http://x")']
    hours = await client.get(f"/t/{world.slug}/training/hours.xlsx")
    names = {row[0].value for row in openpyxl.load_workbook(io.BytesIO(hours.content)).active.iter_rows(min_row=2)}
    assert {"张三", "李四", "王五", "赵六"} <= names
    template = await client.get(f"/t/{world.slug}/training/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"


async def test_the_import_pages(client):
    world = await make_world()
    await login(client, world.slug, "office")
    token = await csrf(client, f"/t/{world.slug}/training/import")
    day = a_past_day(world)
    upload = await client.post(
        f"/t/{world.slug}/training/import",
        data={"_csrf": token},
        files={"file": ("a.xlsx", workbook([["李四", "甲区财政局", "保密讲座", day, 2, None]]))},
    )
    assert upload.status_code == 303
    preview = await client.get(upload.headers["location"])
    assert "李四" in preview.text and "保密讲座" in preview.text
    applied = await client.post(upload.headers["location"] + "/apply", data={"_csrf": token})
    assert applied.status_code == 303
    page = await client.get(f"/t/{world.slug}/training")
    assert page.status_code == 200 and "保密讲座" in page.text
    person = await client.get(f"/t/{world.slug}/people/{world.people['a_lead']['id']}")
    assert "保密讲座" in person.text


async def test_tenant_wide_courses_are_shared_but_each_scope_keeps_its_people(client, make_client):
    world = await make_world()
    base = await api(client, world)
    day = a_past_day(world).isoformat()
    course = (
        await client.post(
            f"{base}/training/courses", json={"title": "全市保密大讲堂", "kind": "lecture", "hours": "4", "date": day}
        )
    ).json()
    async with db.transaction(world.tenant.id):
        other = await training.add_attendance(
            world.tenant, SYSTEM, course["id"], {"person_id": world.people["b_principal"]["id"]}
        )
    officer = await make_client()
    await login(officer, world.slug, "officer")
    token = await csrf(officer, f"/t/{world.slug}/training")
    page = await officer.get(f"/t/{world.slug}/training")
    assert "全市保密大讲堂" in page.text
    mine = await officer.post(
        f"/t/{world.slug}/training/courses/{course['id']}/attendance",
        data={"_csrf": token, "person_id": world.people["a_principal"]["id"]},
    )
    assert mine.status_code == 303
    theirs = await officer.post(
        f"/t/{world.slug}/training/attendance/{other['attendees'][0]['id']}/remove", data={"_csrf": token}
    )
    assert theirs.status_code == 404
    detail = (await client.get(f"{base}/training/courses")).json()
    assert detail[0]["attendee_hours"] == 8.0
