"""The inspection documents read back: a unit's report and the round's summary as PDF/A
text, the findings workbook with every comment; what they never show (the clues, the
team's notes) and who gets them (the unit's officer none, a district admin their
district's units, another tenant nothing)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import openpyxl
from pypdf import PdfReader

from server import db
from server.inspections.tables import (
    Clue,
    Device,
    DeviceCheck,
    Finding,
    FindingEvent,
    Inspection,
    Interview,
    ItemResult,
    Measure,
)
from server.units import service as units
from tenants.service import get_owned
from tests.conftest import login
from tests.factories import make_person, make_world, token_for
from tests.inspection_world import InspectionWorld, make_inspection_world

CLUE = "线索甲：该局某科室私存涉密文件"
TEAM_NOTES = "组内备注：重点核查机要室"
R1_NOTE = "未见年度保密工作汇报纪要"
SUMMARY = "主要负责人介绍了保密工作责任落实情况"
WAIVED = "外出培训，无法参加谈话"
COMMENT = "检查组意见：整改材料不完整，请补充会议纪要"
RECURRING = "连续两轮未听取保密工作汇报"
VIOLATION = "非涉密计算机存储涉密文件三份"
PRESERVED = "涉密文件三份已登记保存"


@dataclass
class Built:
    iw: InspectionWorld
    findings: list[str]


def pdf_text(content: bytes) -> str:
    # extraction breaks lines anywhere: compare without whitespace
    return "".join("".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages).split())


def is_pdfa(content: bytes) -> bool:
    xmp = PdfReader(io.BytesIO(content)).xmp_metadata
    nodes = xmp.get_nodes_in_namespace("", "http://www.aiim.org/pdfa/ns/id/")
    return {n.localName: n.nodeValue for n in nodes} == {"part": "3", "conformance": "B"}


def archived_text(response) -> str:
    """The text of a PDF/A download, once its status, type and conformance are checked."""
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert is_pdfa(response.content)
    return pdf_text(response.content)


async def build() -> Built:
    """The round of tests/inspection_world with a_unit recorded: every item (R1 failed),
    one interview held, one waived and one missing, a sample of two devices (one
    violation with a measure), two findings (one recurring and overdue, with comments),
    a clue and the team's notes."""
    world = await make_world()
    await make_person(world.tenant, world.units["a_unit"], "孙八", "staff", classified_level="general")
    iw = await make_inspection_world(world)
    tenant = world.tenant
    today = units.today(tenant)
    async with db.transaction(tenant.id):
        row = await Inspection.select().where(Inspection.uuid == iw.inspections["a_unit"]["id"]).first()
        pk, unit = row["id"], row["unit"]
        await Inspection.update(
            {
                Inspection.team_notes: TEAM_NOTES,
                Inspection.sample_size: 2,
                Inspection.sample_seed: "seed-20261205",
                Inspection.sampled_at: datetime.now(UTC),
            }
        ).where(Inspection.id == pk)
        await Clue(tenant=tenant.id, inspection=pk, text=CLUE, created_by="insp1").save()
        await ItemResult.insert(
            *[
                ItemResult(
                    tenant=tenant.id,
                    inspection=pk,
                    item=i["code"],
                    result="fail" if i["code"] == "R1" else "pass",
                    note=R1_NOTE if i["code"] == "R1" else "",
                )
                for i in iw.round["checklist"]["items"]
            ]
        )
        people = await units.person_pks(tenant, [world.people["a_principal"]["id"], world.people["a_lead"]["id"]])
        principal, lead = people[world.people["a_principal"]["id"]], people[world.people["a_lead"]["id"]]
        await Interview.insert(
            Interview(
                tenant=tenant.id, inspection=pk, person=principal, held_on=today, interviewer="检查员1", summary=SUMMARY
            ),
            Interview(tenant=tenant.id, inspection=pk, person=lead, waived_reason=WAIVED),
        )
        devices = [
            Device(tenant=tenant.id, unit=unit, kind="computer", label="ZC-2024-001", holder="张三", location="302室"),
            Device(tenant=tenant.id, unit=unit, kind="mailbox", label="office@example.cn"),
            Device(tenant=tenant.id, unit=unit, kind="it_device", label="打印机HP-01"),
        ]
        for d in devices:
            await d.save()
        await DeviceCheck.insert(
            DeviceCheck(tenant=tenant.id, inspection=pk, device=devices[0].id, result="violation", note=VIOLATION),
            DeviceCheck(tenant=tenant.id, inspection=pk, device=devices[1].id, result="clean"),
        )
        # a finding of this inspection, recorded by the team
        finding = partial(Finding, tenant=tenant.id, inspection=pk, unit=unit, recorded_by_id=1)
        recurring = finding(
            item="R1",
            area="R",
            severity="major",
            description=RECURRING,
            basis="《党政领导干部保密工作责任制规定》",
            mode="deadline",
            deadline=today - timedelta(days=1),
            responsible=principal,
            state="rectifying",
            recurring=True,
            recorded_by="insp1",
        )
        violation = finding(
            item="N2",
            area="N",
            device=devices[0].id,
            severity="serious",
            description=VIOLATION,
            mode="on_spot",
            state="verified",
            recorded_by="insp2",
        )
        for f in (recurring, violation):
            await f.save()
        await FindingEvent.insert(
            FindingEvent(tenant=tenant.id, finding=recurring.id, kind="recorded", actor="insp1"),
            FindingEvent(tenant=tenant.id, finding=recurring.id, kind="comment", note=COMMENT, actor="insp3"),
            FindingEvent(tenant=tenant.id, finding=violation.id, kind="recorded", actor="insp2"),
            FindingEvent(tenant=tenant.id, finding=violation.id, kind="verified", note="现场已删除", actor="insp3"),
        )
        await Measure(
            tenant=tenant.id,
            inspection=pk,
            device=devices[0].id,
            finding=violation.id,
            kind="register_preserve",
            details={
                "preserved": [{"name": PRESERVED, "sha256": "ab" * 32}],
                "kept_at": "市保密局",
                "acknowledged_by": "张三",
            },
            created_by="insp2",
        ).save()
    return Built(iw, [str(recurring.uuid), str(violation.uuid)])


async def get(client, world, who: str, path: str):
    token = await token_for(world, who)
    return await client.get(f"/api/v1/t/{world.slug}{path}", headers={"Authorization": "Bearer " + token})


async def test_the_unit_report_has_every_part_and_no_clue_or_team_note(env, client):
    built = await build()
    iw = built.iw
    unit_report = f"/inspections/{iw.inspections['a_unit']['id']}/report.pdf"
    text = archived_text(await get(client, iw.world, "office", unit_report))
    for expected in (
        "甲区财政局",
        "第七轮巡察",
        "一组",
        "检查员1",
        R1_NOTE,  # an item's note
        SUMMARY,  # an interview held
        WAIVED,  # one waived, with the reason
        "孙八",  # a classified person not interviewed yet
        "seed-20261205",  # the draw's seed
        "ZC-2024-001",
        RECURRING,
        VIOLATION,
        PRESERVED,  # the measure's particulars
        "张三",  # the responsible leader
    ):
        assert expected in text, expected
    assert CLUE not in text and TEAM_NOTES not in text


async def test_the_round_summary_counts_and_lists_the_recurring(env, client):
    built = await build()
    iw = built.iw
    # a unit with a single finding, still open
    async with db.transaction(iw.tenant.id):
        city = await get_owned(Inspection, iw.tenant, iw.inspections["city"]["id"], Inspection.id, Inspection.unit)
        await Finding(
            tenant=iw.tenant.id,
            inspection=city["id"],
            unit=city["unit"],
            item="D1",
            area="D",
            severity="minor",
            description="公开信息未经保密审查",
            mode="deadline",
            deadline=units.today(iw.tenant) + timedelta(days=10),
            recorded_by_id=1,
            recorded_by="insp1",
        ).save()
    text = archived_text(await get(client, iw.world, "office", f"/inspection-rounds/{iw.round['id']}/report.pdf"))
    for expected in ("第七轮巡察", "甲区财政局", "市教育局", "乙区财政局", RECURRING):
        assert expected in text, expected
    # one of the three findings verified: a third rectified
    assert "33%" in text
    assert CLUE not in text and TEAM_NOTES not in text and COMMENT not in text
    # the per-unit counts are numbers, even for a unit with a single finding
    assert "False" not in text and "True" not in text


async def test_the_findings_workbook_carries_every_comment(env, client):
    built = await build()
    iw = built.iw
    response = await get(client, iw.world, "office", f"/inspection-rounds/{iw.round['id']}/findings.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    findings, history = book.worksheets
    rows = list(findings.iter_rows(values_only=True))
    assert len(rows) == 3
    by_id = {r[-1]: r for r in rows[1:]}
    assert set(by_id) == set(built.findings)
    first = by_id[built.findings[0]]
    assert first[1] == "甲区财政局" and first[2] == "第七轮巡察" and RECURRING in first
    assert "张三" in first and COMMENT in first[-2]
    assert "现场已删除" in by_id[built.findings[1]][-2]
    entries = list(history.iter_rows(values_only=True))[1:]
    assert len(entries) == 4 and COMMENT in [e[-1] for e in entries]
    cells = " ".join(str(c) for r in rows for c in r if c is not None)
    assert CLUE not in cells and TEAM_NOTES not in cells


async def test_who_gets_the_documents(env, client):
    built = await build()
    iw = built.iw
    world = iw.world
    unit_report = f"/inspections/{iw.inspections['a_unit']['id']}/report.pdf"
    city_report = f"/inspections/{iw.inspections['city']['id']}/report.pdf"
    summary = f"/inspection-rounds/{iw.round['id']}/report.pdf"
    export = f"/inspection-rounds/{iw.round['id']}/findings.xlsx"
    # the unit's officer gets none of them; neither does the leader
    for who in ("officer", "leader"):
        for path in (unit_report, summary, export):
            assert (await get(client, world, who, path)).status_code in (403, 404), (who, path)
    # a district admin: the units of the district, the round as far as they are concerned
    assert (await get(client, world, "district", unit_report)).status_code == 200
    assert (await get(client, world, "district", city_report)).status_code == 404
    text = pdf_text((await get(client, world, "district", summary)).content)
    assert "甲区财政局" in text and "市教育局" not in text and "乙区财政局" not in text
    book = openpyxl.load_workbook(io.BytesIO((await get(client, world, "district", export)).content))
    assert len(list(book.worksheets[0].iter_rows())) == 3
    # an inspector on the unit's team, and one on no team
    assert (await get(client, world, "insp1", unit_report)).status_code == 200
    for path in (unit_report, summary, export):
        assert (await get(client, world, "insp5", path)).status_code == 404, path
    # another tenant's office: nothing of this tenant's
    other = await make_world("另一市保密局")
    for path in (unit_report, summary, export):
        assert (await get(client, other, "office", path)).status_code == 404, path
    assert (await get(client, world, "office", "/inspection-rounds/not-a-round/report.pdf")).status_code == 404


async def test_the_pages_download_links(env, client):
    built = await build()
    iw = built.iw
    await login(client, iw.slug, "office")
    base = f"/t/{iw.slug}/inspections"
    response = await client.get(f"{base}/{iw.inspections['a_unit']['id']}/report.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert "inline" in response.headers["content-disposition"]
    response = await client.get(f"{base}/rounds/{iw.round['id']}/report.pdf")
    assert response.status_code == 200 and is_pdfa(response.content)
    response = await client.get(f"{base}/rounds/{iw.round['id']}/findings.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
