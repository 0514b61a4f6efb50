"""The team's work at a unit: the must-interview list against a hand-built unit, the
checklist's results and evidence, the coverage gate and finalising (once, of two at
once), clues seen only by the team and the office, who may record."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

from server import db
from server.inspections import rounds
from server.inspections.tables import Device, DeviceCheck, Inspection
from server.units import service as units
from tests.conftest import csrf, login
from tests.factories import make_person, make_world, token_for
from tests.inspection_world import (
    OFFICE,
    InspectionWorld,
    confirm_conflict,
    make_conflicted_world,
    make_inspection_world,
    run,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%fake but sniffed as a PDF\n"
CLUE = "线索：该单位某科室私存涉密文件"


class Api:
    """API calls as one user or another (each with their own token), from one client."""

    def __init__(self, client, iw: InspectionWorld) -> None:
        self.client, self.iw, self.tokens = client, iw, {}
        self.base = f"/api/v1/t/{iw.slug}"

    async def as_(self, key: str):
        if key not in self.tokens:
            self.tokens[key] = await token_for(self.iw.world, key)
        self.client.headers["Authorization"] = "Bearer " + self.tokens[key]
        return self.client

    def of(self, unit: str, tail: str = "") -> str:
        return f"{self.base}/inspections/{self.iw.inspections[unit]['id']}{tail}"


def fields(response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


async def hand_built_unit() -> InspectionWorld:
    """甲区财政局 as of today (the visit day): its principal 张三 and secrecy lead 李四
    (classified, core) from the world, and more people in and around post."""
    world = await make_world()
    tenant, unit = world.tenant, world.units["a_unit"]
    today = units.today(tenant)
    long_ago = (today - timedelta(days=400)).isoformat()
    people = [
        ("孙业务", "business_lead", {"military_transfer": True}),
        ("周涉密", "staff", {"classified_level": "important"}),
        ("吴保密", "secrecy_officer", {"classified_level": "general"}),
        ("郑普通", "staff", {}),
        ("冯离任", "member", {"end_date": (today - timedelta(days=1)).isoformat()}),
    ]
    for name, position, extra in people:
        world.people[name] = await make_person(tenant, unit, name, position, start_date=long_ago, **extra)
    later = (today + timedelta(days=1)).isoformat()
    world.people["陈新任"] = await make_person(tenant, unit, "陈新任", "member", start_date=later)
    return await make_inspection_world(world)


async def test_the_must_interview_list_is_read_from_the_registry_as_of_the_visit_day(client):
    iw = await hand_built_unit()
    api = Api(client, iw)
    c = await api.as_("insp1")
    r = await c.get(api.of("a_unit", "/interviews"))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["day"] == units.today(iw.tenant).isoformat()
    reasons = {p["name"]: p["reasons"] for p in got["people"]}
    assert reasons == {
        "张三": ["leadership"],
        "李四": ["leadership", "classified"],
        "孙业务": ["leadership", "military_transfer"],
        "周涉密": ["classified"],
        "吴保密": ["classified"],
    }
    # the leadership by rank first, then the classified by level
    assert [p["name"] for p in got["people"]] == ["张三", "李四", "孙业务", "吴保密", "周涉密"]
    assert (got["total"], got["held"], got["waived"], got["coverage"]) == (5, 0, 0, 0.0)
    assert got["missing"] == ["张三", "李四", "孙业务", "吴保密", "周涉密"]

    people = iw.world.people
    today = units.today(iw.tenant).isoformat()
    held = {"person_id": people["a_principal"]["id"], "held_on": today, "summary": "介绍了保密责任落实情况"}
    r = await c.post(api.of("a_unit", "/interviews"), json=held)
    assert r.status_code == 200, r.text
    r = await c.post(
        api.of("a_unit", "/interviews"), json={"person_id": people["孙业务"]["id"], "waived_reason": "外出学习"}
    )
    got = r.json()
    assert (got["held"], got["waived"], got["total"], got["coverage"]) == (1, 1, 5, 0.4)
    assert got["missing"] == ["李四", "吴保密", "周涉密"]
    first = got["people"][0]
    assert (first["status"], first["held_on"], first["interviewer"]) == ("held", today, "insp1")
    assert got["people"][2]["status"] == "waived" and got["people"][2]["waived_reason"] == "外出学习"
    # held after all: the record replaces the waiver
    r = await c.post(api.of("a_unit", "/interviews"), json={**held, "person_id": people["孙业务"]["id"]})
    assert (r.json()["held"], r.json()["waived"]) == (2, 0)

    # not on the list: the staff member, who left before, who starts after the visit day
    for name in ("郑普通", "冯离任", "陈新任"):
        r = await c.post(api.of("a_unit", "/interviews"), json={**held, "person_id": people[name]["id"]})
        assert r.status_code == 422 and fields(r) == {"person_id"}, (name, r.text)

    # the visit moved: the newcomer is on the list as of the new day, the one who left is not
    later = units.today(iw.tenant) + timedelta(days=2)
    await run(
        iw.world,
        rounds.assign,
        OFFICE,
        iw.round["id"],
        [{"inspection_id": iw.inspections["a_unit"]["id"], "team_id": iw.team["id"], "visit_on": later.isoformat()}],
    )
    got = (await c.get(api.of("a_unit", "/interviews"))).json()
    assert got["day"] == later.isoformat() and got["total"] == 6
    assert "陈新任" in got["missing"] and "冯离任" not in {p["name"] for p in got["people"]}

    # no visit date yet: as of today
    office = await api.as_("office")
    got = (await office.get(api.of("b_unit", "/interviews"))).json()
    assert got["day"] == units.today(iw.tenant).isoformat()
    assert [p["name"] for p in got["people"]] == ["王五"]


async def test_an_interview_is_held_with_a_date_and_summary_or_waived_with_a_reason(client):
    iw = await hand_built_unit()
    api = Api(client, iw)
    c = await api.as_("insp2")
    who = iw.world.people["a_lead"]["id"]
    today = units.today(iw.tenant)
    bad = [
        ({"person_id": who}, {"held_on", "summary"}),
        ({"person_id": who, "held_on": "2026-02-30", "summary": "谈话"}, {"held_on"}),
        ({"person_id": who, "held_on": (today + timedelta(days=1)).isoformat(), "summary": "谈话"}, {"held_on"}),
        ({"person_id": who, "held_on": today.isoformat(), "summary": "长" * 2001}, {"summary"}),
        ({"person_id": who, "held_on": today.isoformat(), "waived_reason": "外出"}, {"waived_reason"}),
        ({"person_id": "", "waived_reason": "外出"}, {"person_id"}),
        ({"person_id": "not-an-id", "waived_reason": "外出"}, {"person_id"}),
    ]
    for body, expected in bad:
        r = await c.post(api.of("a_unit", "/interviews"), json=body)
        assert r.status_code == 422 and fields(r) == expected, (body, r.text)
    r = await c.post(api.of("a_unit", "/interviews"), json={"person_id": who, "surprise": 1})
    assert r.status_code == 400
    got = (await c.get(api.of("a_unit", "/interviews"))).json()
    assert got["held"] == got["waived"] == 0


async def test_checklist_results_are_checked_and_kept_with_their_evidence(client):
    iw = await make_inspection_world()
    api = Api(client, iw)
    c = await api.as_("insp2")
    r = await c.put(api.of("a_unit", "/checklist/R1"), json={"result": "partial", "note": "纪要不全"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["code"], got["area"], got["result"], got["note"], got["updated_by"]) == (
        "R1",
        "R",
        "partial",
        "纪要不全",
        "insp2",
    )
    assert got["criterion"] and got["basis"] and got["evidence"] == []
    r = await c.put(api.of("a_unit", "/checklist/R1"), json={"result": "pass"})
    assert r.json()["result"] == "pass" and r.json()["note"] == ""
    for body, field in (
        ({"result": "good"}, "result"),
        ({"result": ""}, "result"),
        ({"result": "fail", "note": "长" * 2001}, "note"),
    ):
        r = await c.put(api.of("a_unit", "/checklist/R2"), json=body)
        assert r.status_code == 422 and fields(r) == {field}, (body, r.text)
    # an item the round's frozen checklist does not have
    r = await c.put(api.of("a_unit", "/checklist/Z9"), json={"result": "pass"})
    assert r.status_code == 404

    r = await c.post(api.of("a_unit", "/checklist/R1/evidence"), files={"file": ("纪要.png", PNG, "image/png")})
    assert r.status_code == 201, r.text
    evidence = r.json()
    assert evidence["digest"] == hashlib.sha256(PNG).hexdigest() and evidence["content_type"] == "image/png"
    r = await c.post(api.of("a_unit", "/checklist/R1/evidence"), files={"file": ("x.png", b"<html>", "image/png")})
    assert r.status_code == 422 and fields(r) == {"file"}
    r = await c.post(api.of("a_unit", "/checklist/Z9/evidence"), files={"file": ("x.png", PNG, "image/png")})
    assert r.status_code == 404
    r = await c.put(api.of("a_unit", "/checklist/R1"), json={"result": "pass"})
    assert [e["id"] for e in r.json()["evidence"]] == [evidence["id"]]

    file_url = f"{api.base}/inspection-files/{evidence['id']}"
    for key, status in (("insp1", 200), ("office", 200), ("district", 200), ("officer", 404), ("inspector", 404)):
        r = await (await api.as_(key)).get(file_url)
        assert r.status_code == status, (key, r.status_code)
        if status == 200:
            assert r.content == PNG
    # who may not record: the unit's officer and the district admin, an inspector of no team of the unit
    for key, status in (("officer", 403), ("district", 403), ("inspector", 404)):
        r = await (await api.as_(key)).put(api.of("a_unit", "/checklist/R1"), json={"result": "fail"})
        assert r.status_code == status, (key, r.status_code)
    # another tenant's inspection is none
    other = await make_inspection_world()
    r = await (await api.as_("insp1")).put(
        f"{api.base}/inspections/{other.inspections['a_unit']['id']}/checklist/R1", json={"result": "fail"}
    )
    assert r.status_code == 404


async def _fill_checklist(api: Api, unit: str) -> None:
    c = await api.as_("insp3")
    items = api.iw.round["checklist"]["items"]
    for item in items:
        r = await c.put(api.of(unit, f"/checklist/{item['code']}"), json={"result": "pass"})
        assert r.status_code == 200, r.text


async def test_finalising_waits_for_every_part_and_happens_once(client, make_client):
    iw = await make_inspection_world()
    api = Api(client, iw)
    c = await api.as_("insp1")
    url = api.of("city", "/finalise")
    r = await c.post(url)
    assert r.status_code == 409
    areas = {f"checklist.{a}" for a in "RCPNMD"}
    # a unit without a device register has nothing to sample
    assert fields(r) == areas | {"interviews"}
    assert "赵六" in next(e["message"] for e in r.json()["errors"] if e["field"] == "interviews")
    assert "赵六" in r.json()["detail"]

    async with db.transaction(iw.tenant.id):
        row = (
            await Inspection.select(Inspection.id, Inspection.unit)
            .where(Inspection.uuid == iw.inspections["city"]["id"])
            .first()
        )
        device = Device(tenant=iw.tenant.id, unit=row["unit"], kind="computer", label="PC-007")
        await device.save()
    r = await c.put(api.of("city", "/checklist/R1"), json={"result": "pass"})
    assert r.status_code == 200
    r = await c.post(url)
    assert fields(r) == areas | {"interviews", "sample"}
    assert "R2、R3、R4" in next(e["message"] for e in r.json()["errors"] if e["field"] == "checklist.R")

    await _fill_checklist(api, "city")
    r = await c.post(
        api.of("city", "/interviews"),
        json={"person_id": iw.world.people["city_lead"]["id"], "waived_reason": "外出学习"},
    )
    assert r.status_code == 200 and r.json()["missing"] == []
    inspection_pk = row["id"]
    async with db.transaction(iw.tenant.id):
        await Inspection.update({Inspection.sample_size: 1}).where(Inspection.id == inspection_pk)
        await DeviceCheck(tenant=iw.tenant.id, inspection=inspection_pk, device=device.id).save()
    r = await c.post(url)
    assert r.status_code == 409 and fields(r) == {"devices"}
    assert "PC-007" in r.json()["errors"][0]["message"]
    async with db.transaction(iw.tenant.id):
        await DeviceCheck.update({DeviceCheck.result: "clean"}).where(DeviceCheck.inspection == inspection_pk)

    # complete: two members finalise at once, one does
    c = await api.as_("insp1")
    other = await make_client()
    other.headers["Authorization"] = "Bearer " + await token_for(iw.world, "insp2")
    answers = await asyncio.gather(c.post(url), other.post(url))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    done = next(a for a in answers if a.status_code == 200).json()
    assert done["status"] == "finalised" and done["finalised_by"] in ("insp1", "insp2")
    # nothing more is recorded on it
    r = await c.put(api.of("city", "/checklist/R1"), json={"result": "fail"})
    assert r.status_code == 403
    r = await c.post(url)
    assert r.status_code == 409


async def test_clues_are_seen_by_the_team_and_the_office_only(client):
    iw = await make_inspection_world()
    api = Api(client, iw)
    c = await api.as_("insp1")
    r = await c.post(api.of("a_unit", "/clues"), json={"text": "  "})
    assert r.status_code == 422 and fields(r) == {"text"}
    r = await c.post(api.of("a_unit", "/clues"), json={"text": CLUE})
    assert r.status_code == 201, r.text
    clue = r.json()
    r = await c.post(
        api.of("a_unit", f"/clues/{clue['id']}/files"), files={"file": ("线索材料.pdf", PDF, "application/pdf")}
    )
    assert r.status_code == 201, r.text
    file_id = r.json()["id"]
    # a clue of another unit's inspection is not this one's
    r = await c.post(api.of("city", f"/clues/{clue['id']}/files"), files={"file": ("x.pdf", PDF, "application/pdf")})
    assert r.status_code == 404

    for key in ("insp1", "insp4", "office"):
        r = await (await api.as_(key)).get(api.of("a_unit", "/clues"))
        assert r.status_code == 200 and [x["text"] for x in r.json()] == [CLUE], key
        assert [f["id"] for f in r.json()[0]["files"]] == [file_id]
        r = await (await api.as_(key)).get(f"{api.base}/inspection-files/{file_id}")
        assert r.status_code == 200 and r.content == PDF
    for key, status in (("district", 403), ("officer", 403), ("inspector", 404)):
        r = await (await api.as_(key)).get(api.of("a_unit", "/clues"))
        assert r.status_code == status, (key, r.status_code)
        r = await (await api.as_(key)).get(f"{api.base}/inspection-files/{file_id}")
        assert r.status_code == 404, key
        r = await (await api.as_(key)).post(api.of("a_unit", "/clues"), json={"text": "x"})
        assert r.status_code in (403, 404), key

    # on the pages: the district admin reads the checklist and interviews, never a clue
    client.headers.pop("Authorization")
    await login(client, iw.slug, "district")
    for tail in ("/checklist", "/interviews"):
        page = await client.get(f"/t/{iw.slug}/inspections/{iw.inspections['a_unit']['id']}{tail}")
        assert page.status_code == 200 and CLUE not in page.text and "线索材料" not in page.text
        assert 'name="result.R1"' not in page.text  # reading only
    page = await client.get(f"/t/{iw.slug}/inspection-files/{file_id}")
    assert page.status_code == 404


async def test_the_unit_officer_has_no_checklist_interview_or_clue_page(client):
    iw = await make_inspection_world()
    await login(client, iw.slug, "officer")
    one = f"/t/{iw.slug}/inspections/{iw.inspections['a_unit']['id']}"
    for tail in ("/checklist", "/interviews"):
        assert (await client.get(one + tail)).status_code == 403
    token = await csrf(client, f"/t/{iw.slug}/")
    r = await client.post(one + "/clues", data={"_csrf": token, "text": CLUE})
    assert r.status_code == 403


async def test_a_member_with_a_conflict_of_interest_records_once_the_office_confirms(client):
    iw, _team = await make_conflicted_world()
    api = Api(client, iw)
    c = await api.as_("insp6")
    r = await c.put(api.of("a_unit", "/checklist/R1"), json={"result": "pass"})
    assert r.status_code == 403
    r = await c.post(api.of("a_unit", "/clues"), json={"text": CLUE})
    assert r.status_code == 403
    # the conflict is with 甲区财政局 only: the team's other unit is the member's to record
    r = await c.put(api.of("city", "/checklist/R1"), json={"result": "pass"})
    assert r.status_code == 200
    await confirm_conflict(iw)
    r = await c.put(api.of("a_unit", "/checklist/R1"), json={"result": "pass"})
    assert r.status_code == 200, r.text


async def test_the_team_saves_the_checklist_area_by_area_and_records_interviews_on_the_pages(client):
    iw = await make_inspection_world()
    await login(client, iw.slug, "insp1")
    one = f"/t/{iw.slug}/inspections/{iw.inspections['a_unit']['id']}"
    page = await client.get(one + "/checklist")
    assert page.status_code == 200 and 'name="result.R1"' in page.text and 'id="area-D"' in page.text
    token = await csrf(client, one + "/checklist")
    r = await client.post(
        one + "/checklist/R",
        data={"_csrf": token, "result.R1": "fail", "note.R1": "未见汇报纪要", "result.R2": "pass", "note.R3": ""},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/checklist#area-R")
    page = await client.get(one + "/checklist")
    assert "未见汇报纪要" in page.text and "2/4" in page.text
    # a note without a result, a result not offered: the area again, with its messages
    r = await client.post(one + "/checklist/R", data={"_csrf": token, "note.R3": "待查", "result.R4": "maybe"})
    assert r.status_code == 422 and "R3" in r.text and "R4" in r.text
    r = await client.post(one + "/checklist/Q", data={"_csrf": token})
    assert r.status_code == 404
    # evidence on an item through its own form
    r = await client.post(
        one + "/checklist/R1/evidence", data={"_csrf": token}, files={"file": ("纪要.pdf", PDF, "application/pdf")}
    )
    assert r.status_code == 303
    r = await client.post(one + "/checklist/R1/evidence", data={"_csrf": token}, files={"file": ("a.txt", b"hi")})
    assert r.status_code == 422 and "PDF" in r.text
    assert "纪要.pdf" in (await client.get(one + "/checklist")).text
    r = await client.post(one + "/team-notes", data={"_csrf": token, "team_notes": "重点核查机要室"})
    assert r.status_code == 303
    assert "重点核查机要室" in (await client.get(one + "/checklist")).text

    page = await client.get(one + "/interviews")
    assert page.status_code == 200 and "张三" in page.text and "0%" in page.text
    who = iw.world.people["a_principal"]["id"]
    r = await client.post(one + "/interviews", data={"_csrf": token, "person_id": who, "held_on": "", "summary": ""})
    assert r.status_code == 422 and f'id="p-{who}"' in r.text
    today = units.today(iw.tenant).isoformat()
    r = await client.post(
        one + "/interviews", data={"_csrf": token, "person_id": who, "held_on": today, "summary": "谈话顺利"}
    )
    assert r.status_code == 303
    page = await client.get(one + "/interviews")
    assert "50%" in page.text and "谈话顺利" in page.text

    r = await client.post(one + "/clues", data={"_csrf": token, "text": CLUE})
    assert r.status_code == 303 and r.headers["location"].endswith("#clues")
    r = await client.post(one + "/finalise", data={"_csrf": token})
    assert r.status_code == 303 and r.headers["location"].endswith("#finalise")
