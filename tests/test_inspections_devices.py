"""The technical check: a unit's device register (who keeps it, its Excel import), the
reproducible random sample, results only for drawn devices, the measures and their
required fields, the pages, the audit trail."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import uuid

import openpyxl
import pytest

from server import db
from server.audit.tables import AuditEvent
from server.inspections import devices
from server.inspections.devices_workbook import read_register
from server.inspections.tables import Device, Inspection
from server.units import service as units
from tests.conftest import SYSTEM, csrf, csrf_of, login
from tests.factories import make_world, token_for
from tests.helpers import post_form
from tests.inspection_world import make_inspection_world

SHA = "a" * 64


async def api(client, world, key: str = "office") -> str:
    client.headers["Authorization"] = "Bearer " + await token_for(world, key)
    return f"/api/v1/t/{world.slug}"


async def browser(make_client, slug: str, username: str):
    """Another browser, signed in as `username`."""
    other = await make_client()
    await login(other, slug, username)
    return other


def book(rows: list[list], header: tuple = ("设备类型", "名称或编号", "是否涉密", "责任人", "存放位置")) -> bytes:
    made = openpyxl.Workbook()
    sheet = made.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    made.save(buffer)
    return buffer.getvalue()


def as_offices_make_it() -> bytes:
    """A register as a unit's office keeps it: a merged title, a note, a two-row header
    with merged group cells, 序号 numbers, blank and pre-numbered empty rows, numbers as
    text and as numbers, 是/否 and the Chinese kind names, a code, other columns."""
    made = openpyxl.Workbook()
    sheet = made.active
    sheet["A1"] = "甲区财政局计算机及信息设备、邮箱登记台账"
    sheet.merge_cells("A1:H1")
    sheet["A2"] = "填报单位（盖章）：甲区财政局        填报日期：2025年3月"
    sheet.merge_cells("A2:H2")
    sheet.append(["序号", "设备类型", "设备信息", None, "是否涉密", "使用情况", None, "备注"])
    sheet.merge_cells("C3:D3")
    sheet.merge_cells("F3:G3")
    for column in "ABEH":
        sheet.merge_cells(f"{column}3:{column}4")
    sheet.append([None, None, "资产编号", "品牌型号", None, "责任人*", "存放地点", None])
    sheet.append([1, "计算机", "0012", "联想 M430", "否", "张三", "301室", ""])
    sheet.append([])
    sheet.append([2, "涉密计算机", 20240013, "联想 M720", "是", "李四", 302, "机要室"])
    sheet.append([3, "信息设备", "打印机 HP-M403", None, 1, "王五", "302室", None])
    sheet.append([4, "mailbox", "bgs@example.gov.cn", None, "否", None, None, None])
    sheet.append([5, "笔记本电脑", 1001.0, None, "Y", "赵六", None, None])
    for n in range(6, 12):
        sheet.append([n])  # pre-numbered rows nobody filled
    buffer = io.BytesIO()
    made.save(buffer)
    return buffer.getvalue()


async def live_devices(world, unit_key: str) -> list[dict]:
    async with db.transaction(world.tenant.id):
        pk = await units.unit_pk(world.tenant, SYSTEM, world.units[unit_key]["id"])
        return await Device.select().where(
            Device.tenant == world.tenant.id, Device.unit == pk, Device.deleted_at.is_null()
        )


async def actions(world) -> list[str]:
    async with db.transaction(world.tenant.id):
        rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.tenant == world.tenant.id)
    return [r["action"] for r in rows]


async def fill_register(client, base: str, world, unit_key: str = "a_unit", n: int = 10) -> list[dict]:
    made = []
    for i in range(n):
        kind = ("computer", "it_device", "mailbox")[i % 3]
        body = {"kind": kind, "label": f"ZC-{i:03d}", "classified": i % 4 == 0, "holder": f"人员{i}"}
        answer = await client.post(f"{base}/units/{world.units[unit_key]['id']}/devices", json=body)
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    return made


# ---------------------------------------------------------------- the register


async def test_the_units_officer_keeps_its_register_within_scope(client, make_client):
    world = await make_world()
    base = await api(client, world, "officer")
    unit = world.units["a_unit"]["id"]
    made = await client.post(
        f"{base}/units/{unit}/devices",
        json={"kind": "computer", "label": " ZC-2024  001 ", "classified": True, "holder": "张三", "location": "301室"},
    )
    assert made.status_code == 201
    device = made.json()
    assert device["label"] == "ZC-2024 001" and device["classified"] is True
    listed = await client.get(f"{base}/units/{unit}/devices")
    assert listed.status_code == 200 and [d["id"] for d in listed.json()] == [device["id"]]

    same = await client.post(f"{base}/units/{unit}/devices", json={"kind": "computer", "label": "ZC-2024 001"})
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "label"
    other_kind = await client.post(f"{base}/units/{unit}/devices", json={"kind": "it_device", "label": "ZC-2024 001"})
    assert other_kind.status_code == 201
    for body, field in (
        ({"kind": "phone", "label": "x"}, "kind"),
        ({"kind": "computer", "label": "  "}, "label"),
        ({"kind": "computer", "label": "x" * 201}, "label"),
        ({"kind": "computer", "label": "y", "classified": "maybe"}, "classified"),
    ):
        refused = await client.post(f"{base}/units/{unit}/devices", json=body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, body

    changed = await client.patch(f"{base}/devices/{device['id']}", json={"holder": "李四", "classified": False})
    assert changed.status_code == 200 and changed.json()["holder"] == "李四" and not changed.json()["classified"]
    empty = await client.patch(f"{base}/devices/{device['id']}", json={})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body"
    clash = await client.patch(f"{base}/devices/{other_kind.json()['id']}", json={"kind": "computer"})
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "label"

    # another unit's register is not the officer's: 404, reading or writing
    b_unit = world.units["b_unit"]["id"]
    assert (await client.get(f"{base}/units/{b_unit}/devices")).status_code == 404
    assert (
        await client.post(f"{base}/units/{b_unit}/devices", json={"kind": "computer", "label": "B"})
    ).status_code == 404
    office = await make_client()
    office_base = await api(office, world, "office")
    theirs = (
        await office.post(f"{office_base}/units/{b_unit}/devices", json={"kind": "computer", "label": "B"})
    ).json()
    assert (await client.patch(f"{base}/devices/{theirs['id']}", json={"holder": "x"})).status_code == 404
    assert (await client.delete(f"{base}/devices/{theirs['id']}")).status_code == 404

    # readers read, and only keepers write
    inspector = await make_client()
    inspector_base = await api(inspector, world, "inspector")
    assert (await inspector.get(f"{inspector_base}/units/{unit}/devices")).status_code == 200
    body = {"kind": "computer", "label": "Z"}
    assert (await inspector.post(f"{inspector_base}/units/{unit}/devices", json=body)).status_code == 403
    leader = await make_client()
    assert (await leader.get(f"{await api(leader, world, 'leader')}/units/{unit}/devices")).status_code == 403
    district = await make_client()
    district_base = await api(district, world, "district")
    assert (await district.post(f"{district_base}/units/{unit}/devices", json=body)).status_code == 201
    assert (await district.get(f"{district_base}/units/{b_unit}/devices")).status_code == 404

    assert (await client.delete(f"{base}/devices/{device['id']}")).status_code == 204
    assert device["id"] not in [d["id"] for d in (await client.get(f"{base}/units/{unit}/devices")).json()]
    assert (await client.delete(f"{base}/devices/{device['id']}")).status_code == 404
    # a deleted device's label may be used again
    again = await client.post(f"{base}/units/{unit}/devices", json={"kind": "computer", "label": "ZC-2024 001"})
    assert again.status_code == 201
    assert {"device.create", "device.update", "device.delete"} <= set(await actions(world))


async def test_another_tenants_devices_are_not_found(client, make_client):
    world, other = await make_world(), await make_world("另一市保密局")
    theirs_client = await make_client()
    theirs_base = await api(theirs_client, other)
    theirs = await fill_register(theirs_client, theirs_base, other, n=1)
    base = await api(client, world)
    assert (await client.get(f"{base}/units/{other.units['a_unit']['id']}/devices")).status_code == 404
    assert (await client.patch(f"{base}/devices/{theirs[0]['id']}", json={"holder": "x"})).status_code == 404
    assert (await client.delete(f"{base}/devices/{theirs[0]['id']}")).status_code == 404
    assert (await client.get(f"{base}/units/not-a-uuid/devices")).status_code == 404


# ---------------------------------------------------------------- the import


async def test_a_register_as_offices_make_it_is_imported_and_reimported_as_changes(client):
    world = await make_world()
    base = await api(client, world, "officer")
    unit = world.units["a_unit"]["id"]
    preview = await client.post(
        f"{base}/units/{unit}/devices/imports", files={"file": ("台账.xlsx", as_offices_make_it())}
    )
    assert preview.status_code == 201, preview.text
    body = preview.json()
    assert body["clean"], body["errors"]
    rows = {r["label"]: r for r in body["rows"]}
    assert [r["line"] for r in body["rows"]] == [5, 7, 8, 9, 10]
    assert rows["0012"]["kind"] == "computer" and rows["0012"]["classified"] is False
    assert rows["20240013"]["kind"] == "computer" and rows["20240013"]["classified"] is True
    assert rows["20240013"]["location"] == "302"
    assert rows["打印机 HP-M403"]["kind"] == "it_device" and rows["打印机 HP-M403"]["classified"] is True
    assert rows["bgs@example.gov.cn"]["kind"] == "mailbox" and rows["bgs@example.gov.cn"]["holder"] == ""
    assert rows["1001"]["kind"] == "computer" and rows["1001"]["classified"] is True
    assert body["counts"] == {"new": 5}
    assert await live_devices(world, "a_unit") == []  # a preview writes nothing

    applied = await client.post(f"{base}/units/{unit}/devices/imports/{body['id']}/apply")
    assert applied.status_code == 201 and applied.json() == {"added": 5, "updated": 0, "unchanged": 0}
    assert len(await live_devices(world, "a_unit")) == 5
    assert (await client.post(f"{base}/units/{unit}/devices/imports/{body['id']}/apply")).status_code == 409

    # the same register again changes nothing; a changed holder is an update, a new row an addition
    again = (
        await client.post(f"{base}/units/{unit}/devices/imports", files={"file": ("a.xlsx", as_offices_make_it())})
    ).json()
    assert again["counts"] == {"same": 5}
    changed = book([["计算机", "0012", "否", "新人", "301室"], ["邮箱", "new@example.gov.cn", "否", "", ""]])
    update = (await client.post(f"{base}/units/{unit}/devices/imports", files={"file": ("b.xlsx", changed)})).json()
    assert update["counts"] == {"update": 1, "new": 1}
    done = await client.post(f"{base}/units/{unit}/devices/imports/{update['id']}/apply")
    assert done.json() == {"added": 1, "updated": 1, "unchanged": 0}
    holders = {d["label"]: d["holder"] for d in await live_devices(world, "a_unit")}
    assert holders["0012"] == "新人" and len(holders) == 6
    assert {"device.import_preview", "device.import_apply"} <= set(await actions(world))


async def test_a_workbook_saved_by_libreoffice_is_read(client, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed here: the workbook it writes cannot be made")
    world = await make_world()
    base = await api(client, world, "officer")
    source = tmp_path / "register.csv"
    source.write_text(
        "设备类型,名称或编号,是否涉密,责任人,存放位置\n计算机,ZC-9,是,张三,301室\n邮箱,x@example.gov.cn,否,,\n"
    )
    subprocess.run(  # noqa: ASYNC221 - a one-off conversion in a test
        [
            soffice,
            "--headless",
            "--infilter=CSV:44,34,76",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = (tmp_path / "register.xlsx").read_bytes()
    unit = world.units["a_unit"]["id"]
    preview = (await client.post(f"{base}/units/{unit}/devices/imports", files={"file": ("r.xlsx", data)})).json()
    assert preview["clean"] and preview["counts"] == {"new": 2}


async def test_a_bad_row_writes_nothing_and_every_bad_row_is_listed(client):
    world = await make_world()
    base = await api(client, world, "officer")
    unit = world.units["a_unit"]["id"]
    rows = [
        ["计算机", "ZC-1", "否", "张三", "301室"],  # good
        ["手机", "ZC-2", "否", "", ""],  # not a kind
        ["计算机", "", "否", "", ""],  # no label
        ["计算机", "ZC-3", "", "", ""],  # classified not said
        ["计算机", "ZC-4", "也许", "", ""],  # classified not 是/否
        ["computer", "ZC-1", "是", "", ""],  # duplicate of line 2
        ["=1+1", "ZC-5", "否", "", ""],  # a formula
        ["邮箱", "a@example.gov.cn", "否", "x" * 101, ""],  # holder too long
    ]
    preview = await client.post(f"{base}/units/{unit}/devices/imports", files={"file": ("a.xlsx", book(rows))})
    assert preview.status_code == 201
    body = preview.json()
    problems = {(e["line"], e["field"]) for e in body["errors"]}
    assert {
        (3, "kind"),
        (4, "label"),
        (5, "classified"),
        (6, "classified"),
        (7, "label"),
        (8, "kind"),
        (9, "holder"),
    } <= problems
    assert [r["line"] for r in body["rows"]] == [2] and body["clean"] is False
    applied = await client.post(f"{base}/units/{unit}/devices/imports/{body['id']}/apply")
    assert applied.status_code == 409
    assert await live_devices(world, "a_unit") == []
    # files that are no register
    for name, content in (("a.xlsx", b"kind,label\n"), ("a.xlsx", book([["x"]], header=("名称", "备注")))):
        refused = await client.post(f"{base}/units/{unit}/devices/imports", files={"file": (name, content)})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "file"
    missing = await client.post(f"{base}/units/{unit}/devices/imports", data={"x": "y"}, files={"other": ("a", b"")})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
    # another unit's officer does not see this preview
    assert (
        await client.get(f"{base}/units/{world.units['b_unit']['id']}/devices/imports/{body['id']}")
    ).status_code == 404


async def test_two_applies_at_once_add_the_devices_once(client, make_client):
    world = await make_world()
    base = await api(client, world, "officer")
    other = await make_client()
    other.headers["Authorization"] = client.headers["Authorization"]
    unit = world.units["a_unit"]["id"]
    rows = [["计算机", f"ZC-{n}", "否", "", ""] for n in range(5)]
    preview = (await client.post(f"{base}/units/{unit}/devices/imports", files={"file": ("a.xlsx", book(rows))})).json()
    url = f"{base}/units/{unit}/devices/imports/{preview['id']}/apply"
    answers = await asyncio.gather(client.post(url), other.post(url))
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert len(await live_devices(world, "a_unit")) == 5
    # two previews of the same rows, applied one after the other: the second is stale
    one = (
        await client.post(
            f"{base}/units/{unit}/devices/imports", files={"file": ("b.xlsx", book([["邮箱", "m", "否", "", ""]]))}
        )
    ).json()
    two = (
        await client.post(
            f"{base}/units/{unit}/devices/imports", files={"file": ("c.xlsx", book([["邮箱", "m", "否", "", ""]]))}
        )
    ).json()
    assert (await client.post(f"{base}/units/{unit}/devices/imports/{one['id']}/apply")).status_code == 201
    stale = await client.post(f"{base}/units/{unit}/devices/imports/{two['id']}/apply")
    assert stale.status_code == 409 and "m" in stale.json()["detail"]
    assert len(await live_devices(world, "a_unit")) == 6


# ---------------------------------------------------------------- the sample


def test_the_draw_depends_only_on_the_seed_and_the_register():
    register = [{"uuid": uuid.UUID(int=n), "label": f"D{n}"} for n in range(1, 21)]
    first = devices.draw_devices(register, 5, "第七轮-甲区财政局")
    # the register's order as read does not matter, and the draw is pinned across machines
    assert devices.draw_devices(list(reversed(register)), 5, "第七轮-甲区财政局") == first
    assert [d["label"] for d in first] == [d["label"] for d in devices.draw_devices(register, 5, "第七轮-甲区财政局")]
    # pinned: a change of Python's generator would change every stored seed's draw
    assert [d["label"] for d in devices.draw_devices(register, 3, "seed")] == ["D5", "D2", "D8"]


async def sampled_world(client, n: int = 10):
    iw = await make_inspection_world()
    office = await api(client, iw.world)
    await fill_register(client, office, iw.world, n=n)
    return iw, office, iw.inspections["a_unit"]["id"]


async def test_the_same_seed_draws_the_same_devices_and_the_seed_is_kept(client, make_client):
    iw, office, inspection = await sampled_world(client)
    team = await make_client()
    base = await api(team, iw.world, "insp2")
    drawn = await team.post(f"{base}/inspections/{inspection}/sample", json={"size": 4, "seed": "abc"})
    assert drawn.status_code == 201, drawn.text
    first = {d["id"] for d in drawn.json()["devices"]}
    assert len(first) == 4 and drawn.json()["seed"] == "abc" and drawn.json()["size"] == 4
    again = await team.post(f"{base}/inspections/{inspection}/sample", json={"size": "4", "seed": "abc"})
    assert {d["id"] for d in again.json()["devices"]} == first
    others = []
    for seed in ("b", "c", "d", "e"):
        answer = await team.post(f"{base}/inspections/{inspection}/sample", json={"size": 4, "seed": seed})
        others.append({d["id"] for d in answer.json()["devices"]})
    assert any(o != first for o in others)
    # no seed: one is made, kept with the inspection, and draws the same devices again
    fresh = (await team.post(f"{base}/inspections/{inspection}/sample", json={"size": 4})).json()
    assert fresh["seed"]
    async with db.transaction(iw.tenant.id):
        kept = (
            await Inspection.select(Inspection.sample_seed, Inspection.sample_size)
            .where(Inspection.uuid == inspection)
            .first()
        )
    assert kept == {"sample_seed": fresh["seed"], "sample_size": 4}
    shown = (await team.get(f"{base}/inspections/{inspection}/sample")).json()
    assert shown["seed"] == fresh["seed"] and shown["checked"] == 0
    same = (await team.post(f"{base}/inspections/{inspection}/sample", json={"size": 4, "seed": fresh["seed"]})).json()
    assert {d["id"] for d in same["devices"]} == {d["id"] for d in fresh["devices"]}
    assert "inspection.sample_draw" in await actions(iw.world)


async def test_two_draws_at_once_leave_one_whole_sample(client, make_client):
    iw, office, inspection = await sampled_world(client)
    other = await make_client()
    other.headers["Authorization"] = client.headers["Authorization"]
    url = f"{office}/inspections/{inspection}/sample"
    answers = await asyncio.gather(
        client.post(url, json={"size": 3, "seed": "one"}), other.post(url, json={"size": 5, "seed": "two"})
    )
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    shown = (await client.get(url)).json()
    last = next(a.json() for a in answers if a.json()["seed"] == shown["seed"])
    assert len(shown["devices"]) == shown["size"] == last["size"]
    assert {d["id"] for d in shown["devices"]} == {d["id"] for d in last["devices"]}


async def test_the_same_device_entered_twice_at_once_is_added_once(client, make_client):
    world = await make_world()
    base = await api(client, world, "officer")
    other = await make_client()
    other.headers["Authorization"] = client.headers["Authorization"]
    url = f"{base}/units/{world.units['a_unit']['id']}/devices"
    body = {"kind": "mailbox", "label": "bgs@example.gov.cn"}
    answers = await asyncio.gather(client.post(url, json=body), other.post(url, json=body))
    assert sorted(a.status_code for a in answers) == [201, 422]
    assert len(await live_devices(world, "a_unit")) == 1


async def test_the_size_is_bounded_by_the_register_and_who_may_draw(client, make_client):
    iw, office, inspection = await sampled_world(client, n=3)
    url = f"{office}/inspections/{inspection}/sample"
    for size in (0, 4, -1, "abc", ""):
        refused = await client.post(url, json={"size": size})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "size", size
    assert (await client.post(url, json={})).json()["errors"][0]["field"] == "size"
    assert (await client.post(url, json={"size": 1, "seed": "x" * 65})).json()["errors"][0]["field"] == "seed"
    assert (await client.post(url, json={"size": 3})).status_code == 201
    # an empty register has nothing to draw from
    city = iw.inspections["city"]["id"]
    empty = await client.post(f"{office}/inspections/{city}/sample", json={"size": 1})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "size"
    # the unit's officer and the district read no sample and draw none; an inspector off the team sees nothing
    for key, read, draw in (("officer", 403, 403), ("district", 200, 403), ("insp5", 404, 404)):
        other = await make_client()
        base = await api(other, iw.world, key)
        assert (await other.get(f"{base}/inspections/{inspection}/sample")).status_code == read, key
        assert (await other.post(f"{base}/inspections/{inspection}/sample", json={"size": 1})).status_code == draw, key


async def test_results_only_for_drawn_devices_and_no_redraw_after_one(client, make_client):
    iw, office, inspection = await sampled_world(client)
    team = await make_client()
    base = await api(team, iw.world, "insp3")
    sample = (await team.post(f"{base}/inspections/{inspection}/sample", json={"size": 3, "seed": "s"})).json()
    drawn = sample["devices"][0]["id"]
    register = (await client.get(f"{office}/units/{iw.world.units['a_unit']['id']}/devices")).json()
    outside = next(d["id"] for d in register if d["id"] not in {x["id"] for x in sample["devices"]})
    url = f"{base}/inspections/{inspection}/devices"
    assert (await team.put(f"{url}/{outside}", json={"result": "clean"})).status_code == 404
    assert (await team.put(f"{url}/{uuid.uuid4()}", json={"result": "clean"})).status_code == 404
    for body, field in (
        ({"result": "fine"}, "result"),
        ({"result": "violation"}, "note"),
        ({"result": "clean", "measure": {"kind": "order_delete", "what": "x", "confirmed_by": "y"}}, "measure"),
    ):
        refused = await team.put(f"{url}/{drawn}", json=body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, body
    clean = await team.put(f"{url}/{drawn}", json={"result": "clean", "note": "未发现问题"})
    assert clean.status_code == 200 and clean.json()["result"] == "clean" and clean.json()["checked_by"]
    shown = (await team.get(f"{base}/inspections/{inspection}/sample")).json()
    assert shown["checked"] == 1
    redraw = await team.post(f"{base}/inspections/{inspection}/sample", json={"size": 3})
    assert redraw.status_code == 409
    assert (await team.get(f"{base}/inspections/{inspection}/sample")).json()["seed"] == "s"
    assert "inspection.device_result" in await actions(iw.world)


# ---------------------------------------------------------------- measures


async def violation(client, make_client, size: int = 2):
    iw, office, inspection = await sampled_world(client)
    team = await make_client()
    base = await api(team, iw.world, "insp1")
    sample = (await team.post(f"{base}/inspections/{inspection}/sample", json={"size": size, "seed": "m"})).json()
    device = sample["devices"][0]
    recorded = await team.put(
        f"{base}/inspections/{inspection}/devices/{device['id']}", json={"result": "violation", "note": "存储涉密文件"}
    )
    assert recorded.status_code == 200
    return iw, team, base, inspection, device, sample


MEASURE_FIELDS = {
    "register_preserve": {
        "preserved": [{"name": "工作总结.docx", "sha256": SHA}],
        "kept_at": "局机要室",
        "acknowledged_by": "张三",
    },
    "order_delete": {"what": "桌面文件夹 内部资料", "confirmed_by": "李四"},
    "order_stop_use": {"since": "2020-01-01"},
    "transfer": {"package": "硬盘一块", "received_by": "局案件科 王五", "transferred_on": "2020-01-02"},
}


async def test_each_measure_names_its_missing_fields(client, make_client):
    iw, team, base, inspection, device, _sample = await violation(client, make_client)
    url = f"{base}/inspections/{inspection}/measures"
    for kind, fields in MEASURE_FIELDS.items():
        for field in fields:
            body = {"kind": kind, "device_id": device["id"], **{k: v for k, v in fields.items() if k != field}}
            refused = await team.post(url, json=body)
            assert refused.status_code == 422, (kind, field)
            assert field in {e["field"] for e in refused.json()["errors"]}, (kind, field, refused.json())
        made = await team.post(url, json={"kind": kind, "device_id": device["id"], **fields})
        assert made.status_code == 201, made.text
        assert made.json()["kind"] == kind and made.json()["device_label"] == device["label"]
    for body, field in (
        ({"kind": "seize", "device_id": device["id"]}, "kind"),
        (
            {
                **MEASURE_FIELDS["register_preserve"],
                "kind": "register_preserve",
                "preserved": [{"name": "x", "sha256": "12"}],
            },
            "preserved",
        ),
        (
            {**MEASURE_FIELDS["register_preserve"], "kind": "register_preserve", "preserved": [{"sha256": SHA}]},
            "preserved",
        ),
        ({**MEASURE_FIELDS["order_delete"], "kind": "order_delete", "package": "x"}, "package"),
        ({"kind": "order_stop_use", "since": "2020-01-01"}, "device_id"),
        ({**MEASURE_FIELDS["order_delete"], "kind": "order_delete"}, "device_id"),
        ({"kind": "order_stop_use", "device_id": device["id"], "since": "2999-01-01"}, "since"),
        ({"kind": "order_stop_use", "device_id": device["id"], "since": "yesterday"}, "since"),
        ({**MEASURE_FIELDS["order_delete"], "kind": "order_delete", "finding_id": str(uuid.uuid4())}, "finding_id"),
    ):
        refused = await team.post(url, json=body)
        assert refused.status_code == 422 and field in {e["field"] for e in refused.json()["errors"]}, body
    # a measure over a drawn device not found in violation, or not drawn at all, is refused
    clean = _sample["devices"][1]["id"]
    await team.put(f"{base}/inspections/{inspection}/devices/{clean}", json={"result": "clean"})
    refused = await team.post(url, json={"kind": "order_delete", "device_id": clean, **MEASURE_FIELDS["order_delete"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "device_id"
    # a device with measures stays a violation
    back = await team.put(f"{base}/inspections/{inspection}/devices/{device['id']}", json={"result": "clean"})
    assert back.status_code == 422 and back.json()["errors"][0]["field"] == "result"
    shown = (await team.get(f"{base}/inspections/{inspection}/sample")).json()
    measures = next(d for d in shown["devices"] if d["id"] == device["id"])["measures"]
    assert [m["kind"] for m in measures] == list(MEASURE_FIELDS)
    details = {m["kind"]: m["details"] for m in measures}
    assert details["order_stop_use"] == {"since": "2020-01-01", "device": device["label"]}
    assert details["register_preserve"]["preserved"] == [{"name": "工作总结.docx", "sha256": SHA}]
    assert details["transfer"]["receipt_no"].startswith("YS-20200102-")
    async with db.transaction(iw.tenant.id):
        row = await Inspection.select(Inspection.id).where(Inspection.uuid == inspection).first()
        assert [m["kind"] for m in await devices.measures_of(iw.tenant, row["id"])] == list(MEASURE_FIELDS)
    assert (await actions(iw.world)).count("inspection.measure") == 4


async def test_a_measure_with_the_result_and_the_transfers_receipt(client, make_client):
    iw, team, base, inspection, device, sample = await violation(client, make_client)
    url = f"{base}/inspections/{inspection}/devices/{device['id']}"
    bad = await team.put(
        url, json={"result": "violation", "note": "x", "measure": {"kind": "transfer", "package": "硬盘"}}
    )
    assert bad.status_code == 422
    assert {"measure.received_by", "measure.transferred_on"} <= {e["field"] for e in bad.json()["errors"]}
    measure = {**MEASURE_FIELDS["transfer"], "kind": "transfer", "receipt_no": "保移〔2025〕7号"}
    done = await team.put(url, json={"result": "violation", "note": "x", "measure": measure})
    assert done.status_code == 200
    [taken] = done.json()["measures"]
    assert taken["details"]["receipt_no"] == "保移〔2025〕7号"
    # the receipt: a page to print, for the team, the office and the unit's officer
    await login(team, iw.slug, "insp1")
    del team.headers["Authorization"]
    receipt = await team.get(f"/t/{iw.slug}/inspections/{inspection}/measures/{taken['id']}/receipt")
    assert receipt.status_code == 200 and "保移〔2025〕7号" in receipt.text and "硬盘一块" in receipt.text
    unit_officer = await browser(make_client, iw.slug, "officer")
    assert (
        await unit_officer.get(f"/t/{iw.slug}/inspections/{inspection}/measures/{taken['id']}/receipt")
    ).status_code == 200
    other = await team.get(f"/t/{iw.slug}/inspections/{inspection}/measures/{uuid.uuid4()}/receipt")
    assert other.status_code == 404


# ---------------------------------------------------------------- pages


async def test_the_register_and_its_import_as_pages(client):
    world = await make_world()
    await login(client, world.slug, "officer")
    unit = world.units["a_unit"]["id"]
    page = await client.get(f"/t/{world.slug}/units/{unit}/devices")
    assert page.status_code == 200
    token = await csrf(client, f"/t/{world.slug}/units/{unit}/devices")
    bad = await client.post(
        f"/t/{world.slug}/units/{unit}/devices", data={"_csrf": token, "kind": "computer", "label": ""}
    )
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    added = await client.post(
        f"/t/{world.slug}/units/{unit}/devices",
        data={"_csrf": token, "kind": "computer", "label": "ZC-1", "classified": "1", "holder": "张三"},
    )
    assert added.status_code == 303
    listed = await client.get(f"/t/{world.slug}/units/{unit}/devices")
    assert "ZC-1" in listed.text and "张三" in listed.text
    [device] = await live_devices(world, "a_unit")
    edit = await client.get(f"/t/{world.slug}/devices/{device['uuid']}/edit")
    assert edit.status_code == 200 and "ZC-1" in edit.text
    saved = await client.post(
        f"/t/{world.slug}/devices/{device['uuid']}",
        data={"_csrf": token, "kind": "computer", "label": "ZC-1", "classified": "0", "holder": "李四", "location": ""},
    )
    assert saved.status_code == 303
    assert (await live_devices(world, "a_unit"))[0]["holder"] == "李四"
    upload = await client.post(
        f"/t/{world.slug}/units/{unit}/devices/import",
        data={"_csrf": token},
        files={"file": ("a.xlsx", book([["信息设备", "打印机", "否", "", ""]]))},
    )
    assert upload.status_code == 303
    preview = await client.get(upload.headers["location"])
    assert preview.status_code == 200 and "打印机" in preview.text
    applied = await client.post(upload.headers["location"] + "/apply", data={"_csrf": token})
    assert applied.status_code == 303 and "added=1" in applied.headers["location"]
    refused = await client.post(upload.headers["location"] + "/apply", data={"_csrf": token})
    assert refused.status_code == 409 and 'role="alert"' in refused.text
    template = await client.get(f"/t/{world.slug}/devices/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    # the template reads back as a register with its example rows
    back = read_register(template.content)
    assert [r.values["kind"] for r in back] == ["计算机", "信息设备", "邮箱"]
    gone = await client.post(f"/t/{world.slug}/devices/{device['uuid']}/delete", data={"_csrf": token})
    assert gone.status_code == 303 and len(await live_devices(world, "a_unit")) == 1


async def test_the_technical_page_on_site(client, make_client):
    iw, office, inspection = await sampled_world(client, n=6)
    team = await browser(make_client, iw.slug, "insp4")
    page_url = f"/t/{iw.slug}/inspections/{inspection}/technical"
    page = await team.get(page_url)
    assert page.status_code == 200 and 'name="size"' in page.text
    token = csrf_of(page.text)
    base = f"/t/{iw.slug}/inspections/{inspection}"
    bad = await team.post(f"{base}/sample", data={"_csrf": token, "size": "9"})
    assert bad.status_code == 422 and '<div class="field invalid"><label for="draw-size">' in bad.text
    drawn = await team.post(f"{base}/sample", data={"_csrf": token, "size": "2", "seed": "平板"})
    assert drawn.status_code == 303
    page = await team.get(page_url)
    assert "平板" in page.text
    async with db.transaction(iw.tenant.id):
        row = await Inspection.select().where(Inspection.uuid == inspection).first()
        state = await devices.sample_state(iw.tenant, row)
    device = state["devices"][0]["id"]
    blank = await team.post(f"{base}/devices/{device}", data={"_csrf": token, "result": "violation", "note": ""})
    assert blank.status_code == 422 and f'id="d-{device}"' in blank.text
    marked = await team.post(
        f"{base}/devices/{device}", data={"_csrf": token, "result": "violation", "note": "有涉密文件"}
    )
    assert marked.status_code == 303
    # the form of the device's register_preserve measure
    measure = {"device_id": device, "kind": "register_preserve", "acknowledged_by": "张三"}
    wrong = await post_form(team, f"{base}/measures", token, **measure, preserved="文件.docx 1234", kept_at="")
    assert wrong.status_code == 422
    assert f'<details id="m-{device}-register_preserve" open>' in wrong.text and 'id="kept_at-error"' in wrong.text
    preserved = f"文件.docx  {SHA.upper()}\n照片.jpg,{SHA}"
    typed = await post_form(team, f"{base}/measures", token, **measure, preserved=preserved, kept_at="机要室")
    assert typed.status_code == 303
    page = await team.get(page_url)
    assert "文件.docx" in page.text and SHA in page.text
    # the unit's officer sees no technical check; the district reads it without forms
    officer = await browser(make_client, iw.slug, "officer")
    assert (await officer.get(page_url)).status_code == 403
    district = await browser(make_client, iw.slug, "district")
    shown = await district.get(page_url)
    assert shown.status_code == 200 and 'name="size"' not in shown.text and "平板" in shown.text


async def test_a_finalised_inspection_takes_no_draw(client, make_client):
    iw, office, inspection = await sampled_world(client, n=2)
    async with db.transaction(iw.tenant.id):
        await Inspection.update({Inspection.status: "finalised"}).where(Inspection.uuid == inspection)
    refused = await client.post(f"{office}/inspections/{inspection}/sample", json={"size": 1})
    assert refused.status_code == 403


async def test_a_measure_about_a_finding(client, make_client):
    iw, team, base, inspection, device, _sample = await violation(client, make_client)
    body = {"device_id": device["id"], "area": "N", "severity": "major", "description": "非涉密计算机存储涉密文件"}
    finding = await team.post(
        f"{base}/inspections/{inspection}/findings", json={**body, "mode": "on_spot", "note": "已删除"}
    )
    assert finding.status_code == 201, finding.text
    made = await team.post(
        f"{base}/inspections/{inspection}/measures",
        json={"kind": "order_delete", "finding_id": finding.json()["id"], **MEASURE_FIELDS["order_delete"]},
    )
    assert made.status_code == 201, made.text
    assert made.json()["finding_id"] == finding.json()["id"] and made.json()["device_id"] is None
