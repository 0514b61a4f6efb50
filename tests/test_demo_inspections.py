"""The inspections' bulk writes the demo is built with keep the services' rules: only the
unit's team (not a member with an unconfirmed conflict) or the office records, never once
finalised; interviewees come from the must-interview list, the sample is the seed's draw,
finalising passes the gate; a finding moves as the services move it (the unit submits,
another member verifies), and what it costs reaches the assessment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server import (
    db,
    subscribers,  # noqa: F401  (the assessment hears of the findings)
)
from server.accounts import service as accounts
from server.actor import Actor
from server.assessment import cycle
from server.assessment.tables import Adjustment
from server.audit import service as audit
from server.inspections import devices, fieldwork, findings, rounds
from server.inspections.bulk import (
    Check,
    Draw,
    Interviewing,
    Move,
    NewFinding,
    NewMeasure,
    Register,
    Result,
    Visit,
    finalise,
    import_registers,
    move_findings,
    record_visits,
)
from server.units import service as units
from tests.inspection_world import OFFICE, InspectionWorld, make_conflicted_world, make_inspection_world, run

DEVICES = [
    {"kind": "computer", "label": "SM-001 联想启天M730", "classified": True, "holder": "李四", "location": "机要室"},
    {"kind": "computer", "label": "BG-001 华为擎云W515", "classified": False, "holder": "张三", "location": "301室"},
    {"kind": "it_device", "label": "BG-打印机-01 奔图P3305DN", "classified": False, "holder": "", "location": ""},
    {"kind": "mailbox", "label": "bmb@a.gov.cn", "classified": False, "holder": "李四", "location": ""},
]


async def actor(iw: InspectionWorld, username: str):
    async with db.transaction(iw.tenant.id):
        return accounts.actor_for(iw.tenant, await accounts.user_by_username(iw.tenant, username))


async def refused(iw: InspectionWorld, fn, *args) -> str:
    """The bulk write's ValueError, nothing of it kept."""
    with pytest.raises(ValueError) as caught:
        async with db.transaction(iw.tenant.id):
            await fn(iw.tenant, *args)
    return str(caught.value)


async def with_register(iw: InspectionWorld) -> list[dict]:
    """a_unit's register imported by its officer; its devices as the register holds them."""
    officer, now = await actor(iw, "officer"), datetime.now(UTC)
    async with db.transaction(iw.tenant.id):
        unit_pk = await units.unit_pk(iw.tenant, OFFICE, iw.world.units["a_unit"]["id"])
        await import_registers(iw.tenant, [Register(officer, unit_pk, DEVICES, now)])
        live = await devices.live_devices(iw.tenant, unit_pk)
    assert "already hold devices" in await refused(iw, import_registers, [Register(officer, unit_pk, DEVICES, now)])
    return live


def full_checklist(iw: InspectionWorld, by, at: datetime, leave_out: str = "") -> list[Result]:
    codes = [i["code"] for i in iw.round["checklist"]["items"] if i["code"] != leave_out]
    return [
        Result(by, code, "fail" if code == "C2" else "pass", at, "抽查两份未标密级" if code == "C2" else "")
        for code in codes
    ]


async def test_a_visit_in_bulk_keeps_the_services_rules(env):
    iw = await make_inspection_world()
    live = await with_register(iw)
    insp1, insp2, insp4, insp5 = [await actor(iw, f"insp{n}") for n in (1, 2, 4, 5)]
    inspection, now = iw.inspections["a_unit"]["id"], datetime.now(UTC)
    today = units.today(iw.tenant)
    drawn = devices.draw_devices(live, 2, "demo-seed")
    person = {k: iw.world.people[k]["id"] for k in ("a_principal", "a_lead", "b_principal")}
    checks = [
        Check(insp4, drawn[0]["uuid"], "clean", now),
        Check(insp4, drawn[1]["uuid"], "violation", now, "存有标密文件两份"),
    ]
    stop = NewMeasure(insp4, "order_stop_use", {"since": today.isoformat()}, now, drawn[1]["uuid"])
    found = [
        NewFinding(insp2, "major", "两份涉密文件未标密级", "deadline", now, item="C2", deadline=today + timedelta(30)),
        NewFinding(insp2, "minor", "涉密文件放在普通柜", "on_spot", now, item="M3", note="现场移入保密柜"),
    ]
    good = Visit(
        inspection,
        results=full_checklist(iw, insp1, now, leave_out="D3"),
        interviews=[
            Interviewing(insp1, person["a_principal"], now, held_on=today, summary="了解履职情况"),
            Interviewing(insp2, person["a_lead"], now, waived_reason="外出学习"),
        ],
        draw=Draw(insp4, 2, "demo-seed", now, checks),
        findings=found,
        measures=[stop],
        clues=[(OFFICE, "巡察组反映：有人用微信传文件", now)],
    )

    # not on the team; not on the must-interview list; not drawn; a measure's field missing
    assert "insp5" in await refused(iw, record_visits, [Visit(inspection, results=[Result(insp5, "R1", "pass", now)])])
    stranger = Interviewing(insp1, person["b_principal"], now, held_on=today, summary="谈话")
    assert "must-interview" in await refused(iw, record_visits, [Visit(inspection, interviews=[stranger])])
    undrawn = next(d for d in live if d not in drawn)
    wrong = Draw(insp4, 2, "demo-seed", now, [Check(insp4, undrawn["uuid"], "clean", now)])
    assert "not drawn" in await refused(iw, record_visits, [Visit(inspection, draw=wrong)])
    half = NewMeasure(insp4, "order_delete", {"what": "两份文件"}, now, drawn[1]["uuid"])
    assert "order_delete" in await refused(
        iw, record_visits, [Visit(inspection, draw=Draw(insp4, 2, "demo-seed", now, checks), measures=[half])]
    )

    async with db.transaction(iw.tenant.id):
        await record_visits(iw.tenant, [good])
    assert "D3" in await refused(iw, finalise, [(insp1, inspection, now)])
    async with db.transaction(iw.tenant.id):
        await record_visits(iw.tenant, [Visit(inspection, results=[Result(insp1, "D3", "na", now)])])
        await finalise(iw.tenant, [(insp1, inspection, now)])
    assert "finalised" in await refused(
        iw, record_visits, [Visit(inspection, results=[Result(insp1, "D3", "pass", now)])]
    )

    async with db.transaction(iw.tenant.id):
        row = await fieldwork.readable(iw.tenant, OFFICE, inspection)
        assert row["status"] == "finalised" and await fieldwork.missing(iw.tenant, row) == []
        sample = await devices.sample_state(iw.tenant, row)
        state = await fieldwork.interviews(iw.tenant, row)
        _insp, listed = await findings.inspection_findings(iw.tenant, OFFICE, inspection)
        measures = await devices.measures_of(iw.tenant, row["id"])
        assert (await audit.verify(iw.tenant.id)).ok
    # the same seed draws the same devices; both checked, one in violation, its measure kept
    assert sorted(d["id"] for d in sample["devices"]) == sorted(str(d["uuid"]) for d in drawn)
    assert (sample["size"], sample["seed"], sample["checked"]) == (2, "demo-seed", 2)
    assert [(m["kind"], m["details"]["device"]) for m in measures] == [("order_stop_use", drawn[1]["label"])]
    assert (state["held"], state["waived"], state["missing"]) == (1, 1, [])
    by_mode = {f["mode"]: f for f in listed}
    assert by_mode["on_spot"]["state"] == "submitted" and by_mode["deadline"]["state"] == "open"
    assert by_mode["deadline"]["responsible_id"] == person["a_lead"]  # the leader in charge of secrecy work
    assert not any(f["recurring"] for f in listed)


async def test_a_member_with_an_unconfirmed_conflict_records_nothing(env):
    iw, _team = await make_conflicted_world()
    insp6, now = await actor(iw, "insp6"), datetime.now(UTC)
    visit = Visit(iw.inspections["a_unit"]["id"], results=[Result(insp6, "R1", "pass", now)])
    assert "insp6" in await refused(iw, record_visits, [visit])


async def test_a_findings_later_life_in_bulk_reaches_the_assessment(env):
    iw = await make_inspection_world()
    await with_register(iw)
    insp1, insp2, officer = await actor(iw, "insp1"), await actor(iw, "insp2"), await actor(iw, "officer")
    reminders = Actor.system("reminders")
    year = date.fromisoformat(str(iw.round["starts_on"])).year
    if await run(iw.world, cycle.scheme_detail, year) is None:
        await run(iw.world, cycle.create_scheme, OFFICE, year)
    await run(iw.world, cycle.open_assessment, OFFICE, year, {})
    inspection, now = iw.inspections["a_unit"]["id"], datetime.now(UTC)
    earlier = now - timedelta(days=40)
    late = NewFinding(
        insp2, "minor", "台账不全", "deadline", earlier, item="M1", deadline=(earlier + timedelta(30)).date()
    )
    kept = NewFinding(insp2, "major", "未标密级", "deadline", now, item="C2", deadline=(now + timedelta(30)).date())
    async with db.transaction(iw.tenant.id):
        await record_visits(iw.tenant, [Visit(inspection, findings=[late, kept])])

    def step(who, kind: str, finding=kept, days: float = 0, note: str = "说明") -> Move:
        return Move(who, finding.uuid, kind, now + timedelta(days=days), note)

    # an inspector does not submit; the recorder does not verify; a deadline to come is not overdue
    assert "submitted" in await refused(iw, move_findings, [step(insp1, "submitted")])
    assert "insp2" in await refused(iw, move_findings, [step(officer, "submitted"), step(insp2, "verified", days=0.1)])
    assert "not overdue" in await refused(iw, move_findings, [step(reminders, "overdue")])
    assert "before" in await refused(iw, move_findings, [step(officer, "rectifying", days=-1)])

    async with db.transaction(iw.tenant.id):
        await move_findings(
            iw.tenant,
            [
                step(officer, "rectifying", note=""),
                step(officer, "submitted", days=0.01),
                step(insp1, "reopened", days=0.02, note="材料不全"),
                step(officer, "submitted", days=0.03),
                step(insp1, "verified", days=0.04, note=""),
                Move(reminders, late.uuid, "overdue", earlier + timedelta(days=31)),
            ],
        )
        rows = await Adjustment.select(Adjustment.source, Adjustment.kind, Adjustment.item).where(
            Adjustment.tenant == iw.tenant.id
        )
        detail = await findings.finding_detail(iw.tenant, OFFICE, kept.uuid)
        overdue = await findings.finding_detail(iw.tenant, OFFICE, late.uuid)
    assert sorted((r["source"], r["item"]) for r in rows) == [
        (f"finding:{kept.uuid}", "major"),
        (f"overdue:{late.uuid}", "overdue"),
    ]
    assert (detail["state"], detail["verified_by"]) == ("verified", "insp1")
    assert [e["kind"] for e in detail["events"]] == [
        "recorded",
        "rectifying",
        "submitted",
        "reopened",
        "submitted",
        "verified",
    ]
    assert overdue["overdue"] and [e["kind"] for e in overdue["events"]] == ["recorded", "overdue"]
    # the reminders note a deadline once
    again = Move(reminders, late.uuid, "overdue", now)
    assert "not overdue" in await refused(iw, move_findings, [again])


async def test_a_finding_recurs_when_an_earlier_round_found_the_unit_wanting_on_the_item(env):
    iw = await make_inspection_world()
    office, now = await actor(iw, "office"), datetime.now(UTC)
    today = units.today(iw.tenant)
    spec = {"name": "第六轮巡察", "starts_on": today - timedelta(400), "ends_on": today - timedelta(350)}
    earlier = await run(iw.world, rounds.create_round, office, {**spec, "unit_ids": [iw.world.units["a_unit"]["id"]]})
    before = NewFinding(office, "minor", "去年的问题", "on_spot", now, item="C2", note="已整改")
    async with db.transaction(iw.tenant.id):
        await record_visits(iw.tenant, [Visit(earlier["inspections"][0]["id"], findings=[before])])
    again = NewFinding(office, "minor", "同一问题", "on_spot", now, item="C2", note="已整改")
    other = NewFinding(office, "minor", "另一问题", "on_spot", now, item="R1", note="已整改")
    elsewhere = NewFinding(office, "minor", "别的单位", "on_spot", now, item="C2", note="已整改")
    visits = [
        Visit(iw.inspections["a_unit"]["id"], findings=[again, other]),
        Visit(iw.inspections["city"]["id"], findings=[elsewhere]),
    ]
    async with db.transaction(iw.tenant.id):
        await record_visits(iw.tenant, visits)
        flags = [
            (await findings.finding_detail(iw.tenant, OFFICE, f.uuid))["recurring"]
            for f in (before, again, other, elsewhere)
        ]
    assert flags == [False, True, False, False]
