"""Findings and their rectification: who may make each change of state (the recorder does
not verify; another member or the office does; the unit's officer submits but does not
verify; a district admin only reads), two verdicts at once, overdue deadlines, findings
that recur across rounds, what findings cost in the assessment (deductions, the cap, the
veto, reopening), reminders before and after a deadline, and what the unit's officer
sees (never the clues nor the team's notes).

Data is built through the services and the API; rows are touched directly only to move
a deadline into the past, because a test cannot wait for it."""

from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from server import db
from server.accounts import service as accounts
from server.assessment import cycle, results, reviews
from server.assessment.scheme import DEFAULT
from server.assessment.tables import Adjustment, AssessedUnit, ScoreEvent
from server.audit.tables import AuditEvent
from server.core.errors import Conflict
from server.inspections import fieldwork, finding_costs, rounds
from server.inspections.tables import Finding, FindingEvent, TeamMember
from server.units import service as units
from tests.conftest import csrf, login
from tests.factories import Api, make_world
from tests.inspection_world import OFFICE, make_inspection_world, run
from tests.test_assessment import grade_unit
from tests.test_reminders import at, delivery_rows, generate, names, reminder_rows, set_rules, step

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# the default scheme's findings items (domain.md), over two manual indicators, capped lower
SCHEME = {
    **DEFAULT,
    "indicators": [
        {"code": "A", "name": "甲项", "parent": "", "points": 60, "method": "manual"},
        {"code": "B", "name": "乙项", "parent": "", "points": 40, "method": "manual"},
    ],
    "deduction_cap": 8.0,
}


WHO = ("office", "district", "officer", "leader", "insp1", "insp2", "insp3", "insp5")


async def setup(client, who: tuple[str, ...] = WHO):
    iw = await make_inspection_world()
    return iw, await Api.of(client, iw.world, *who)


def today(iw) -> date:
    return units.today(iw.tenant)


def body(iw, **changes) -> dict:
    """A finding on checklist item R1 to be rectified within a month."""
    return {
        "item": "R1",
        "severity": "serious",
        "description": "主要负责人全年未听取保密工作汇报",
        "mode": "deadline",
        "deadline": (today(iw) + timedelta(days=30)).isoformat(),
        **changes,
    }


async def record(api, iw, who: str = "insp1", unit: str = "a_unit", **changes) -> dict:
    made = await api.post(who, f"/inspections/{iw.inspections[unit]['id']}/findings", body(iw, **changes))
    assert made.status_code == 201, made.text
    return made.json()


def fields(response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


async def actor(iw, key: str):
    async with db.transaction(iw.tenant.id):
        return accounts.actor_for(
            iw.tenant, await accounts.user_by_username(iw.tenant, iw.world.users[key]["username"])
        )


async def history(iw, finding_id: str) -> list[str]:
    async with db.transaction(iw.tenant.id):
        rows = (
            await FindingEvent.select(FindingEvent.kind)
            .where(FindingEvent.tenant == iw.tenant.id, FindingEvent.finding.uuid == finding_id)
            .order_by(FindingEvent.id)
        )
    return [r["kind"] for r in rows]


async def set_deadline(iw, finding_id: str, day: date) -> None:
    """Move a deadline (into the past): the test cannot wait for it."""
    async with db.transaction(iw.tenant.id):
        await Finding.update({Finding.deadline: day}).where(Finding.tenant == iw.tenant.id, Finding.uuid == finding_id)


# ---------------------------------------------------------------- states and who may change them


async def test_a_finding_goes_from_open_to_verified_each_step_by_whom_it_may(client):
    iw, api = await setup(client)
    f = await record(api, iw)
    assert (f["state"], f["area"], f["recurring"], f["overdue"]) == ("open", "R", False, False)
    # the basis is the item's, the responsible leader the unit's leader in charge of secrecy work
    assert f["basis"] == "《党政领导干部保密工作责任制规定》" and f["responsible_name"] == "李四"
    assert f["may"] == {"start": True, "submit": False, "verify": False, "reopen": False, "comment": True}
    one = f"/findings/{f['id']}"

    # the district admin reads, and only reads
    assert (await api.get("district", one)).status_code == 200
    for path, payload in (("/start", {}), ("/comments", {"note": "请抓紧"}), ("/verify", {"accepted": True})):
        assert (await api.post("district", one + path, payload)).status_code == 403
    # a leader of the unit (李四) reads it, as their portal and an escalated reminder show it,
    # and does nothing with it; a spare inspector (not on the team) sees nothing of it
    read = await api.get("leader", one)
    assert read.status_code == 200 and not any(read.json()["may"].values())
    assert (await api.post("leader", one + "/start", {})).status_code == 403
    assert (await api.get("insp5", one)).status_code == 404

    started = await api.post("officer", one + "/start", {"note": "已部署整改"})
    assert started.status_code == 200 and started.json()["state"] == "rectifying"
    assert (await api.post("officer", one + "/start", {})).status_code == 409
    # the unit's officer submits but does not verify
    assert (await api.post("officer", one + "/verify", {"accepted": True})).status_code == 403
    submitted = await api.post("officer", one + "/rectification", {"note": "已召开专题会议听取汇报并形成纪要"})
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    # an inspector hands in nothing for the unit
    assert (await api.post("insp2", one + "/rectification", {"note": "x"})).status_code == 403

    # whoever recorded it does not verify it
    refused = await api.post("insp1", one + "/verify", {"accepted": True})
    assert refused.status_code == 403 and refused.json()["detail"]
    assert (await api.get("insp1", one)).json()["may"]["verify"] is False
    verified = await api.post("insp2", one + "/verify", {"accepted": True, "note": "经核实已整改"})
    assert verified.status_code == 200
    assert (verified.json()["state"], verified.json()["verified_by"]) == ("verified", "insp2")
    assert (await api.post("insp3", one + "/verify", {"accepted": True})).status_code == 409

    commented = await api.post("officer", one + "/comments", {"note": "谢谢指导"})
    assert commented.status_code == 201
    assert await history(iw, f["id"]) == ["recorded", "rectifying", "submitted", "verified", "comment"]
    async with db.transaction(iw.tenant.id):
        actions = [
            r["action"]
            for r in await AuditEvent.select(AuditEvent.action)
            .where(AuditEvent.tenant == iw.tenant.id, AuditEvent.action.like("inspection.finding_%"))
            .order_by(AuditEvent.id)
        ]
    assert actions == [
        "inspection.finding_create",
        "inspection.finding_rectifying",
        "inspection.finding_submitted",
        "inspection.finding_verified",
        "inspection.finding_comment",
    ]


async def test_the_office_verifies_reopens_with_a_reason_and_on_the_spot_findings_start_submitted(client):
    iw, api = await setup(client)
    spot = await record(
        api, iw, unit="city", item="N2", severity="minor", mode="on_spot", deadline=None, note="当场删除涉密文件"
    )
    assert (spot["state"], spot["deadline"], spot["responsible_id"]) == ("submitted", None, None)
    assert [e["kind"] for e in spot["events"]] == ["recorded", "submitted"]
    one = f"/findings/{spot['id']}"
    # the unit's officer of another unit does not know it exists
    assert (await api.get("officer", one)).status_code == 404
    # sent back: the reason is required
    assert fields(await api.post("office", one + "/verify", {"accepted": False})) == {"note"}
    reopened = await api.post("office", one + "/verify", {"accepted": False, "note": "仍有残留"})
    assert reopened.status_code == 200 and reopened.json()["state"] == "reopened"
    again = await api.post("office", one + "/rectification", {"note": "已彻底清除"})
    assert again.json()["state"] == "submitted"
    verified = await api.post("office", one + "/verify", {"accepted": "1"})
    assert (verified.status_code, verified.json()["state"]) == (200, "verified")
    # a verified finding found not to hold is reopened too
    back = await api.post("insp3", one + "/verify", {"accepted": False, "note": "复查发现问题复发"})
    assert (back.json()["state"], back.json()["verified_by"]) == ("reopened", "")
    assert await history(iw, spot["id"]) == ["recorded", "submitted", "reopened", "submitted", "verified", "reopened"]


async def test_two_verdicts_at_once_one_wins(client, make_client):
    iw, api = await setup(client)
    f = await record(api, iw)
    await api.post("officer", f"/findings/{f['id']}/rectification", {"note": "已整改"})
    other = await make_client("10.9.9.8")
    url = f"{api.base}/findings/{f['id']}/verify"
    answers = await asyncio.gather(
        client.post(url, json={"accepted": True}, headers=api.headers("insp2")),
        other.post(url, json={"accepted": True}, headers=api.headers("insp3")),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert await history(iw, f["id"]) == ["recorded", "submitted", "verified"]
    winner = next(a for a in answers if a.status_code == 200).json()["verified_by"]
    async with db.transaction(iw.tenant.id):
        audited = await AuditEvent.count().where(
            AuditEvent.tenant == iw.tenant.id, AuditEvent.action == "inspection.finding_verified"
        )
    assert winner in ("insp2", "insp3") and audited == 1


async def test_a_member_with_an_unconfirmed_conflict_does_not_verify(client):
    iw, api = await setup(client)
    f = await record(api, iw)
    await api.post("officer", f"/findings/{f['id']}/rectification", {"note": "已整改"})
    async with db.transaction(iw.tenant.id):
        a_unit = await units.unit_pk(iw.tenant, OFFICE, iw.world.units["a_unit"]["id"])
        conflict = [{"unit": a_unit, "unit_name": "甲区财政局", "from": "2020-01-01", "to": None}]
        await TeamMember.update({TeamMember.conflicts: conflict}).where(
            TeamMember.tenant == iw.tenant.id, TeamMember.user_name == "检查员2"
        )
    assert (await api.post("insp2", f"/findings/{f['id']}/verify", {"accepted": True})).status_code == 403
    assert (await api.post("insp3", f"/findings/{f['id']}/verify", {"accepted": True})).status_code == 200


# ---------------------------------------------------------------- bad input


async def test_bad_input_is_refused_naming_the_field(client):
    iw, api = await setup(client)
    path = f"/inspections/{iw.inspections['a_unit']['id']}/findings"
    cases = [
        (body(iw, severity="grave"), {"severity"}),
        (body(iw, severity=None), {"severity"}),
        (body(iw, description=""), {"description"}),
        (body(iw, item="Z9"), {"item"}),
        (body(iw, item=""), {"item"}),
        (body(iw, item="", device_id="00000000-0000-0000-0000-000000000000", area="N"), {"device_id"}),
        (body(iw, area="C"), {"area"}),
        (body(iw, mode="later"), {"mode"}),
        (body(iw, deadline=None), {"deadline"}),
        (body(iw, deadline=(today(iw) - timedelta(days=1)).isoformat()), {"deadline"}),
        (body(iw, deadline=(today(iw) + timedelta(days=400)).isoformat()), {"deadline"}),
        (body(iw, deadline="next week"), {"deadline"}),
        (body(iw, mode="on_spot"), {"deadline", "note"}),
        (body(iw, leak="perhaps"), {"leak"}),
    ]
    for payload, expected in cases:
        payload = {k: v for k, v in payload.items() if v is not None}
        answer = await api.post("insp1", path, payload)
        assert answer.status_code == 422 and fields(answer) == expected, (payload, answer.text)
    assert (await api.post("insp1", path, body(iw, colour="red"))).status_code == 400
    assert (await api.get("office", "/findings", state="lost")).status_code == 422
    assert fields(await api.get("office", "/findings", round="not-a-round")) == {"round"}
    async with db.transaction(iw.tenant.id):
        assert await Finding.count().where(Finding.tenant == iw.tenant.id) == 0
    f = await record(api, iw)
    one = f"/findings/{f['id']}"
    assert fields(await api.post("officer", one + "/rectification", {"note": ""})) == {"note"}
    assert fields(await api.post("officer", one + "/comments", {})) == {"note"}
    await api.post("officer", one + "/rectification", {"note": "已整改"})
    assert fields(await api.post("insp2", one + "/verify", {"note": "?"})) == {"accepted"}
    # a finding on another unit's device is no finding of this one
    assert (await api.get("office", "/findings/00000000-0000-0000-0000-000000000000")).status_code == 404


async def test_another_tenants_findings_do_not_exist(client):
    iw, api = await setup(client, ("office", "insp1"))
    f = await record(api, iw)
    other = await make_world("另一市保密局")
    theirs = await Api.of(client, other, "office")
    assert (await theirs.get("office", f"/findings/{f['id']}")).status_code == 404
    assert (await theirs.post("office", f"/findings/{f['id']}/verify", {"accepted": True})).status_code == 404
    listed = await theirs.get("office", "/findings")
    assert listed.status_code == 200 and listed.json()["total"] == 0


# ---------------------------------------------------------------- scope


async def test_the_unit_officer_sees_the_units_findings_never_the_clues_nor_the_team_notes(client):
    iw, api = await setup(client)
    a_id = iw.inspections["a_unit"]["id"]
    insp1 = await actor(iw, "insp1")
    await run(iw.world, fieldwork.add_clue, insp1, a_id, {"text": "线索：机要室存在违规外联"})
    await run(iw.world, fieldwork.update_notes, insp1, a_id, {"team_notes": "组内意见：重点核查机要室"})
    mine = await record(api, iw)
    theirs = await record(api, iw, unit="city", item="D1", severity="minor")
    listed = await api.get("officer", "/findings")
    assert listed.status_code == 200 and [f["id"] for f in listed.json()["items"]] == [mine["id"]]
    assert {f["id"] for f in (await api.get("office", "/findings")).json()["items"]} == {mine["id"], theirs["id"]}
    assert [f["id"] for f in (await api.get("district", "/findings")).json()["items"]] == [mine["id"]]
    assert (await api.get("insp5", "/findings")).json()["total"] == 0
    assert (await api.get("officer", f"/findings/{theirs['id']}")).status_code == 404
    answers = [
        listed,
        await api.get("officer", f"/findings/{mine['id']}"),
        await api.get("officer", f"/inspections/{a_id}/findings"),
    ]
    await login(client, iw.slug, "officer")
    answers += [
        await client.get(f"/t/{iw.slug}/findings"),
        await client.get(f"/t/{iw.slug}/findings/{mine['id']}"),
        await client.get(f"/t/{iw.slug}/inspections/{a_id}/findings"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.url
        assert "线索" not in answer.text and "组内意见" not in answer.text, answer.url
    # the unit's tabs: its findings only
    assert f"/inspections/{a_id}/checklist" not in answers[-1].text
    assert (await client.get(f"/t/{iw.slug}/inspections/{a_id}/checklist")).status_code in (403, 404)


async def test_filters_state_overdue_and_round(client):
    iw, api = await setup(client)
    late = await record(api, iw)
    await record(api, iw, item="R2", severity="minor")
    await set_deadline(iw, late["id"], today(iw) - timedelta(days=2))
    assert [f["id"] for f in (await api.get("office", "/findings", overdue="1")).json()["items"]] == [late["id"]]
    assert (await api.get("office", "/findings", overdue="0")).json()["total"] == 1
    assert (await api.get("office", "/findings", state="open")).json()["total"] == 2
    assert (await api.get("office", "/findings", state="verified")).json()["total"] == 0
    assert (await api.get("office", "/findings", round=iw.round["id"])).json()["total"] == 2
    other = await run(
        iw.world,
        rounds.create_round,
        OFFICE,
        {
            "name": "专项",
            "starts_on": "2020-01-01",
            "ends_on": "2020-02-01",
            "unit_ids": [iw.world.units["city"]["id"]],
        },
    )
    assert (await api.get("office", "/findings", round=other["id"])).json()["total"] == 0


# ---------------------------------------------------------------- overdue


async def test_a_deadline_passed_without_a_rectification_is_overdue_and_noted_once(client):
    iw, api = await setup(client)
    f = await record(api, iw)
    one = f"/findings/{f['id']}"
    await set_deadline(iw, f["id"], today(iw) - timedelta(days=1))
    shown = (await api.get("officer", one)).json()
    assert shown["overdue"] is True
    for _ in range(2):
        await run(iw.world, finding_costs.mark_overdue, today(iw))
    assert await history(iw, f["id"]) == ["recorded", "overdue"]
    # still overdue while rectifying; no longer once submitted (the team judges it now)
    assert (await api.post("officer", one + "/start", {})).json()["overdue"] is True
    assert (await api.post("officer", one + "/rectification", {"note": "已整改"})).json()["overdue"] is False
    # an on-the-spot finding has no deadline to pass
    spot = await record(api, iw, item="R2", mode="on_spot", deadline=None, note="当场整改")
    assert spot["overdue"] is False


# ---------------------------------------------------------------- recurrence


async def test_the_same_unit_and_item_as_an_earlier_round_recurs(client):
    iw, api = await setup(client)
    t = today(iw)
    earlier = await run(
        iw.world,
        rounds.create_round,
        OFFICE,
        {
            "name": "第六轮巡察",
            "starts_on": (t - timedelta(days=400)).isoformat(),
            "ends_on": (t - timedelta(days=370)).isoformat(),
            "unit_ids": [iw.world.units["a_unit"]["id"], iw.world.units["city"]["id"]],
        },
    )
    by_unit = {i["unit_id"]: i["id"] for i in earlier["inspections"]}
    first = await api.post(
        "office", f"/inspections/{by_unit[iw.world.units['a_unit']['id']]}/findings", body(iw, item="R1")
    )
    assert first.status_code == 201 and first.json()["recurring"] is False
    again = await record(api, iw, item="R1")
    other_item = await record(api, iw, item="R2")
    other_unit = await record(api, iw, unit="city", item="R1")
    assert (again["recurring"], other_item["recurring"], other_unit["recurring"]) == (True, False, False)
    # a later round never makes an earlier finding recurring
    assert (await api.get("office", f"/findings/{first.json()['id']}")).json()["recurring"] is False
    listed = {f["id"]: f["recurring"] for f in (await api.get("office", "/findings")).json()["items"]}
    assert listed[again["id"]] is True and listed[other_item["id"]] is False


# ---------------------------------------------------------------- into the assessment


async def open_assessment(iw, scheme: dict = SCHEME) -> int:
    """The year of the round's start, with its scheme, opened for every unit."""
    year = date.fromisoformat(str(iw.round["starts_on"])).year
    if await run(iw.world, cycle.scheme_detail, year) is None:
        await run(iw.world, cycle.create_scheme, OFFICE, year)
    await run(iw.world, cycle.save_scheme, OFFICE, year, scheme)
    await run(iw.world, cycle.open_assessment, OFFICE, year, {})
    return year


async def standing(iw, year: int, unit: str = "a_unit") -> dict:
    """The unit's stored result and its adjustments by source."""
    async with db.transaction(iw.tenant.id):
        pk = await units.unit_pk(iw.tenant, OFFICE, iw.world.units[unit]["id"])
        row = (
            await AssessedUnit.select(AssessedUnit.id, AssessedUnit.deduction, AssessedUnit.veto, AssessedUnit.total)
            .where(AssessedUnit.tenant == iw.tenant.id, AssessedUnit.unit == pk, AssessedUnit.assessment.year == year)
            .first()
        )
        adjustments = await Adjustment.select(
            Adjustment.kind, Adjustment.item, Adjustment.points, Adjustment.source
        ).where(Adjustment.assessed == row["id"])
    return {
        "deduction": float(row["deduction"]),
        "veto": row["veto"],
        "total": float(row["total"]),
        "adjustments": sorted(
            (a["source"].split(":")[0], a["kind"], a["item"], float(a["points"])) for a in adjustments
        ),
    }


async def submit_and_verify(api, finding: dict, who: str = "insp2") -> dict:
    await api.post("officer", f"/findings/{finding['id']}/rectification", {"note": "已整改"})
    verified = await api.post(who, f"/findings/{finding['id']}/verify", {"accepted": True})
    assert verified.status_code == 200, verified.text
    return verified.json()


async def test_verified_findings_become_deductions_capped_and_a_leak_is_the_veto(client):
    iw, api = await setup(client, ("office", "officer", "insp1", "insp2", "insp3"))
    year = await open_assessment(iw)
    assessor = await actor(iw, "assessor")
    await grade_unit(iw.world, OFFICE, assessor, year, iw.world.units["a_unit"], 50, 35)
    before = await standing(iw, year)
    assert (before["deduction"], before["total"], before["adjustments"]) == (0.0, 85.0, [])

    serious = await record(api, iw)
    assert (await standing(iw, year))["adjustments"] == []  # found is not yet verified
    verified = await submit_and_verify(api, serious)
    now = await standing(iw, year)
    assert now["adjustments"] == [("finding", "deduction", "serious", 5.0)]
    assert (now["deduction"], now["total"]) == (5.0, 80.0)
    link = f"/t/{iw.slug}/assessments/{year}/units/{iw.world.units['a_unit']['id']}"
    assert verified["deductions"] == [
        {
            "kind": "deduction",
            "item": "serious",
            "name": "检查发现严重问题",
            "points": 5.0,
            "year": year,
            "applied": True,
            "problem": "",
            "link": link,
        }
    ]
    # the unit's assessment (its scorecard's data) shows it, with what it came from
    card = await run(iw.world, results.unit_result, OFFICE, year, iw.world.units["a_unit"]["id"])
    assert [(a["name"], a["points"]) for a in card["adjustments"]] == [("检查发现严重问题", 5.0)]
    assert "主要负责人全年未听取保密工作汇报" in card["adjustments"][0]["note"]
    assert card["total"] == 80.0 and card["grade"] == "good"
    pdf = await api.get("office", f"/assessments/{year}/units/{iw.world.units['a_unit']['id']}/scorecard.pdf")
    assert pdf.status_code == 200
    printed = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "检查发现严重问题" in printed and "主要负责人全年未听取保密工作汇报" in printed

    # reopened: the deduction goes, and the history says so
    await api.post("insp3", f"/findings/{serious['id']}/verify", {"accepted": False, "note": "复查未通过"})
    back = await standing(iw, year)
    assert (back["adjustments"], back["deduction"], back["total"]) == ([], 0.0, 85.0)
    async with db.transaction(iw.tenant.id):
        kinds = [
            e["kind"]
            for e in await ScoreEvent.select(ScoreEvent.kind)
            .where(ScoreEvent.tenant == iw.tenant.id, ScoreEvent.indicator == "serious")
            .order_by(ScoreEvent.id)
        ]
    assert kinds == ["deduction", "removed"]

    # verified again, and one more serious finding: 10 points, capped at the scheme's 8
    await submit_and_verify(api, serious)
    await submit_and_verify(api, await record(api, iw, item="R2"))
    capped = await standing(iw, year)
    assert (capped["deduction"], capped["total"]) == (8.0, 77.0) and len(capped["adjustments"]) == 2

    # a confirmed leak: its severity's deduction and the scheme's veto
    await submit_and_verify(api, await record(api, iw, item="N2", severity="minor", leak=True))
    vetoed = await standing(iw, year)
    assert vetoed["veto"] is True
    assert ("finding", "veto", "leak", 0.0) in vetoed["adjustments"]
    card = await run(iw.world, results.unit_result, OFFICE, year, iw.world.units["a_unit"]["id"])
    assert (card["veto"], card["grade"], card["grade_label"]) == (True, "fail", "不合格")


async def test_an_overdue_rectification_is_deducted_and_items_missing_from_the_scheme_say_so(client):
    iw, api = await setup(client, ("office", "officer", "insp1", "insp2"))
    scheme = {**SCHEME, "deductions": [d for d in SCHEME["deductions"] if d["code"] != "major"]}
    year = await open_assessment(iw, scheme)
    late = await record(api, iw, severity="minor")
    await set_deadline(iw, late["id"], today(iw) - timedelta(days=3))
    await run(iw.world, finding_costs.mark_overdue, today(iw))
    assert (await standing(iw, year))["adjustments"] == [("overdue", "deduction", "overdue", 1.0)]
    shown = (await api.get("officer", f"/findings/{late['id']}")).json()
    assert [(d["item"], d["points"], d["applied"]) for d in shown["deductions"]] == [("overdue", 1.0, True)]
    # rectified late and verified: both stay (the lateness happened)
    await submit_and_verify(api, late)
    assert [a[2] for a in (await standing(iw, year))["adjustments"]] == ["minor", "overdue"]

    major = await submit_and_verify(api, await record(api, iw, item="R2", severity="major"))
    assert (await standing(iw, year))["deduction"] == 2.0
    [missing] = major["deductions"]
    assert (missing["item"], missing["applied"], missing["link"]) == ("major", False, "")
    assert str(year) in missing["problem"]


async def test_findings_verified_before_the_assessment_opens_reach_it_when_it_does(client):
    iw, api = await setup(client, ("office", "officer", "insp1", "insp2"))
    verified = await submit_and_verify(api, await record(api, iw, severity="major"))
    assert verified["deductions"] == []  # no assessment yet: nothing to show
    late = await record(api, iw, item="R2", severity="minor")
    await set_deadline(iw, late["id"], today(iw) - timedelta(days=1))
    await run(iw.world, finding_costs.mark_overdue, today(iw))
    year = await open_assessment(iw)
    got = await standing(iw, year)
    assert got["adjustments"] == [("finding", "deduction", "major", 3.0), ("overdue", "deduction", "overdue", 1.0)]
    assert got["deduction"] == 4.0
    assert (await standing(iw, year, "city"))["adjustments"] == []


# ---------------------------------------------------------------- reminders


async def test_reminders_before_the_deadline_and_after_it_with_escalation(env, client):
    iw, api = await setup(client, ("officer", "insp1"))
    f = await record(api, iw, deadline=(today(iw) + timedelta(days=10)).isoformat())
    deadline = today(iw) + timedelta(days=10)
    await set_rules(
        iw.tenant,
        finding_due={"days": 7},
        finding_overdue={"days": 1, "repeat_days": 2, "escalate_after": 1},
    )
    who = await names(iw.tenant)

    async def fired(day: date) -> list[tuple[str, str, str]]:
        known = len(await reminder_rows(iw.tenant))
        await step(iw.tenant, env.settings, at(day))
        made = (await reminder_rows(iw.tenant))[known:]
        return sorted((r["kind"], r["subject"].removeprefix(f"finding:{f['id']}"), who[r["recipient"]]) for r in made)

    assert await fired(deadline - timedelta(days=8)) == []
    # the unit's officer account, and the leader answerable for it
    assert await fired(deadline - timedelta(days=7)) == [
        ("finding_due", "", "officer"),
        ("finding_due", ":lead", "李四"),
    ]
    assert await fired(deadline) == []
    assert await fired(deadline + timedelta(days=1)) == [
        ("finding_overdue", "", "officer"),
        ("finding_overdue", ":lead", "李四"),
    ]
    # the reminders do not touch the finding: the scheduler's hourly job notes the passed
    # deadline in its history, once however often it runs
    assert await history(iw, f["id"]) == ["recorded"]
    for _run in range(2):
        await run(iw.world, finding_costs.mark_overdue, deadline + timedelta(days=1))
    assert await history(iw, f["id"]) == ["recorded", "overdue"]
    # the second reminder (escalate after 1) also goes to the unit's principal
    assert await fired(deadline + timedelta(days=3)) == [
        ("finding_overdue", "", "officer"),
        ("finding_overdue", "", "张三"),
        ("finding_overdue", ":lead", "张三"),
        ("finding_overdue", ":lead", "李四"),
    ]
    rows = await reminder_rows(iw.tenant)
    assert {r["level"] for r in rows if r["kind"] == "finding_overdue"} == {0, 1}
    # submitted: nothing more to remind of
    await api.post("officer", f"/findings/{f['id']}/rectification", {"note": "已整改"})
    assert await fired(deadline + timedelta(days=5)) == []
    assert await generate(iw.tenant, env.settings, at(deadline + timedelta(days=6))) == 0


async def test_a_submitted_rectification_cancels_the_reminders_not_yet_sent(env, client):
    """Findings do not import the reminders (which read them): the change of state says so
    by an event, and the outbox settles in the same transaction."""
    iw, api = await setup(client, ("officer", "insp1"))
    deadline = today(iw) + timedelta(days=10)
    f = await record(api, iw, deadline=deadline.isoformat())
    await set_rules(iw.tenant, finding_due={"days": 7})
    # made, not yet sent (as when waiting out the quiet hours)
    await generate(iw.tenant, env.settings, at(deadline - timedelta(days=7)))
    waiting = await delivery_rows(iw.tenant, kind="finding_due", status="pending")
    assert waiting
    submitted = await api.post("officer", f"/findings/{f['id']}/rectification", {"note": "已整改"})
    assert submitted.status_code == 200, submitted.text
    settled = await delivery_rows(iw.tenant, kind="finding_due")
    assert [(d["id"], d["status"], d["last_error"]) for d in settled] == [
        (d["id"], "cancelled", "done") for d in waiting
    ]


# ---------------------------------------------------------------- pages


async def test_pages_record_a_finding_upload_a_rectification_and_verify_it(client, make_client):
    iw = await make_inspection_world()
    slug, a_id = iw.slug, iw.inspections["a_unit"]["id"]
    await login(client, slug, "insp1")
    tab = await client.get(f"/t/{slug}/inspections/{a_id}/findings")
    assert tab.status_code == 200 and "R1" in tab.text and 'aria-current="page"' in tab.text
    token = await csrf(client, f"/t/{slug}/inspections/{a_id}/findings")
    form = {
        "_csrf": token,
        "item": "M3",
        "severity": "major",
        "description": "保密柜未上锁",
        "mode": "deadline",
        "deadline": (today(iw) + timedelta(days=14)).isoformat(),
        "leak": "0",
    }
    wrong = await client.post(f"/t/{slug}/inspections/{a_id}/findings", data={**form, "severity": ""})
    assert wrong.status_code == 422 and "保密柜未上锁" in wrong.text
    made = await client.post(
        f"/t/{slug}/inspections/{a_id}/findings", data=form, files={"files": ("photo.png", PNG, "image/png")}
    )
    assert made.status_code == 303, made.text
    page = made.headers["location"]
    finding_id = page.rsplit("/", 1)[1]
    shown = await client.get(page)
    # a file under a kilobyte is not shown as 0 KB
    assert "保密柜未上锁" in shown.text and "photo.png" in shown.text and "1 KB" in shown.text

    officer = await make_client("10.9.9.7")
    await login(officer, slug, "officer")
    mine = await officer.get(f"/t/{slug}/findings")
    assert mine.status_code == 200 and "保密柜未上锁" in mine.text
    token = await csrf(officer, page)
    empty = await officer.post(page + "/rectification", data={"_csrf": token, "note": ""})
    assert empty.status_code == 422
    sent = await officer.post(
        page + "/rectification",
        data={"_csrf": token, "note": "已更换带锁保密柜"},
        files={"files": ("after.png", PNG, "image/png")},
    )
    assert sent.status_code == 303
    assert "after.png" in (await officer.get(page)).text

    other = await make_client("10.9.9.6")
    await login(other, slug, "insp2")
    token = await csrf(other, page)
    done = await other.post(page + "/verify", data={"_csrf": token, "accepted": "1", "note": ""})
    assert done.status_code == 303
    again = await other.post(page + "/verify", data={"_csrf": token, "accepted": "1", "note": ""})
    assert again.status_code == 409
    async with db.transaction(iw.tenant.id):
        state = await Finding.select(Finding.state).where(Finding.uuid == finding_id).first()
    assert state["state"] == "verified"


async def test_the_rectification_api_takes_files_and_the_leader_sees_open_findings(client):
    iw, api = await setup(client, ("officer", "insp1"))
    f = await record(api, iw)
    path = f"/findings/{f['id']}/rectification"
    bad = await api.post("officer", path, data={"note": "已整改"}, files={"files": ("x.txt", b"plain", "text/plain")})
    assert bad.status_code == 422 and fields(bad) == {"file"}
    sent = await api.post("officer", path, data={"note": "已整改"}, files={"files": ("done.png", PNG, "image/png")})
    assert sent.status_code == 200, sent.text
    assert [x["filename"] for x in sent.json()["rectification_files"]] == ["done.png"]

    await login(client, iw.slug, "leader")
    portal = await client.get(f"/t/{iw.slug}/me")
    assert portal.status_code == 200 and "主要负责人全年未听取保密工作汇报" in portal.text


async def test_a_findings_deduction_links_back_and_is_not_removed_by_hand(client):
    iw, api = await setup(client)
    year = await open_assessment(iw)
    f = await record(api, iw, severity="major")
    one = f"/findings/{f['id']}"
    await api.post("officer", one + "/rectification", {"note": "已整改"})
    assert (await api.post("insp2", one + "/verify", {"accepted": True, "note": "核实"})).status_code == 200
    unit = iw.world.units["a_unit"]["id"]
    result = (await api.get("office", f"/assessments/{year}/units/{unit}")).json()
    (adj,) = result["adjustments"]
    assert (adj["item"], adj["points"], adj["finding_id"]) == ("major", 3.0, f["id"])
    with pytest.raises(Conflict):
        await run(iw.world, reviews.remove_adjustment, OFFICE, adj["id"], {"reason": "手工删除"})
    assert len((await api.get("office", f"/assessments/{year}/units/{unit}")).json()["adjustments"]) == 1
