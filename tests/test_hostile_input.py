"""Hostile input cannot stall the server: workbooks are read in a worker process under
size, row and time limits while the event loop answers others; templates that run
away are refused when saved and cannot hang an issue; a unit's officer sees only their
own people on a tenant-wide course."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from functools import cache

import openpyxl
import pytest

from server import db
from server.core.errors import ValidationFailed
from server.core.i18n import _
from server.documents import safe
from server.reminders import rules
from server.reminders.tables import ReminderRule
from server.responsibility import catalog as catalogs
from server.responsibility import notices
from server.responsibility.tables import Notice
from server.training import service as training
from server.training import workbook
from server.training.tables import TrainingImport
from server.units import service as units
from tests.conftest import SYSTEM, csrf, login
from tests.factories import make_person, make_world, token_for

HEADER = ["姓名", "单位", "课程", "日期", "学时", "成绩"]


def _small_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["李四", "甲区财政局", "保密讲座", "2025-03-01", 2, 90])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rebuild(replace: dict[str, object], drop: tuple[str, ...] = ()) -> bytes:
    """The small workbook with entries dropped, replaced or added; a value is a callable
    (entry, old bytes) that streams the new bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_small_xlsx())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename not in replace and item.filename not in drop:
                dst.writestr(item, src.read(item))
        for name, content in replace.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(info, "w", force_zip64=True) as entry:
                content(entry, src.read(name) if name in src.namelist() else b"")
    return out.getvalue()


@cache
def hidden_entry_workbook() -> bytes:
    """A real workbook whose worksheet is stored as sheet1.bin (a name no XML check looked
    at) and padded with 400 MB of empty rows that deflate to almost nothing."""
    sheet = zipfile.ZipFile(io.BytesIO(_small_xlsx())).read("xl/worksheets/sheet1.xml")
    head, tail = sheet.split(b"</sheetData>")

    def padded(entry, _old):
        entry.write(head)
        chunk = b"<row/>" * ((1 << 20) // 6)
        for _megabyte in range(400):
            entry.write(chunk)
        entry.write(b"</sheetData>" + tail)

    def renamed(entry, old):
        entry.write(old.replace(b"sheet1.xml", b"sheet1.bin"))

    return _rebuild(
        {
            "xl/worksheets/sheet1.bin": padded,
            "xl/_rels/workbook.xml.rels": renamed,
            "[Content_Types].xml": renamed,
        },
        drop=("xl/worksheets/sheet1.xml",),
    )


@cache
def blank_rows_workbook(declared: bool) -> bytes:
    """The sheet holds a million blank rows; its dimension says so, or understates it."""

    def sheet(entry, old):
        text = old.decode()
        head, tail = text.split("</sheetData>")
        head = head.replace('<dimension ref="A1:F2"/>', f'<dimension ref="A1:F{1_000_002 if declared else 2}"/>')
        entry.write(head.encode())
        for start in range(3, 1_000_003, 50_000):
            entry.write("".join(f'<row r="{n}"/>' for n in range(start, start + 50_000)).encode())
        entry.write(("</sheetData>" + tail).encode())

    return _rebuild({"xl/worksheets/sheet1.xml": sheet})


def refused(data: bytes) -> str:
    with pytest.raises(ValidationFailed) as caught:
        workbook.read_attendance(data)
    assert list(caught.value.errors) == ["file"]
    return caught.value.errors["file"]


def test_every_entry_counts_and_blank_rows_count():
    assert len(hidden_entry_workbook()) < 2_000_000
    assert refused(hidden_entry_workbook()) == _("The workbook is too large; split it into smaller files.")
    assert "25000" in refused(blank_rows_workbook(declared=True))
    assert "25000" in refused(blank_rows_workbook(declared=False))
    one_far_row = _rebuild(
        {
            "xl/worksheets/sheet1.xml": lambda e, old: e.write(
                old.replace(b"</sheetData>", b'<row r="900000"/></sheetData>')
            )
        }
    )
    assert "25000" in refused(one_far_row)  # openpyxl would fill 900,000 rows in between
    wide = _rebuild(
        {
            "xl/worksheets/sheet1.xml": lambda e, old: e.write(
                old.replace(b"</sheetData>", b'<row r="3"><c r="XFD3" t="n"><v>1</v></c></row></sheetData>')
            )
        }
    )
    assert "200" in refused(wide)
    assert len(workbook.read_attendance(_small_xlsx())) == 1


@pytest.mark.parametrize(
    "hostile",
    [hidden_entry_workbook, lambda: blank_rows_workbook(True), lambda: blank_rows_workbook(False)],
    ids=["hidden-400MB-entry", "million-blank-rows-declared", "million-blank-rows-understated"],
)
async def test_a_hostile_workbook_is_refused_while_the_server_keeps_answering(client, hostile):
    world = await make_world()
    data = hostile()
    client.headers["Authorization"] = "Bearer " + await token_for(world, "office")
    # cold workers: the upload has to start one, so it is surely in flight while the checks run
    safe.shutdown()
    started = time.monotonic()
    upload = asyncio.create_task(
        client.post(f"/api/v1/t/{world.slug}/training/imports", files={"file": ("a.xlsx", data)})
    )
    answered = []  # (answered while the upload was in flight, seconds the health check took)
    while not upload.done():
        asked = time.monotonic()
        health = await client.get("/healthz")
        assert health.status_code == 200
        answered.append((not upload.done(), time.monotonic() - asked))
    response = await upload
    elapsed = time.monotonic() - started
    print(f"\nrefused in {elapsed:.2f} s ({len(data)} bytes)")
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["file"]
    # old code held the loop for 73-124 s: no health check could answer during the upload
    in_flight = [took for during, took in answered if during]
    assert len(in_flight) >= 2 and max(in_flight) < 1.0
    started = time.monotonic()
    again = await client.post(f"/api/v1/t/{world.slug}/training/imports", files={"file": ("a.xlsx", data)})
    print(f"again, by a running worker, in {time.monotonic() - started:.2f} s")
    assert again.status_code == 422
    async with db.transaction(world.tenant.id, write=False):
        assert await TrainingImport.count().where(TrainingImport.tenant == world.tenant.id) == 0


# -- templates ----------------------------------------------------------------------

RUNAWAY = (
    "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}"
)


async def _office(world):
    async with db.transaction(world.tenant.id, write=False):
        from server.accounts import service as accounts

        row = await accounts.user_by_username(world.tenant, "office")
        return accounts.actor_for(world.tenant, row)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (RUNAWAY, "模板生成耗时过长"),
        ("{% for i in range(10000000) %}x{% endfor %}", "range() 最多"),
        ("{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}", "生成的文本超过"),
        ("{{ 'x' * 100000000 }}", "重复生成的文本"),
    ],
)
async def test_a_notice_template_that_runs_away_is_refused_when_saved(client, body, says):
    world = await make_world()
    await login(client, world.slug, "office")
    token = await csrf(client, f"/t/{world.slug}/notice-templates")
    response = await client.post(
        f"/t/{world.slug}/notice-templates/principal", data={"_csrf": token, "title": "告知书", "body": body}
    )
    assert response.status_code == 422
    assert says in response.text
    office = await _office(world)
    with pytest.raises(ValidationFailed) as caught:
        async with db.transaction(world.tenant.id):
            await catalogs.save_template(world.tenant, office, "principal", {"title": "x", "body": body})
    assert list(caught.value.errors) == ["body"]


async def test_a_template_that_runs_away_only_on_real_data_cannot_hang_the_issue(client):
    world = await make_world()
    office = await _office(world)
    # fine on the sample leader 张三, a runaway for everyone else
    sly = "{% if person_name != '张三' %}" + RUNAWAY + "{% endif %}{{ person_name }}"
    async with db.transaction(world.tenant.id):
        await catalogs.save_template(world.tenant, office, "secrecy_lead", {"title": "告知书", "body": sly})
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as caught:
        async with db.transaction(world.tenant.id):
            await notices.issue(world.tenant, office, {"scope": "all"})
    print(f"\nrunaway notice template refused at issue in {time.monotonic() - started:.2f} s")
    assert list(caught.value.errors) == ["template"]
    async with db.transaction(world.tenant.id, write=False):
        assert await Notice.count().where(Notice.tenant == world.tenant.id) == 0


async def test_a_reminder_template_that_runs_away_is_refused_when_saved(client):
    world = await make_world()
    api = {"Authorization": "Bearer " + await token_for(world, "office")}
    rule = {"enabled": True, "days": 5, "repeat_days": 2, "escalate_after": 3, "channels": ["mail", "inbox"]}
    response = await client.put(
        f"/api/v1/t/{world.slug}/reminder-rules/notice_unsigned",
        json={**rule, "subject_en": "Hi", "body_en": RUNAWAY},
        headers=api,
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body_en"]
    async with db.transaction(world.tenant.id, write=False):
        assert await ReminderRule.count().where(ReminderRule.tenant == world.tenant.id) == 0


def test_a_reminder_that_runs_away_on_real_data_falls_back_to_the_builtin_wording():
    sly = "{% if name != '张三' %}" + RUNAWAY + "{% endif %}"
    rule = {**rules.defaults("notice_unsigned"), "templates": {"en": {"subject": "x", "body": sly}}}
    context = {**rules.SAMPLE, "name": "王五"}
    title, body = rules.render(rule, "en", context, escalated=False)
    builtin = rules.render(rules.defaults("notice_unsigned"), "en", context, escalated=False)
    assert (title, body) == builtin and "王五" in body  # the built-in wording, not the runaway
    # stopped by the deadline (not by finishing), and remembered: the next recipient does not pay again
    assert sly in rules._runaway and "x" not in rules._runaway
    assert rules.render(rule, "en", context, escalated=False) == builtin


def test_the_builtin_wording_renders_even_when_the_process_stalls(monkeypatch):
    """A busy machine (a stall past a tenant template's time bound) still sends our own
    wording: it is neither bounded as tightly nor remembered as a runaway."""
    monkeypatch.setattr(rules, "MESSAGE_SECONDS", 0.0)
    context = {**rules.SAMPLE, "name": "王五"}
    for _twice in range(2):
        title, body = rules.render(rules.defaults("notice_unsigned"), "en", context, escalated=False)
        assert "王五" in body and title
    builtin = rules.template_text(rules.defaults("notice_unsigned"), "en")
    assert not set(builtin) & set(rules._runaway)


# -- scoping ------------------------------------------------------------------------


async def test_a_unit_officer_sees_only_their_own_people_on_a_tenant_wide_course(client, make_client):
    world = await make_world()
    extra = await make_person(world.tenant, world.units["b_unit"], "钱七", "staff")
    office = await _office(world)
    day = units.today(world.tenant).isoformat()
    async with db.transaction(world.tenant.id):
        course = await training.create_course(
            world.tenant, office, {"title": "全市保密培训", "kind": "lecture", "hours": "2", "date": day}
        )
        for key in ("a_principal", "a_lead", "b_principal"):
            await training.add_attendance(world.tenant, office, course["id"], {"person_id": world.people[key]["id"]})
        await training.add_attendance(world.tenant, office, course["id"], {"person_id": extra["id"]})
    officer = await make_client()
    await login(officer, world.slug, "officer")
    page = await officer.get(f"/t/{world.slug}/training/courses/{course['id']}")
    assert page.status_code == 200
    assert "张三" in page.text and "李四" in page.text
    assert "王五" not in page.text and "钱七" not in page.text
    await login(client, world.slug, "office")
    everyone = await client.get(f"/t/{world.slug}/training/courses/{course['id']}")
    assert all(name in everyone.text for name in ("张三", "李四", "王五", "钱七"))
    year = units.today(world.tenant).year
    api = {"Authorization": "Bearer " + await token_for(world, "officer")}
    listed = (await officer.get(f"/api/v1/t/{world.slug}/training/courses?year={year}", headers=api)).json()
    mine = next(c for c in listed if c["id"] == course["id"])
    assert mine["attendee_hours"] == 4.0  # two of the unit's people, not all four
    async with db.transaction(world.tenant.id, write=False):
        officer_actor = await _actor(world, "officer")
        detail = await training.course_detail(world.tenant, officer_actor, course["id"])
        assert sorted(a["name"] for a in detail["attendees"]) == ["张三", "李四"]
        assert len((await training.course_detail(world.tenant, SYSTEM, course["id"]))["attendees"]) == 4


async def _actor(world, username):
    from server.accounts import service as accounts

    row = await accounts.user_by_username(world.tenant, username)
    return accounts.actor_for(world.tenant, row)
