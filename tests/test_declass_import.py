"""The declassification register's Excel import: every row checked and shown before
anything is written, applied all or nothing and once, within the importer's scope."""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime

import openpyxl

from server import db
from server.audit.tables import AuditEvent
from server.declassification import imports_workbook
from server.declassification.tables import ClassifiedItem, ItemImport
from tests.conftest import csrf, login
from tests.factories import Api, make_world

HEADERS = (
    "编号",
    "名称（非涉密）",
    "密级",
    "定密日期",
    "保密期限",
    "知悉范围",
    "定密方式",
    "派生来源",
    "原定密单位",
    "保管单位",
    "定密责任人",
    "承办人",
    "定密依据",
)
ENGLISH = (
    "Reference",
    "Public title",
    "Level",
    "Classified on",
    "Term",
    "Knowledge scope",
    "Origin",
    "Source",
    "Originating unit",
    "Custodian unit",
    "Responsible person",
    "Handler",
    "Basis",
)
BASIS = "财政工作国家秘密事项范围 第三条"


def row(reference: str, **over) -> list:
    values = {
        "编号": reference,
        "名称（非涉密）": "关于预算编制的通知",
        "密级": "秘密",
        "定密日期": date(2023, 3, 1),
        "保密期限": "10年",
        "知悉范围": "局领导、预算科",
        "定密方式": "原始",
        "派生来源": None,
        "原定密单位": None,
        "保管单位": "甲区财政局",
        "定密责任人": "李四",
        "承办人": "小刘",
        "定密依据": BASIS,
    }
    values.update({("名称（非涉密）" if k == "title" else k): v for k, v in over.items()})
    return [values[h] for h in HEADERS]


def workbook(rows: list[list], headers=HEADERS) -> bytes:
    """A workbook as openpyxl saves it: dates as real Excel dates."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for r in rows:
        sheet.append(r)
    sheet.append([])  # blank trailing rows are ignored
    sheet.append([None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def items(world) -> list[dict]:
    async with db.transaction(world.tenant.id):
        return await ClassifiedItem.select().where(ClassifiedItem.tenant == world.tenant.id)


async def actions(world) -> list[str]:
    async with db.transaction(world.tenant.id):
        rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.tenant == world.tenant.id)
    return [r["action"] for r in rows]


async def upload(api: Api, who: str, data: bytes, name: str = "register.xlsx"):
    return await api.post(who, "/classified-items/imports", files={"file": (name, data)})


async def clean_preview(api: Api, who: str, rows: list[list], headers=HEADERS) -> dict:
    made = await upload(api, who, workbook(rows, headers))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["clean"], body["errors"]
    return body


async def test_preview_lists_every_bad_row_and_writes_nothing(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    rows = [
        row("CZ-001"),  # good
        row("CZ-002", 密级="很秘密"),
        row("CZ-003", 定密日期="去年春天"),
        row("CZ-004", 保管单位="不存在的单位"),
        row("CZ-005", 定密责任人="无名氏"),
        row("CZ-001"),  # the reference of line 2 again, in the same unit
        row("CZ-007", 定密依据=None),
        row("CZ-008", 保密期限="50年"),  # past the ceiling of 秘密
        row("CZ-009", title="绝密★ 某工程图纸"),
        row("CZ-010", 定密方式="抄来的"),
        row("CZ-011", 编号="=A1&B1"),
        row("CZ-012", 保密期限=None),  # an original item marks its term
    ]
    before = await actions(world)
    made = await upload(api, "office", workbook(rows))
    assert made.status_code == 201, made.text
    body = made.json()
    problems = {(e["line"], e["field"]) for e in body["errors"]}
    assert problems == {
        (3, "level"),
        (4, "classified_on"),
        (5, "custodian_unit"),
        (6, "responsible_person"),
        (7, "reference"),
        (8, "basis"),
        (9, "term"),
        (10, "public_title"),
        (11, "origin"),
        (12, "reference"),
        (13, "term"),
    }, body["errors"]
    assert all(e["message"] for e in body["errors"])
    duplicate = next(e for e in body["errors"] if e["line"] == 7)
    assert "2" in duplicate["message"]
    assert [r["line"] for r in body["rows"]] == [2] and body["clean"] is False
    assert body["rows"][0]["custodian_unit_id"] == world.units["a_unit"]["id"]
    assert body["rows"][0]["responsible_person_id"] == world.people["a_lead"]["id"]
    # a preview writes no item, only its own record
    assert await items(world) == []
    assert set(await actions(world)) - set(before) == {"declass.import_preview"}
    refused = await api.post("office", f"/classified-items/imports/{body['id']}/apply")
    assert refused.status_code == 409 and refused.json()["detail"]
    assert await items(world) == []
    detail = await api.get("office", f"/classified-items/imports/{body['id']}")
    assert detail.status_code == 200 and detail.json()["status"] == "preview"


async def test_a_clean_import_is_applied_once_with_an_audit_event_per_item(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    rows = [
        row("CZ-101"),
        row("CZ-102", 密级="机密", 保密期限=date(2033, 12, 31), 定密日期=datetime(2023, 5, 6, 0, 0)),
        row("CZ-103", 密级="绝密", 保密期限="工程竣工后", 保管单位="乙区财政局", 定密责任人="王五"),
        row("CZ-104", 保管单位="A-01", 定密日期="2022/7/1", 定密责任人=None),  # by the unit's code
        # derived from an outside body, no term marked: 10 years for 秘密
        row("CZ-105", 定密方式="派生", 派生来源="省财政厅", 保密期限=None),
    ]
    preview = await clean_preview(api, "office", rows)
    assert preview["counts"] == {"new": 5}
    by_ref = {r["reference"]: r for r in preview["rows"]}
    assert by_ref["CZ-102"]["term_kind"] == "date" and by_ref["CZ-102"]["classified_on"] == "2023-05-06"
    assert by_ref["CZ-103"]["term_kind"] == "condition" and by_ref["CZ-103"]["level"] == "top_secret"
    assert by_ref["CZ-104"]["classified_on"] == "2022-07-01"
    assert by_ref["CZ-105"]["origin"] == "derived" and by_ref["CZ-105"]["originating_body"] == "省财政厅"
    assert by_ref["CZ-105"]["term_defaulted"] and by_ref["CZ-105"]["term_years"] == 10
    done = await api.post("office", f"/classified-items/imports/{preview['id']}/apply")
    assert done.status_code == 201, done.text
    assert done.json() == {"added": 5}
    written = {i["reference"]: i for i in await items(world)}
    assert set(written) == {"CZ-101", "CZ-102", "CZ-103", "CZ-104", "CZ-105"}
    assert written["CZ-101"]["term_ends_on"] == date(2033, 2, 28) and written["CZ-101"]["status"] == "active"
    assert written["CZ-101"]["handler"] == "小刘" and written["CZ-101"]["basis"] == BASIS
    assert written["CZ-102"]["term_until"] == date(2033, 12, 31)
    done_actions = await actions(world)
    assert done_actions.count("declass.item_create") == 5 and done_actions.count("declass.import_apply") == 1
    again = await api.post("office", f"/classified-items/imports/{preview['id']}/apply")
    assert again.status_code == 409
    assert len(await items(world)) == 5
    # the same references again: already in their units' registers
    twice = (await upload(api, "office", workbook(rows))).json()
    assert {(e["line"], e["field"]) for e in twice["errors"]} == {(n, "reference") for n in range(2, 7)}


async def test_derived_items_name_their_source_by_reference(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    source = await clean_preview(
        api, "office", [row("CZ-201", 密级="机密", 保密期限="20年", 保管单位="市教育局", 定密责任人="赵六")]
    )
    assert (await api.post("office", f"/classified-items/imports/{source['id']}/apply")).status_code == 201
    derived = await clean_preview(
        api,
        "office",
        [row("CZ-202", 定密方式="派生", 派生来源="CZ-201", 原定密单位="市教育局", 密级=None, 保密期限=None)],
        ENGLISH,
    )
    made = derived["rows"][0]
    assert made["source_reference"] == "CZ-201" and made["originating_unit_name"] == "市教育局"
    # the source's level, and its term's end
    assert made["level"] == "secret" and made["term_kind"] == "date" and made["term_until"] == "2043-02-28"
    assert (await api.post("office", f"/classified-items/imports/{derived['id']}/apply")).status_code == 201
    written = {i["reference"]: i for i in await items(world)}
    assert written["CZ-202"]["source_item"] == written["CZ-201"]["id"]
    assert written["CZ-202"]["originating_unit"] == written["CZ-201"]["custodian_unit"]


async def test_two_applies_at_once_write_once(client, make_client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    other = Api(await make_client("10.9.9.8"), world, api.tokens)
    preview = await clean_preview(api, "office", [row("CZ-301"), row("CZ-302"), row("CZ-303")])
    path = f"/classified-items/imports/{preview['id']}/apply"
    answers = await asyncio.gather(api.post("office", path), other.post("office", path))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    assert len(await items(world)) == 3
    assert (await actions(world)).count("declass.import_apply") == 1


async def test_a_preview_made_stale_writes_nothing(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    first = await clean_preview(api, "office", [row("CZ-401")])
    second = await clean_preview(api, "office", [row("CZ-402"), row("CZ-401")])
    assert (await api.post("office", f"/classified-items/imports/{first['id']}/apply")).status_code == 201
    stale = await api.post("office", f"/classified-items/imports/{second['id']}/apply")
    assert stale.status_code == 409 and "CZ-401" in stale.json()["detail"]
    assert {i["reference"] for i in await items(world)} == {"CZ-401"}
    async with db.transaction(world.tenant.id):
        kept = await ItemImport.select(ItemImport.status).where(ItemImport.uuid == second["id"]).first()
    assert kept["status"] == "preview"  # nothing applied: a fresh upload is the way on


async def test_an_officer_imports_into_their_own_unit_only(client):
    world = await make_world()
    api = await Api.of(client, world, "office", "officer", "district")
    rows = [
        row("CZ-501", 保管单位=None),  # none named: the officer's own unit
        row("CZ-502", 保管单位="乙区财政局", 定密责任人="王五"),  # another unit
        row("CZ-503", 保管单位="市教育局", 定密责任人=None),
    ]
    made = (await upload(api, "officer", workbook(rows))).json()
    assert {(e["line"], e["field"]) for e in made["errors"]} == {(3, "custodian_unit"), (4, "custodian_unit")}
    assert made["rows"][0]["custodian_unit_id"] == world.units["a_unit"]["id"]
    assert (await api.post("officer", f"/classified-items/imports/{made['id']}/apply")).status_code == 409
    assert await items(world) == []
    own = await clean_preview(api, "officer", [row("CZ-501", 保管单位=None)])
    # the office's preview is not the officer's to see or apply; a district admin imports nothing
    office = await clean_preview(api, "office", [row("CZ-510")])
    assert (await api.get("officer", f"/classified-items/imports/{office['id']}")).status_code == 404
    assert (await api.post("officer", f"/classified-items/imports/{office['id']}/apply")).status_code == 404
    assert (await upload(api, "district", workbook([row("CZ-520")]))).status_code == 403
    assert (await api.post("officer", f"/classified-items/imports/{own['id']}/apply")).status_code == 201
    assert {i["reference"] for i in await items(world)} == {"CZ-501"}


async def test_another_tenants_import_is_not_found(client):
    world, stranger = await make_world(), await make_world("另一个保密局")
    api = await Api.of(client, world, "office")
    theirs = await clean_preview(await Api.of(client, stranger, "office"), "office", [row("CZ-601")])
    assert (await api.get("office", f"/classified-items/imports/{theirs['id']}")).status_code == 404
    assert (await api.post("office", f"/classified-items/imports/{theirs['id']}/apply")).status_code == 404
    assert await items(stranger) == []


async def test_files_that_are_not_registers_are_refused(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    no_header = workbook([row("CZ-701")], headers=("编号", "名称（非涉密）", "定密日期"))  # 密级 missing
    for name, content in (
        ("a.xlsx", b"\x00\x01garbage bytes\xff" * 50),
        ("a.xlsx", b"PK\x03\x04 not really a zip"),
        ("a.csv", "编号,名称".encode()),
        ("a.xlsx", b""),
        ("a.xlsx", no_header),
        ("big.xlsx", b"PK" + b"0" * 6_000_000),
    ):
        refused = await upload(api, "office", content, name)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "file"
    missing = await api.post("office", "/classified-items/imports", data={"x": "1"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
    async with db.transaction(world.tenant.id):
        assert await ItemImport.count().where(ItemImport.tenant == world.tenant.id) == 0


def test_the_template_reads_back_and_takes_what_offices_type():
    rows = imports_workbook.read_items(imports_workbook.items_template())
    assert len(rows) == 1 and rows[0].values["reference"] == "JY-2024-001"
    assert rows[0].values["classified_on"] == date(2024, 3, 1)
    assert (
        imports_workbook.level_code("机密★") == "secret" and imports_workbook.level_code("top_secret") == "top_secret"
    )
    assert imports_workbook.as_date("2024年1月31日") == date(2024, 1, 31)
    assert imports_workbook.as_date("2024.02.30") is None
    assert imports_workbook.term_values("10 years") == {"term_kind": "years", "term_years": 10}
    assert imports_workbook.term_values("Until 2030-12-31") == {"term_kind": "date", "term_until": date(2030, 12, 31)}
    assert imports_workbook.term_values("10 years (by default of its level)") == {}
    assert imports_workbook.term_values("验收后") == {"term_kind": "condition", "term_condition": "验收后"}


async def test_the_import_pages(client):
    world = await make_world()
    await login(client, world.slug, "officer")
    form = await client.get(f"/t/{world.slug}/classified-items/imports")
    assert form.status_code == 200 and "定密依据" in form.text
    template = await client.get(f"/t/{world.slug}/classified-items/imports/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    token = await csrf(client, f"/t/{world.slug}/classified-items/imports")
    bad = await client.post(
        f"/t/{world.slug}/classified-items/imports",
        data={"_csrf": token},
        files={"file": ("a.xlsx", workbook([row("CZ-801", 保管单位="乙区财政局"), row("CZ-802", 保管单位=None)]))},
    )
    assert bad.status_code == 303
    preview = await client.get(bad.headers["location"])
    assert preview.status_code == 200 and "乙区财政局" in preview.text and "CZ-802" in preview.text
    refused = await client.post(bad.headers["location"] + "/apply", data={"_csrf": token})
    assert refused.status_code == 409
    good = await client.post(
        f"/t/{world.slug}/classified-items/imports",
        data={"_csrf": token},
        files={"file": ("b.xlsx", workbook([row("CZ-803", 保管单位=None)]))},
    )
    applied = await client.post(good.headers["location"] + "/apply", data={"_csrf": token})
    assert applied.status_code == 303
    shown = await client.get(applied.headers["location"])
    assert shown.status_code == 200 and "CZ-803" in shown.text
    assert {i["reference"] for i in await items(world)} == {"CZ-803"}
    garbage = await client.post(
        f"/t/{world.slug}/classified-items/imports", data={"_csrf": token}, files={"file": ("c.xlsx", b"nonsense")}
    )
    assert garbage.status_code == 422 and "xlsx" in garbage.text


async def test_the_registers_export_reads_back(client):
    from server.accounts import service as accounts
    from server.declassification import register

    world, other = await make_world(), await make_world("另一个保密局")
    api = await Api.of(client, world, "office")
    rows = [
        row("CZ-901"),
        row("CZ-902", 密级="机密", 保密期限=date(2033, 12, 31)),
        row("CZ-903", 密级="绝密", 保密期限="工程竣工后", 保管单位="市教育局", 定密责任人="赵六"),
        row("CZ-904", 定密方式="派生", 派生来源="省财政厅", 保密期限=None),
        row("CZ-905", 定密方式="派生", 原定密单位="市教育局", 保密期限="5年", 定密责任人=None),
    ]
    preview = await clean_preview(api, "office", rows)
    assert (await api.post("office", f"/classified-items/imports/{preview['id']}/apply")).status_code == 201
    async with db.transaction(world.tenant.id):
        user = await accounts.user_by_username(world.tenant, world.users["office"]["username"])
        exported = await register.export_items(world.tenant, accounts.actor_for(world.tenant, user), {})
    # into another bureau with the same units and people: the same items
    made = await upload(await Api.of(client, other, "office"), "office", exported, "export.xlsx")
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["clean"], body["errors"]
    keys = ("reference", "level", "classified_on", "term_kind", "term_years", "term_until", "term_condition")
    keys += ("term_defaulted", "origin", "originating_body", "originating_unit_name", "custodian_unit_name")
    keys += ("responsible_name", "handler", "basis", "knowledge_scope", "public_title")
    first = {r["reference"]: {k: r[k] for k in keys} for r in preview["rows"]}
    second = {r["reference"]: {k: r[k] for k in keys} for r in body["rows"]}
    assert second == first
