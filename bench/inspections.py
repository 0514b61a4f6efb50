"""The inspection rows: the must-interview list of a 200-person unit, one unit's written
report, the summary of a round of 24 units and the round's findings in Excel.
Registered by run.py after the other rows.

The data is the demo's finished round when it has one of at least 24 units; otherwise the
bench builds one, untimed, once per database: a round over 24 units with two teams, every
checklist item recorded, interviews, a drawn sample of devices, ~4 findings a unit with
their history and measures (a note says which). The 200-person unit is the bench's own.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import document_rows
from bench.context import SLUG, BenchContext
from bench.harness import Op, Parts, scenario
from server import db
from server.actor import Actor

ROUND_UNITS = 24
BIG_UNIT = 200  # people in the unit of the interview-list row
INSPECTORS = ("benchinsp1", "benchinsp2", "benchinsp3", "benchinsp4")
SYSTEM = Actor.system("bench")
MEASURE_DETAILS = {
    "register_preserve": {
        "preserved": [{"name": "涉密文件2份", "sha256": "0f" * 32}],
        "kept_at": "市保密局",
        "acknowledged_by": "单位保密员",
    },
    "order_delete": {"what": "非涉密计算机中的涉密文件", "confirmed_by": "单位保密员"},
}


@dataclass
class Sample:
    tenant: Any
    office: Any
    round_id: str  # the round of 24 units
    inspection_id: str  # the unit of its report row: the one with the most findings
    big: dict  # the 200-person unit's inspection, as access.inspection reads it


async def _sample(ctx: BenchContext) -> Sample:
    async def load() -> Sample:
        tenant, office = await ctx.tenant(), await ctx.actor("office")
        t0 = time.perf_counter()
        round_id = await _demo_round(tenant)
        if round_id is None:
            round_id = await _build_round(tenant, office)
            ctx.note(
                f"inspections: the demo has no round of {ROUND_UNITS} units; the bench built one "
                f"({time.perf_counter() - t0:.1f} s, untimed)"
            )
        big = await _big_unit(tenant, office)
        inspection_id = await _busiest(tenant, round_id)
        return Sample(tenant, office, round_id, inspection_id, big)

    return await ctx.memo("inspections", load)


async def _demo_round(tenant: Any) -> str | None:
    """The demo's largest round, when it has at least ROUND_UNITS units."""
    from piccolo.query.functions.aggregate import Count

    from server.inspections.tables import Inspection

    async with db.transaction(tenant.id, write=False):
        rows = (
            await Inspection.select(Inspection.round.uuid.as_alias("round"), Count(Inspection.id).as_alias("n"))
            .where(Inspection.tenant == tenant.id)
            .group_by(Inspection.round.uuid)
        )
    rows = [r for r in rows if r["n"] >= ROUND_UNITS]
    return str(max(rows, key=lambda r: r["n"])["round"]) if rows else None


async def _busiest(tenant: Any, round_id: str) -> str:
    from piccolo.query.functions.aggregate import Count

    from server.inspections.tables import Finding

    async with db.transaction(tenant.id, write=False):
        rows = (
            await Finding.select(Finding.inspection.uuid.as_alias("inspection"), Count(Finding.id).as_alias("n"))
            .where(Finding.tenant == tenant.id, Finding.inspection.round.uuid == round_id)
            .group_by(Finding.inspection.uuid)
        )
    return str(max(rows, key=lambda r: r["n"])["inspection"])


async def _inspectors(tenant: Any) -> list[str]:
    from server.accounts import bulk as account_bulk
    from server.accounts import service as accounts

    async with db.transaction(tenant.id):
        known = [await accounts.user_by_username(tenant, name) for name in INSPECTORS]
        if all(known):
            return [str(u["uuid"]) for u in known]
        made = await account_bulk.add_users(
            tenant, SYSTEM, "Bench-Inspector-2026", [(n, "inspector", {}) for n in INSPECTORS]
        )
    return [str(u) for u in made]


async def _build_round(tenant: Any, office: Any) -> str:
    """A round of 24 units with two teams, every visit recorded (see the module's doc)."""
    from server.inspections import rounds
    from server.units import service as units

    inspectors = await _inspectors(tenant)
    today = units.today(tenant)
    async with db.transaction(tenant.id):
        chosen = [u for u in await units.units_in_scope(tenant, office) if u["kind"] != "district"][:ROUND_UNITS]
        made = await rounds.create_round(
            tenant,
            office,
            {
                "name": "基准第七轮巡察",
                "starts_on": (today - timedelta(days=60)).isoformat(),
                "ends_on": (today - timedelta(days=5)).isoformat(),
                "unit_ids": [u["id"] for u in chosen],
            },
        )
        teams = [
            await rounds.add_team(
                tenant,
                office,
                made["id"],
                {"name": name, "leader_user_id": inspectors[0], "member_user_ids": inspectors[1:]},
            )
            for name in ("基准一组", "基准二组")
        ]
        assignments = [
            {
                "inspection_id": i["id"],
                "team_id": teams[n % 2]["id"],
                "visit_on": (today - timedelta(days=58 - 2 * n)).isoformat(),
            }
            for n, i in enumerate(made["inspections"])
        ]
        detail = await rounds.assign(tenant, office, made["id"], assignments)
    await _record_visits(tenant, [i["id"] for i in detail["inspections"]], detail["checklist"], today)
    return made["id"]


async def _record_visits(tenant: Any, inspection_ids: list[str], document: dict, today: Any) -> None:
    """Each unit's checklist, interviews, sample and findings written straight to the
    tables, in a few statements per table (the bench measures reading them)."""
    from server.inspections import fieldwork
    from server.inspections.tables import Inspection
    from server.units import service as units

    rng = random.Random(7)
    rows: dict[str, list] = {}
    async with db.transaction(tenant.id):
        inspections = await Inspection.select().where(Inspection.uuid.is_in(inspection_ids))
        for n, row in enumerate(inspections):
            listed = (await fieldwork.interviews(tenant, row))["people"]
            pks = await units.person_pks(tenant, [p["person_id"] for p in listed])
            _visit_rows(rows, tenant, row, document, [pks[p["person_id"]] for p in listed], rng, n, today)
        for finding in rows["findings"]:  # saved one by one: their history names them
            await finding.save()
        await _dependent_rows(tenant, rows)
        await Inspection.update(
            {
                Inspection.status: "finalised",
                Inspection.finalised_at: datetime.now(UTC),
                Inspection.finalised_by: "office",
            }
        ).where(Inspection.uuid.is_in(inspection_ids[: ROUND_UNITS - 4]))


def _visit_rows(rows: dict, tenant: Any, row: dict, document: dict, people: list[int], rng: Any, n: int, today: Any):
    from server.inspections.tables import Device, Finding, Interview, ItemResult

    pk, unit = row["id"], row["unit"]
    results = {i["code"]: rng.choices(["pass", "partial", "fail"], [8, 2, 1])[0] for i in document["items"]}
    rows.setdefault("items", []).extend(
        ItemResult(tenant=tenant.id, inspection=pk, item=code, result=r, note="台账不全" if r != "pass" else "")
        for code, r in results.items()
    )
    rows.setdefault("interviews", []).extend(
        Interview(
            tenant=tenant.id,
            inspection=pk,
            person=p,
            held_on=row["visit_on"],
            interviewer="检查员",
            summary="介绍了保密工作情况",
        )
        if k % 9
        else Interview(tenant=tenant.id, inspection=pk, person=p, waived_reason="外出学习")
        for k, p in enumerate(people)
    )
    rows.setdefault("devices", []).extend(
        (
            pk,
            Device(
                tenant=tenant.id, unit=unit, kind=("computer", "it_device", "mailbox")[k % 3], label=f"基准-{n}-{k}"
            ),
        )
        for k in range(12)
    )
    failed = [code for code, r in results.items() if r != "pass"][:4] or ["R1"]
    for k, code in enumerate(failed):
        deadline = k % 2 == 0
        rows.setdefault("findings", []).append(
            Finding(
                tenant=tenant.id,
                inspection=pk,
                unit=unit,
                item=code,
                area=code[0],
                severity=("minor", "major", "serious")[k % 3],
                description=f"检查发现{code}项存在问题，相关台账和记录不完整，需按规定整改",
                basis="《中华人民共和国保守国家秘密法》",
                mode="deadline" if deadline else "on_spot",
                deadline=today + timedelta(days=(k - 1) * 20) if deadline else None,
                responsible=people[0] if people else None,
                state=("open", "rectifying", "submitted", "verified")[(n + k) % 4],
                recurring=n in (3, 11) and k == 0,
                recorded_by_id=1,
                recorded_by="benchinsp1",
            )
        )


async def _dependent_rows(tenant: Any, rows: dict) -> None:
    """Rows that name the devices and findings saved above."""
    from server.inspections.tables import Device, DeviceCheck, FindingEvent, Inspection, Interview, ItemResult, Measure

    await ItemResult.insert(*rows["items"])
    await Interview.insert(*rows["interviews"])
    await Device.insert(*[d for _pk, d in rows["devices"]])
    devices = await Device.select(Device.id, Device.label).where(
        Device.tenant == tenant.id, Device.label.like("基准-%")
    )
    by_label = {d["label"]: d["id"] for d in devices}
    checks, measures = [], []
    drawn: dict[int, list[int]] = {}
    for pk, d in rows["devices"]:
        if len(drawn.setdefault(pk, [])) < 5:
            drawn[pk].append(by_label[d.label])
    for pk, device_pks in drawn.items():
        for k, device in enumerate(device_pks):
            result = "violation" if k == 0 else "clean"
            checks.append(DeviceCheck(tenant=tenant.id, inspection=pk, device=device, result=result))
            if k == 0:
                for kind in ("register_preserve", "order_delete"):
                    measures.append(
                        Measure(
                            tenant=tenant.id,
                            inspection=pk,
                            device=device,
                            kind=kind,
                            details=MEASURE_DETAILS[kind],
                            created_by="benchinsp2",
                        )
                    )
        await Inspection.update(
            {Inspection.sample_size: 5, Inspection.sample_seed: f"bench-{pk}", Inspection.sampled_at: datetime.now(UTC)}
        ).where(Inspection.id == pk)
    await DeviceCheck.insert(*checks)
    await Measure.insert(*measures)
    events = [
        FindingEvent(tenant=tenant.id, finding=f.id, kind=kind, note=note, actor="benchinsp3")
        for f in rows["findings"]
        for kind, note in (("recorded", ""), ("comment", "请补充整改材料"), ("rectifying", "单位已着手整改"))
    ]
    await FindingEvent.insert(*events)


async def _big_unit(tenant: Any, office: Any) -> dict:
    """A unit of 200 people in post (its leadership, 90 classified, 30 from the military,
    some both), with an inspection of its own and half of them interviewed."""
    from server.inspections import access, rounds
    from server.inspections.tables import Interview
    from server.units import bulk as unit_bulk
    from server.units import service as units

    today = units.today(tenant)
    async with db.transaction(tenant.id):
        unit = await units.create_unit(tenant, office, {"name": "基准二百人单位", "kind": "municipal"})
        pk = await units.unit_pk(tenant, office, unit["id"])
        start = today - timedelta(days=400)
        positions = ["principal", "secrecy_lead", *["business_lead"] * 4, *["member"] * 6, "secrecy_officer"]
        people = [
            unit_bulk.NewPerson(
                name=f"基准人员{n:03d}",
                posts=[unit_bulk.new_post(pk, positions[n] if n < len(positions) else "staff", start)],
                classified_level=("core", "important", "general", "none", "none")[n % 5] if n >= 20 else "none",
                military_transfer=n % 7 == 0,
            )
            for n in range(BIG_UNIT)
        ]
        await unit_bulk.add_people(tenant, SYSTEM, people)
        made = await rounds.create_round(
            tenant,
            office,
            {
                "name": "基准三必谈",
                "starts_on": (today - timedelta(days=5)).isoformat(),
                "ends_on": (today + timedelta(days=5)).isoformat(),
                "unit_ids": [unit["id"]],
            },
        )
        row = await access.inspection(tenant, office, made["inspections"][0]["id"], allow=(access.OFFICE,))
        await Interview.insert(
            *[
                Interview(tenant=tenant.id, inspection=row["id"], person=p.pk, held_on=today, summary="谈话摘要")
                for p in people[::2]
            ]
        )
    return row


@scenario(
    "inspections.interviews.200",
    "must-interview list of a 200-person unit: fieldwork.interviews(), in a transaction",
    iterations=60,
    warmup=5,
)
async def interview_list(ctx: BenchContext) -> Op:
    from server.inspections import fieldwork

    sample = await _sample(ctx)

    async def op() -> None:
        async with db.transaction(sample.tenant.id, write=False):
            found = await fieldwork.interviews(sample.tenant, sample.big)
        if found["total"] < 100:
            raise RuntimeError(f"the 200-person unit lists {found['total']} people to interview")
        if not ctx.once("inspections.interviews.note"):
            ctx.note(
                f"must-interviews: {found['total']} of the unit's {BIG_UNIT} people on the list, "
                f"{found['held']} held, {len(found['missing'])} missing"
            )

    return op


async def _report(
    ctx: BenchContext,
    key: str,
    read: Callable[[Sample], Awaitable[dict]],
    to_html: Callable[[dict], str],
    described: Callable[[dict], str],
) -> Op:
    """A report of the sample made as its download makes it (document_rows); `described`
    says what it holds, in a note once (or raises when it is not what the sample gives)."""
    sample = await _sample(ctx)
    await ctx.pdf_ready()

    async def op() -> Parts:
        made = await document_rows.make(ctx, sample.tenant, lambda: read(sample), to_html)
        if not made.pdf.startswith(b"%PDF"):
            raise RuntimeError(f"{key}: no PDF")
        what = described(made.data)
        if not ctx.once(f"{key}.note"):
            from pypdf import PdfReader

            pages = len(PdfReader(io.BytesIO(made.pdf)).pages)
            ctx.note(f"{what}: HTML {len(made.html):,} chars, PDF {pages} pages, {len(made.pdf):,} bytes")
        return made.parts

    return op


@scenario(
    "inspections.report.unit",
    "unit inspection report: data + HTML + PDF/A · office",
    iterations=12,
    warmup=2,
    parts=document_rows.parts("unit_report()", "unit_report_html()"),
)
async def unit_report(ctx: BenchContext) -> Op:
    from server.inspections import reports

    def described(report: dict) -> str:
        return f"unit report ({report['unit_name']}, {len(report['findings'])} findings)"

    def read(sample: Sample) -> Awaitable[dict]:
        return reports.unit_report(sample.tenant, sample.office, sample.inspection_id)

    return await _report(ctx, "inspections.report.unit", read, reports.unit_report_html, described)


@scenario(
    "inspections.report.round",
    f"round summary, {ROUND_UNITS} units: data + HTML + PDF/A · office",
    iterations=6,
    warmup=1,
    parts=document_rows.parts("round_summary()", "round_summary_html() (Jinja + 2 SVG charts)"),
)
async def round_report(ctx: BenchContext) -> Op:
    from server.inspections import reports

    def described(summary: dict) -> str:
        if summary["units_total"] < ROUND_UNITS:
            raise RuntimeError(f"the round summary covers {summary['units_total']} units")
        return f"round summary ({summary['units_total']} units, {summary['findings_total']} findings)"

    def read(sample: Sample) -> Awaitable[dict]:
        return reports.round_summary(sample.tenant, sample.office, sample.round_id)

    return await _report(ctx, "inspections.report.round", read, reports.round_summary_html, described)


@scenario(
    "inspections.export",
    f"findings of a {ROUND_UNITS}-unit round in Excel, with their history: the request · office",
    iterations=12,
    warmup=2,
)
async def findings_export(ctx: BenchContext) -> Op:
    sample = await _sample(ctx)
    client = await ctx.browser("office")
    url = f"/t/{SLUG}/inspections/rounds/{sample.round_id}/findings.xlsx"

    async def op() -> None:
        response = await ctx.get_ok(client, url)
        if not response.content.startswith(b"PK"):
            raise RuntimeError("the findings export is no workbook")
        if not ctx.once("inspections.export.note"):
            ctx.note(f"findings export: {len(response.content):,} bytes")

    return op
